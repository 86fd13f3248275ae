//! Limits and options of a connection, with defaults that suit a public server.
#![forbid(unsafe_code)]

use std::time::Duration;

/// The keepalive interval of [`Config::default`]: a Ping after 20 s without a received frame.
///
/// A peer that vanished without a FIN (a dropped NAT entry, a sleeping laptop) must not keep a
/// connection open forever, and 20 s is what browsers' peers commonly use and keeps NAT mappings
/// alive.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(20);

/// Queued output past which the adapters write a send even while received input is still
/// waiting to be handed out (see [`blocking`](crate::blocking)'s write batching).
pub const CORK_LIMIT: usize = 64 * 1024;

/// Options of a [`Connection`](crate::Connection).
///
/// Construct with [`Config::default`] and adjust with the builder methods; the type is
/// `#[non_exhaustive]` so that options can be added without breaking callers.
///
/// Everything that takes a configuration takes `impl Into<Arc<Config>>`: pass a `Config` for one
/// connection, or build an `Arc<Config>` once and clone it into each connection of a server, so
/// that ten thousand connections hold one copy of it (about 150 bytes each saved).
///
/// # Example
///
/// ```
/// use rfc6455::Config;
///
/// let config = Config::default().max_message_size(1 << 20).auto_pong(false);
/// assert_eq!(config.max_message_size, 1 << 20);
/// assert_eq!(config.max_frame_size, 1 << 20); // a frame can't be larger than its message
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Largest payload of a single frame, checked against the declared length before any byte is
    /// buffered. Default 16 MiB.
    pub max_frame_size: usize,
    /// Largest message (all fragments together), checked on each frame's declared length. Default
    /// 64 MiB.
    pub max_message_size: usize,
    /// Most frames one message may be split into. Default 2^20, enough for a 64 MiB message in
    /// 64-byte fragments.
    pub max_fragments: usize,
    /// Answer every Ping with a Pong automatically (RFC 6455 §5.5.2 requires an answer). Default
    /// true; turn it off only to answer pings yourself.
    pub auto_pong: bool,
    /// Send a Ping after this long without a received frame (keepalive); if nothing arrives
    /// within [`pong_timeout`](Self::pong_timeout) after it, the connection fails with Close
    /// 1011 "keepalive timeout". Default [`DEFAULT_PING_INTERVAL`] (20 s) everywhere, in the core
    /// and in every adapter; `None` turns keepalive off, explicitly.
    ///
    /// The timer runs only when time is given to the connection
    /// ([`handle_timeout`](crate::Connection::handle_timeout)): the adapters do it, and a
    /// sans-IO driver that never passes time in never sees a keepalive Ping.
    ///
    /// ```
    /// use std::time::Duration;
    /// use rfc6455::Config;
    ///
    /// assert_eq!(Config::default().ping_interval, Some(Duration::from_secs(20)));
    /// let quiet = Config::default().ping_interval(None); // no keepalive
    /// assert_eq!(quiet.ping_interval, None);
    /// ```
    pub ping_interval: Option<Duration>,
    /// How long after a keepalive ping a frame must arrive before the connection fails. Default
    /// 20 s.
    pub pong_timeout: Duration,
    /// How long to wait for the peer's Close after ours (and, for a client, for the server to end
    /// the transport afterwards). Default 10 s.
    pub close_timeout: Duration,
    /// How long, once the write side is shut down
    /// ([`Transport::ShutdownWrite`](crate::Transport::ShutdownWrite)), to keep reading for the
    /// peer's end of the stream before giving up on it
    /// ([`Transport::Release`](crate::Transport::Release)). Closing a socket with unread input
    /// makes the kernel send a reset, which can destroy our Close frame before the peer reads
    /// it; half-closing and waiting for the peer's FIN lets both ends finish cleanly. Default
    /// 2 s; zero turns lingering off.
    pub close_linger: Duration,
    /// Fail the connection after this long without a received frame. Default `None`.
    pub idle_timeout: Option<Duration>,
    /// How long a client may take to send its whole opening request, a defence against peers
    /// that trickle it (slowloris). Applied by the tokio adapter's `accept`; with the blocking
    /// adapter, set a read timeout on the stream. Default 10 s.
    pub handshake_timeout: Option<Duration>,
    /// High-water mark of the send buffer: once this many bytes wait to be written,
    /// [`transport`](crate::Connection::transport) says
    /// [`PauseReading`](crate::Transport::PauseReading) until the transport drains them, so that
    /// replies the connection owes by itself (pongs, the close echo) cannot pile up for a peer
    /// that sends and never reads. Sends are never refused for it: what the application queues
    /// between writes is its own to bound ([`Connection::pending_transmit`](crate::Connection::pending_transmit)
    /// says how much waits). Default 1 MiB.
    pub max_send_buffer: usize,
    /// permessage-deflate (RFC 7692): offered by a client, accepted by a server when the peer
    /// offers it. Default `None`.
    #[cfg(feature = "deflate")]
    pub deflate: Option<crate::deflate::DeflateConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 20,
            auto_pong: true,
            ping_interval: Some(DEFAULT_PING_INTERVAL),
            pong_timeout: Duration::from_secs(20),
            close_timeout: Duration::from_secs(10),
            close_linger: Duration::from_secs(2),
            idle_timeout: None,
            handshake_timeout: Some(Duration::from_secs(10)),
            max_send_buffer: 1 << 20,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }
}

impl Config {
    /// Sets [`max_frame_size`](Self::max_frame_size).
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets [`max_message_size`](Self::max_message_size), lowering `max_frame_size` to match if it
    /// was larger.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self.max_frame_size = self.max_frame_size.min(bytes);
        self
    }

    /// Sets [`max_fragments`](Self::max_fragments).
    pub fn max_fragments(mut self, count: usize) -> Self {
        self.max_fragments = count;
        self
    }

    /// Sets [`ping_interval`](Self::ping_interval).
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// Sets [`pong_timeout`](Self::pong_timeout).
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = timeout;
        self
    }

    /// Sets [`close_timeout`](Self::close_timeout).
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets [`close_linger`](Self::close_linger).
    pub fn close_linger(mut self, linger: Duration) -> Self {
        self.close_linger = linger;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`handshake_timeout`](Self::handshake_timeout).
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Sets [`max_send_buffer`](Self::max_send_buffer).
    pub fn max_send_buffer(mut self, bytes: usize) -> Self {
        self.max_send_buffer = bytes;
        self
    }

    /// Sets [`deflate`](Self::deflate).
    #[cfg(feature = "deflate")]
    pub fn deflate(mut self, deflate: Option<crate::deflate::DeflateConfig>) -> Self {
        self.deflate = deflate;
        self
    }

    /// Sets [`auto_pong`](Self::auto_pong).
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }
}
