//! Echo server on tokio-websockets, written the way its examples teach: every text and binary
//! message is sent back with `server.send(item).await`.
//!
//! ```text
//! cargo run --release --bin echo_tokio_websockets -- 127.0.0.1:9001
//! ```
//!
//! The loop, the `unconstrained` task and the unlimited frame size of tokio-websockets'
//! `examples/echo_server.rs`, with errors reported instead of unwrapped and the payload limit
//! at 64 MiB like the other servers. tokio `current_thread` runtime, `TCP_NODELAY`.

use futures_util::{SinkExt, StreamExt};
use rfc6455_bench_peers::peers;
use tokio::net::TcpStream;
use tokio_websockets::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    rfc6455_bench_peers::run_server("echo_tokio_websockets", true, serve).await
}

async fn serve(stream: TcpStream) -> Result<(), Error> {
    let mut server = peers::tokio_websockets_accept(stream).await?;
    while let Some(item) = server.next().await {
        let item = item?;
        if item.is_text() || item.is_binary() {
            server.send(item).await?;
        }
    }
    Ok(())
}
