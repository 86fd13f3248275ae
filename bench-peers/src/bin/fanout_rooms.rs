//! Fan-out server on rfc6455's rooms: every connection is a member of one room, and every binary
//! message any connection sends is published to it, encoded once (`PreparedMessage`), each
//! member written by its own task from a bounded queue (1024 messages).
//!
//! ```text
//! cargo run --release --bin fanout_rooms -- 127.0.0.1:9001                          # one process
//! cargo run --release --bin fanout_rooms -- 127.0.0.1:9001 redis://127.0.0.1:6379   # through Redis
//! ```
//!
//! tokio `current_thread` runtime, `TCP_NODELAY`.

use rfc6455::PreparedMessage;
use rfc6455::rooms::Rooms;
use rfc6455::rooms::redis::{RedisBackplane, RedisConfig};
use rfc6455::tokio::WebSocket;
use tokio::net::TcpStream;

const QUEUE: usize = 1024;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let rooms = match std::env::args().nth(2) {
        Some(url) => {
            let config = RedisConfig::new(&url).map_err(std::io::Error::other)?;
            Rooms::with_backplane(QUEUE, RedisBackplane::new(config))
        }
        None => Rooms::with_queue_capacity(QUEUE),
    };
    rfc6455_bench_peers::run_server("fanout_rooms", false, move |stream| {
        serve(stream, rooms.clone())
    })
    .await
}

async fn serve(stream: TcpStream, rooms: Rooms) -> Result<(), rfc6455::Error> {
    let (mut reader, writer) = WebSocket::accept(stream).await?.into_split();
    let member = rooms.attach(writer, "member");
    member.join("bench");
    // A member evicted for falling behind (the load tool's publisher can be: it is in the room
    // too, and drains what it is sent last) is closed by its writer, but what it sends is still
    // published, as the other servers do with a member they dropped.
    loop {
        let message = reader.recv().await?;
        if message.is_binary() {
            rooms.publish("bench", &PreparedMessage::binary(message.as_payload()));
        }
    }
}
