//! permessage-deflate parameters, [RFC 7692 §7.1](https://www.rfc-editor.org/rfc/rfc7692#section-7.1):
//! what an endpoint is willing to use, what both sides agreed on, and the
//! `Sec-WebSocket-Extensions` values that carry them.

/// The extension's registered name.
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// What this endpoint offers (client) or accepts (server) for permessage-deflate.
///
/// # Example
///
/// ```
/// use rfc6455::Config;
/// use rfc6455::deflate::DeflateConfig;
///
/// let config = Config::default().deflate(Some(DeflateConfig::default().threshold(256)));
/// assert_eq!(
///     DeflateConfig::default().offer(),
///     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
///      client_max_window_bits"
/// );
/// # let _ = config;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Compression level, 0 (none) to 9 (best). Default 1: most of the gain of compressing
    /// WebSocket traffic (JSON, text) comes at the fastest level.
    pub level: u32,
    /// Messages shorter than this are sent uncompressed: deflate adds bytes to tiny messages.
    /// Default 1024.
    pub threshold: usize,
    /// Ask for (client) or impose (server) that the server resets its compressor after every
    /// message. Default `true`: the server then keeps no compressor between messages, so an idle
    /// connection holds no compression state (see [`context_takeover`](Self::context_takeover)
    /// for the trade).
    pub server_no_context_takeover: bool,
    /// Promise (client) or impose (server) that the client resets its compressor after every
    /// message. Default `true`: the receiving side then keeps no decompressor between messages.
    pub client_no_context_takeover: bool,
    /// Largest window the server may compress with, 9 to 15. Default 15 (12 with
    /// [`context_takeover`](Self::context_takeover)). Without context takeover the window only
    /// changes the ratio of large messages: the state is pooled per thread, not per connection.
    pub server_max_window_bits: u8,
    /// Largest window the client may compress with, 9 to 15. Default 15 (12 with
    /// [`context_takeover`](Self::context_takeover)).
    pub client_max_window_bits: u8,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            level: 1,
            threshold: 1024,
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

impl DeflateConfig {
    /// No context takeover in either direction: compression state exists only while a message is
    /// being compressed or inflated, at some cost in ratio. This is the default.
    pub fn low_memory() -> Self {
        Self {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..Self::default()
        }
    }

    /// Context takeover in both directions, with 12-bit windows: each message may refer back to
    /// earlier ones, which compresses small, similar messages (chat, JSON updates) much better,
    /// but every connection then holds its compressor and decompressor for as long as it lives.
    ///
    /// Measured on chat-like JSON messages of 174 bytes on average (the table in the
    /// [`deflate`](crate::deflate#memory-and-ratio) module docs): on the wire 0.32 of the
    /// payload with 12-bit windows against 0.89 without context takeover, for about 229 KB of
    /// resident memory per connection and 640 ns of CPU per message. 15-bit windows
    /// (`.max_window_bits(15)`) reach 0.31 for about 343 KB and 500 ns; 9-bit windows fall to
    /// 0.45, take 1.45 µs and still hold about 215 KB, most of it the compressor's hash table
    /// and buffers, which the window does not size. A server with many
    /// connections stays on the default, no context takeover, where an idle connection holds no
    /// compression state.
    ///
    /// # Example
    ///
    /// ```
    /// use rfc6455::deflate::DeflateConfig;
    ///
    /// assert_eq!(
    ///     DeflateConfig::context_takeover().offer(),
    ///     "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
    /// );
    /// ```
    pub fn context_takeover() -> Self {
        Self {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 12,
            client_max_window_bits: 12,
            ..Self::default()
        }
    }

    /// Sets [`level`](Self::level) (clamped to 0–9).
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// Sets [`threshold`](Self::threshold).
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// Sets [`server_no_context_takeover`](Self::server_no_context_takeover).
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// Sets [`client_no_context_takeover`](Self::client_no_context_takeover).
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// Sets both window limits (clamped to 9–15): with context takeover, the trade between the
    /// memory each connection keeps and the ratio (see
    /// [`context_takeover`](Self::context_takeover)).
    pub fn max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = bits.clamp(9, 15);
        self.client_max_window_bits = bits.clamp(9, 15);
        self
    }

    /// The `Sec-WebSocket-Extensions` value a client sends.
    pub fn offer(&self) -> String {
        let mut offer = EXTENSION_NAME.to_owned();
        if self.server_no_context_takeover {
            offer.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            offer.push_str("; client_no_context_takeover");
        }
        if self.server_max_window_bits < 15 {
            offer.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits.max(9)
            ));
        }
        // Always offered: it tells the server it may limit our window.
        offer.push_str("; client_max_window_bits");
        if self.client_max_window_bits < 15 {
            offer.push_str(&format!("={}", self.client_max_window_bits.max(9)));
        }
        offer
    }
}

/// The parameters both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message.
    pub client_no_context_takeover: bool,
    /// Window the server compresses with.
    pub server_max_window_bits: u8,
    /// Window the client compresses with.
    pub client_max_window_bits: u8,
    /// Whether `client_max_window_bits` goes into the response (only if the client offered it).
    pub(crate) client_window_in_response: bool,
    /// Whether `server_max_window_bits` goes into the response.
    pub(crate) server_window_in_response: bool,
}

/// One direction of a compressed connection, as the codec needs it: the window its compressor
/// uses and whether the compressor starts afresh for every message (RFC 7692 §7.1.1, §7.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stream {
    /// LZ77 window, in bits.
    pub(crate) window_bits: u8,
    /// No context takeover: the compressor resets after every message.
    pub(crate) no_context_takeover: bool,
}

impl DeflateParams {
    /// The `(send, receive)` streams of the server if `is_server`, else of the client: each side
    /// sends what its own parameters describe and receives what the peer's do.
    pub(crate) fn streams(&self, is_server: bool) -> (Stream, Stream) {
        let server = Stream {
            window_bits: self.server_max_window_bits,
            no_context_takeover: self.server_no_context_takeover,
        };
        let client = Stream {
            window_bits: self.client_max_window_bits,
            no_context_takeover: self.client_no_context_takeover,
        };
        if is_server {
            (server, client)
        } else {
            (client, server)
        }
    }

    /// The `Sec-WebSocket-Extensions` value a server answers with.
    pub fn response(&self) -> String {
        let mut response = EXTENSION_NAME.to_owned();
        if self.server_no_context_takeover {
            response.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            response.push_str("; client_no_context_takeover");
        }
        if self.server_window_in_response {
            response.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        if self.client_window_in_response {
            response.push_str(&format!(
                "; client_max_window_bits={}",
                self.client_max_window_bits
            ));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_sends_its_own_stream_and_receives_the_peers() {
        let params = DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: 10,
            client_max_window_bits: 12,
            client_window_in_response: true,
            server_window_in_response: true,
        };
        let server = Stream {
            window_bits: 10,
            no_context_takeover: true,
        };
        let client = Stream {
            window_bits: 12,
            no_context_takeover: false,
        };
        assert_eq!(params.streams(true), (server, client));
        assert_eq!(params.streams(false), (client, server));
    }
}
