//! Client connections with options (feature `tokio`): the client side of
//! [RFC 6455 §4.1](https://www.rfc-editor.org/rfc/rfc6455#section-4.1) from a URL to an open
//! WebSocket, over TCP or (feature `rustls`) TLS.
//!
//! [`tokio::connect`](crate::tokio::connect) covers the plain case. A [`Connector`] adds what
//! production clients need: a timeout on the whole opening (TCP connect, TLS handshake, HTTP
//! upgrade), the connection's [`Config`], `wss://` with a caller-supplied TLS configuration, and,
//! through [`ClientRequest`], extra request headers (auth tokens, cookies), `Origin` and
//! subprotocols. The server's [`UpgradeResponse`] comes back with its headers (`Set-Cookie`, the
//! selected subprotocol).
//!
//! ```no_run
//! use std::time::Duration;
//! use rfc6455::connector::Connector;
//! use rfc6455::handshake::ClientRequest;
//!
//! # async fn run() -> Result<(), rfc6455::Error> {
//! let request = ClientRequest::new("wss://example.com/feed")?
//!     .header("Authorization", "Bearer 0123")
//!     .header("Cookie", "session=abc")
//!     .protocol("v2.feed");
//! let (mut ws, response) = Connector::new()
//!     .connect_timeout(Duration::from_secs(10))
//!     .connect_request(&request)
//!     .await?;
//! println!("subprotocol {:?}, cookie {:?}", response.protocol(), response.headers().get("set-cookie"));
//! ws.send_text("hello").await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

use std::io;
use std::pin::Pin;
#[cfg(feature = "rustls")]
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::config::Config;
use crate::handshake::{ClientRequest, UpgradeResponse};
use crate::io_error::Error;
use crate::tokio::WebSocket;

/// Options for opening client connections; reusable for any number of them.
///
/// The default is [`Config::default`] (keepalive on), no timeout, and for `wss://` the
/// webpki root certificates.
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
/// use rfc6455::Config;
/// use rfc6455::connector::Connector;
///
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let connector = Connector::new()
///     .config(Config::default().max_message_size(1 << 20))
///     .connect_timeout(Duration::from_secs(5));
/// let (mut ws, _response) = connector.connect("ws://127.0.0.1:9001/").await?;
/// ws.send_text("hello").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Connector {
    config: Config,
    connect_timeout: Option<Duration>,
    #[cfg(feature = "rustls")]
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for Connector {
    fn default() -> Self {
        Self::new()
    }
}

impl Connector {
    /// A connector with [`Config::default`], no timeout and the default TLS configuration.
    pub fn new() -> Self {
        Self {
            config: Config::default(),
            connect_timeout: None,
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }

    /// Sets the configuration of the connections.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Bounds the whole opening (name resolution, TCP connect, TLS handshake, HTTP upgrade): past
    /// it, [`connect`](Self::connect) fails with an [`io::ErrorKind::TimedOut`] error.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Uses this TLS configuration for `wss://` URLs, e.g. one trusting a private CA. It must not
    /// offer `h2` by ALPN: the WebSocket handshake here is HTTP/1.1.
    #[cfg(feature = "rustls")]
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Connects to a `ws://` or `wss://` URL and performs the opening handshake.
    pub async fn connect(
        &self,
        url: &str,
    ) -> Result<(WebSocket<MaybeTlsStream>, UpgradeResponse), Error> {
        self.connect_request(&ClientRequest::new(url)?).await
    }

    /// Connects for `request` (its URL, headers, subprotocols) and performs the opening
    /// handshake, returning the WebSocket and the server's response.
    ///
    /// A server that refuses (a status other than 101) gives
    /// [`Error::ClientHandshake`] with
    /// [`UnexpectedStatus`](crate::handshake::ClientHandshakeError::UnexpectedStatus), which
    /// carries the status and headers (a `Location` to follow, a `WWW-Authenticate`).
    pub async fn connect_request(
        &self,
        request: &ClientRequest,
    ) -> Result<(WebSocket<MaybeTlsStream>, UpgradeResponse), Error> {
        let open = self.open(request);
        match self.connect_timeout {
            Some(timeout) => tokio::time::timeout(timeout, open).await.map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    "WebSocket opening handshake timed out",
                )
            })?,
            None => open.await,
        }
    }

    async fn open(
        &self,
        request: &ClientRequest,
    ) -> Result<(WebSocket<MaybeTlsStream>, UpgradeResponse), Error> {
        let tcp = TcpStream::connect((request.host(), request.port())).await?;
        // Writes are already batched by the connection; Nagle's algorithm would only add latency.
        tcp.set_nodelay(true)?;
        let stream = if request.is_secure() {
            self.tls_handshake(request, tcp).await?
        } else {
            MaybeTlsStream::Plain(tcp)
        };
        WebSocket::client(stream, request, self.config.clone()).await
    }

    #[cfg(feature = "rustls")]
    async fn tls_handshake(
        &self,
        request: &ClientRequest,
        tcp: TcpStream,
    ) -> Result<MaybeTlsStream, Error> {
        let config = self
            .tls
            .clone()
            .unwrap_or_else(crate::tls_config::client_config);
        // A DNS name is sent as SNI and checked against the certificate; an IP address is
        // checked against its IP SANs (and, per RFC 6066 §3, sent without SNI).
        let name = rustls::pki_types::ServerName::try_from(request.host().to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await?;
        Ok(MaybeTlsStream::Rustls(Box::new(tls)))
    }

    #[cfg(not(feature = "rustls"))]
    async fn tls_handshake(
        &self,
        _request: &ClientRequest,
        _tcp: TcpStream,
    ) -> Result<MaybeTlsStream, Error> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "wss:// needs TLS: enable the `rustls` feature (or give a TLS stream to WebSocket::client)",
        )
        .into())
    }
}

/// The stream under a [`Connector`]'s WebSocket: plain TCP for `ws://`, TLS for `wss://`.
///
/// # Example
///
/// ```no_run
/// use rfc6455::connector::{Connector, MaybeTlsStream};
///
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let (ws, _) = Connector::new().connect("ws://127.0.0.1:9001/").await?;
/// assert!(matches!(ws.get_ref(), MaybeTlsStream::Plain(_)));
/// println!("connected from {}", ws.get_ref().tcp().local_addr()?);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// A `ws://` connection.
    Plain(TcpStream),
    /// A `wss://` connection (boxed: the TLS state is large).
    #[cfg(feature = "rustls")]
    Rustls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl MaybeTlsStream {
    /// The TCP stream underneath, for its addresses or socket options.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(tcp) => tcp,
            #[cfg(feature = "rustls")]
            Self::Rustls(tls) => tls.get_ref().0,
        }
    }
}

impl AsyncRead for MaybeTlsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for MaybeTlsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
