//! The blocking adapter over real loopback sockets: std client against std server.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{self, WebSocket};
use rfc6455::{CloseCode, CloseFrame, Config, Error, Message, ProtocolError};
use support::{listener, ws_url};

/// Sizes that cross each payload-length encoding (7-bit, 16-bit, 64-bit) and a large message.
const SIZES: [usize; 5] = [0, 125, 126, 64 * 1024, 16 << 20];

/// Starts an echo server on a free port that serves one connection per call to accept.
fn echo_server(config: Config) -> (String, thread::JoinHandle<Result<(), Error>>) {
    let (listener, addr) = listener();
    let url = ws_url(addr);
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept()?;
        let mut ws = WebSocket::accept_with(stream, config, |_| Ok(Default::default()))?;
        loop {
            match ws.recv() {
                Ok(message) if message.is_text() || message.is_binary() => ws.send(message)?,
                Ok(_) => {}
                Err(Error::Closed) => return Ok(()),
                Err(error) => return Err(error),
            }
        }
    });
    (url, handle)
}

#[test]
fn text_and_binary_of_every_length_encoding_round_trip() {
    let (url, server) = echo_server(Config::default());
    let (mut ws, response) = blocking::connect(&url).unwrap();
    assert_eq!(response.status(), 101);
    for size in SIZES {
        let text = "é".repeat(size / 2);
        ws.send_text(&text).unwrap();
        assert_eq!(ws.recv().unwrap(), Message::text(text.as_str()));
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        ws.send_binary(&data).unwrap();
        assert_eq!(ws.recv().unwrap(), Message::binary(data));
    }
    ws.close(CloseCode::NORMAL, "done").unwrap();
    let close = CloseFrame::new(CloseCode::NORMAL, "").unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Close(Some(CloseFrame {
            reason: String::new(),
            ..close
        }))
    );
    assert!(matches!(ws.recv(), Err(Error::Closed)));
    server.join().unwrap().unwrap();
}

#[test]
fn fragmented_sends_and_pings_arrive_whole() {
    let (url, server) = echo_server(Config::default());
    let (mut ws, _) = blocking::connect(&url).unwrap();
    ws.send_text_fragment("frag", false).unwrap();
    ws.send(Message::Ping("are you there".into())).unwrap();
    ws.send_text_fragment("mented", true).unwrap();
    // The pong to our ping comes first: the server answers it before the message completes.
    assert_eq!(ws.recv().unwrap(), Message::Pong("are you there".into()));
    assert_eq!(ws.recv().unwrap(), Message::text("fragmented"));
    ws.close(CloseCode::NORMAL, "").unwrap();
    while ws.recv().is_ok() {}
    server.join().unwrap().unwrap();
}

#[test]
fn a_close_from_the_server_is_seen_by_the_client_with_code_and_reason() {
    let (listener, addr) = listener();
    let url = ws_url(addr);
    let server = thread::spawn(move || {
        let mut ws = WebSocket::accept(listener.accept().unwrap().0).unwrap();
        ws.close(CloseCode::GOING_AWAY, "shutting down").unwrap();
        // The client's echo completes the handshake; then the server closes the transport.
        let echoed = ws.recv().unwrap();
        assert!(matches!(ws.recv(), Err(Error::Closed)));
        echoed
    });
    let (mut ws, _) = blocking::connect(&url).unwrap();
    let expected = CloseFrame::new(CloseCode::GOING_AWAY, "shutting down").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Close(Some(expected)));
    assert!(matches!(ws.recv(), Err(Error::Closed)));
    let echoed = server.join().unwrap();
    assert!(matches!(
        echoed,
        Message::Close(Some(CloseFrame {
            code: CloseCode::GOING_AWAY,
            ..
        }))
    ));
}

#[test]
fn a_message_over_the_limit_closes_with_1009() {
    let (url, server) = echo_server(Config::default().max_message_size(1024));
    let (mut ws, _) = blocking::connect(&url).unwrap();
    ws.send_binary(&[0; 1025]).unwrap();
    let expected = CloseFrame {
        code: CloseCode::MESSAGE_TOO_BIG,
        reason: String::new(),
    };
    assert_eq!(ws.recv().unwrap(), Message::Close(Some(expected)));
    let error = server.join().unwrap().unwrap_err();
    assert!(matches!(
        error,
        Error::Protocol(ProtocolError::FrameTooLarge {
            size: 1025,
            max: 1024
        })
    ));
}

#[test]
fn a_peer_that_drops_mid_frame_gives_an_error_promptly() {
    let (listener, addr) = listener();
    let server = thread::spawn(move || {
        let mut ws = WebSocket::accept(listener.accept().unwrap().0).unwrap();
        let started = Instant::now();
        (ws.recv(), started.elapsed())
    });
    // A raw client: a valid handshake, then half a frame, then the TCP connection goes away.
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\
          \x82\x8a\x01\x02\x03\x04abc",
    )
    .unwrap();
    thread::sleep(Duration::from_millis(50));
    drop(raw);
    let (result, elapsed) = server.join().unwrap();
    assert!(
        matches!(result, Err(Error::TransportEnded) | Err(Error::Io(_))),
        "{result:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn a_bad_handshake_is_answered_with_its_status() {
    let (listener, addr) = listener();
    let server = thread::spawn(move || WebSocket::accept(listener.accept().unwrap().0).map(|_| ()));
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    )
    .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut raw, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 426"), "{response}");
    assert!(
        response.contains("Sec-WebSocket-Version: 13\r\n"),
        "{response}"
    );
    assert!(matches!(server.join().unwrap(), Err(Error::Handshake(e)) if e.status() == 426));
}

#[test]
fn a_non_blocking_stream_surfaces_would_block_without_losing_state() {
    let (listener, addr) = listener();
    let client = thread::spawn(move || {
        let mut raw = TcpStream::connect(addr).unwrap();
        raw.write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
        // Half a masked "Hello" frame, a pause, then the rest.
        let frame = b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
        thread::sleep(Duration::from_millis(100));
        raw.write_all(&frame[..4]).unwrap();
        thread::sleep(Duration::from_millis(100));
        raw.write_all(&frame[4..]).unwrap();
        thread::sleep(Duration::from_millis(200));
    });
    let mut ws = WebSocket::accept(listener.accept().unwrap().0).unwrap();
    ws.get_mut().set_nonblocking(true).unwrap();
    let mut would_block = 0;
    let message = loop {
        match ws.recv() {
            Ok(message) => break message,
            Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                would_block += 1;
                thread::sleep(Duration::from_millis(5));
            }
            Err(error) => panic!("{error}"),
        }
    };
    assert_eq!(message, Message::text("Hello"));
    assert!(
        would_block >= 2,
        "the read blocked before and between the halves: {would_block}"
    );
    client.join().unwrap();
}

#[test]
fn a_refusal_reaches_the_blocking_client_with_its_body() {
    let (listener, addr) = listener();
    let url = ws_url(addr);
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let refuse = |_: &rfc6455::handshake::UpgradeRequest| {
            Err(rfc6455::handshake::Reject::new(401).body("bad token"))
        };
        assert!(matches!(
            WebSocket::accept_with(stream, Config::default(), refuse),
            Err(Error::Rejected(_))
        ));
    });
    match blocking::connect(&url) {
        Err(Error::ClientHandshake(
            rfc6455::handshake::ClientHandshakeError::UnexpectedStatus { status, body, .. },
        )) => {
            assert_eq!(status, 401);
            assert_eq!(&body[..], b"bad token");
        }
        other => panic!("{other:?}"),
    }
    server.join().unwrap();
}
