//! A whole connection in memory: the client role encodes N messages of S bytes (framing, mask-key
//! generation, masking), the server role decodes them (header checks, unmasking, UTF-8 validation
//! for text). Throughput is payload bytes per second.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfc6455::{Config, Connection, Message, Role};

/// Message sizes, and about how many payload bytes each iteration moves.
const SIZES: [(&str, usize); 4] = [
    ("20B", 20),
    ("1KiB", 1 << 10),
    ("64KiB", 64 << 10),
    ("1MiB", 1 << 20),
];
const BYTES_PER_ITERATION: usize = 256 << 10;

/// ASCII, so the same payload serves as text and binary.
fn payload(size: usize) -> String {
    (0..size)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect()
}

fn new_client() -> Connection {
    Connection::with_mask_seed(Role::Client, Config::default(), [7; 32])
}

fn send(conn: &mut Connection, text: bool, payload: &str) {
    let sent = if text {
        conn.send_text(payload)
    } else {
        conn.send_binary(payload.as_bytes())
    };
    sent.expect("the connection is open");
}

fn connection(c: &mut Criterion) {
    for (name, size) in SIZES {
        let count = (BYTES_PER_ITERATION / size).max(1);
        let payload = payload(size);
        let mut group = c.benchmark_group(format!("connection/{name}"));
        group.throughput(Throughput::Bytes((count * size) as u64));
        for (kind, text) in [("text", true), ("binary", false)] {
            let mut client = new_client();
            group.bench_function(format!("encode_{kind}"), |b| {
                b.iter(|| {
                    for _ in 0..count {
                        send(&mut client, text, black_box(&payload));
                    }
                    black_box(client.take_transmit());
                });
            });

            let mut wire_source = new_client();
            for _ in 0..count {
                send(&mut wire_source, text, &payload);
            }
            let wire = wire_source.take_transmit().to_vec();
            let mut server = Connection::new(Role::Server, Config::default());
            group.bench_function(format!("decode_{kind}"), |b| {
                b.iter(|| {
                    server.handle_input(black_box(&wire));
                    let mut received = 0;
                    while let Some(message) = server.poll_recv().expect("valid frames") {
                        debug_assert!(matches!(message, Message::Text(_) | Message::Binary(_)));
                        received += black_box(message).len();
                    }
                    assert_eq!(received, count * size);
                });
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1))
        .sample_size(30);
    targets = connection
}
criterion_main!(benches);
