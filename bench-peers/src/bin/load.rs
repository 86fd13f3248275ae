//! Echo load generator for WebSocket servers, neutral towards every library compared: it
//! encodes and parses frames by hand and uses no WebSocket crate.
//!
//! ```text
//! cargo run --release --bin load -- --url ws://127.0.0.1:9001/ -n 64 -p 8 -s 1KiB \
//!     -d 3 --warmup 1 --server-pid PID
//! ```
//!
//! Opens N connections (opening handshake written by hand: a fixed GET with a fixed base64 key,
//! response read up to the blank line and checked for `101` and the matching accept key), then
//! keeps P binary messages of S bytes in flight on each: the masked client frame is encoded
//! once, and as echoes come back the window is refilled, several frames per write. The echoed
//! (unmasked) server frames are parsed just enough to count messages: 2, 4 and 10-byte headers,
//! frames split across reads, continuation frames; every echo must be a binary message of
//! exactly S bytes. Any violation ends that connection with an error, and the exit status is 1.
//! During the warm-up the payload of every echo must also equal the one sent; during the
//! measured window only headers and lengths are checked (`--verify-all` compares payloads
//! there too). Outside verification, with messages of 4 KiB and more, the tool reads headers
//! only and drops payloads in the kernel with `recv(MSG_TRUNC)` (TCP discards the bytes instead
//! of copying them out), which spares it one copy per echoed byte. (Sending with `sendfile`
//! from a memfd was tried too, and did not measurably help: on loopback the sender also pays
//! for most of the TCP path.)
//!
//! After the warm-up W, it counts the messages echoed during D seconds and prints messages/s,
//! MB/s (10^6 bytes of echoed payload per second), the CPU time the server used per message
//! (utime + stime from `/proc/PID/stat` around the window, with `--server-pid`) and its own
//! CPU time, so a saturated load tool shows. The last line is machine-readable:
//!
//! ```text
//! RESULT msgs_per_s=… mb_per_s=… cpu_us_per_msg=… server_cpu_pct=… load_cpu_us_per_msg=… load_cpu_pct=… errors=…
//! ```
//!
//! One thread: a tokio `current_thread` runtime with one task per connection, each a hand-polled
//! loop that writes while the window has room and reads while echoes arrive.

use std::future::poll_fn;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::TcpStream;

const USAGE: &str = "\
usage: load [--url ws://HOST:PORT/PATH] [-n|--connections N] [-p|--in-flight P]
            [-s|--size S] [-d|--seconds D] [--warmup W] [--server-pid PID] [--verify-all]

  --url          server to load (default ws://127.0.0.1:9001/)
  -n, --connections  connections (default 1)
  -p, --in-flight    messages in flight per connection (default 8)
  -s, --size     payload bytes per message; suffixes KiB/K/k and MiB/M/m (default 20)
  -d, --seconds  measured window in seconds (default 3)
  --warmup       seconds of load before the window (default 1)
  --server-pid   server process whose CPU time to report per message
  --verify-all   compare echoed payloads with the bytes sent during the measured window
                 too (they always are during the warm-up); costs the tool a copy per byte";

/// Messages echoed completely, over all connections.
static MESSAGES: AtomicU64 = AtomicU64::new(0);
/// Connections that ended with an error.
static ERRORS: AtomicU64 = AtomicU64::new(0);
/// Echoed payloads are compared with the bytes sent; cleared when the measured window starts,
/// unless `--verify-all`. While clear, large payloads are discarded in the kernel.
static VERIFYING: AtomicBool = AtomicBool::new(true);

/// The handshake key, and the `Sec-WebSocket-Accept` a server must answer (RFC 6455 1.3).
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// The masking key of every frame sent.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// Bytes asked for per read (and most discarded per `recv(MSG_TRUNC)`).
const READ_SIZE: usize = 256 * 1024;
/// Payload left in a frame from which it is discarded rather than read, when not verifying.
const DISCARD_MIN: usize = 4 * 1024;
/// The longest header of a server frame.
const MAX_HEADER: usize = 10;

struct Options {
    url: String,
    connections: usize,
    in_flight: usize,
    size: usize,
    seconds: f64,
    warmup: f64,
    server_pid: Option<u32>,
    verify_all: bool,
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(error) => {
            eprintln!("load: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building the tokio runtime");
    match runtime.block_on(run(options)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("load: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the load; `Ok(false)` if a connection failed or nothing was echoed in the window.
async fn run(options: Options) -> Result<bool, String> {
    let (addr, host, path) = parse_url(&options.url)?;
    let payload: Arc<[u8]> = (0..options.size).map(|i| (i % 251) as u8).collect();
    let frame = masked_binary_frame(&payload);
    // One frame more than the window: a write may start in the middle of a frame.
    let frames: Arc<[u8]> = frame.repeat(options.in_flight + 1).into();

    let mut connections = Vec::with_capacity(options.connections);
    // The server may still be starting: retry refused connections for a while, first one only.
    let deadline = Instant::now() + Duration::from_secs(5);
    for id in 0..options.connections {
        let (stream, early) = connect(&addr, &host, &path, (id == 0).then_some(deadline))
            .await
            .map_err(|error| format!("connection {id} to {addr}: {error}"))?;
        let mut parser = Parser::new(payload.clone());
        let early = parser.feed(&early, true);
        let connection = Connection {
            stream,
            frames: frames.clone(),
            frame_len: frame.len(),
            window: options.in_flight,
            in_flight: 0,
            unsent: 0,
            offset: 0,
            buf: vec![0; READ_SIZE].into_boxed_slice(),
            parser,
        };
        connections.push((connection, early));
    }
    // Start the load once every connection is up.
    for (id, (mut connection, early)) in connections.into_iter().enumerate() {
        tokio::spawn(async move {
            let result = match early {
                Ok(0) => poll_fn(|cx| connection.poll_run(cx)).await,
                Ok(_) => Err("echo received before any message was sent".into()),
                Err(error) => Err(error),
            };
            if let Err(error) = result {
                ERRORS.fetch_add(1, Ordering::Relaxed);
                eprintln!("load: connection {id}: {error}");
            }
        });
    }

    tokio::time::sleep(Duration::from_secs_f64(options.warmup)).await;
    if !options.verify_all {
        VERIFYING.store(false, Ordering::Relaxed);
    }
    let start = Snapshot::take(options.server_pid)?;
    tokio::time::sleep(Duration::from_secs_f64(options.seconds)).await;
    let end = Snapshot::take(options.server_pid)?;

    let elapsed = end.at.duration_since(start.at).as_secs_f64();
    let messages = end.messages - start.messages;
    let msgs_per_s = messages as f64 / elapsed;
    let mb_per_s = msgs_per_s * options.size as f64 / 1e6;
    let per_message = |cpu: f64| {
        if messages == 0 {
            "NA".to_owned()
        } else {
            format!("{:.3}", cpu * 1e6 / messages as f64)
        }
    };
    let load_cpu = end.load_cpu - start.load_cpu;
    let server_cpu = start.server_cpu.zip(end.server_cpu).map(|(a, b)| b - a);
    let errors = ERRORS.load(Ordering::Relaxed);

    println!(
        "load: {} connection(s) x {} in flight x {}-byte binary messages to {}, \
         warm-up {} s, measured {elapsed:.3} s",
        options.connections, options.in_flight, options.size, options.url, options.warmup
    );
    println!("echoed: {msgs_per_s:.0} messages/s, {mb_per_s:.2} MB/s of payload");
    if let Some(cpu) = server_cpu {
        println!(
            "server CPU: {:.1}% of a core, {} us/message",
            cpu * 100.0 / elapsed,
            per_message(cpu)
        );
    }
    println!(
        "load tool CPU: {:.1}% of a core, {} us/message",
        load_cpu * 100.0 / elapsed,
        per_message(load_cpu)
    );
    println!(
        "RESULT msgs_per_s={msgs_per_s:.1} mb_per_s={mb_per_s:.3} cpu_us_per_msg={} \
         server_cpu_pct={} load_cpu_us_per_msg={} load_cpu_pct={:.1} errors={errors}",
        server_cpu.map_or("NA".to_owned(), per_message),
        server_cpu.map_or("NA".to_owned(), |cpu| format!(
            "{:.1}",
            cpu * 100.0 / elapsed
        )),
        per_message(load_cpu),
        load_cpu * 100.0 / elapsed,
    );
    if messages == 0 {
        eprintln!("load: no message was echoed during the measured window");
    }
    Ok(errors == 0 && messages > 0)
}

/// Counters at one instant.
struct Snapshot {
    at: Instant,
    messages: u64,
    server_cpu: Option<f64>,
    load_cpu: f64,
}

impl Snapshot {
    fn take(server_pid: Option<u32>) -> Result<Self, String> {
        let server_cpu = server_pid
            .map(|pid| rfc6455_bench_peers::cpu_seconds(&pid.to_string()))
            .transpose()?;
        Ok(Self {
            at: Instant::now(),
            messages: MESSAGES.load(Ordering::Relaxed),
            server_cpu,
            load_cpu: rfc6455_bench_peers::cpu_seconds("self")?,
        })
    }
}

/// Connects and performs the opening handshake; returns the stream and any bytes that came
/// after the response head. Refused connections are retried until `retry_until`, if given.
async fn connect(
    addr: &str,
    host: &str,
    path: &str,
    retry_until: Option<Instant>,
) -> Result<(TcpStream, Vec<u8>), String> {
    let mut stream = loop {
        match TcpStream::connect(addr).await {
            Ok(stream) => break stream,
            Err(error)
                if error.kind() == std::io::ErrorKind::ConnectionRefused
                    && retry_until.is_some_and(|until| Instant::now() < until) =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => return Err(format!("connect: {error}")),
        }
    };
    stream
        .set_nodelay(true)
        .map_err(|error| format!("TCP_NODELAY: {error}"))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| format!("sending the handshake: {error}"))?;
    let mut response = Vec::new();
    let mut chunk = [0u8; 1024];
    let head_len = loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|error| format!("reading the handshake response: {error}"))?;
        if n == 0 {
            return Err("server closed during the handshake".into());
        }
        response.extend_from_slice(&chunk[..n]);
        if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if response.len() > 16 * 1024 {
            return Err("handshake response head too long".into());
        }
    };
    let head = String::from_utf8_lossy(&response[..head_len]);
    if !head.starts_with("HTTP/1.1 101") {
        return Err(format!("handshake refused: {}", head.trim_end()));
    }
    if !head.contains(ACCEPT) {
        return Err(format!("wrong Sec-WebSocket-Accept: {}", head.trim_end()));
    }
    Ok((stream, response.split_off(head_len)))
}

/// `ws://host[:port][/path]` into a socket address, a `Host` header and a request path.
fn parse_url(url: &str) -> Result<(String, String, String), String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| format!("{url}: only ws:// URLs are supported"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    if authority.is_empty() {
        return Err(format!("{url}: no host"));
    }
    let has_port = match authority.rfind(':') {
        Some(colon) => !authority[colon..].contains(']'),
        None => false,
    };
    let addr = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Ok((addr, authority.to_owned(), path.to_owned()))
}

/// A final, masked binary frame carrying `payload`, as a client sends it.
fn masked_binary_frame(payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut frame = Vec::with_capacity(14 + len);
    frame.push(0x82);
    match len {
        0..=125 => frame.push(0x80 | len as u8),
        126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&MASK);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    frame
}

/// One connection under load.
struct Connection {
    stream: TcpStream,
    /// `window + 1` copies of the encoded frame.
    frames: Arc<[u8]>,
    frame_len: usize,
    /// Messages to keep in flight.
    window: usize,
    /// Messages committed to the stream (written or in `unsent`) and not yet echoed.
    in_flight: usize,
    /// Bytes committed but not written yet.
    unsent: usize,
    /// Where the next write starts in `frames`, always within the first frame.
    offset: usize,
    buf: Box<[u8]>,
    parser: Parser,
}

impl Connection {
    /// Writes while the window has room and reads while echoes arrive, until neither can
    /// proceed. Never returns `Ready(Ok)`: a connection runs until the process ends.
    fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), String>> {
        loop {
            let mut progress = false;
            if self.in_flight < self.window {
                self.unsent += (self.window - self.in_flight) * self.frame_len;
                self.in_flight = self.window;
            }
            if self.unsent > 0 {
                let chunk = &self.frames[self.offset..self.offset + self.unsent];
                match Pin::new(&mut self.stream).poll_write(cx, chunk) {
                    Poll::Ready(Ok(0)) => return Poll::Ready(Err("write returned 0".into())),
                    Poll::Ready(Ok(n)) => {
                        self.unsent -= n;
                        self.offset = (self.offset + n) % self.frame_len;
                        progress = true;
                    }
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(format!("write: {error}"))),
                    Poll::Pending => {}
                }
            }
            match self.poll_receive(cx) {
                Poll::Ready(Ok(())) => progress = true,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => {}
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }

    /// Reads echoed bytes (or discards payload, outside verification) and accounts for the
    /// messages they complete.
    fn poll_receive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), String>> {
        let verifying = VERIFYING.load(Ordering::Relaxed);
        let left = self.parser.payload_left();
        let messages = if left >= DISCARD_MIN && !verifying {
            let n =
                ready!(self.poll_discard(cx, left)).map_err(|error| format!("recv: {error}"))?;
            if n == 0 {
                return Poll::Ready(Err("server closed the connection".into()));
            }
            self.parser.skip(n)?
        } else {
            // Outside verification, with large messages, read no further than a header, so
            // that the payload after it is discarded rather than copied.
            let len = if !verifying && self.parser.expected.len() >= DISCARD_MIN {
                MAX_HEADER
            } else {
                self.buf.len()
            };
            let mut read = ReadBuf::new(&mut self.buf[..len]);
            ready!(Pin::new(&mut self.stream).poll_read(cx, &mut read))
                .map_err(|error| format!("read: {error}"))?;
            let n = read.filled().len();
            if n == 0 {
                return Poll::Ready(Err("server closed the connection".into()));
            }
            self.parser.feed(&self.buf[..n], verifying)?
        };
        Poll::Ready(self.echoed(messages))
    }

    /// Accounts for `messages` echoes that just completed.
    fn echoed(&mut self, messages: u64) -> Result<(), String> {
        if messages > self.in_flight as u64 {
            return Err("more echoes than messages sent".into());
        }
        self.in_flight -= messages as usize;
        MESSAGES.fetch_add(messages, Ordering::Relaxed);
        Ok(())
    }

    /// Drops up to `len` received bytes in the kernel: TCP's `recv(MSG_TRUNC)` discards
    /// instead of copying.
    fn poll_discard(&mut self, cx: &mut Context<'_>, len: usize) -> Poll<std::io::Result<usize>> {
        let len = len.min(self.buf.len());
        loop {
            ready!(self.stream.poll_read_ready(cx))?;
            let buf = self.buf.as_mut_ptr();
            let result = self.stream.try_io(Interest::READABLE, || {
                // SAFETY: `buf` is valid for writes of `len` bytes (`len <= self.buf.len()`),
                // should a kernel copy after all; the stream's descriptor is open.
                let received = unsafe {
                    libc::recv(self.stream.as_raw_fd(), buf.cast(), len, libc::MSG_TRUNC)
                };
                usize::try_from(received).map_err(|_| std::io::Error::last_os_error())
            });
            match result {
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }
}

/// Incremental parser of the server's frames: counts complete echoed messages and checks
/// each is a binary message equal to the one sent.
struct Parser {
    expected: Arc<[u8]>,
    /// The header being read, and how much of it is here.
    header: [u8; 10],
    header_len: usize,
    /// Reading a frame's payload, with this much of it left.
    in_payload: bool,
    payload_left: usize,
    /// The current frame is the last of its message.
    fin: bool,
    /// A message's first frame has been read, and not its last.
    in_message: bool,
    /// Payload bytes of the current message so far.
    message_len: usize,
}

impl Parser {
    fn new(expected: Arc<[u8]>) -> Self {
        Self {
            expected,
            header: [0; 10],
            header_len: 0,
            in_payload: false,
            payload_left: 0,
            fin: false,
            in_message: false,
            message_len: 0,
        }
    }

    /// Payload bytes left in the frame being read, if its header has been read.
    fn payload_left(&self) -> usize {
        if self.in_payload {
            self.payload_left
        } else {
            0
        }
    }

    /// Consumes `n <= payload_left()` payload bytes dropped unseen; returns how many messages
    /// that completed.
    fn skip(&mut self, n: usize) -> Result<u64, String> {
        self.message_len += n;
        self.payload_left -= n;
        if self.payload_left == 0 {
            self.end_frame()
        } else {
            Ok(0)
        }
    }

    /// Consumes `data`, comparing payload bytes with the ones sent if `verify`; returns how
    /// many messages it completed.
    fn feed(&mut self, mut data: &[u8], verify: bool) -> Result<u64, String> {
        let mut echoed = 0;
        while !data.is_empty() {
            if self.in_payload {
                let n = self.payload_left.min(data.len());
                let at = self.message_len;
                if verify && data[..n] != self.expected[at..at + n] {
                    return Err(format!(
                        "echoed payload differs from the one sent, near byte {at}"
                    ));
                }
                self.message_len += n;
                self.payload_left -= n;
                data = &data[n..];
                if self.payload_left == 0 {
                    echoed += self.end_frame()?;
                }
                continue;
            }
            let needed = if self.header_len < 2 {
                2
            } else {
                match self.header[1] & 0x7f {
                    126 => 4,
                    127 => 10,
                    _ => 2,
                }
            };
            let take = (needed - self.header_len).min(data.len());
            self.header[self.header_len..self.header_len + take].copy_from_slice(&data[..take]);
            self.header_len += take;
            data = &data[take..];
            // Incomplete, or the first two bytes just told that an extended length follows.
            if self.header_len < needed || (needed == 2 && self.header[1] & 0x7f >= 126) {
                continue;
            }
            self.start_frame()?;
            if self.payload_left == 0 {
                echoed += self.end_frame()?;
            }
        }
        Ok(echoed)
    }

    /// Checks the complete header in `self.header` and starts reading its payload.
    fn start_frame(&mut self) -> Result<(), String> {
        let [first, second] = [self.header[0], self.header[1]];
        if second & 0x80 != 0 {
            return Err("the server masked a frame".into());
        }
        if first & 0x70 != 0 {
            return Err(format!(
                "RSV bits set in {first:#04x}, no extension was negotiated"
            ));
        }
        match (first & 0x0f, self.in_message) {
            (0x2, false) => self.message_len = 0,
            (0x0, true) => {}
            (0x8, _) => return Err("the server sent a close frame".into()),
            (opcode, _) => {
                return Err(format!(
                    "unexpected opcode {opcode:#x}{}, expected a binary message",
                    if self.in_message {
                        " inside a message"
                    } else {
                        ""
                    }
                ));
            }
        }
        let len = match second & 0x7f {
            126 => u64::from(u16::from_be_bytes([self.header[2], self.header[3]])),
            127 => {
                let mut be = [0u8; 8];
                be.copy_from_slice(&self.header[2..10]);
                u64::from_be_bytes(be)
            }
            short => u64::from(short),
        };
        if self.message_len as u64 + len > self.expected.len() as u64 {
            return Err(format!(
                "echoed message longer than the {} bytes sent",
                self.expected.len()
            ));
        }
        self.header_len = 0;
        self.in_payload = true;
        self.payload_left = len as usize;
        self.fin = first & 0x80 != 0;
        self.in_message = true;
        Ok(())
    }

    /// Ends the current frame; returns 1 if it completed a message.
    fn end_frame(&mut self) -> Result<u64, String> {
        self.in_payload = false;
        if !self.fin {
            return Ok(0);
        }
        self.in_message = false;
        if self.message_len != self.expected.len() {
            return Err(format!(
                "echoed message has {} bytes, {} were sent",
                self.message_len,
                self.expected.len()
            ));
        }
        Ok(1)
    }
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        url: "ws://127.0.0.1:9001/".into(),
        connections: 1,
        in_flight: 8,
        size: 20,
        seconds: 3.0,
        warmup: 1.0,
        server_pid: None,
        verify_all: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "--url" => options.url = value()?,
            "-n" | "--connections" => options.connections = number(&name, &value()?)?,
            "-p" | "--in-flight" => options.in_flight = number(&name, &value()?)?,
            "-s" | "--size" => options.size = size(&value()?)?,
            "-d" | "--seconds" => options.seconds = number(&name, &value()?)?,
            "--warmup" => options.warmup = number(&name, &value()?)?,
            "--server-pid" => options.server_pid = Some(number(&name, &value()?)?),
            "--verify-all" => options.verify_all = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    if options.connections == 0 || options.in_flight == 0 {
        return Err("--connections and --in-flight must be at least 1".into());
    }
    if !(options.seconds > 0.0 && options.warmup >= 0.0) {
        return Err("--seconds must be positive and --warmup not negative".into());
    }
    Ok(options)
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{name}: not a valid number: {value}"))
}

/// A byte count, optionally with a binary suffix: `20`, `1KiB`, `64k`, `1MiB`, `1M`.
fn size(value: &str) -> Result<usize, String> {
    let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = match &value[digits.len()..] {
        "" | "B" => 1,
        "k" | "K" | "KiB" => 1 << 10,
        "m" | "M" | "MiB" => 1 << 20,
        _ => return Err(format!("--size: unknown unit in {value}")),
    };
    let count: usize = number("--size", digits)?;
    count
        .checked_mul(unit)
        .ok_or_else(|| format!("--size: {value} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server frame: `first` byte, then the length in the shortest form, then `payload`.
    fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut frame = masked_binary_frame(payload);
        // Same length encoding as the client's; drop the mask bit, the key and the masking.
        let header_len = frame.len() - payload.len();
        frame[0] = first;
        frame[1] &= 0x7f;
        frame.truncate(header_len - 4);
        frame.extend_from_slice(payload);
        frame
    }

    fn payload(size: usize) -> Arc<[u8]> {
        (0..size).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn counts_messages_split_at_every_byte() {
        for size in [0, 20, 125, 126, 1024, 65535, 65536, 70000] {
            let expected = payload(size);
            let stream = [server_frame(0x82, &expected), server_frame(0x82, &expected)].concat();
            for cut in [1, 2, 3, 7, 10, 4096] {
                let mut parser = Parser::new(expected.clone());
                let echoed: u64 = stream
                    .chunks(cut)
                    .map(|chunk| parser.feed(chunk, true).expect("valid echo"))
                    .sum();
                assert_eq!(echoed, 2, "size {size}, chunks of {cut}");
            }
        }
    }

    #[test]
    fn accepts_fragmented_echoes_and_skipped_payload() {
        let expected = payload(10_000);
        let stream = [
            server_frame(0x02, &expected[..4000]),
            server_frame(0x00, &expected[4000..9000]),
            server_frame(0x80, &expected[9000..]),
        ]
        .concat();
        let mut parser = Parser::new(expected.clone());
        assert_eq!(parser.feed(&stream, true), Ok(1));

        let mut parser = Parser::new(expected.clone());
        let frame = server_frame(0x82, &expected);
        assert_eq!(parser.feed(&frame[..5], true), Ok(0));
        assert_eq!(parser.payload_left(), 9999);
        assert_eq!(parser.skip(9000), Ok(0));
        assert_eq!(parser.skip(999), Ok(1));
    }

    #[test]
    fn rejects_wrong_echoes() {
        let expected = payload(300);
        let check = |bytes: Vec<u8>| Parser::new(expected.clone()).feed(&bytes, true);
        assert!(check(server_frame(0x81, &expected)).is_err(), "text");
        assert!(
            check(server_frame(0x82, &expected[..299])).is_err(),
            "short"
        );
        assert!(check(server_frame(0x82, &payload(301))).is_err(), "long");
        assert!(check(server_frame(0x88, &[3, 232])).is_err(), "close");
        assert!(check(server_frame(0xc2, &expected)).is_err(), "RSV1");
        assert!(check(masked_binary_frame(&expected)).is_err(), "masked");
        let mut corrupt = server_frame(0x82, &expected);
        *corrupt.last_mut().unwrap() ^= 1;
        assert!(check(corrupt).is_err(), "corrupt payload");
    }

    #[test]
    fn parses_urls_and_sizes() {
        let parsed = |url| parse_url(url).expect("valid URL");
        assert_eq!(
            parsed("ws://127.0.0.1:9001/"),
            ("127.0.0.1:9001".into(), "127.0.0.1:9001".into(), "/".into())
        );
        assert_eq!(
            parsed("ws://localhost/chat"),
            ("localhost:80".into(), "localhost".into(), "/chat".into())
        );
        assert_eq!(parsed("ws://[::1]:80").0, "[::1]:80");
        assert_eq!(parsed("ws://[::1]").0, "[::1]:80");
        assert!(parse_url("wss://example.com/").is_err());
        assert_eq!(size("20"), Ok(20));
        assert_eq!(size("64KiB"), Ok(65536));
        assert_eq!(size("1M"), Ok(1 << 20));
        assert!(size("1G").is_err());
    }
}
