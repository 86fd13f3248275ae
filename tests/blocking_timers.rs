//! The blocking adapter's timers (`recv_timed`) over real loopback sockets, with short intervals
//! so that real time can be used.
#![cfg(feature = "std")]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use rfc6455::Timeout;
use rfc6455::blocking::WebSocket;
use rfc6455::{Config, Error, Message};
use support::{listener, ws_url};

const HANDSHAKE: &[u8] =
    b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn a_silent_peer_is_pinged_then_dropped() {
    let (listener, addr) = listener();
    let server = std::thread::spawn(move || {
        let config = Config::default()
            .ping_interval(Some(Duration::from_millis(200)))
            .pong_timeout(Duration::from_millis(300));
        let tcp = listener.accept().unwrap().0;
        let mut ws = WebSocket::accept_with(tcp, config, |_| Ok(Default::default())).unwrap();
        let start = Instant::now();
        let result = ws.recv_timed();
        (start.elapsed(), result)
    });
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.write_all(HANDSHAKE).unwrap();
    let (elapsed, result) = server.join().unwrap();
    assert!(
        matches!(result, Err(Error::Timeout(Timeout::Keepalive))),
        "{result:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
    // A Ping, then a Close 1011 that says why, then the end.
    let mut received = Vec::new();
    raw.read_to_end(&mut received).unwrap();
    let frames = &received[received.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    assert_eq!(
        frames,
        b"\x89\x08\x00\x00\x00\x00\x00\x00\x00\x01\x88\x13\x03\xf3keepalive timeout"
    );
}

#[test]
fn a_peer_that_answers_pings_stays_connected() {
    let (listener, addr) = listener();
    let url = ws_url(addr);
    let server = std::thread::spawn(move || {
        let config = Config::default()
            .ping_interval(Some(Duration::from_millis(100)))
            .pong_timeout(Duration::from_millis(300));
        let tcp = listener.accept().unwrap().0;
        let mut ws = WebSocket::accept_with(tcp, config, |_| Ok(Default::default())).unwrap();
        // Only the client's text after a second ends this read: pongs in between are events
        // too, and the connection must survive the pings.
        loop {
            match ws.recv_timed().unwrap() {
                Message::Text(text) => return text.to_string(),
                _ => continue,
            }
        }
    });
    let (mut ws, _) = rfc6455::blocking::connect(&url).unwrap();
    assert_eq!(
        ws.connection().config().ping_interval,
        Some(Duration::from_secs(20))
    );
    // The client answers pings as it reads (auto_pong), for about a second.
    let until = Instant::now() + Duration::from_secs(1);
    ws.get_mut()
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut pings = 0;
    while Instant::now() < until {
        match ws.recv() {
            Ok(Message::Ping(_)) => pings += 1,
            Ok(other) => panic!("{other:?}"),
            Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(pings >= 5, "{pings}");
    ws.send_text("still here").unwrap();
    assert_eq!(server.join().unwrap(), "still here");
}

#[test]
fn blocking_accept_defaults_to_keepalive() {
    let (listener, addr) = listener();
    let server = std::thread::spawn(move || {
        let ws = WebSocket::accept(listener.accept().unwrap().0).unwrap();
        ws.connection().config().ping_interval
    });
    let mut raw = TcpStream::connect(addr).unwrap();
    raw.write_all(HANDSHAKE).unwrap();
    assert_eq!(server.join().unwrap(), Some(Duration::from_secs(20)));
}
