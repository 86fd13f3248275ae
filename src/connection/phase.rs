//! The connection's lifecycle, RFC 6455 §4.1 ("the WebSocket connection is in the OPEN state"),
//! §7.1.1–§7.1.4 (closing the connection) and §7.1.7 (failing it): one enum whose variants carry
//! their data, and the one function that moves between them.
#![forbid(unsafe_code)]

use std::time::Instant;

use super::{Connection, Role, State};

/// Where the connection is in its life. Every assignment is in [`Connection::transition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Both sides may send.
    Open,
    /// Our Close went out; the peer's has not come (§7.1.2). Received messages still arrive. The
    /// close timer runs from `since`, the first tick after the Close was queued.
    Closing { since: Option<Instant> },
    /// A client after the closing handshake: §7.1.1, "the server SHOULD close the underlying TCP
    /// connection first", so it waits for the end of the stream, at most the close timeout.
    AwaitingEof { since: Option<Instant> },
    /// We end the transport: the driver shuts down its write side and reads (discarding) until
    /// the peer ends its side, at most [`Config::close_linger`](crate::Config::close_linger)
    /// from `since`.
    Lingering { since: Option<Instant> },
    /// Over: the transport may be released.
    Closed,
}

/// What moves the phase.
#[derive(Debug, Clone, Copy)]
pub(super) enum Event {
    /// We queued a Close frame.
    CloseSent,
    /// The peer's Close arrived (and, if ours had not gone out, the echo was queued).
    CloseReceived,
    /// The connection failed (§7.1.7): the peer broke the protocol.
    Failed,
    /// A timer gave up on the peer: nothing more is worth waiting for.
    Unresponsive,
    /// The transport's read side ended, and the input before it was decoded.
    InputEnded,
    /// A tick of the clock: timers that start at the first tick after their phase began start.
    Tick(Instant),
    /// The linger ran out.
    LingerOver,
}

impl Phase {
    /// The state as RFC 6455 names it.
    pub(super) fn state(self) -> State {
        match self {
            Phase::Open => State::Open,
            Phase::Closing { .. } => State::Closing,
            Phase::AwaitingEof { .. } | Phase::Lingering { .. } | Phase::Closed => State::Closed,
        }
    }

    /// Whether received bytes are still decoded: until the peer's Close, or a failure.
    pub(super) fn reads_input(self) -> bool {
        matches!(self, Phase::Open | Phase::Closing { .. })
    }
}

impl Connection {
    /// Moves the phase on `event`: the only place `phase` is assigned. Leaving the phases that
    /// decode input drops whatever input is buffered.
    pub(super) fn transition(&mut self, event: Event) {
        let next = match (self.phase, event) {
            (Phase::Open, Event::CloseSent) => Phase::Closing { since: None },
            (Phase::Open | Phase::Closing { .. }, Event::CloseReceived) => match self.role {
                Role::Server => self.end_transport(),
                Role::Client if self.input_ended => Phase::Closed,
                Role::Client => Phase::AwaitingEof { since: None },
            },
            (Phase::Open | Phase::Closing { .. }, Event::Failed) => self.end_transport(),
            (Phase::Closed, _) | (_, Event::Unresponsive | Event::InputEnded) => Phase::Closed,
            (Phase::Lingering { .. }, Event::LingerOver) => Phase::Closed,
            (Phase::Closing { since: None }, Event::Tick(now)) => {
                Phase::Closing { since: Some(now) }
            }
            (Phase::AwaitingEof { since: None }, Event::Tick(now)) => {
                Phase::AwaitingEof { since: Some(now) }
            }
            (Phase::Lingering { since: None }, Event::Tick(now)) => {
                Phase::Lingering { since: Some(now) }
            }
            (phase, _) => phase,
        };
        self.phase = next;
        if !next.reads_input() {
            self.recv = bytes::BytesMut::new();
            self.frame = None;
            self.assembly = None;
        }
    }

    /// After the closing handshake in the server role, or a failure: linger for the peer's end
    /// of the stream unless it already came or lingering is turned off.
    fn end_transport(&self) -> Phase {
        if self.input_ended || self.config.close_linger.is_zero() {
            Phase::Closed
        } else {
            Phase::Lingering { since: None }
        }
    }
}
