//! WebSocket clients over HTTP/2 (feature `http2`): RFC 8441's extended CONNECT on the `h2`
//! crate, several WebSockets multiplexed on one connection.
//!
//! [`Http2Client::handshake`] starts HTTP/2 on a stream: TLS that negotiated `h2` by ALPN, or
//! plain TCP with prior knowledge (`h2c`), and waits for the server's SETTINGS: a client may send
//! an extended CONNECT only once they have enabled it (RFC 8441 §3), which
//! [`supports_websockets`](Http2Client::supports_websockets) then says.
//! [`websocket`](Http2Client::websocket) opens one WebSocket per call, each on a stream of its
//! own, as the same [`tokio::WebSocket`](crate::tokio::WebSocket) type the HTTP/1.1 client
//! gives, over an [`Http2Stream`]. With the `rustls` feature, [`connect`] does it all for a
//! `wss://` URL and falls back to HTTP/1.1 when the server does not speak HTTP/2 or does not
//! enable extended CONNECT.
//!
//! HTTP/2's flow control is the backpressure: an [`Http2Stream`] sends only what the peer's
//! window allows, and gives the window back only as the WebSocket reads, so a slow reader holds
//! its peer to one window (65,535 bytes unless the SETTINGS say otherwise) of unread data.
//! The streams of a connection also share one connection window: a WebSocket that stops
//! reading while it waits to write holds back the others' data too, so WebSockets that share a
//! connection and send as much as they receive should read and write in tasks of their own
//! (`into_split`).
//!
//! # Example: two WebSockets on one HTTP/2 connection (h2c)
//!
//! ```no_run
//! use rfc6455::Config;
//! use rfc6455::handshake::ClientRequest;
//! use rfc6455::http2::Http2Client;
//!
//! # async fn run() -> Result<(), rfc6455::Error> {
//! let tcp = tokio::net::TcpStream::connect("127.0.0.1:8080").await?;
//! let client = Http2Client::handshake(tcp).await?;
//! assert!(client.supports_websockets(), "no extended CONNECT: use HTTP/1.1");
//! let request = ClientRequest::new("ws://127.0.0.1:8080/ws")?;
//! let (mut chat, _response) = client.websocket(&request, Config::default()).await?;
//! let (mut feed, _) = client.websocket(&request, Config::default()).await?;
//! chat.send_text("hello").await?;
//! let reply = feed.recv().await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use h2::client::SendRequest;
use h2::{Reason, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::config::Config;
use crate::handshake::{
    ClientHandshake, ClientRequest, UpgradeResponse, WEBSOCKET_PROTOCOL, offer_extensions,
};
use crate::io_error::Error;
use crate::tokio::WebSocket;

/// One HTTP/2 connection on which WebSockets are opened; cheap to clone, every clone shares the
/// connection. The connection runs in a task of its own and ends once every clone and every
/// WebSocket opened on it are gone.
#[derive(Debug, Clone)]
pub struct Http2Client {
    send_request: SendRequest<Bytes>,
}

impl Http2Client {
    /// Starts HTTP/2 on `io` (after TLS that negotiated `h2`, or over plain TCP with prior
    /// knowledge) and waits until the server's SETTINGS have arrived.
    ///
    /// Spawns the connection's task on the current tokio runtime. Set `TCP_NODELAY` on a TCP
    /// stream first (`set_nodelay(true)`): flow control sends small WINDOW_UPDATE frames that
    /// Nagle's algorithm would hold back, and every stream of the connection would wait on them.
    pub async fn handshake<IO>(io: IO) -> Result<Self, Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        Self::handshake_with(io, &h2::client::Builder::new()).await
    }

    /// [`handshake`](Self::handshake) with h2's settings for the connection: the flow-control
    /// windows above all. h2's defaults are RFC 9113's 65,535 bytes, for each stream and for the
    /// whole connection, which a slow reader holds its peer to, and which bounds the throughput
    /// of large messages to a window per round trip.
    ///
    /// ```no_run
    /// # async fn run(tcp: tokio::net::TcpStream) -> Result<(), rfc6455::Error> {
    /// let mut settings = h2::client::Builder::new();
    /// settings
    ///     .initial_window_size(1 << 20)
    ///     .initial_connection_window_size(4 << 20);
    /// let client = rfc6455::http2::Http2Client::handshake_with(tcp, &settings).await?;
    /// # Ok(()) }
    /// ```
    pub async fn handshake_with<IO>(io: IO, settings: &h2::client::Builder) -> Result<Self, Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (send_request, mut connection) = settings.handshake(io).await.map_err(h2_to_io)?;
        let mut ping_pong = connection
            .ping_pong()
            .ok_or_else(|| io::Error::other("h2 gave no ping handle"))?;
        tokio::spawn(async move {
            // The connection's end is each stream's end too; the streams report it.
            let _ = connection.await;
        });
        // RFC 9113 §3.4: the server's preface is its SETTINGS frame, the first frame it sends, so
        // by the time the answer to a PING arrives the settings have been applied, and with them
        // SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).
        ping_pong.ping(h2::Ping::opaque()).await.map_err(h2_to_io)?;
        Ok(Self { send_request })
    }

    /// Whether the server enabled extended CONNECT (`SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`, RFC
    /// 8441 §3): if not, it cannot carry WebSockets over this connection; use HTTP/1.1.
    pub fn supports_websockets(&self) -> bool {
        self.send_request.is_extended_connect_protocol_enabled()
    }

    /// Opens a WebSocket for `request` on a new stream of this connection: sends the extended
    /// CONNECT (RFC 8441 §5), checks the `200` response, and returns the WebSocket with the
    /// response. Extensions `config` enables (permessage-deflate) are offered and negotiated as
    /// over HTTP/1.1.
    ///
    /// A server that refuses gives [`Error::ClientHandshake`] with
    /// [`UnexpectedStatus`](crate::handshake::ClientHandshakeError::UnexpectedStatus), with the
    /// status, the headers and the body's first [`MAX_REFUSAL_BODY`](crate::handshake::MAX_REFUSAL_BODY)
    /// bytes as over HTTP/1.1; a server
    /// that did not enable extended CONNECT gives [`Error::Io`] of kind `Unsupported`, before
    /// anything is sent.
    pub async fn websocket(
        &self,
        request: &ClientRequest,
        config: impl Into<Arc<Config>>,
    ) -> Result<(WebSocket<Http2Stream>, UpgradeResponse), Error> {
        if !self.supports_websockets() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the HTTP/2 server did not enable extended CONNECT (RFC 8441)",
            )
            .into());
        }
        let config = config.into();
        let request = offer_extensions(request, &config);
        let mut handshake = ClientHandshake::new(&request)?;
        let mut connect = handshake
            .extended_connect_request()
            .map_err(io::Error::other)?;
        connect
            .extensions_mut()
            .insert(h2::ext::Protocol::from_static(WEBSOCKET_PROTOCOL));
        let mut send_request = self.send_request.clone().ready().await.map_err(h2_to_io)?;
        let (response, send) = send_request
            .send_request(connect, false)
            .map_err(h2_to_io)?;
        let response = response.await.map_err(h2_to_io)?;
        let (parts, mut recv) = response.into_parts();
        let validated =
            match handshake.validate_extended_connect(&http::Response::from_parts(parts, ())) {
                Ok(validated) => validated,
                Err(mut refusal) => {
                    // As over HTTP/1.1, a refusal keeps the start of its body ("bad token").
                    while refusal.refusal_body_missing() > 0 {
                        match std::future::poll_fn(|cx| recv.poll_data(cx)).await {
                            Some(Ok(data)) => {
                                let _ = recv.flow_control().release_capacity(data.len());
                                refusal.extend_refusal_body(&data);
                            }
                            _ => break,
                        }
                    }
                    return Err(refusal.into());
                }
            };
        let conn = handshake.connect(&validated, config)?;
        let stream = Http2Stream {
            send,
            recv,
            received: Bytes::new(),
            end_sent: false,
        };
        Ok((WebSocket::from_connection(stream, conn), validated))
    }
}

/// A WebSocket's HTTP/2 stream as a tokio byte stream: writes become DATA frames within the
/// peer's flow-control window, reads return DATA frames' bytes and give the window back as they
/// are read, shutting down the write side ends the stream (`END_STREAM`).
#[derive(Debug)]
pub struct Http2Stream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// The rest of the last DATA frame, not yet read; its window is given back as it is read
    /// (and by h2 itself, for the whole stream, once the stream is dropped).
    received: Bytes,
    end_sent: bool,
}

impl AsyncRead for Http2Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        while self.received.is_empty() {
            match ready!(self.recv.poll_data(cx)) {
                Some(Ok(data)) => self.received = data,
                // The peer ended its side of the stream: end of input.
                None => return Poll::Ready(Ok(())),
                Some(Err(error)) => {
                    return Poll::Ready(match error.reason() {
                        // A reset without error after the peer is done is a clean end.
                        Some(Reason::NO_ERROR) | Some(Reason::CANCEL) => Ok(()),
                        _ => Err(h2_to_io(error)),
                    });
                }
            }
        }
        let n = self.received.len().min(buf.remaining());
        buf.put_slice(&self.received[..n]);
        self.received.advance(n);
        // Only now, as the reader consumes it, may the peer send that much more: this is what
        // holds a fast sender to a slow reader.
        self.recv
            .flow_control()
            .release_capacity(n)
            .map_err(h2_to_io)?;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Http2Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.send.reserve_capacity(buf.len());
        let capacity = loop {
            match self.send.capacity() {
                0 => match ready!(self.send.poll_capacity(cx)) {
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => return Poll::Ready(Err(send_error(error))),
                    None => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
                },
                capacity => break capacity,
            }
        };
        let n = capacity.min(buf.len());
        self.send
            .send_data(Bytes::copy_from_slice(&buf[..n]), false)
            .map_err(send_error)?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The connection's task writes queued frames as soon as it can; there is nothing to push.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.end_sent {
            self.end_sent = true;
            self.send.send_data(Bytes::new(), true).map_err(h2_to_io)?;
        }
        Poll::Ready(Ok(()))
    }
}

/// A failed send as an I/O error: the connection's own I/O error, or else `BrokenPipe`, as for a
/// socket whose peer is gone: the stream was reset or has ended, so nothing more can go out.
fn send_error(error: h2::Error) -> io::Error {
    if error.is_io() {
        h2_to_io(error)
    } else {
        io::Error::new(io::ErrorKind::BrokenPipe, error)
    }
}

/// An h2 error as the I/O error the adapters report.
fn h2_to_io(error: h2::Error) -> io::Error {
    if error.is_io() {
        error
            .into_io()
            .unwrap_or_else(|| io::Error::other("h2 I/O error"))
    } else {
        io::Error::other(error)
    }
}

/// What [`connect`] got: a WebSocket over HTTP/2, with the connection for more of them, or one
/// over HTTP/1.1 where the server offered no WebSockets over HTTP/2.
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "returned once per connection and taken apart at once"
)]
pub enum Connected {
    /// The server negotiated `h2` by ALPN and enabled extended CONNECT.
    Http2 {
        /// The WebSocket, on a stream of `client`'s connection.
        ws: WebSocket<Http2Stream>,
        /// The server's `200` response.
        response: UpgradeResponse,
        /// The connection, to open more WebSockets on it.
        client: Http2Client,
    },
    /// The server chose HTTP/1.1 by ALPN, or spoke HTTP/2 without extended CONNECT: the
    /// WebSocket is an HTTP/1.1 upgrade on a connection of its own.
    Http1 {
        /// The WebSocket.
        ws: WebSocket<crate::connector::MaybeTlsStream>,
        /// The server's `101` response.
        response: UpgradeResponse,
    },
}

/// Connects to a `wss://` URL preferring HTTP/2: offers `h2` and `http/1.1` by ALPN, opens the
/// WebSocket with an extended CONNECT if the server chose `h2` and enabled it, and otherwise
/// upgrades over HTTP/1.1: on the same connection if the server chose `http/1.1`, on a new one
/// offering only `http/1.1` if it spoke HTTP/2 without extended CONNECT.
///
/// `tls` is taken as given but for its ALPN protocols, which this sets
/// ([`crate::tls::client_config`] trusts the webpki roots).
///
/// ```no_run
/// use rfc6455::Config;
/// use rfc6455::handshake::ClientRequest;
/// use rfc6455::http2::{Connected, connect};
///
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let request = ClientRequest::new("wss://example.com/chat")?;
/// match connect(&request, rfc6455::tls::client_config(), Config::default()).await? {
///     Connected::Http2 { mut ws, client, .. } => {
///         ws.send_text("over HTTP/2").await?;
///         let (mut second, _) = client.websocket(&request, Config::default()).await?;
///         second.send_text("same connection").await?;
///     }
///     Connected::Http1 { mut ws, .. } => ws.send_text("over HTTP/1.1").await?,
/// }
/// # Ok(()) }
/// ```
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub async fn connect(
    request: &ClientRequest,
    tls: Arc<rustls::ClientConfig>,
    config: impl Into<Arc<Config>>,
) -> Result<Connected, Error> {
    use crate::connector::{Connector, MaybeTlsStream};

    let config = config.into();
    if !request.is_secure() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "http2::connect negotiates HTTP/2 by ALPN and needs a wss:// URL; for h2c use \
             Http2Client::handshake over a TcpStream",
        )
        .into());
    }
    let with_alpn = |protocols: &[&[u8]]| {
        let mut tls = (*tls).clone();
        tls.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        Arc::new(tls)
    };
    let tcp = tokio::net::TcpStream::connect((request.host(), request.port())).await?;
    tcp.set_nodelay(true)?;
    let name = rustls::pki_types::ServerName::try_from(request.host().to_owned())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let stream = tokio_rustls::TlsConnector::from(with_alpn(&[b"h2", b"http/1.1"]))
        .connect(name, tcp)
        .await?;
    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
        let client = Http2Client::handshake(stream).await?;
        if client.supports_websockets() {
            let (ws, response) = client.websocket(request, config).await?;
            return Ok(Connected::Http2 {
                ws,
                response,
                client,
            });
        }
        // RFC 8441 §3: without the setting the client "MUST NOT" send an extended CONNECT.
        let (ws, response) = Connector::new()
            .tls_config(with_alpn(&[b"http/1.1"]))
            .config((*config).clone())
            .connect_request(request)
            .await?;
        return Ok(Connected::Http1 { ws, response });
    }
    let stream = MaybeTlsStream::Rustls(Box::new(stream));
    let (ws, response) = WebSocket::client(stream, request, config).await?;
    Ok(Connected::Http1 { ws, response })
}
