//! Echo server on fastwebsockets with batched writes: the same loop as `echo_fastwebsockets`,
//! over a stream that buffers writes and flushes them when a read would block.
//!
//! ```text
//! cargo run --release --bin echo_fastwebsockets_batched -- 127.0.0.1:9001
//! ```
//!
//! fastwebsockets has no `feed`/`flush` split: `write_frame` writes to the stream at once, and
//! `read_frame` is not cancel-safe (a header half read is lost if its future is dropped), so the
//! `now_or_never` pattern of the other batched servers is not available. Its `flush` is meant
//! for buffered streams, so the batching goes into the stream: `FlushOnIdle` (this package's
//! library) is a 64 KiB `tokio::io::BufWriter` whose reads flush it when the socket has nothing
//! more to read, which is when every message already received has been answered. Otherwise as
//! `echo_fastwebsockets`: hand-written handshake, `FragmentCollector`, `unconstrained`,
//! auto-close and auto-pong, tokio `current_thread` runtime, `TCP_NODELAY`, 64 MiB limit.

use std::error::Error;

use rfc6455_bench_peers::FlushOnIdle;
use rfc6455_bench_peers::peers;
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    rfc6455_bench_peers::run_server("echo_fastwebsockets_batched", true, serve).await
}

async fn serve(stream: TcpStream) -> Result<(), Box<dyn Error + Send + Sync>> {
    let stream = peers::fastwebsockets_accept(stream).await?;
    peers::fastwebsockets_echo(FlushOnIdle::new(stream, 64 * 1024)).await
}
