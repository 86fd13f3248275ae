//! Echo server on fastwebsockets, written the way its examples teach: `read_frame`, then
//! `write_frame` of every text and binary frame, one socket write per message.
//!
//! ```text
//! cargo run --release --bin echo_fastwebsockets -- 127.0.0.1:9001
//! ```
//!
//! The loop, the `FragmentCollector` and the `unconstrained` task of fastwebsockets'
//! `examples/echo_server.rs`, with auto-close and auto-pong on (their defaults). The opening
//! handshake is the hand-written one of this package's library, answered on the bare
//! `TcpStream` and followed by `WebSocket::after_handshake`, rather than the example's hyper
//! server and upgrade: the comparison is about the WebSocket engine, and hyper's upgraded
//! stream would add a boxed I/O layer. tokio `current_thread` runtime, `TCP_NODELAY`,
//! 64 MiB message limit.

use std::error::Error;

use rfc6455_bench_peers::peers;
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    rfc6455_bench_peers::run_server("echo_fastwebsockets", true, serve).await
}

async fn serve(stream: TcpStream) -> Result<(), Box<dyn Error + Send + Sync>> {
    peers::fastwebsockets_echo(peers::fastwebsockets_accept(stream).await?).await
}
