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

use std::future::{Future, poll_fn};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::Instant;

use bytes::BytesMut;
use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::blocking::CORK_LIMIT;
use crate::close::CloseCode;
use crate::config::Config;
use crate::connection::{Connection, Transport};
use crate::handshake::offer_extensions;
use crate::handshake::{
    Accept, ClientHandshake, ClientRequest, Reject, Request, Response, ServerHandshake,
};
use crate::io_error::Error;
use crate::message::Message;
use crate::prepared::PreparedMessage;

/// Space offered to each read from the stream.
const READ_CHUNK: usize = 16 * 1024;

/// How many released read buffers each thread keeps for the next connection that wakes up.
const POOLED_READ_BUFFERS: usize = 8;

thread_local! {
    /// Read buffers that connections released when they went idle, for other connections on this
    /// thread to take when data arrives: a busy server reuses a handful of buffers instead of
    /// allocating and freeing one per wake-up, and idle connections still hold none. At most
    /// [`POOLED_READ_BUFFERS`] of at most 4 × [`READ_CHUNK`] each, so the pool is bounded.
    static READ_BUFFERS: std::cell::RefCell<Vec<BytesMut>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// A read buffer from this thread's pool, or an empty one (allocated by the first `reserve`).
fn take_read_buffer() -> BytesMut {
    READ_BUFFERS
        .try_with(|pool| pool.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Gives an empty read buffer back to this thread's pool, or frees it if the pool is full or
/// the buffer grew large (for one big frame).
///
/// Only a buffer whose memory this connection alone holds is kept: one still shared with a
/// message handed out (a large echo still being written, say) could not be reused for reading,
/// and in the pool it would keep that message's whole allocation alive.
fn release_read_buffer(mut buffer: BytesMut) {
    debug_assert!(buffer.is_empty());
    if !buffer.try_reclaim(READ_CHUNK) || buffer.capacity() > 4 * READ_CHUNK {
        return;
    }
    let _ = READ_BUFFERS.try_with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < POOLED_READ_BUFFERS {
            pool.push(buffer);
        }
    });
}

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

#[derive(Debug)]
struct Inner<S> {
    stream: S,
    conn: Connection,
    /// Our side of the transport has been shut down (a FIN sent) after the connection closed.
    /// The connection is over once, in addition, the core says the transport may be released.
    shut_down: bool,
    /// Wakes the reader at the connection's next timer deadline; allocated only while one is due.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
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

    /// Performs the server side of the opening handshake with [`Config::for_adapters`] (a
    /// keepalive Ping after 20 s of silence), accepting any valid request without a subprotocol.
    pub fn accept(stream: S) -> impl Future<Output = Result<Self, Error>> {
        Self::accept_with(stream, Config::for_adapters(), |_| Ok(Accept::default()))
    }

    /// Performs the server side of the opening handshake; `decide` sees the validated request and
    /// accepts it (choosing a subprotocol, adding headers) or rejects it with a status.
    ///
    /// An invalid request is answered with the matching error status (400, 405, 426, 431) and
    /// returned as [`Error::Handshake`]; a rejection as [`Error::Rejected`].
    pub fn accept_with<F>(
        stream: S,
        config: impl Into<Arc<Config>>,
        decide: F,
    ) -> impl Future<Output = Result<Self, Error>>
    where
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        // On the heap, and boxed at once (this is not an `async fn`): a task keeps the size of its
        // future's largest state for its whole life, and the handshake's state, arguments
        // included, is larger than the open connection's.
        Box::pin(Self::server_handshake(stream, config.into(), decide))
    }

    async fn server_handshake<F>(
        mut stream: S,
        config: Arc<Config>,
        decide: F,
    ) -> Result<Self, Error>
    where
        F: FnOnce(&Request) -> Result<Accept, Reject>,
    {
        let mut handshake = ServerHandshake::new();
        // On the heap, not in the future: the task keeps its future's size for its whole life.
        let mut buf = vec![0u8; 4096];
        let read_request = async {
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
                }
                match handshake.receive(&buf[..n]) {
                    Ok(Some(request)) => return Ok(request),
                    Ok(None) => {}
                    Err(error) => {
                        let _ = write_all_flush(&mut stream, &error.response_bytes()).await;
                        return Err(Error::from(error));
                    }
                }
            }
        };
        // A peer that trickles its request (slowloris) is dropped after the handshake timeout.
        let request = match config.handshake_timeout {
            Some(limit) => tokio::time::timeout(limit, read_request)
                .await
                .map_err(|_| {
                    io::Error::new(io::ErrorKind::TimedOut, "opening handshake timed out")
                })??,
            None => read_request.await?,
        };
        let accept = match decide(&request) {
            Ok(accept) => accept,
            Err(reject) => {
                write_all_flush(&mut stream, &reject.to_bytes()?).await?;
                return Err(Error::Rejected(reject.status()));
            }
        };
        let conn = handshake.accept(&request, accept, config)?;
        let mut ws = Self::from_connection(stream, conn);
        // The 101 response is the connection's first output.
        ws.flush().await?;
        Ok(ws)
    }

    /// Performs the client side of the opening handshake over a connected stream (plain TCP, or
    /// a TLS stream), returning the socket and the server's response.
    pub async fn client(
        mut stream: S,
        request: &ClientRequest,
        config: impl Into<Arc<Config>>,
    ) -> Result<(Self, Response), Error> {
        let config = config.into();
        let request = offer_extensions(request, &config);
        let mut handshake = ClientHandshake::new(&request)?;
        write_all_flush(&mut stream, handshake.request_bytes()).await?;
        // On the heap, not in the future: the task keeps its future's size for its whole life.
        let mut buf = vec![0u8; 4096];
        let response = loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            if let Some(response) = handshake.receive(&buf[..n])? {
                break response;
            }
        };
        let conn = handshake.connect(&response, config)?;
        Ok((Self::from_connection(stream, conn), response))
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

    /// Splits into a reader and a writer that can be used from different tasks. Pings are still
    /// answered while only the reader is polled.
    pub fn split(self) -> (WebSocketReader<S>, WebSocketWriter<S>) {
        let shared = Arc::new(Shared {
            inner: Mutex::new(self.inner),
            wakers: Arc::new(WakerPair::default()),
        });
        (
            WebSocketReader {
                shared: Arc::clone(&shared),
            },
            WebSocketWriter { shared },
        )
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

impl<S: AsyncRead + AsyncWrite + Unpin> Inner<S> {
    /// Writes all queued output and flushes the stream.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        while self.conn.pending_transmit() > 0 {
            let mut slices = [IoSlice::new(&[]); 8];
            let runs = self.conn.transmit_chunks(&mut slices);
            // Large payloads are queued by reference: write them with their headers in one go.
            let n = if runs > 1 && self.stream.is_write_vectored() {
                ready!(Pin::new(&mut self.stream).poll_write_vectored(cx, &slices[..runs]))?
            } else {
                ready!(Pin::new(&mut self.stream).poll_write(cx, &slices[0]))?
            };
            if n == 0 {
                return Poll::Ready(Err(io::Error::from(io::ErrorKind::WriteZero).into()));
            }
            self.conn.advance_transmit(n);
        }
        ready!(Pin::new(&mut self.stream).poll_flush(cx))?;
        Poll::Ready(Ok(()))
    }

    fn poll_flush_unless_corked(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.has_pending_input() && self.conn.pending_transmit() < CORK_LIMIT {
            return Poll::Ready(Ok(()));
        }
        self.poll_write_out(cx)
    }

    fn poll_next_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        loop {
            match self.conn.poll_event() {
                Ok(Some(message)) => {
                    if message.is_close() {
                        // Start writing the echoed Close now; a pending write finishes later.
                        if let Poll::Ready(Err(error)) = self.poll_write_out(cx) {
                            return Poll::Ready(Some(Err(error)));
                        }
                    }
                    return Poll::Ready(Some(Ok(message)));
                }
                Ok(None) => {}
                Err(error) => {
                    // Best effort: the transport may be what failed.
                    let _ = self.poll_write_out(cx);
                    return Poll::Ready(Some(Err(error.into())));
                }
            }
            if self.shut_down && self.conn.transport() == Transport::Release {
                return Poll::Ready(None);
            }
            // Input ran dry: this is where corked sends go out, in one write.
            match self.poll_write_out(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(error)) => return Poll::Ready(Some(Err(error))),
                // Past the send buffer's high-water mark, wait for the peer to read (the write's
                // waker wakes us): a peer that sends pings and never reads cannot grow our memory.
                Poll::Pending if self.conn.transport() == Transport::PauseReading => {
                    return Poll::Pending;
                }
                Poll::Pending => {}
            }
            if self.poll_timers(cx) {
                continue;
            }
            let transport = self.conn.transport();
            if let Transport::ShutdownWrite | Transport::Release = transport {
                if self.conn.pending_transmit() > 0 {
                    return Poll::Pending;
                }
                if !self.shut_down {
                    // Half-close (our FIN); ignore errors: the connection is over either way.
                    let _ = ready!(Pin::new(&mut self.stream).poll_shutdown(cx));
                    self.shut_down = true;
                }
                // Then linger: read (and discard) until the peer's FIN or the linger runs out.
                if transport == Transport::Release {
                    return Poll::Ready(None);
                }
            }
            match ready!(self.poll_read(cx)) {
                Ok(0) => self.conn.receive_eof(),
                Ok(_) => {}
                // After the closing handshake only the end of the stream is awaited; a reset ends
                // it just as well.
                Err(_) if self.conn.state() == crate::State::Closed => self.conn.receive_eof(),
                Err(error) => return Poll::Ready(Some(Err(error.into()))),
            }
            // Tell the core the time after each read: it marks the activity that keepalive and
            // idle timers measure, and dates a pong's arrival.
            if self.conn.timers_running() {
                self.conn.handle_timeout(now());
            }
        }
    }

    /// Reads once from the stream into the connection's buffer, without zero-filling it first.
    ///
    /// An idle connection holds no read buffer: when the read finds nothing and nothing is
    /// buffered, the buffer goes back to the thread's pool (or is freed) before the task sleeps,
    /// and the next wake-up (data has arrived) takes one from the pool. Bytes are read where they
    /// will be decoded, so no payload is copied between reading and unmasking.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        // Room for the rest of a large frame at once: no copies as the buffer grows.
        let wanted = READ_CHUNK.max(self.conn.frame_bytes_missing());
        let buf = self.conn.receive_buffer();
        if buf.capacity() == 0 {
            *buf = take_read_buffer();
        }
        buf.reserve(wanted);
        let result = tokio_util::io::poll_read_buf(Pin::new(&mut self.stream), cx, buf);
        if result.is_pending() && buf.is_empty() {
            release_read_buffer(std::mem::take(buf));
        }
        result
    }

    /// Runs the connection's timers: fires what is due and arms a sleep for the next deadline.
    /// Returns true when a timer fired, so the caller looks for the events and output it made.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.conn.timers_running() {
            self.sleep = None;
            return false;
        }
        let time = now();
        let Some(deadline) = self.conn.poll_timeout().or_else(|| {
            // Timers start at the first tick.
            self.conn.handle_timeout(time);
            self.conn.poll_timeout()
        }) else {
            self.sleep = None;
            return false;
        };
        if deadline <= time {
            self.conn.handle_timeout(time);
            return true;
        }
        let deadline = tokio::time::Instant::from_std(deadline);
        match &mut self.sleep {
            Some(sleep) if sleep.deadline() == deadline => {}
            Some(sleep) => sleep.as_mut().reset(deadline),
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
        match self.sleep.as_mut().map(|sleep| sleep.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => {
                self.conn.handle_timeout(now());
                true
            }
            _ => false,
        }
    }
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

impl<S: AsyncRead + AsyncWrite + Unpin> Inner<S> {
    /// Room for another message: past the cork limit, write first.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.pending_transmit() >= CORK_LIMIT {
            ready!(self.poll_write_out(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    /// `Sink::poll_close`: sends a normal Close unless one was sent, and writes it.
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.state() == crate::State::Open {
            self.conn.close(CloseCode::NORMAL, "")?;
        }
        self.poll_write_out(cx)
    }
}

// ------------------------------------------------------------------------------------- split

/// The two halves of a split WebSocket share the connection and the stream.
#[derive(Debug)]
struct Shared<S> {
    inner: Mutex<Inner<S>>,
    wakers: Arc<WakerPair>,
}

/// Both halves may write (the reader writes pongs and the close echo), but a stream keeps one
/// waker per direction. Every poll therefore registers a waker that wakes both halves, so
/// neither half's wake-up is lost to the other's registration.
#[derive(Debug, Default)]
struct WakerPair {
    slots: Mutex<[Option<Waker>; 2]>,
}

impl Wake for WakerPair {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let wakers = std::mem::take(&mut *self.slots.lock().unwrap_or_else(|e| e.into_inner()));
        for waker in wakers.into_iter().flatten() {
            waker.wake();
        }
    }
}

const READER: usize = 0;
const WRITER: usize = 1;

impl<S> Shared<S> {
    /// Locks the connection and returns a waker for both halves, with `half`'s waker registered.
    fn enter(&self, half: usize, cx: &Context<'_>) -> (MutexGuard<'_, Inner<S>>, Waker) {
        {
            let mut slots = self.wakers.slots.lock().unwrap_or_else(|e| e.into_inner());
            match &mut slots[half] {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
        }
        let waker = Waker::from(Arc::clone(&self.wakers));
        (self.inner.lock().unwrap_or_else(|e| e.into_inner()), waker)
    }
}

/// The reading half of a split [`WebSocket`]: a [`Stream`] of messages.
#[derive(Debug)]
pub struct WebSocketReader<S> {
    shared: Arc<Shared<S>>,
}

/// The writing half of a split [`WebSocket`]: a [`Sink`] of messages.
#[derive(Debug)]
pub struct WebSocketWriter<S> {
    shared: Arc<Shared<S>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketReader<S> {
    /// The next message; [`Error::Closed`] once the connection has closed. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Message, Error> {
        poll_fn(|cx| self.poll_message(cx))
            .await
            .unwrap_or(Err(Error::Closed))
    }

    fn poll_message(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        let (mut inner, waker) = self.shared.enter(READER, cx);
        inner.poll_next_message(&mut Context::from_waker(&waker))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketReader<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_message(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketWriter<S> {
    /// Sends a message and writes it. The writer does not cork: the reader it would wait for may
    /// be parked in another task.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.with(|inner| inner.conn.send(message).map_err(Error::from))?;
        self.flush().await
    }

    /// Sends a message encoded once for many connections (see [`PreparedMessage`]) and writes
    /// it.
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        self.with(|inner| inner.conn.send_prepared(message).map_err(Error::from))?;
        self.flush().await
    }

    /// Queues a prepared message without writing it (first writing what is queued if
    /// [`CORK_LIMIT`] bytes already are). Follow a batch with [`flush`](Self::flush): a backlog
    /// then goes out in one `write` instead of one per message.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(
    /// #     mut writer: rfc6455::tokio::WebSocketWriter<tokio::net::TcpStream>,
    /// #     mut outbox: tokio::sync::mpsc::Receiver<rfc6455::PreparedMessage>,
    /// # ) -> Result<(), rfc6455::Error> {
    /// while let Some(message) = outbox.recv().await {
    ///     writer.feed_prepared(&message).await?;
    ///     // Everything else already waiting joins the same write.
    ///     while let Ok(message) = outbox.try_recv() {
    ///         writer.feed_prepared(&message).await?;
    ///     }
    ///     writer.flush().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn feed_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| self.poll(cx, Inner::poll_ready)).await?;
        self.with(|inner| inner.conn.send_prepared(message).map_err(Error::from))
    }

    /// Starts the closing handshake and writes the Close frame; the reader sees the end.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.with(|inner| inner.conn.close(code, reason).map_err(Error::from))?;
        self.flush().await
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll(cx, Inner::poll_write_out)).await
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner<S>) -> T) -> T {
        f(&mut self.shared.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn poll(
        &self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Inner<S>, &mut Context<'_>) -> Poll<Result<(), Error>>,
    ) -> Poll<Result<(), Error>> {
        let (mut inner, waker) = self.shared.enter(WRITER, cx);
        f(&mut inner, &mut Context::from_waker(&waker))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketWriter<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll(cx, Inner::poll_ready)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.with(|inner| inner.conn.send(message).map_err(Error::from))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll(cx, Inner::poll_write_out)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll(cx, Inner::poll_close)
    }
}

/// The time from tokio's clock, so that paused-time tests drive the connection's timers too.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

async fn write_all_flush<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_read_buffer_is_taken_again() {
        let buffer = BytesMut::with_capacity(READ_CHUNK);
        let storage = buffer.as_ptr();
        release_read_buffer(buffer);
        let again = take_read_buffer();
        assert_eq!(again.as_ptr(), storage);
        assert!(again.capacity() >= READ_CHUNK);
        assert_eq!(take_read_buffer().capacity(), 0, "the pool is empty again");
    }

    #[test]
    fn a_buffer_still_shared_with_a_message_is_not_pooled() {
        let mut buffer = BytesMut::with_capacity(READ_CHUNK);
        buffer.extend_from_slice(b"message");
        let message = buffer.split().freeze();
        release_read_buffer(buffer);
        assert_eq!(take_read_buffer().capacity(), 0);
        drop(message);
    }

    #[test]
    fn the_read_buffer_pool_is_bounded() {
        // A buffer grown for one large frame is freed, not kept.
        release_read_buffer(BytesMut::with_capacity(8 * READ_CHUNK));
        assert_eq!(take_read_buffer().capacity(), 0);
        for _ in 0..POOLED_READ_BUFFERS + 3 {
            release_read_buffer(BytesMut::with_capacity(READ_CHUNK));
        }
        let kept = std::iter::repeat_with(take_read_buffer)
            .take_while(|buffer| buffer.capacity() > 0)
            .count();
        assert_eq!(kept, POOLED_READ_BUFFERS);
    }
}
