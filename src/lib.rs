//! rfc6455
#![deny(unsafe_code)]

pub mod close;
pub mod config;
pub mod connection;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod message;
mod utf8;

pub use close::{CloseCode, CloseFrame};
pub use config::Config;
pub use connection::{Connection, Role, State};
pub use error::{ProtocolError, SendError};
pub use mask::apply_mask;
pub use message::Message;
pub use utf8::Utf8Bytes;
