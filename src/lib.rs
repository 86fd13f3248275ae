//! rfc6455 (crate docs are written in lib.rs once the API settles)
#![forbid(unsafe_code)]

pub mod handshake;
