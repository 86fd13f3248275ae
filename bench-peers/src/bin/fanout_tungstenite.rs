//! Fan-out server on tokio-tungstenite, the way its users broadcast: a `tokio::sync::broadcast`
//! channel (1024 messages) of `Message`s, and per connection a writer task that `feed`s every
//! message already received and then `flush`es once. Each member's writer encodes the frame
//! again. A member that lags past the channel is dropped.
//!
//! ```text
//! cargo run --release --bin fanout_tungstenite -- 127.0.0.1:9001
//! ```
//!
//! tokio `current_thread` runtime, `TCP_NODELAY`.

use futures_util::{SinkExt, StreamExt};
use rfc6455_bench_peers::peers;
use tokio::net::TcpStream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_tungstenite::tungstenite::{self, Message};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let (room, _) = broadcast::channel::<Message>(1024);
    rfc6455_bench_peers::run_server("fanout_tungstenite", false, move |stream| {
        serve(stream, room.clone())
    })
    .await
}

async fn serve(
    stream: TcpStream,
    room: broadcast::Sender<Message>,
) -> Result<(), tungstenite::Error> {
    let (mut sink, mut source) = peers::tungstenite_accept(stream).await?.split();
    let mut inbox = room.subscribe();
    let writer = tokio::spawn(async move {
        loop {
            match inbox.recv().await {
                Ok(message) => {
                    sink.feed(message).await?;
                    while let Ok(message) = inbox.try_recv() {
                        sink.feed(message).await?;
                    }
                    sink.flush().await?;
                }
                Err(RecvError::Lagged(_)) => {
                    return Err(tungstenite::Error::Io(std::io::Error::other("lagged")));
                }
                Err(RecvError::Closed) => return Ok(()),
            }
        }
    });
    while let Some(message) = source.next().await {
        let message = message?;
        if message.is_binary() {
            let _ = room.send(message);
        }
    }
    writer.abort();
    Ok(())
}
