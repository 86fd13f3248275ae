//! A WebSocket ([RFC 6455](https://www.rfc-editor.org/rfc/rfc6455)) implementation built around a
//! sans-IO core: bytes in, events out; messages in, bytes out.
//!
//! The core ([`Connection`], [`handshake`]) never touches a socket, a clock or a thread, so it can
//! be driven from any I/O model: blocking sockets, tokio, epoll, io_uring, an HTTP/2 stream, a
//! fuzzer or a test. Thin adapters for the common cases sit behind features: [`blocking`] (`std`,
//! on by default) and [`tokio`] (`tokio`). On top of the tokio adapter, [`rooms`] (`rooms`)
//! publishes to rooms of connections, encoded once, and with `redis` across many processes.
//!
//! ```text
//!     bytes from the socket                         bytes to the socket
//!              │                                             ▲
//!   ┌──────────▼─────────────────────────────────────────────┴────────┐
//!   │ adapters (blocking, tokio, hyper, http2, connector, tls,        │
//!   │ reconnect, rooms and their Redis backplane):                    │
//!   │ loops that move bytes, nothing more; their `Error`              │
//!   └──────────┬─────────────────────────────────────────────▲────────┘
//!              │ handle_input(&[u8]), handle_eof(),         │ poll_transmit(&mut Vec),
//!              │ handle_timeout(now)                         │ transport(), poll_timeout()
//!   ┌──────────▼─────────────────────────────────────────────┴────────┐
//!   │ handshake (HTTP/1.1 upgrade, HTTP/2 CONNECT, extension offers)  │
//!   │ connection (phase, receive, send, timers, transmit)             │
//!   │ extension codecs (permessage-deflate)                           │
//!   │ wire vocabulary (frame, mask, utf8, close, message, prepared)   │
//!   └──────────┬──────────────────────────────────────────────────────┘
//!              │ poll_recv() → Message / ConnectionError
//!              ▼
//!        the application
//! ```
//!
//! Layers import downward only; `tests/layering.rs` fails on an import that goes up or a cycle.
//!
//! # Install
//!
//! Pick the line for your use case:
//!
//! | use case | install | entry point |
//! |---|---|---|
//! | axum server | `cargo add rfc6455 --features axum` | `rfc6455::axum::WebSocketUpgrade` |
//! | bare hyper 1.x server | `cargo add rfc6455 --features hyper` | `rfc6455::hyper::upgrade` |
//! | tokio server or `ws://` client | `cargo add rfc6455 --features tokio` | `rfc6455::tokio::{WebSocket, connect}` |
//! | `wss://` client | `cargo add rfc6455 --features rustls` | `rfc6455::tls::connect`, `rfc6455::connector::Connector` |
//! | WebSockets over HTTP/2 (RFC 8441), both roles | `cargo add rfc6455 --features axum,http2,rustls` | `rfc6455::http2::{connect, Http2Client}`; the axum and hyper upgrades take HTTP/2 |
//! | blocking (threads, `std::net`) | `cargo add rfc6455` | `rfc6455::blocking::{WebSocket, connect}` |
//! | rooms, across processes with Redis | `cargo add rfc6455 --features axum,redis` | `rfc6455::rooms::Rooms`, `rfc6455::rooms::redis::RedisBackplane` |
//! | sans-IO core only (your own I/O) | `cargo add rfc6455 --no-default-features` | `rfc6455::{Connection, handshake}` |
//!
//! Add `deflate` to any of them for compression (`--features axum,deflate`). The features:
//!
//! | feature | gives | implies | adds dependencies |
//! |---|---|---|---|
//! | `std` (default) | `blocking`, the adapters' `Error` | | |
//! | `tokio` | `tokio::WebSocket`, `connector::Connector`, `reconnect` | `std` | `tokio`, `tokio-util`, `futures-core`, `futures-sink` |
//! | `http` | conversions with the `http` crate's types | | `http` |
//! | `hyper` | `hyper::upgrade` for hyper 1.x servers | `tokio`, `http` | `hyper`, `hyper-util`, `http-body-util` |
//! | `axum` | the `axum::WebSocketUpgrade` extractor; refusals are `IntoResponse` | `hyper` | `axum-core` |
//! | `http2` | WebSockets over HTTP/2 (RFC 8441): the `hyper` upgrade and `axum` extractor take an extended CONNECT; `http2` clients over `h2` | `hyper` | `h2`, hyper's `http2` |
//! | `rustls` | `wss://` clients (`tls`; `Connector` then takes `wss://` URLs too) | `tokio` | `rustls`, `tokio-rustls`, `webpki-roots` (ring crypto) |
//! | `deflate` | permessage-deflate (`deflate`, RFC 7692) | | `flate2` (zlib-rs backend) |
//! | `rooms` | `rooms`: publish to rooms of connections, encoded once, a bounded queue per member | `tokio` | (tokio's `sync`, `rt` and `macros`) |
//! | `redis` | `rooms::redis`: rooms across processes, Redis pub/sub as the backplane | `rooms` | `redis`, `futures-util` |
//!
//! With no features the crate is the sans-IO core: `bytes`, `sha1`, `base64`, `httparse`,
//! `thiserror` and a seedable CSPRNG for client mask keys.
//!
//! # Driving the core yourself
//!
//! The calling protocol is documented on [`Connection`]: inputs, commands, then outputs drained
//! in order (events until none, every pending byte, the next deadline, what to do with the
//! transport).
//!
//! ```
//! use rfc6455::{Config, Connection, Message, Role};
//!
//! let mut client = Connection::new(Role::Client, Config::default());
//! let mut server = Connection::new(Role::Server, Config::default());
//!
//! client.send_text("hello")?;
//! // "Write" all of the client's bytes to the server.
//! let mut wire = Vec::new();
//! client.poll_transmit(&mut wire);
//! server.handle_input(&wire);
//!
//! assert_eq!(server.poll_recv()?, Some(Message::text("hello")));
//! assert_eq!(server.poll_recv()?, None); // needs more bytes
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Errors
//!
//! [`ConnectionError`] ends a connection and says whose fault: the peer's
//! ([`ProtocolError`], with the close code that was sent), a [`Timeout`] of ours, or the
//! transport's; [`SendError`] means the application asked for something the protocol forbids;
//! [`handshake::HandshakeError`] carries the HTTP status to answer a bad request with. The
//! adapters wrap these and I/O errors in [`Error`].
// Unsafe code is denied everywhere but two audited spots, each with a SAFETY comment and Miri
// tests: `mask`'s SIMD and `Utf8Bytes::as_str`'s unchecked conversion of validated text.
#![deny(unsafe_code)]
// On docs.rs, every feature-gated item shows the feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod close;
pub mod config;
pub mod connection;
#[cfg(feature = "deflate")]
pub mod deflate;
pub mod error;
pub mod frame;
pub mod handshake;
#[cfg(feature = "std")]
mod io_error;
pub mod mask;
pub mod message;
pub mod prepared;
mod utf8;

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "std")]
pub mod blocking;
#[cfg(feature = "tokio")]
pub mod connector;
#[cfg(feature = "http2")]
pub mod http2;
#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio")]
pub mod reconnect;
#[cfg(feature = "rooms")]
pub mod rooms;
#[cfg(feature = "rustls")]
pub mod tls;
#[cfg(feature = "rustls")]
mod tls_config;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use close::{CloseCode, CloseFrame};
pub use config::Config;
pub use connection::{Connection, Role, State, Transport};
pub use error::{ConnectionError, ProtocolError, SendError, Timeout};
#[cfg(feature = "std")]
pub use io_error::Error;
pub use mask::apply_mask;
pub use message::Message;
pub use prepared::PreparedMessage;
pub use utf8::Utf8Bytes;
