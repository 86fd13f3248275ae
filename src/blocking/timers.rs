//! The connection's timers under the blocking adapter: keepalive, pong, idle and close timeouts
//! (see [`Connection::handle_timeout`](crate::Connection::handle_timeout)).
//!
//! A blocking read cannot wait for a socket and a clock at once, so [`WebSocket::recv`] alone
//! never runs the timers. [`WebSocket::recv_timed`] does, for streams whose reads can be bounded
//! in time ([`ReadTimeout`]): before each read it gives the connection the time, then bounds the
//! read by the next deadline with `set_read_timeout`, and when the read times out it fires the
//! timers (sending a keepalive Ping, or failing the connection) and goes on.
//!
//! Limits, honestly: timers run only while a thread is inside `recv_timed`, so a thread busy
//! elsewhere or blocked in a `send` to a peer that does not read fires nothing; writes are not
//! bounded (set a write timeout on the stream for that). The read timeout is left set on the
//! stream.

use std::io;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::WebSocket;
use crate::io_error::Error;
use crate::message::Message;

/// A stream whose reads can be bounded in time, so that [`WebSocket::recv_timed`] can run the
/// connection's timers. A timed-out read must fail with [`io::ErrorKind::WouldBlock`] or
/// [`io::ErrorKind::TimedOut`] and consume nothing.
///
/// Implemented for [`TcpStream`] and, on Unix, `UnixStream`; implement it for a TLS stream by
/// forwarding to the socket inside.
///
/// # Example
///
/// ```
/// use std::io;
/// use std::net::TcpStream;
/// use std::time::Duration;
/// use rfc6455::blocking::ReadTimeout;
///
/// /// A stream of my own that wraps a socket.
/// struct Logged(TcpStream);
///
/// impl ReadTimeout for Logged {
///     fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
///         self.0.set_read_timeout(timeout)
///     }
/// }
/// ```
pub trait ReadTimeout {
    /// Bounds every later read to `timeout`; `None` lets reads block forever. Never given
    /// `Some(Duration::ZERO)`.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl ReadTimeout for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
}

#[cfg(unix)]
impl ReadTimeout for std::os::unix::net::UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }
}

impl<S: io::Read + io::Write + ReadTimeout> WebSocket<S> {
    /// [`recv`](Self::recv) that also runs the connection's timers: with keepalive configured
    /// ([`Config::default`](crate::Config::default) does), a silent peer is pinged after `ping_interval` and the
    /// connection fails with [`Timeout::Keepalive`] if nothing arrives within
    /// `pong_timeout`; the idle and close timeouts run too.
    ///
    /// Before each read it gives the connection the time and bounds the read by the next
    /// deadline with [`ReadTimeout::set_read_timeout`] (which it leaves set). Timers run only
    /// while a thread is inside `recv_timed`: a thread busy elsewhere, or blocked in a `send` to
    /// a peer that does not read, fires nothing (set a write timeout for the latter).
    ///
    /// # Example
    ///
    /// ```no_run
    /// let (mut ws, _) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
    /// loop {
    ///     // Pings go out while this waits; a dead peer ends it with Timeout::Keepalive.
    ///     let message = ws.recv_timed()?;
    ///     println!("{message:?}");
    /// }
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    ///
    /// [`Timeout::Keepalive`]: crate::Timeout::Keepalive
    pub fn recv_timed(&mut self) -> Result<Message, Error> {
        loop {
            let now = Instant::now();
            // Marks what arrived since the last tick as activity, fires what is due (a Ping is
            // queued and goes out with the next flush inside `recv`).
            self.conn.handle_timeout(now);
            let timeout = self
                .conn
                .poll_timeout()
                // A zero timeout is refused by `set_read_timeout`; a due timer fires next turn.
                .map(|deadline| deadline.saturating_duration_since(now).max(MIN_TIMEOUT));
            self.stream.set_read_timeout(timeout)?;
            match self.recv() {
                Err(Error::Io(e))
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                other => return other,
            }
        }
    }
}

/// The shortest read timeout set: deadlines closer than this fire on the next turn.
const MIN_TIMEOUT: Duration = Duration::from_millis(1);
