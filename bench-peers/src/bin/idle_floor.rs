//! The floor of a task-per-connection tokio server's idle memory: a task that reads the
//! request, answers a canned `101` and then holds its socket, with no WebSocket state at all.
//!
//! Not a WebSocket server (the `101` carries no valid accept key): it exists only so that
//! `../scripts/idle-memory N target/release/idle_floor` shows how much of a server's bytes per
//! idle connection are tokio's (the task and its socket registration) rather than the library's.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("idle floor listening on {addr}");
    loop {
        let (mut stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            // The request, into a buffer freed before the task goes idle.
            let mut request = vec![0u8; 4096];
            if stream.read(&mut request).await.is_err() {
                return;
            }
            drop(request);
            let response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                             Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n";
            if stream.write_all(response).await.is_err() {
                return;
            }
            let mut byte = [0u8; 1];
            let _ = stream.read(&mut byte).await;
        });
    }
}
