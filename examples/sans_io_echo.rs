//! An echo server that drives the sans-IO core by hand over a blocking `TcpStream`: no adapter.
//! This is the loop every adapter runs; put it on epoll, io_uring or anything else the same way
//! (`examples/mio_echo_server.rs` does it for many connections on one thread).
//!
//! ```text
//! cargo run --example sans_io_echo -- 127.0.0.1:9003
//! ```
//!
//! `tests/readme_loop.rs` checks that the README's loop is this one, word for word, and runs it
//! over a real socket with echoes of 0 B to 1 MiB.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

use rfc6455::handshake::{Accept, ServerHandshake};
use rfc6455::{Config, Connection, Message, Role, Transport};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into())
        .parse()?;
    serve_one(addr)
}

/// Accepts one client on `addr` and echoes its messages until the connection ends.
#[allow(dead_code, reason = "tests/readme_loop.rs binds its own listener")]
fn serve_one(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    serve(TcpListener::bind(addr)?)
}

/// The README's loop, verbatim from `let (mut tcp, _)` to the end of the `loop`.
pub fn serve(listener: TcpListener) -> Result<(), Box<dyn std::error::Error>> {
    let (mut tcp, _) = listener.accept()?;
    let mut buf = [0u8; 16 * 1024];

    // Opening handshake: feed bytes until a whole request is in, answer it.
    let mut handshake = ServerHandshake::new();
    let request = loop {
        let n = tcp.read(&mut buf)?;
        if let Some(request) = handshake.handle_input(&buf[..n])? {
            break request;
        }
    };
    tcp.write_all(&request.accept(&Accept::default())?)?;

    // The connection: bytes in, events out; messages in, bytes out.
    let mut ws = Connection::new(Role::Server, Config::default());
    ws.handle_input(&handshake.take_leftover());
    loop {
        // 1. Events until none. On a protocol error the core has queued the Close frame that
        //    fails the connection, and transport() says to end it.
        while let Ok(Some(message)) = ws.poll_recv() {
            if let Message::Text(_) | Message::Binary(_) = message {
                ws.send(message)?; // pings and closes are answered by the core itself
            }
        }
        // 2. Everything pending, written out (vectored where a payload is queued by reference).
        ws.write_transmit(&mut tcp)?;
        // 3. What to do with the transport.
        match ws.transport() {
            Transport::Read | Transport::PauseReading => {}
            Transport::ShutdownWrite | Transport::Release => break,
        }
        match tcp.read(&mut buf)? {
            0 => ws.handle_eof(),
            n => ws.handle_input(&buf[..n]),
        }
    }
    Ok(())
}
