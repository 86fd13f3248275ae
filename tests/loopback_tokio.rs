//! The tokio adapter over real loopback sockets: tokio against tokio, and crossed with the
//! blocking adapter.
#![cfg(feature = "tokio")]

mod support;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rfc6455::Timeout;
use rfc6455::tokio::WebSocket;
use rfc6455::{CloseCode, CloseFrame, Config, Error, Message, ProtocolError};
use support::{listener, tokio_listener, ws_url};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const SIZES: [usize; 5] = [0, 125, 126, 64 * 1024, 16 << 20];

/// A tokio echo server for one connection; returns its URL and how its loop ended.
async fn echo_server(config: Config) -> (String, tokio::task::JoinHandle<Result<(), Error>>) {
    let (listener, addr) = tokio_listener().await;
    let url = ws_url(addr);
    let handle = tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        let mut ws = WebSocket::accept_with(stream, config, |_| Ok(Default::default())).await?;
        while let Some(message) = ws.next().await {
            let message = message?;
            if message.is_text() || message.is_binary() {
                ws.send(message).await?;
            }
        }
        Ok(())
    });
    (url, handle)
}

/// A blocking echo server on a thread.
fn std_echo_server() -> (String, std::thread::JoinHandle<()>) {
    let (listener, addr) = listener();
    let url = ws_url(addr);
    let handle = std::thread::spawn(move || {
        let mut ws = rfc6455::blocking::WebSocket::accept(listener.accept().unwrap().0).unwrap();
        while let Ok(message) = ws.recv() {
            if message.is_text() || message.is_binary() {
                ws.send(message).unwrap();
            }
        }
    });
    (url, handle)
}

async fn exercise(ws: &mut WebSocket<TcpStream>) {
    for size in SIZES {
        let text = "ü".repeat(size / 2);
        ws.send_text(&text).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::text(text.as_str()));
        let data: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
        ws.send(Message::binary(data.clone())).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::binary(data));
    }
    ws.send_binary_fragment(b"frag", false).await.unwrap();
    ws.send(Message::Ping("ping".into())).await.unwrap();
    ws.send_binary_fragment(b"mented", true).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::Pong("ping".into()));
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::binary(&b"fragmented"[..])
    );
    ws.close(CloseCode::NORMAL, "bye").await.unwrap();
    assert!(matches!(
        ws.recv().await.unwrap(),
        Message::Close(Some(CloseFrame {
            code: CloseCode::NORMAL,
            ..
        }))
    ));
    assert!(matches!(ws.recv().await, Err(Error::Closed)));
}

#[tokio::test]
async fn tokio_client_against_tokio_server() {
    let (url, server) = echo_server(Config::default()).await;
    let (mut ws, _) = rfc6455::tokio::connect(&url).await.unwrap();
    exercise(&mut ws).await;
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn tokio_client_against_std_server() {
    let (url, server) = std_echo_server();
    let (mut ws, _) = rfc6455::tokio::connect(&url).await.unwrap();
    exercise(&mut ws).await;
    tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
}

#[tokio::test]
async fn std_client_against_tokio_server() {
    let (url, server) = echo_server(Config::default()).await;
    tokio::task::spawn_blocking(move || {
        let (mut ws, _) = rfc6455::blocking::connect(&url).unwrap();
        ws.send_text("hello").unwrap();
        assert_eq!(ws.recv().unwrap(), Message::text("hello"));
        ws.close(CloseCode::from(4000), "app").unwrap();
        let expected = CloseFrame::new(CloseCode::from(4000), "").unwrap();
        assert_eq!(ws.recv().unwrap(), Message::Close(Some(expected)));
        assert!(matches!(ws.recv(), Err(Error::Closed)));
    })
    .await
    .unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_server_closing_is_seen_by_the_client_with_code_and_reason() {
    let (listener, addr) = tokio_listener().await;
    let url = ws_url(addr);
    let server = tokio::spawn(async move {
        let mut ws = WebSocket::accept(listener.accept().await.unwrap().0)
            .await
            .unwrap();
        ws.close(CloseCode::GOING_AWAY, "restart").await.unwrap();
        let echo = ws.recv().await.unwrap();
        assert!(
            ws.next().await.is_none(),
            "the stream ends after the closing handshake"
        );
        echo
    });
    let (mut ws, _) = rfc6455::tokio::connect(&url).await.unwrap();
    let expected = CloseFrame::new(CloseCode::GOING_AWAY, "restart").unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::Close(Some(expected)));
    assert!(ws.next().await.is_none());
    assert!(matches!(
        server.await.unwrap(),
        Message::Close(Some(CloseFrame {
            code: CloseCode::GOING_AWAY,
            ..
        }))
    ));
}

#[tokio::test]
async fn a_message_over_the_limit_closes_with_1009() {
    let (url, server) = echo_server(Config::default().max_message_size(100)).await;
    let (mut ws, _) = rfc6455::tokio::connect(&url).await.unwrap();
    ws.send_text_fragment(&"x".repeat(60), false).await.unwrap();
    ws.send_text_fragment(&"x".repeat(60), true).await.unwrap();
    let expected = CloseFrame {
        code: CloseCode::MESSAGE_TOO_BIG,
        reason: String::new(),
    };
    assert_eq!(ws.recv().await.unwrap(), Message::Close(Some(expected)));
    let error = server.await.unwrap().unwrap_err();
    assert!(matches!(
        error,
        Error::Protocol(ProtocolError::MessageTooLarge {
            size: 120,
            max: 100
        })
    ));
}

#[tokio::test]
async fn a_peer_that_drops_mid_frame_gives_an_error_promptly() {
    let (url, server) = echo_server(Config::default()).await;
    let mut raw = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/'))
        .await
        .unwrap();
    raw.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\
          \x82\x8a\x01\x02\x03\x04abc",
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    drop(raw);
    let result = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("no hang")
        .unwrap();
    assert!(
        matches!(result, Err(Error::TransportEnded) | Err(Error::Io(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn cancelling_recv_in_select_loses_no_data() {
    let (listener, addr) = tokio_listener().await;
    let url = ws_url(addr);
    // The server sends 20 messages of 100 KiB each in small slow pieces, so that most of the
    // client's recv() calls are cancelled part-way through a frame.
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = WebSocket::accept(stream).await.unwrap();
        for i in 0..20u8 {
            ws.send_binary(&vec![i; 100 * 1024]).await.unwrap();
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        while ws.next().await.is_some() {}
    });
    let (mut ws, _) = rfc6455::tokio::connect(&url).await.unwrap();
    let mut received = Vec::new();
    let mut cancelled = 0;
    loop {
        tokio::select! {
            message = ws.recv() => match message {
                Ok(Message::Binary(data)) => received.push(data),
                Ok(_) => {}
                Err(Error::Closed) => break,
                Err(error) => panic!("{error}"),
            },
            _ = tokio::task::yield_now() => cancelled += 1,
        }
    }
    assert!(
        cancelled > 0,
        "no recv was cancelled; the test proves nothing"
    );
    assert_eq!(received.len(), 20);
    for (i, data) in received.iter().enumerate() {
        assert_eq!(data.len(), 100 * 1024);
        assert!(data.iter().all(|&b| b == i as u8), "message {i} corrupted");
    }
}

#[tokio::test]
async fn a_split_reader_answers_pings_while_the_writer_is_idle() {
    let (listener, addr) = tokio_listener().await;
    let url = ws_url(addr);
    let server = tokio::spawn(async move {
        let ws = WebSocket::accept(listener.accept().await.unwrap().0)
            .await
            .unwrap();
        let (mut reader, mut writer) = ws.into_split();
        // The writer lives in its own task and sends after the reader has seen two messages.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(4);
        let writing = tokio::spawn(async move {
            while let Some(message) = rx.recv().await {
                writer.send(message).await.unwrap();
            }
            writer.close(CloseCode::NORMAL, "").await.unwrap();
        });
        let mut seen = Vec::new();
        while seen.len() < 2 {
            if let Message::Text(text) = reader.next().await.unwrap().unwrap() {
                seen.push(text.to_string());
            }
        }
        tx.send(Message::text(seen.join("+"))).await.unwrap();
        drop(tx);
        writing.await.unwrap();
        while reader.next().await.is_some() {}
    });
    let (mut ws, _) = rfc6455::tokio::connect(&url).await.unwrap();
    ws.send(Message::Ping("one".into())).await.unwrap();
    assert_eq!(
        ws.recv().await.unwrap(),
        Message::Pong("one".into()),
        "pong from the reader half"
    );
    ws.send_text("a").await.unwrap();
    ws.send_text("b").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("a+b"));
    assert!(matches!(ws.recv().await.unwrap(), Message::Close(_)));
    assert!(matches!(ws.recv().await, Err(Error::Closed)));
    server.await.unwrap();
}

#[tokio::test]
async fn sink_and_stream_work_like_tokio_tungstenite() {
    let (url, server) = echo_server(Config::default()).await;
    let (mut ws, _) = rfc6455::tokio::connect(&url).await.unwrap();
    SinkExt::send(&mut ws, Message::text("via sink"))
        .await
        .unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("via sink"));
    SinkExt::close(&mut ws).await.unwrap();
    assert!(matches!(ws.next().await, Some(Ok(Message::Close(_)))));
    assert!(ws.next().await.is_none());
    server.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_stops_answering_pings_is_dropped_within_interval_plus_timeout() {
    let (listener, addr) = tokio_listener().await;
    let server = tokio::spawn(async move {
        let config = Config::default()
            .ping_interval(Some(Duration::from_secs(20)))
            .pong_timeout(Duration::from_secs(10));
        let stream = listener.accept().await.unwrap().0;
        let mut ws = WebSocket::accept_with(stream, config, |_| Ok(Default::default()))
            .await
            .unwrap();
        let start = tokio::time::Instant::now();
        let mut events = Vec::new();
        while let Some(event) = ws.next().await {
            events.push(event.map_err(|e| e.to_string()));
        }
        (start.elapsed(), events)
    });
    // A raw client: completes the handshake, then never answers anything.
    let mut raw = raw_client(addr).await;
    let (elapsed, events) = server.await.unwrap();
    assert_eq!(
        events,
        vec![Err("no answer to a keepalive ping".to_string())]
    );
    assert!(
        elapsed >= Duration::from_secs(30) && elapsed < Duration::from_secs(31),
        "{elapsed:?}"
    );
    // The server sent a Ping and then a Close 1011 that says why, and closed the connection.
    let mut received = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut raw, &mut received)
        .await
        .unwrap();
    assert_eq!(
        received,
        b"\x89\x08\x00\x00\x00\x00\x00\x00\x00\x01\x88\x13\x03\xf3keepalive timeout"
    );
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_never_answers_our_close_is_dropped_after_the_close_timeout() {
    let (listener, addr) = tokio_listener().await;
    let server = tokio::spawn(async move {
        // The default configuration: no keepalive, only the close timers, which the adapter
        // starts when the closing handshake does.
        let config = Config::default();
        let close_timeout = config.close_timeout;
        let stream = listener.accept().await.unwrap().0;
        let mut ws = WebSocket::accept_with(stream, config, |_| Ok(Default::default()))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(60)).await;
        let start = tokio::time::Instant::now();
        ws.close(CloseCode::NORMAL, "bye").await.unwrap();
        let mut events = Vec::new();
        while let Some(event) = ws.next().await {
            events.push(event.map_err(|e| e.to_string()));
        }
        (start.elapsed(), close_timeout, events)
    });
    // A raw client: completes the handshake, then never answers anything.
    let _raw = raw_client(addr).await;
    let (elapsed, close_timeout, events) = tokio::time::timeout(Duration::from_secs(600), server)
        .await
        .expect("the server still waits for the Close")
        .unwrap();
    assert_eq!(
        events,
        vec![Err(Error::Timeout(Timeout::Close).to_string())]
    );
    assert_eq!(elapsed, close_timeout);
}

#[tokio::test(start_paused = true)]
async fn a_client_that_trickles_its_request_is_dropped_after_the_handshake_timeout() {
    let (listener, addr) = tokio_listener().await;
    let server = tokio::spawn(async move {
        let stream = listener.accept().await.unwrap().0;
        let config = Config::default().handshake_timeout(Some(Duration::from_secs(5)));
        let start = tokio::time::Instant::now();
        let result = WebSocket::accept_with(stream, config, |_| Ok(Default::default())).await;
        (result.map(|_| ()), start.elapsed())
    });
    let mut raw = TcpStream::connect(addr).await.unwrap();
    // One byte a second: the request would take far longer than the timeout to arrive. The
    // writes fail once the server has given up and closed the connection.
    for byte in b"GET / HTTP/1.1\r\nHost: x\r\n".iter().take(10) {
        if raw.write_all(&[*byte]).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let (result, elapsed) = server.await.unwrap();
    assert!(
        matches!(&result, Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut),
        "{result:?}"
    );
    assert_eq!(elapsed, Duration::from_secs(5));
}

/// A raw client's opening handshake with `addr`, the 101 read and discarded.
async fn raw_client(addr: std::net::SocketAddr) -> TcpStream {
    let mut raw = TcpStream::connect(addr).await.unwrap();
    raw.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0];
        tokio::io::AsyncReadExt::read_exact(&mut raw, &mut byte)
            .await
            .unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    raw
}

/// A server for one connection that collects what it receives until its stream ends.
async fn collecting_server() -> (std::net::SocketAddr, tokio::task::JoinHandle<Vec<Message>>) {
    let (listener, addr) = tokio_listener().await;
    let server = tokio::spawn(async move {
        let stream = listener.accept().await.unwrap().0;
        let mut ws = WebSocket::accept(stream).await.unwrap();
        let mut messages = Vec::new();
        while let Some(message) = ws.next().await {
            messages.push(message.unwrap());
        }
        messages
    });
    (addr, server)
}

const CLIENT_CLOSE_1000: &[u8] = b"\x88\x82\x00\x00\x00\x00\x03\xe8";

#[tokio::test]
async fn after_the_closing_handshake_the_server_sends_its_fin_and_waits_for_the_clients() {
    let (addr, server) = collecting_server().await;
    let mut raw = raw_client(addr).await;
    raw.write_all(CLIENT_CLOSE_1000).await.unwrap();
    // The server's Close echo, then its FIN: the stream ends while the server still reads.
    let mut received = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut raw, &mut received)
        .await
        .unwrap();
    assert_eq!(received, b"\x88\x02\x03\xe8");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !server.is_finished(),
        "the server waits for the client's FIN"
    );
    // Bytes after the Close are read and discarded; then the client's FIN ends the wait.
    raw.write_all(b"ignored").await.unwrap();
    let started = std::time::Instant::now();
    drop(raw);
    let messages = tokio::time::timeout(Duration::from_secs(1), server)
        .await
        .expect("the client's FIN ends the server's wait at once")
        .unwrap();
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(
        messages,
        vec![Message::Close(Some(CloseFrame {
            code: CloseCode::NORMAL,
            reason: "".into()
        }))]
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_that_never_sends_its_fin_is_dropped_after_the_linger() {
    let (addr, server) = collecting_server().await;
    let mut raw = raw_client(addr).await;
    let start = tokio::time::Instant::now();
    raw.write_all(CLIENT_CLOSE_1000).await.unwrap();
    let messages = server.await.unwrap();
    assert_eq!(messages.len(), 1);
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_millis(2100),
        "the default linger is 2 s: {elapsed:?}"
    );
    drop(raw);
}

/// A server over one end of an in-memory pipe, running the README's batched echo loop (data
/// messages fed back, returning on the first error).
fn spawn_batched_echo(
    io: tokio::io::DuplexStream,
    config: Config,
) -> tokio::task::JoinHandle<Result<(), Error>> {
    use rfc6455::{Connection, Role};

    tokio::spawn(async move {
        let mut ws = WebSocket::from_connection(io, Connection::new(Role::Server, config));
        while let Some(message) = ws.next().await {
            let message = message?;
            if message.is_text() || message.is_binary() {
                ws.feed(message).await?;
            }
        }
        Ok(())
    })
}

/// The README's batched loop returns on a protocol error and drops the WebSocket. The echo fed
/// before the error and the Close that tells the peer why must still reach a peer whose reads
/// come late (here a 16-byte pipe that only drains once the peer gets round to reading).
#[tokio::test]
async fn output_queued_before_a_protocol_error_reaches_a_slow_reader() {
    use tokio::io::AsyncReadExt;

    let (server_io, mut peer) = tokio::io::duplex(16);
    let server = spawn_batched_echo(server_io, Config::default());
    let text = "x".repeat(200);
    // A masked text frame (zero key), then a frame with the reserved opcode 0x3.
    let mut input = vec![0x81, 0xfe, 0x00, 0xc8, 0, 0, 0, 0];
    input.extend_from_slice(text.as_bytes());
    input.extend_from_slice(&[0x83, 0x80, 0, 0, 0, 0]);
    peer.write_all(&input).await.unwrap();
    // Read only after the server has had every chance to give up on the writes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut received = Vec::new();
    peer.read_to_end(&mut received).await.unwrap();

    let mut expected = vec![0x81, 0x7e, 0x00, 0xc8];
    expected.extend_from_slice(text.as_bytes());
    expected.extend_from_slice(&[0x88, 0x02, 0x03, 0xea]); // Close 1002
    assert_eq!(received, expected);
    let error = server.await.unwrap().unwrap_err();
    assert!(
        matches!(error, Error::Protocol(ProtocolError::ReservedOpcode(3))),
        "{error:?}"
    );
}

/// A peer that breaks the protocol and never reads cannot hold the task: the wait to write what
/// was queued ends with the linger.
#[tokio::test(start_paused = true)]
async fn a_failed_connection_to_a_peer_that_never_reads_ends_with_the_linger() {
    let (server_io, mut peer) = tokio::io::duplex(16);
    let linger = Duration::from_secs(3);
    let server = spawn_batched_echo(server_io, Config::default().close_linger(linger));
    let mut input = vec![0x82, 0xfe, 0x00, 0xc8, 0, 0, 0, 0];
    input.extend_from_slice(&[7; 200]);
    input.extend_from_slice(&[0x83, 0x80, 0, 0, 0, 0]);
    peer.write_all(&input).await.unwrap();
    let start = tokio::time::Instant::now();
    let error = server.await.unwrap().unwrap_err();
    assert!(
        matches!(error, Error::Protocol(ProtocolError::ReservedOpcode(3))),
        "{error:?}"
    );
    let waited = start.elapsed();
    assert!(
        waited >= linger && waited < linger + Duration::from_millis(100),
        "{waited:?}"
    );
    drop(peer);
}

/// Masked binary frames of `size` bytes each, `count` of them, as a client sends them.
fn client_binaries(count: usize, size: usize) -> Vec<u8> {
    let mut frame = vec![0x82, 0xfe];
    frame.extend_from_slice(&(size as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend(std::iter::repeat_n(7, size));
    frame.repeat(count)
}

/// A peer that sends and never reads fills our send buffer, and reading pauses; keepalive must
/// still find it unresponsive (nothing can answer a ping it never reads) instead of the task
/// waiting for the socket forever.
#[tokio::test(start_paused = true)]
async fn a_peer_that_never_reads_is_dropped_by_keepalive_while_reading_is_paused() {
    let (server_io, mut peer) = tokio::io::duplex(1024);
    let config = Config::default()
        .ping_interval(Some(Duration::from_secs(10)))
        .pong_timeout(Duration::from_secs(5))
        .max_send_buffer(4096);
    let server = spawn_batched_echo(server_io, config);
    // Far more than the pipe and the send buffer hold; written in the background as the
    // server reads, and never read back.
    let writer = tokio::spawn(async move {
        let _ = peer.write_all(&client_binaries(200, 200)).await;
        peer
    });
    let start = tokio::time::Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(60), server)
        .await
        .expect("the server gives up on the peer")
        .unwrap();
    assert!(
        matches!(result, Err(Error::Timeout(Timeout::Keepalive))),
        "{result:?}"
    );
    assert!(
        start.elapsed() <= Duration::from_secs(16),
        "{:?}",
        start.elapsed()
    );
    writer.abort();
}

/// After the closing handshake the server lingers for the peer's end of the stream; when the
/// linger runs out it releases the transport even if the peer never read our last bytes.
#[tokio::test(start_paused = true)]
async fn a_close_echo_the_peer_never_reads_is_given_up_after_the_linger() {
    let (server_io, mut peer) = tokio::io::duplex(64);
    let linger = Duration::from_secs(3);
    let server = spawn_batched_echo(server_io, Config::default().close_linger(linger));
    // Echoes that overflow the pipe, then the Close; nothing is ever read.
    let mut input = client_binaries(2, 200);
    input.extend_from_slice(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
    peer.write_all(&input).await.unwrap();
    let start = tokio::time::Instant::now();
    let result = tokio::time::timeout(Duration::from_secs(60), server)
        .await
        .expect("the server releases the transport")
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
    assert!(
        start.elapsed() <= linger + Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    drop(peer);
}
