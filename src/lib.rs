//! A WebSocket ([RFC 6455](https://www.rfc-editor.org/rfc/rfc6455)) implementation built around a
//! sans-IO core: bytes in, events out; messages in, bytes out.
//!
//! The core ([`Connection`], [`handshake`]) never touches a socket, a clock or a thread, so it can
//! be driven from any I/O model: blocking sockets, tokio, epoll, io_uring, an HTTP/2 stream, a
//! fuzzer or a test. Thin adapters for the common cases sit behind features: [`blocking`] (`std`,
//! on by default) and [`tokio`] (`tokio`).
//!
//! ```text
//!     bytes from the socket                         bytes to the socket
//!              │                                             ▲
//!   ┌──────────▼─────────────────────────────────────────────┴────────┐
//!   │ adapters (blocking, tokio): loops that move bytes, nothing more │
//!   └──────────┬─────────────────────────────────────────────▲────────┘
//!              │ receive(&[u8])                              │ bytes_to_send()
//!   ┌──────────▼─────────────────────────────────────────────┴────────┐
//!   │ sans-IO core: handshake → Connection (frames, masking, UTF-8,   │
//!   │               close handshake, limits)                          │
//!   └──────────┬──────────────────────────────────────────────────────┘
//!              │ next_event() → Message / ProtocolError
//!              ▼
//!        the application
//! ```
//!
//! # Driving the core yourself
//!
//! ```
//! use rfc6455::{Config, Connection, Message, Role};
//!
//! let mut client = Connection::new(Role::Client, Config::default());
//! let mut server = Connection::new(Role::Server, Config::default());
//!
//! client.send_text("hello")?;
//! // "Write" the client's bytes to the server.
//! server.receive(client.bytes_to_send());
//! let n = client.bytes_to_send().len();
//! client.advance_sent(n);
//!
//! assert_eq!(server.next_event()?, Some(Message::text("hello")));
//! assert_eq!(server.next_event()?, None); // needs more bytes
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Errors
//!
//! [`ProtocolError`] means the peer broke the protocol and says which close code was sent;
//! [`SendError`] means the application asked for something the protocol forbids;
//! [`handshake::HandshakeError`] carries the HTTP status to answer a bad request with. The
//! adapters wrap these and I/O errors in [`Error`].
// Every module but `mask` forbids raw-pointer code itself; `mask` allows it only for SIMD.
#![deny(unsafe_code)]

pub mod close;
pub mod config;
pub mod connection;
#[cfg(feature = "deflate")]
pub mod deflate;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod message;
mod output;
pub mod prepared;
mod utf8;

#[cfg(feature = "std")]
pub mod blocking;
#[cfg(feature = "tokio")]
pub mod connector;
#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio")]
pub mod reconnect;
#[cfg(feature = "rustls")]
pub mod tls;
#[cfg(feature = "rustls")]
mod tls_config;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use close::{CloseCode, CloseFrame};
pub use config::Config;
pub use connection::{Connection, Role, State};
#[cfg(feature = "std")]
pub use error::Error;
pub use error::{ProtocolError, SendError};
pub use mask::apply_mask;
pub use message::Message;
pub use prepared::PreparedMessage;
pub use utf8::Utf8Bytes;
