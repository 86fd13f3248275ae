//! Payload masking, [RFC 6455 §5.3](https://www.rfc-editor.org/rfc/rfc6455#section-5.3).
//!
//! Every frame a client sends is XORed with a 4-byte key; the server undoes it with the same
//! operation. Payloads arrive in pieces, so [`apply_mask`] takes the offset of the first byte within
//! the payload and can be resumed at any point: unmasking a payload in chunks gives the same bytes
//! as unmasking it in one call.

/// XORs `buf` with `key` in place, as if `buf` started at byte `offset` of a masked payload.
///
/// Masking and unmasking are the same operation. `offset` is the position of `buf[0]` within
/// the frame payload; only `offset % 4` matters, which is what lets a caller unmask a payload
/// chunk by chunk as it arrives.
///
/// # Example
///
/// ```
/// use rfc6455::apply_mask;
///
/// // RFC 6455 §5.7: a masked "Hello" with key 37 fa 21 3d.
/// let key = [0x37, 0xfa, 0x21, 0x3d];
/// let mut payload = *b"\x7f\x9f\x4d\x51\x58";
/// // Unmask the first two bytes, then the rest: the result is the same as one call.
/// let (head, tail) = payload.split_at_mut(2);
/// apply_mask(head, key, 0);
/// apply_mask(tail, key, 2);
/// assert_eq!(&payload, b"Hello");
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate_key(key, offset);
    apply_mask_words(buf, key);
}

/// The key as seen from a position `offset` bytes into the payload.
#[inline]
fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    let mut rotated = key;
    rotated.rotate_left(offset % 4);
    rotated
}

/// Portable word-at-a-time masking; the compiler vectorises the 8-byte chunk loop.
#[inline]
fn apply_mask_words(buf: &mut [u8], key: [u8; 4]) {
    let key_word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let masked = u64::from_ne_bytes(word) ^ key_word;
        chunk.copy_from_slice(&masked.to_ne_bytes());
    }
    // The remainder starts at a multiple of 8 from the start of `buf`, so the key is in phase.
    for (byte, k) in chunks.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

#[cfg(test)]
pub(crate) fn apply_mask_naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator, so failures reproduce.
    fn keys() -> impl Iterator<Item = [u8; 4]> {
        let mut state: u32 = 0x9e37_79b9;
        std::iter::repeat_with(move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()
        })
        .take(8)
        .chain([[0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff]])
    }

    #[test]
    fn matches_naive_for_every_length_offset_and_alignment() {
        let mut storage = [0u8; 300 + 16];
        for (i, b) in storage.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        for key in keys() {
            for align in 0..8 {
                for offset in 0..4 {
                    for len in 0..=300 {
                        let mut fast = storage;
                        let mut slow = storage;
                        apply_mask(&mut fast[align..align + len], key, offset);
                        apply_mask_naive(&mut slow[align..align + len], key, offset);
                        assert_eq!(
                            fast, slow,
                            "key {key:?} align {align} offset {offset} len {len}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn chunked_unmasking_equals_one_shot() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let original: Vec<u8> = (0..257u32).map(|i| (i * 31) as u8).collect();
        let mut whole = original.clone();
        apply_mask(&mut whole, key, 0);
        for split_a in 0..original.len() {
            let split_b = (split_a + 13).min(original.len());
            let mut pieces = original.clone();
            let (a, rest) = pieces.split_at_mut(split_a);
            let (b, c) = rest.split_at_mut(split_b - split_a);
            apply_mask(a, key, 0);
            apply_mask(b, key, split_a);
            apply_mask(c, key, split_b);
            assert_eq!(pieces, whole, "split at {split_a}/{split_b}");
        }
    }

    #[test]
    fn masking_twice_restores_the_payload() {
        let original = b"The quick brown fox jumps over the lazy dog".to_vec();
        let mut buf = original.clone();
        apply_mask(&mut buf, [1, 2, 3, 4], 1);
        assert_ne!(buf, original);
        apply_mask(&mut buf, [1, 2, 3, 4], 1);
        assert_eq!(buf, original);
    }
}
