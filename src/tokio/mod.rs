//! The async adapter: a WebSocket over any tokio `AsyncRead + AsyncWrite + Unpin` stream
//! (feature `tokio`).
//!
//! A thin loop around the sans-IO [`Connection`], offered three ways: plain `async fn`s
//! ([`recv`](WebSocket::recv), [`send`](WebSocket::send), [`close`](WebSocket::close)), the
//! `futures` [`Stream`] and [`Sink`] traits (like tokio-tungstenite), and [`split`](WebSocket::split)
//! into a reader and a writer for different tasks.
//!
//! # Write batching
//!
//! The rule is the blocking adapter's (see [`crate::blocking`]): a send made while a whole
//! received frame is still waiting to be handed out is queued, and everything queued is written in
//! one `write` as soon as the reader runs out of buffered frames, or once
//! [`CORK_LIMIT`] bytes are queued. This applies to `send` and to
//! `Sink::poll_flush`, so `while let Some(m) = ws.next().await { ws.send(m?).await? }` writes once
//! per batch of messages that arrived together. [`flush`](WebSocket::flush) and
//! [`close`](WebSocket::close) always write. A send with no input pending is written at once.
//!
//! So a corked reply waits only while the application works through messages that have already
//! arrived. An application that stops receiving while some are still buffered (say, to await
//! something else between two `recv`s) should call [`flush`](WebSocket::flush) first. The split
//! [`WebSocketWriter`] never corks. `tests/corking.rs` counts the `write` calls.
//!
//! # Cancel safety
//!
//! [`recv`](WebSocket::recv) (and `StreamExt::next`) is cancel-safe: bytes read from the stream
//! are stored in the connection before the future yields, so cancelling it in `tokio::select!`
//! loses nothing. [`send`](WebSocket::send) queues the message before its first await: if
//! cancelled, the message is still sent by the next call that writes. [`flush`](WebSocket::flush)
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
use crate::handshake::{ClientRequest, Response};
use crate::io_error::Error;
use crate::message::Message;
use crate::prepared::PreparedMessage;
use driver::Inner;
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
            },
        }
    }

    /// The next message, control frame or Close from the peer; [`Error::Closed`] once the
    /// connection has closed. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Message, Error> {
        poll_fn(|cx| self.inner.poll_next_message(cx))
            .await
            .unwrap_or(Err(Error::Closed))
    }

    /// Sends a message, writing it unless corked (see the module docs).
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.inner.conn.send(message)?;
        poll_fn(|cx| self.inner.poll_flush_unless_corked(cx)).await
    }

    /// Sends a text message.
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.inner.conn.send_text(text)?;
        poll_fn(|cx| self.inner.poll_flush_unless_corked(cx)).await
    }

    /// Sends a binary message.
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.inner.conn.send_binary(data)?;
        poll_fn(|cx| self.inner.poll_flush_unless_corked(cx)).await
    }

    /// Sends a message encoded once for many connections (see [`PreparedMessage`]), like
    /// [`send`](Self::send).
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        self.inner.conn.send_prepared(message)?;
        poll_fn(|cx| self.inner.poll_flush_unless_corked(cx)).await
    }

    /// Sends one fragment of a text message; `is_final` ends it.
    pub async fn send_text_fragment(&mut self, text: &str, is_final: bool) -> Result<(), Error> {
        self.inner.conn.send_text_fragment(text, is_final)?;
        poll_fn(|cx| self.inner.poll_flush_unless_corked(cx)).await
    }

    /// Sends one fragment of a binary message; `is_final` ends it.
    pub async fn send_binary_fragment(&mut self, data: &[u8], is_final: bool) -> Result<(), Error> {
        self.inner.conn.send_binary_fragment(data, is_final)?;
        poll_fn(|cx| self.inner.poll_flush_unless_corked(cx)).await
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
/// [`Config::for_adapters`] (a keepalive Ping after 20 s of silence). For a timeout, headers,
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
pub async fn connect(url: &str) -> Result<(WebSocket<TcpStream>, Response), Error> {
    let request = ClientRequest::new(url)?;
    if request.is_secure() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "wss:// needs a TLS stream; use WebSocket::client",
        )
        .into());
    }
    let stream = TcpStream::connect((request.host(), request.port())).await?;
    // Writes are already batched by the connection; Nagle's algorithm would only add latency.
    stream.set_nodelay(true)?;
    WebSocket::client(stream, &request, Config::for_adapters()).await
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
        self.get_mut().inner.poll_flush_unless_corked(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().inner.poll_close(cx)
    }
}
