//! Echo server on tokio-websockets with hand-batched writes: every message that is already
//! readable is taken, then all are queued with `feed` and sent with one `flush`.
//!
//! ```text
//! cargo run --release --bin echo_tokio_websockets_batched -- 127.0.0.1:9001
//! ```
//!
//! Reading first and feeding after is needed here: tokio-websockets' `poll_next` flushes the
//! queued frames before it reads, so interleaving `feed` and `next` (as `echo_tungstenite_batched`
//! does) would still write once per message. Same setup as `echo_tokio_websockets` (its examples' `unconstrained` task and frame size,
//! 64 MiB payload limit). tokio-websockets still flushes on its own before accepting a message
//! once 8 KiB are queued (`Config::flush_threshold`, left at its default). tokio
//! `current_thread` runtime, `TCP_NODELAY`.

use futures_util::{FutureExt, SinkExt, StreamExt};
use rfc6455_bench_peers::peers;
use tokio::net::TcpStream;
use tokio_websockets::Error;

/// Most messages taken before their replies are written.
const MAX_BATCH: usize = 1024;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    rfc6455_bench_peers::run_server("echo_tokio_websockets_batched", true, serve).await
}

async fn serve(stream: TcpStream) -> Result<(), Error> {
    let mut server = peers::tokio_websockets_accept(stream).await?;
    let mut ready = Vec::new();
    let mut open = true;
    while open {
        let Some(item) = server.next().await else {
            break;
        };
        ready.push(item?);
        // Everything else already readable (`next` is cancel-safe: a frame half read stays in
        // the stream's buffer), up to a bound.
        while ready.len() < MAX_BATCH {
            match server.next().now_or_never() {
                Some(Some(item)) => ready.push(item?),
                Some(None) => {
                    open = false;
                    break;
                }
                None => break,
            }
        }
        for item in ready.drain(..) {
            if item.is_text() || item.is_binary() {
                server.feed(item).await?;
            }
        }
        server.flush().await?;
    }
    Ok(())
}
