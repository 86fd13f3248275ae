//! The connection state machine, [RFC 6455 §5–7](https://www.rfc-editor.org/rfc/rfc6455#section-5):
//! framing, fragmentation, control frames and the closing handshake, for both roles.
//!
//! ```text
//!   receive(bytes) ──► [ receive buffer ] ──► next_event() ──► Message / ProtocolError
//!                                │ auto-pong, close echo, fail (§7.1.7)
//!                                ▼
//!   send_*(msg) ─────► [ send buffer ] ──► bytes_to_send() ──► write ──► advance_sent(n)
//! ```
#![forbid(unsafe_code)]

use std::io::IoSlice;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};

use crate::close::{CloseCode, CloseFrame};
use crate::config::Config;
use crate::error::{ProtocolError, SendError};
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode, Parse};
use crate::mask::apply_mask;
use crate::message::Message;
use crate::output::{Output, SHARE_THRESHOLD};
use crate::prepared::PreparedMessage;
use crate::utf8::{Utf8Bytes, Utf8Validator};

/// Which end of the connection this is. It decides the masking direction (§5.1) and who closes
/// the transport first (§7.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The end that opened the connection; it masks every frame it sends.
    Client,
    /// The end that accepted it; it sends unmasked frames and closes the TCP connection first.
    Server,
}

/// The connection's state, named after RFC 6455 §4.1, §7.1.3 and §7.1.4.
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

/// The type of a data message, for fragmented sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataKind {
    Text,
    Binary,
}

/// The frame whose payload is arriving: its header, and how much of its payload has already been
/// unmasked (and, for text, validated) in place at the front of the receive buffer.
#[derive(Debug)]
struct IncomingFrame {
    header: FrameHeader,
    processed: usize,
    is_text: bool,
}

impl IncomingFrame {
    /// The payload's length. Lossless: `accept_header` bounded it by `max_frame_size`, a
    /// `usize`.
    fn len(&self) -> usize {
        self.header.payload_len as usize
    }
}

/// A fragmented message being assembled.
#[derive(Debug)]
struct Assembly {
    kind: DataKind,
    /// The message is compressed (RSV1 on its first frame, permessage-deflate).
    compressed: bool,
    data: BytesMut,
    size: u64,
    fragments: usize,
}

/// A WebSocket connection after the opening handshake, in either role, with no I/O of its own.
///
/// # Calling protocol
///
/// The connection is driven by three kinds of call:
///
/// * **input**: [`receive`](Self::receive) the bytes read from the transport (or read straight
///   into [`read_buffer`](Self::read_buffer)), and [`receive_eof`](Self::receive_eof) when the
///   transport's read side ends;
/// * **commands**: [`send`](Self::send) and its typed variants, [`close`](Self::close);
/// * **output**: [`next_event`](Self::next_event) for what the peer sent, and
///   [`bytes_to_send`](Self::bytes_to_send) / [`advance_sent`](Self::advance_sent) for what to
///   write.
///
/// After every input, call `next_event` until it returns `Ok(None)`, then write `bytes_to_send`:
/// handling events can queue output (pongs, the close echo, the close that fails the connection).
/// Once the output is written and [`should_close_transport`](Self::should_close_transport) is
/// true, close the transport.
///
/// # Example
///
/// ```
/// use rfc6455::{Config, Connection, Message, Role};
///
/// let mut server = Connection::new(Role::Server, Config::default());
/// // A masked "Hello" from a client (RFC 6455 §5.7), then a ping.
/// server.receive(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
/// server.receive(b"\x89\x80\x00\x00\x00\x00");
/// assert_eq!(server.next_event()?, Some(Message::text("Hello")));
/// assert!(matches!(server.next_event()?, Some(Message::Ping(_))));
/// assert_eq!(server.next_event()?, None); // need more bytes
/// // The pong was queued by itself; echo the text too.
/// server.send_text("Hello")?;
/// assert_eq!(server.bytes_to_send(), b"\x8a\x00\x81\x05Hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Connection {
    role: Role,
    /// Shared between connections when the caller passes an `Arc<Config>`.
    config: Arc<Config>,
    state: State,
    recv: BytesMut,
    send: Output,
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
    /// Received input is no longer decoded: the peer's Close arrived or the connection failed.
    input_closed: bool,
    failed: bool,
    eof: bool,
    /// A timer found the peer unresponsive: no point lingering for its end of the stream.
    peer_unresponsive: bool,
    /// The latest time handed to `handle_timeout`; timers are off until the first.
    now: Option<Instant>,
    /// What the timers remember, allocated once a timer has something to remember: at the first
    /// tick when keepalive or the idle timeout is configured, else when the closing handshake
    /// starts. An open connection with only the close timers configured (the default) has none.
    timers: Option<Box<Timers>>,
}

/// What the timers remember between ticks of [`Connection::handle_timeout`], which alone tells
/// the connection the time.
#[derive(Debug, Default)]
struct Timers {
    /// Bytes arrived since the last `handle_timeout` and were already decoded.
    activity: bool,
    /// How many bytes of the receive buffer were already there at the last `handle_timeout`:
    /// more than this means bytes arrived since.
    seen_at_tick: usize,
    /// When a frame last arrived, as of the `handle_timeout` after it.
    last_activity: Option<Instant>,
    /// When the keepalive ping that no frame has answered yet was sent.
    awaiting_since: Option<Instant>,
    /// The keepalive ping whose pong gives the round-trip time: its payload and when it was sent.
    ping_in_flight: Option<(u64, Instant)>,
    /// Keepalive pings sent so far, used as their payloads.
    pings_sent: u64,
    /// Round-trip time of the last keepalive ping.
    last_rtt: Option<Duration>,
    /// When the close timer started: after our Close went out, or the handshake finished and a
    /// client waits for the server to end the transport.
    closing_since: Option<Instant>,
    /// When lingering for the peer's end of stream started.
    linger_since: Option<Instant>,
    /// The linger ran out without the peer ending the stream.
    linger_over: bool,
    /// An error found by a timer, reported by the next `next_event`.
    error: Option<ProtocolError>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("buffered_input", &self.recv.len())
            .field("buffered_output", &self.send.len())
            .finish_non_exhaustive()
    }
}

impl Timers {
    /// Bytes left the receive buffer: if some of them were not there at the last tick, they are
    /// activity the next tick must see.
    fn note_consumed(&mut self, n: usize) {
        if n > self.seen_at_tick {
            self.activity = true;
        }
        self.seen_at_tick = self.seen_at_tick.saturating_sub(n);
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
            state: State::Open,
            recv: BytesMut::new(),
            send: Output::default(),
            frame: None,
            assembly: None,
            utf8: Utf8Validator::default(),
            sending: None,
            #[cfg(feature = "deflate")]
            deflate: None,
            masks: (role == Role::Client).then(|| Box::new(ChaCha12Rng::from_seed(seed))),
            input_closed: false,
            failed: false,
            eof: false,
            peer_unresponsive: false,
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

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    // ---------------------------------------------------------------- input

    /// Hands over bytes read from the transport. Bytes that arrive after the peer's Close frame or
    /// after the connection failed are discarded.
    pub fn receive(&mut self, data: &[u8]) {
        if !self.input_closed {
            self.recv.extend_from_slice(data);
        }
    }

    /// The receive buffer, for reading from the transport without an intermediate copy (e.g.
    /// `socket.read_buf(conn.read_buffer())`). Appending here is the same as calling
    /// [`receive`](Self::receive).
    pub fn read_buffer(&mut self) -> &mut BytesMut {
        &mut self.recv
    }

    /// Tells the connection that the transport's read side has ended.
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// Whether the transport should be read now. False while the send buffer is at its
    /// high-water mark ([`Config::max_send_buffer`]): reading more could only queue more replies
    /// (pongs, the close echo) for a peer that is not reading ours. Write first, then read.
    pub fn wants_read(&self) -> bool {
        self.send.len() < self.config.max_send_buffer
    }

    /// Whether a whole frame (or a protocol error) is already buffered, so that
    /// [`next_event`](Self::next_event) can make progress without reading the transport.
    ///
    /// Adapters use it to cork writes: while this is true the application is still working through
    /// input that arrived together, so its replies are queued and written in one batch when it
    /// turns false. A partial frame does not count: waiting for the rest of it must not hold back
    /// replies.
    pub fn has_pending_input(&self) -> bool {
        if self.input_closed {
            return false;
        }
        match &self.frame {
            Some(frame) => self.recv.len() >= frame.len(),
            None => match FrameHeader::parse(&self.recv) {
                Ok(Parse::Complete(header, header_len)) => {
                    (self.recv.len() - header_len) as u64 >= header.payload_len
                }
                Ok(Parse::Incomplete { .. }) => false,
                Err(_) => true,
            },
        }
    }

    /// How many more bytes the frame being received needs, once its header has been decoded;
    /// zero otherwise. A driver can size its next read with it, so that a large payload lands
    /// in one buffer instead of a growing one that is copied at every doubling. The length was
    /// checked against [`Config::max_frame_size`] when the header arrived, and reserving memory
    /// commits none until bytes are written to it.
    ///
    /// # Example
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// // The header of a masked 70,000-byte binary frame, and 4 bytes of its payload.
    /// server.receive(b"\x82\xff\x00\x00\x00\x00\x00\x01\x11\x70\x00\x00\x00\x00abcd");
    /// assert_eq!(server.next_event()?, None);
    /// assert_eq!(server.frame_bytes_missing(), 70_000 - 4);
    /// # Ok::<(), rfc6455::ProtocolError>(())
    /// ```
    #[must_use]
    pub fn frame_bytes_missing(&self) -> usize {
        match &self.frame {
            Some(frame) if !self.input_closed => frame.len().saturating_sub(self.recv.len()),
            _ => 0,
        }
    }

    /// The next message, control frame or Close from the peer; `Ok(None)` when more bytes are
    /// needed (or after the connection closed).
    ///
    /// A received Ping is answered with a Pong and a received Close with a Close before this
    /// returns (see [`Config::auto_pong`]). On a protocol violation the connection queues a Close
    /// frame with the error's [`close_code`](ProtocolError::close_code), stops decoding and returns
    /// the error once; later calls return `Ok(None)`.
    pub fn next_event(&mut self) -> Result<Option<Message>, ProtocolError> {
        if let Some(error) = self.timers.as_mut().and_then(|timers| timers.error.take()) {
            return Err(error);
        }
        if self.input_closed {
            self.recv.clear();
            return Ok(None);
        }
        match self.decode() {
            Ok(Some(message)) => Ok(Some(message)),
            Ok(None) if self.eof => {
                self.input_closed = true;
                self.recv.clear();
                self.state = State::Closed;
                Err(ProtocolError::UnexpectedEof)
            }
            Ok(None) => Ok(None),
            Err(error) => Err(self.fail(error)),
        }
    }

    fn decode(&mut self) -> Result<Option<Message>, ProtocolError> {
        loop {
            if self.frame.is_none() {
                let (header, header_len) = match FrameHeader::parse(&self.recv)? {
                    Parse::Complete(header, len) => (header, len),
                    Parse::Incomplete { .. } => return Ok(None),
                };
                let frame = self.accept_header(header)?;
                self.recv.advance(header_len);
                self.note_consumed(header_len);
                self.frame = Some(frame);
            }
            let Some(frame) = self.frame.as_mut() else {
                return Ok(None);
            };
            // Unmask (and validate) what has arrived of the payload, so a bad byte in a text
            // frame fails the connection when it arrives rather than when the frame ends.
            let available = self.recv.len().min(frame.len());
            if available > frame.processed {
                let fresh = &mut self.recv[frame.processed..available];
                if let Some(key) = frame.header.mask {
                    apply_mask(fresh, key, frame.processed);
                }
                if frame.is_text {
                    self.utf8
                        .feed(fresh)
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                }
                frame.processed = available;
            }
            if frame.processed < frame.len() {
                return Ok(None);
            }
            let header = frame.header;
            let len = frame.len();
            self.frame = None;
            let payload = self.recv.split_to(len);
            self.note_consumed(len);
            if let Some(message) = self.complete_frame(header, payload)? {
                return Ok(Some(message));
            }
        }
    }

    /// Checks a header against the role, extensions, limits and fragmentation state before any of
    /// its payload is buffered.
    fn accept_header(&mut self, header: FrameHeader) -> Result<IncomingFrame, ProtocolError> {
        // §5.2: "If a nonzero value is received and none of the negotiated extensions defines the
        // meaning of such a nonzero value, the receiving endpoint MUST _Fail the WebSocket
        // Connection_."
        // RFC 7692 §6: permessage-deflate gives RSV1 a meaning on the first frame of a data
        // message only.
        let compressed = header.rsv1
            && self.is_compressed()
            && matches!(header.opcode, OpCode::Text | OpCode::Binary);
        if (header.rsv1 && !compressed) || header.rsv2 || header.rsv3 {
            return Err(ProtocolError::ReservedBits);
        }
        // §5.1: a server MUST close on an unmasked frame; a client MUST close on a masked one.
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if header.payload_len > self.config.max_frame_size as u64 {
            return Err(ProtocolError::FrameTooLarge {
                size: header.payload_len,
                max: self.config.max_frame_size,
            });
        }
        let max_message = self.config.max_message_size as u64;
        let is_text = match (header.opcode, &mut self.assembly) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Continuation, Some(assembly)) => {
                let size = assembly.size + header.payload_len;
                if size > max_message {
                    return Err(ProtocolError::MessageTooLarge {
                        size,
                        max: self.config.max_message_size,
                    });
                }
                if assembly.fragments >= self.config.max_fragments {
                    return Err(ProtocolError::TooManyFragments {
                        max: self.config.max_fragments,
                    });
                }
                assembly.size = size;
                assembly.fragments += 1;
                // Compressed text is validated after inflating, not on the wire.
                assembly.kind == DataKind::Text && !assembly.compressed
            }
            // §5.4: fragments of one message are not interleaved with another message's.
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation);
            }
            (OpCode::Text | OpCode::Binary, None) => {
                if header.payload_len > max_message {
                    return Err(ProtocolError::MessageTooLarge {
                        size: header.payload_len,
                        max: self.config.max_message_size,
                    });
                }
                let kind = if header.opcode == OpCode::Text {
                    DataKind::Text
                } else {
                    DataKind::Binary
                };
                // A compressed message is always assembled: its frames are inflated into it.
                if !header.fin || compressed {
                    self.assembly = Some(Box::new(Assembly {
                        kind,
                        compressed,
                        data: BytesMut::new(),
                        size: header.payload_len,
                        fragments: 1,
                    }));
                }
                kind == DataKind::Text && !compressed
            }
            (OpCode::Close | OpCode::Ping | OpCode::Pong, _) => false,
        };
        Ok(IncomingFrame {
            header,
            processed: 0,
            is_text,
        })
    }

    /// Acts on a frame whose payload is complete, unmasked and (for text) validated so far.
    fn complete_frame(
        &mut self,
        header: FrameHeader,
        payload: BytesMut,
    ) -> Result<Option<Message>, ProtocolError> {
        match header.opcode {
            OpCode::Text | OpCode::Binary if header.fin && !header.rsv1 => {
                if header.opcode == OpCode::Text {
                    self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                    return Ok(Some(Message::Text(Utf8Bytes::from_validated(
                        payload.freeze(),
                    ))));
                }
                Ok(Some(Message::Binary(payload.freeze())))
            }
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                let Some(assembly) = self.assembly.as_mut() else {
                    return Ok(None);
                };
                if assembly.compressed {
                    #[cfg(feature = "deflate")]
                    if let Some(deflate) = self.deflate.as_mut() {
                        let before = assembly.data.len();
                        let max = self.config.max_message_size;
                        deflate.decompress(&payload, header.fin, &mut assembly.data, max)?;
                        if assembly.kind == DataKind::Text {
                            self.utf8
                                .feed(&assembly.data[before..])
                                .map_err(|_| ProtocolError::InvalidUtf8)?;
                        }
                    }
                } else if assembly.data.is_empty() {
                    // The first fragment's buffer becomes the message buffer: no copy.
                    assembly.data = payload;
                } else {
                    assembly.data.extend_from_slice(&payload);
                }
                if !header.fin {
                    return Ok(None);
                }
                let Some(Assembly { kind, data, .. }) =
                    self.assembly.take().map(|assembly| *assembly)
                else {
                    return Ok(None);
                };
                match kind {
                    DataKind::Text => {
                        self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                        Ok(Some(Message::Text(Utf8Bytes::from_validated(
                            data.freeze(),
                        ))))
                    }
                    DataKind::Binary => Ok(Some(Message::Binary(data.freeze()))),
                }
            }
            OpCode::Ping => {
                let payload = payload.freeze();
                // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
                // response, unless it already received a Close frame."
                if self.config.auto_pong && self.state == State::Open {
                    self.queue_frame(OpCode::Pong, true, &payload);
                }
                Ok(Some(Message::Ping(payload)))
            }
            OpCode::Pong => {
                if let (Some(timers), Some(now)) = (self.timers.as_mut(), self.now) {
                    if let Some((id, sent)) = timers.ping_in_flight {
                        if payload[..] == id.to_be_bytes() {
                            timers.last_rtt = Some(now.saturating_duration_since(sent));
                            timers.ping_in_flight = None;
                        }
                    }
                }
                Ok(Some(Message::Pong(payload.freeze())))
            }
            OpCode::Close => {
                let frame = CloseFrame::parse(&payload)?;
                self.input_closed = true;
                self.recv.clear();
                if self.state == State::Open {
                    // §5.5.1: "If an endpoint receives a Close frame and did not previously send a
                    // Close frame, the endpoint MUST send a Close frame in response."
                    let code = frame.as_ref().map_or(CloseCode::NORMAL, |f| f.code);
                    self.queue_close(Some(code), "");
                }
                self.state = State::Closed;
                Ok(Some(Message::Close(frame)))
            }
        }
    }

    /// Fails the connection (§7.1.7): queues a Close with the error's code unless one was sent,
    /// stops decoding, and hands the error back for the caller to return.
    fn fail(&mut self, error: ProtocolError) -> ProtocolError {
        if self.state == State::Open {
            self.queue_close(Some(error.close_code()), "");
        }
        self.state = State::Closed;
        self.input_closed = true;
        self.failed = true;
        self.recv.clear();
        self.frame = None;
        self.assembly = None;
        error
    }

    // ---------------------------------------------------------------- time

    /// Tells the connection the time, and fires the timers that are due.
    ///
    /// The connection never reads a clock: call this after every batch of received bytes (before
    /// draining [`next_event`](Self::next_event), so a pong's round-trip time is measured at its
    /// arrival) and whenever the deadline from [`poll_timeout`](Self::poll_timeout) passes. Timers
    /// are off until the first call, so a connection driven without time behaves exactly as if
    /// none were configured.
    ///
    /// What fires (all from [`Config`]):
    /// * keepalive: after `ping_interval` without a received frame, a Ping is sent; if no frame
    ///   arrives within `pong_timeout` of it, the connection fails with
    ///   [`ProtocolError::PongTimeout`] (Close 1011);
    /// * `idle_timeout`: no frame for that long fails with [`ProtocolError::IdleTimeout`] (Close
    ///   1001);
    /// * `close_timeout`: after our Close went out, or after the closing handshake while a client
    ///   waits for the server to end the transport, the connection gives up waiting with
    ///   [`ProtocolError::CloseTimeout`] and [`should_close_transport`](Self::should_close_transport)
    ///   turns true.
    ///
    /// Timer errors are returned by the next call to `next_event`.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use rfc6455::{Config, Connection, ProtocolError, Role};
    ///
    /// let config = Config::default().ping_interval(Some(Duration::from_secs(20)));
    /// let mut conn = Connection::new(Role::Server, config);
    /// let start = Instant::now();
    /// conn.handle_timeout(start);
    /// assert_eq!(conn.poll_timeout(), Some(start + Duration::from_secs(20)));
    /// conn.handle_timeout(start + Duration::from_secs(20));
    /// assert_eq!(conn.bytes_to_send()[0], 0x89); // a Ping went out
    /// // The peer stays silent past the pong timeout (20 s by default).
    /// conn.handle_timeout(start + Duration::from_secs(40));
    /// assert_eq!(conn.next_event(), Err(ProtocolError::PongTimeout));
    /// assert!(conn.should_close_transport());
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        if !self.timers_running() {
            return;
        }
        let awaits_close = self.awaits_close();
        let lingers = self.lingers();
        let received = self.recv.len();
        let timers = self.timers.get_or_insert_with(Box::default);
        let arrived = received > timers.seen_at_tick;
        timers.seen_at_tick = received;
        if timers.activity || arrived || timers.last_activity.is_none() {
            timers.last_activity = Some(now);
            timers.awaiting_since = None;
            timers.activity = false;
        }
        if awaits_close {
            let since = *timers.closing_since.get_or_insert(now);
            if now >= since + self.config.close_timeout {
                self.give_up_closing();
            }
            return;
        }
        if lingers {
            let since = *timers.linger_since.get_or_insert(now);
            if now >= since + self.config.close_linger {
                timers.linger_over = true;
            }
            return;
        }
        let last_activity = timers.last_activity.unwrap_or(now);
        if let Some(idle) = self.config.idle_timeout {
            if now >= last_activity + idle {
                self.fail_on_timer(ProtocolError::IdleTimeout);
                return;
            }
        }
        let Some(interval) = self.config.ping_interval else {
            return;
        };
        match timers.awaiting_since {
            Some(sent) if now >= sent + self.config.pong_timeout => {
                self.fail_on_timer(ProtocolError::PongTimeout);
            }
            Some(_) => {}
            None if now >= last_activity + interval => {
                timers.pings_sent += 1;
                let id = timers.pings_sent;
                timers.awaiting_since = Some(now);
                timers.ping_in_flight = Some((id, now));
                self.queue_frame(OpCode::Ping, true, &id.to_be_bytes());
            }
            None => {}
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) next needs to be called, if ever. A time in
    /// the past means "now".
    pub fn poll_timeout(&self) -> Option<Instant> {
        let now = self.now?;
        let timers = self.timers.as_deref();
        if self.awaits_close() {
            // A timer that has not started yet starts at the next call: ask for it at once.
            return Some(
                timers
                    .and_then(|timers| timers.closing_since)
                    .map_or(now, |since| since + self.config.close_timeout),
            );
        }
        if self.lingers() {
            return Some(
                timers
                    .and_then(|timers| timers.linger_since)
                    .map_or(now, |since| since + self.config.close_linger),
            );
        }
        if self.state != State::Open {
            return None;
        }
        let last_activity = timers
            .and_then(|timers| timers.last_activity)
            .unwrap_or(now);
        let awaiting_since = timers.and_then(|timers| timers.awaiting_since);
        let idle = self.config.idle_timeout.map(|idle| last_activity + idle);
        let keepalive = self
            .config
            .ping_interval
            .map(|interval| match awaiting_since {
                Some(sent) => sent + self.config.pong_timeout,
                None => last_activity + interval,
            });
        match (idle, keepalive) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Round-trip time of the last keepalive ping that the peer answered.
    pub fn last_rtt(&self) -> Option<Duration> {
        self.timers.as_ref().and_then(|timers| timers.last_rtt)
    }

    /// Bytes left the receive buffer: the timers, if they watch for activity, must see it.
    fn note_consumed(&mut self, n: usize) {
        if let Some(timers) = self.timers.as_mut() {
            timers.note_consumed(n);
        }
    }

    /// Whether a timer runs now, so that [`handle_timeout`](Self::handle_timeout) has work to
    /// do: keepalive or the idle timeout on an open connection, the close timer, or the linger.
    /// Otherwise a tick only records the time, and an adapter need not read the clock.
    pub(crate) fn timers_running(&self) -> bool {
        let watches_activity = self.state == State::Open
            && (self.config.ping_interval.is_some() || self.config.idle_timeout.is_some());
        watches_activity || self.awaits_close() || self.lingers()
    }

    /// Whether the close timer runs: our Close is out and the peer's has not come, or a client
    /// waits for the server to end the transport.
    fn awaits_close(&self) -> bool {
        match self.state {
            State::Closing => true,
            State::Closed => !self.should_close_transport(),
            State::Open => false,
        }
    }

    /// Whether the linger runs: the transport should close, but the peer may still end its side
    /// of the stream cleanly.
    fn lingers(&self) -> bool {
        self.should_close_transport()
            && !self.eof
            && !self.peer_unresponsive
            && !self
                .timers
                .as_ref()
                .is_some_and(|timers| timers.linger_over)
            && !self.config.close_linger.is_zero()
    }

    fn fail_on_timer(&mut self, error: ProtocolError) {
        self.peer_unresponsive = true;
        let error = self.fail(error);
        self.timers.get_or_insert_with(Box::default).error = Some(error);
    }

    /// The close timer expired: stop waiting for the peer.
    fn give_up_closing(&mut self) {
        self.peer_unresponsive = true;
        self.state = State::Closed;
        self.input_closed = true;
        self.failed = true;
        self.recv.clear();
        self.timers.get_or_insert_with(Box::default).error = Some(ProtocolError::CloseTimeout);
    }

    // ---------------------------------------------------------------- commands

    /// Queues a message (or control frame) to send.
    ///
    /// `Message::Close` starts the closing handshake like [`close`](Self::close). In the server
    /// role a text or binary payload of 16 KiB or more that is not compressed is queued by
    /// reference, not copied: it then forms its own run of output (see
    /// [`chunks_to_send`](Self::chunks_to_send)), and an echo of a large message reaches the
    /// socket without its payload being copied.
    pub fn send(&mut self, message: Message) -> Result<(), SendError> {
        match message {
            Message::Text(text) => {
                self.check_whole_message()?;
                self.queue_owned(OpCode::Text, text.into_bytes());
                Ok(())
            }
            Message::Binary(data) => {
                self.check_whole_message()?;
                self.queue_owned(OpCode::Binary, data);
                Ok(())
            }
            Message::Ping(data) => self.send_ping(&data),
            Message::Pong(data) => self.send_pong(&data),
            Message::Close(None) => {
                if self.state != State::Open {
                    return Err(SendError::Closed);
                }
                self.queue_close(None, "");
                self.state = State::Closing;
                Ok(())
            }
            Message::Close(Some(frame)) => self.close(frame.code, &frame.reason),
        }
    }

    /// Queues a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.check_whole_message()?;
        self.queue_data(OpCode::Text, true, text.as_bytes(), true);
        Ok(())
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.check_whole_message()?;
        self.queue_data(OpCode::Binary, true, data, true);
        Ok(())
    }

    /// Queues a message encoded once for many connections (see [`PreparedMessage`]).
    ///
    /// A server appends the prepared frame's bytes as they are; a client masks a copy of the
    /// payload. Prepared messages are never compressed.
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        self.check_whole_message()?;
        match self.role {
            Role::Server if message.frame().len() >= SHARE_THRESHOLD => {
                self.send.push_shared(message.shared_frame());
            }
            Role::Server => self.send.tail().extend_from_slice(message.frame()),
            Role::Client => self.queue_frame(message.opcode(), true, message.payload()),
        }
        Ok(())
    }

    /// Queues a text or binary message without compressing it, whatever its size (a
    /// per-message opt-out of permessage-deflate, e.g. for data that is already compressed).
    /// Other messages are sent like [`send`](Self::send).
    pub fn send_uncompressed(&mut self, message: Message) -> Result<(), SendError> {
        match &message {
            Message::Text(text) => {
                self.check_whole_message()?;
                self.queue_data(OpCode::Text, true, text.as_bytes(), false);
                Ok(())
            }
            Message::Binary(data) => {
                self.check_whole_message()?;
                self.queue_data(OpCode::Binary, true, data, false);
                Ok(())
            }
            _ => self.send(message),
        }
    }

    /// Queues one fragment of a text message; `is_final` ends the message. Each fragment must be
    /// valid UTF-8 on its own (split at character boundaries). Control frames may be sent between
    /// fragments.
    pub fn send_text_fragment(&mut self, text: &str, is_final: bool) -> Result<(), SendError> {
        self.send_fragment(DataKind::Text, text.as_bytes(), is_final)
    }

    /// Queues one fragment of a binary message; `is_final` ends the message.
    ///
    /// # Example
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// server.send_binary_fragment(b"Hel", false)?;
    /// server.send_binary_fragment(b"lo", true)?;
    /// assert_eq!(server.bytes_to_send(), b"\x02\x03Hel\x80\x02lo");
    /// # Ok::<(), rfc6455::SendError>(())
    /// ```
    pub fn send_binary_fragment(&mut self, data: &[u8], is_final: bool) -> Result<(), SendError> {
        self.send_fragment(DataKind::Binary, data, is_final)
    }

    fn send_fragment(
        &mut self,
        kind: DataKind,
        data: &[u8],
        is_final: bool,
    ) -> Result<(), SendError> {
        self.check_open()?;
        let (opcode, compress) = match self.sending {
            // Whether a streamed message is compressed is decided on its first fragment.
            None => match kind {
                DataKind::Text => (OpCode::Text, self.wants_compression(data.len())),
                DataKind::Binary => (OpCode::Binary, self.wants_compression(data.len())),
            },
            Some((current, compress)) if current == kind => (OpCode::Continuation, compress),
            Some(_) => return Err(SendError::FragmentTypeMismatch),
        };
        self.queue_data(opcode, is_final, data, compress);
        self.sending = if is_final {
            None
        } else {
            Some((kind, compress))
        };
        Ok(())
    }

    /// Queues a Ping with at most 125 bytes of payload.
    pub fn send_ping(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, data)
    }

    /// Queues an unsolicited Pong (a heartbeat the peer need not answer), at most 125 bytes.
    pub fn send_pong(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, data)
    }

    fn send_control(&mut self, opcode: OpCode, data: &[u8]) -> Result<(), SendError> {
        self.check_open()?;
        if data.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlPayloadTooLong(data.len()));
        }
        self.queue_frame(opcode, true, data);
        Ok(())
    }

    /// Starts the closing handshake (§7.1.2) with a code and a reason of at most 123 bytes.
    ///
    /// Messages keep arriving until the peer's Close; after it,
    /// [`should_close_transport`](Self::should_close_transport) turns true.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::Closed);
        }
        let frame = CloseFrame::new(code, reason)?;
        self.queue_close(Some(frame.code), &frame.reason);
        self.state = State::Closing;
        Ok(())
    }

    /// The state allows sending and the send buffer is below its high-water mark.
    fn check_open(&self) -> Result<(), SendError> {
        match self.state {
            State::Open => {}
            State::Closing | State::Closed => return Err(SendError::Closed),
        }
        if self.send.len() >= self.config.max_send_buffer {
            return Err(SendError::BufferFull {
                buffered: self.send.len(),
                limit: self.config.max_send_buffer,
            });
        }
        Ok(())
    }

    fn check_whole_message(&self) -> Result<(), SendError> {
        self.check_open()?;
        if self.sending.is_some() {
            return Err(SendError::FragmentedMessageInProgress);
        }
        Ok(())
    }

    fn queue_close(&mut self, code: Option<CloseCode>, reason: &str) {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            Some(code) => {
                let reason = &reason.as_bytes()[..reason.len().min(MAX_CONTROL_PAYLOAD - 2)];
                payload[..2].copy_from_slice(&code.0.to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason);
                2 + reason.len()
            }
            None => 0,
        };
        self.queue_frame(OpCode::Close, true, &payload[..len]);
    }

    /// Whether a message (or a streamed message's first fragment) of `len` bytes is compressed.
    fn wants_compression(&self, len: usize) -> bool {
        #[cfg(feature = "deflate")]
        return self
            .deflate
            .as_ref()
            .is_some_and(|deflate| len >= deflate.threshold);
        #[cfg(not(feature = "deflate"))]
        {
            let _ = len;
            false
        }
    }

    /// Queues a data frame, compressing it when permessage-deflate is on and `compress` allows
    /// (for a whole message, if it reaches the threshold; for a fragment, as decided on the first).
    fn queue_data(&mut self, opcode: OpCode, fin: bool, payload: &[u8], compress: bool) {
        let compress = match opcode {
            OpCode::Continuation => compress,
            _ if fin => compress && self.wants_compression(payload.len()),
            _ => compress,
        };
        #[cfg(feature = "deflate")]
        if compress {
            if let Some(mut deflate) = self.deflate.take() {
                let compressed = deflate.compress(payload, fin);
                // RFC 7692 §6.1: RSV1 marks the first frame of a compressed message only.
                self.queue_frame_with(opcode, fin, opcode != OpCode::Continuation, compressed);
                self.deflate = Some(deflate);
                return;
            }
        }
        let _ = compress;
        self.queue_frame(opcode, fin, payload);
    }

    /// Queues a whole message whose payload the caller handed over: a large one goes out by
    /// reference in the server role when it is not compressed (no mask, no copy).
    fn queue_owned(&mut self, opcode: OpCode, payload: Bytes) {
        if self.role == Role::Server
            && payload.len() >= SHARE_THRESHOLD
            && !self.wants_compression(payload.len())
        {
            // A server's header carries no mask: the payload goes out as it is.
            let header = FrameHeader::new(opcode, payload.len() as u64).encode();
            self.send.tail().extend_from_slice(&header);
            self.send.push_shared(payload);
        } else {
            self.queue_data(opcode, true, &payload, true);
        }
    }

    /// Encodes one frame into the send buffer, masking it in the client role.
    fn queue_frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) {
        self.queue_frame_with(opcode, fin, false, payload);
    }

    fn queue_frame_with(&mut self, opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) {
        let mask = self.masks.as_mut().map(|rng| rng.next_u32().to_ne_bytes());
        let mut header = FrameHeader::new(opcode, payload.len() as u64);
        header.fin = fin;
        header.rsv1 = rsv1;
        header.mask = mask;
        let encoded = header.encode();
        let out = self.send.tail();
        out.reserve(encoded.len() + payload.len());
        out.extend_from_slice(&encoded);
        let start = out.len();
        out.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut out[start..], key, 0);
        }
    }

    /// Queues bytes that are not a frame (the handshake response), ahead of everything else.
    pub(crate) fn queue_raw(&mut self, bytes: &[u8]) {
        self.send.tail().extend_from_slice(bytes);
    }

    // ---------------------------------------------------------------- output

    /// The next run of encoded bytes waiting to be written to the transport: all of them, unless
    /// a large payload was queued without copying (see [`send`](Self::send)); then write this,
    /// [`advance_sent`](Self::advance_sent), and ask again until it is empty, or write every run
    /// at once with [`chunks_to_send`](Self::chunks_to_send).
    #[must_use]
    pub fn bytes_to_send(&self) -> &[u8] {
        self.send.first()
    }

    /// Fills `slices` with the runs of pending output, in order, for a vectored write
    /// (`write_vectored`); returns how many it filled. Their total is
    /// [`buffered_output`](Self::buffered_output) when `slices` is long enough.
    ///
    /// # Example
    ///
    /// ```
    /// use std::io::IoSlice;
    /// use rfc6455::{Config, Connection, Message, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// server.send(Message::binary(vec![7u8; 100_000]))?; // queued without a copy
    /// server.send_text("done")?;
    /// let mut slices = [IoSlice::new(&[]); 4];
    /// let n = server.chunks_to_send(&mut slices);
    /// assert_eq!(n, 3); // header, payload, the text frame
    /// let total: usize = slices[..n].iter().map(|s| s.len()).sum();
    /// assert_eq!(total, server.buffered_output());
    /// server.advance_sent(total);
    /// assert!(server.bytes_to_send().is_empty());
    /// # Ok::<(), rfc6455::SendError>(())
    /// ```
    pub fn chunks_to_send<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        self.send.chunks(slices)
    }

    /// How many encoded bytes wait to be written, in all.
    #[must_use]
    pub fn buffered_output(&self) -> usize {
        self.send.len()
    }

    /// Marks the first `n` bytes of the pending output as written (they may span the runs of
    /// [`chunks_to_send`](Self::chunks_to_send)).
    pub fn advance_sent(&mut self, n: usize) {
        self.send.advance(n);
    }

    /// Takes all pending output at once (for transports that want owned buffers). Copies only
    /// when large payloads were queued without copying.
    pub fn take_bytes_to_send(&mut self) -> Bytes {
        self.send.take_all()
    }

    /// Whether the transport should be closed once [`bytes_to_send`](Self::bytes_to_send) has
    /// been written.
    ///
    /// True when the connection failed, the transport ended, or the closing handshake completed;
    /// in the last case a client waits for the server to close the TCP connection first (§7.1.1:
    /// "the server SHOULD close the underlying TCP connection first"), so for a client it turns
    /// true only at end of input.
    pub fn should_close_transport(&self) -> bool {
        self.state == State::Closed && (self.failed || self.eof || self.role == Role::Server)
    }

    /// Whether the transport may be released now: it should close
    /// ([`should_close_transport`](Self::should_close_transport)) and the peer ended its side of
    /// the stream, or a timer found it unresponsive, or [`Config::close_linger`] ran out.
    ///
    /// Between the two, shut down the transport's write side (TCP `shutdown(Write)`, which sends
    /// a FIN: a server closes first, as §7.1.1 asks) and keep reading: bytes that still arrive are
    /// discarded, and the peer's FIN ends the wait. Dropping a socket at once is also correct,
    /// but unread input makes the kernel answer with a reset, which can destroy the Close frame
    /// before the peer reads it. The linger runs on [`handle_timeout`](Self::handle_timeout);
    /// without a clock, only the end of the stream ends it.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use rfc6455::{CloseCode, Config, Connection, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// let start = Instant::now();
    /// server.handle_timeout(start);
    /// server.close(CloseCode::NORMAL, "bye")?;
    /// // The client's masked Close (code 1000, empty reason).
    /// server.receive(b"\x88\x82\x00\x00\x00\x00\x03\xe8");
    /// server.next_event()?;
    /// assert!(server.should_close_transport()); // shut down the write side...
    /// assert!(!server.is_terminated()); // ...and wait for the client's FIN
    /// assert_eq!(server.poll_timeout(), Some(start)); // the linger starts at the next tick
    /// server.handle_timeout(start);
    /// assert_eq!(server.poll_timeout(), Some(start + Duration::from_secs(2)));
    /// server.handle_timeout(start + Duration::from_secs(2));
    /// assert!(server.is_terminated()); // the default 2 s linger ran out
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn is_terminated(&self) -> bool {
        self.should_close_transport() && !self.lingers()
    }
}

#[cfg(test)]
mod memory {
    use super::*;

    /// What each idle connection costs inline; state for rarer work (timers with something to
    /// remember, a fragmented message, a client's mask generator) lives behind a pointer.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_connection_stays_small() {
        assert!(
            std::mem::size_of::<Connection>() <= 192,
            "Connection grew to {} bytes",
            std::mem::size_of::<Connection>()
        );
    }

    #[test]
    fn close_timers_alone_allocate_nothing_while_open() {
        let mut conn = Connection::new(Role::Server, Config::default());
        let start = Instant::now();
        conn.handle_timeout(start);
        conn.receive(b"\x82\x82\x00\x00\x00\x00hi");
        conn.handle_timeout(start + Duration::from_secs(1));
        assert!(matches!(conn.next_event(), Ok(Some(Message::Binary(_)))));
        assert!(conn.timers.is_none());
        assert_eq!(conn.poll_timeout(), None);

        // The closing handshake starts the close timer, which needs its start time.
        conn.close(CloseCode::NORMAL, "").unwrap();
        let closing = start + Duration::from_secs(2);
        assert_eq!(conn.poll_timeout(), Some(start + Duration::from_secs(1)));
        conn.handle_timeout(closing);
        assert_eq!(
            conn.poll_timeout(),
            Some(closing + conn.config().close_timeout)
        );
        assert!(conn.timers.is_some());
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
        conn.receive(b"\x01\x82\x00\x00\x00\x00hi");
        assert_eq!(conn.next_event(), Ok(None));
        assert!(conn.assembly.is_some());
        conn.receive(b"\x80\x81\x00\x00\x00\x00!");
        assert!(matches!(conn.next_event(), Ok(Some(Message::Text(_)))));
        assert!(conn.assembly.is_none());
    }
}
