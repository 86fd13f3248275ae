//! Every ```rust block of the README, compiled: each block below is copied from the README word
//! for word (`tests/readme.rs` checks that every README block appears in this file or in
//! `examples/sans_io_echo.rs`, so neither can drift), wrapped in a function that gives it the
//! names it assumes. Blocks that need no network run as tests; the others are compiled only.
#![cfg(all(
    feature = "tokio",
    feature = "axum",
    feature = "rustls",
    feature = "deflate"
))]
#![allow(
    dead_code,
    unused_variables,
    unused_mut,
    clippy::diverging_sub_expression,
    reason = "the snippets are compiled for their types; the networked ones are not run"
)]

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use rfc6455::Config;
use rfc6455::connector::Connector;
use rfc6455::handshake::ClientRequest;

type Result<T = ()> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// "With an adapter".
#[rustfmt::skip]
async fn with_an_adapter(tcp_stream: tokio::net::TcpStream) -> Result {
    // tokio (feature "tokio"). The batched echo loop: `feed` queues, one write per burst of input.
    use futures_util::StreamExt; // `next()`, as for any `futures` Stream

    let mut ws = rfc6455::tokio::WebSocket::accept(tcp_stream).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.feed(message).await?;
        }
    }

    // Blocking (feature "std", default).
    let (mut ws, _response) = rfc6455::blocking::connect("ws://127.0.0.1:9001/")?;
    ws.send_text("hello")?;
    let reply = ws.recv()?;
    Ok(())
}

/// "Compression: permessage-deflate".
#[test]
#[rustfmt::skip]
fn compression() {
    use rfc6455::{Config, deflate::DeflateConfig};

    // Servers accept it when a client offers it (browsers always do); clients offer it. By default
    // with no context takeover either way, so compression state exists only while a message is
    // being compressed or inflated.
    let config = Config::default().deflate(Some(DeflateConfig::default()));
    // Context takeover both ways: far better ratio on small similar messages, but each connection
    // keeps about 230 KB of compressor and decompressor (12-bit windows) for as long as it lives.
    let keeping = Config::default().deflate(Some(DeflateConfig::context_takeover()));

    let deflate = config.deflate.expect("offered");
    assert!(deflate.server_no_context_takeover && deflate.client_no_context_takeover);
    let deflate = keeping.deflate.expect("offered");
    assert!(!deflate.server_no_context_takeover && !deflate.client_no_context_takeover);
}

/// "Inside axum".
#[rustfmt::skip]
async fn inside_axum() -> Result {
    use axum::{Router, response::{IntoResponse, Response}, routing::get};
    use rfc6455::{Config, axum::WebSocketUpgrade, handshake::Reject};

    async fn ws(upgrade: WebSocketUpgrade) -> Response {
        let same_site = |request: &rfc6455::handshake::UpgradeRequest| match request.origin() {
            None | Some("https://example.com") => Ok(()),
            Some(_) => Err(Reject::new(403).body("foreign origin")), // the refusal is the response
        };
        match upgrade.check(same_site) {
            Ok(upgrade) => upgrade
                .protocols(["v2.chat"])
                .config(Config::default())
                .on_upgrade(|mut ws| async move {
                    while let Ok(message) = ws.recv().await {
                        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
                            break;
                        }
                    }
                }),
            Err(refusal) => refusal.into_response(),
        }
    }

    let app = Router::new().route("/", get(|| async { "hello" })).route("/ws", get(ws));
    axum::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await?;
    Ok(())
}

/// "`wss://`".
#[rustfmt::skip]
async fn wss(my_ca_der: rustls::pki_types::CertificateDer<'static>) -> Result {
    // Trusting Mozilla's roots (webpki-roots, compiled in); the URL's host is sent as SNI and checked
    // against the certificate.
    let (mut ws, _response) = rfc6455::tls::connect("wss://example.com/socket").await?;

    // A private CA, client certificates, or any other rustls setting: bring your own ClientConfig.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(my_ca_der)?;
    let tls = rfc6455::tls::client_config_builder()      // the ring provider, TLS 1.2 and 1.3
        .with_root_certificates(roots)
        .with_no_client_auth();
    let (mut ws, _) = rfc6455::tls::connect_with("wss://internal:8443/", Arc::new(tls)).await?;
    Ok(())
}

/// "Client options: headers, timeout, response headers".
#[rustfmt::skip]
async fn client_options() -> Result {
    use rfc6455::{connector::Connector, handshake::ClientRequest};

    let request = ClientRequest::new("wss://example.com/feed")?
        .header("Authorization", "Bearer 0123")   // any header but the handshake's own
        .header("Cookie", "session=abc")
        .protocol("v2.feed");
    let (mut ws, response) = Connector::new()
        .connect_timeout(Duration::from_secs(10)) // TCP connect + TLS + HTTP upgrade, together
        .config(Config::default().max_message_size(1 << 20))
        .connect_request(&request)
        .await?;
    println!("{:?} {:?}", response.protocol(), response.headers().get("set-cookie"));
    Ok(())
}

/// "A client that reconnects".
#[rustfmt::skip]
async fn reconnecting() -> Result {
    use rfc6455::reconnect::{Backoff, ReconnectingClient};

    let request = ClientRequest::new("wss://example.com/feed")?.header("Authorization", "Bearer 0123");
    let mut client = ReconnectingClient::new(Connector::new(), request)
        .backoff(Backoff::default()                          // initial 1 s, factor 2, max 30 s
            .max_elapsed(Some(Duration::from_secs(300))))
        .on_connect(|ws| Box::pin(async move { ws.send_text(r#"{"subscribe":"prices"}"#).await }));
    loop {
        let message = client.recv().await?; // an error only once a round of attempts gave up
        // ...
    }
}

/// docs/migrating.md, "From tokio-tungstenite": our half of the echo loop.
#[rustfmt::skip]
async fn migrating_from_tokio_tungstenite(stream: tokio::net::TcpStream) -> Result {
    use futures_util::StreamExt;

    // rfc6455: the same loop compiles unchanged once `accept_async` is replaced
    let mut ws = rfc6455::tokio::WebSocket::accept(stream).await?;
    while let Some(msg) = ws.next().await {
        let msg = msg?;
        if msg.is_text() || msg.is_binary() {
            ws.send(msg).await?; // or `feed`: one write per burst of input
        }
    }
    Ok(())
}

/// docs/migrating.md, "From axum's `extract::ws`": our half of the handler.
mod migrating_from_axum {
    use axum::response::Response;
    use rfc6455::axum::WebSocketUpgrade;

    #[rustfmt::skip]
    // rfc6455::axum
    async fn handler(ws: WebSocketUpgrade) -> Response {
        ws.protocols(["chat"]).on_upgrade(|mut socket| async move {
            while let Ok(msg) = socket.recv().await {
                if msg.is_data() && socket.send(msg).await.is_err() {
                    break;
                }
            }
        })
    }
}

/// "HTTP/2 (RFC 8441)": the blocks that need the `http2` feature.
#[cfg(feature = "http2")]
mod http2 {
    use super::Result;
    use rfc6455::Config;
    use rfc6455::handshake::ClientRequest;

    /// The server.
    #[rustfmt::skip]
    async fn server() -> Result {
        // Server (features "axum,http2"): one route, both handshakes, one WebSocket type.
        use axum::{Router, response::Response, routing::any};
        use rfc6455::axum::WebSocketUpgrade;

        async fn ws(upgrade: WebSocketUpgrade) -> Response {
            let over = if upgrade.request().is_extended_connect() { "HTTP/2" } else { "HTTP/1.1" };
            upgrade.on_upgrade(move |mut ws| async move {
                let _ = ws.send_text(&format!("hello over {over}")).await;
            })
        }

        let app = Router::new().route("/ws", any(ws));
        // axum::serve enables extended CONNECT for HTTP/2 clients (h2c here). Behind TLS, serve each
        // connection with hyper-util's auto::Builder after `builder.http2().enable_connect_protocol()`.
        axum::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await?;
        Ok(())
    }

    /// The client.
    #[rustfmt::skip]
    async fn client() -> Result {
        // Client (features "http2,rustls").
        use rfc6455::http2::{Connected, Http2Client, connect};

        let request = ClientRequest::new("wss://example.com/chat")?;
        match connect(&request, rfc6455::tls::client_config(), Config::default()).await? {
            Connected::Http2 { mut ws, client, .. } => {
                ws.send_text("over HTTP/2").await?;
                let (mut second, _) = client.websocket(&request, Config::default()).await?; // same connection
                second.send_text("multiplexed").await?;
            }
            Connected::Http1 { mut ws, .. } => ws.send_text("over HTTP/1.1").await?,
        }

        // h2c: HTTP/2 with prior knowledge on a plain TCP stream.
        let client = Http2Client::handshake(tokio::net::TcpStream::connect("127.0.0.1:3000").await?).await?;
        if client.supports_websockets() {
            let request = ClientRequest::new("ws://127.0.0.1:3000/ws")?;
            let (mut ws, _response) = client.websocket(&request, Config::default()).await?;
            let greeting = ws.recv().await?;
        }
        Ok(())
    }
}
