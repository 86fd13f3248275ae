//! Echo over HTTP/2 (RFC 8441) beside HTTP/1.1, both ends ours: the same echo loop behind one
//! hyper server that speaks both (h2c by prior knowledge, extended CONNECT enabled), loaded by
//! our client with N WebSockets, either N HTTP/1.1 connections or N streams of one HTTP/2
//! connection. `bench-peers/echo-http2` runs it and prints the table.
//!
//! ```text
//! echo_http2 server 127.0.0.1:9001
//! echo_http2 load --url ws://127.0.0.1:9001/ --http2 -n 16 -p 8 -s 1024 -d 3 --warmup 1 --server-pid PID
//! ```
//!
//! The load prints `RESULT msgs_per_s=… cpu_us_per_msg=… load_cpu_us_per_msg=…`, the CPU
//! figures from `/proc/PID/stat` (the server's, with `--server-pid`) over the measured window.
//! `--window BYTES` sets the HTTP/2 client's stream window (and N times it for the connection)
//! instead of h2's default of 65,535 bytes.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rfc6455::handshake::ClientRequest;
use rfc6455::http2::Http2Client;
use rfc6455::{Config, Message};
use tokio::io::{AsyncRead, AsyncWrite};

const USAGE: &str = "usage: echo_http2 server ADDR
       echo_http2 load --url URL (--http1|--http2) -n N -p P -s BYTES -d SECS [--warmup SECS] [--server-pid PID] [--window BYTES]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("server") => runtime.block_on(server(args.get(1).ok_or(USAGE)?)),
        Some("load") => runtime.block_on(load(Load::parse(&args[1..])?)),
        _ => Err(USAGE.into()),
    }
}

/// One hyper server for both protocols, with the loop of `examples/echo_server.rs`.
async fn server(addr: &str) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let config = Arc::new(Config::default().max_message_size(64 << 20));
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let config = config.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut request| {
                let config = config.clone();
                async move {
                    let (response, upgrade) = match rfc6455::hyper::upgrade(&mut request, config) {
                        Ok(parts) => parts,
                        Err(refusal) => return Ok::<_, Infallible>(refusal.into_http_response()),
                    };
                    tokio::spawn(async move {
                        let Ok(mut ws) = upgrade.await else { return };
                        while let Some(Ok(message)) = ws.next().await {
                            if message.is_data() && ws.feed(message).await.is_err() {
                                break;
                            }
                        }
                    });
                    Ok(response)
                }
            });
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder.http2().enable_connect_protocol();
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                .await;
        });
    }
}

/// The load's settings.
struct Load {
    url: String,
    http2: bool,
    connections: usize,
    in_flight: usize,
    size: usize,
    window: Duration,
    warmup: Duration,
    server_pid: Option<u32>,
    /// The HTTP/2 client's initial stream window; h2's default if `None`.
    window_bytes: Option<u32>,
}

impl Load {
    fn parse(args: &[String]) -> Result<Self, Box<dyn std::error::Error>> {
        let mut load = Self {
            url: String::new(),
            http2: false,
            connections: 1,
            in_flight: 8,
            size: 1024,
            window: Duration::from_secs(3),
            warmup: Duration::from_secs(1),
            server_pid: None,
            window_bytes: None,
        };
        let mut protocol_given = false;
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or(USAGE);
            match flag.as_str() {
                "--url" => load.url = value()?.clone(),
                "--http1" | "--http2" => {
                    load.http2 = flag == "--http2";
                    protocol_given = true;
                }
                "-n" => load.connections = value()?.parse()?,
                "-p" => load.in_flight = value()?.parse()?,
                "-s" => load.size = value()?.parse()?,
                "-d" => load.window = Duration::from_secs_f64(value()?.parse()?),
                "--warmup" => load.warmup = Duration::from_secs_f64(value()?.parse()?),
                "--server-pid" => load.server_pid = Some(value()?.parse()?),
                "--window" => load.window_bytes = Some(value()?.parse()?),
                _ => return Err(format!("unknown argument {flag:?}\n{USAGE}").into()),
            }
        }
        if load.url.is_empty() || !protocol_given || load.connections == 0 || load.in_flight == 0 {
            return Err(USAGE.into());
        }
        Ok(load)
    }
}

async fn load(load: Load) -> Result<(), Box<dyn std::error::Error>> {
    let request = ClientRequest::new(&load.url)?;
    let echoed = Arc::new(AtomicU64::new(0));
    let payload = Arc::new(vec![0x42u8; load.size]);
    let mut tasks = Vec::new();
    let http2 = if load.http2 {
        let tcp = tokio::net::TcpStream::connect((request.host(), request.port())).await?;
        tcp.set_nodelay(true)?;
        let mut settings = h2::client::Builder::new();
        if let Some(window) = load.window_bytes {
            let connections = u32::try_from(load.connections)?;
            settings
                .initial_window_size(window)
                .initial_connection_window_size(window.saturating_mul(connections));
        }
        let client = Http2Client::handshake_with(tcp, &settings).await?;
        if !client.supports_websockets() {
            return Err("the server did not enable extended CONNECT".into());
        }
        Some(client)
    } else {
        None
    };
    for _ in 0..load.connections {
        let (echoed, payload) = (echoed.clone(), payload.clone());
        let in_flight = load.in_flight;
        if let Some(client) = &http2 {
            let (ws, _) = client.websocket(&request, Config::default()).await?;
            tasks.push(tokio::spawn(keep_echoing(ws, in_flight, payload, echoed)));
        } else {
            let tcp = tokio::net::TcpStream::connect((request.host(), request.port())).await?;
            tcp.set_nodelay(true)?;
            let (ws, _) =
                rfc6455::tokio::WebSocket::client(tcp, &request, Config::default()).await?;
            tasks.push(tokio::spawn(keep_echoing(ws, in_flight, payload, echoed)));
        }
    }

    tokio::time::sleep(load.warmup).await;
    let (start, start_count) = (Instant::now(), echoed.load(Ordering::Relaxed));
    let (server_start, load_start) = (cpu_us(load.server_pid), cpu_us(Some(std::process::id())));
    tokio::time::sleep(load.window).await;
    let count = echoed.load(Ordering::Relaxed) - start_count;
    let elapsed = start.elapsed().as_secs_f64();
    let server_cpu = cpu_us(load.server_pid) - server_start;
    let load_cpu = cpu_us(Some(std::process::id())) - load_start;
    for task in &tasks {
        if task.is_finished() {
            return Err("a WebSocket failed during the run".into());
        }
    }
    let per_message = |cpu: f64| {
        if count == 0 {
            f64::NAN
        } else {
            cpu / count as f64
        }
    };
    println!(
        "RESULT msgs_per_s={:.0} cpu_us_per_msg={:.2} load_cpu_us_per_msg={:.2}",
        count as f64 / elapsed,
        per_message(server_cpu),
        per_message(load_cpu),
    );
    std::process::exit(0);
}

/// Keeps `in_flight` binary messages in flight, checks each echo, counts them.
///
/// Reading and writing run in tasks of their own (`into_split`), as any full-duplex client of
/// several WebSockets on one HTTP/2 connection must: the connection's receive window is shared
/// by all its streams, so a WebSocket that stops reading while it waits to write leaves the
/// others' echoes stuck behind its own unread data, and with enough in flight every stream
/// waits on another (the first version of this load, one task per WebSocket alternating `recv`
/// and `send`, stalled at 64 KiB x 16).
async fn keep_echoing<S>(
    ws: rfc6455::tokio::WebSocket<S>,
    in_flight: usize,
    payload: Arc<Vec<u8>>,
    echoed: Arc<AtomicU64>,
) -> Result<(), rfc6455::Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut reader, mut writer) = ws.into_split();
    // One permit per message that may be sent: `in_flight` at first, one more per echo.
    let permits = Arc::new(tokio::sync::Semaphore::new(in_flight));
    let writer_permits = permits.clone();
    let writer_payload = payload.clone();
    let writing = tokio::spawn(async move {
        loop {
            let Ok(permit) = writer_permits.acquire().await else {
                return Ok::<(), rfc6455::Error>(());
            };
            permit.forget();
            writer
                .send(Message::binary(writer_payload.to_vec()))
                .await?;
        }
    });
    loop {
        let message = match reader.recv().await {
            Ok(message) => message,
            Err(error) => {
                writing.abort();
                return Err(error);
            }
        };
        match message {
            Message::Binary(data) if data.len() == payload.len() => {}
            other => panic!("unexpected echo {other:?}"),
        }
        echoed.fetch_add(1, Ordering::Relaxed);
        permits.add_permits(1);
    }
}

/// The process's user + system CPU time in µs, from `/proc/PID/stat`; 0 if unknown.
fn cpu_us(pid: Option<u32>) -> f64 {
    let Some(pid) = pid else { return 0.0 };
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the name, field 3 (the state) is at index 0: utime and stime (fields 14 and 15 of
    // proc(5)) are at 11 and 12.
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) * 1e6 / per_second
}
