//! The async adapter: a WebSocket over any tokio `AsyncRead + AsyncWrite + Unpin` stream
//! (feature `tokio`).
//!
//! A thin loop around the sans-IO [`Connection`], offered three ways: plain `async fn`s
//! ([`recv`](WebSocket::recv), [`send`](WebSocket::send), [`close`](WebSocket::close)), the
//! `futures` [`Stream`] and [`Sink`] traits (like tokio-tungstenite), and [`into_split`](WebSocket::into_split)
//! into a reader and a writer for different tasks.
//!
//! # `send` means sent; `feed` batches
//!
//! When [`send`](WebSocket::send) returns, the frame has been handed to the stream (written and
//! flushed), as with every peer library and the `futures` [`Sink`] contract; `Sink::poll_flush`
//! writes everything queued. Batching is explicit and as short: [`feed`](WebSocket::feed)
//! queues a message, and what is queued is written in one `write` when the reader must wait for
//! the socket (a [`recv`](WebSocket::recv) or `next()` that finds no whole frame buffered), once
//! [`CORK_LIMIT`] bytes are queued, or on [`flush`](WebSocket::flush) and
//! [`close`](WebSocket::close). So the batched echo loop,
//! `while let Some(m) = ws.next().await { ws.feed(m?).await? }`, costs one `write` per batch of
//! messages that arrived together, and a handler that sends a reply and then awaits slow work has
//! its reply on the wire before that work starts. `tests/corking.rs` counts the `write` calls.
//!
//! # Cancel safety
//!
//! [`recv`](WebSocket::recv) (and `StreamExt::next`) is cancel-safe: bytes read from the stream
//! are stored in the connection before the future yields, so cancelling it in `tokio::select!`
//! loses nothing. [`send`](WebSocket::send) and [`feed`](WebSocket::feed) queue the message
//! before their first await: if cancelled, the message is still sent by the next call that
//! writes. [`flush`](WebSocket::flush)
//! and [`close`](WebSocket::close) are cancel-safe in the same way.
#![forbid(unsafe_code)]

mod driver;
mod handshake;
mod read_buffer;
mod split;

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::close::CloseCode;
use crate::config::Config;
use crate::connection::Connection;
use crate::handshake::{ClientRequest, UpgradeResponse};
use crate::io_error::Error;
use crate::message::Message;
use crate::prepared::PreparedMessage;
use driver::Inner;
#[cfg(feature = "rooms")]
pub(crate) use split::TrySend;
pub use split::{WebSocketReader, WebSocketWriter};

pub use crate::config::CORK_LIMIT;

/// A WebSocket connection over an async stream.
///
/// # Example
///
/// ```no_run
/// use futures_util::{SinkExt, StreamExt};
/// use rfc6455::tokio::WebSocket;
///
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// let (stream, _) = listener.accept().await?;
/// let mut ws = WebSocket::accept(stream).await?;
/// while let Some(msg) = ws.next().await {
///     let msg = msg?;
///     if msg.is_text() || msg.is_binary() {
///         ws.send(msg).await?;
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WebSocket<S> {
    inner: Inner<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Wraps a stream whose opening handshake is already done.
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        Self {
            inner: Inner {
                stream,
                conn,
                shut_down: false,
                sleep: None,
                sleep_waker: None,
                failure: None,
            },
        }
    }

    /// The next message, control frame or Close from the peer; [`Error::Closed`] once the
    /// connection has closed. Cancel-safe.
    ///
    /// An error that ends the connection (the peer broke the protocol, a timer gave up on it) is
    /// returned once the connection is over: what was queued before it and the Close that tells
    /// the peer why written, our side shut down and the peer's end awaited, at most the linger
    /// ([`Config::close_linger`]). The WebSocket can be dropped on the error: nothing queued is
    /// lost, and no reset destroys the Close before the peer reads it.
    pub async fn recv(&mut self) -> Result<Message, Error> {
        poll_fn(|cx| self.inner.poll_next_message(cx))
            .await
            .unwrap_or(Err(Error::Closed))
    }

    /// Sends a message: when this returns, it has been written to the stream and the stream
    /// flushed, with anything queued before it.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.inner.conn.send(message)?;
        self.flush().await
    }

    /// Queues a message to go out with the next batch: written when the reader must wait for
    /// the socket, once [`CORK_LIMIT`] bytes are queued, or on [`flush`](Self::flush) (see the
    /// module docs). The batched echo loop:
    ///
    /// ```no_run
    /// # async fn run(mut ws: rfc6455::tokio::WebSocket<tokio::net::TcpStream>) -> Result<(), rfc6455::Error> {
    /// use futures_util::StreamExt;
    ///
    /// // One write per batch of messages that arrived together.
    /// while let Some(message) = ws.next().await {
    ///     let message = message?;
    ///     if message.is_text() || message.is_binary() {
    ///         ws.feed(message).await?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn feed(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| self.inner.poll_ready(cx)).await?;
        Ok(self.inner.conn.send(message)?)
    }

    /// Queues a message encoded once for many connections, like [`feed`](Self::feed).
    pub async fn feed_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| self.inner.poll_ready(cx)).await?;
        Ok(self.inner.conn.send_prepared(message)?)
    }

    /// Sends a text message, like [`send`](Self::send).
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.inner.conn.send_text(text)?;
        self.flush().await
    }

    /// Sends a binary message, like [`send`](Self::send).
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.inner.conn.send_binary(data)?;
        self.flush().await
    }

    /// Sends a message encoded once for many connections (see [`PreparedMessage`]), like
    /// [`send`](Self::send).
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        self.inner.conn.send_prepared(message)?;
        self.flush().await
    }

    /// Sends one fragment of a text message; `is_final` ends it.
    pub async fn send_text_fragment(&mut self, text: &str, is_final: bool) -> Result<(), Error> {
        self.inner.conn.send_text_fragment(text, is_final)?;
        self.flush().await
    }

    /// Sends one fragment of a binary message; `is_final` ends it.
    pub async fn send_binary_fragment(&mut self, data: &[u8], is_final: bool) -> Result<(), Error> {
        self.inner.conn.send_binary_fragment(data, is_final)?;
        self.flush().await
    }

    /// Starts the closing handshake and writes the Close frame. Keep receiving until
    /// [`Error::Closed`] (or the stream's end) to finish it.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.inner.conn.close(code, reason)?;
        self.flush().await
    }

    /// Writes everything queued and flushes the stream.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.inner.poll_write_out(cx)).await
    }

    /// The sans-IO connection inside.
    pub fn connection(&self) -> &Connection {
        &self.inner.conn
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.inner.stream
    }

    /// The stream and the connection.
    pub fn into_parts(self) -> (S, Connection) {
        (self.inner.stream, self.inner.conn)
    }
}

/// Connects to a `ws://` URL over TCP and performs the client handshake, with
/// [`Config::default`] (a keepalive Ping after 20 s of silence). For a timeout, headers,
/// another configuration or `wss://`, use a [`Connector`](crate::connector::Connector).
///
/// # Example
///
/// ```no_run
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let (mut ws, _response) = rfc6455::tokio::connect("ws://127.0.0.1:9001/").await?;
/// ws.send_text("hello").await?;
/// println!("{:?}", ws.recv().await?);
/// # Ok(()) }
/// ```
pub async fn connect(url: &str) -> Result<(WebSocket<TcpStream>, UpgradeResponse), Error> {
    let request = ClientRequest::new(url)?;
    if request.is_secure() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "wss:// needs TLS: enable the `rustls` feature and use rfc6455::tls::connect, or give a TLS stream to WebSocket::client",
        )
        .into());
    }
    let stream = TcpStream::connect((request.host(), request.port())).await?;
    // Writes are already batched by the connection; Nagle's algorithm would only add latency.
    stream.set_nodelay(true)?;
    WebSocket::client(stream, &request, Config::default()).await
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().inner.poll_next_message(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        Ok(self.get_mut().inner.conn.send(message)?)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_write_out(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_close(cx)
    }
}
