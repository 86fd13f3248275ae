//! WebSockets over HTTP/2 (RFC 8441), our client against our server over real loopback sockets:
//! several WebSockets multiplexed on one TLS connection negotiated by ALPN, every message size
//! and kind, the closing handshake, HTTP/2 flow control as the backpressure of a slow reader, the
//! axum extractor taking HTTP/1.1 and HTTP/2 on one route over h2c, refusals on a stream, and
//! the fall back to HTTP/1.1.
#![cfg(all(feature = "http2", feature = "rustls", feature = "axum"))]

mod support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::response::Response;
use axum::routing::any;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rfc6455::axum::WebSocketUpgrade;
use rfc6455::handshake::{Accept, ClientHandshakeError, ClientRequest, Reject};
use rfc6455::http2::{Connected, Http2Client};
use rfc6455::{CloseCode, Config, Error, Message};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use support::tokio_listener;
use tokio_rustls::TlsAcceptor;

/// The flow-control window of every stream, both ways: HTTP/2's default initial window, set
/// explicitly on the server so the bounds below do not depend on hyper's defaults.
const WINDOW: usize = 65_535;

/// What the server does with each WebSocket.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// Echoes text and binary messages.
    Echo,
    /// Sends 1 KiB binary messages as fast as the transport takes them, counting the bytes.
    Flood,
    /// Reads nothing, holding the WebSocket open.
    Deaf,
}

/// What a test server saw.
#[derive(Debug, Default)]
struct Seen {
    /// TCP connections accepted.
    connections: AtomicUsize,
    /// For each WebSocket accepted, whether it came as an HTTP/2 extended CONNECT.
    extended_connect: Mutex<Vec<bool>>,
    /// Payload bytes the `Flood` behaviour's sends have completed.
    flooded: AtomicUsize,
}

/// Runs `behaviour` on an accepted WebSocket.
async fn serve_websocket(
    mut ws: rfc6455::hyper::HyperWebSocket,
    behaviour: Behaviour,
    seen: Arc<Seen>,
) {
    match behaviour {
        Behaviour::Echo => {
            while let Ok(message) = ws.recv().await {
                if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
                    break;
                }
            }
        }
        Behaviour::Flood => {
            let chunk = vec![0x5a; 1024];
            while ws.send_binary(&chunk).await.is_ok() {
                seen.flooded.fetch_add(chunk.len(), Ordering::SeqCst);
            }
        }
        Behaviour::Deaf => tokio::time::sleep(Duration::from_secs(30)).await,
    }
}

/// The bare hyper path: `rfc6455::hyper::upgrade` for whichever handshake the request is.
async fn handle(
    mut request: hyper::Request<Incoming>,
    behaviour: Behaviour,
    seen: Arc<Seen>,
) -> Result<hyper::Response<rfc6455::hyper::Body>, Infallible> {
    // `/forbidden` is refused by the application, with a body.
    let decide = |request: &rfc6455::handshake::UpgradeRequest| match request.path() {
        "/forbidden" => Err(Reject::new(403).body("no entry")),
        _ => Ok(Accept::new()),
    };
    let (response, upgrade) =
        match rfc6455::hyper::upgrade_with(&mut request, Config::default(), decide) {
            Ok(parts) => parts,
            Err(refusal) => return Ok(refusal.into_http_response()),
        };
    seen.extended_connect
        .lock()
        .unwrap()
        .push(upgrade.request().is_extended_connect());
    // `/flood` floods whatever the server's behaviour, for tests that need both.
    let behaviour = match upgrade.request().path() {
        "/flood" => Behaviour::Flood,
        _ => behaviour,
    };
    tokio::spawn(async move {
        if let Ok(ws) = upgrade.await {
            serve_websocket(ws, behaviour, seen).await;
        }
    });
    Ok(response)
}

/// A self-signed certificate for `localhost`, and a client TLS configuration trusting it.
fn certificate() -> (rustls::ServerConfig, Arc<rustls::ClientConfig>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key: PrivateKeyDer = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()).into();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let client = rfc6455::tls::client_config_builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    (server, Arc::new(client))
}

/// An HTTPS server speaking the ALPN protocols `alpn` offers, with extended CONNECT enabled or
/// not, serving WebSockets with `behaviour`.
async fn https_server(
    alpn: &[&[u8]],
    enable_connect_protocol: bool,
    behaviour: Behaviour,
) -> (SocketAddr, Arc<rustls::ClientConfig>, Arc<Seen>) {
    let (mut server_config, client_config) = certificate();
    server_config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let acceptor = TlsAcceptor::from(Arc::new(server_config));
    let (listener, addr) = tokio_listener().await;
    let seen = Arc::new(Seen::default());
    let server_seen = seen.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            server_seen.connections.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let seen = server_seen.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut builder =
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                builder
                    .http2()
                    .initial_stream_window_size(WINDOW as u32)
                    .initial_connection_window_size(16 * WINDOW as u32);
                if enable_connect_protocol {
                    builder.http2().enable_connect_protocol();
                }
                let service = hyper::service::service_fn(move |request| {
                    handle(request, behaviour, seen.clone())
                });
                let _ = builder
                    .serve_connection_with_upgrades(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, client_config, seen)
}

fn request(addr: SocketAddr) -> ClientRequest {
    ClientRequest::new(&format!("wss://localhost:{}/ws", addr.port())).unwrap()
}

/// Connects over HTTP/2, which the test's server must offer.
async fn connect_http2(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
) -> (
    rfc6455::tokio::WebSocket<rfc6455::http2::Http2Stream>,
    Http2Client,
) {
    match rfc6455::http2::connect(&request(addr), tls, Config::default())
        .await
        .unwrap()
    {
        Connected::Http2 {
            ws,
            client,
            response,
        } => {
            assert_eq!(response.status(), 200);
            (ws, client)
        }
        Connected::Http1 { .. } => panic!("fell back to HTTP/1.1"),
    }
}

/// Text and binary of every size class, a fragmented message, a ping, then the closing
/// handshake, on one WebSocket; `tag` tells the WebSockets sharing a connection apart.
async fn exercise<S>(mut ws: rfc6455::tokio::WebSocket<S>, tag: u8)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    for size in [0, 1, 125, 126, 65_535, 65_536, 1 << 20] {
        let binary: Vec<u8> = (0..size).map(|i| (i as u8) ^ tag).collect();
        ws.send_binary(&binary).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::binary(binary));
        let text = char::from(b'a' + tag).to_string().repeat(size);
        ws.send_text(&text).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::text(text.as_str()));
    }
    // A text and a binary message in three fragments each: the echo is the whole message.
    let whole = format!("fragments of {tag}: é and more");
    let (first, rest) = whole.split_at(4);
    let (second, third) = rest.split_at(rest.find('é').unwrap());
    ws.send_text_fragment(first, false).await.unwrap();
    ws.send_text_fragment(second, false).await.unwrap();
    ws.send_text_fragment(third, true).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text(whole.as_str()));
    let bytes = vec![tag; 3000];
    for (i, piece) in bytes.chunks(1000).enumerate() {
        ws.send_binary_fragment(piece, i == 2).await.unwrap();
    }
    assert_eq!(ws.recv().await.unwrap(), Message::binary(bytes));
    // The server's core answers a ping by itself.
    let payload = vec![tag; 125];
    ws.send(Message::Ping(payload.clone().into()))
        .await
        .unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::Pong(payload.into()));
    // The closing handshake: our Close, the server's answer, then the end.
    ws.close(CloseCode::NORMAL, "bye").await.unwrap();
    match ws.recv().await.unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("expected the server's Close, got {other:?}"),
    }
    assert!(matches!(ws.recv().await, Err(Error::Closed)));
}

#[tokio::test]
async fn several_websockets_on_one_tls_connection() {
    let (addr, tls, seen) = https_server(&[b"h2", b"http/1.1"], true, Behaviour::Echo).await;
    let (first, client) = connect_http2(addr, tls).await;
    let mut tasks = vec![tokio::spawn(exercise(first, 0))];
    for tag in 1..4 {
        let (ws, response) = client
            .websocket(&request(addr), Config::default())
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        tasks.push(tokio::spawn(exercise(ws, tag)));
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Four WebSockets, all extended CONNECTs, on one TCP (and TLS, and HTTP/2) connection.
    assert_eq!(*seen.extended_connect.lock().unwrap(), [true; 4]);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
}

/// Waits until `count` stops growing (unchanged across `quiet`), and returns it.
async fn settled(count: impl Fn() -> usize, quiet: Duration) -> usize {
    let mut last = count();
    loop {
        tokio::time::sleep(quiet).await;
        let now = count();
        if now == last {
            return now;
        }
        last = now;
    }
}

/// What may sit between a sender's completed `send` and an unread window: one 1 KiB message
/// frame in the sender's WebSocket queue, and one write in flight inside hyper's upgraded stream.
const IN_FLIGHT: usize = 2 * (1024 + 4);

#[tokio::test]
async fn a_slow_client_reader_stops_the_server_at_one_window() {
    let (addr, tls, seen) = https_server(&[b"h2"], true, Behaviour::Flood).await;
    let (mut ws, _client) = connect_http2(addr, tls).await;
    // The client reads nothing: the server's sends stop once the stream's window (the client's
    // h2 default, 65,535 bytes) is full.
    let blocked_at = settled(
        || seen.flooded.load(Ordering::SeqCst),
        Duration::from_millis(300),
    )
    .await;
    assert!(
        blocked_at <= WINDOW + IN_FLIGHT,
        "the server sent {blocked_at} bytes to a reader that read nothing"
    );
    assert!(
        blocked_at >= WINDOW / 2,
        "only {blocked_at} bytes before blocking"
    );
    // Reading gives the window back and the sender resumes.
    let mut received = 0;
    while received < 4 * WINDOW {
        match ws.recv().await.unwrap() {
            Message::Binary(data) => received += data.len(),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(seen.flooded.load(Ordering::SeqCst) > blocked_at);
}

#[tokio::test]
async fn a_slow_server_reader_stops_the_client_at_one_window() {
    let (addr, tls, _seen) = https_server(&[b"h2"], true, Behaviour::Deaf).await;
    let (mut ws, _client) = connect_http2(addr, tls).await;
    // The server reads nothing: the client's sends stop once the server's stream window (set
    // to 65,535 bytes) is full, and `send` waits instead of buffering.
    let chunk = vec![0xa5; 1024];
    let mut sent = 0;
    while tokio::time::timeout(Duration::from_millis(300), ws.send_binary(&chunk))
        .await
        .is_ok_and(|result| result.is_ok())
    {
        sent += chunk.len();
        assert!(
            sent <= WINDOW + IN_FLIGHT,
            "sent {sent} bytes to a server that reads nothing"
        );
    }
    assert!(sent >= WINDOW / 2, "only {sent} bytes before blocking");
    // Still blocked: nothing was given back.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), ws.send_binary(&chunk))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn no_extended_connect_falls_back_to_http1_on_a_new_connection() {
    let (addr, tls, seen) = https_server(&[b"h2", b"http/1.1"], false, Behaviour::Echo).await;
    let connected = rfc6455::http2::connect(&request(addr), tls, Config::default())
        .await
        .unwrap();
    let Connected::Http1 { ws, response } = connected else {
        panic!("an extended CONNECT without SETTINGS_ENABLE_CONNECT_PROTOCOL");
    };
    assert_eq!(response.status(), 101);
    exercise(ws, 7).await;
    assert_eq!(*seen.extended_connect.lock().unwrap(), [false]);
    // The HTTP/2 connection that could not carry it, then the HTTP/1.1 one.
    assert_eq!(seen.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_http1_only_server_is_upgraded_on_the_same_connection() {
    let (addr, tls, seen) = https_server(&[b"http/1.1"], true, Behaviour::Echo).await;
    let Connected::Http1 { ws, .. } =
        rfc6455::http2::connect(&request(addr), tls, Config::default())
            .await
            .unwrap()
    else {
        panic!("HTTP/2 without ALPN h2");
    };
    exercise(ws, 8).await;
    assert_eq!(*seen.extended_connect.lock().unwrap(), [false]);
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
}

/// The axum extractor on one `any` route; records which handshake each WebSocket came by.
async fn axum_server() -> (SocketAddr, Arc<Mutex<Vec<bool>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler_seen = seen.clone();
    let app = Router::new().route(
        "/ws",
        any(move |upgrade: WebSocketUpgrade| {
            let seen = handler_seen.clone();
            async move {
                seen.lock()
                    .unwrap()
                    .push(upgrade.request().is_extended_connect());
                let response: Response =
                    upgrade.protocols(["chat"]).on_upgrade(|mut ws| async move {
                        while let Ok(message) = ws.recv().await {
                            if (message.is_text() || message.is_binary())
                                && ws.send(message).await.is_err()
                            {
                                break;
                            }
                        }
                    });
                response
            }
        }),
    );
    let (listener, addr) = tokio_listener().await;
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

#[tokio::test]
async fn one_axum_route_takes_http1_and_h2c_alike() {
    let (addr, seen) = axum_server().await;
    let url = format!("ws://127.0.0.1:{}/ws", addr.port());
    let request = ClientRequest::new(&url).unwrap().protocol("chat");

    // HTTP/2 with prior knowledge (h2c): axum::serve enables extended CONNECT.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let client = Http2Client::handshake(tcp).await.unwrap();
    assert!(client.supports_websockets());
    let (h2_ws, response) = client.websocket(&request, Config::default()).await.unwrap();
    assert_eq!(
        (response.status(), response.protocol()),
        (200, Some("chat"))
    );
    exercise(h2_ws, 1).await;

    // HTTP/1.1 on the same route.
    let (h1_ws, response) = rfc6455::connector::Connector::new()
        .connect_request(&request)
        .await
        .unwrap();
    assert_eq!(
        (response.status(), response.protocol()),
        (101, Some("chat"))
    );
    exercise(h1_ws, 2).await;

    assert_eq!(*seen.lock().unwrap(), [true, false]);
}

#[tokio::test]
async fn refusals_on_an_http2_stream() {
    let (addr, _seen) = axum_server().await;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (send_request, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let send = |protocol: &'static str, version: &'static str| {
        let send_request = send_request.clone();
        async move {
            let mut request =
                http::Request::connect(format!("http://127.0.0.1:{}/ws", addr.port()))
                    .header("sec-websocket-version", version)
                    .body(())
                    .unwrap();
            request
                .extensions_mut()
                .insert(h2::ext::Protocol::from_static(protocol));
            let mut send_request = send_request.ready().await.unwrap();
            let (response, _stream) = send_request.send_request(request, true).unwrap();
            response.await.unwrap()
        }
    };
    // Another :protocol: 501 (RFC 9220 §3's rule, RFC 8441's CONNECT).
    assert_eq!(send("webtransport", "13").await.status(), 501);
    // A version we do not speak: 400 naming ours, without the 426 HTTP/2 cannot carry.
    let response = send("websocket", "8").await;
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["sec-websocket-version"], "13");
    assert!(response.headers().get("upgrade").is_none());
    // Our client reports a refusal with its status and headers.
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let client = Http2Client::handshake(tcp).await.unwrap();
    let other_path = ClientRequest::new(&format!("ws://127.0.0.1:{}/none", addr.port())).unwrap();
    match client.websocket(&other_path, Config::default()).await {
        Err(Error::ClientHandshake(ClientHandshakeError::UnexpectedStatus { status, .. })) => {
            assert_eq!(status, 404)
        }
        other => panic!(
            "expected a 404, got {:?}",
            other.map(|(_, response)| response)
        ),
    }
}

#[tokio::test]
async fn an_h2c_server_without_extended_connect_is_reported_before_sending() {
    // hyper's HTTP/2 server with extended CONNECT left off.
    let (listener, addr) = tokio_listener().await;
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let service = hyper::service::service_fn(|request| {
            handle(request, Behaviour::Echo, Arc::new(Seen::default()))
        });
        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(tcp), service)
            .await;
    });
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let client = Http2Client::handshake(tcp).await.unwrap();
    assert!(!client.supports_websockets());
    let request = ClientRequest::new(&format!("ws://127.0.0.1:{}/ws", addr.port())).unwrap();
    match client.websocket(&request, Config::default()).await {
        Err(Error::Io(error)) => assert_eq!(error.kind(), std::io::ErrorKind::Unsupported),
        other => panic!(
            "expected Unsupported, got {:?}",
            other.map(|(_, response)| response)
        ),
    }
}

#[tokio::test]
async fn streams_dropped_mid_frame_give_the_connection_window_back() {
    use tokio::io::AsyncReadExt;

    let (addr, tls, _seen) = https_server(&[b"h2"], true, Behaviour::Echo).await;
    let (first, client) = connect_http2(addr, tls).await;
    drop(first);
    let flood = ClientRequest::new(&format!("wss://localhost:{}/flood", addr.port())).unwrap();
    // Each of these streams reads one byte of a flood of 1 KiB messages and is dropped with the
    // rest of that DATA frame taken from h2 but not read: more, together, than the window of
    // the connection (65,535 bytes, h2's default), which all its streams share. h2 gives a
    // closed stream's unreleased window back to the connection; this holds it to that.
    for _ in 0..(2 * WINDOW / 1024) {
        let (ws, _) = client.websocket(&flood, Config::default()).await.unwrap();
        let (mut stream, _) = ws.into_parts();
        let mut byte = [0u8; 1];
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1);
        drop(stream);
    }
    // The connection still carries data: an echo of more than a window goes through.
    let (mut ws, _) = client
        .websocket(&request(addr), Config::default())
        .await
        .unwrap();
    let big = vec![7u8; 4 * WINDOW];
    ws.send_binary(&big).await.unwrap();
    let echoed = tokio::time::timeout(Duration::from_secs(10), ws.recv()).await;
    assert_eq!(
        echoed.expect("the connection's window ran out").unwrap(),
        Message::binary(big)
    );
}

#[tokio::test]
async fn a_larger_window_lets_a_slow_reader_fall_that_much_further_behind() {
    const LARGER: usize = 1 << 20;
    let (addr, tls, seen) = https_server(&[b"h2"], true, Behaviour::Flood).await;
    let mut tls = (*tls).clone();
    tls.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(name, tcp)
        .await
        .unwrap();
    let mut settings = h2::client::Builder::new();
    settings
        .initial_window_size(LARGER as u32)
        .initial_connection_window_size(2 * LARGER as u32);
    let client = Http2Client::handshake_with(stream, &settings)
        .await
        .unwrap();
    let (_ws, _) = client
        .websocket(&request(addr), Config::default())
        .await
        .unwrap();
    let blocked_at = settled(
        || seen.flooded.load(Ordering::SeqCst),
        Duration::from_millis(300),
    )
    .await;
    // The stream's window, now 1 MiB, is what the server may send ahead of the reader.
    assert!(
        blocked_at > 4 * WINDOW && blocked_at <= LARGER + IN_FLIGHT,
        "the server sent {blocked_at} bytes to a reader with a 1 MiB window that read nothing"
    );
}

#[tokio::test]
async fn an_application_refusal_reaches_the_client_with_its_status_headers_and_body() {
    let (addr, tls, seen) = https_server(&[b"h2"], true, Behaviour::Echo).await;
    let (_first, client) = connect_http2(addr, tls).await;
    let forbidden =
        ClientRequest::new(&format!("wss://localhost:{}/forbidden", addr.port())).unwrap();
    match client.websocket(&forbidden, Config::default()).await {
        Err(Error::ClientHandshake(ClientHandshakeError::UnexpectedStatus {
            status,
            headers,
            body,
        })) => {
            assert_eq!(status, 403);
            assert_eq!(&body[..], b"no entry");
            assert_eq!(
                headers.get("content-type"),
                Some(&b"text/plain; charset=utf-8"[..])
            );
            // The HTTP/1.1 refusal's `Connection: close` has no place in HTTP/2.
            assert!(headers.get("connection").is_none());
        }
        other => panic!(
            "expected a 403, got {:?}",
            other.map(|(_, response)| response)
        ),
    }
    // The refusal ended its stream only: the connection carries the next WebSocket.
    let (ws, _) = client
        .websocket(&request(addr), Config::default())
        .await
        .unwrap();
    exercise(ws, 9).await;
    assert_eq!(seen.connections.load(Ordering::SeqCst), 1);
}
