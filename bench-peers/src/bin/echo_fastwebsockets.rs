//! Echo server on fastwebsockets, written the way its examples teach: `read_frame`, then
//! `write_frame` of every text and binary frame, one socket write per message.
//!
//! ```text
//! cargo run --release --bin echo_fastwebsockets -- 127.0.0.1:9001
//! ```
//!
//! The loop, the `FragmentCollector` and the `unconstrained` task of fastwebsockets'
//! `examples/echo_server.rs`, with auto-close and auto-pong on (their defaults). The opening
//! handshake is the hand-written one of this package's library, answered on the bare
//! `TcpStream` and followed by `WebSocket::after_handshake`, rather than the example's hyper
//! server and upgrade: the comparison is about the WebSocket engine, and hyper's upgraded
//! stream would add a boxed I/O layer. tokio `current_thread` runtime, `TCP_NODELAY`,
//! 64 MiB message limit.

use std::error::Error;

use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
use tokio::net::TcpStream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    rfc6455_bench_peers::run_server("echo_fastwebsockets", true, serve).await
}

async fn serve(mut stream: TcpStream) -> Result<(), Box<dyn Error>> {
    if !rfc6455_bench_peers::accept(&mut stream).await?.is_empty() {
        return Err("frames sent before the handshake response are not supported".into());
    }
    let mut ws = WebSocket::after_handshake(stream, Role::Server);
    ws.set_auto_close(true);
    ws.set_auto_pong(true);
    ws.set_max_message_size(64 << 20);
    let mut ws = FragmentCollector::new(ws);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
    Ok(())
}
