//! What `Utf8Bytes::as_str` costs against re-validating the text on each access, the design its
//! one `unsafe` line replaces: `as_str` (validated once on receipt) beside
//! `std::str::from_utf8` of the same bytes, per size, in one group so background load affects
//! both alike.
//!
//! `cargo bench --bench utf8` runs it; `cargo bench --bench utf8 -- --quick` for a fast look.
//! Measured (`--quick`, 2026-12-05): `as_str` 0.31 ns at every size; re-validating 20 ns (20 B),
//! 924 ns (1 KiB), 842 µs (1 MiB) per access.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfc6455::Utf8Bytes;

const SIZES: [(&str, usize); 3] = [("20B", 20), ("1KiB", 1 << 10), ("1MiB", 1 << 20)];

fn access(c: &mut Criterion) {
    for (name, size) in SIZES {
        // Mixed one- to three-byte characters, as JSON with non-ASCII text has.
        let text: String = "ab€cé{\"k\":1}".chars().cycle().take(size).collect();
        let text = Utf8Bytes::from(text);
        let mut group = c.benchmark_group(format!("utf8/{name}"));
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function("as_str", |b| b.iter(|| black_box(&text).as_str().len()));
        group.bench_function("from_utf8 (re-validate)", |b| {
            b.iter(|| {
                std::str::from_utf8(black_box(&text).as_bytes())
                    .map(str::len)
                    .unwrap_or(0)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, access);
criterion_main!(benches);
