//! Echo server on tokio: every text and binary message comes back unchanged.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001
//! ```
//!
//! The loop is the obvious one; write batching happens inside the adapter.

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
            if let Err(error) = serve(stream, config).await {
                eprintln!("connection ended: {error}");
            }
        });
    }
}

async fn serve(stream: TcpStream, config: Arc<Config>) -> Result<(), rfc6455::Error> {
    stream.set_nodelay(true)?;
    let mut ws = WebSocket::accept_with(stream, config, |_| Ok(Default::default())).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.feed(message).await?; // batched: one write per burst of input
        }
    }
    Ok(())
}
