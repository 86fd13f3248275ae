//! `connection_server` / `connection_client`: a [`Connection`] fed peer bytes in chunks,
//! interleaved with local sends, with every event and every output byte checked.
//!
//! # Input layout ([`ConnInput`])
//!
//! ```text
//! flags            1 byte   see the FLAG_* constants
//! max_message_size 2 bytes  LE, effective 1 + v % 4096
//! max_frame_size   2 bytes  LE, effective 1 + v % 4096
//! max_fragments    1 byte   effective 1 + v % 8 with FLAG_FEW_FRAGMENTS, else the default
//! timers           4 bytes  ping_interval (0: none), pong_timeout, idle_timeout (0: none),
//!                           close_timeout, each in units of 100 ms
//! max_send_buffer  2 bytes  LE, 0: the default (1 MiB)
//! clock            1 byte   bit 7: call handle_timeout after every chunk; bits 0-6: how far the
//!                           virtual clock advances per chunk, in 100 ms
//! chunk count      1 byte   1 + v % 8, then that many chunk sizes (1 + byte), used in turn
//! op count         1 byte   v % 9, then that many 3-byte ops [kind, at, arg] (see
//!                           `Harness::op`; kind 8 advances the clock and calls handle_timeout)
//! wire             rest     raw bytes, or with FLAG_STRUCTURED a list of frames the harness
//!                           encodes and masks itself (see `encode_structured`)
//! ```
//!
//! Op `at` is the chunk index before which the op runs (ops with `at` past the last chunk run
//! after all input).

use std::io::{self, IoSlice, Write};
use std::time::{Duration, Instant};

use rfc6455::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, OpCode, Parse};
use rfc6455::{
    CloseCode, CloseFrame, Config, Connection, ConnectionError, Message, ProtocolError, Role,
    SendError, State, Timeout, Transport,
};

use crate::Cursor;

/// Answer pings automatically (`Config::auto_pong`).
pub const FLAG_AUTO_PONG: u8 = 0x01;
/// Call `handle_eof` after the last chunk.
pub const FLAG_EOF: u8 = 0x02;
/// Append input through `input_buffer()` instead of `handle_input`.
pub const FLAG_READ_BUFFER: u8 = 0x04;
/// The wire is a list of frames for the harness to encode (and mask, for the server role).
pub const FLAG_STRUCTURED: u8 = 0x08;
/// Two bits: how output is "written". See `WriteMode`.
pub const FLAG_WRITE_SHIFT: u8 = 4;
/// Small `max_fragments`.
pub const FLAG_FEW_FRAGMENTS: u8 = 0x40;
/// Set `max_frame_size` before `max_message_size` (which then caps it); otherwise after, so the
/// frame limit may exceed the message limit.
pub const FLAG_FRAME_FIRST: u8 = 0x80;

/// Close codes an op can pick, valid and invalid for sending.
pub const OP_CLOSE_CODES: [u16; 12] = [
    1000, 1001, 1002, 1003, 1005, 1006, 1011, 1015, 3000, 4999, 999, 5000,
];

/// The fixed mask seed of the connection under test (client role).
const SEED: [u8; 32] = [0x5e; 32];

/// A decoded (or to-be-encoded) fuzz input for [`check`].
#[derive(Debug, Clone, Default)]
pub struct ConnInput {
    pub flags: u8,
    pub max_message_size: u16,
    pub max_frame_size: u16,
    pub max_fragments: u8,
    /// ping_interval, pong_timeout, idle_timeout, close_timeout in 100 ms (see the layout).
    pub timers: [u8; 4],
    pub max_send_buffer: u16,
    /// Bit 7: tick after every chunk; bits 0-6: clock step per chunk in 100 ms.
    pub clock: u8,
    /// Raw chunk sizes; the effective size is `1 + raw`.
    pub chunks: Vec<u8>,
    /// `[kind, at, arg]`.
    pub ops: Vec<[u8; 3]>,
    pub wire: Vec<u8>,
}

impl ConnInput {
    pub fn decode(data: &[u8]) -> Self {
        let mut input = Cursor::new(data);
        let flags = input.u8();
        let max_message_size = input.u16();
        let max_frame_size = input.u16();
        let max_fragments = input.u8();
        let timers = [input.u8(), input.u8(), input.u8(), input.u8()];
        let max_send_buffer = input.u16();
        let clock = input.u8();
        let chunk_count = 1 + usize::from(input.u8() % 8);
        let chunks = (0..chunk_count).map(|_| input.u8()).collect();
        let op_count = usize::from(input.u8() % 9);
        let ops = (0..op_count)
            .map(|_| [input.u8(), input.u8(), input.u8()])
            .collect();
        Self {
            flags,
            max_message_size,
            max_frame_size,
            max_fragments,
            timers,
            max_send_buffer,
            clock,
            chunks,
            ops,
            wire: input.rest().to_vec(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        assert!((1..=8).contains(&self.chunks.len()) && self.ops.len() <= 8);
        let mut out = vec![self.flags];
        out.extend_from_slice(&self.max_message_size.to_le_bytes());
        out.extend_from_slice(&self.max_frame_size.to_le_bytes());
        out.push(self.max_fragments);
        out.extend_from_slice(&self.timers);
        out.extend_from_slice(&self.max_send_buffer.to_le_bytes());
        out.push(self.clock);
        out.push(self.chunks.len() as u8 - 1);
        out.extend_from_slice(&self.chunks);
        out.push(self.ops.len() as u8);
        for op in &self.ops {
            out.extend_from_slice(op);
        }
        out.extend_from_slice(&self.wire);
        out
    }

    fn config(&self) -> Config {
        let message = 1 + usize::from(self.max_message_size % 4096);
        let frame = 1 + usize::from(self.max_frame_size % 4096);
        let mut config = if self.flags & FLAG_FRAME_FIRST != 0 {
            Config::default()
                .max_frame_size(frame)
                .max_message_size(message)
        } else {
            Config::default()
                .max_message_size(message)
                .max_frame_size(frame)
        };
        if self.flags & FLAG_FEW_FRAGMENTS != 0 {
            config = config.max_fragments(1 + usize::from(self.max_fragments % 8));
        }
        let [ping, pong, idle, close] = self.timers;
        config = config
            .ping_interval((ping != 0).then(|| tenths(ping)))
            .pong_timeout(tenths(pong))
            .idle_timeout((idle != 0).then(|| tenths(idle)))
            .close_timeout(tenths(close));
        if self.max_send_buffer != 0 {
            config = config.max_send_buffer(usize::from(self.max_send_buffer));
        }
        config.auto_pong(self.flags & FLAG_AUTO_PONG != 0)
    }
}

fn tenths(v: u8) -> Duration {
    Duration::from_millis(100 * u64::from(v))
}

/// One frame of a structured wire: the raw first byte (FIN, RSV, any opcode), whether to get the
/// masking wrong for the role, and the payload (in the clear).
#[derive(Debug, Clone)]
pub struct StructuredFrame {
    pub first: u8,
    pub wrong_mask: bool,
    /// Declared length; the payload may be shorter (a frame cut off by the end of input).
    pub declared_len: u16,
    pub payload: Vec<u8>,
}

impl StructuredFrame {
    /// A whole frame.
    pub fn new(first: u8, payload: &[u8]) -> Self {
        Self {
            first,
            wrong_mask: false,
            declared_len: payload.len() as u16,
            payload: payload.to_vec(),
        }
    }
}

/// Encodes frames into the structured wire layout: per frame, the first byte, then a byte whose
/// bit 7 asks for the wrong masking and whose low 7 bits are the length (127: a u16 LE length
/// follows), then the payload.
pub fn encode_structured(frames: &[StructuredFrame]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        out.push(frame.first);
        let wrong = if frame.wrong_mask { 0x80 } else { 0 };
        if frame.declared_len < 127 {
            out.push(wrong | frame.declared_len as u8);
        } else {
            out.push(wrong | 127);
            out.extend_from_slice(&frame.declared_len.to_le_bytes());
        }
        out.extend_from_slice(&frame.payload);
    }
    out
}

/// Turns a structured wire into real frame bytes as the peer of `role` would send them.
fn build_structured(wire: &[u8], role: Role) -> Vec<u8> {
    let mut input = Cursor::new(wire);
    let mut out = Vec::new();
    let mut index = 0u8;
    while !input.is_empty() {
        let first = input.u8();
        let second = input.u8();
        let declared = match second & 0x7f {
            127 => input.u16(),
            short => u16::from(short),
        };
        let payload = input.take(usize::from(declared));
        // The peer of a server is a client, which masks.
        let masked = (role == Role::Server) != (second & 0x80 != 0);
        let key = [index, 0x5a, index.wrapping_mul(7), 0xa5];
        index = index.wrapping_add(1);
        out.push(first);
        let mask_bit = if masked { 0x80 } else { 0 };
        if declared < 126 {
            out.push(mask_bit | declared as u8);
        } else {
            out.push(mask_bit | 126);
            out.extend_from_slice(&declared.to_be_bytes());
        }
        if masked {
            out.extend_from_slice(&key);
        }
        out.extend(
            payload
                .iter()
                .enumerate()
                .map(|(i, b)| if masked { b ^ key[i % 4] } else { *b }),
        );
    }
    out
}

/// One frame of the connection's output, unmasked.
#[derive(Debug)]
struct OutFrame {
    header: FrameHeader,
    payload: Vec<u8>,
}

/// Parses output bytes that must be whole frames, masked iff a client sent them. Unmasks with a
/// byte loop, independently of `apply_mask`.
fn parse_output(mut bytes: &[u8], role: Role) -> Vec<OutFrame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (header, len) = match FrameHeader::parse(bytes) {
            Ok(Parse::Complete(header, len)) => (header, len),
            other => panic!("output is not a sequence of frames: {other:?} at {bytes:x?}"),
        };
        assert_eq!(
            header.mask.is_some(),
            role == Role::Client,
            "{role:?} output masking wrong: {header:?}"
        );
        assert!(!header.rsv1 && !header.rsv2 && !header.rsv3);
        let payload_len = usize::try_from(header.payload_len).unwrap();
        assert!(
            bytes.len() >= len + payload_len,
            "output frame cut short: {header:?}"
        );
        let mut payload = bytes[len..len + payload_len].to_vec();
        if let Some(key) = header.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        frames.push(OutFrame { header, payload });
        bytes = &bytes[len + payload_len..];
    }
    frames
}

/// Asserts that `bytes` is exactly one frame and returns it.
fn single_frame(bytes: &[u8], role: Role, what: &str) -> OutFrame {
    let mut frames = parse_output(bytes, role);
    assert_eq!(
        frames.len(),
        1,
        "{what}: expected one frame, got {frames:?}"
    );
    frames.pop().unwrap()
}

/// Reads all pending output through `transmit_chunks`, which consumes nothing, and checks that
/// the runs it hands out are the whole of `pending_transmit()`.
fn pending_output(conn: &Connection) -> Vec<u8> {
    let mut slices = [IoSlice::new(&[]); 16];
    let filled = conn.transmit_chunks(&mut slices);
    assert!(
        slices[..filled].iter().all(|run| !run.is_empty()),
        "transmit_chunks handed out an empty run"
    );
    let bytes: Vec<u8> = slices[..filled]
        .iter()
        .flat_map(|run| run.iter().copied())
        .collect();
    assert_eq!(
        bytes.len(),
        conn.pending_transmit(),
        "transmit_chunks and pending_transmit disagree"
    );
    bytes
}

/// A non-blocking transport that takes `budget` bytes in all, then answers `WouldBlock`.
struct Trickle {
    budget: usize,
    written: Vec<u8>,
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if self.budget == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let mut n = 0;
        for buf in bufs {
            let take = buf.len().min(self.budget);
            self.written.extend_from_slice(&buf[..take]);
            self.budget -= take;
            n += take;
            if self.budget == 0 {
                break;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How output is taken from the connection after each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriteMode {
    /// `poll_transmit` into a `Vec`.
    All,
    /// `take_transmit()`.
    Take,
    /// A slow writer that takes the current chunk size: `advance_transmit(n)` for odd sizes,
    /// `write_transmit` into a transport that then blocks for even ones.
    Partial,
    /// Never write: everything stays queued.
    Never,
}

/// What a send op should produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Binary,
}

/// The lifecycle the crate documents (`Transport`, `Connection::handle_timeout`), followed from
/// what the harness did and saw: `transport()` must agree with it after every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    /// Our Close went out; the close timer runs from the first tick after it.
    Closing {
        since: Option<Instant>,
    },
    /// A client after the closing handshake, waiting for the server to end the transport, at
    /// most the close timeout from the first tick.
    AwaitingEof {
        since: Option<Instant>,
    },
    /// The write side is to be shut down; the linger runs from the first tick.
    Lingering {
        since: Option<Instant>,
    },
    Closed,
}

impl Phase {
    fn state(self) -> State {
        match self {
            Phase::Open => State::Open,
            Phase::Closing { .. } => State::Closing,
            Phase::AwaitingEof { .. } | Phase::Lingering { .. } | Phase::Closed => State::Closed,
        }
    }
}

/// The payload of the Close frame a timer sends when it gives up on the peer.
fn timer_close(timeout: Timeout) -> Vec<u8> {
    let (code, reason) = match timeout {
        Timeout::Keepalive => (CloseCode::INTERNAL_ERROR, "keepalive timeout"),
        Timeout::Idle => (CloseCode::GOING_AWAY, "idle timeout"),
        other => panic!("{other:?} sends no Close"),
    };
    assert_eq!(ConnectionError::Timeout(timeout).close_code(), code);
    let mut payload = code.0.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    payload
}

struct Harness {
    conn: Connection,
    role: Role,
    config: Config,
    write: WriteMode,
    read_buffer: bool,
    /// Everything the connection emitted, in order.
    out: Vec<u8>,
    /// A copy of the pending output as last seen.
    pending: Vec<u8>,
    /// Bytes fed so far.
    fed: usize,
    errors: usize,
    eof: bool,
    close_received: bool,
    /// Where the connection should be in its life.
    phase: Phase,
    /// The fragmented message we are sending, if any.
    sending: Option<Kind>,
    /// The virtual clock: when the run started, and now.
    start: Instant,
    now: Instant,
    /// Whether `handle_timeout` was called yet (timers are off until then).
    ticked: bool,
    /// The timeout a timer queued for the next `poll_recv`, if any.
    timer_error: Option<Timeout>,
    /// Every event and the error, for the comparison with the reference model.
    events: Vec<Message>,
    error: Option<ConnectionError>,
}

impl Harness {
    fn new(role: Role, config: Config, flags: u8) -> Self {
        let write = match (flags >> FLAG_WRITE_SHIFT) & 3 {
            0 => WriteMode::All,
            1 => WriteMode::Take,
            2 => WriteMode::Partial,
            _ => WriteMode::Never,
        };
        let conn = Connection::with_mask_seed(role, config.clone(), SEED);
        let start = Instant::now();
        assert_eq!(conn.role(), role);
        assert_eq!(conn.config(), &config);
        assert_eq!(conn.state(), State::Open);
        assert_eq!(conn.transport(), Transport::Read);
        assert_eq!(conn.poll_timeout(), None, "a deadline before any tick");
        Self {
            conn,
            role,
            config,
            write,
            read_buffer: flags & FLAG_READ_BUFFER != 0,
            out: Vec::new(),
            pending: Vec::new(),
            fed: 0,
            errors: 0,
            eof: false,
            close_received: false,
            phase: Phase::Open,
            sending: None,
            start,
            now: start,
            ticked: false,
            timer_error: None,
            events: Vec::new(),
            error: None,
        }
    }

    fn state(&self) -> State {
        self.phase.state()
    }

    /// The phase after the closing handshake in the server role, or after a failure: linger
    /// for the peer's end of the stream unless it already came or lingering is off.
    fn end_transport(&self) -> Phase {
        if self.eof || self.config.close_linger.is_zero() {
            Phase::Closed
        } else {
            Phase::Lingering { since: None }
        }
    }

    /// `transport()` is what the documented lifecycle says: release once closed, shut down the
    /// write side while lingering, otherwise keep reading unless the send buffer is at its
    /// high-water mark.
    fn check_transport(&self) {
        let expected = match self.phase {
            Phase::Closed => Transport::Release,
            Phase::Lingering { .. } => Transport::ShutdownWrite,
            _ if self.pending.len() >= self.config.max_send_buffer => Transport::PauseReading,
            _ => Transport::Read,
        };
        assert_eq!(
            self.conn.transport(),
            expected,
            "in {:?} with {} bytes queued (high-water mark {})",
            self.phase,
            self.pending.len(),
            self.config.max_send_buffer
        );
        assert_eq!(self.conn.state(), self.state());
    }

    /// Returns what the last call appended to the output, after checking nothing already queued
    /// was changed.
    fn new_output(&mut self) -> Vec<u8> {
        let now = pending_output(&self.conn);
        assert!(
            now.starts_with(&self.pending),
            "queued output was modified: {:x?} -> {now:x?}",
            self.pending
        );
        let fresh = now[self.pending.len()..].to_vec();
        self.out.extend_from_slice(&fresh);
        self.pending = now;
        fresh
    }

    /// "Writes" output according to the write mode.
    fn write_output(&mut self, chunk: usize) {
        match self.write {
            WriteMode::All => {
                let mut out = b"kept".to_vec();
                let n = self.conn.poll_transmit(&mut out);
                assert_eq!(n, self.pending.len(), "poll_transmit's count");
                assert_eq!(&out[..4], b"kept", "poll_transmit appends");
                assert_eq!(&out[4..], &self.pending[..]);
                self.pending.clear();
            }
            WriteMode::Take => {
                let taken = self.conn.take_transmit();
                assert_eq!(&taken[..], &self.pending[..]);
                self.pending.clear();
            }
            WriteMode::Partial if chunk % 2 == 1 => {
                // Also more than is queued: advance_transmit clamps.
                self.conn.advance_transmit(chunk);
                self.pending.drain(..chunk.min(self.pending.len()));
            }
            WriteMode::Partial => {
                let mut transport = Trickle {
                    budget: chunk,
                    written: Vec::new(),
                };
                let result = self.conn.write_transmit(&mut transport);
                let taken = transport.written.len();
                assert_eq!(taken, chunk.min(self.pending.len()));
                assert_eq!(transport.written[..], self.pending[..taken]);
                match result {
                    Ok(()) => assert_eq!(taken, self.pending.len(), "Ok with output left"),
                    Err(error) => {
                        assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
                        assert!(taken < self.pending.len(), "WouldBlock with nothing left");
                    }
                }
                self.pending.drain(..taken);
            }
            WriteMode::Never => {}
        }
        assert_eq!(pending_output(&self.conn), self.pending);
        self.check_transport();
    }

    fn feed(&mut self, chunk: &[u8]) {
        if self.read_buffer {
            self.conn.input_buffer().extend_from_slice(chunk);
        } else {
            self.conn.handle_input(chunk);
        }
        self.fed += chunk.len();
        crate::trace!("receive {chunk:x?}");
        // Bounded even before the drain: what the last drain left plus this chunk.
        let bound = self.buffer_bound() + chunk.len();
        let buffered = self.conn.input_buffer().len();
        assert!(
            buffered <= bound,
            "buffered {buffered} > {bound} after a {}-byte chunk",
            chunk.len()
        );
    }

    /// After a drain the receive buffer holds at most a partial header or a partial payload of an
    /// accepted frame: fewer than max(max_frame_size, 14) bytes.
    fn buffer_bound(&self) -> usize {
        self.config.max_frame_size.max(MAX_HEADER_LEN)
    }

    /// Calls `poll_recv` until it returns `Ok(None)` or an error, checking each result.
    fn drain(&mut self) {
        let mut calls = 0;
        loop {
            calls += 1;
            // Each message consumes at least 2 bytes; an endless stream of events is a bug.
            assert!(calls <= self.fed + 3, "poll_recv keeps returning events");
            let state_before = self.conn.state();
            assert_eq!(state_before, self.state());
            let pending_input = self.conn.has_pending_input();
            let buffered_before = self.conn.input_buffer().len();
            let result = self.conn.poll_recv();
            let fresh = self.new_output();
            crate::trace!("poll_recv -> {result:?}, output {fresh:x?}");
            if pending_input {
                let progressed = !matches!(result, Ok(None))
                    || self.conn.input_buffer().len() < buffered_before;
                assert!(
                    progressed,
                    "has_pending_input() but poll_recv made no progress"
                );
            } else {
                assert!(
                    !matches!(result, Ok(Some(_))),
                    "a message from input has_pending_input() called incomplete: {result:?}"
                );
            }
            match result {
                Ok(None) => {
                    assert!(fresh.is_empty(), "Ok(None) queued output {fresh:x?}");
                    break;
                }
                Ok(Some(message)) => self.check_message(message, state_before, &fresh),
                Err(error) => {
                    self.check_error(&error, state_before, &fresh);
                    break;
                }
            }
        }
        let buffered = self.conn.input_buffer().len();
        assert!(
            buffered < self.buffer_bound(),
            "{buffered} bytes buffered after a drain (max_frame_size {})",
            self.config.max_frame_size
        );
        assert!(
            self.timer_error.is_none(),
            "a timer's error was not reported by the drain"
        );
        // Once failed or closed, the connection stays quiet (but a client that completed the
        // closing handshake may still see its close timer fire).
        if self.errors > 0 || (self.close_received && self.role == Role::Server) {
            assert_eq!(self.conn.poll_recv(), Ok(None));
            assert!(self.new_output().is_empty());
        }
        if !matches!(self.phase, Phase::Open | Phase::Closing { .. }) {
            // Input after the peer's Close or a failure is dropped by the next call that
            // decodes, also when it was appended to `input_buffer()` directly: a driver that
            // reads while lingering must not accumulate it.
            assert_eq!(self.conn.input_buffer().len(), 0, "in {:?}", self.phase);
            assert!(!self.conn.has_pending_input());
            assert_eq!(self.conn.frame_bytes_missing(), 0);
        }
    }

    fn check_message(&mut self, message: Message, state_before: State, fresh: &[u8]) {
        assert!(
            !self.close_received && self.errors == 0,
            "event {message:?} after the connection closed"
        );
        assert!(
            self.timer_error.is_none(),
            "event {message:?} before the pending timer error"
        );
        self.events.push(message.clone());
        let max_message = self.config.max_message_size;
        match &message {
            Message::Text(text) => {
                assert!(std::str::from_utf8(text.as_bytes()).is_ok());
                assert!(
                    text.as_bytes().len() <= max_message,
                    "text of {}",
                    message.len()
                );
                assert!(fresh.is_empty());
            }
            Message::Binary(data) => {
                assert!(data.len() <= max_message, "binary of {}", data.len());
                assert!(fresh.is_empty());
            }
            Message::Pong(data) => {
                assert!(data.len() <= MAX_CONTROL_PAYLOAD);
                assert!(fresh.is_empty());
                if let Some(rtt) = self.conn.last_rtt() {
                    assert!(
                        rtt <= self.now - self.start,
                        "rtt {rtt:?} longer than the run"
                    );
                }
            }
            Message::Ping(data) => {
                assert!(data.len() <= MAX_CONTROL_PAYLOAD);
                if self.config.auto_pong && state_before == State::Open {
                    // §5.5.3: "A Pong frame sent in response to a Ping frame must have identical
                    // "Application data" as found in the message body of the Ping frame".
                    let pong = single_frame(fresh, self.role, "auto-pong");
                    assert_eq!(pong.header.opcode, OpCode::Pong);
                    assert!(pong.header.fin);
                    assert_eq!(&pong.payload[..], &data[..]);
                } else {
                    assert!(fresh.is_empty(), "pong sent while {state_before:?}");
                }
            }
            Message::Close(frame) => {
                if let Some(frame) = frame {
                    assert!(frame.code.is_sendable(), "received {:?}", frame.code);
                    assert!(frame.reason.len() <= MAX_CONTROL_PAYLOAD - 2);
                }
                if state_before == State::Open {
                    // §5.5.1: the endpoint "MUST send a Close frame in response", typically
                    // echoing the status code it received.
                    let echo = single_frame(fresh, self.role, "close echo");
                    assert_eq!(echo.header.opcode, OpCode::Close);
                    match frame {
                        Some(frame) => assert_eq!(echo.payload, frame.code.0.to_be_bytes()),
                        None => assert!(
                            echo.payload.is_empty() || echo.payload == 1000u16.to_be_bytes(),
                            "echo of an empty close: {:x?}",
                            echo.payload
                        ),
                    }
                } else {
                    assert!(fresh.is_empty(), "second close sent");
                }
                self.close_received = true;
                // §7.1.1: the server closes the TCP connection first; the client waits for it.
                self.phase = match self.role {
                    Role::Server => self.end_transport(),
                    Role::Client if self.eof => Phase::Closed,
                    Role::Client => Phase::AwaitingEof { since: None },
                };
            }
        }
        self.check_transport();
    }

    fn check_error(&mut self, error: &ConnectionError, state_before: State, fresh: &[u8]) {
        self.errors += 1;
        assert_eq!(self.errors, 1, "a second error: {error:?}");
        self.error = Some(error.clone());
        // After a clean closing handshake only the close timer can still report (a client
        // waiting for the server to end the transport).
        assert!(
            !self.close_received || *error == ConnectionError::Timeout(Timeout::Close),
            "error {error:?} after the peer's close"
        );
        let code = error.close_code();
        if let Some(expected) = self.timer_error.take() {
            // A timer fired: its Close (if any) went out from handle_timeout already.
            assert_eq!(
                *error,
                ConnectionError::Timeout(expected),
                "the timer's error"
            );
            assert!(fresh.is_empty(), "{error:?} queued output in poll_recv");
            assert_eq!(state_before, State::Closed);
            assert_eq!(self.phase, Phase::Closed);
        } else {
            match error {
                ConnectionError::TransportEnded => {
                    assert!(self.eof, "TransportEnded without handle_eof");
                    assert_eq!(code, CloseCode::ABNORMAL_CLOSURE);
                    assert!(fresh.is_empty(), "a frame sent at end of input: {fresh:x?}");
                    self.phase = Phase::Closed;
                }
                ConnectionError::Protocol(protocol) => {
                    assert!(code.is_sendable(), "{error:?} maps to unsendable {code:?}");
                    assert!(
                        [1002, 1007, 1009].contains(&code.0),
                        "{error:?} maps to {code:?}"
                    );
                    assert_eq!(code, protocol.close_code());
                    if state_before == State::Open {
                        // §7.1.7: fail the connection with a Close frame carrying the code, and
                        // no internal details in the reason.
                        let close = single_frame(fresh, self.role, "failing close");
                        assert_eq!(close.header.opcode, OpCode::Close);
                        assert_eq!(close.payload, code.0.to_be_bytes(), "for {error:?}");
                    } else {
                        assert!(fresh.is_empty(), "second close sent on {error:?}");
                    }
                    self.check_error_kind(protocol);
                    self.phase = self.end_transport();
                }
                other => panic!("{other:?} without a timer firing"),
            }
        }
        assert_eq!(self.conn.state(), State::Closed);
        assert!(matches!(
            self.conn.transport(),
            Transport::ShutdownWrite | Transport::Release
        ));
        self.check_transport();
    }

    /// Limits errors agree with the configured limits.
    fn check_error_kind(&self, error: &ProtocolError) {
        match *error {
            ProtocolError::FrameTooLarge { size, max } => {
                assert_eq!(max, self.config.max_frame_size);
                assert!(size > max as u64);
            }
            ProtocolError::MessageTooLarge { size, max } => {
                assert_eq!(max, self.config.max_message_size);
                assert!(size > max as u64);
            }
            ProtocolError::TooManyFragments { max } => {
                assert_eq!(max, self.config.max_fragments);
            }
            ProtocolError::MaskedFrame => assert_eq!(self.role, Role::Client),
            ProtocolError::UnmaskedFrame => assert_eq!(self.role, Role::Server),
            ProtocolError::ControlFrameTooLong(len) => assert!(len > MAX_CONTROL_PAYLOAD as u64),
            ProtocolError::InvalidCloseCode(code) => assert!(!CloseCode(code).is_sendable()),
            _ => {}
        }
    }

    /// What `check_open` should answer: only the state decides, never the send buffer's size
    /// (reading pauses instead, see `check_transport`).
    fn expect_open(&self) -> Result<(), SendError> {
        if self.state() != State::Open {
            Err(SendError::Closed)
        } else {
            Ok(())
        }
    }

    /// Runs one op and checks its result and output.
    ///
    /// Kinds (`kind % 10`): 0 send_text, 1 send_binary, 2 send_ping, 3 send_pong, 4 close with a
    /// code from `OP_CLOSE_CODES`, 5 send_text_fragment, 6 send_binary_fragment,
    /// 7 send(Close(None)), 8 advance the clock by `arg` × 100 ms and handle_timeout,
    /// 9 send_uncompressed.
    fn op(&mut self, [kind, _, arg]: [u8; 3]) {
        crate::trace!(
            "op kind {} arg {arg} (queued {})",
            kind % 10,
            self.pending.len()
        );
        let state_before = self.conn.state();
        assert_eq!(state_before, self.state());
        match kind % 10 {
            0 => {
                let text = op_text(arg);
                let expected = self.expect_whole();
                let result = self.conn.send_text(&text);
                self.check_whole(expected, result, OpCode::Text, text.as_bytes());
            }
            1 => {
                let data = op_binary(usize::from(arg) * 3);
                let expected = self.expect_whole();
                let result = self.conn.send_binary(&data);
                self.check_whole(expected, result, OpCode::Binary, &data);
            }
            op @ (2 | 3) => {
                let data = op_binary(usize::from(arg));
                let expected = self.expect_open().and(if data.len() > MAX_CONTROL_PAYLOAD {
                    Err(SendError::ControlPayloadTooLong(data.len()))
                } else {
                    Ok(())
                });
                let (result, opcode) = if op == 2 {
                    (self.conn.send_ping(&data), OpCode::Ping)
                } else {
                    (self.conn.send_pong(&data), OpCode::Pong)
                };
                let fresh = self.new_output();
                assert_eq!(result, expected);
                if result.is_ok() {
                    let frame = single_frame(&fresh, self.role, "control");
                    assert_eq!((frame.header.opcode, frame.header.fin), (opcode, true));
                    assert_eq!(frame.payload, data);
                } else {
                    assert!(fresh.is_empty());
                }
            }
            4 => {
                let code = CloseCode(OP_CLOSE_CODES[usize::from(arg) % OP_CLOSE_CODES.len()]);
                let reason = "r".repeat(usize::from(arg / 12) * 6);
                let expected = if self.state() != State::Open {
                    Err(SendError::Closed)
                } else if !code.is_sendable() {
                    Err(SendError::InvalidCloseCode(code))
                } else if reason.len() > 123 {
                    Err(SendError::CloseReasonTooLong(reason.len()))
                } else {
                    Ok(())
                };
                let result = self.conn.close(code, &reason);
                let fresh = self.new_output();
                assert_eq!(result, expected);
                if result.is_ok() {
                    let frame = single_frame(&fresh, self.role, "close");
                    assert_eq!(frame.header.opcode, OpCode::Close);
                    let mut payload = Vec::new();
                    CloseFrame::new(code, reason).unwrap().encode(&mut payload);
                    assert_eq!(frame.payload, payload);
                    self.phase = Phase::Closing { since: None };
                } else {
                    assert!(fresh.is_empty());
                }
            }
            op @ (5 | 6) => {
                let is_final = arg & 1 != 0;
                let kind = if op == 5 { Kind::Text } else { Kind::Binary };
                let expected = self.expect_open().and(match self.sending {
                    Some(current) if current != kind => Err(SendError::FragmentTypeMismatch),
                    _ => Ok(()),
                });
                let (result, payload) = if op == 5 {
                    let text = op_text(arg >> 1);
                    let result = self.conn.send_text_fragment(&text, is_final);
                    (result, text.into_bytes())
                } else {
                    let data = op_binary(usize::from(arg >> 1));
                    let result = self.conn.send_binary_fragment(&data, is_final);
                    (result, data)
                };
                let fresh = self.new_output();
                assert_eq!(result, expected);
                if result.is_ok() {
                    let opcode = match (self.sending, kind) {
                        (Some(_), _) => OpCode::Continuation,
                        (None, Kind::Text) => OpCode::Text,
                        (None, Kind::Binary) => OpCode::Binary,
                    };
                    let frame = single_frame(&fresh, self.role, "fragment");
                    assert_eq!((frame.header.opcode, frame.header.fin), (opcode, is_final));
                    assert_eq!(frame.payload, payload);
                    self.sending = if is_final { None } else { Some(kind) };
                } else {
                    assert!(fresh.is_empty());
                }
            }
            7 => {
                let open = self.state() == State::Open;
                let result = self.conn.send(Message::Close(None));
                let fresh = self.new_output();
                if open {
                    assert_eq!(result, Ok(()));
                    let frame = single_frame(&fresh, self.role, "empty close");
                    assert_eq!(frame.header.opcode, OpCode::Close);
                    assert!(frame.payload.is_empty());
                    self.phase = Phase::Closing { since: None };
                } else {
                    assert_eq!(result, Err(SendError::Closed));
                    assert!(fresh.is_empty());
                }
            }
            8 => {
                self.tick(tenths(arg));
                // The application drains events after the clock, as after input.
                self.drain();
            }
            _ => {
                // Without permessage-deflate, exactly like send_text / send_binary.
                let expected = self.expect_whole();
                if arg & 1 == 0 {
                    let data = op_binary(usize::from(arg));
                    let result = self.conn.send_uncompressed(Message::binary(data.clone()));
                    self.check_whole(expected, result, OpCode::Binary, &data);
                } else {
                    let text = op_text(arg >> 1);
                    let result = self.conn.send_uncompressed(Message::text(text.clone()));
                    self.check_whole(expected, result, OpCode::Text, text.as_bytes());
                }
            }
        }
        self.check_transport();
    }

    /// What sending a whole message should answer.
    fn expect_whole(&self) -> Result<(), SendError> {
        self.expect_open().and(if self.sending.is_some() {
            Err(SendError::FragmentedMessageInProgress)
        } else {
            Ok(())
        })
    }

    fn check_whole(
        &mut self,
        expected: Result<(), SendError>,
        result: Result<(), SendError>,
        opcode: OpCode,
        payload: &[u8],
    ) {
        let fresh = self.new_output();
        assert_eq!(result, expected);
        if result.is_ok() {
            let frame = single_frame(&fresh, self.role, "message");
            assert_eq!((frame.header.opcode, frame.header.fin), (opcode, true));
            assert_eq!(frame.payload, payload);
        } else {
            assert!(fresh.is_empty());
        }
    }

    /// Advances the virtual clock by `step`, calls `handle_timeout`, and checks what fired.
    ///
    /// While open, a timer may queue keepalive Pings or give up on the peer: Keepalive (Close
    /// 1011 "keepalive timeout") or Idle (Close 1001 "idle timeout"). The close timer gives up,
    /// sending nothing, exactly `close_timeout` after the first tick that saw our Close (or, for
    /// a client, the end of the closing handshake); the linger ends exactly `close_linger` after
    /// the first tick that saw it start. The timeout itself comes from the next `poll_recv`.
    fn tick(&mut self, step: Duration) {
        self.now += step;
        self.ticked = true;
        let mut rounds = 0;
        loop {
            rounds += 1;
            let phase_before = self.phase;
            let state_before = phase_before.state();
            assert_eq!(self.conn.state(), state_before);
            let quiet_before = self.errors > 0 || self.timer_error.is_some();
            self.conn.handle_timeout(self.now);
            let fresh = self.new_output();
            crate::trace!(
                "handle_timeout(+{:?}) -> {:?} {:?}, output {fresh:x?}, poll_timeout {:?}",
                self.now - self.start,
                self.conn.state(),
                self.conn.transport(),
                self.conn
                    .poll_timeout()
                    .map(|t| t.saturating_duration_since(self.start))
            );
            let frames = parse_output(&fresh, self.role);
            let mut closes = Vec::new();
            for frame in frames {
                match frame.header.opcode {
                    OpCode::Ping => {
                        assert_eq!(
                            state_before,
                            State::Open,
                            "keepalive while {state_before:?}"
                        );
                        assert!(
                            self.config.ping_interval.is_some(),
                            "ping without an interval"
                        );
                        assert!(closes.is_empty(), "a ping after the close");
                    }
                    OpCode::Close => closes.push(frame.payload),
                    other => panic!("handle_timeout sent {other:?}"),
                }
            }
            let close_timer = |since: Option<Instant>, now: Instant| {
                let since = since.unwrap_or(now);
                (since, now >= since + self.config.close_timeout)
            };
            match phase_before {
                Phase::Open if self.conn.state() != State::Open => {
                    assert_eq!(
                        self.conn.state(),
                        State::Closed,
                        "a timer moved Open to {:?}",
                        self.conn.state()
                    );
                    assert!(!quiet_before, "a timer fired after the connection failed");
                    let timeout = match closes.as_slice() {
                        [close] if *close == timer_close(Timeout::Keepalive) => {
                            assert!(self.config.ping_interval.is_some());
                            Timeout::Keepalive
                        }
                        [close] if *close == timer_close(Timeout::Idle) => {
                            assert!(self.config.idle_timeout.is_some());
                            Timeout::Idle
                        }
                        other => panic!("unexpected timer close {other:x?}"),
                    };
                    self.timer_error = Some(timeout);
                    self.phase = Phase::Closed;
                }
                Phase::Closing { since } | Phase::AwaitingEof { since } => {
                    let (since, expired) = close_timer(since, self.now);
                    if expired {
                        assert!(!quiet_before, "the close timer fired after a failure");
                        self.timer_error = Some(Timeout::Close);
                        self.phase = Phase::Closed;
                    } else if matches!(phase_before, Phase::Closing { .. }) {
                        self.phase = Phase::Closing { since: Some(since) };
                    } else {
                        self.phase = Phase::AwaitingEof { since: Some(since) };
                    }
                }
                Phase::Lingering { since } => {
                    let since = since.unwrap_or(self.now);
                    self.phase = if self.now >= since + self.config.close_linger {
                        Phase::Closed
                    } else {
                        Phase::Lingering { since: Some(since) }
                    };
                }
                Phase::Open | Phase::Closed => {}
            }
            if !(phase_before == Phase::Open && self.phase == Phase::Closed) {
                // Only keepalive and idle say why they give up; the close timer has nobody to
                // tell, and the linger sent its Close long ago.
                assert!(
                    closes.is_empty(),
                    "a close frame from {phase_before:?} to {:?}",
                    self.phase
                );
            }
            self.check_transport();
            // No busy loop: a deadline at or before now means handle_timeout(now) acts.
            match self.conn.poll_timeout() {
                Some(deadline) if deadline <= self.now => {
                    assert!(
                        rounds < 4,
                        "poll_timeout keeps asking for {:?} <= now without effect",
                        deadline - self.start
                    );
                }
                _ => break,
            }
        }
        // A deadline exactly when a timer runs, so that a driver may skip the clock otherwise.
        assert_eq!(
            self.conn.timers_running(),
            self.conn.poll_timeout().is_some(),
            "timers_running() and poll_timeout() disagree in {:?}",
            self.phase
        );
        match self.conn.transport() {
            Transport::Release => assert_eq!(
                self.conn.poll_timeout(),
                None,
                "timers still run once the transport may be released"
            ),
            Transport::ShutdownWrite => {
                // Only the linger for the peer's end of stream may still run, and it is bounded.
                if let Some(deadline) = self.conn.poll_timeout() {
                    assert!(
                        deadline <= self.now + self.conn.config().close_linger,
                        "the linger ends within close_linger"
                    );
                }
            }
            Transport::Read | Transport::PauseReading => {}
        }
    }

    /// The events and error match the reference model's reading of the whole stream.
    fn compare_with_model(&self, wire: &[u8]) {
        let (events, outcome) = crate::model::expected(self.role, &self.config, wire);
        let close_timeout = self.error == Some(ConnectionError::Timeout(Timeout::Close));
        let timer = matches!(self.error, Some(ConnectionError::Timeout(_)));
        if timer && !(close_timeout && self.close_received) {
            // A timer failed the connection and decoding stopped: a prefix of the model's events.
            assert!(
                events.starts_with(&self.events),
                "events before the timer differ from the model:\n got {:?}\n want {events:?}",
                self.events
            );
            return;
        }
        assert_eq!(
            self.events, events,
            "events differ from the model ({outcome:?})"
        );
        match outcome {
            crate::model::Outcome::Error(expected) => {
                assert_eq!(
                    self.error,
                    Some(ConnectionError::Protocol(expected)),
                    "the model fails here"
                );
            }
            crate::model::Outcome::Closed => {
                assert!(self.close_received);
                assert!(
                    self.error.is_none() || close_timeout,
                    "{:?} after a clean close",
                    self.error
                );
            }
            crate::model::Outcome::End => {
                let expected = self.eof.then_some(ConnectionError::TransportEnded);
                assert_eq!(
                    self.error, expected,
                    "the model sees no error in the stream"
                );
            }
        }
    }

    /// End-of-run checks on the whole output and the final state.
    fn finish(self) {
        let frames = parse_output(&self.out, self.role);
        // §5.5.1: after sending a Close frame, the endpoint "MUST NOT send any more data frames";
        // nothing at all follows it here.
        let closes = frames
            .iter()
            .filter(|f| f.header.opcode == OpCode::Close)
            .count();
        assert!(closes <= 1, "{closes} close frames sent");
        if closes == 1 {
            assert_eq!(frames.last().unwrap().header.opcode, OpCode::Close);
        }
        // The peer of the opposite role decodes everything we sent without complaint.
        let peer_role = match self.role {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        };
        let mut peer = Connection::with_mask_seed(peer_role, Config::default(), [1; 32]);
        peer.handle_input(&self.out);
        let mut count = 0;
        loop {
            match peer.poll_recv() {
                Ok(Some(_)) => count += 1,
                Ok(None) => break,
                Err(error) => panic!("the peer rejects our output: {error:?}"),
            }
            assert!(count <= frames.len());
        }
        // §7.1.1: the server ends the transport after the closing handshake, the client waits
        // for it to; a failure or the end of the stream ends it on either side.
        let expected_close = self.conn.state() == State::Closed
            && (self.errors > 0 || self.eof || self.role == Role::Server);
        assert_eq!(
            matches!(
                self.conn.transport(),
                Transport::ShutdownWrite | Transport::Release
            ),
            expected_close,
            "{:?} at the end in {:?}",
            self.conn.transport(),
            self.phase
        );
        self.check_transport();
    }
}

/// A text of `chars` characters mixing 1- to 4-byte UTF-8 sequences.
pub fn op_text(chars: u8) -> String {
    ['a', 'é', '€', '😀']
        .iter()
        .cycle()
        .take(usize::from(chars))
        .collect()
}

/// `len` bytes of a fixed pattern.
pub fn op_binary(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 37 + 11) as u8).collect()
}

/// Runs a connection in `role` on the fuzz input.
pub fn check(role: Role, data: &[u8]) {
    let input = ConnInput::decode(data);
    let config = input.config();
    let mut harness = Harness::new(role, config, input.flags);
    let wire = if input.flags & FLAG_STRUCTURED != 0 {
        build_structured(&input.wire, role)
    } else {
        input.wire.clone()
    };
    let sizes: Vec<usize> = input.chunks.iter().map(|&c| 1 + usize::from(c)).collect();
    let mut ops = input.ops.clone();
    ops.sort_by_key(|op| op[1]);
    let mut ops = ops.into_iter().peekable();

    let mut rest = &wire[..];
    let mut index = 0usize;
    while !rest.is_empty() {
        while let Some(op) = ops.next_if(|op| usize::from(op[1]) <= index) {
            harness.op(op);
            harness.write_output(sizes[index % sizes.len()]);
        }
        let size = sizes[index % sizes.len()];
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        harness.feed(chunk);
        if input.clock & 0x80 != 0 {
            // As documented: handle_timeout after every batch of received bytes, then drain.
            harness.tick(tenths(input.clock & 0x7f));
        }
        harness.drain();
        harness.write_output(size);
        index += 1;
    }
    for op in ops {
        harness.op(op);
        harness.write_output(sizes[0]);
    }
    if input.flags & FLAG_EOF != 0 {
        harness.eof = true;
        harness.conn.handle_eof();
        if matches!(
            harness.phase,
            Phase::AwaitingEof { .. } | Phase::Lingering { .. }
        ) {
            // What the phase waited for came: nothing is left to wait for.
            harness.phase = Phase::Closed;
        }
        let had_error = harness.errors > 0;
        harness.drain();
        if !had_error && !harness.close_received {
            // At end of input the connection either failed on buffered bytes or reports that
            // the transport ended without a closing handshake.
            assert_eq!(harness.errors, 1, "end of input went unreported");
        }
        // Whatever came before, the end of the stream leaves nothing to wait for.
        assert_eq!(harness.conn.state(), State::Closed);
        assert_eq!(harness.conn.transport(), Transport::Release);
        harness.check_transport();
    }
    harness.compare_with_model(&wire);
    harness.finish();
}
