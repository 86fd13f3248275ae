//! Echo server on tokio-tungstenite with hand-batched writes: every message that is already
//! readable is queued with `feed`, and one `flush` sends the replies once reading would block.
//!
//! ```text
//! cargo run --release --bin echo_tungstenite_batched -- 127.0.0.1:9001
//! ```
//!
//! This is what `StreamExt::forward` (tokio-tungstenite's `examples/echo-server.rs`) does, on
//! the unsplit stream. tungstenite still writes to the socket on its own once its write buffer
//! passes `write_buffer_size` (128 KiB by default). tokio `current_thread` runtime,
//! `TCP_NODELAY`, 64 MiB message and frame limits.

use futures_util::{FutureExt, SinkExt, StreamExt};
use rfc6455_bench_peers::peers;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    rfc6455_bench_peers::run_server("echo_tungstenite_batched", false, serve).await
}

async fn serve(stream: TcpStream) -> Result<(), tungstenite::Error> {
    let mut ws = peers::tungstenite_accept(stream).await?;
    while let Some(message) = ws.next().await {
        let mut message = message?;
        loop {
            if message.is_text() || message.is_binary() {
                ws.feed(message).await?;
            }
            // `next` is cancel-safe: a message half read stays in the stream's buffer.
            match ws.next().now_or_never() {
                Some(Some(next)) => message = next?,
                Some(None) => return ws.flush().await,
                None => break,
            }
        }
        ws.flush().await?;
    }
    Ok(())
}
