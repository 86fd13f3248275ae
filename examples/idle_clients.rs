//! Opens N WebSocket connections to a server and holds them idle, for measuring the server's
//! memory per idle connection. The handshake is written by hand, so the measurement does not
//! depend on this crate's client.
//!
//! ```text
//! cargo run --release --features tokio --example idle_clients -- 127.0.0.1:9001 10000 30
//! ```
//! Arguments: server address, connection count, seconds to hold them open after the last one
//! is up, then optionally `deflate` (offer permessage-deflate) and a message size: each
//! connection then sends one text message of that size and waits for the start of the echo
//! before going idle, so the server's per-connection state is what a used connection keeps.
//! Prints `ready N` once every connection is up.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const REQUEST: &str = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".into());
    let count: usize = args.next().map_or(Ok(1000), |n| n.parse())?;
    let hold: u64 = args.next().map_or(Ok(30), |n| n.parse())?;
    let deflate = args.next().is_some_and(|a| a == "deflate");
    let message_size: usize = args.next().map_or(Ok(0), |n| n.parse())?;
    let mut request = REQUEST.to_owned();
    if deflate {
        request
            .push_str("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
    }
    request.push_str("\r\n");
    let message = masked_text_frame(message_size);
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = TcpStream::connect(&addr).await?;
        stream.write_all(request.as_bytes()).await?;
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
        if message_size > 0 {
            stream.write_all(&message).await?;
            if stream.read(&mut buf).await? == 0 {
                return Err("server closed instead of echoing".into());
            }
        }
        streams.push(stream);
    }
    println!("ready {}", streams.len());
    tokio::time::sleep(Duration::from_secs(hold)).await;
    Ok(())
}

/// A masked text frame of `size` bytes of JSON-like text, encoded by hand.
fn masked_text_frame(size: usize) -> Vec<u8> {
    let text: Vec<u8> = br#"{"type":"message","room":"lobby","payload":"hello"},"#
        .iter()
        .copied()
        .cycle()
        .take(size)
        .collect();
    let key = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81];
    match size {
        0..=125 => frame.push(0x80 | size as u8),
        126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(size as u16).to_be_bytes());
        }
        _ => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(size as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&key);
    frame.extend(text.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}
