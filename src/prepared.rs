//! Messages encoded once and sent to many connections: broadcast without re-encoding.
//!
//! A server's frames are not masked (RFC 6455 §5.1), so the same bytes are a valid frame on every
//! connection. A [`PreparedMessage`] holds them, shared: cloning it copies a pointer, and
//! [`Connection::send_prepared`](crate::Connection::send_prepared) appends the bytes to a
//! connection's output as they are. A client must mask each frame with a fresh key, so in the
//! client role the payload is masked into a new frame instead.
//!
//! Prepared messages are never compressed: under permessage-deflate they go out as uncompressed
//! messages (RSV1 clear), which RFC 7692 §6 allows at any time.
#![forbid(unsafe_code)]

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame::{FrameHeader, OpCode};

/// A text or binary message encoded as one unmasked, final frame, ready to be sent to any number
/// of connections.
///
/// # Example
///
/// ```
/// use rfc6455::{Config, Connection, PreparedMessage, Role};
///
/// let hello = PreparedMessage::text("hello, room");
/// let mut alice = Connection::new(Role::Server, Config::default());
/// let mut bob = Connection::new(Role::Server, Config::default());
/// alice.send_prepared(&hello)?;
/// bob.send_prepared(&hello)?;
/// assert_eq!(alice.take_transmit(), hello.frame());
/// assert_eq!(bob.take_transmit(), &b"\x81\x0bhello, room"[..]);
/// # Ok::<(), rfc6455::SendError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedMessage {
    /// Header and payload.
    frame: Bytes,
    header_len: u8,
    is_text: bool,
}

impl PreparedMessage {
    /// Encodes a text message.
    #[must_use]
    pub fn text(text: &str) -> Self {
        Self::encode(OpCode::Text, text.as_bytes())
    }

    /// Encodes a binary message.
    #[must_use]
    pub fn binary(data: &[u8]) -> Self {
        Self::encode(OpCode::Binary, data)
    }

    fn encode(opcode: OpCode, payload: &[u8]) -> Self {
        let header = FrameHeader::new(opcode, payload.len() as u64).encode();
        let mut frame = BytesMut::with_capacity(header.len() + payload.len());
        frame.put_slice(&header);
        frame.put_slice(payload);
        Self {
            frame: frame.freeze(),
            header_len: header.len() as u8,
            is_text: opcode == OpCode::Text,
        }
    }

    /// The encoded frame, as a server sends it.
    #[must_use]
    pub fn frame(&self) -> &[u8] {
        &self.frame
    }

    /// The encoded frame, shared rather than copied.
    pub(crate) fn shared_frame(&self) -> Bytes {
        self.frame.clone()
    }

    /// The message's payload.
    #[must_use]
    pub fn payload(&self) -> &[u8] {
        &self.frame[usize::from(self.header_len)..]
    }

    /// Whether this is a text message (else binary).
    #[must_use]
    pub fn is_text(&self) -> bool {
        self.is_text
    }

    pub(crate) fn opcode(&self) -> OpCode {
        if self.is_text {
            OpCode::Text
        } else {
            OpCode::Binary
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Parse;

    #[test]
    fn frame_parses_back_to_its_payload_at_every_length_form() {
        for len in [0, 125, 126, 65_535, 65_536] {
            let payload = vec![b'x'; len];
            let prepared = PreparedMessage::binary(&payload);
            let Ok(Parse::Complete(header, header_len)) = FrameHeader::parse(prepared.frame())
            else {
                panic!("prepared frame of {len} bytes does not parse");
            };
            assert!(header.fin);
            assert_eq!(header.mask, None);
            assert_eq!(header.opcode, OpCode::Binary);
            assert_eq!(header.payload_len, len as u64);
            assert_eq!(header_len, usize::from(prepared.header_len));
            assert_eq!(prepared.payload(), &payload[..]);
        }
    }

    #[test]
    fn clones_share_the_encoded_bytes() {
        let prepared = PreparedMessage::text("shared");
        let clone = prepared.clone();
        assert_eq!(prepared.frame().as_ptr(), clone.frame().as_ptr());
        assert!(clone.is_text());
    }
}
