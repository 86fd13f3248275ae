//! Opens N WebSocket connections to a server and holds them idle, for measuring the server's
//! memory per idle connection. The handshake is written by hand, so the measurement does not
//! depend on this crate's client.
//!
//! ```text
//! cargo run --release --features tokio --example idle_clients -- 127.0.0.1:9001 10000 30
//! ```
//! Arguments: server address, connection count, seconds to hold them open after the last one
//! is up. Prints `ready N` once every handshake has completed.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
    let count: usize = args.next().map_or(Ok(1000), |n| n.parse())?;
    let hold: u64 = args.next().map_or(Ok(30), |n| n.parse())?;
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = TcpStream::connect(&addr).await?;
        stream.write_all(REQUEST).await?;
        let mut response = Vec::new();
        let mut buf = [0u8; 512];
        while !response.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err("server closed during the handshake".into());
            }
            response.extend_from_slice(&buf[..n]);
        }
        if !response.starts_with(b"HTTP/1.1 101") {
            return Err(format!(
                "unexpected response: {}",
                String::from_utf8_lossy(&response)
            )
            .into());
        }
        streams.push(stream);
    }
    println!("ready {}", streams.len());
    tokio::time::sleep(Duration::from_secs(hold)).await;
    Ok(())
}
