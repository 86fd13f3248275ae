//! `mask`: `apply_mask` (RFC 6455 §5.3) against a byte-at-a-time reference, chunked against
//! one-shot, on unaligned slices.
//!
//! Input layout: key (4 bytes), offset (u64 LE), alignment (1 byte, 0..8), split count (1 byte,
//! 0..8), that many split points (u16 LE each, modulo the buffer length), then the buffer.

use rfc6455::apply_mask;

use crate::Cursor;

/// Bytes kept on either side of the masked slice, to catch writes out of bounds.
const GUARD: usize = 8;

/// Encodes an input for [`check`], for the seed generator.
pub fn encode(key: [u8; 4], offset: u64, align: u8, splits: &[u16], buf: &[u8]) -> Vec<u8> {
    let mut out = key.to_vec();
    out.extend_from_slice(&offset.to_le_bytes());
    out.push(align);
    out.push(splits.len() as u8);
    for split in splits {
        out.extend_from_slice(&split.to_le_bytes());
    }
    out.extend_from_slice(buf);
    out
}

/// The reference: RFC 6455 §5.3, "octet i of the transformed data is the XOR of octet i of the
/// original data with octet at index i modulo 4 of the masking key".
fn reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[offset.wrapping_add(i) % 4];
    }
}

pub fn check(data: &[u8]) {
    let mut input = Cursor::new(data);
    let key = [input.u8(), input.u8(), input.u8(), input.u8()];
    let offset = input.u64() as usize;
    let align = usize::from(input.u8() % 8);
    let split_count = usize::from(input.u8() % 9);
    let raw_splits: Vec<u16> = (0..split_count).map(|_| input.u16()).collect();
    let original = input.rest();
    let len = original.len();

    // The slice starts `align` bytes into a guarded allocation.
    let start = GUARD + align;
    let mut storage = vec![0xa5u8; start + len + GUARD];
    storage[start..start + len].copy_from_slice(original);
    let pristine = storage.clone();

    // One shot equals the reference and touches nothing outside the slice.
    let mut one_shot = storage.clone();
    apply_mask(&mut one_shot[start..start + len], key, offset);
    let mut expected = storage.clone();
    reference(&mut expected[start..start + len], key, offset);
    assert_eq!(one_shot, expected, "apply_mask differs from the reference");

    // Chunked at arbitrary split points, each chunk given its offset within the payload,
    // equals one shot. Only offset % 4 matters and 2^64 is a multiple of 4, so wrapping is fine.
    let mut points: Vec<usize> = raw_splits
        .iter()
        .map(|&s| usize::from(s) % (len + 1))
        .collect();
    points.sort_unstable();
    let mut chunked = storage.clone();
    let mut from = 0;
    for point in points.into_iter().chain([len]) {
        apply_mask(
            &mut chunked[start + from..start + point],
            key,
            offset.wrapping_add(from),
        );
        from = point;
    }
    assert_eq!(chunked, one_shot, "chunked masking differs from one shot");

    // Masking is an involution.
    apply_mask(&mut one_shot[start..start + len], key, offset);
    assert_eq!(
        one_shot, pristine,
        "masking twice does not restore the input"
    );

    // An offset that differs by a multiple of 4 is the same mask.
    let mut shifted = storage;
    apply_mask(
        &mut shifted[start..start + len],
        key,
        offset.wrapping_add(4 * usize::from(key[0])),
    );
    assert_eq!(shifted, expected, "offset is not taken modulo 4");
}
