//! The connection state machine, [RFC 6455 §5–7](https://www.rfc-editor.org/rfc/rfc6455#section-5):
//! framing, fragmentation, control frames and the closing handshake, for both roles.
//!
//! ```text
//!   handle_input(bytes) ──► [ receive buffer ] ──► poll_recv() ──► Message / ConnectionError
//!   handle_eof()                 │ auto-pong, close echo, fail (§7.1.7)
//!                                 ▼
//!   send(msg) ────────► [ send buffer ] ──► poll_transmit(&mut Vec) ──► write
//!   close(code)                             transmit_chunks() + advance_transmit(n)
//!
//!   handle_timeout(now) ──► keepalive, idle, close and linger timers ──► poll_timeout()
//!   transport() ──► Read / PauseReading / ShutdownWrite / Release
//! ```
//!
//! One concern per file: `receive` decodes (§5.2–§5.5), `send` encodes, `timers` runs
//! the clocks the core is given, `transmit` hands out the bytes to write, and `phase` holds the
//! lifecycle (§4.1, §7.1) and its only assignment.
#![forbid(unsafe_code)]

mod output;
mod phase;
mod receive;
mod send;
mod timers;
mod transmit;

use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use rand_chacha::ChaCha12Rng;
use rand_core::SeedableRng;

use crate::config::Config;
use crate::utf8::Utf8Validator;
use output::Output;
use phase::Phase;
use receive::{Assembly, IncomingFrame};
use timers::Timers;

/// Which end of the connection this is. It decides the masking direction (§5.1) and who closes
/// the transport first (§7.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The end that opened the connection; it masks every frame it sends.
    Client,
    /// The end that accepted it; it sends unmasked frames and closes the TCP connection first.
    Server,
}

/// The connection's state, named after RFC 6455 §4.1, §7.1.3 and §7.1.4. Informational: what a
/// driver does with its transport is [`Connection::transport`]'s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// The opening handshake is done; both sides may send.
    Open,
    /// This side sent a Close frame and waits for the peer's; received messages still arrive.
    Closing,
    /// The closing handshake completed, the connection failed, or the transport ended.
    Closed,
}

/// What a driver does with its transport now: the one lifecycle question, answered by
/// [`Connection::transport`]. Ask after every round of [`poll_recv`](Connection::poll_recv)
/// and [`poll_transmit`](Connection::poll_transmit).
///
/// Exhaustive on purpose: a driver must decide for every case, so a new one would have to be a
/// compile error, not a silent default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Write what is pending and keep reading.
    Read,
    /// Write what is pending, but do not read until it has gone out: the send buffer is at its
    /// high-water mark ([`Config::max_send_buffer`]), and reading more could only queue more
    /// replies (pongs, the close echo) for a peer that is not reading ours.
    PauseReading,
    /// Write what is pending, then shut down the transport's write side once (TCP
    /// `shutdown(Write)`: a FIN, so the server closes first as §7.1.1 asks) and keep reading
    /// until the peer ends its side or [`poll_timeout`](Connection::poll_timeout)'s deadline
    /// passes; what still arrives is discarded. Dropping the socket at once is also correct,
    /// but unread input makes the kernel answer with a reset, which can destroy our Close frame
    /// before the peer reads it.
    ShutdownWrite,
    /// The connection is over: write what is still pending if the transport takes it, then
    /// close the transport and drop the connection.
    Release,
}

/// The type of a data message, for fragmented sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataKind {
    Text,
    Binary,
}

/// A WebSocket connection after the opening handshake, in either role, with no I/O of its own.
///
/// # Calling protocol
///
/// A driver owns the transport (a socket, a TLS stream, an HTTP/2 stream) and the clock; the
/// connection owns everything else. Every call returns at once.
///
/// * **Getters**: [`role`](Self::role), [`state`](Self::state), [`config`](Self::config),
///   [`transport`](Self::transport) (what to do with the transport now),
///   [`timers_running`](Self::timers_running) (whether a clock is needed at all).
/// * **Inputs**: [`handle_input`](Self::handle_input) the bytes read from the transport (or read straight
///   into [`input_buffer`](Self::input_buffer)), [`handle_eof`](Self::handle_eof) when its
///   read side ends, and [`handle_timeout`](Self::handle_timeout) with the current time after
///   each read and when [`poll_timeout`](Self::poll_timeout)'s deadline passes.
/// * **Commands**: [`send`](Self::send) and its typed variants, [`close`](Self::close). They
///   queue bytes; nothing is written until the driver writes it.
/// * **Outputs**, after every input or command, drained in this order:
///   1. [`poll_recv`](Self::poll_recv) until it returns `Ok(None)` or an error: messages from
///      the peer (handling them may call commands; pings and closes are answered by the core);
///   2. [`poll_transmit`](Self::poll_transmit) (all pending bytes, appended to a `Vec`), or
///      [`write_transmit`](Self::write_transmit) (all of them, into an `io::Write`), or
///      [`transmit_chunks`](Self::transmit_chunks) with
///      [`advance_transmit`](Self::advance_transmit) for vectored zero-copy writes, until
///      [`pending_transmit`](Self::pending_transmit) is zero;
///   3. [`poll_timeout`](Self::poll_timeout): the next deadline, if a timer runs;
///   4. [`transport`](Self::transport): keep reading, pause reading, shut down the write side,
///      or release the transport.
///
/// No output call hands over part of what is pending in a way that loses the rest: a driver that
/// writes everything `poll_transmit` gives and then blocks in `read` never stalls.
///
/// # Example
///
/// ```
/// use rfc6455::{Config, Connection, Message, Role, Transport};
///
/// let mut server = Connection::new(Role::Server, Config::default());
/// // A masked "Hello" from a client (RFC 6455 §5.7), then a ping.
/// server.handle_input(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
/// server.handle_input(b"\x89\x80\x00\x00\x00\x00");
/// assert_eq!(server.poll_recv()?, Some(Message::text("Hello")));
/// assert!(matches!(server.poll_recv()?, Some(Message::Ping(_))));
/// assert_eq!(server.poll_recv()?, None); // need more bytes
/// // The pong was queued by itself; echo the text too.
/// server.send_text("Hello")?;
/// let mut out = Vec::new();
/// server.poll_transmit(&mut out);
/// assert_eq!(out, b"\x8a\x00\x81\x05Hello");
/// assert_eq!(server.poll_timeout(), None); // no clock given, no timer runs
/// assert_eq!(server.transport(), Transport::Read);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Connection {
    role: Role,
    /// Shared between connections when the caller passes an `Arc<Config>`.
    config: Arc<Config>,
    /// Where the connection is in its life; assigned only by `transition`.
    phase: Phase,
    recv: BytesMut,
    /// The transport's read side ended; acted on once the bytes before it are decoded.
    input_ended: bool,
    send: Output,
    /// Log2 of what the last written batch took from the output buffer, rounded up: the next
    /// batch allocates that much at once, rather than growing from nothing by doubling, one frame
    /// at a time (a reallocation and a copy for most small frames of a batch). A byte, so that
    /// it fits beside the other small fields.
    batch_capacity_log2: u8,
    frame: Option<IncomingFrame>,
    /// Boxed: only a fragmented or compressed message needs one, and only until it is complete.
    assembly: Option<Box<Assembly>>,
    utf8: Utf8Validator,
    /// The type of the fragmented message we are sending, if one is unfinished, and whether it
    /// is compressed.
    sending: Option<(DataKind, bool)>,
    /// permessage-deflate state, when negotiated (boxed: most connections have none).
    #[cfg(feature = "deflate")]
    deflate: Option<Box<crate::deflate::Deflate>>,
    /// Mask keys for the client role (§5.3: "unpredictable"), from a CSPRNG seeded once.
    /// Boxed: a server has none, and should not pay for its size.
    masks: Option<Box<ChaCha12Rng>>,
    /// The latest time handed to `handle_timeout`; timers are off until the first.
    now: Option<Instant>,
    /// What the keepalive and idle timers remember, allocated at the first tick when either is
    /// configured (the default configuration has neither), and an error a timer found.
    timers: Option<Box<Timers>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("phase", &self.phase)
            .field("buffered_input", &self.recv.len())
            .field("buffered_output", &self.send.len())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection in the `Open` state. A client draws the seed of its mask-key generator from the
    /// operating system once, here.
    ///
    /// # Panics
    ///
    /// In the client role, if the operating system's random source fails; use
    /// [`with_mask_seed`](Self::with_mask_seed) to supply the seed yourself.
    pub fn new(role: Role, config: impl Into<Arc<Config>>) -> Self {
        let mut seed = [0u8; 32];
        if role == Role::Client {
            #[allow(
                clippy::expect_used,
                reason = "no secure fallback exists for mask keys"
            )]
            getrandom::fill(&mut seed).expect("the OS random source failed");
        }
        Self::with_mask_seed(role, config, seed)
    }

    /// A connection whose client mask keys come from a CSPRNG seeded with `seed` (the server
    /// role ignores it). Tests use a fixed seed to assert exact masked bytes; production code
    /// must use a secret random seed.
    pub fn with_mask_seed(role: Role, config: impl Into<Arc<Config>>, seed: [u8; 32]) -> Self {
        Self {
            role,
            config: config.into(),
            phase: Phase::Open,
            recv: BytesMut::new(),
            input_ended: false,
            send: Output::default(),
            batch_capacity_log2: 0,
            frame: None,
            assembly: None,
            utf8: Utf8Validator::default(),
            sending: None,
            #[cfg(feature = "deflate")]
            deflate: None,
            masks: (role == Role::Client).then(|| Box::new(ChaCha12Rng::from_seed(seed))),
            now: None,
            timers: None,
        }
    }

    /// Turns on permessage-deflate with the parameters the opening handshake agreed on (see
    /// [`crate::deflate`]); compression options come from [`Config::deflate`].
    #[cfg(feature = "deflate")]
    pub fn with_deflate(mut self, params: crate::deflate::DeflateParams) -> Self {
        let (send, receive) = params.streams(self.role == Role::Server);
        let deflate = crate::deflate::Deflate::new(send, receive, self.config.deflate.as_ref());
        self.deflate = Some(Box::new(deflate));
        self
    }

    /// Whether permessage-deflate is in use.
    pub fn is_compressed(&self) -> bool {
        #[cfg(feature = "deflate")]
        return self.deflate.is_some();
        #[cfg(not(feature = "deflate"))]
        false
    }

    /// This connection's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The state, as RFC 6455 names it.
    pub fn state(&self) -> State {
        self.phase.state()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What to do with the transport now; see [`Transport`].
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use rfc6455::{CloseCode, Config, Connection, Role, Transport};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// let start = Instant::now();
    /// server.handle_timeout(start);
    /// server.close(CloseCode::NORMAL, "bye")?;
    /// assert_eq!(server.transport(), Transport::Read); // wait for the client's Close
    /// // The client's masked Close (code 1000, empty reason).
    /// server.handle_input(b"\x88\x82\x00\x00\x00\x00\x03\xe8");
    /// server.poll_recv()?;
    /// // Shut down the write side and wait for the client's FIN, at most the 2 s linger.
    /// assert_eq!(server.transport(), Transport::ShutdownWrite);
    /// assert_eq!(server.poll_timeout(), Some(start)); // the linger starts at the next tick
    /// server.handle_timeout(start);
    /// assert_eq!(server.poll_timeout(), Some(start + Duration::from_secs(2)));
    /// server.handle_timeout(start + Duration::from_secs(2));
    /// assert_eq!(server.transport(), Transport::Release);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn transport(&self) -> Transport {
        match self.phase {
            Phase::Closed => Transport::Release,
            Phase::Lingering { .. } => Transport::ShutdownWrite,
            _ if self.send.len() >= self.config.max_send_buffer => Transport::PauseReading,
            _ => Transport::Read,
        }
    }
}

#[cfg(test)]
mod memory {
    use std::time::Duration;

    use super::*;
    use crate::close::CloseCode;
    use crate::message::Message;

    /// What each idle connection costs inline; state for rarer work (keepalive's memory, a
    /// fragmented message, a client's mask generator) lives behind a pointer. The phase carries
    /// its timer's start inline (24 bytes), so closing allocates nothing.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_connection_stays_small() {
        assert!(
            std::mem::size_of::<Connection>() <= 208,
            "Connection grew to {} bytes",
            std::mem::size_of::<Connection>()
        );
    }

    #[test]
    fn a_batch_allocates_the_last_batchs_size_at_once_and_an_idle_connection_holds_little() {
        let mut conn = Connection::new(Role::Server, Config::default().ping_interval(None));
        let batch = |conn: &mut Connection, text: &str, frames: usize| {
            for _ in 0..frames {
                conn.send_text(text).unwrap();
            }
            conn.pending_transmit()
        };
        let written = batch(&mut conn, "twenty bytes of text", 20);
        assert!(written > output::KEPT_TAIL);
        conn.advance_transmit(written);
        assert_eq!(conn.send.tail().capacity(), 0, "no large buffer held");
        conn.send_text("twenty bytes of text").unwrap();
        let storage = conn.send.tail().as_ptr();
        assert!(conn.send.tail().capacity() >= written);
        batch(&mut conn, "twenty bytes of text", 19);
        assert_eq!(conn.send.tail().as_ptr(), storage, "no reallocation");
        // A batch past the cork limit is remembered only up to it.
        let written = batch(&mut conn, &"x".repeat(8000), 40);
        conn.advance_transmit(written);
        conn.send_text("x").unwrap();
        assert_eq!(conn.send.tail().capacity(), crate::config::CORK_LIMIT);
        // A message at a time: a small buffer is kept and reused.
        let written = conn.pending_transmit();
        conn.advance_transmit(written);
        for text in ["one", "two"] {
            conn.send_text(text).unwrap();
            let written = conn.pending_transmit();
            conn.advance_transmit(written);
        }
        let kept = conn.send.tail().as_ptr();
        assert!(conn.send.tail().capacity() <= output::KEPT_TAIL);
        conn.send_text("three").unwrap();
        assert_eq!(
            conn.send.tail().as_ptr(),
            kept,
            "the small buffer is reused"
        );
    }

    #[test]
    fn close_timers_allocate_nothing() {
        let mut conn = Connection::new(Role::Server, Config::default().ping_interval(None));
        let start = Instant::now();
        conn.handle_timeout(start);
        conn.handle_input(b"\x82\x82\x00\x00\x00\x00hi");
        conn.handle_timeout(start + Duration::from_secs(1));
        assert!(matches!(conn.poll_recv(), Ok(Some(Message::Binary(_)))));
        assert!(conn.timers.is_none());
        assert_eq!(conn.poll_timeout(), None);

        // The closing handshake starts the close timer at the next tick; its start time lives
        // in the phase.
        conn.close(CloseCode::NORMAL, "").unwrap();
        let closing = start + Duration::from_secs(2);
        assert_eq!(conn.poll_timeout(), Some(start + Duration::from_secs(1)));
        conn.handle_timeout(closing);
        assert_eq!(
            conn.poll_timeout(),
            Some(closing + conn.config().close_timeout)
        );
        assert!(conn.timers.is_none());
    }

    #[test]
    fn keepalive_allocates_at_the_first_tick() {
        let config = Config::default().ping_interval(Some(Duration::from_secs(20)));
        let mut conn = Connection::new(Role::Server, config);
        assert!(conn.timers.is_none());
        conn.handle_timeout(Instant::now());
        assert!(conn.timers.is_some());
    }

    #[test]
    fn a_finished_fragmented_message_frees_its_assembly() {
        let mut conn = Connection::new(Role::Server, Config::default());
        conn.handle_input(b"\x01\x82\x00\x00\x00\x00hi");
        assert_eq!(conn.poll_recv(), Ok(None));
        assert!(conn.assembly.is_some());
        conn.handle_input(b"\x80\x81\x00\x00\x00\x00!");
        assert!(matches!(conn.poll_recv(), Ok(Some(Message::Text(_)))));
        assert!(conn.assembly.is_none());
    }
}
