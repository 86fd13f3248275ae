//! hyper and axum servers upgrading with `rfc6455::hyper`, against this crate's tokio client and
//! raw sockets, over real loopback connections.
#![cfg(feature = "hyper")]

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rfc6455::handshake::{Accept, ClientRequest, Reject};
use rfc6455::hyper::{Body, HyperWebSocket};
use rfc6455::{CloseCode, Config, Error, Message};
use support::tokio_listener;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echoes text and binary messages until the connection ends.
async fn echo(mut ws: HyperWebSocket) {
    while let Ok(message) = ws.recv().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            break;
        }
    }
}

/// The handler: `/ws` upgrades (offering subprotocol "chat", refusing a foreign Origin), any
/// other path is plain HTTP.
async fn handle(
    mut request: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<Body>, Infallible> {
    if request.uri().path() != "/ws" {
        return Ok(http::Response::new(Body::from("plain http")));
    }
    let decide = |request: &rfc6455::handshake::UpgradeRequest| {
        if request.origin().is_some_and(|o| o != "http://good.example") {
            return Err(Reject::new(403).body("bad origin"));
        }
        Ok(match request.protocols().iter().any(|p| p == "chat") {
            true => Accept::new().protocol("chat"),
            false => Accept::new(),
        })
    };
    match rfc6455::hyper::upgrade_with(&mut request, Config::default(), decide) {
        Ok((response, upgrade)) => {
            tokio::spawn(async move {
                assert_eq!(upgrade.request().path(), "/ws");
                echo(upgrade.await.expect("hyper hands the connection over")).await;
            });
            Ok(response)
        }
        Err(refusal) => Ok(refusal.into_http_response()),
    }
}

/// A hyper 1.x HTTP/1.1 server with upgrades, serving `handle` on every connection.
async fn hyper_server() -> SocketAddr {
    let (listener, addr) = tokio_listener().await;
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service_fn(handle))
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

/// Sends `request` on a fresh connection and returns everything the server answers until it
/// closes or a head and `extra` bytes arrived.
async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    // The refusal carries Content-Length; read until the whole body is in.
    loop {
        let n = tcp.read(&mut buf).await.unwrap();
        received.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if n == 0 {
            return text;
        }
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|l| l.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

#[tokio::test]
async fn our_client_talks_to_a_hyper_server() {
    let addr = hyper_server().await;
    let request = ClientRequest::new(&format!("ws://{addr}/ws"))
        .unwrap()
        .protocol("chat")
        .origin("http://good.example");
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut ws, response) = rfc6455::tokio::WebSocket::client(tcp, &request, Config::default())
        .await
        .unwrap();
    assert_eq!(response.protocol(), Some("chat"));
    for size in [0, 125, 126, 70_000] {
        let data: Vec<u8> = (0..size).map(|i| i as u8).collect();
        ws.send(Message::binary(data.clone())).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::binary(data));
    }
    ws.send_text("héllo").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("héllo"));
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(ws.recv().await.unwrap().is_close());
    assert!(matches!(ws.recv().await, Err(Error::Closed)));
}

#[tokio::test]
async fn frames_sent_right_behind_the_handshake_are_not_lost() {
    let addr = hyper_server().await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    // The request and a masked "Hello" (RFC 6455 §5.7) in one write: hyper reads both and must
    // hand the frame over with the upgraded connection.
    let mut bytes = b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .to_vec();
    bytes.extend_from_slice(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
    tcp.write_all(&bytes).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    while !received.ends_with(b"\x81\x05Hello") {
        let n = tcp.read(&mut buf).await.unwrap();
        assert_ne!(n, 0, "{:?}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{text}"
    );
    assert!(
        text.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{text}"
    );
}

#[tokio::test]
async fn bad_requests_get_the_status_rfc_6455_asks_for() {
    let addr = hyper_server().await;
    // No Sec-WebSocket-Version: 426 naming the version we speak (§4.2.2).
    let response = raw_exchange(
        addr,
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await;
    assert!(
        response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{response}"
    );
    assert!(
        response.contains("sec-websocket-version: 13\r\n"),
        "{response}"
    );
    assert!(
        response.ends_with("Unsupported WebSocket version"),
        "{response}"
    );

    // No key: 400.
    let response = raw_exchange(
        addr,
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Version: 13\r\n\r\n",
    )
    .await;
    assert!(
        response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{response}"
    );
    assert!(
        response.ends_with("Missing Sec-WebSocket-Key header"),
        "{response}"
    );

    // A plain GET on the WebSocket path: 400, and the connection still serves plain HTTP.
    let response = raw_exchange(addr, b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(
        response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{response}"
    );
    let response = raw_exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("plain http"), "{response}");
}

#[tokio::test]
async fn a_rejection_from_the_application_reaches_our_client() {
    let addr = hyper_server().await;
    let request = ClientRequest::new(&format!("ws://{addr}/ws"))
        .unwrap()
        .origin("http://evil.example");
    let tcp = TcpStream::connect(addr).await.unwrap();
    let error = rfc6455::tokio::WebSocket::client(tcp, &request, Config::default())
        .await
        .unwrap_err();
    match error {
        Error::ClientHandshake(e) => assert_eq!(e.status(), Some(403)),
        other => panic!("{other:?}"),
    }
}

/// The handler of examples/axum.rs, in short.
async fn axum_ws(mut request: axum::extract::Request) -> axum::response::Response {
    match rfc6455::hyper::upgrade(&mut request, Config::default()) {
        Ok((response, upgrade)) => {
            tokio::spawn(async move { echo(upgrade.await.unwrap()).await });
            response.into_response()
        }
        Err(refusal) => refusal.into_http_response().into_response(),
    }
}

#[tokio::test]
async fn an_axum_router_serves_http_and_websocket_routes() {
    let app = Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/ws", get(axum_ws));
    let (listener, addr) = tokio_listener().await;
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let response = raw_exchange(addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("hello"), "{response}");

    let (mut ws, _) = rfc6455::tokio::connect(&format!("ws://{addr}/ws"))
        .await
        .unwrap();
    ws.send_text("through axum").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("through axum"));
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(ws.recv().await.unwrap().is_close());

    let response = raw_exchange(
        addr,
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await;
    assert!(
        response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{response}"
    );
}
