//! Fan-out load tool, neutral towards every server compared: it writes the handshake and the
//! frames by hand and uses no WebSocket crate.
//!
//! ```text
//! cargo run --release --bin fanout_load -- --url ws://127.0.0.1:9001/ -n 1000 -s 64 -d 3
//! cargo run --release --bin fanout_load -- --url ws://127.0.0.1:9001/ --url ws://127.0.0.1:9002/ -n 1000
//! ```
//!
//! Opens N member connections (spread round-robin over the `--url`s) and one publisher
//! connection (to the first). The servers under test put every connection in one room and send
//! every binary message any connection sends to all of them, so the publisher is in the room
//! too: the tool counts deliveries at the N members only, and discards what reaches the
//! publisher. The publisher sends binary messages of S bytes (at least 16), each carrying a
//! sequence number and its send time, keeping at most `--window` messages ahead of the slowest
//! member (and sending on after 100 ms without progress, so that messages lost while a server
//! subscribes cannot stall it).
//!
//! Every member checks every delivery: a final binary frame of exactly S bytes whose sequence
//! number is one more than the previous one it got (the first may be any: a member of a room
//! behind Redis starts receiving once its server is subscribed). A gap, a repeat or a malformed
//! frame ends the run with an error and exit status 1. After the warm-up W, deliveries during
//! D seconds are counted and their latencies (send to parse) collected in 1% buckets. With
//! `--server-pid` (repeatable: the figures of several processes are added up), the server's CPU
//! time (utime + stime from `/proc/PID/stat`, all its threads) over the same window is divided by
//! the deliveries counted: where the load tool, not the
//! server, sets the pace, this is the figure that ranks servers. Output:
//!
//! ```text
//! RESULT deliveries_per_s=… p50_us=… p99_us=… server_us_per_delivery=… published=… errors=…
//! ```
//!
//! (`server_us_per_delivery=NA` without `--server-pid`.)
//!
//! One thread: a tokio `current_thread` runtime, one task per connection.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

const USAGE: &str = "\
usage: fanout_load [--url ws://HOST:PORT/]... [-n MEMBERS] [-s SIZE] [-d SECONDS] [--warmup W]
                   [--window M] [--server-pid PID]

  --url      a server (repeat for members spread over several; default ws://127.0.0.1:9001/)
  -n         member connections (default 100)
  -s         payload bytes per message, at least 16 (default 64)
  -d         measured window in seconds (default 3)
  --warmup   seconds of load before the window (default 1)
  --window   messages the publisher may be ahead of the slowest member (default 64)
  --server-pid  a server process whose CPU time to report per delivery (repeat to add up
             several: the processes behind Redis, and redis-server)";

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// Latency buckets: 1 µs wide below 64 µs, then 1% wide.
const LINEAR: usize = 64;
const BUCKETS: usize = LINEAR + 1600;

struct Options {
    urls: Vec<String>,
    members: usize,
    size: usize,
    seconds: f64,
    warmup: f64,
    window: i64,
    server_pids: Vec<u32>,
}

struct Shared {
    start: Instant,
    size: usize,
    measuring: AtomicBool,
    delivered: AtomicU64,
    published: AtomicU64,
    /// The last sequence number each member got; -1 before the first.
    last: Vec<AtomicI64>,
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("fanout_load: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fanout_load: {error}");
            println!("RESULT errors=1");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<(), String> {
    let shared = Arc::new(Shared {
        start: Instant::now(),
        size: options.size,
        measuring: AtomicBool::new(false),
        delivered: AtomicU64::new(0),
        published: AtomicU64::new(0),
        last: (0..options.members).map(|_| AtomicI64::new(-1)).collect(),
    });
    let (stop_tx, stop) = watch::channel(false);
    let mut members = Vec::new();
    for index in 0..options.members {
        let url = &options.urls[index % options.urls.len()];
        let (stream, leftover) = connect(url).await?;
        members.push(tokio::spawn(member(
            stream,
            leftover,
            index,
            Arc::clone(&shared),
            stop.clone(),
        )));
    }
    let (stream, _) = connect(&options.urls[0]).await?;
    let publisher = tokio::spawn(publish(stream, Arc::clone(&shared), options.window, stop));

    tokio::time::sleep(Duration::from_secs_f64(options.warmup)).await;
    let server_cpu = || -> Result<Option<f64>, String> {
        if options.server_pids.is_empty() {
            return Ok(None);
        }
        let mut total = 0.0;
        for pid in &options.server_pids {
            total += rfc6455_bench_peers::cpu_seconds(&pid.to_string())?;
        }
        Ok(Some(total))
    };
    let cpu_before = server_cpu()?;
    shared.measuring.store(true, Ordering::SeqCst);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(options.seconds)).await;
    shared.measuring.store(false, Ordering::SeqCst);
    let elapsed = started.elapsed().as_secs_f64();
    let delivered = shared.delivered.load(Ordering::SeqCst);
    let cpu_after = server_cpu()?;
    stop_tx.send_replace(true);

    let mut histogram = vec![0u64; BUCKETS];
    for member in members {
        let counts = member.await.map_err(|e| e.to_string())??;
        for (total, count) in histogram.iter_mut().zip(counts) {
            *total += count;
        }
    }
    publisher.await.map_err(|e| e.to_string())??;
    if delivered == 0 {
        return Err("nothing was delivered during the measured window".into());
    }
    let rate = delivered as f64 / elapsed;
    let server_us = cpu_before
        .zip(cpu_after)
        .map_or("NA".to_owned(), |(before, after)| {
            format!("{:.3}", (after - before) * 1e6 / delivered as f64)
        });
    println!(
        "{} members, {} B: {rate:.0} deliveries/s, latency p50 {:.0} µs, p99 {:.0} µs, \
         server {server_us} µs CPU/delivery",
        options.members,
        options.size,
        percentile(&histogram, 0.50),
        percentile(&histogram, 0.99)
    );
    println!(
        "RESULT deliveries_per_s={rate:.0} p50_us={:.0} p99_us={:.0} \
         server_us_per_delivery={server_us} published={} errors=0",
        percentile(&histogram, 0.50),
        percentile(&histogram, 0.99),
        shared.published.load(Ordering::SeqCst)
    );
    Ok(())
}

fn bucket(us: f64) -> usize {
    if us < LINEAR as f64 {
        return us as usize;
    }
    (LINEAR + ((us / LINEAR as f64).ln() / 1.01f64.ln()) as usize).min(BUCKETS - 1)
}

fn bucket_value(index: usize) -> f64 {
    if index < LINEAR {
        return index as f64;
    }
    LINEAR as f64 * 1.01f64.powi((index - LINEAR) as i32)
}

fn percentile(histogram: &[u64], q: f64) -> f64 {
    let total: u64 = histogram.iter().sum();
    let target = (total as f64 * q).ceil() as u64;
    let mut seen = 0;
    for (index, count) in histogram.iter().enumerate() {
        seen += count;
        if seen >= target && total > 0 {
            return bucket_value(index);
        }
    }
    f64::NAN
}

async fn member(
    mut stream: TcpStream,
    mut input: Vec<u8>,
    index: usize,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) -> Result<Vec<u64>, String> {
    let mut histogram = vec![0u64; BUCKETS];
    let mut chunk = vec![0u8; 64 * 1024];
    let mut expected: Option<u64> = None;
    loop {
        let mut at = 0;
        while let Some((payload, end)) =
            frame(&input[at..], shared.size).map_err(|e| format!("member {index}: {e}"))?
        {
            let payload = &input[at + payload.0..at + payload.1];
            let seq = u64::from_be_bytes(payload[..8].try_into().unwrap());
            let sent = u64::from_be_bytes(payload[8..16].try_into().unwrap());
            if expected.is_some_and(|expected| seq != expected) {
                return Err(format!(
                    "member {index}: got message {seq} after {}: lost, repeated or reordered",
                    expected.unwrap() - 1
                ));
            }
            expected = Some(seq + 1);
            shared.last[index].store(seq as i64, Ordering::Relaxed);
            if shared.measuring.load(Ordering::Relaxed) {
                shared.delivered.fetch_add(1, Ordering::Relaxed);
                let now = shared.start.elapsed().as_nanos() as u64;
                histogram[bucket(now.saturating_sub(sent) as f64 / 1000.0)] += 1;
            }
            at += end;
        }
        input.drain(..at);
        tokio::select! {
            read = stream.read(&mut chunk) => match read {
                Ok(0) => return Err(format!("member {index}: the server closed the connection")),
                Ok(n) => input.extend_from_slice(&chunk[..n]),
                Err(error) => return Err(format!("member {index}: {error}")),
            },
            _ = stop.wait_for(|stop| *stop) => return Ok(histogram),
        }
    }
}

/// The next whole server frame in `input`: the payload's range and the frame's length.
#[allow(clippy::type_complexity)]
fn frame(input: &[u8], size: usize) -> Result<Option<((usize, usize), usize)>, String> {
    if input.len() < 2 {
        return Ok(None);
    }
    if input[0] != 0x82 || input[1] & 0x80 != 0 {
        return Err(format!(
            "not a final unmasked binary frame: {:02x} {:02x}",
            input[0], input[1]
        ));
    }
    let (len, header) = match input[1] {
        126 if input.len() >= 4 => (usize::from(u16::from_be_bytes([input[2], input[3]])), 4),
        127 if input.len() >= 10 => (
            u64::from_be_bytes(input[2..10].try_into().unwrap()) as usize,
            10,
        ),
        126 | 127 => return Ok(None),
        len => (usize::from(len), 2),
    };
    if len != size {
        return Err(format!("a message of {len} bytes, not {size}"));
    }
    if input.len() < header + len {
        return Ok(None);
    }
    Ok(Some(((header, header + len), header + len)))
}

async fn publish(
    stream: TcpStream,
    shared: Arc<Shared>,
    window: i64,
    stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let (mut reader, mut writer) = stream.into_split();
    // What the room sends back to the publisher is not counted.
    let drain = tokio::spawn(async move {
        let mut chunk = vec![0u8; 64 * 1024];
        while matches!(reader.read(&mut chunk).await, Ok(n) if n > 0) {}
    });
    let mut payload = vec![0u8; shared.size];
    let mut out = Vec::new();
    let mut seq: i64 = 0;
    let mut progress = (i64::MIN, Instant::now());
    while !*stop.borrow() {
        let slowest = shared
            .last
            .iter()
            .map(|last| last.load(Ordering::Relaxed))
            .min()
            .unwrap_or(seq - 1);
        if slowest != progress.0 {
            progress = (slowest, Instant::now());
        }
        let room = window - (seq - 1 - slowest);
        let stalled = progress.1.elapsed() > Duration::from_millis(100);
        let count = if room > 0 {
            room.min(16)
        } else if stalled {
            1
        } else {
            0
        };
        if count == 0 {
            tokio::task::yield_now().await;
            continue;
        }
        if stalled {
            progress.1 = Instant::now();
        }
        out.clear();
        for _ in 0..count {
            payload[..8].copy_from_slice(&(seq as u64).to_be_bytes());
            let now = shared.start.elapsed().as_nanos() as u64;
            payload[8..16].copy_from_slice(&now.to_be_bytes());
            masked_binary_frame(&payload, &mut out);
            seq += 1;
        }
        writer
            .write_all(&out)
            .await
            .map_err(|e| format!("publisher: {e}"))?;
        shared.published.store(seq as u64, Ordering::Relaxed);
    }
    drain.abort();
    Ok(())
}

fn masked_binary_frame(payload: &[u8], out: &mut Vec<u8>) {
    let len = payload.len();
    out.push(0x82);
    if len < 126 {
        out.push(0x80 | len as u8);
    } else {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    }
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
}

/// Connects and performs the opening handshake; returns the stream and the bytes read past the
/// response head.
async fn connect(url: &str) -> Result<(TcpStream, Vec<u8>), String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| format!("{url}: not ws://"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let mut stream = TcpStream::connect(authority)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    let mut chunk = [0u8; 1024];
    let head = loop {
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err(format!("{url}: closed during the handshake"));
        }
        response.extend_from_slice(&chunk[..n]);
        if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let text = String::from_utf8_lossy(&response[..head]);
    if !text.starts_with("HTTP/1.1 101") || !text.contains(ACCEPT) {
        return Err(format!("{url}: handshake refused: {}", text.trim_end()));
    }
    Ok((stream, response.split_off(head)))
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        urls: Vec::new(),
        members: 100,
        size: 64,
        seconds: 3.0,
        warmup: 1.0,
        window: 64,
        server_pids: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => options.urls.push(value()?),
            "-n" => options.members = value()?.parse().map_err(|_| "-n: not a number")?,
            "-s" => options.size = value()?.parse().map_err(|_| "-s: not a number")?,
            "-d" => options.seconds = value()?.parse().map_err(|_| "-d: not a number")?,
            "--warmup" => {
                options.warmup = value()?.parse().map_err(|_| "--warmup: not a number")?
            }
            "--window" => {
                options.window = value()?.parse().map_err(|_| "--window: not a number")?
            }
            "--server-pid" => {
                let pid = value()?.parse().map_err(|_| "--server-pid: not a number")?;
                options.server_pids.push(pid);
            }
            "-h" | "--help" => return Err("help".into()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if options.urls.is_empty() {
        options.urls.push("ws://127.0.0.1:9001/".into());
    }
    if options.size < 16 || options.size > 65_535 {
        return Err("-s: between 16 and 65535 bytes".into());
    }
    if options.members == 0 {
        return Err("-n: at least one member".into());
    }
    Ok(options)
}
