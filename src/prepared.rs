//! Messages encoded once and sent to many connections: broadcast without re-encoding.
//!
//! A server's frames are not masked (RFC 6455 §5.1), so the same bytes are a valid frame on every
//! connection. A [`PreparedMessage`] holds them, shared: cloning it copies a pointer, and
//! [`Connection::send_prepared`](crate::Connection::send_prepared) appends the bytes to a
//! connection's output as they are. A client must mask each frame with a fresh key, so in the
//! client role the payload is masked into a new frame instead.
//!
//! # Compressed once for many
//!
//! Under permessage-deflate (RFC 7692), a message is compressed when its payload reaches the
//! connection's threshold. When the sending direction has no context takeover (the default: a
//! server's `server_no_context_takeover`), every message starts a fresh DEFLATE stream, so the
//! compressed bytes depend only on the payload, the compression level and the window size. A
//! prepared message then keeps, beside its uncompressed frame, one compressed frame per
//! `(level, window bits)` pair, made by the first connection that needs it and shared by every
//! other one: a broadcast to a thousand members compresses once
//! ([`compressed_variants`](PreparedMessage::compressed_variants) counts the compressions). The
//! cache is shared by clones and safe to use from many threads: a room publishing from one task
//! and members' writers on others compress the message once between them. It exists with the
//! `deflate` feature only.
//!
//! A connection with context takeover compresses the message itself, with its own compressor
//! (its frame refers back to its earlier messages, so no other connection could use it). A
//! client masks every frame with its own key (§5.3), so it masks the shared compressed payload
//! into a new frame. A connection without permessage-deflate, or a payload below the threshold,
//! gets the uncompressed frame as before.
#![forbid(unsafe_code)]

#[cfg(feature = "deflate")]
use std::sync::{Arc, Mutex, PoisonError};

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
#[derive(Clone)]
pub struct PreparedMessage {
    /// Header and payload.
    frame: Bytes,
    header_len: u8,
    is_text: bool,
    /// The compressed frames made so far, one per compression (level, window bits); shared by
    /// clones. Rarely more than one, so a list.
    #[cfg(feature = "deflate")]
    compressed: Arc<Mutex<Vec<Compressed>>>,
}

/// How a message was compressed: the compression level and the window bits of a fresh stream.
#[cfg(feature = "deflate")]
pub(crate) type CompressionKey = (u32, u8);

/// One compressed form of a prepared message: a final frame with RSV1 set (RFC 7692 §6.1), as a
/// server sends it.
#[derive(Clone, Debug)]
#[cfg(feature = "deflate")]
pub(crate) struct Compressed {
    key: CompressionKey,
    /// Header and compressed payload.
    frame: Bytes,
    header_len: u8,
}

#[cfg(feature = "deflate")]
impl Compressed {
    /// The whole frame, header included.
    pub(crate) fn frame(&self) -> &Bytes {
        &self.frame
    }

    /// The compressed payload.
    pub(crate) fn payload(&self) -> &[u8] {
        &self.frame[usize::from(self.header_len)..]
    }
}

impl PartialEq for PreparedMessage {
    /// Messages are equal when their frames are: what was compressed so far does not matter.
    fn eq(&self, other: &Self) -> bool {
        self.frame == other.frame && self.is_text == other.is_text
    }
}

impl Eq for PreparedMessage {}

impl std::fmt::Debug for PreparedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedMessage")
            .field("frame", &self.frame)
            .field("is_text", &self.is_text)
            .field("compressed_variants", &self.compressed_variants())
            .finish()
    }
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
        let (frame, header_len) =
            encode_frame(FrameHeader::new(opcode, payload.len() as u64), payload);
        Self {
            frame,
            header_len,
            is_text: opcode == OpCode::Text,
            #[cfg(feature = "deflate")]
            compressed: Arc::default(),
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

    /// How many times this message has been compressed: once for each distinct compression
    /// (level and window bits) among the connections without context takeover it was sent to
    /// compressed, whatever their number. Connections with context takeover compress it with
    /// their own compressor and are not counted here.
    ///
    /// # Example
    ///
    /// ```
    /// use rfc6455::PreparedMessage;
    ///
    /// let hello = PreparedMessage::text("hello, room");
    /// assert_eq!(hello.compressed_variants(), 0); // nothing compressed it yet
    /// ```
    #[must_use]
    pub fn compressed_variants(&self) -> usize {
        #[cfg(feature = "deflate")]
        return self.variants().len();
        #[cfg(not(feature = "deflate"))]
        0
    }

    /// The message compressed on a fresh stream with `key`, as a final frame with RSV1 set:
    /// from the cache, or made now by `compress` (given the payload, returning the compressed
    /// payload without the sync-flush tail) and kept for every later sender with the same key.
    /// The lock is held while compressing, so that concurrent senders wait for the one
    /// compression rather than each doing it.
    #[cfg(feature = "deflate")]
    pub(crate) fn compressed(
        &self,
        key: CompressionKey,
        compress: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> Compressed {
        let mut variants = self.variants();
        if let Some(found) = variants.iter().find(|variant| variant.key == key) {
            return found.clone();
        }
        let payload = compress(self.payload());
        let mut header = FrameHeader::new(self.opcode(), payload.len() as u64);
        // RFC 7692 §6.1: RSV1 marks the first (here the only) frame of a compressed message.
        header.rsv1 = true;
        let (frame, header_len) = encode_frame(header, &payload);
        let variant = Compressed {
            key,
            frame,
            header_len,
        };
        variants.push(variant.clone());
        variant
    }

    #[cfg(feature = "deflate")]
    fn variants(&self) -> std::sync::MutexGuard<'_, Vec<Compressed>> {
        // A panic while compressing left no entry behind: the list is still consistent.
        self.compressed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// An unmasked frame: the header, then the payload, in one buffer; and the header's length.
fn encode_frame(header: FrameHeader, payload: &[u8]) -> (Bytes, u8) {
    let header = header.encode();
    let mut frame = BytesMut::with_capacity(header.len() + payload.len());
    frame.put_slice(&header);
    frame.put_slice(payload);
    (frame.freeze(), header.len() as u8)
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

    #[test]
    #[cfg(feature = "deflate")]
    fn each_compression_is_made_once_and_shared_by_clones_and_threads() {
        let prepared = PreparedMessage::binary(&[7; 300]);
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let fake = |payload: &[u8]| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            payload[..3].to_vec()
        };
        let clone = prepared.clone();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let variant = clone.compressed((1, 15), fake);
                    assert_eq!(variant.frame().as_ref(), b"\xc2\x03\x07\x07\x07");
                    assert_eq!(variant.payload(), b"\x07\x07\x07");
                });
            }
        });
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(prepared.compressed_variants(), 1);
        // Another level or window is another compression; the uncompressed frame is untouched.
        prepared.compressed((1, 10), fake);
        prepared.compressed((9, 15), fake);
        prepared.compressed((1, 15), fake);
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 3);
        assert_eq!(clone.compressed_variants(), 3);
        assert_eq!(prepared.payload(), &[7; 300][..]);
        assert_eq!(prepared, PreparedMessage::binary(&[7; 300]));
    }
}
