//! Echo server on tokio: every text and binary message comes back unchanged.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001 [--send]
//! ```
//!
//! The loop `feed`s each echo: queued replies are written in one go when the next read would
//! wait. With `--send` it awaits `send` instead, one write per message (the plain loop that
//! `bench-peers/echo-compare` measures as `rfc6455_send`).

use std::sync::Arc;

use futures_util::StreamExt;
use rfc6455::Config;
use rfc6455::tokio::WebSocket;
use tokio::net::{TcpListener, TcpStream};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let send_each = std::env::args().any(|arg| arg == "--send");
    let listener = TcpListener::bind(&addr).await?;
    println!("echo server listening on ws://{}", listener.local_addr()?);
    let config = Config::default().max_message_size(64 << 20);
    // Compress every echo, small ones too: the Autobahn TestSuite's compression cases expect it.
    #[cfg(feature = "deflate")]
    let config = config.deflate(Some(
        rfc6455::deflate::DeflateConfig::default().threshold(0),
    ));
    // One configuration shared by every connection, rather than a copy in each.
    let config = Arc::new(config);
    loop {
        let (stream, _) = listener.accept().await?;
        let config = Arc::clone(&config);
        tokio::spawn(async move {
            if let Err(error) = serve(stream, config, send_each).await {
                eprintln!("connection ended: {error}");
            }
        });
    }
}

async fn serve(
    stream: TcpStream,
    config: Arc<Config>,
    send_each: bool,
) -> Result<(), rfc6455::Error> {
    stream.set_nodelay(true)?;
    let mut ws = WebSocket::accept_with(stream, config, |_| Ok(Default::default())).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if !message.is_data() {
            continue;
        }
        if send_each {
            ws.send(message).await?; // written before it returns
        } else {
            ws.feed(message).await?; // batched: one write per burst of input
        }
    }
    Ok(())
}
