//! Masking throughput (RFC 6455 §5.3): `apply_mask` against a `memcpy` of the same buffer (the
//! bandwidth ceiling) and the naive byte loop (the floor), side by side in one group per size so
//! background load affects all three alike.
//!
//! `cargo bench --bench mask` runs it; `cargo bench --bench mask -- --quick` for a fast look,
//! `cargo bench --bench mask -- 'mask/16B'` for one group.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfc6455::apply_mask;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

const SIZES: [(&str, usize); 6] = [
    ("16B", 16),
    ("125B", 125),
    ("1KiB", 1 << 10),
    ("16KiB", 16 << 10),
    ("64KiB", 64 << 10),
    ("1MiB", 1 << 20),
];

/// A buffer whose first byte is `misalign` bytes past a 64-byte (cache line) boundary.
struct Buffer {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl Buffer {
    fn new(len: usize, misalign: usize) -> Self {
        let storage: Vec<u8> = (0..len + 128).map(|i| b' ' + (i % 95) as u8).collect();
        let start = storage.as_ptr().align_offset(64) + misalign;
        Self {
            storage,
            start,
            len,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

/// The reference loop, one byte at a time as RFC 6455 §5.3 states it.
fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
}

fn mask(c: &mut Criterion) {
    for (name, size) in SIZES {
        for (suffix, misalign) in [("", 0), ("/unaligned", 1)] {
            let mut group = c.benchmark_group(format!("mask/{name}{suffix}"));
            group.throughput(Throughput::Bytes(size as u64));
            let mut buf = Buffer::new(size, misalign);
            let src = Buffer::new(size, misalign);
            let (buf, src) = (buf.bytes_mut(), src.bytes());
            // Masking in place twice restores the buffer, so repeating it keeps the data stable.
            group.bench_function("rfc6455", |b| {
                b.iter(|| apply_mask(black_box(&mut *buf), black_box(KEY), black_box(0)));
            });
            group.bench_function("memcpy", |b| {
                b.iter(|| black_box(&mut *buf).copy_from_slice(black_box(src)));
            });
            group.bench_function("naive", |b| {
                b.iter(|| naive(black_box(&mut *buf), black_box(KEY), black_box(0)));
            });
            group.finish();
        }
    }
}

/// Small messages in bulk: 64 separate buffers per iteration, each masked (or copied) by its own
/// call. The per-iteration overhead of the benchmark loop, as large as the work itself at 16
/// bytes, is spread over 64 calls, and each buffer is touched again only 63 calls later, as when
/// many small frames arrive together. Length and offset go through `black_box`, as in the groups
/// above: a decoder knows neither at compile time, and a byte loop with a known phase or length
/// is vectorised by the compiler.
fn mask_batch(c: &mut Criterion) {
    const BATCH: usize = 64;
    for (name, size) in [("16B", 16), ("125B", 125)] {
        let mut group = c.benchmark_group(format!("mask_batch64/{name}"));
        group.throughput(Throughput::Bytes((BATCH * size) as u64));
        // Each buffer starts on its own cache line(s), as separate allocations would.
        let stride = size.next_multiple_of(64);
        let mut storage = Buffer::new(BATCH * stride, 0);
        let source = Buffer::new(BATCH * stride, 0);
        let (storage, source) = (storage.bytes_mut(), source.bytes());
        group.bench_function("rfc6455", |b| {
            b.iter(|| {
                for buf in black_box(&mut *storage).chunks_exact_mut(stride) {
                    apply_mask(&mut buf[..black_box(size)], black_box(KEY), black_box(0));
                }
            });
        });
        group.bench_function("memcpy", |b| {
            b.iter(|| {
                let pairs = black_box(&mut *storage)
                    .chunks_exact_mut(stride)
                    .zip(source.chunks_exact(stride));
                for (dst, src) in pairs {
                    dst[..black_box(size)].copy_from_slice(&src[..black_box(size)]);
                }
            });
        });
        group.bench_function("naive", |b| {
            b.iter(|| {
                for buf in black_box(&mut *storage).chunks_exact_mut(stride) {
                    naive(&mut buf[..black_box(size)], black_box(KEY), black_box(0));
                }
            });
        });
        group.finish();
    }
}

/// Would fusing unmasking with UTF-8 validation pay? Compares one pass of each over ASCII (the
/// common case for text), and the two passes back to back as the connection runs them.
fn unmask_vs_utf8(c: &mut Criterion) {
    // An all-zero key costs the same as any other (no special case) and keeps the buffer ASCII,
    // so `from_utf8` always scans all of it.
    const ZERO_KEY: [u8; 4] = [0; 4];
    for (name, size) in [("1KiB", 1 << 10), ("64KiB", 64 << 10)] {
        let mut group = c.benchmark_group(format!("unmask_vs_utf8/{name}"));
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = Buffer::new(size, 0);
        let buf = buf.bytes_mut();
        group.bench_function("unmask", |b| {
            b.iter(|| apply_mask(black_box(&mut *buf), black_box(ZERO_KEY), 0));
        });
        group.bench_function("from_utf8", |b| {
            b.iter(|| std::str::from_utf8(black_box(&*buf)).is_ok());
        });
        group.bench_function("unmask_then_from_utf8", |b| {
            b.iter(|| {
                let bytes = black_box(&mut *buf);
                apply_mask(bytes, black_box(ZERO_KEY), 0);
                std::str::from_utf8(bytes).is_ok()
            });
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    // Short defaults so `cargo bench` over every bench file takes a few minutes; pass
    // `--measurement-time`/`--warm-up-time` for steadier numbers.
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_millis(800))
        .sample_size(50);
    targets = mask, mask_batch, unmask_vs_utf8
}
criterion_main!(benches);
