//! Shared helpers for the integration tests: hand-built frames (independent of the crate's own
//! encoder) and a deterministic client/server pair.
#![allow(dead_code, reason = "each test file uses a different subset")]

use rfc6455::Transport;
use rfc6455::{CloseCode, Config, Connection, ConnectionError, Message, ProtocolError, Role};

/// A fixed mask-key seed, so client output is reproducible.
pub(crate) const SEED: [u8; 32] = [7; 32];

/// Encodes a frame by hand from its parts: `first` is the FIN/RSV/opcode byte.
pub(crate) fn frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![first];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A frame as a client sends it (masked with a fixed key).
pub(crate) fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    frame(first, payload, Some([0x37, 0xfa, 0x21, 0x3d]))
}

/// The bytes of an unmasked Close frame with `code`, as a server sends it.
pub(crate) fn server_close(code: CloseCode) -> Vec<u8> {
    frame(0x88, &code.0.to_be_bytes(), None)
}

pub(crate) fn server() -> Connection {
    Connection::new(Role::Server, Config::default())
}

pub(crate) fn client() -> Connection {
    Connection::with_mask_seed(Role::Client, Config::default(), SEED)
}

/// Every event until the connection needs more input, errors included.
pub(crate) fn drain(conn: &mut Connection) -> Vec<Result<Message, ConnectionError>> {
    let mut out = Vec::new();
    loop {
        match conn.poll_event() {
            Ok(Some(message)) => out.push(Ok(message)),
            Ok(None) => return out,
            Err(error) => out.push(Err(error)),
        }
    }
}

/// Takes everything a connection has queued to send.
pub(crate) fn output(conn: &mut Connection) -> Vec<u8> {
    conn.take_transmit().to_vec()
}

/// Asserts that the connection was failed with `error` and queued a Close carrying its code
/// (RFC 6455 §7.1.7), as a server would send it.
#[track_caller]
pub(crate) fn assert_failing(server: &mut Connection, input: &[u8], error: ProtocolError) {
    server.receive(input);
    let events = drain(server);
    assert_eq!(
        events.last(),
        Some(&Err(error.clone().into())),
        "events: {events:?}"
    );
    assert_eq!(output(server), server_close(error.close_code()));
    assert_eq!(server.state(), rfc6455::State::Closed);
    assert!(matches!(
        server.transport(),
        Transport::ShutdownWrite | Transport::Release
    ));
    // Later input is ignored and yields nothing.
    server.receive(&client_frame(0x81, b"after"));
    assert!(drain(server).is_empty());
}
