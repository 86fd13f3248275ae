//! permessage-deflate, [RFC 7692](https://www.rfc-editor.org/rfc/rfc7692) (feature `deflate`):
//! negotiation (§7.1) and per-message compression (§7.2), with inflation bounded by the message
//! size limit.
//!
//! # Negotiation
//!
//! Set [`Config::deflate`](crate::Config::deflate) and the adapters negotiate by themselves. Driving
//! the core by hand, a server calls [`negotiate`] on the client's offers, puts
//! [`DeflateParams::response`] into its [`Accept`](crate::handshake::Accept) and builds the
//! connection with [`Connection::with_deflate`](crate::Connection::with_deflate); a client sends
//! [`DeflateConfig::offer`] and checks the answer with [`accept_response`].
//!
//! # Window sizes
//!
//! zlib cannot compress raw deflate with an 8-bit window (it silently uses 9, which a peer limited
//! to 8 could not inflate). So, as RFC-conforming zlib-based peers do, a server declines an offer
//! that asks it for `server_max_window_bits=8` (and takes the next offer, if any), and a client
//! fails the handshake if the server asks it for `client_max_window_bits=8`. Inflating works with
//! any window: a stream made with an 8-bit window decodes with a 9-bit one.
//!
//! # Memory
//!
//! A compressor with a 15-bit window holds about 256 KiB and a decompressor about 40 KiB. With no
//! context takeover on a side, that side's state is dropped after every message and rebuilt for
//! the next, so an idle connection holds none: [`DeflateConfig::low_memory`] turns that on for
//! both sides.
#![forbid(unsafe_code)]

use bytes::BytesMut;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::connection::Role;
use crate::error::ProtocolError;
use crate::handshake::ExtensionOffer;

/// The extension's registered name.
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// RFC 7692 §7.2.1: the four bytes a sync flush ends with, removed on send and restored on
/// receive.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Output is produced in chunks of this size, so the size limit is checked while inflating.
const INFLATE_CHUNK: usize = 16 * 1024;

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
///     "permessage-deflate; client_max_window_bits"
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
    /// message.
    pub server_no_context_takeover: bool,
    /// Promise (client) or ask (server) that the client resets its compressor after every
    /// message.
    pub client_no_context_takeover: bool,
    /// Largest window the server may compress with, 9 to 15. Default 15.
    pub server_max_window_bits: u8,
    /// Largest window the client may compress with, 9 to 15. Default 15.
    pub client_max_window_bits: u8,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            level: 1,
            threshold: 1024,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

impl DeflateConfig {
    /// No context takeover in either direction: compression state exists only while a message is
    /// being compressed or inflated, at some cost in ratio.
    pub fn low_memory() -> Self {
        Self {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
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

    /// Sets both window limits (clamped to 9–15).
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
    client_window_in_response: bool,
    /// Whether `server_max_window_bits` goes into the response.
    server_window_in_response: bool,
}

impl DeflateParams {
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

/// The parameters of one offer or response, each seen at most once.
#[derive(Debug, Default)]
struct Parsed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: the parameter without a value (allowed in a client's offer only).
    client_max_window_bits: Option<Option<u8>>,
}

/// Why an offer or response was unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeflateNegotiationError {
    /// A parameter RFC 7692 does not define.
    #[error("unknown permessage-deflate parameter {0:?}")]
    UnknownParameter(String),
    /// A parameter given twice (§7.1: "MUST NOT ... more than one").
    #[error("duplicate permessage-deflate parameter {0:?}")]
    DuplicateParameter(String),
    /// A value missing, present where none is allowed, or outside 8–15.
    #[error("invalid value for permessage-deflate parameter {0:?}")]
    InvalidValue(String),
    /// The server limited the client to a window zlib cannot compress with (8 bits).
    #[error("the server asked for an 8-bit client window, which zlib cannot produce")]
    UnsupportedWindow,
    /// The server's response exceeds what the client offered (a larger window than offered).
    #[error("the server's response does not match the offer")]
    ResponseNotOffered,
    /// The response accepted permessage-deflate more than once.
    #[error("permessage-deflate accepted twice")]
    Duplicate,
}

fn parse(offer: &ExtensionOffer, is_offer: bool) -> Result<Parsed, DeflateNegotiationError> {
    let mut parsed = Parsed::default();
    for (name, value) in &offer.params {
        let duplicate = || DeflateNegotiationError::DuplicateParameter(name.clone());
        let invalid = || DeflateNegotiationError::InvalidValue(name.clone());
        match name.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" | "client_no_context_takeover" => {
                if value.is_some() {
                    return Err(invalid());
                }
                let flag = if name.eq_ignore_ascii_case("server_no_context_takeover") {
                    &mut parsed.server_no_context_takeover
                } else {
                    &mut parsed.client_no_context_takeover
                };
                if std::mem::replace(flag, true) {
                    return Err(duplicate());
                }
            }
            "server_max_window_bits" => {
                let bits = value.as_deref().and_then(window_bits).ok_or_else(invalid)?;
                if parsed.server_max_window_bits.replace(bits).is_some() {
                    return Err(duplicate());
                }
            }
            "client_max_window_bits" => {
                // RFC 7692 §7.1.2.2: in an offer the value may be omitted; in a response it is
                // required.
                let bits = match value {
                    None if is_offer => None,
                    None => return Err(invalid()),
                    Some(v) => Some(window_bits(v).ok_or_else(invalid)?),
                };
                if parsed.client_max_window_bits.replace(bits).is_some() {
                    return Err(duplicate());
                }
            }
            _ => return Err(DeflateNegotiationError::UnknownParameter(name.clone())),
        }
    }
    Ok(parsed)
}

/// RFC 7692 §7.1.2: "a decimal integer value without leading zeroes between 8 to 15".
fn window_bits(value: &str) -> Option<u8> {
    match value {
        "8" | "9" | "10" | "11" | "12" | "13" | "14" | "15" => value.parse().ok(),
        _ => None,
    }
}

/// Server side: picks the first permessage-deflate offer it can accept (RFC 7692 §5.1), or
/// `None` to decline the extension. Malformed offers are declined, not failed.
///
/// # Example
///
/// ```
/// use rfc6455::deflate::{DeflateConfig, negotiate};
/// use rfc6455::handshake::ExtensionOffer;
///
/// let offers = ExtensionOffer::parse_list(
///     b"permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits",
/// )?;
/// // The first offer asks for an 8-bit window zlib cannot produce; the second is taken.
/// let params = negotiate(&offers, &DeflateConfig::default()).expect("accepted");
/// assert_eq!(params.response(), "permessage-deflate");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn negotiate(offers: &[ExtensionOffer], config: &DeflateConfig) -> Option<DeflateParams> {
    offers
        .iter()
        .filter(|offer| offer.name.eq_ignore_ascii_case(EXTENSION_NAME))
        .find_map(|offer| {
            let parsed = parse(offer, true).ok()?;
            let own_limit = config.server_max_window_bits.clamp(9, 15);
            let server_window = match parsed.server_max_window_bits {
                Some(8) => return None,
                Some(bits) => bits.min(own_limit),
                None => own_limit,
            };
            let client_limit = config.client_max_window_bits.clamp(9, 15);
            let (client_window, client_in_response) = match parsed.client_max_window_bits {
                // We may only limit the client if it said it supports the parameter.
                Some(offered) => {
                    let bits = offered.unwrap_or(15).min(client_limit);
                    (bits, bits < 15 || offered.is_some())
                }
                None => (15, false),
            };
            Some(DeflateParams {
                server_no_context_takeover: parsed.server_no_context_takeover
                    || config.server_no_context_takeover,
                client_no_context_takeover: parsed.client_no_context_takeover
                    || config.client_no_context_takeover,
                server_max_window_bits: server_window,
                client_max_window_bits: client_window,
                client_window_in_response: client_in_response,
                server_window_in_response: parsed.server_max_window_bits.is_some()
                    || server_window < 15,
            })
        })
}

/// Client side: checks the server's answer to [`DeflateConfig::offer`]. `Ok(None)`: the server
/// declined compression. An `Err` must fail the connection (RFC 7692 §5.1).
pub fn accept_response(
    accepted: &[ExtensionOffer],
    config: &DeflateConfig,
) -> Result<Option<DeflateParams>, DeflateNegotiationError> {
    let mut ours = accepted
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case(EXTENSION_NAME));
    let Some(response) = ours.next() else {
        return Ok(None);
    };
    if ours.next().is_some() {
        return Err(DeflateNegotiationError::Duplicate);
    }
    let parsed = parse(response, false)?;
    // The server may not exceed the window we asked it to stay within.
    let server_window = parsed.server_max_window_bits.unwrap_or(15);
    if config.server_max_window_bits < 15 && server_window > config.server_max_window_bits.max(9) {
        return Err(DeflateNegotiationError::ResponseNotOffered);
    }
    // We offered server_no_context_takeover: a server that accepts the offer MUST echo it.
    if config.server_no_context_takeover && !parsed.server_no_context_takeover {
        return Err(DeflateNegotiationError::ResponseNotOffered);
    }
    let client_window = match parsed.client_max_window_bits.flatten() {
        Some(8) => return Err(DeflateNegotiationError::UnsupportedWindow),
        Some(bits)
            if config.client_max_window_bits < 15
                && bits > config.client_max_window_bits.max(9) =>
        {
            return Err(DeflateNegotiationError::ResponseNotOffered);
        }
        Some(bits) => bits,
        None => config.client_max_window_bits.clamp(9, 15),
    };
    Ok(Some(DeflateParams {
        server_no_context_takeover: parsed.server_no_context_takeover,
        // Offering it was a promise (RFC 7692 §7.1.1.2), so we keep it even if not echoed.
        client_no_context_takeover: parsed.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: server_window,
        client_max_window_bits: client_window,
        client_window_in_response: parsed.client_max_window_bits.is_some(),
        server_window_in_response: parsed.server_max_window_bits.is_some(),
    }))
}

/// A connection's compression state.
pub(crate) struct Deflate {
    params: DeflateParams,
    level: u32,
    pub(crate) threshold: usize,
    /// Our compressor's window and whether it restarts every message.
    send_window: u8,
    send_reset: bool,
    /// The peer's window (at least 9, see the module docs) and whether it restarts every message.
    receive_window: u8,
    receive_reset: bool,
    /// Created on first use and dropped after a message when its context is not taken over.
    compressor: Option<Box<Compress>>,
    decompressor: Option<Box<Decompress>>,
    /// Compressed output of the message being sent.
    scratch: Vec<u8>,
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Deflate {
    pub(crate) fn new(role: Role, params: DeflateParams, config: Option<&DeflateConfig>) -> Self {
        let defaults = DeflateConfig::default();
        let config = config.unwrap_or(&defaults);
        let (send_window, send_reset, receive_window, receive_reset) = match role {
            Role::Server => (
                params.server_max_window_bits,
                params.server_no_context_takeover,
                params.client_max_window_bits,
                params.client_no_context_takeover,
            ),
            Role::Client => (
                params.client_max_window_bits,
                params.client_no_context_takeover,
                params.server_max_window_bits,
                params.server_no_context_takeover,
            ),
        };
        Self {
            params,
            level: config.level,
            threshold: config.threshold,
            send_window: send_window.clamp(9, 15),
            send_reset,
            receive_window: receive_window.clamp(9, 15),
            receive_reset,
            compressor: None,
            decompressor: None,
            scratch: Vec::new(),
        }
    }

    /// Compresses one message (or one fragment of it; `is_final` ends the message) and returns
    /// the bytes to send, without the sync-flush tail.
    pub(crate) fn compress(&mut self, payload: &[u8], is_final: bool) -> &[u8] {
        let (level, window) = (self.level, self.send_window);
        let compressor = self.compressor.get_or_insert_with(|| {
            Box::new(Compress::new_with_window_bits(
                Compression::new(level),
                false,
                window,
            ))
        });
        self.scratch.clear();
        self.scratch.reserve(payload.len() / 2 + 64);
        let start_in = compressor.total_in();
        loop {
            let consumed = (compressor.total_in() - start_in) as usize;
            if self.scratch.len() == self.scratch.capacity() {
                self.scratch.reserve(self.scratch.capacity().max(64));
            }
            // Errors are impossible for a well-formed stream we drive ourselves; stop on one.
            let Ok(_) = compressor.compress_vec(
                &payload[consumed..],
                &mut self.scratch,
                FlushCompress::Sync,
            ) else {
                break;
            };
            let done = (compressor.total_in() - start_in) as usize == payload.len();
            // A sync flush is complete once all input is consumed and the output did not fill.
            if done && self.scratch.len() < self.scratch.capacity() {
                break;
            }
        }
        // RFC 7692 §7.2.1: the tail is removed from the end of the message only; inside a
        // fragmented message the flush marker is part of the stream.
        if is_final && self.scratch.ends_with(&TAIL) {
            self.scratch.truncate(self.scratch.len() - TAIL.len());
        }
        if is_final && self.send_reset {
            self.compressor = None;
        }
        if is_final && self.scratch.is_empty() {
            // An empty message compresses to an empty stored block (RFC 7692 §7.2.3.6).
            self.scratch.push(0x00);
        }
        &self.scratch
    }

    /// Inflates one frame of a compressed message into `out`, never letting `out` grow past `max`
    /// bytes. `is_final` appends the tail the sender removed and ends the message.
    pub(crate) fn decompress(
        &mut self,
        payload: &[u8],
        is_final: bool,
        out: &mut BytesMut,
        max: usize,
    ) -> Result<(), ProtocolError> {
        let window = self.receive_window;
        let decompressor = self
            .decompressor
            .get_or_insert_with(|| Box::new(Decompress::new_with_window_bits(false, window)));
        let mut chunk = [0u8; INFLATE_CHUNK];
        for input in [payload, if is_final { &TAIL[..] } else { &[][..] }] {
            let mut consumed = 0;
            loop {
                let before_in = decompressor.total_in();
                let before_out = decompressor.total_out();
                let status = decompressor
                    .decompress(&input[consumed..], &mut chunk, FlushDecompress::Sync)
                    .map_err(|_| ProtocolError::InvalidCompressedData)?;
                consumed += (decompressor.total_in() - before_in) as usize;
                let produced = (decompressor.total_out() - before_out) as usize;
                if out.len() + produced > max {
                    return Err(ProtocolError::MessageTooLarge {
                        size: (out.len() + produced) as u64,
                        max,
                    });
                }
                out.extend_from_slice(&chunk[..produced]);
                if status == Status::StreamEnd {
                    // RFC 7692 §7.2.3.4: a message may end with a final block (BFINAL). It ends
                    // the deflate stream; what follows it in the message (padding, the tail) is
                    // ignored, and the next message starts a fresh stream.
                    self.decompressor = None;
                    return Ok(());
                }
                // Done with this input once it is consumed and the output did not fill the chunk.
                if consumed == input.len() && produced < chunk.len() {
                    break;
                }
                if produced == 0 && (decompressor.total_in() - before_in) == 0 {
                    // No progress on non-empty input: the stream is stuck.
                    return Err(ProtocolError::InvalidCompressedData);
                }
            }
        }
        if is_final && self.receive_reset {
            self.decompressor = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offers(header: &str) -> Vec<ExtensionOffer> {
        ExtensionOffer::parse_list(header.as_bytes()).unwrap()
    }

    #[test]
    fn server_takes_the_first_acceptable_offer() {
        let config = DeflateConfig::default();
        let params = negotiate(&offers("permessage-deflate"), &config).unwrap();
        assert_eq!(params.response(), "permessage-deflate");
        let params = negotiate(
            &offers("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=10; server_no_context_takeover"),
            &config,
        )
        .unwrap();
        assert_eq!(
            params.response(),
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
        );
        assert_eq!(
            (params.server_max_window_bits, params.client_max_window_bits),
            (15, 10)
        );
        let params = negotiate(
            &offers("permessage-deflate; server_max_window_bits=9"),
            &config,
        )
        .unwrap();
        assert_eq!(
            params.response(),
            "permessage-deflate; server_max_window_bits=9"
        );
    }

    #[test]
    fn server_declines_malformed_duplicated_or_out_of_range_offers() {
        let config = DeflateConfig::default();
        for bad in [
            "permessage-deflate; foo",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=09",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=8",
        ] {
            assert_eq!(negotiate(&offers(bad), &config), None, "{bad}");
            // With a good fallback offer after it, the fallback is taken.
            let with_fallback = format!("{bad}, permessage-deflate");
            assert!(
                negotiate(&offers(&with_fallback), &config).is_some(),
                "{with_fallback}"
            );
        }
    }

    #[test]
    fn server_config_imposes_its_own_limits() {
        let config = DeflateConfig::low_memory().max_window_bits(10);
        let params = negotiate(
            &offers("permessage-deflate; client_max_window_bits"),
            &config,
        )
        .unwrap();
        assert_eq!(
            params.response(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=10"
        );
    }

    #[test]
    fn client_checks_the_response() {
        let config = DeflateConfig::default();
        assert_eq!(accept_response(&[], &config), Ok(None));
        let params = accept_response(
            &offers("permessage-deflate; server_max_window_bits=10"),
            &config,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (params.server_max_window_bits, params.client_max_window_bits),
            (10, 15)
        );
        assert_eq!(
            accept_response(
                &offers("permessage-deflate; client_max_window_bits=8"),
                &config
            ),
            Err(DeflateNegotiationError::UnsupportedWindow)
        );
        assert_eq!(
            accept_response(
                &offers("permessage-deflate; client_max_window_bits"),
                &config
            ),
            Err(DeflateNegotiationError::InvalidValue(
                "client_max_window_bits".into()
            ))
        );
        assert_eq!(
            accept_response(&offers("permessage-deflate, permessage-deflate"), &config),
            Err(DeflateNegotiationError::Duplicate)
        );
        let strict = DeflateConfig {
            server_no_context_takeover: true,
            server_max_window_bits: 10,
            ..config
        };
        assert_eq!(
            accept_response(
                &offers(
                    "permessage-deflate; server_no_context_takeover; server_max_window_bits=12"
                ),
                &strict
            ),
            Err(DeflateNegotiationError::ResponseNotOffered)
        );
        assert_eq!(
            accept_response(&offers("permessage-deflate"), &strict),
            Err(DeflateNegotiationError::ResponseNotOffered)
        );
    }

    fn pair(params: DeflateParams) -> (Deflate, Deflate) {
        (
            Deflate::new(Role::Client, params, None),
            Deflate::new(Role::Server, params, None),
        )
    }

    fn default_params() -> DeflateParams {
        negotiate(&offers("permessage-deflate"), &DeflateConfig::default()).unwrap()
    }

    #[test]
    fn messages_round_trip_with_and_without_context_takeover() {
        for config in [DeflateConfig::default(), DeflateConfig::low_memory()] {
            let params = negotiate(&offers("permessage-deflate"), &config).unwrap();
            let (mut client, mut server) = pair(params);
            for message in [
                &b"hello hello hello hello"[..],
                b"",
                &[7u8; 100_000],
                b"hello hello",
            ] {
                let compressed = client.compress(message, true).to_vec();
                assert!(!compressed.ends_with(&TAIL));
                let mut out = BytesMut::new();
                server
                    .decompress(&compressed, true, &mut out, usize::MAX)
                    .unwrap();
                assert_eq!(&out[..], message);
            }
            assert_eq!(
                client.compressor.is_none(),
                config.client_no_context_takeover
            );
            assert_eq!(
                server.decompressor.is_none(),
                config.client_no_context_takeover
            );
        }
    }

    #[test]
    fn rfc_7692_section_7_2_3_examples() {
        let (_, mut server) = pair(default_params());
        // §7.2.3.1: "Hello" compressed in one frame.
        let mut out = BytesMut::new();
        server
            .decompress(
                &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
                true,
                &mut out,
                100,
            )
            .unwrap();
        assert_eq!(&out[..], b"Hello");
        // §7.2.3.2: the same again, referencing the previous message (context takeover).
        let mut out = BytesMut::new();
        server
            .decompress(&[0xf2, 0x00, 0x11, 0x00, 0x00], true, &mut out, 100)
            .unwrap();
        assert_eq!(&out[..], b"Hello");
        // §7.2.3.3: no compression (a stored block), and the message split over two frames.
        let (_, mut server) = pair(default_params());
        let mut out = BytesMut::new();
        server
            .decompress(
                &[0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65],
                false,
                &mut out,
                100,
            )
            .unwrap();
        server
            .decompress(&[0x6c, 0x6c, 0x6f, 0x00], true, &mut out, 100)
            .unwrap();
        assert_eq!(&out[..], b"Hello");
        // §7.2.3.4: a final block (BFINAL set) is allowed too.
        let (_, mut server) = pair(default_params());
        let mut out = BytesMut::new();
        server
            .decompress(
                &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
                true,
                &mut out,
                100,
            )
            .unwrap();
        assert_eq!(&out[..], b"Hello");
    }

    #[test]
    fn a_small_bomb_stops_at_the_limit_without_holding_more() {
        let params = default_params();
        let mut client = Deflate::new(
            Role::Client,
            params,
            Some(&DeflateConfig::default().level(9)),
        );
        let mut server = Deflate::new(Role::Server, params, None);
        // 10 MiB of zeros in a few KiB.
        let bomb = client.compress(&vec![0u8; 10 << 20], true).to_vec();
        assert!(bomb.len() < 16 * 1024, "{}", bomb.len());
        let mut out = BytesMut::new();
        let limit = 1 << 20;
        let error = server.decompress(&bomb, true, &mut out, limit).unwrap_err();
        assert!(matches!(error, ProtocolError::MessageTooLarge { max, .. } if max == limit));
        assert!(out.len() <= limit);
        assert!(out.capacity() <= 2 * limit, "capacity {}", out.capacity());
    }

    #[test]
    fn garbage_is_invalid_compressed_data() {
        let (_, mut server) = pair(default_params());
        let mut out = BytesMut::new();
        assert_eq!(
            server.decompress(&[0xff, 0xff, 0xff, 0xff], true, &mut out, 1000),
            Err(ProtocolError::InvalidCompressedData)
        );
    }
}
