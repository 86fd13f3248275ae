//! Time, given to the core and never read by it: keepalive (RFC 6455 §5.5.2–§5.5.3 pings), the
//! idle timeout, the close timeout (§7.1.1–§7.1.3: how long to wait for the peer's part of the
//! closing handshake) and the linger before the transport is released.
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use super::Connection;
use super::phase::{Event, Phase};
use crate::error::{ConnectionError, Timeout};
use crate::frame::OpCode;

/// What the keepalive and idle timers remember between ticks of
/// [`Connection::handle_timeout`], which alone tells the connection the time.
#[derive(Debug, Default)]
pub(super) struct Timers {
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
    pub(super) ping_in_flight: Option<(u64, Instant)>,
    /// Keepalive pings sent so far, used as their payloads.
    pings_sent: u64,
    /// Round-trip time of the last keepalive ping.
    pub(super) last_rtt: Option<Duration>,
    /// An error found by a timer, reported by the next `poll_recv`.
    pub(super) error: Option<ConnectionError>,
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
    /// Tells the connection the time, and fires the timers that are due.
    ///
    /// The connection never reads a clock: call this after every batch of received bytes (before
    /// draining [`poll_recv`](Self::poll_recv), so a pong's round-trip time is measured at its
    /// arrival) and whenever the deadline from [`poll_timeout`](Self::poll_timeout) passes. Timers
    /// are off until the first call, so a connection driven without time behaves exactly as if
    /// none were configured. While [`timers_running`](Self::timers_running) is false a call only
    /// records the time, so a driver may skip reading the clock.
    ///
    /// What fires (all from [`Config`](crate::Config)):
    /// * keepalive: after `ping_interval` without a received frame, a Ping is sent; if no frame
    ///   arrives within `pong_timeout` of it, the connection fails with [`Timeout::Keepalive`]
    ///   (Close 1011, reason "keepalive timeout");
    /// * `idle_timeout`: no frame for that long fails with [`Timeout::Idle`] (Close 1001, reason
    ///   "idle timeout");
    /// * `close_timeout`: after our Close went out, or after the closing handshake while a client
    ///   waits for the server to end the transport, the connection gives up waiting with
    ///   [`Timeout::Close`] and [`transport`](Self::transport) turns to
    ///   [`Release`](crate::Transport::Release);
    /// * `close_linger`: how long [`ShutdownWrite`](crate::Transport::ShutdownWrite) waits for the
    ///   peer's end of the stream.
    ///
    /// Timer errors are returned by the next call to `poll_recv`.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use rfc6455::{Config, Connection, ConnectionError, Role, Timeout, Transport};
    ///
    /// let config = Config::default().ping_interval(Some(Duration::from_secs(20)));
    /// let mut conn = Connection::new(Role::Server, config);
    /// let start = Instant::now();
    /// conn.handle_timeout(start);
    /// assert_eq!(conn.poll_timeout(), Some(start + Duration::from_secs(20)));
    /// conn.handle_timeout(start + Duration::from_secs(20));
    /// assert_eq!(conn.take_transmit()[0], 0x89); // a Ping went out
    /// // The peer stays silent past the pong timeout (20 s by default).
    /// conn.handle_timeout(start + Duration::from_secs(40));
    /// assert_eq!(conn.poll_recv(), Err(ConnectionError::Timeout(Timeout::Keepalive)));
    /// assert_eq!(conn.transport(), Transport::Release); // after writing the Close
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = Some(now);
        if !self.timers_running() {
            return;
        }
        self.transition(Event::Tick(now));
        match self.phase {
            Phase::Closing { since: Some(since) } | Phase::AwaitingEof { since: Some(since) }
                if now >= since + self.config.close_timeout =>
            {
                self.give_up(Timeout::Close);
            }
            Phase::Lingering { since: Some(since) } if now >= since + self.config.close_linger => {
                self.transition(Event::LingerOver);
            }
            Phase::Open => self.tick_open(now),
            _ => {}
        }
    }

    /// Keepalive and the idle timeout, on an open connection.
    fn tick_open(&mut self, now: Instant) {
        let received = self.recv.len();
        let timers = self.timers.get_or_insert_with(Box::default);
        let arrived = received > timers.seen_at_tick;
        timers.seen_at_tick = received;
        if timers.activity || arrived || timers.last_activity.is_none() {
            timers.last_activity = Some(now);
            timers.awaiting_since = None;
            timers.activity = false;
        }
        let last_activity = timers.last_activity.unwrap_or(now);
        if let Some(idle) = self.config.idle_timeout {
            if now >= last_activity + idle {
                self.give_up(Timeout::Idle);
                return;
            }
        }
        let Some(interval) = self.config.ping_interval else {
            return;
        };
        match timers.awaiting_since {
            Some(sent) if now >= sent + self.config.pong_timeout => {
                self.give_up(Timeout::Keepalive);
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
    /// the past means "now". `None` until the first `handle_timeout`.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let now = self.now?;
        match self.phase {
            // A timer that has not started yet starts at the next call: ask for it at once.
            Phase::Closing { since } | Phase::AwaitingEof { since } => {
                Some(since.map_or(now, |since| since + self.config.close_timeout))
            }
            Phase::Lingering { since } => {
                Some(since.map_or(now, |since| since + self.config.close_linger))
            }
            Phase::Closed => None,
            Phase::Open => {
                let timers = self.timers.as_deref();
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
        }
    }

    /// Whether a timer runs now, so that [`handle_timeout`](Self::handle_timeout) has work to
    /// do: keepalive or the idle timeout on an open connection, the close timer, or the linger.
    /// While it is false a tick only records the time: a driver need not read the clock, and a
    /// configuration without keepalive or idle timeout (`ping_interval(None)`) reads none while
    /// the connection is open.
    #[must_use]
    pub fn timers_running(&self) -> bool {
        match self.phase {
            Phase::Open => {
                self.config.ping_interval.is_some() || self.config.idle_timeout.is_some()
            }
            Phase::Closing { .. } | Phase::AwaitingEof { .. } | Phase::Lingering { .. } => true,
            Phase::Closed => false,
        }
    }

    /// Round-trip time of the last keepalive ping that the peer answered.
    pub fn last_rtt(&self) -> Option<Duration> {
        self.timers.as_ref().and_then(|timers| timers.last_rtt)
    }

    /// Bytes left the receive buffer: the timers, if they watch for activity, must see it.
    pub(super) fn note_consumed(&mut self, n: usize) {
        if let Some(timers) = self.timers.as_mut() {
            timers.note_consumed(n);
        }
    }

    /// A timer gave up on the peer: say why with a Close if ours has not gone out, stop waiting
    /// for anything from the peer, and report the timeout at the next `poll_recv`.
    fn give_up(&mut self, timeout: Timeout) {
        if self.phase == Phase::Open {
            self.queue_close(Some(timeout.close_code()), timeout.reason());
        }
        self.transition(Event::Unresponsive);
        self.timers.get_or_insert_with(Box::default).error = Some(timeout.into());
    }
}
