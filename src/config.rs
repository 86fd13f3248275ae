//! Limits and options of a connection, with defaults that suit a public server.

/// Options of a [`Connection`](crate::Connection).
///
/// Construct with [`Config::default`] and adjust with the builder methods; the type is
/// `#[non_exhaustive]` so that options can be added without breaking callers.
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
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 20,
            auto_pong: true,
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

    /// Sets [`auto_pong`](Self::auto_pong).
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }
}
