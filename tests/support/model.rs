//! A reference decoder: from the complete peer byte stream, the events and the first error a
//! `Connection` must produce, written straight from RFC 6455 and the crate's documented order of
//! checks, sharing no code with the crate beyond `FrameHeader::parse` (which the `frame_header`
//! fuzz target checks on its own).
//!
//! Shared by the integration tests (`mod support;`) and the fuzz crate's connection targets
//! (included by path), so that both judge `Connection` by the same reading of the RFC.
//!
//! Chunking does not change the answer: every byte of the stream is delivered and drained, and
//! UTF-8 errors are caught as soon as the bytes that make them arrive (the crate's documented
//! fail-fast behaviour), which `std::str::from_utf8`'s `error_len()` says independently.

use bytes::Bytes;
use rfc6455::frame::{FrameHeader, OpCode, Parse};
use rfc6455::{CloseCode, CloseFrame, Config, Message, ProtocolError, Role};

/// How the stream ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The connection must fail with this error after the events.
    Error(ProtocolError),
    /// The last event is the peer's Close; later bytes are ignored.
    Closed,
    /// The stream ran out (possibly inside a frame) with no error and no Close.
    End,
}

/// The events and outcome a connection in `role` with `config` must produce from `wire`.
pub(crate) fn expected(role: Role, config: &Config, wire: &[u8]) -> (Vec<Message>, Outcome) {
    let mut events = Vec::new();
    let outcome = run(role, config, wire, &mut events);
    (events, outcome)
}

/// A fragmented message in progress.
struct Assembly {
    text: bool,
    data: Vec<u8>,
    /// Sum of the declared lengths so far.
    size: u64,
    fragments: usize,
}

/// Whether `text` can no longer be the start of valid UTF-8.
fn hopeless(text: &[u8]) -> bool {
    matches!(std::str::from_utf8(text), Err(e) if e.error_len().is_some())
}

fn run(role: Role, config: &Config, wire: &[u8], events: &mut Vec<Message>) -> Outcome {
    use ProtocolError as E;
    let mut rest = wire;
    let mut assembly: Option<Assembly> = None;
    loop {
        let (header, header_len) = match FrameHeader::parse(rest) {
            Ok(Parse::Complete(header, len)) => (header, len),
            Ok(Parse::Incomplete { .. }) => return Outcome::End,
            Err(error) => return Outcome::Error(error),
        };
        // Header checks, before any payload: reserved bits (no extension here), masking
        // direction (§5.1), frame limit, then fragmentation (§5.4) and message limits.
        if header.rsv1 || header.rsv2 || header.rsv3 {
            return Outcome::Error(E::ReservedBits);
        }
        match (role, header.mask.is_some()) {
            (Role::Server, false) => return Outcome::Error(E::UnmaskedFrame),
            (Role::Client, true) => return Outcome::Error(E::MaskedFrame),
            _ => {}
        }
        let len = header.payload_len;
        if len > config.max_frame_size as u64 {
            return Outcome::Error(E::FrameTooLarge {
                size: len,
                max: config.max_frame_size,
            });
        }
        let max_message = config.max_message_size as u64;
        // Whether this frame's payload is text to validate, and the text before it.
        let text_prefix: Option<Vec<u8>> = match (header.opcode, &mut assembly) {
            (OpCode::Continuation, None) => return Outcome::Error(E::UnexpectedContinuation),
            (OpCode::Continuation, Some(a)) => {
                if a.size + len > max_message {
                    return Outcome::Error(E::MessageTooLarge {
                        size: a.size + len,
                        max: config.max_message_size,
                    });
                }
                if a.fragments >= config.max_fragments {
                    return Outcome::Error(E::TooManyFragments {
                        max: config.max_fragments,
                    });
                }
                a.size += len;
                a.fragments += 1;
                a.text.then(|| a.data.clone())
            }
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Outcome::Error(E::ExpectedContinuation);
            }
            (OpCode::Text | OpCode::Binary, None) => {
                if len > max_message {
                    return Outcome::Error(E::MessageTooLarge {
                        size: len,
                        max: config.max_message_size,
                    });
                }
                (header.opcode == OpCode::Text).then(Vec::new)
            }
            (OpCode::Close | OpCode::Ping | OpCode::Pong, _) => None,
        };

        // The payload, unmasked byte by byte; possibly cut short by the end of the stream.
        let body = &rest[header_len..];
        let len = len as usize;
        let available = body.len().min(len);
        let mut payload = body[..available].to_vec();
        if let Some(key) = header.mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        if let Some(prefix) = &text_prefix {
            let mut text = prefix.clone();
            text.extend_from_slice(&payload);
            // §8.1 fail-fast: the bytes that arrived already rule out valid UTF-8.
            if hopeless(&text) {
                return Outcome::Error(E::InvalidUtf8);
            }
        }
        if available < len {
            return Outcome::End;
        }
        rest = &body[len..];

        match header.opcode {
            OpCode::Text | OpCode::Binary if header.fin => {
                if header.opcode == OpCode::Text {
                    match String::from_utf8(payload) {
                        Ok(text) => events.push(Message::text(text)),
                        Err(_) => return Outcome::Error(E::InvalidUtf8),
                    }
                } else {
                    events.push(Message::binary(payload));
                }
            }
            OpCode::Text | OpCode::Binary => {
                assembly = Some(Assembly {
                    text: header.opcode == OpCode::Text,
                    data: payload,
                    size: len as u64,
                    fragments: 1,
                });
            }
            OpCode::Continuation => {
                let a = assembly.as_mut().expect("checked above");
                a.data.extend_from_slice(&payload);
                if header.fin {
                    let a = assembly.take().expect("checked above");
                    if a.text {
                        match String::from_utf8(a.data) {
                            Ok(text) => events.push(Message::text(text)),
                            Err(_) => return Outcome::Error(E::InvalidUtf8),
                        }
                    } else {
                        events.push(Message::binary(a.data));
                    }
                }
            }
            OpCode::Ping => events.push(Message::Ping(Bytes::from(payload))),
            OpCode::Pong => events.push(Message::Pong(Bytes::from(payload))),
            OpCode::Close => {
                // §5.5.1: empty, or a 2-byte code (§7.4: one that may be sent) and UTF-8.
                let frame = match payload.as_slice() {
                    [] => None,
                    [_] => return Outcome::Error(E::InvalidClosePayload),
                    [hi, lo, reason @ ..] => {
                        let code = u16::from_be_bytes([*hi, *lo]);
                        if !matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999) {
                            return Outcome::Error(E::InvalidCloseCode(code));
                        }
                        let Ok(reason) = std::str::from_utf8(reason) else {
                            return Outcome::Error(E::InvalidUtf8);
                        };
                        Some(CloseFrame {
                            code: CloseCode(code),
                            reason: reason.to_owned(),
                        })
                    }
                };
                events.push(Message::Close(frame));
                return Outcome::Closed;
            }
        }
    }
}
