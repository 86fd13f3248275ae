//! permessage-deflate, [RFC 7692](https://www.rfc-editor.org/rfc/rfc7692) (feature `deflate`):
//! the parameters (§7.1) and the per-message compression they configure (§7.2), with inflation
//! bounded by the message size limit.
//!
//! This module is the codec only. Negotiating the parameters is part of the opening handshake:
//! see [`handshake::deflate`](crate::handshake::deflate).
//!
//! # Negotiation
//!
//! Set [`Config::deflate`](crate::Config::deflate) and the adapters negotiate by themselves. Driving
//! the core by hand, a server calls [`handshake::deflate::negotiate`](crate::handshake::deflate::negotiate)
//! on the client's offers, puts [`DeflateParams::response`] into its
//! [`Accept`](crate::handshake::Accept) and builds the connection with
//! [`Connection::with_deflate`](crate::Connection::with_deflate); a client sends
//! [`DeflateConfig::offer`] and checks the answer with
//! [`handshake::deflate::accept_response`](crate::handshake::deflate::accept_response).
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
//! context takeover on a side, that side's state is borrowed from a per-thread pool for one message
//! and given back, reset, when the message ends, so an idle connection holds none and a thread
//! allocates it once rather than once per message. The pool keeps at most two compressors and two
//! decompressors idle per thread (about 600 KiB with 15-bit windows). [`DeflateConfig::low_memory`]
//! turns no context takeover on for both sides.
#![forbid(unsafe_code)]

mod codec;
mod params;
mod pool;

pub(crate) use codec::{Deflate, compress_alone};
pub use params::{DeflateConfig, DeflateParams, EXTENSION_NAME};
