//! The opening handshake (RFC 6455 §4): the server parses and validates a request and writes the
//! 101 response; the client validates that response. One handshake per iteration.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rfc6455::handshake::{Accept, ClientHandshake, ClientRequest, ServerHandshake};

/// A browser-like request: the RFC 6455 §1.3 handshake plus the headers browsers add.
const REQUEST: &[u8] = b"GET /chat?room=1 HTTP/1.1\r\n\
Host: server.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: */*\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br\r\n\
Sec-WebSocket-Version: 13\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Connection: keep-alive, Upgrade\r\n\
Cookie: session=0123456789abcdef\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
Upgrade: websocket\r\n\r\n";

fn server(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake/server");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_validate_accept", |b| {
        b.iter(|| {
            let mut handshake = ServerHandshake::new();
            let request = handshake
                .handle_input(black_box(REQUEST))
                .expect("a valid request")
                .expect("a complete request");
            request
                .accept(&Accept::new().protocol("chat"))
                .expect("a valid response")
        });
    });
    group.finish();
}

fn client(c: &mut Criterion) {
    let request = ClientRequest::new("ws://server.example.com/chat?room=1")
        .expect("a valid URL")
        .protocol("chat")
        .key(*b"the sample nonce");
    let response: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
        Upgrade: websocket\r\n\
        Connection: Upgrade\r\n\
        Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
        Sec-WebSocket-Protocol: chat\r\n\r\n";
    let mut group = c.benchmark_group("handshake/client");
    group.throughput(Throughput::Elements(1));
    group.bench_function("build_request", |b| {
        b.iter(|| ClientHandshake::new(black_box(&request)).expect("a valid request"));
    });
    group.bench_function("validate_response", |b| {
        b.iter_batched(
            || ClientHandshake::new(&request).expect("a valid request"),
            |mut handshake| {
                handshake
                    .handle_input(black_box(response))
                    .expect("a valid response")
                    .expect("a complete response")
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_millis(800))
        .sample_size(50);
    targets = server, client
}
criterion_main!(benches);
