//! Echo server on [mio]'s readiness loop: one thread, any number of connections, the sans-IO
//! core driven by hand, no async runtime. It is `examples/sans_io_echo.rs` for many non-blocking
//! sockets at once, and shows that the core needs nothing from an event loop but bytes, a clock
//! and "readable"/"writable": the same steps fit epoll, kqueue, io_uring or a game loop.
//!
//! ```text
//! cargo run --release --example mio_echo_server --features deflate -- 127.0.0.1:9004
//! ```
//!
//! Without `--features deflate` it runs without permessage-deflate. With it, it answers
//! deflate offers and compresses every echo, as `echo_server` does for the Autobahn TestSuite.
//!
//! What it does per connection, and why:
//! * every socket is edge-triggered, so each readiness edge is read until `WouldBlock`, in
//!   turns of [`READS_PER_TURN`] reads so that one fast client cannot starve the others;
//! * all connections read into one [`READ_BUFFER`] for the whole thread, and a connection that
//!   has decoded everything gives its receive buffer back: an idle connection holds no buffer,
//!   only its slot ([`Conn`], about 250 bytes) and the kernel's socket;
//! * a write that would block registers write interest, which is dropped again once the
//!   output has drained; while the core says [`Transport::PauseReading`] nothing is read, and
//!   the input that waits is read after the drain;
//! * deadlines (the opening handshake's, the close and linger timers) live in one ordered set
//!   that bounds the wait for readiness; the clock is read only while one of them runs: to
//!   bound the wait, and once per wake-up for every connection's timers.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mio::event::Event;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use rfc6455::handshake::{Accept, ServerHandshake};
use rfc6455::{Config, Connection, Transport};

/// The listener's token; a connection's token is its slot index, which never gets this large.
const LISTENER: Token = Token(usize::MAX);

/// The thread's one read buffer: what a single read may bring in, copied into the core at once.
const READ_BUFFER: usize = 64 * 1024;

/// Reads one connection gets before the loop moves on (1 MiB with [`READ_BUFFER`]); the rest of
/// its input waits for the next turn.
const READS_PER_TURN: usize = 16;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9004".into())
        .parse()?;
    let config = Config::default().max_message_size(64 << 20);
    // Compress every echo, small ones too: the Autobahn TestSuite's compression cases expect it.
    #[cfg(feature = "deflate")]
    let config = config.deflate(Some(
        rfc6455::deflate::DeflateConfig::default().threshold(0),
    ));
    let mut server = Server::bind(addr, config)?;
    println!(
        "echo server listening on ws://{}",
        server.listener.local_addr()?
    );
    server.run()?;
    Ok(())
}

/// Everything the thread owns.
struct Server {
    poll: Poll,
    listener: TcpListener,
    /// The connections, indexed by token; `None` marks a free slot (listed in `free`).
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    /// Every connection's next deadline, with its token; the earliest bounds the wait.
    deadlines: BTreeSet<(Instant, usize)>,
    /// Connections that still had input when their turn's reads ran out.
    again: Vec<usize>,
    buf: Box<[u8]>,
    /// One configuration for every connection, rather than a copy in each.
    config: Arc<Config>,
}

/// One connection: about 250 bytes, and no heap memory of its own while it is open and idle.
struct Conn {
    stream: TcpStream,
    stage: Stage,
    /// This connection's entry in `Server::deadlines`: the next time it must be told the time.
    deadline: Option<Instant>,
    /// A readable edge came and input may still be waiting: reading was paused or ran out of
    /// turn. Edges do not repeat, so this is the only memory of it.
    readable: bool,
    /// The last write would have blocked: nothing more is written until the socket is writable.
    blocked: bool,
    /// The socket is registered for writable edges as well as readable ones.
    write_interest: bool,
    /// Our write side is shut down (the FIN after the closing handshake); input is discarded
    /// until the peer's FIN or the linger's end.
    shut_down: bool,
    /// The connection is in `Server::again`.
    queued: bool,
}

enum Stage {
    /// Boxed: it is needed only until the request is in, and open connections should not
    /// carry its size.
    Handshake(Box<ServerHandshake>),
    Open(Connection),
}

/// What a connection needs after its turn.
enum After {
    /// Nothing until its next readiness event or deadline.
    Wait,
    /// Another turn: it had more input than one turn reads.
    Again,
    /// Drop it: the core released the transport, or the transport failed.
    Drop,
}

/// The time, read at most once per wake-up of the loop, and only if some timer asks for it.
#[derive(Default)]
struct Clock(Option<Instant>);

impl Clock {
    fn now(&mut self) -> Instant {
        *self.0.get_or_insert_with(Instant::now)
    }
}

impl Server {
    fn bind(addr: SocketAddr, config: Config) -> io::Result<Self> {
        let poll = Poll::new()?;
        let mut listener = TcpListener::bind(addr)?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        Ok(Self {
            poll,
            listener,
            conns: Vec::new(),
            free: Vec::new(),
            deadlines: BTreeSet::new(),
            again: Vec::new(),
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            config: Arc::new(config),
        })
    }

    fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = if !self.again.is_empty() {
                Some(Duration::ZERO)
            } else {
                self.deadlines
                    .first()
                    .map(|&(at, _)| at.saturating_duration_since(Instant::now()))
            };
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
            let mut clock = Clock::default();
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(&mut clock),
                    Token(i) => self.ready(i, event, &mut clock),
                }
            }
            for i in std::mem::take(&mut self.again) {
                if let Some(conn) = self.conns.get_mut(i).and_then(Option::as_mut) {
                    conn.queued = false;
                }
                self.serve(i, &mut clock);
            }
            self.expire(&mut clock);
        }
    }

    /// Accepts until the backlog is empty: the listener is edge-triggered too.
    fn accept(&mut self, clock: &mut Clock) {
        loop {
            let mut stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    continue;
                }
                // Out of descriptors or memory: what waits stays in the backlog, and the next
                // connection's edge tries again.
                Err(_) => return,
            };
            // Echoes are written whole at once; Nagle would only delay the last segment.
            if stream.set_nodelay(true).is_err() {
                continue;
            }
            let i = match self.free.pop() {
                Some(i) => i,
                None => {
                    self.conns.push(None);
                    self.conns.len() - 1
                }
            };
            if self
                .poll
                .registry()
                .register(&mut stream, Token(i), Interest::READABLE)
                .is_err()
            {
                self.free.push(i);
                continue;
            }
            // A client that trickles its request (slowloris) is dropped at this deadline.
            let deadline = self
                .config
                .handshake_timeout
                .and_then(|limit| clock.now().checked_add(limit));
            if let Some(at) = deadline {
                self.deadlines.insert((at, i));
            }
            self.conns[i] = Some(Conn {
                stream,
                stage: Stage::Handshake(Box::default()),
                deadline,
                readable: false,
                blocked: false,
                write_interest: false,
                shut_down: false,
                queued: false,
            });
        }
    }

    fn ready(&mut self, i: usize, event: &Event, clock: &mut Clock) {
        let Some(conn) = self.conns.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        // An error or a hang-up is found out by the next read or write.
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            conn.readable = true;
        }
        if event.is_writable() || event.is_write_closed() || event.is_error() {
            conn.blocked = false;
        }
        self.serve(i, clock);
    }

    /// The connection's turn: input, output, and then its registration and deadline brought up
    /// to date.
    fn serve(&mut self, i: usize, clock: &mut Clock) {
        let Some(conn) = self.conns.get_mut(i).and_then(Option::as_mut) else {
            return;
        };
        let before = conn.deadline;
        let after = conn.serve(&mut self.buf, &self.config, clock);
        if conn.deadline != before {
            if let Some(at) = before {
                self.deadlines.remove(&(at, i));
            }
            if let Some(at) = conn.deadline {
                self.deadlines.insert((at, i));
            }
        }
        match after {
            After::Drop => {
                self.remove(i);
                return;
            }
            // Once in the list is enough: the turn it gets reads until its share runs out.
            After::Again if !conn.queued => {
                conn.queued = true;
                self.again.push(i);
            }
            After::Again | After::Wait => {}
        }
        if conn.blocked != conn.write_interest {
            let interest = if conn.blocked {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            match self
                .poll
                .registry()
                .reregister(&mut conn.stream, Token(i), interest)
            {
                Ok(()) => conn.write_interest = conn.blocked,
                Err(_) => self.remove(i),
            }
        }
    }

    /// Tells every connection whose deadline has passed the time.
    fn expire(&mut self, clock: &mut Clock) {
        let Some(&(first, _)) = self.deadlines.first() else {
            return;
        };
        let now = clock.now();
        if first > now {
            return;
        }
        while let Some(&(at, i)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.remove(&(at, i));
            let Some(conn) = self.conns.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            conn.deadline = None;
            match &mut conn.stage {
                Stage::Open(ws) => {
                    ws.handle_timeout(now);
                    self.serve(i, clock);
                }
                // The handshake's deadline: the request never came whole.
                Stage::Handshake(_) => self.remove(i),
            }
        }
    }

    fn remove(&mut self, i: usize) {
        let Some(mut conn) = self.conns.get_mut(i).and_then(Option::take) else {
            return;
        };
        if let Some(at) = conn.deadline {
            self.deadlines.remove(&(at, i));
        }
        // Closing the socket would unregister it as well; saying so keeps mio's books straight.
        let _ = self.poll.registry().deregister(&mut conn.stream);
        self.free.push(i);
    }
}

impl Conn {
    /// Reads what is waiting, within this turn's share, and lets the core answer each read.
    fn serve(&mut self, buf: &mut [u8], config: &Arc<Config>, clock: &mut Clock) -> After {
        let mut reads = 0;
        loop {
            if !self.drive(clock) {
                return After::Drop;
            }
            if !self.readable || self.paused() {
                return After::Wait;
            }
            if reads == READS_PER_TURN {
                return After::Again;
            }
            reads += 1;
            let n = match self.stream.read(buf) {
                Ok(n) => n,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    self.release_receive_buffer();
                    return After::Wait;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                // After the closing handshake only the end of the stream is awaited, and a reset
                // ends it just as well. Before it, the connection is lost.
                Err(_) if self.closed() => 0,
                Err(_) => return After::Drop,
            };
            if n == 0 {
                self.readable = false;
            }
            if !self.input(&buf[..n], config, clock) {
                return After::Drop;
            }
        }
    }

    /// Hands one read to the handshake or the connection; `data` is empty at the end of the
    /// stream. Returns false when the connection is to be dropped.
    fn input(&mut self, data: &[u8], config: &Arc<Config>, clock: &mut Clock) -> bool {
        let handshake = match &mut self.stage {
            Stage::Open(ws) => {
                if data.is_empty() {
                    ws.handle_eof();
                } else {
                    ws.handle_input(data);
                }
                // Keepalive and idle timers, when configured, count this as activity.
                if ws.timers_running() {
                    ws.handle_timeout(clock.now());
                }
                return true;
            }
            Stage::Handshake(handshake) => handshake,
        };
        if data.is_empty() {
            return false;
        }
        let request = match handshake.handle_input(data) {
            Ok(Some(request)) => request,
            Ok(None) => return true,
            Err(error) => {
                // Best effort: the refusal is small, and the connection is dropped either way.
                let _ = self.stream.write_all(&error.response_bytes());
                return false;
            }
        };
        // The 101 response is the connection's first output, written by the next `drive`.
        match handshake.accept(&request, Accept::default(), Arc::clone(config)) {
            Ok(ws) => {
                self.stage = Stage::Open(ws);
                // The handshake's deadline is over; `drive` sets the connection's own.
                self.deadline = None;
                true
            }
            Err(_) => false,
        }
    }

    /// The core's outputs after an input, in the order of its calling protocol: events, the
    /// bytes to write, the next deadline, what to do with the transport. Returns false when the
    /// connection is to be dropped.
    fn drive(&mut self, clock: &mut Clock) -> bool {
        let Stage::Open(ws) = &mut self.stage else {
            return true;
        };
        loop {
            // On a protocol error the core has queued the Close that fails the connection, and
            // `transport()` says how to end it.
            while let Ok(Some(message)) = ws.poll_recv() {
                if message.is_text() || message.is_binary() {
                    // It fails only once our Close is queued; `transport()` ends the connection.
                    let _ = ws.send(message);
                }
            }
            if ws.pending_transmit() > 0 && !self.blocked {
                match ws.write_transmit(&mut self.stream) {
                    Ok(()) => {}
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => self.blocked = true,
                    Err(_) => return false,
                }
            }
            // An open connection under the default configuration runs no timer: no clock.
            if !ws.timers_running() {
                self.deadline = None;
                break;
            }
            let now = clock.now();
            // A timer starts at the first tick after its phase began.
            let next = ws.poll_timeout().or_else(|| {
                ws.handle_timeout(now);
                ws.poll_timeout()
            });
            match next {
                Some(at) if at <= now => ws.handle_timeout(now),
                next => {
                    self.deadline = next;
                    break;
                }
            }
        }
        match ws.transport() {
            Transport::Read | Transport::PauseReading => true,
            Transport::ShutdownWrite => {
                // The FIN goes after the last byte, the Close frame included.
                if !self.shut_down && ws.pending_transmit() == 0 {
                    let _ = self.stream.shutdown(Shutdown::Write);
                    self.shut_down = true;
                }
                true
            }
            // What is still pending was just tried; the socket takes no more now.
            Transport::Release => false,
        }
    }

    /// The core's send buffer is at its high-water mark: reading more could only queue more
    /// replies for a peer that is not reading ours.
    fn paused(&self) -> bool {
        matches!(&self.stage, Stage::Open(ws) if ws.transport() == Transport::PauseReading)
    }

    /// The closing handshake is over (or the connection failed): only the end of the stream
    /// is awaited.
    fn closed(&self) -> bool {
        matches!(&self.stage, Stage::Open(ws) if ws.state() == rfc6455::State::Closed)
    }

    /// An idle connection holds no receive buffer: the core keeps the buffer's capacity after
    /// decoding its bytes, and ten thousand idle connections would each keep one.
    fn release_receive_buffer(&mut self) {
        if let Stage::Open(ws) = &mut self.stage {
            let buf = ws.input_buffer();
            if buf.is_empty() && buf.capacity() > 0 {
                *buf = BytesMut::new();
            }
        }
    }
}
