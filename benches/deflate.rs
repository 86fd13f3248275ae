//! permessage-deflate through the connection, in memory: a server compresses a message of typical
//! JSON text (`compress`, on the default parameters: no context takeover, a pooled compressor;
//! `compress_takeover`, with a compressor of its own kept between messages, 15-bit windows; the
//! same message every time, so with context takeover each one mostly refers back to the last
//! and costs far less than a fresh message would), a client inflates
//! one (`decompress`, without context takeover, so the same frame can be inflated again).
//! Throughput is uncompressed bytes per second; the compressed size is printed once per size.
//!
//! `broadcast/1KiB` sends one 1 KiB prepared message to 1,000 server connections, each time a
//! new message, so that the compressions are part of the cost: `uncompressed` without
//! permessage-deflate, `compressed_shared` on the default parameters (one compression shared by
//! all), `compressed_each` the same message compressed by each connection (`send_text`, as
//! before prepared messages were compressed). Throughput is deliveries per second; the time
//! divided by 1,000 is the CPU per delivery.
//!
//! ```text
//! cargo bench --features deflate --bench deflate
//! ```

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::ExtensionOffer;
use rfc6455::handshake::deflate::{accept_response, negotiate};
use rfc6455::{Config, Connection, PreparedMessage, Role};

const SIZES: [(&str, usize); 3] = [("1KiB", 1 << 10), ("64KiB", 64 << 10), ("1MiB", 1 << 20)];

/// Chat-like JSON: repetitive keys, varying values.
fn json(size: usize) -> String {
    let mut out = String::from("[");
    let mut i = 0u64;
    while out.len() < size {
        out.push_str(&format!(
            r#"{{"type":"message","id":{i},"ts":{},"room":"lobby-{}","payload":{{"user":"user{}","text":"hello number {i}"}}}},"#,
            1_700_000_000_000u64 + i * 37,
            i % 7,
            i % 113
        ));
        i += 1;
    }
    out.truncate(size);
    out
}

/// A server and a client that negotiated `config`, compressing every message.
fn pair(config: DeflateConfig) -> (Connection, Connection) {
    pair_with(config.threshold(0))
}

/// A server and a client that negotiated `config`, its threshold included.
fn pair_with(config: DeflateConfig) -> (Connection, Connection) {
    let offers = ExtensionOffer::parse_list(config.offer().as_bytes()).unwrap();
    let server_params = negotiate(&offers, &config).unwrap();
    let answer = ExtensionOffer::parse_list(server_params.response().as_bytes()).unwrap();
    let client_params = accept_response(&answer, &config).unwrap().unwrap();
    let base = Config::default().deflate(Some(config));
    let server = Connection::new(Role::Server, base.clone()).with_deflate(server_params);
    let client =
        Connection::with_mask_seed(Role::Client, base, [1; 32]).with_deflate(client_params);
    (server, client)
}

fn bench(c: &mut Criterion) {
    for (name, size) in SIZES {
        let text = json(size);
        let mut group = c.benchmark_group(format!("deflate/{name}"));
        group.throughput(Throughput::Bytes(size as u64));

        let (mut server, _) = pair(DeflateConfig::default());
        group.bench_function("compress", |b| {
            b.iter(|| {
                server.send_text(black_box(&text)).unwrap();
                black_box(server.take_transmit());
            })
        });

        // 15-bit windows: what `compress` measured before no context takeover became the
        // default (the `context_takeover()` preset's 12-bit windows cost about 30% more CPU).
        let (mut server, _) = pair(DeflateConfig::context_takeover().max_window_bits(15));
        group.bench_function("compress_takeover", |b| {
            b.iter(|| {
                server.send_text(black_box(&text)).unwrap();
                black_box(server.take_transmit());
            })
        });

        // Without context takeover every message stands alone, so one compressed frame can be
        // inflated over and over: this measures inflating only.
        let (mut server, mut client) = pair(DeflateConfig::low_memory());
        server.send_text(&text).unwrap();
        let frame = server.take_transmit().to_vec();
        println!(
            "deflate/{name}: {size} bytes -> {} on the wire",
            frame.len()
        );
        group.bench_function("decompress", |b| {
            b.iter(|| {
                client.handle_input(black_box(&frame));
                black_box(client.poll_recv().unwrap().unwrap());
            })
        });
        group.finish();
    }
}

/// How many connections a broadcast reaches.
const MEMBERS: usize = 1000;

fn broadcast(c: &mut Criterion) {
    let text = json(1 << 10);
    let mut group = c.benchmark_group("broadcast/1KiB");
    group.throughput(Throughput::Elements(MEMBERS as u64));

    let mut plain: Vec<_> = (0..MEMBERS)
        .map(|_| Connection::new(Role::Server, Config::default()))
        .collect();
    group.bench_function("uncompressed", |b| {
        b.iter(|| {
            let message = PreparedMessage::text(black_box(&text));
            for member in &mut plain {
                member.send_prepared(&message).unwrap();
                black_box(member.take_transmit());
            }
        })
    });

    // The default parameters, with the default threshold (1 KiB): the message is compressed.
    let mut compressed: Vec<_> = (0..MEMBERS)
        .map(|_| pair_with(DeflateConfig::default()).0)
        .collect();
    let wire = {
        let member = &mut compressed[0];
        member.send_prepared(&PreparedMessage::text(&text)).unwrap();
        member.take_transmit().len()
    };
    println!("broadcast/1KiB: {} bytes -> {wire} on the wire", text.len());
    group.bench_function("compressed_shared", |b| {
        b.iter(|| {
            let message = PreparedMessage::text(black_box(&text));
            for member in &mut compressed {
                member.send_prepared(&message).unwrap();
                black_box(member.take_transmit());
            }
        })
    });
    group.bench_function("compressed_each", |b| {
        b.iter(|| {
            for member in &mut compressed {
                member.send_text(black_box(&text)).unwrap();
                black_box(member.take_transmit());
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(2));
    targets = bench, broadcast
}
criterion_main!(benches);
