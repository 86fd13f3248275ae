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
//! With no context takeover on a side (the default, both ways), that side's state is borrowed
//! from a per-thread pool for one message and given back, reset, when the message ends, so an
//! idle connection holds none and a thread allocates it once rather than once per message. The
//! pool keeps at most two compressors and two decompressors idle per thread (about 820 KiB with
//! 15-bit windows). Pooled decompressors always use a 15-bit window, which inflates a stream
//! made with any smaller one, so one serves peers of every window.
//!
//! With context takeover the state lives with the connection for as long as it lives: a
//! compressor (zlib-rs allocates 4 × 2^bits bytes for the window and its hash chains, plus a
//! 128 KiB hash table and 112 KiB of buffers that the window does not size: about 370 KiB at
//! 15 bits, 240 KiB at 9, not all of it touched) and a decompressor (2^bits bytes of window plus
//! its tables). The window is the size to trade
//! ([`DeflateConfig::max_window_bits`]); zlib's other size, `memLevel`, is fixed at 8 because
//! `flate2` does not expose it. [`DeflateConfig::context_takeover`] uses 12-bit windows.
//!
//! # Memory and ratio
//!
//! Measured on a realistic sample: 2,000 chat-like JSON messages (174 bytes on average) sent in
//! order, and the same messages batched into JSON arrays of about 1 KiB; "on the wire" is the
//! frames' bytes over the payload's, at level 1 with no threshold. Memory is the resident memory
//! one connection adds after a 2 KiB message echoed compressed (Linux, glibc, 100 client and
//! server pairs in a fresh process each):
//!
//! | window bits | chat, no context takeover | chat, context takeover | 1 KiB batches, no context takeover | 1 KiB batches, context takeover | bytes per connection, no context takeover | context takeover |
//! |---:|---:|---:|---:|---:|---:|---:|
//! | 9 | 0.89 | 0.45 | 0.51 | 0.45 | 3,502 | 214,650 |
//! | 10 | 0.89 | 0.35 | 0.44 | 0.35 | 3,133 | 216,248 |
//! | 12 | 0.89 | 0.32 | 0.44 | 0.30 | 3,153 | 228,577 |
//! | 14 | 0.89 | 0.31 | 0.44 | 0.29 | 3,153 | 277,729 |
//! | 15 | 0.89 | 0.31 | 0.44 | 0.29 | 3,174 | 343,183 |
//!
//! Without context takeover a small message barely compresses (hence the 1 KiB default
//! threshold) and the window hardly matters; with it, 12 bits keep nearly all of the ratio of 15
//! for two thirds of the memory, and below 12 the ratio falls while the memory barely does.
//!
//! The CPU a server spends compressing and framing each message (level 1, the best of five passes;
//! two runs within 3% of each other). Without context takeover every message pays about 2 µs
//! that does not depend on its size: resetting the pooled compressor clears zlib-rs's 128 KiB hash
//! table. So a small message costs five times the CPU it costs with context takeover, which is one
//! more reason the 1 KiB threshold exists and a broadcast compresses once. Small windows cost CPU
//! too: the window slides more often, and each slide rebases the hash table, so 12-bit windows
//! take about 30% longer than 15-bit ones, and 9- or 10-bit ones 2 to 3.3 times as long.
//!
//! | window bits | ns per chat message, no context takeover | context takeover | ns per 1 KiB batch, no context takeover | context takeover |
//! |---:|---:|---:|---:|---:|
//! | 9 | 2,720 | 1,450 | 6,940 | 7,130 |
//! | 10 | 2,690 | 990 | 4,490 | 4,810 |
//! | 12 | 2,690 | 640 | 4,520 | 2,890 |
//! | 14 | 2,700 | 530 | 4,480 | 2,280 |
//! | 15 | 2,700 | 500 | 4,510 | 2,180 |
//!
//! Both tables come from `cargo test --release --features deflate --test deflate_tradeoffs --
//! --ignored --nocapture --test-threads=1`.
//!
//! # Broadcast
//!
//! A [`PreparedMessage`](crate::PreparedMessage) sent to many connections is compressed once
//! for all of those whose sending side has no context takeover and the same level and window,
//! and its compressed frame is shared (see
//! [compressed once for many](crate::prepared#compressed-once-for-many)); a connection with
//! context takeover compresses it itself.
#![forbid(unsafe_code)]

mod codec;
mod params;
mod pool;

pub(crate) use codec::{Deflate, compress_alone};
pub use params::{DeflateConfig, DeflateParams, EXTENSION_NAME};
