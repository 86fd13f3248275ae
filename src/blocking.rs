//! The blocking adapter: a WebSocket over any `std::io::Read + Write` stream (feature `std`).
//!
//! A thin loop around the sans-IO [`Connection`]: read bytes into it, hand out its events, write
//! what it queues. It makes no protocol decision of its own.
//!
//! # `send` means sent; `feed` batches
//!
//! When [`send`](WebSocket::send) returns, the frame has been written to the stream and the
//! stream flushed. Batching is explicit: [`feed`](WebSocket::feed) queues a message, and what is
//! queued is written in one `write` when [`recv`](WebSocket::recv) finds no whole frame buffered
//! and must wait for the stream, once [`CORK_LIMIT`] bytes are queued, or on
//! [`flush`](WebSocket::flush) and [`close`](WebSocket::close). The batched echo loop, `recv` a
//! message then `feed` it, therefore costs one `write` per batch of messages that arrived
//! together.
#![forbid(unsafe_code)]

mod timers;

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use crate::close::CloseCode;
use crate::config::Config;
use crate::connection::{Connection, State, Transport};
use crate::handshake::offer_extensions;
use crate::handshake::{
    Accept, ClientHandshake, ClientRequest, Reject, ServerHandshake, UpgradeRequest,
    UpgradeResponse,
};
use crate::io_error::Error;
use crate::message::Message;
use crate::prepared::PreparedMessage;

pub use timers::ReadTimeout;

pub use crate::config::CORK_LIMIT;

/// How much buffer space each read from the stream offers.
const READ_CHUNK: usize = 16 * 1024;

thread_local! {
    /// Where reads land before their bytes are handed to the connection.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; READ_CHUNK]);
}

/// A WebSocket connection over a blocking (or non-blocking) stream.
///
/// # Example
///
/// ```no_run
/// use std::net::TcpListener;
/// use rfc6455::blocking::WebSocket;
///
/// let listener = TcpListener::bind("127.0.0.1:9001")?;
/// for stream in listener.incoming() {
///     let mut ws = WebSocket::accept(stream?)?;
///     loop {
///         match ws.recv() {
///             Ok(msg) if msg.is_text() || msg.is_binary() => ws.send(msg)?,
///             Ok(_) => {}                                   // pings are answered for us
///             Err(rfc6455::Error::Closed) => break,       // clean close
///             Err(e) => return Err(e.into()),
///         }
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct WebSocket<S> {
    stream: S,
    conn: Connection,
}

impl<S: Read + Write> WebSocket<S> {
    /// Wraps a stream whose opening handshake is already done, around a connection made for it
    /// (its buffered input and output carry over).
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        Self { stream, conn }
    }

    /// Performs the server side of the opening handshake with [`Config::default`],
    /// accepting any valid request without a subprotocol. Its keepalive runs only under
    /// [`recv_timed`](Self::recv_timed).
    pub fn accept(stream: S) -> Result<Self, Error> {
        Self::accept_with(stream, Config::default(), |_| Ok(Accept::default()))
    }

    /// Performs the server side of the opening handshake; `decide` sees the validated request and
    /// accepts it (choosing a subprotocol, adding headers) or rejects it with a status.
    ///
    /// An invalid request is answered with the matching error status (400, 405, 426, 431) and
    /// returned as [`Error::Handshake`]; a rejection as [`Error::Rejected`].
    pub fn accept_with<F>(
        mut stream: S,
        config: impl Into<Arc<Config>>,
        decide: F,
    ) -> Result<Self, Error>
    where
        F: FnOnce(&UpgradeRequest) -> Result<Accept, Reject>,
    {
        let config = config.into();
        let mut handshake = ServerHandshake::new();
        let mut buf = vec![0u8; 4096];
        let request = loop {
            let n = read_retrying(&mut stream, &mut buf)?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            match handshake.handle_input(&buf[..n]) {
                Ok(Some(request)) => break request,
                Ok(None) => {}
                Err(error) => {
                    // Best effort: the peer is told why, but the error that matters is theirs.
                    let _ = write_all_flush(&mut stream, &error.response_bytes());
                    return Err(error.into());
                }
            }
        };
        let accept = match decide(&request) {
            Ok(accept) => accept,
            Err(reject) => {
                write_all_flush(&mut stream, &reject.to_bytes()?)?;
                return Err(Error::Rejected(reject.status()));
            }
        };
        let conn = handshake.accept(&request, accept, config)?;
        let mut ws = Self { stream, conn };
        // The 101 response is the connection's first output.
        ws.flush()?;
        Ok(ws)
    }

    /// Performs the client side of the opening handshake over a connected stream (plain TCP, or a
    /// TLS stream the caller set up), returning the socket and the server's response.
    pub fn client(
        mut stream: S,
        request: &ClientRequest,
        config: impl Into<Arc<Config>>,
    ) -> Result<(Self, UpgradeResponse), Error> {
        let config = config.into();
        let request = offer_extensions(request, &config);
        let mut handshake = ClientHandshake::new(&request)?;
        write_all_flush(&mut stream, handshake.request_bytes())?;
        let mut buf = vec![0u8; 4096];
        let response = loop {
            let n = read_retrying(&mut stream, &mut buf)?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            match handshake.handle_input(&buf[..n]) {
                Ok(Some(response)) => break response,
                Ok(None) => {}
                Err(mut refusal) => {
                    // The body of a refusal often says why ("bad token"): read the rest of it,
                    // bounded. A failing read ends it; the refusal is the error to report.
                    while refusal.refusal_body_missing() > 0 {
                        match read_retrying(&mut stream, &mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => refusal.extend_refusal_body(&buf[..n]),
                        }
                    }
                    return Err(refusal.into());
                }
            }
        };
        let conn = handshake.connect(&response, config)?;
        Ok((Self { stream, conn }, response))
    }

    /// Reads the next message, control frame or Close from the peer.
    ///
    /// Pings are answered automatically and still returned, for applications that track them.
    /// After the peer's Close (returned once as [`Message::Close`]) and the end of the closing
    /// handshake, returns [`Error::Closed`]. Queued output is written before this blocks.
    ///
    /// [`Error::Closed`] comes as soon as the transport should close
    /// ([`Connection::transport`] says to shut it down or release it); a generic stream cannot be half-closed, so there
    /// is no linger for the peer's FIN here (see [`Config::close_linger`]). With a `TcpStream`,
    /// `shutdown(Write)` and reading to the end before dropping it lets the peer's last bytes
    /// arrive without a reset.
    pub fn recv(&mut self) -> Result<Message, Error> {
        loop {
            match self.conn.poll_recv() {
                Ok(Some(message)) => {
                    if message.is_close() {
                        // Put the echoed Close on the wire now: the application may stop here.
                        self.flush()?;
                    }
                    return Ok(message);
                }
                Ok(None) => {}
                Err(error) => {
                    // The Close that fails the connection is best effort: the transport may be
                    // what failed.
                    let _ = self.flush();
                    return Err(error.into());
                }
            }
            // Input ran dry: this is where corked sends go out, in one write.
            self.flush()?;
            if let Transport::ShutdownWrite | Transport::Release = self.conn.transport() {
                return Err(Error::Closed);
            }
            self.fill()?;
        }
    }

    /// Reads once from the stream into the connection.
    ///
    /// `Read` needs initialised memory, and zeroing fresh buffer space before every read would
    /// cost as much as the read: reads go to a per-thread buffer zeroed once, and only the bytes
    /// that arrived are copied into the connection.
    fn fill(&mut self) -> Result<(), Error> {
        let result = SCRATCH.with_borrow_mut(|scratch| {
            let n = read_retrying(&mut self.stream, scratch)?;
            self.conn.handle_input(&scratch[..n]);
            Ok::<_, io::Error>(n)
        });
        match result {
            Ok(0) => self.conn.handle_eof(),
            Ok(_) => {}
            // After the closing handshake only the end of the stream is awaited; a reset (the
            // peer closed before reading our Close) ends it just as well.
            Err(e)
                if self.conn.state() == State::Closed && e.kind() != io::ErrorKind::WouldBlock =>
            {
                self.conn.handle_eof()
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// Sends a message: when this returns, it has been written to the stream and the stream
    /// flushed, with anything queued before it.
    ///
    /// With a non-blocking stream, a `WouldBlock` error means the message is queued but not yet
    /// all written: call [`flush`](Self::flush) when the stream is writable.
    pub fn send(&mut self, message: Message) -> Result<(), Error> {
        self.conn.send(message)?;
        self.flush()
    }

    /// Queues a message to go out with the next batch (see the module docs): written when
    /// [`recv`](Self::recv) must wait for the stream, once [`CORK_LIMIT`] bytes are queued, or
    /// on [`flush`](Self::flush).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # fn run(mut ws: rfc6455::blocking::WebSocket<std::net::TcpStream>) -> Result<(), rfc6455::Error> {
    /// // The batched echo loop: one write per batch of messages that arrived together.
    /// loop {
    ///     match ws.recv() {
    ///         Ok(message) if message.is_text() || message.is_binary() => ws.feed(message)?,
    ///         Ok(_) => {}
    ///         Err(rfc6455::Error::Closed) => return Ok(()),
    ///         Err(error) => return Err(error),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn feed(&mut self, message: Message) -> Result<(), Error> {
        self.conn.send(message)?;
        if self.conn.pending_transmit() >= CORK_LIMIT {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends a text message, like [`send`](Self::send).
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.conn.send_text(text)?;
        self.flush()
    }

    /// Sends a binary message, like [`send`](Self::send).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.conn.send_binary(data)?;
        self.flush()
    }

    /// Sends a message encoded once for many connections (see [`PreparedMessage`]), like
    /// [`send`](Self::send).
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        self.conn.send_prepared(message)?;
        self.flush()
    }

    /// Sends one fragment of a text message; `is_final` ends it.
    pub fn send_text_fragment(&mut self, text: &str, is_final: bool) -> Result<(), Error> {
        self.conn.send_text_fragment(text, is_final)?;
        self.flush()
    }

    /// Sends one fragment of a binary message; `is_final` ends it.
    pub fn send_binary_fragment(&mut self, data: &[u8], is_final: bool) -> Result<(), Error> {
        self.conn.send_binary_fragment(data, is_final)?;
        self.flush()
    }

    /// Starts the closing handshake. Keep calling [`recv`](Self::recv) until it returns
    /// [`Error::Closed`] to finish it.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.conn.close(code, reason)?;
        self.flush()
    }

    /// Writes everything queued and flushes the stream.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.conn.write_transmit(&mut self.stream)?;
        self.stream.flush()?;
        Ok(())
    }

    /// The sans-IO connection inside, for its state and configuration.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, mutably (e.g. to set timeouts). Reading or writing it directly corrupts the
    /// WebSocket stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The stream and the connection, for handing over to another driver.
    pub fn into_parts(self) -> (S, Connection) {
        (self.stream, self.conn)
    }
}

/// Connects to a `ws://` URL over TCP and performs the client handshake, with
/// [`Config::default`] (its keepalive runs only under [`WebSocket::recv_timed`]).
///
/// `wss://` needs a TLS stream: set one up and use [`WebSocket::client`].
///
/// # Example
///
/// ```no_run
/// let (mut ws, _response) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
/// ws.send_text("hello")?;
/// println!("{:?}", ws.recv()?);
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub fn connect(url: &str) -> Result<(WebSocket<TcpStream>, UpgradeResponse), Error> {
    let request = ClientRequest::new(url)?;
    if request.is_secure() {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "wss:// needs TLS: the blocking adapter takes a TLS stream you set up, given to WebSocket::client (the `rustls` feature adds wss:// to the tokio adapter)",
        )
        .into());
    }
    let stream = TcpStream::connect((request.host(), request.port()))?;
    // Writes are already batched by the connection; Nagle's algorithm would only add latency.
    stream.set_nodelay(true)?;
    WebSocket::client(stream, &request, Config::default())
}

fn read_retrying<S: Read>(stream: &mut S, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

fn write_all_flush<S: Write>(stream: &mut S, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes)?;
    stream.flush()
}
