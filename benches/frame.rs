//! Frame header parsing and encoding (RFC 6455 §5.2), one header per iteration, for each length
//! encoding: 7-bit (small), 16-bit (medium) and 64-bit (large), masked as a client sends them.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfc6455::frame::{FrameHeader, OpCode, Parse};

const CASES: [(&str, u64); 3] = [("small", 125), ("medium", 1 << 10), ("large", 1 << 20)];

fn header(payload_len: u64) -> FrameHeader {
    let mut header = FrameHeader::new(OpCode::Binary, payload_len);
    header.mask = Some([0x37, 0xfa, 0x21, 0x3d]);
    header
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame/parse");
    group.throughput(Throughput::Elements(1));
    for (name, len) in CASES {
        let wire = header(len).encode().to_vec();
        group.bench_function(name, |b| {
            b.iter(|| match FrameHeader::parse(black_box(&wire)) {
                Ok(Parse::Complete(header, n)) => (header.payload_len, n),
                other => panic!("unexpected {other:?}"),
            });
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame/encode");
    group.throughput(Throughput::Elements(1));
    for (name, len) in CASES {
        let header = header(len);
        group.bench_function(name, |b| b.iter(|| black_box(black_box(&header).encode())));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_millis(800))
        .sample_size(50);
    targets = parse, encode
}
criterion_main!(benches);
