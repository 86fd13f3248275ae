//! The base framing protocol, [RFC 6455 §5.2](https://www.rfc-editor.org/rfc/rfc6455#section-5.2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! ```
//!
//! The parser reads a header from a byte slice without allocating and answers "need N more bytes"
//! for a short slice. It enforces the rules that need no connection context; the
//! [`Connection`](crate::Connection) adds the role (masking direction), negotiated extensions (RSV
//! bits) and limits.
#![forbid(unsafe_code)]

use crate::error::ProtocolError;

/// Longest possible header: 2 fixed bytes, 8 bytes of length, 4 bytes of mask key.
pub const MAX_HEADER_LEN: usize = 14;

/// Largest payload a control frame may carry (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame opcode (§5.2, §11.8). Reserved opcodes are rejected by the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: the first frame of a text message.
    Text,
    /// 0x2: the first frame of a binary message.
    Binary,
    /// 0x8: the closing handshake.
    Close,
    /// 0x9: a ping.
    Ping,
    /// 0xA: a pong.
    Pong,
}

impl OpCode {
    /// Whether this is a control opcode (Close, Ping, Pong).
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }

    /// The 4-bit wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xa,
        }
    }
}

impl TryFrom<u8> for OpCode {
    type Error = ProtocolError;

    fn try_from(value: u8) -> Result<Self, ProtocolError> {
        Ok(match value {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xa => OpCode::Pong,
            other => return Err(ProtocolError::ReservedOpcode(other)),
        })
    }
}

/// A parsed or to-be-encoded frame header.
///
/// # Example
///
/// ```
/// use rfc6455::frame::{FrameHeader, OpCode, Parse};
///
/// // RFC 6455 §5.7: a single-frame unmasked text message "Hello".
/// let wire = b"\x81\x05Hello";
/// let Parse::Complete(header, len) = FrameHeader::parse(wire)? else { unreachable!() };
/// assert_eq!((header.opcode, header.fin, header.payload_len, len), (OpCode::Text, true, 5, 2));
/// assert_eq!(&header.encode()[..], &wire[..2]);
///
/// // One byte is not enough to know the header's length.
/// assert_eq!(FrameHeader::parse(&wire[..1])?, Parse::Incomplete { needed: 1 });
/// # Ok::<(), rfc6455::ProtocolError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Whether this is the final fragment of a message.
    pub fin: bool,
    /// RSV1 (permessage-deflate's "compressed" bit).
    pub rsv1: bool,
    /// RSV2, unused by any extension this crate knows.
    pub rsv2: bool,
    /// RSV3, unused by any extension this crate knows.
    pub rsv3: bool,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, present on every client-to-server frame.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
}

/// The outcome of parsing from a buffer that may hold only part of what is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse<T> {
    /// The value, and how many bytes of the buffer it took.
    Complete(T, usize),
    /// The buffer is a valid prefix; at least `needed` more bytes are required.
    Incomplete {
        /// How many more bytes are needed at least.
        needed: usize,
    },
}

impl FrameHeader {
    /// A final, unmasked header with no RSV bits.
    pub fn new(opcode: OpCode, payload_len: u64) -> Self {
        Self {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// Parses a header from the start of `buf`.
    ///
    /// Rejects reserved opcodes, non-minimal length encodings, 64-bit lengths with the top bit set,
    /// fragmented control frames and control frames longer than 125 bytes. Never allocates.
    pub fn parse(buf: &[u8]) -> Result<Parse<FrameHeader>, ProtocolError> {
        let [first, second, rest @ ..] = buf else {
            return Ok(Parse::Incomplete {
                needed: 2 - buf.len(),
            });
        };
        let fin = first & 0x80 != 0;
        let opcode = OpCode::try_from(first & 0x0f)?;
        let masked = second & 0x80 != 0;
        let (payload_len, len_bytes) = match second & 0x7f {
            126 => {
                let Some(&[a, b]) = rest.first_chunk::<2>() else {
                    return Ok(incomplete(buf, 4 + mask_len(masked)));
                };
                let len = u64::from(u16::from_be_bytes([a, b]));
                if len < 126 {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, 2)
            }
            127 => {
                let Some(bytes) = rest.first_chunk::<8>() else {
                    return Ok(incomplete(buf, 10 + mask_len(masked)));
                };
                let len = u64::from_be_bytes(*bytes);
                // §5.2: "the most significant bit MUST be 0".
                if len >> 63 != 0 {
                    return Err(ProtocolError::LengthOverflow);
                }
                if len <= u64::from(u16::MAX) {
                    return Err(ProtocolError::NonMinimalLength);
                }
                (len, 8)
            }
            short => (u64::from(short), 0),
        };
        if opcode.is_control() {
            // §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST
            // NOT be fragmented."
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLong(payload_len));
            }
        }
        let header_len = 2 + len_bytes + mask_len(masked);
        let mask = if masked {
            let Some(key) = buf[2 + len_bytes..].first_chunk::<4>() else {
                return Ok(incomplete(buf, header_len));
            };
            Some(*key)
        } else {
            None
        };
        Ok(Parse::Complete(
            FrameHeader {
                fin,
                rsv1: first & 0x40 != 0,
                rsv2: first & 0x20 != 0,
                rsv3: first & 0x10 != 0,
                opcode,
                mask,
                payload_len,
            },
            header_len,
        ))
    }

    /// Encodes the header in the shortest length form.
    pub fn encode(&self) -> EncodedHeader {
        let mut bytes = [0u8; MAX_HEADER_LEN];
        bytes[0] = (u8::from(self.fin) << 7)
            | (u8::from(self.rsv1) << 6)
            | (u8::from(self.rsv2) << 5)
            | (u8::from(self.rsv3) << 4)
            | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut len = 2;
        if self.payload_len < 126 {
            bytes[1] = mask_bit | self.payload_len as u8;
        } else if let Ok(short) = u16::try_from(self.payload_len) {
            bytes[1] = mask_bit | 126;
            bytes[2..4].copy_from_slice(&short.to_be_bytes());
            len = 4;
        } else {
            bytes[1] = mask_bit | 127;
            bytes[2..10].copy_from_slice(&self.payload_len.to_be_bytes());
            len = 10;
        }
        if let Some(key) = self.mask {
            bytes[len..len + 4].copy_from_slice(&key);
            len += 4;
        }
        EncodedHeader { bytes, len }
    }
}

fn mask_len(masked: bool) -> usize {
    if masked { 4 } else { 0 }
}

fn incomplete<T>(buf: &[u8], total: usize) -> Parse<T> {
    Parse::Incomplete {
        needed: total - buf.len(),
    }
}

/// An encoded header on the stack; dereferences to its bytes.
#[derive(Clone, Copy)]
pub struct EncodedHeader {
    bytes: [u8; MAX_HEADER_LEN],
    len: usize,
}

impl std::ops::Deref for EncodedHeader {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::fmt::Debug for EncodedHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_complete(buf: &[u8]) -> (FrameHeader, usize) {
        match FrameHeader::parse(buf) {
            Ok(Parse::Complete(h, n)) => (h, n),
            other => panic!("expected a complete header, got {other:?}"),
        }
    }

    #[test]
    fn rfc_section_5_7_examples() {
        // A single-frame masked text message "Hello".
        let (h, n) = parse_complete(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
        assert_eq!(n, 6);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!((h.opcode, h.fin, h.payload_len), (OpCode::Text, true, 5));
        // A fragmented unmasked text message: "Hel" then "lo".
        let (first, _) = parse_complete(b"\x01\x03Hel");
        let (second, _) = parse_complete(b"\x80\x02lo");
        assert_eq!((first.opcode, first.fin), (OpCode::Text, false));
        assert_eq!((second.opcode, second.fin), (OpCode::Continuation, true));
        // Unmasked ping with "Hello", and the masked pong answering it.
        let (ping, _) = parse_complete(b"\x89\x05Hello");
        assert_eq!((ping.opcode, ping.payload_len), (OpCode::Ping, 5));
        let (pong, n) = parse_complete(b"\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
        assert_eq!((pong.opcode, n), (OpCode::Pong, 6));
        // 256 bytes of binary data in one unmasked frame.
        let (h, n) = parse_complete(b"\x82\x7e\x01\x00");
        assert_eq!((h.opcode, h.payload_len, n), (OpCode::Binary, 256, 4));
        // 64 KiB of binary data in one unmasked frame.
        let (h, n) = parse_complete(b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00");
        assert_eq!((h.payload_len, n), (65536, 10));
        // And the encoder reproduces each of them.
        assert_eq!(
            &*FrameHeader::new(OpCode::Binary, 256).encode(),
            b"\x82\x7e\x01\x00"
        );
        assert_eq!(
            &*FrameHeader::new(OpCode::Binary, 65536).encode(),
            b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"
        );
    }

    #[test]
    fn short_buffers_say_how_much_more_is_needed() {
        let wire = b"\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00\x01\x02\x03\x04";
        let expected_needed = [2, 1, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
        for (len, needed) in expected_needed.into_iter().enumerate() {
            assert_eq!(
                FrameHeader::parse(&wire[..len]),
                Ok(Parse::Incomplete { needed }),
                "{len}"
            );
        }
        assert_eq!(parse_complete(wire).1, 14);
    }

    #[test]
    fn strictness() {
        for op in [3u8, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf] {
            assert_eq!(
                FrameHeader::parse(&[0x80 | op, 0]),
                Err(ProtocolError::ReservedOpcode(op))
            );
        }
        assert_eq!(
            FrameHeader::parse(b"\x82\x7e\x00\x7d"),
            Err(ProtocolError::NonMinimalLength)
        );
        assert_eq!(
            FrameHeader::parse(b"\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff"),
            Err(ProtocolError::NonMinimalLength)
        );
        assert_eq!(
            FrameHeader::parse(b"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00"),
            Err(ProtocolError::LengthOverflow)
        );
        assert_eq!(
            FrameHeader::parse(b"\x09\x00"),
            Err(ProtocolError::FragmentedControlFrame)
        );
        assert_eq!(
            FrameHeader::parse(b"\x89\x7e\x00\x7e"),
            Err(ProtocolError::ControlFrameTooLong(126))
        );
        // RSV bits are reported, not judged: whether they are allowed depends on extensions.
        let (h, _) = parse_complete(b"\xf2\x00");
        assert!(h.rsv1 && h.rsv2 && h.rsv3);
    }

    fn any_header() -> impl Strategy<Value = FrameHeader> {
        let opcodes = prop_oneof![
            Just(OpCode::Continuation),
            Just(OpCode::Text),
            Just(OpCode::Binary),
            Just(OpCode::Close),
            Just(OpCode::Ping),
            Just(OpCode::Pong),
        ];
        let lens = prop_oneof![0u64..=200, 120u64..=70_000, 65_536u64..=(i64::MAX as u64)];
        (opcodes, any::<[bool; 4]>(), any::<Option<[u8; 4]>>(), lens).prop_map(
            |(opcode, [fin, rsv1, rsv2, rsv3], mask, len)| {
                let control = opcode.is_control();
                FrameHeader {
                    fin: fin || control,
                    rsv1,
                    rsv2,
                    rsv3,
                    opcode,
                    mask,
                    payload_len: if control { len % 126 } else { len },
                }
            },
        )
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(header in any_header()) {
            let wire = header.encode();
            prop_assert_eq!(FrameHeader::parse(&wire), Ok(Parse::Complete(header, wire.len())));
            // Every strict prefix asks for more bytes.
            for cut in 0..wire.len() {
                let is_incomplete = matches!(FrameHeader::parse(&wire[..cut]), Ok(Parse::Incomplete { .. }));
                prop_assert!(is_incomplete);
            }
        }

        #[test]
        fn canonical_input_re_encodes_to_itself(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
            if let Ok(Parse::Complete(header, len)) = FrameHeader::parse(&bytes) {
                prop_assert_eq!(&*header.encode(), &bytes[..len]);
            }
        }
    }
}
