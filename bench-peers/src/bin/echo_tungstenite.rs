//! Echo server on tokio-tungstenite, written the way its examples teach: every text and binary
//! message is sent back with `ws.send(message).await`, one write and flush per message.
//!
//! ```text
//! cargo run --release --bin echo_tungstenite -- 127.0.0.1:9001
//! ```
//!
//! The loop is the one of tokio-tungstenite's `examples/autobahn-server.rs`. (Its
//! `examples/echo-server.rs` splits the stream and uses `StreamExt::forward`, which flushes only
//! when the reader has nothing ready: that style is `echo_tungstenite_batched`.) tokio
//! `current_thread` runtime, `TCP_NODELAY`, 64 MiB message and frame limits.

use futures_util::{SinkExt, StreamExt};
use rfc6455_bench_peers::peers;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    rfc6455_bench_peers::run_server("echo_tungstenite", false, serve).await
}

async fn serve(stream: TcpStream) -> Result<(), tungstenite::Error> {
    let mut ws = peers::tungstenite_accept(stream).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.send(message).await?;
        }
    }
    Ok(())
}
