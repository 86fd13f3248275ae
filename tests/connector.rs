//! Client options (request headers, response headers, connect timeout) and the adapters' default
//! keepalive, over real loopback sockets.
#![cfg(feature = "tokio")]

mod support;

use std::time::Duration;

use rfc6455::Timeout;
use rfc6455::connector::Connector;
use rfc6455::handshake::{Accept, ClientHandshakeError, ClientRequest, MAX_REFUSAL_BODY, Reject};
use rfc6455::tokio::WebSocket;
use rfc6455::{Config, Error, Message};
use support::{tokio_listener, ws_url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A server for one connection that admits only `Authorization: Bearer t0k` with a session
/// cookie, sets a cookie of its own, and echoes one message.
async fn authenticating_server() -> String {
    let (listener, addr) = tokio_listener().await;
    let url = ws_url(addr);
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let decide = |request: &rfc6455::handshake::UpgradeRequest| {
            let headers = request.headers();
            if headers.get("authorization") != Some(b"Bearer t0k")
                || headers.get("cookie") != Some(b"session=abc")
            {
                return Err(Reject::new(401)
                    .header("WWW-Authenticate", "Bearer")
                    .body("bad token"));
            }
            Ok(Accept::new().header("Set-Cookie", "seen=1"))
        };
        let Ok(mut ws) = WebSocket::accept_with(tcp, Config::default(), decide).await else {
            return;
        };
        let message = ws.recv().await.unwrap();
        ws.send(message).await.unwrap();
    });
    url
}

#[tokio::test]
async fn request_headers_go_out_and_response_headers_come_back() {
    let url = authenticating_server().await;
    let request = ClientRequest::new(&url)
        .unwrap()
        .header("Authorization", "Bearer t0k")
        .header("Cookie", "session=abc");
    let (mut ws, response) = Connector::new().connect_request(&request).await.unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(response.headers().get("set-cookie"), Some(&b"seen=1"[..]));
    ws.send_text("authenticated").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("authenticated"));
}

#[tokio::test]
async fn a_refusal_hands_its_status_headers_and_body_to_the_caller() {
    let url = authenticating_server().await;
    let error = Connector::new().connect(&url).await.unwrap_err();
    match error {
        Error::ClientHandshake(ClientHandshakeError::UnexpectedStatus {
            status,
            headers,
            body,
        }) => {
            assert_eq!(status, 401);
            assert_eq!(headers.get("www-authenticate"), Some(&b"Bearer"[..]));
            assert_eq!(&body[..], b"bad token");
        }
        other => panic!("{other:?}"),
    }
}

/// A server that answers the upgrade with `head`, then, once the client has had time to read
/// it alone, `body`.
async fn refusing_server(head: String, body: Vec<u8>) -> String {
    let (listener, addr) = tokio_listener().await;
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let mut request = vec![0; 4096];
        let _ = tcp.read(&mut request).await.unwrap();
        tcp.write_all(head.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        tcp.write_all(&body).await.unwrap();
        // Holds the connection open: the client must stop at Content-Length, not at the end.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    ws_url(addr)
}

fn refusal_body(error: Error) -> Vec<u8> {
    match error {
        Error::ClientHandshake(ClientHandshakeError::UnexpectedStatus { body, .. }) => {
            body.to_vec()
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_refusal_body_that_follows_its_head_is_read_up_to_its_length() {
    let head = "HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\n".to_string();
    let url = refusing_server(head, b"bad token".to_vec()).await;
    let error = rfc6455::tokio::connect(&url).await.unwrap_err();
    assert_eq!(refusal_body(error), b"bad token");
}

#[tokio::test]
async fn a_long_refusal_body_is_kept_up_to_the_bound() {
    let length = 3 * MAX_REFUSAL_BODY;
    let head = format!("HTTP/1.1 404 Not Found\r\nContent-Length: {length}\r\n\r\n");
    let body: Vec<u8> = (0..length).map(|i| b'a' + (i % 26) as u8).collect();
    let url = refusing_server(head, body.clone()).await;
    let error = rfc6455::tokio::connect(&url).await.unwrap_err();
    assert_eq!(refusal_body(error), &body[..MAX_REFUSAL_BODY]);
}

#[tokio::test(start_paused = true)]
async fn the_connect_timeout_bounds_a_server_that_never_answers() {
    let (listener, addr) = tokio_listener().await;
    let url = ws_url(addr);
    // Accepts the TCP connection, then says nothing.
    let server = tokio::spawn(async move { listener.accept().await.unwrap() });
    let start = Instant::now();
    let error = Connector::new()
        .connect_timeout(Duration::from_secs(5))
        .connect(&url)
        .await
        .unwrap_err();
    match error {
        Error::Io(e) => assert_eq!(e.kind(), std::io::ErrorKind::TimedOut),
        other => panic!("{other:?}"),
    }
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    drop(server);
}

#[tokio::test]
async fn every_default_configuration_has_keepalive() {
    assert_eq!(
        Config::default().ping_interval,
        Some(Duration::from_secs(20))
    );
    let (listener, addr) = tokio_listener().await;
    let url = ws_url(addr);
    let server = tokio::spawn(async move {
        let ws = WebSocket::accept(listener.accept().await.unwrap().0)
            .await
            .unwrap();
        ws.connection().config().ping_interval
    });
    let (ws, _) = rfc6455::tokio::connect(&url).await.unwrap();
    assert_eq!(
        ws.connection().config().ping_interval,
        Some(Duration::from_secs(20))
    );
    assert_eq!(server.await.unwrap(), Some(Duration::from_secs(20)));
}

#[tokio::test(start_paused = true)]
async fn activity_postpones_the_adapters_keepalive_ping() {
    let (listener, addr) = tokio_listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = WebSocket::accept(tcp).await.unwrap();
        let mut texts = Vec::new();
        while let Ok(message) = ws.recv().await {
            texts.extend(message.as_text().map(str::to_owned));
        }
        texts
    });
    // The client sends no pings of its own, so the server's are the only ones.
    let (mut client, _) = Connector::new()
        .config(Config::default().ping_interval(None))
        .connect(&ws_url(addr))
        .await
        .unwrap();
    let start = Instant::now();
    // A message at 10 s moves the server's ping from 20 s to 30 s: the timer armed for 20 s
    // wakes the server early, and it waits on.
    tokio::time::sleep(Duration::from_secs(10)).await;
    client.send_text("still here").await.unwrap();
    for expected in [30, 50] {
        let ping = tokio::time::timeout(Duration::from_secs(60), client.recv())
            .await
            .expect("a ping within a minute")
            .unwrap();
        assert!(ping.is_ping(), "{ping:?}");
        let at = start.elapsed();
        assert!(
            at >= Duration::from_secs(expected) && at < Duration::from_secs(expected + 1),
            "ping at {at:?}, expected {expected} s"
        );
    }
    drop(client);
    assert_eq!(server.await.unwrap(), ["still here"]);
}

#[tokio::test(start_paused = true)]
async fn a_default_tokio_server_pings_a_silent_peer_after_20_s_and_drops_it_after_40() {
    let (listener, addr) = tokio_listener().await;
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        tcp.set_nodelay(true).unwrap();
        // No configuration given: the adapter's default.
        let mut ws = WebSocket::accept(tcp).await.unwrap();
        let start = Instant::now();
        let result = ws.recv().await;
        (start.elapsed(), result.map_err(|e| e.to_string()))
    });
    // A raw client: completes the handshake, then reads and never answers.
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.set_nodelay(true).unwrap();
    raw.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let start = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 256];
    // The 101 response, then the first Ping: a 0x89 frame after the head.
    let ping_at = loop {
        let n = raw.read(&mut buf).await.unwrap();
        assert_ne!(n, 0);
        received.extend_from_slice(&buf[..n]);
        let head_end = received.windows(4).position(|w| w == b"\r\n\r\n");
        if head_end.is_some_and(|end| received.len() > end + 4) {
            assert_eq!(received[head_end.unwrap() + 4], 0x89);
            break start.elapsed();
        }
    };
    assert!(
        ping_at >= Duration::from_secs(20) && ping_at < Duration::from_secs(21),
        "{ping_at:?}"
    );
    let (elapsed, result) = server.await.unwrap();
    assert_eq!(result, Err(Error::Timeout(Timeout::Keepalive).to_string()));
    // 20 s of silence, then the default pong timeout of 20 s.
    assert!(
        elapsed >= Duration::from_secs(40) && elapsed < Duration::from_secs(41),
        "{elapsed:?}"
    );
}
