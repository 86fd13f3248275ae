//! rfc6455 against tungstenite and fastwebsockets on the same in-memory workloads; each group
//! holds all three so background load affects them alike.
//!
//! * `peers/mask/<size>`: `rfc6455::apply_mask` against `fastwebsockets::unmask`, which is the
//!   same code as tungstenite's private `apply_mask_fast32` (tungstenite exports no mask
//!   function).
//! * `peers/encode/<kind>/<size>`: the client role encodes N messages of that size (framing, mask
//!   key, masking) into memory.
//! * `peers/decode/<kind>/<size>`: the server role decodes the same frames from memory
//!   (unmasking, UTF-8 validation for text) and hands out each message.
//!
//! Throughput is payload bytes per second.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

const MASK_SIZES: [(&str, usize); 6] = [
    ("16B", 16),
    ("125B", 125),
    ("1KiB", 1 << 10),
    ("16KiB", 16 << 10),
    ("64KiB", 64 << 10),
    ("1MiB", 1 << 20),
];

const MESSAGE_SIZES: [(&str, usize); 4] = [
    ("20B", 20),
    ("1KiB", 1 << 10),
    ("64KiB", 64 << 10),
    ("1MiB", 1 << 20),
];

/// About how many payload bytes each encode/decode iteration moves.
const BYTES_PER_ITERATION: usize = 256 << 10;

/// A transport that replays `data` forever on reads and discards writes. `data` holds whole
/// frames, so wrapping around keeps the frame boundaries. Reads hand out as much as asked, like a
/// socket with plenty of data waiting.
struct Replay {
    data: Vec<u8>,
    pos: usize,
}

impl Replay {
    fn new(data: Vec<u8>) -> Self {
        Self { data, pos: 0 }
    }

    fn fill(&mut self, out: &mut [u8]) -> usize {
        if self.data.is_empty() {
            return 0;
        }
        if self.pos == self.data.len() {
            self.pos = 0;
        }
        let n = out.len().min(self.data.len() - self.pos);
        out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }
}

impl io::Read for Replay {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        Ok(self.fill(out))
    }
}

impl io::Write for Replay {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(black_box(buf).len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for Replay {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = this.fill(buf.initialize_unfilled());
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Replay {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(black_box(buf).len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(bufs.iter().map(|b| black_box(b).len()).sum()))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn mask(c: &mut Criterion) {
    for (name, size) in MASK_SIZES {
        for (suffix, misalign) in [("", 0usize), ("/unaligned", 1)] {
            let mut group = c.benchmark_group(format!("peers/mask/{name}{suffix}"));
            group.throughput(Throughput::Bytes(size as u64));
            let mut storage = vec![0x5au8; size + 128];
            let start = storage.as_ptr().align_offset(64) + misalign;
            let buf = &mut storage[start..start + size];
            group.bench_function("rfc6455", |b| {
                b.iter(|| rfc6455::apply_mask(black_box(&mut *buf), black_box(KEY), black_box(0)));
            });
            group.bench_function("fastwebsockets", |b| {
                b.iter(|| fastwebsockets::unmask(black_box(&mut *buf), black_box(KEY)));
            });
            group.finish();
        }
    }
}

/// ASCII, so the same payload serves as text and binary.
fn payload(size: usize) -> String {
    (0..size)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect()
}

/// `count` client frames of `payload`, as the wire carries them.
fn client_wire(text: bool, payload: &str, count: usize) -> Vec<u8> {
    let mut client = rfc6455::Connection::with_mask_seed(
        rfc6455::Role::Client,
        rfc6455::Config::default(),
        [7; 32],
    );
    for _ in 0..count {
        let sent = if text {
            client.send_text(payload)
        } else {
            client.send_binary(payload.as_bytes())
        };
        sent.expect("open");
    }
    client.take_transmit().to_vec()
}

fn tungstenite_config() -> tungstenite::protocol::WebSocketConfig {
    // Room for the 1 MiB messages; everything else at its default.
    tungstenite::protocol::WebSocketConfig::default()
}

fn encode(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    for (kind, text) in [("text", true), ("binary", false)] {
        for (name, size) in MESSAGE_SIZES {
            let count = (BYTES_PER_ITERATION / size).max(1);
            let payload = payload(size);
            let mut group = c.benchmark_group(format!("peers/encode/{kind}/{name}"));
            group.throughput(Throughput::Bytes((count * size) as u64));

            let mut ours = rfc6455::Connection::with_mask_seed(
                rfc6455::Role::Client,
                rfc6455::Config::default(),
                [7; 32],
            );
            group.bench_function("rfc6455", |b| {
                b.iter(|| {
                    for _ in 0..count {
                        let sent = if text {
                            ours.send_text(black_box(&payload))
                        } else {
                            ours.send_binary(black_box(payload.as_bytes()))
                        };
                        sent.expect("open");
                    }
                    black_box(ours.take_transmit());
                });
            });

            // tungstenite takes owned messages; cloning `Bytes`/`Utf8Bytes` is a reference count.
            let text_message = tungstenite::Utf8Bytes::from(payload.clone());
            let binary_message = Bytes::from(payload.clone().into_bytes());
            let mut tung = tungstenite::WebSocket::from_raw_socket(
                Replay::new(Vec::new()),
                tungstenite::protocol::Role::Client,
                Some(tungstenite_config()),
            );
            group.bench_function("tungstenite", |b| {
                b.iter(|| {
                    for _ in 0..count {
                        let message = if text {
                            tungstenite::Message::Text(text_message.clone())
                        } else {
                            tungstenite::Message::Binary(binary_message.clone())
                        };
                        tung.write(black_box(message)).expect("written");
                    }
                    tung.flush().expect("flushed");
                });
            });

            let mut fast = fastwebsockets::WebSocket::after_handshake(
                Replay::new(Vec::new()),
                fastwebsockets::Role::Client,
            );
            group.bench_function("fastwebsockets", |b| {
                b.iter(|| {
                    runtime.block_on(async {
                        for _ in 0..count {
                            // `Borrowed`: masking copies it into an owned buffer, as a caller
                            // holding a `&[u8]` gets.
                            let data =
                                fastwebsockets::Payload::Borrowed(black_box(payload.as_bytes()));
                            let frame = if text {
                                fastwebsockets::Frame::text(data)
                            } else {
                                fastwebsockets::Frame::binary(data)
                            };
                            fast.write_frame(frame).await.expect("written");
                        }
                    });
                });
            });
            group.finish();
        }
    }
}

fn decode(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    for (kind, text) in [("text", true), ("binary", false)] {
        for (name, size) in MESSAGE_SIZES {
            let count = (BYTES_PER_ITERATION / size).max(1);
            let payload = payload(size);
            let wire = client_wire(text, &payload, count);
            let mut group = c.benchmark_group(format!("peers/decode/{kind}/{name}"));
            group.throughput(Throughput::Bytes((count * size) as u64));

            let mut ours =
                rfc6455::Connection::new(rfc6455::Role::Server, rfc6455::Config::default());
            group.bench_function("rfc6455", |b| {
                b.iter(|| {
                    ours.handle_input(black_box(&wire));
                    let mut received = 0;
                    while let Some(message) = ours.poll_recv().expect("valid frames") {
                        received += black_box(message).len();
                    }
                    assert_eq!(received, count * size);
                });
            });

            let mut tung = tungstenite::WebSocket::from_raw_socket(
                Replay::new(wire.clone()),
                tungstenite::protocol::Role::Server,
                Some(tungstenite_config()),
            );
            group.bench_function("tungstenite", |b| {
                b.iter(|| {
                    let mut received = 0;
                    for _ in 0..count {
                        received += black_box(tung.read().expect("a message")).len();
                    }
                    assert_eq!(received, count * size);
                });
            });

            let mut fast = fastwebsockets::WebSocket::after_handshake(
                Replay::new(wire.clone()),
                fastwebsockets::Role::Server,
            );
            group.bench_function("fastwebsockets", |b| {
                b.iter(|| {
                    runtime.block_on(async {
                        let mut received = 0;
                        for _ in 0..count {
                            let frame = fast.read_frame().await.expect("a frame");
                            received += black_box(frame).payload.len();
                        }
                        assert_eq!(received, count * size);
                    });
                });
            });
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1))
        .sample_size(30);
    targets = mask, encode, decode
}
criterion_main!(benches);
