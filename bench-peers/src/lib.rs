//! Pieces shared by the end-to-end echo servers of `src/bin/`: their accept loop, a
//! hand-written server opening handshake (for the servers whose library has none of its own on a
//! bare stream), and a stream wrapper that batches writes until reading would block.
//!
//! The in-memory benchmarks (`benches/peers.rs`) do not use this library.

use std::fmt::Display;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use base64::Engine as _;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter, ReadBuf};

/// The accept loop of every echo server: binds the address in the first argument (default
/// `127.0.0.1:9001`), says `NAME listening on ws://ADDR`, and serves each connection, with
/// `TCP_NODELAY`, in a task of its own (`unconstrained`, as some peers' examples run theirs),
/// printing how it ended.
pub async fn run_server<F, Fut, E>(name: &str, unconstrained: bool, serve: F) -> io::Result<()>
where
    F: Fn(tokio::net::TcpStream) -> Fut,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Display + 'static,
{
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("{name} listening on ws://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let connection = serve(stream);
        let task = async move {
            if let Err(error) = connection.await {
                eprintln!("connection ended: {error}");
            }
        };
        if unconstrained {
            tokio::spawn(tokio::task::unconstrained(task));
        } else {
            tokio::spawn(task);
        }
    }
}

/// The GUID of RFC 6455 section 1.3, appended to the client's key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Longest request head accepted by [`accept`].
const MAX_REQUEST: usize = 16 * 1024;

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
pub fn accept_key(key: &[u8]) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(sha1.finalize())
}

/// Performs the server side of the opening handshake by hand: reads the request head, takes
/// its `Sec-WebSocket-Key` and answers `101 Switching Protocols`.
///
/// Minimal on purpose (no checks of `Upgrade`, `Connection` or the version, no subprotocols or
/// extensions): it only serves the load tool and `idle_clients`. Returns the bytes read past
/// the request head, which belong to the WebSocket stream.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> io::Result<Vec<u8>> {
    let mut request = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head_len = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "client closed during the handshake",
            ));
        }
        let searched = request.len().saturating_sub(3);
        request.extend_from_slice(&chunk[..n]);
        if let Some(end) = request[searched..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
        {
            break searched + end + 4;
        }
        if request.len() > MAX_REQUEST {
            return Err(invalid("request head too long"));
        }
    };
    let head = &request[..head_len];
    if !head.starts_with(b"GET ") {
        return Err(invalid("not a GET request"));
    }
    let key = head
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let (name, value) = line.split_at(colon);
            name.eq_ignore_ascii_case(b"sec-websocket-key")
                .then(|| value[1..].trim_ascii())
        })
        .next()
        .ok_or_else(|| invalid("no Sec-WebSocket-Key header"))?;
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    );
    stream.write_all(response.as_bytes()).await?;
    Ok(request.split_off(head_len))
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Buffers writes, and flushes them when a read finds nothing to read.
///
/// For libraries whose writers go straight to the stream with no `feed`/`flush` split of their
/// own (fastwebsockets): each reply lands in the buffer, and the buffer goes out in one write
/// once every message already received has been answered, which is when the reader would block.
/// Writes larger than the buffer go straight through (after what is buffered).
#[derive(Debug)]
pub struct FlushOnIdle<S> {
    inner: BufWriter<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> FlushOnIdle<S> {
    /// Wraps `stream` with a write buffer of `capacity` bytes.
    pub fn new(stream: S, capacity: usize) -> Self {
        Self {
            inner: BufWriter::with_capacity(capacity, stream),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for FlushOnIdle<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let inner = &mut self.get_mut().inner;
        match Pin::new(&mut *inner).poll_read(cx, buf) {
            // Nothing more to read for now: send the replies. If the socket is full, the flush
            // registers for writability and the read for readability: either wakes the task.
            Poll::Pending => match Pin::new(inner).poll_flush(cx) {
                Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
                _ => Poll::Pending,
            },
            ready => ready,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for FlushOnIdle<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accept_key_matches_rfc_example() {
        assert_eq!(
            super::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}

/// Each peer library set up the same way for its obvious and its hand-batched echo server, so
/// that a pair differs only in its loop.
pub mod peers {
    use std::error::Error;

    use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
    use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio_tungstenite::tungstenite::{self, protocol::WebSocketConfig};

    /// Message and frame limit of every server: 1 MiB echoes and more must pass.
    const LIMIT: usize = 64 << 20;

    /// tokio-tungstenite's server handshake with 64 MiB message and frame limits.
    pub async fn tungstenite_accept(
        stream: TcpStream,
    ) -> Result<tokio_tungstenite::WebSocketStream<TcpStream>, tungstenite::Error> {
        let config = WebSocketConfig::default()
            .max_message_size(Some(LIMIT))
            .max_frame_size(Some(LIMIT));
        tokio_tungstenite::accept_async_with_config(stream, Some(config)).await
    }

    /// tokio-websockets' server handshake, with its examples' unlimited frame size and a 64 MiB
    /// message limit.
    pub async fn tokio_websockets_accept(
        stream: TcpStream,
    ) -> Result<tokio_websockets::WebSocketStream<TcpStream>, tokio_websockets::Error> {
        let (_request, server) = tokio_websockets::ServerBuilder::new()
            .config(tokio_websockets::Config::default().frame_size(usize::MAX))
            .limits(tokio_websockets::Limits::default().max_payload_len(Some(LIMIT)))
            .accept(stream)
            .await?;
        Ok(server)
    }

    /// The hand-written handshake on the bare socket, for fastwebsockets (whose own examples
    /// handshake through hyper).
    pub async fn fastwebsockets_accept(
        mut stream: TcpStream,
    ) -> Result<TcpStream, Box<dyn Error + Send + Sync>> {
        if !crate::accept(&mut stream).await?.is_empty() {
            return Err("frames sent before the handshake response are not supported".into());
        }
        Ok(stream)
    }

    /// fastwebsockets' `examples/echo_server.rs` loop over `stream`: `FragmentCollector`,
    /// `read_frame`, `write_frame`, auto-close and auto-pong; the stream is flushed after the
    /// close reply.
    pub async fn fastwebsockets_echo<S>(stream: S) -> Result<(), Box<dyn Error + Send + Sync>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut ws = WebSocket::after_handshake(stream, Role::Server);
        ws.set_auto_close(true);
        ws.set_auto_pong(true);
        ws.set_max_message_size(LIMIT);
        let mut ws = FragmentCollector::new(ws);
        loop {
            let frame = ws.read_frame().await?;
            match frame.opcode {
                OpCode::Close => {
                    // The close reply (auto-close) may still sit in a buffering stream.
                    ws.into_inner().flush().await?;
                    return Ok(());
                }
                OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
                _ => {}
            }
        }
    }
}

/// User plus system CPU time of a process (all its threads), in seconds, from
/// `/proc/PID/stat` (`pid` a number, or `self`): what the load tools report per message.
pub fn cpu_seconds(pid: &str) -> Result<f64, String> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).map_err(|error| format!("{path}: {error}"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    // Then field 3 is at index 0, and utime and stime (fields 14 and 15) at 11 and 12.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let field = |index: usize| {
        fields
            .get(index)
            .and_then(|value| value.parse::<u64>().ok())
            .ok_or_else(|| format!("{path}: unexpected format"))
    };
    let ticks = field(11)? + field(12)?;
    // SAFETY: sysconf has no preconditions; it only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if per_second <= 0 {
        return Err("sysconf(_SC_CLK_TCK) failed".into());
    }
    Ok(ticks as f64 / per_second as f64)
}
