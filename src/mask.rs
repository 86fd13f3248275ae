//! Payload masking, [RFC 6455 §5.3](https://www.rfc-editor.org/rfc/rfc6455#section-5.3).
//!
//! Every frame a client sends is XORed with a 4-byte key; the server undoes it with the same
//! operation. Payloads arrive in pieces, so [`apply_mask`] takes the offset of the first byte within
//! the payload and can be resumed at any point: unmasking a payload in chunks gives the same bytes
//! as unmasking it in one call.
//!
//! # Implementations
//!
//! Masking is a XOR with a 4-byte period, so a payload is processed a vector at a time with the
//! key repeated across the vector. The implementation is picked per call:
//!
//! | target  | under 16 bytes | 16–255 bytes | 256 bytes and more                              |
//! |---------|----------------|--------------|-------------------------------------------------|
//! | x86_64  | scalar words   | SSE2         | AVX2 if the CPU has it (detected), else SSE2    |
//! | aarch64 | scalar words   | NEON         | NEON                                            |
//! | other   | scalar words   | `u64` words  | `u64` words                                     |
//!
//! SSE2 and NEON are part of the x86_64 and aarch64 baselines, so only AVX2 needs run-time
//! detection, and only buffers of 256 bytes or more pay for it (an indirect call through a
//! function pointer cached on first use): most WebSocket messages are small, and below 256 bytes
//! the AVX2 call costs more than it saves. The AVX2 loop also runs on 32-byte-aligned addresses, masking the bytes before the first
//! boundary separately: with every other 32-byte access split across two cache lines, a misaligned
//! 64 KiB buffer measured about 30% slower.
//!
//! Each path masks the tail with smaller, non-overlapping pieces (16, 8, 4 bytes, then single
//! bytes) rather than one overlapping vector: an overlapping store makes the next read of those
//! bytes span two stores, which the CPU cannot forward, and masking right after a write is the
//! common case.

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
    if buf.len() < 16 {
        // No vector fits: skip the dispatch entirely.
        scalar(buf, key);
        return;
    }
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    x86::apply(buf, key);
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    neon::apply(buf, key);
    #[cfg(not(any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        all(target_arch = "aarch64", target_feature = "neon")
    )))]
    portable(buf, key);
}

/// The key as seen from a position `offset` bytes into the payload.
#[inline]
fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    // Byte `i` of a little-endian word sits at bits `8 * i`, so moving byte `offset % 4` to the
    // front is a right rotation, whatever the target's endianness.
    let shift = 8 * (offset % 4) as u32;
    u32::from_le_bytes(key).rotate_right(shift).to_le_bytes()
}

/// The key repeated across a `u64`. Symmetric in its two halves, so the same on either endianness.
#[inline(always)]
fn key_u64(key: [u8; 4]) -> u64 {
    u64::from(u32::from_ne_bytes(key)) * 0x0000_0001_0000_0001
}

/// Masks a buffer of any length with `u64` words: the fallback on targets without a vector
/// implementation, where LLVM usually vectorises the word loop by itself.
#[cfg_attr(
    any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        all(target_arch = "aarch64", target_feature = "neon")
    ),
    allow(
        dead_code,
        reason = "the fallback for other targets; the tests run it everywhere"
    )
)]
#[inline]
fn portable(buf: &mut [u8], key: [u8; 4]) {
    let word = key_u64(key);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        write_u64(chunk, read_u64(chunk) ^ word);
    }
    // The remainder starts a multiple of 8 bytes in, so the key is still in phase.
    scalar(chunks.into_remainder(), key);
}

/// Masks fewer than 16 bytes: a `u64`, a `u32`, then single bytes, without overlap. Also the
/// tail of every vector path, which leaves fewer than 16 bytes that start a multiple of 4 bytes
/// in, so `key` is in phase.
#[inline(always)]
fn scalar(buf: &mut [u8], key: [u8; 4]) {
    debug_assert!(buf.len() < 16, "scalar() masks at most 15 bytes");
    let mut rest = buf;
    if rest.len() >= 8 {
        let (word, tail) = rest.split_at_mut(8);
        write_u64(word, read_u64(word) ^ key_u64(key));
        rest = tail;
    }
    if rest.len() >= 4 {
        let (word, tail) = rest.split_at_mut(4);
        write_u32(word, read_u32(word) ^ u32::from_ne_bytes(key));
        rest = tail;
    }
    for (byte, k) in rest.iter_mut().zip(key) {
        *byte ^= k;
    }
}

/// Reads the first 8 bytes of `bytes` (which has at least 8).
#[inline(always)]
fn read_u64(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    u64::from_ne_bytes(word)
}

#[inline(always)]
fn write_u64(bytes: &mut [u8], word: u64) {
    bytes[..8].copy_from_slice(&word.to_ne_bytes());
}

#[inline(always)]
fn read_u32(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[..4]);
    u32::from_ne_bytes(word)
}

#[inline(always)]
fn write_u32(bytes: &mut [u8], word: u32) {
    bytes[..4].copy_from_slice(&word.to_ne_bytes());
}

/// SSE2 (x86_64 baseline) and AVX2 (detected at run time).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(
    unsafe_code,
    reason = "std::arch loads and stores take raw pointers, and AVX2 code must only run on a CPU \
              that has it"
)]
mod x86 {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm_loadu_si128, _mm_set1_epi32, _mm_storeu_si128, _mm_xor_si128,
        _mm256_loadu_si256, _mm256_set1_epi32, _mm256_storeu_si256, _mm256_xor_si256,
    };
    use std::sync::atomic::{AtomicPtr, Ordering};

    use super::{rotate_key, scalar};

    /// Shortest buffer worth the AVX2 call (measured: below it, SSE2 inline is faster).
    pub(super) const AVX2_MIN: usize = 256;

    /// Masks a buffer of at least 16 bytes with the best implementation this CPU runs.
    #[inline]
    pub(super) fn apply(buf: &mut [u8], key: [u8; 4]) {
        if buf.len() < AVX2_MIN {
            sse2(buf, key);
            return;
        }
        // SAFETY: `LARGE` only ever holds a `Large` cast to a pointer (below and in `detect`), so
        // this casts it back to its own type.
        let large = unsafe { std::mem::transmute::<*mut (), Large>(LARGE.load(Ordering::Relaxed)) };
        // SAFETY: `LARGE` holds `detect`, which has no requirement, or what `detect` picked for
        // this CPU: `avx2` only where AVX2 was detected, `sse2` otherwise.
        unsafe { large(buf, key) }
    }

    /// How buffers of [`AVX2_MIN`] bytes and more are masked.
    type Large = unsafe fn(&mut [u8], [u8; 4]);

    /// The [`Large`] implementation for this CPU: [`detect`] until the first call replaces it.
    ///
    /// Against `is_x86_feature_detected!` on every call (std caches the detection too: an atomic
    /// load and a bit test, then a direct call), this cached pointer measured 0.5 to 1 ns faster
    /// per call from 256 bytes to 1 KiB (5 to 10%), and the same from 4 KiB up. Relaxed ordering
    /// suffices: the pointer is the only data, and any value it holds is correct.
    static LARGE: AtomicPtr<()> = AtomicPtr::new(detect as Large as *mut ());

    /// Picks the implementation on first use, caches it in [`LARGE`] and runs it.
    fn detect(buf: &mut [u8], key: [u8; 4]) {
        let large: Large = if is_x86_feature_detected!("avx2") {
            avx2
        } else {
            sse2
        };
        LARGE.store(large as *mut (), Ordering::Relaxed);
        // SAFETY: `avx2` was picked only if the CPU supports AVX2; `sse2` has no requirement.
        unsafe { large(buf, key) }
    }

    /// SSE2 masking of a buffer of any length.
    #[inline]
    pub(super) fn sse2(buf: &mut [u8], key: [u8; 4]) {
        let len = buf.len();
        let ptr = buf.as_mut_ptr();
        let mut i = 0;
        if len >= 16 {
            #[allow(
                unused_unsafe,
                reason = "needed before Rust 1.87, which made value-only intrinsics safe to call \
                          where their target feature is enabled"
            )]
            // SAFETY: SSE2 is enabled for this whole module (cfg above) and `_mm_set1_epi32`
            // touches no memory.
            let k = unsafe { _mm_set1_epi32(i32::from_ne_bytes(key)) };
            while i + 64 <= len {
                // SAFETY: bytes `i..i + 64` are inside `buf` (loop condition); unaligned access
                // is allowed.
                unsafe {
                    let p = ptr.add(i).cast::<__m128i>();
                    let a = _mm_loadu_si128(p);
                    let b = _mm_loadu_si128(p.add(1));
                    let c = _mm_loadu_si128(p.add(2));
                    let d = _mm_loadu_si128(p.add(3));
                    _mm_storeu_si128(p, _mm_xor_si128(a, k));
                    _mm_storeu_si128(p.add(1), _mm_xor_si128(b, k));
                    _mm_storeu_si128(p.add(2), _mm_xor_si128(c, k));
                    _mm_storeu_si128(p.add(3), _mm_xor_si128(d, k));
                }
                i += 64;
            }
            while i + 16 <= len {
                // SAFETY: bytes `i..i + 16` are inside `buf` (loop condition).
                unsafe {
                    let p = ptr.add(i).cast::<__m128i>();
                    _mm_storeu_si128(p, _mm_xor_si128(_mm_loadu_si128(p), k));
                }
                i += 16;
            }
        }
        // `i` is a multiple of 16: the key is in phase.
        scalar(&mut buf[i..], key);
    }

    /// AVX2 masking of a buffer of any length.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2(buf: &mut [u8], key: [u8; 4]) {
        if buf.len() < 32 {
            sse2(buf, key);
            return;
        }
        let (mut buf, mut key) = (buf, key);
        if buf.len() >= AVX2_MIN {
            // Mask up to the first 32-byte boundary apart, so the loop never splits an access
            // across two cache lines.
            let misalignment = buf.as_ptr().addr() % 32;
            if misalignment != 0 {
                let (head, rest) = buf.split_at_mut(32 - misalignment);
                sse2(head, key);
                key = rotate_key(key, head.len());
                buf = rest;
            }
        }
        let len = buf.len();
        let ptr = buf.as_mut_ptr();
        #[allow(
            unused_unsafe,
            reason = "needed before Rust 1.87, which made value-only intrinsics safe to call where \
                      their target feature is enabled"
        )]
        // SAFETY: the caller guarantees AVX2; `_mm256_set1_epi32` touches no memory.
        let k = unsafe { _mm256_set1_epi32(i32::from_ne_bytes(key)) };
        let mut i = 0;
        while i + 128 <= len {
            // SAFETY: bytes `i..i + 128` are inside `buf` (loop condition); `loadu`/`storeu`
            // accept any alignment.
            unsafe {
                let p = ptr.add(i).cast::<__m256i>();
                let a = _mm256_loadu_si256(p);
                let b = _mm256_loadu_si256(p.add(1));
                let c = _mm256_loadu_si256(p.add(2));
                let d = _mm256_loadu_si256(p.add(3));
                _mm256_storeu_si256(p, _mm256_xor_si256(a, k));
                _mm256_storeu_si256(p.add(1), _mm256_xor_si256(b, k));
                _mm256_storeu_si256(p.add(2), _mm256_xor_si256(c, k));
                _mm256_storeu_si256(p.add(3), _mm256_xor_si256(d, k));
            }
            i += 128;
        }
        while i + 32 <= len {
            // SAFETY: bytes `i..i + 32` are inside `buf` (loop condition).
            unsafe {
                let p = ptr.add(i).cast::<__m256i>();
                _mm256_storeu_si256(p, _mm256_xor_si256(_mm256_loadu_si256(p), k));
            }
            i += 32;
        }
        // `i` is a multiple of 32: the key is in phase.
        sse2(&mut buf[i..], key);
    }

    /// Whether [`avx2`] may be called, for tests that force each implementation.
    #[cfg(test)]
    pub(super) fn has_avx2() -> bool {
        is_x86_feature_detected!("avx2")
    }

    /// [`avx2`] behind its check, for tests.
    #[cfg(test)]
    pub(super) fn avx2_checked(buf: &mut [u8], key: [u8; 4]) {
        assert!(has_avx2(), "this CPU has no AVX2");
        // SAFETY: the CPU supports AVX2, asserted just above.
        unsafe { avx2(buf, key) }
    }
}

/// NEON (aarch64 baseline).
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
#[allow(unsafe_code, reason = "std::arch loads and stores take raw pointers")]
mod neon {
    use std::arch::aarch64::{vdupq_n_u32, veorq_u8, vld1q_u8, vreinterpretq_u8_u32, vst1q_u8};

    use super::scalar;

    /// NEON masking of a buffer of any length.
    #[inline]
    pub(super) fn apply(buf: &mut [u8], key: [u8; 4]) {
        let len = buf.len();
        let ptr = buf.as_mut_ptr();
        let mut i = 0;
        if len >= 16 {
            #[allow(
                unused_unsafe,
                reason = "needed before Rust 1.87, which made value-only intrinsics safe to call \
                          where their target feature is enabled"
            )]
            // SAFETY: NEON is enabled for this whole module (cfg above); the intrinsics touch no
            // memory.
            let k = unsafe { vreinterpretq_u8_u32(vdupq_n_u32(u32::from_ne_bytes(key))) };
            while i + 64 <= len {
                // SAFETY: bytes `i..i + 64` are inside `buf` (loop condition); `vld1q_u8` and
                // `vst1q_u8` need no alignment beyond a byte's.
                unsafe {
                    let p = ptr.add(i);
                    let a = vld1q_u8(p);
                    let b = vld1q_u8(p.add(16));
                    let c = vld1q_u8(p.add(32));
                    let d = vld1q_u8(p.add(48));
                    vst1q_u8(p, veorq_u8(a, k));
                    vst1q_u8(p.add(16), veorq_u8(b, k));
                    vst1q_u8(p.add(32), veorq_u8(c, k));
                    vst1q_u8(p.add(48), veorq_u8(d, k));
                }
                i += 64;
            }
            while i + 16 <= len {
                // SAFETY: bytes `i..i + 16` are inside `buf` (loop condition).
                unsafe {
                    let p = ptr.add(i);
                    vst1q_u8(p, veorq_u8(vld1q_u8(p), k));
                }
                i += 16;
            }
        }
        // `i` is a multiple of 16: the key is in phase.
        scalar(&mut buf[i..], key);
    }
}

/// A masking implementation: masks `buf` with a key already rotated to `buf[0]`.
#[cfg(test)]
pub(crate) type Implementation = fn(&mut [u8], [u8; 4]);

/// Every implementation this build and CPU can run, by name, for tests that force each one
/// through the same checks.
#[cfg(test)]
pub(crate) fn implementations() -> Vec<(&'static str, Implementation)> {
    let mut all: Vec<(&'static str, Implementation)> = vec![
        ("dispatch", |buf, key| apply_mask(buf, key, 0)),
        ("portable", portable),
    ];
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        all.push(("sse2", x86::sse2));
        if x86::has_avx2() {
            all.push(("avx2", x86::avx2_checked));
        }
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    all.push(("neon", neon::apply));
    all
}

/// The reference: one byte at a time, straight from RFC 6455 §5.3 ("octet i of the transformed
/// data is the XOR of octet i of the original data with octet at index i modulo 4 of the masking
/// key").
#[cfg(test)]
pub(crate) fn apply_mask_naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Longest buffer the exhaustive test masks.
    const MAX_LEN: usize = 300;

    /// A small deterministic generator, so failures reproduce.
    fn keys() -> impl Iterator<Item = [u8; 4]> {
        let mut state: u32 = 0x9e37_79b9;
        let random = std::iter::repeat_with(move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()
        });
        // Miri interprets every byte operation, so it gets one key with four distinct bytes.
        let fixed: &[[u8; 4]] = if cfg!(miri) {
            &[[0x37, 0xfa, 0x21, 0x3d]]
        } else {
            &[
                [0x37, 0xfa, 0x21, 0x3d],
                [0, 0, 0, 0],
                [0xff, 0xff, 0xff, 0xff],
            ]
        };
        fixed
            .iter()
            .copied()
            .chain(random.take(if cfg!(miri) { 0 } else { 5 }))
    }

    /// Lengths for the exhaustive test: all of them natively; under Miri every length up to 40
    /// and those around the thresholds: the unrolled loops (64, 128 bytes) and AVX2's (256).
    fn lengths() -> Vec<usize> {
        if cfg!(miri) {
            (0..=40)
                .chain([
                    47, 48, 63, 64, 65, 79, 95, 96, 127, 128, 129, 143, 255, 256, 257, 300,
                ])
                .collect()
        } else {
            (0..=MAX_LEN).collect()
        }
    }

    /// Start alignments relative to a 32-byte boundary: all 32 natively, since AVX2 masks the
    /// bytes up to the next boundary apart; a sample under Miri.
    fn alignments() -> Vec<usize> {
        if cfg!(miri) {
            vec![0, 1, 7, 17, 31]
        } else {
            (0..32).collect()
        }
    }

    /// Payload offsets: 0 to 3 natively; under Miri 0 and 3 (the rotation is the same code for
    /// every implementation, and runs natively for all four).
    fn offsets() -> &'static [usize] {
        if cfg!(miri) { &[0, 3] } else { &[0, 1, 2, 3] }
    }

    #[test]
    fn every_implementation_matches_naive_for_every_length_offset_and_alignment() {
        // A 32-aligned base, so each `align` is an exact misalignment relative to a vector.
        #[repr(C, align(32))]
        #[derive(Clone, Copy)]
        struct Storage([u8; MAX_LEN + 32]);
        let mut storage = Storage([0; MAX_LEN + 32]);
        for (i, b) in storage.0.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        let implementations = implementations();
        for (name, imp) in &implementations {
            for key in keys() {
                for align in alignments() {
                    for &offset in offsets() {
                        for len in lengths() {
                            let mut fast = storage;
                            let mut slow = storage;
                            imp(&mut fast.0[align..align + len], rotate_key(key, offset));
                            apply_mask_naive(&mut slow.0[align..align + len], key, offset);
                            assert!(
                                fast.0 == slow.0,
                                "{name}: key {key:02x?} align {align} offset {offset} len {len}"
                            );
                        }
                    }
                }
            }
        }
        // Say which implementations ran, for the Miri log.
        let names: Vec<_> = implementations.iter().map(|(name, _)| *name).collect();
        eprintln!("mask implementations checked: {names:?}");
    }

    #[test]
    fn offset_is_taken_modulo_4() {
        let original: Vec<u8> = (0..64u8).collect();
        for offset in [0, 1, 2, 3, 4, 5, 1001, usize::MAX] {
            let mut a = original.clone();
            let mut b = original.clone();
            apply_mask(&mut a, [1, 2, 3, 4], offset);
            apply_mask_naive(&mut b, [1, 2, 3, 4], offset % 4);
            assert_eq!(a, b, "offset {offset}");
        }
    }

    #[test]
    fn chunked_unmasking_equals_one_shot() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        let len = if cfg!(miri) { 80 } else { 257 };
        let original: Vec<u8> = (0..len as u32).map(|i| (i * 31) as u8).collect();
        let mut whole = original.clone();
        apply_mask(&mut whole, key, 0);
        for split_a in 0..original.len() {
            let split_b = (split_a + 37).min(original.len());
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

    #[test]
    fn rfc_5_7_masked_hello() {
        let mut payload = *b"\x7f\x9f\x4d\x51\x58";
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&payload, b"Hello");
    }
}
