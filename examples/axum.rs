//! An axum router with a plain HTTP route and a WebSocket echo route upgraded with this crate.
//!
//! ```sh
//! cargo run --example axum            # listens on 127.0.0.1:3000
//! curl http://127.0.0.1:3000/                          # hello
//! # any WebSocket client on ws://127.0.0.1:3000/ws     # echo
//! ```
use axum::Router;
use axum::response::Response;
use axum::routing::get;
use rfc6455::axum::WebSocketUpgrade;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let app = Router::new()
        .route("/", get(|| async { "hello\n" }))
        .route("/ws", get(ws_echo));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("http://{addr}/ and ws://{addr}/ws");
    axum::serve(listener, app).await
}

/// The extractor has validated the handshake (a bad one never gets here: 400, 405 or 426);
/// pick the subprotocol "echo" if the client offers it, and echo in a task of its own.
async fn ws_echo(upgrade: WebSocketUpgrade) -> Response {
    upgrade.protocols(["echo"]).on_upgrade(|mut ws| async move {
        loop {
            match ws.recv().await {
                Ok(message) if message.is_text() || message.is_binary() => {
                    if ws.send(message).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {} // pings are answered by the connection itself
                Err(_) => break,
            }
        }
    })
}
