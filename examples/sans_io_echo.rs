//! An echo server that drives the sans-IO core by hand over a blocking `TcpStream`: no adapter.
//! This is the loop every adapter runs; put it on epoll, io_uring or anything else the same way.
//!
//! ```text
//! cargo run --example sans_io_echo -- 127.0.0.1:9003
//! ```

use std::io::{Read, Write};
use std::net::TcpListener;

use rfc6455::handshake::{Accept, ServerHandshake};
use rfc6455::{Config, Connection, Message, Role};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let (mut tcp, _) = TcpListener::bind(addr)?.accept()?;
    let mut buf = [0u8; 16 * 1024];

    // Opening handshake: feed bytes until a whole request is in, answer it.
    let mut handshake = ServerHandshake::new();
    let request = loop {
        let n = tcp.read(&mut buf)?;
        if let Some(request) = handshake.receive(&buf[..n])? {
            break request;
        }
    };
    tcp.write_all(&request.accept(&Accept::default())?)?;

    // The connection: bytes in, events out; messages in, bytes out.
    let mut ws = Connection::new(Role::Server, Config::default());
    ws.receive(&handshake.take_leftover());
    loop {
        // On a protocol error the loop stops, the core has queued the Close frame that fails the
        // connection, and should_close_transport() is true.
        while let Ok(Some(message)) = ws.next_event() {
            if let Message::Text(_) | Message::Binary(_) = message {
                ws.send(message)?; // pings and closes are answered by the core itself
            }
        }
        tcp.write_all(ws.bytes_to_send())?;
        ws.advance_sent(ws.bytes_to_send().len());
        if ws.should_close_transport() {
            break;
        }
        match tcp.read(&mut buf)? {
            0 => ws.receive_eof(),
            n => ws.receive(&buf[..n]),
        }
    }
    Ok(())
}
