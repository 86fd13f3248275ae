//! The axum extractor, `rfc6455::axum::WebSocketUpgrade`, in a real axum router over loopback:
//! any argument position, subprotocol selection, a check before upgrading, the refusals RFC 6455
//! asks for, and `on_upgrade` running the connection.
#![cfg(feature = "axum")]

mod support;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rfc6455::axum::WebSocketUpgrade;
use rfc6455::handshake::{ClientRequest, Reject};
use rfc6455::{Config, Error, Message};
use support::tokio_listener;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echo, with the selected subprotocol announced in a first message.
async fn echo(upgrade: WebSocketUpgrade) -> Response {
    let upgrade = upgrade.protocols(["v2.chat", "v1.chat"]);
    let selected = upgrade.selected_protocol().unwrap_or("none").to_owned();
    upgrade.on_upgrade(|mut ws| async move {
        if ws.send_text(&format!("protocol {selected}")).await.is_err() {
            return;
        }
        while let Ok(message) = ws.recv().await {
            if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
                break;
            }
        }
    })
}

/// The extractor after another one (state), and a check that refuses foreign origins.
async fn guarded(State(allowed): State<&'static str>, upgrade: WebSocketUpgrade) -> Response {
    let check = |request: &rfc6455::handshake::UpgradeRequest| match request.origin() {
        Some(origin) if origin == allowed => Ok(()),
        _ => Err(Reject::new(403).body("foreign origin")),
    };
    match upgrade.check(check) {
        Ok(upgrade) => upgrade
            .config(Config::default().max_message_size(4))
            .on_upgrade(|mut ws| async move {
                while let Ok(message) = ws.recv().await {
                    if ws.send(message).await.is_err() {
                        break;
                    }
                }
            }),
        Err(refusal) => refusal.into_response(),
    }
}

async fn server() -> SocketAddr {
    let app = Router::new()
        .route("/echo", get(echo))
        .route("/guarded", get(guarded))
        .with_state("http://good.example");
    let (listener, addr) = tokio_listener().await;
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn connect(
    addr: SocketAddr,
    path: &str,
    edit: impl FnOnce(ClientRequest) -> ClientRequest,
) -> Result<rfc6455::tokio::WebSocket<TcpStream>, Error> {
    let request = edit(ClientRequest::new(&format!("ws://{addr}{path}")).unwrap());
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (ws, _) = rfc6455::tokio::WebSocket::client(tcp, &request, Config::default()).await?;
    Ok(ws)
}

#[tokio::test]
async fn the_first_of_our_protocols_the_client_offers_is_selected() {
    let addr = server().await;
    let mut ws = connect(addr, "/echo", |r| r.protocol("v1.chat").protocol("v2.chat"))
        .await
        .unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("protocol v2.chat"));
    ws.send_text("hi").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("hi"));

    let mut ws = connect(addr, "/echo", |r| r.protocol("v0.chat"))
        .await
        .unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("protocol none"));
}

#[tokio::test]
async fn the_check_refuses_a_foreign_origin_and_the_config_applies() {
    let addr = server().await;
    match connect(addr, "/guarded", |r| r.origin("http://evil.example")).await {
        Err(Error::ClientHandshake(error)) => assert_eq!(error.status(), Some(403)),
        other => panic!("{other:?}"),
    }
    let mut ws = connect(addr, "/guarded", |r| r.origin("http://good.example"))
        .await
        .unwrap();
    ws.send_text("tiny").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("tiny"));
    // Past the 4-byte limit set through `config`: the server fails the connection with 1009.
    ws.send_text("too long").await.unwrap();
    match ws.recv().await.unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, rfc6455::CloseCode::MESSAGE_TOO_BIG),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_invalid_handshake_is_refused_before_the_handler_runs() {
    let addr = server().await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    // No Sec-WebSocket-Version: 426 naming the version we speak (§4.2.2).
    tcp.write_all(
        b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await
    .unwrap();
    let mut response = vec![0; 1024];
    let n = tcp.read(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response[..n]);
    assert!(
        response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{response}"
    );
    assert!(
        response.contains("sec-websocket-version: 13\r\n"),
        "{response}"
    );
}

#[test]
fn a_reject_is_an_axum_response() {
    let response = Reject::new(401).body("who are you").into_response();
    assert_eq!(response.status(), 401);
}
