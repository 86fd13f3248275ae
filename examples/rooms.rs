//! A room server in a few lines: every text message a client sends goes to everyone in the
//! lobby, encoded once. With a Redis URL, every process using that Redis shares the lobby.
//!
//! ```sh
//! cargo run --example rooms -- 127.0.0.1:9001
//! cargo run --example rooms -- 127.0.0.1:9001 redis://127.0.0.1:6379   # and again on :9002
//! ```
//!
//! The README's "Rooms and many servers" shows this file below its doc comment, word for word
//! (`tests/readme_rooms.rs` checks).

use rfc6455::PreparedMessage;
use rfc6455::rooms::redis::{RedisBackplane, RedisConfig};
use rfc6455::rooms::{DEFAULT_QUEUE_CAPACITY, Rooms};
use rfc6455::tokio::WebSocket;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let rooms = match args.next() {
        // Every process with this Redis shares the rooms.
        Some(url) => Rooms::with_backplane(
            DEFAULT_QUEUE_CAPACITY,
            RedisBackplane::new(RedisConfig::new(&url)?),
        ),
        None => Rooms::new(),
    };
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let rooms = rooms.clone();
        tokio::spawn(async move {
            let (mut reader, writer) = WebSocket::accept(stream).await?.into_split();
            // The writer becomes a member: what its rooms publish is written to it.
            let member = rooms.attach(writer, "guest");
            member.join("lobby");
            loop {
                tokio::select! {
                    message = reader.recv() => {
                        if let Some(text) = message?.as_text() {
                            // Encoded once, queued for every member of the lobby.
                            rooms.publish("lobby", &PreparedMessage::text(text));
                        }
                    }
                    // Too slow for the room: closed with 1008 and out of every room.
                    () = member.evicted() => break,
                }
            }
            // Dropping the member (here, or on any error above) leaves every room.
            Ok::<(), rfc6455::Error>(())
        });
    }
}
