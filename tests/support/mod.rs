//! What the integration tests share: a deterministic client/server [`Pair`] on a virtual clock,
//! frames built by hand (independent of the crate's own encoder), the RFC's procedure for
//! failing a connection as an assertion, one way to get a listening socket, and the reference
//! decoder in [`model`] (also the fuzz targets' oracle).
#![allow(dead_code, reason = "each test file uses a different subset")]

pub(crate) mod model;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use rfc6455::frame::{FrameHeader, OpCode, Parse};
use rfc6455::{
    CloseCode, Config, Connection, ConnectionError, Message, ProtocolError, Role, State, Transport,
};

/// A fixed mask-key seed, so client output is reproducible.
pub(crate) const SEED: [u8; 32] = [7; 32];

/// What `poll_recv` returned, errors included.
pub(crate) type Event = Result<Message, ConnectionError>;

/// A client and a server connected back to back, driven as an event loop drives them but on a
/// virtual clock: each [`step`](Self::step) writes everything each side has pending, hands it
/// to the other side as one read, ticks the reader's clock (as a driver does after every read)
/// and drains `poll_recv` on both sides.
///
/// A side whose transport was released reads nothing more: what is sent to it is lost, as on a
/// closed socket. The end of a stream is never delivered by itself; [`eof_to_server`] and
/// [`eof_to_client`] deliver it when the other side's [`Connection::transport`] says to end the
/// transport, so that a test can also play a peer that never does.
///
/// [`eof_to_server`]: Self::eof_to_server
/// [`eof_to_client`]: Self::eof_to_client
pub(crate) struct Pair {
    pub(crate) client: Connection,
    pub(crate) server: Connection,
    /// The virtual clock: every `handle_timeout` the pair makes is at this time.
    pub(crate) now: Instant,
    /// What each side's `poll_recv` returned, in order, until taken.
    pub(crate) client_events: Vec<Event>,
    pub(crate) server_events: Vec<Event>,
    /// The bytes each side wrote (and the other read, unless lost), in order, until taken.
    pub(crate) to_server: Vec<u8>,
    pub(crate) to_client: Vec<u8>,
    /// The largest read a side makes; a step delivers in reads of this size, draining events
    /// after each. Unbounded by default.
    pub(crate) read_size: usize,
    /// Nothing gets through either way: a network partition, or a peer that vanished. What is
    /// written is still recorded in `to_server` and `to_client`.
    pub(crate) partitioned: bool,
    client_got_eof: bool,
    server_got_eof: bool,
}

impl Pair {
    /// A client (with the fixed mask seed) and a server, with the clocks of both started at
    /// `now`.
    pub(crate) fn new(client_config: Config, server_config: Config) -> Self {
        Self::from_connections(
            Connection::with_mask_seed(Role::Client, client_config, SEED),
            Connection::new(Role::Server, server_config),
        )
    }

    /// Both with the default configuration.
    pub(crate) fn default_configs() -> Self {
        Self::new(Config::default(), Config::default())
    }

    /// Connections built elsewhere (e.g. after a negotiated extension), clocks started.
    pub(crate) fn from_connections(mut client: Connection, mut server: Connection) -> Self {
        assert_eq!(client.role(), Role::Client);
        assert_eq!(server.role(), Role::Server);
        let now = Instant::now();
        client.handle_timeout(now);
        server.handle_timeout(now);
        Self {
            client,
            server,
            now,
            client_events: Vec::new(),
            server_events: Vec::new(),
            to_server: Vec::new(),
            to_client: Vec::new(),
            read_size: usize::MAX,
            partitioned: false,
            client_got_eof: false,
            server_got_eof: false,
        }
    }

    /// Moves everything pending each way once, then drains both sides. Whether anything moved
    /// or happened.
    pub(crate) fn step(&mut self) -> bool {
        let before = self.client_events.len() + self.server_events.len();
        let mut to_server = Vec::new();
        self.client.poll_transmit(&mut to_server);
        let mut to_client = Vec::new();
        self.server.poll_transmit(&mut to_client);
        let moved = !to_server.is_empty() || !to_client.is_empty();
        self.to_server.extend_from_slice(&to_server);
        self.to_client.extend_from_slice(&to_client);
        if !self.partitioned {
            let now = self.now;
            let read_size = self.read_size;
            deliver(
                &mut self.server,
                &to_server,
                now,
                read_size,
                &mut self.server_events,
            );
            deliver(
                &mut self.client,
                &to_client,
                now,
                read_size,
                &mut self.client_events,
            );
        }
        self.client_events.extend(drain(&mut self.client));
        self.server_events.extend(drain(&mut self.server));
        moved || self.client_events.len() + self.server_events.len() > before
    }

    /// Steps until neither side has anything to send or report.
    pub(crate) fn drive(&mut self) {
        for _ in 0..1000 {
            if !self.step() {
                return;
            }
        }
        panic!("the pair never went quiet");
    }

    /// The earliest deadline either side asked for, if any.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        match (self.client.poll_timeout(), self.server.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Moves the clock to the earliest deadline of the two (a deadline in the past means now),
    /// ticks both sides and steps. Returns the new time.
    ///
    /// # Panics
    ///
    /// If no timer runs on either side.
    #[track_caller]
    pub(crate) fn advance_to_next_deadline(&mut self) -> Instant {
        let deadline = self.next_deadline().expect("a timer runs");
        self.now = self.now.max(deadline);
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.step();
        self.now
    }

    /// Delivers the end of the stream to the server if the client's transport says to end it
    /// (its driver shuts down the write side, or closes the socket), once. Whether it did.
    pub(crate) fn eof_to_server(&mut self) -> bool {
        if self.server_got_eof || !ends_transport(&self.client) {
            return false;
        }
        self.step();
        self.server_got_eof = true;
        self.server.handle_eof();
        self.server_events.extend(drain(&mut self.server));
        self.step();
        true
    }

    /// Delivers the end of the stream to the client if the server's transport says to end it,
    /// once. Whether it did.
    pub(crate) fn eof_to_client(&mut self) -> bool {
        if self.client_got_eof || !ends_transport(&self.server) {
            return false;
        }
        self.step();
        self.client_got_eof = true;
        self.client.handle_eof();
        self.client_events.extend(drain(&mut self.client));
        self.step();
        true
    }

    /// Ends both transports as the drivers would once each side says so: the server first
    /// (§7.1.1), then the client on its end of stream. Both must then be released.
    #[track_caller]
    pub(crate) fn end_transports(&mut self) {
        self.drive();
        let first = self.eof_to_client() | self.eof_to_server();
        let second = self.eof_to_client() | self.eof_to_server();
        assert!(first || second, "neither side ends its transport");
        assert_eq!(self.client.transport(), Transport::Release);
        assert_eq!(self.server.transport(), Transport::Release);
    }

    pub(crate) fn take_client_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.client_events)
    }

    pub(crate) fn take_server_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.server_events)
    }

    /// The frames sent to the server so far (unmasked), and forgets them.
    pub(crate) fn take_frames_to_server(&mut self) -> Vec<(OpCode, Vec<u8>)> {
        frames(&std::mem::take(&mut self.to_server))
    }

    /// The frames sent to the client so far, and forgets them.
    pub(crate) fn take_frames_to_client(&mut self) -> Vec<(OpCode, Vec<u8>)> {
        frames(&std::mem::take(&mut self.to_client))
    }
}

/// Hands `bytes` to `conn` in reads of at most `read_size`, ticking after each read and draining
/// between them, as a driver does; nothing reaches a released transport.
fn deliver(
    conn: &mut Connection,
    bytes: &[u8],
    now: Instant,
    read_size: usize,
    events: &mut Vec<Event>,
) {
    for read in bytes.chunks(read_size.max(1)) {
        if conn.transport() == Transport::Release {
            return;
        }
        conn.handle_input(read);
        conn.handle_timeout(now);
        events.extend(drain(conn));
    }
}

/// Whether `conn`'s driver ends its side of the transport now.
pub(crate) fn ends_transport(conn: &Connection) -> bool {
    matches!(
        conn.transport(),
        Transport::ShutdownWrite | Transport::Release
    )
}

/// A TCP listener on a free port of the loopback interface, and its address.
pub(crate) fn listener() -> (std::net::TcpListener, SocketAddr) {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// [`listener`] for tokio.
pub(crate) async fn tokio_listener() -> (tokio::net::TcpListener, SocketAddr) {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// The `ws://` URL of a listener's address.
pub(crate) fn ws_url(addr: SocketAddr) -> String {
    format!("ws://{addr}/")
}

/// Encodes a frame by hand from its parts: `first` is the FIN/RSV/opcode byte.
pub(crate) fn frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![first];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A frame as a client sends it (masked with a fixed key).
pub(crate) fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    frame(first, payload, Some([0x37, 0xfa, 0x21, 0x3d]))
}

/// The bytes of an unmasked Close frame with `code`, as a server sends it.
pub(crate) fn server_close(code: CloseCode) -> Vec<u8> {
    frame(0x88, &code.0.to_be_bytes(), None)
}

/// The payload of a Close frame with `code` and `reason`.
pub(crate) fn close_payload(code: CloseCode, reason: &str) -> Vec<u8> {
    let mut payload = code.0.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    payload
}

/// Whole frames in `bytes`, as (opcode, unmasked payload), decoded with the parser and a byte
/// loop; stops at the first incomplete one.
pub(crate) fn frames(bytes: &[u8]) -> Vec<(OpCode, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Ok(Parse::Complete(header, len)) = FrameHeader::parse(rest) {
        let end = len + header.payload_len as usize;
        let Some(payload) = rest.get(len..end) else {
            break;
        };
        let mut payload = payload.to_vec();
        if let Some(key) = header.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        out.push((header.opcode, payload));
        rest = &rest[end..];
    }
    out
}

/// A server with the default configuration.
pub(crate) fn server() -> Connection {
    Connection::new(Role::Server, Config::default())
}

/// A client with the default configuration and the fixed mask seed.
pub(crate) fn client() -> Connection {
    Connection::with_mask_seed(Role::Client, Config::default(), SEED)
}

/// Every event until the connection needs more input, errors included.
pub(crate) fn drain(conn: &mut Connection) -> Vec<Event> {
    let mut out = Vec::new();
    loop {
        match conn.poll_recv() {
            Ok(Some(message)) => out.push(Ok(message)),
            Ok(None) => return out,
            Err(error) => out.push(Err(error)),
        }
    }
}

/// Takes everything a connection has queued to send.
pub(crate) fn output(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    conn.poll_transmit(&mut out);
    out
}

/// RFC 6455 §7.1.7, _Fail the WebSocket Connection_, as seen from outside: `input` makes `conn`
/// report `error` (after whatever events precede it), queue exactly one Close frame carrying
/// the error's code and no reason, stop reading, and end its transport; later input yields
/// nothing.
#[track_caller]
pub(crate) fn assert_failing(conn: &mut Connection, input: &[u8], error: ProtocolError) {
    conn.handle_input(input);
    let events = drain(conn);
    assert_eq!(
        events.last(),
        Some(&Err(error.clone().into())),
        "events: {events:?}"
    );
    assert_eq!(
        frames(&output(conn)),
        vec![(OpCode::Close, error.close_code().0.to_be_bytes().to_vec())],
        "one Close with the error's code"
    );
    assert_eq!(conn.state(), State::Closed);
    assert!(ends_transport(conn), "{:?}", conn.transport());
    // Later input is ignored and yields nothing.
    let after = match conn.role() {
        Role::Server => client_frame(0x81, b"after"),
        Role::Client => frame(0x81, b"after", None),
    };
    conn.handle_input(&after);
    assert!(drain(conn).is_empty());
    assert!(output(conn).is_empty());
}
