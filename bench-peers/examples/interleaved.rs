//! A load-tolerant cross-check of the mask benchmarks: each candidate is timed in short batches,
//! in turn, for many rounds, and the 10th percentile of each is reported. Background load (a
//! fuzzer, another build) slows whichever candidate it lands on, so criterion's consecutive
//! measurements can drift apart; interleaving spreads it over all of them, and a low percentile
//! keeps the rounds it spared.
//!
//! `cargo run --release --example interleaved` (about a minute); `ROUNDS=1000` for steadier
//! numbers.

use std::hint::black_box;
use std::time::Instant;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A candidate works on `buf`; `src` is a second buffer of the same length, for copies.
type Candidate = (&'static str, fn(&mut [u8], &[u8]));

/// The 10th-percentile time of one call of each candidate in nanoseconds, each timed batch
/// calling it `reps` times.
fn interleave(
    rounds: usize,
    reps: usize,
    buf: &mut [u8],
    src: &[u8],
    candidates: &[Candidate],
) -> Vec<f64> {
    let mut samples = vec![Vec::with_capacity(rounds); candidates.len()];
    for _ in 0..rounds {
        for ((_, run), times) in candidates.iter().zip(&mut samples) {
            let start = Instant::now();
            for _ in 0..reps {
                run(black_box(&mut *buf), black_box(src));
            }
            times.push(start.elapsed().as_nanos() as f64 / reps as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut times| {
            times.sort_by(f64::total_cmp);
            times[times.len() / 10]
        })
        .collect()
}

fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in buf.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
}

/// `len` bytes starting `misalign` bytes past a 64-byte boundary of `storage`.
fn slice_at(storage: &mut Vec<u8>, len: usize, misalign: usize) -> &mut [u8] {
    storage.resize(len + 128, b'a');
    let start = storage.as_ptr().align_offset(64) + misalign;
    &mut storage[start..start + len]
}

const MASKS: [Candidate; 4] = [
    ("memcpy", |buf, src| buf.copy_from_slice(src)),
    ("naive", |buf, _| naive(buf, black_box(KEY), black_box(0))),
    ("rfc6455", |buf, _| {
        rfc6455::apply_mask(buf, black_box(KEY), black_box(0));
    }),
    ("fastws", |buf, _| {
        fastwebsockets::unmask(buf, black_box(KEY))
    }),
];

/// 64 buffers of `SIZE` bytes, one per 64-byte-aligned stride, each masked by its own call. The
/// length passes through `black_box`, so no candidate is compiled for a known length.
fn batch<const SIZE: usize>() -> [Candidate; 3] {
    const fn stride(size: usize) -> usize {
        size.next_multiple_of(64)
    }
    [
        ("memcpy", |buf, src| {
            let pairs = buf
                .chunks_exact_mut(stride(SIZE))
                .zip(src.chunks_exact(stride(SIZE)));
            for (dst, src) in pairs {
                dst[..black_box(SIZE)].copy_from_slice(&src[..black_box(SIZE)]);
            }
        }),
        ("naive", |buf, _| {
            for buf in buf.chunks_exact_mut(stride(SIZE)) {
                naive(&mut buf[..black_box(SIZE)], black_box(KEY), black_box(0));
            }
        }),
        ("rfc6455", |buf, _| {
            for buf in buf.chunks_exact_mut(stride(SIZE)) {
                rfc6455::apply_mask(&mut buf[..black_box(SIZE)], black_box(KEY), black_box(0));
            }
        }),
    ]
}

const UTF8: [Candidate; 5] = [
    // A zero key keeps the buffer ASCII and costs the same as any other.
    ("unmask", |buf, _| {
        rfc6455::apply_mask(buf, black_box([0; 4]), 0)
    }),
    ("std::str::from_utf8", |buf, _| {
        assert!(std::str::from_utf8(buf).is_ok());
    }),
    ("simdutf8", |buf, _| {
        assert!(simdutf8::basic::from_utf8(buf).is_ok());
    }),
    ("unmask, then std", |buf, _| {
        rfc6455::apply_mask(buf, black_box([0; 4]), 0);
        assert!(std::str::from_utf8(buf).is_ok());
    }),
    ("unmask, then simdutf8", |buf, _| {
        rfc6455::apply_mask(buf, black_box([0; 4]), 0);
        assert!(simdutf8::basic::from_utf8(buf).is_ok());
    }),
];

fn main() {
    let rounds = std::env::var("ROUNDS").map_or(300, |r| r.parse().expect("a number"));

    println!("per call, 10th percentile of {rounds} interleaved rounds (ns)");
    println!(
        "{:>8} {:>9} {:>10} {:>10} {:>10} {:>10} {:>11} {:>10} {:>11}",
        "size",
        "start",
        "memcpy",
        "naive",
        "rfc6455",
        "fastws",
        "memcpy/ours",
        "naive/ours",
        "fastws/ours"
    );
    for size in [16, 125, 1 << 10, 16 << 10, 64 << 10, 1 << 20] {
        for misalign in [0, 1] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let (buf, src) = (
                slice_at(&mut a, size, misalign),
                slice_at(&mut b, size, misalign),
            );
            let reps = (100_000 / (size + 16)).max(2);
            let t = interleave(rounds, reps, buf, src, &MASKS);
            println!(
                "{size:>8} {:>9} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>11.2} {:>10.1} {:>11.2}",
                if misalign == 0 {
                    "aligned"
                } else {
                    "unaligned"
                },
                t[0],
                t[1],
                t[2],
                t[3],
                t[0] / t[2],
                t[1] / t[2],
                t[3] / t[2]
            );
        }
    }

    println!("\n64 separate buffers per batch, per call (ns)");
    for (size, candidates) in [(16_usize, batch::<16>()), (125, batch::<125>())] {
        let len = 64 * size.next_multiple_of(64);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        // Source and destination 1 KiB apart modulo 4 KiB, so loads do not falsely alias stores.
        let (buf, src) = (slice_at(&mut a, len, 0), slice_at(&mut b, len + 1024, 0));
        let t = interleave(rounds, 20, buf, &src[1024..], &candidates);
        let [m, n, o] = [t[0] / 64.0, t[1] / 64.0, t[2] / 64.0];
        println!(
            "{size:>8}B  memcpy {m:.2}  naive {n:.2}  rfc6455 {o:.2}  memcpy/ours {:.2}  \
             naive/ours {:.1}",
            m / o,
            n / o
        );
    }

    println!("\nunmask vs UTF-8 validation, 64 KiB of ASCII (ns)");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let (buf, src) = (slice_at(&mut a, 64 << 10, 0), slice_at(&mut b, 64 << 10, 0));
    let t = interleave(rounds, 20, buf, src, &UTF8);
    for ((name, _), time) in UTF8.iter().zip(&t) {
        println!(
            "{name:>22} {time:10.1}  ({:.2}x unmask, {:.1} GB/s)",
            time / t[0],
            65536.0 / time
        );
    }
}
