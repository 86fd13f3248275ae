//! An axum router with a plain HTTP route and a WebSocket echo route upgraded with this crate.
//!
//! ```sh
//! cargo run --features hyper --example axum            # listens on 127.0.0.1:3000
//! curl http://127.0.0.1:3000/                          # hello
//! # any WebSocket client on ws://127.0.0.1:3000/ws     # echo
//! ```
use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rfc6455::Config;
use rfc6455::handshake::Accept;

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

/// The handler a user writes instead of axum's own `WebSocketUpgrade`: validate, return the 101,
/// and run the WebSocket in a task once hyper hands the connection over.
async fn ws_echo(mut request: Request) -> Response {
    // Pick the subprotocol "echo" if the client offers it.
    let decide = |request: &rfc6455::handshake::Request| {
        let offered = request.protocols().iter().any(|p| p == "echo");
        Ok(if offered {
            Accept::new().protocol("echo")
        } else {
            Accept::new()
        })
    };
    let (response, upgrade) =
        match rfc6455::hyper::upgrade_with(&mut request, Config::for_adapters(), decide) {
            Ok(parts) => parts,
            // 400, 405 or 426 with the headers RFC 6455 asks for.
            Err(refusal) => return refusal.into_response().into_response(),
        };
    tokio::spawn(async move {
        let mut ws = match upgrade.await {
            Ok(ws) => ws,
            Err(error) => return eprintln!("upgrade failed: {error}"),
        };
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
    });
    response.into_response()
}
