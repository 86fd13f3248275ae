//! The README's hand-driven loop ("Driving the core from a plain `TcpStream`"), checked to be
//! `examples/sans_io_echo.rs` word for word and then run over a real socket: echoes of 0 B to
//! 1 MiB, text and binary, one at a time and pipelined, every byte compared. A loop that wrote
//! only part of the pending output and then blocked in `read` would stall here.

#[path = "../examples/sans_io_echo.rs"]
#[allow(
    dead_code,
    unreachable_pub,
    reason = "the example's own main is not run here"
)]
mod sans_io_echo;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use rfc6455::handshake::ClientRequest;
use rfc6455::{Config, Connection, Message, Role};

/// The first ```rust block after `heading` in the README.
fn readme_block(heading: &str) -> String {
    let readme = include_str!("../README.md");
    let section = &readme[readme.find(heading).expect("the README has the section")..];
    let start = section.find("```rust\n").expect("a rust block") + "```rust\n".len();
    let end = start + section[start..].find("\n```").expect("the block ends");
    section[start..end].to_string()
}

/// The example's `serve` body from its first line to the end of its `loop`, unindented.
fn example_loop() -> String {
    let example = include_str!("../examples/sans_io_echo.rs");
    let start = example
        .find("    let (mut tcp, _) = listener.accept()?;")
        .expect("serve() starts with the accept");
    let end = start
        + example[start..]
            .find("\n    Ok(())\n}")
            .expect("serve() ends");
    example[start..end]
        .lines()
        .map(|line| line.strip_prefix("    ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_readme_loop_is_the_example_word_for_word() {
    assert_eq!(
        readme_block("## Driving the core from a plain `TcpStream`"),
        example_loop()
    );
}

/// A deterministic mix of message sizes around every boundary: the three length encodings
/// (§5.2: 125/126, 65535/65536), the size from which a server queues a payload by reference
/// (16 KiB), the example's read buffer (16 KiB), and 1 MiB.
const SIZES: [usize; 16] = [
    20_000,
    0,
    1 << 20,
    125,
    16_384,
    126,
    65_535,
    1,
    300_000,
    65_536,
    16_383,
    127,
    100_000,
    (1 << 20) - 1,
    4_096,
    16_385,
];

/// Deterministic bytes for message `index` of `len` bytes; text messages stay ASCII.
fn payload(index: usize, len: usize) -> Message {
    let mut state = (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    if index % 2 == 0 {
        Message::binary(bytes)
    } else {
        Message::text(
            bytes
                .iter()
                .map(|b| char::from(b'a' + b % 26))
                .collect::<String>(),
        )
    }
}

/// A client connected to the example's loop: the socket and the connection after the handshake.
fn connect_to_the_loop() -> (TcpStream, Connection, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        sans_io_echo::serve(listener).expect("the loop ends cleanly");
    });
    let request = ClientRequest::new(&url).unwrap();
    let tcp = TcpStream::connect((request.host(), request.port())).unwrap();
    // A stall fails the test instead of hanging it.
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (ws, _) = rfc6455::blocking::WebSocket::client(tcp, &request, Config::default()).unwrap();
    let (tcp, conn) = ws.into_parts();
    (tcp, conn, server)
}

/// Reads from `tcp` into `conn` until `count` data messages arrived.
fn read_messages(tcp: &mut TcpStream, conn: &mut Connection, count: usize) -> Vec<Message> {
    let mut received = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while received.len() < count {
        while let Some(message) = conn.poll_recv().expect("valid frames from the loop") {
            received.push(message);
        }
        if received.len() == count {
            break;
        }
        let n = tcp
            .read(&mut buf)
            .expect("the echo arrives before the timeout");
        assert_ne!(
            n,
            0,
            "the loop closed with {} of {count} echoes",
            received.len()
        );
        conn.handle_input(&buf[..n]);
    }
    received
}

/// Closes from the client side and checks that the loop answers and ends.
fn close(mut tcp: TcpStream, mut conn: Connection, server: std::thread::JoinHandle<()>) {
    conn.close(rfc6455::CloseCode::NORMAL, "done").unwrap();
    conn.write_transmit(&mut tcp).unwrap();
    let replies = read_messages(&mut tcp, &mut conn, 1);
    assert!(
        matches!(&replies[..], [Message::Close(Some(frame))] if frame.code == rfc6455::CloseCode::NORMAL)
    );
    server.join().unwrap();
}

#[test]
fn the_readme_loop_echoes_every_size_one_at_a_time() {
    let (mut tcp, mut conn, server) = connect_to_the_loop();
    for (index, &len) in SIZES.iter().enumerate() {
        let message = payload(index, len);
        conn.send(message.clone()).unwrap();
        conn.write_transmit(&mut tcp).unwrap();
        let echo = read_messages(&mut tcp, &mut conn, 1);
        assert!(
            echo == [message.clone()],
            "echo of message {index} ({len} B) differs"
        );
    }
    close(tcp, conn, server);
}

#[test]
fn the_readme_loop_echoes_every_size_pipelined() {
    let (mut tcp, mut conn, server) = connect_to_the_loop();
    let messages: Vec<Message> = SIZES
        .iter()
        .enumerate()
        .map(|(index, &len)| payload(index, len))
        .collect();
    // Everything is written from a second thread while this one reads, so neither side's socket
    // buffer fills up with nobody reading: input arrives in batches that end mid-frame.
    let mut writer_tcp = tcp.try_clone().unwrap();
    let mut encoder = Connection::with_mask_seed(Role::Client, Config::default(), [9; 32]);
    let to_send = messages.clone();
    let writer = std::thread::spawn(move || {
        for message in to_send {
            encoder.send(message).unwrap();
            encoder.write_transmit(&mut writer_tcp).unwrap();
        }
    });
    let echoes = read_messages(&mut tcp, &mut conn, messages.len());
    writer.join().unwrap();
    for (index, (echo, sent)) in echoes.iter().zip(&messages).enumerate() {
        assert!(
            echo == sent,
            "echo of message {index} ({} B) differs",
            sent.len()
        );
    }
    // The encoder's frames went out on this socket; close with this connection's own state.
    tcp.flush().unwrap();
    close(tcp, conn, server);
}
