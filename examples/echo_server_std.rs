//! Echo server on blocking sockets, one thread per connection.
//!
//! ```text
//! cargo run --release --example echo_server_std -- 127.0.0.1:9002
//! ```

use std::net::{TcpListener, TcpStream};

use rfc6455::blocking::WebSocket;
use rfc6455::{Config, Error};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr)?;
    println!("echo server listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || match serve(stream) {
            Ok(()) | Err(Error::Closed) => {}
            Err(error) => eprintln!("connection ended: {error}"),
        });
    }
    Ok(())
}

fn serve(stream: TcpStream) -> Result<(), Error> {
    stream.set_nodelay(true)?;
    let config = Config::default().max_message_size(64 << 20);
    // Compress every echo, small ones too: the Autobahn TestSuite's compression cases expect it.
    #[cfg(feature = "deflate")]
    let config = config.deflate(Some(
        rfc6455::deflate::DeflateConfig::default().threshold(0),
    ));
    let mut ws = WebSocket::accept_with(stream, config, |_| Ok(Default::default()))?;
    loop {
        let message = ws.recv()?;
        if message.is_text() || message.is_binary() {
            ws.feed(message)?; // batched: one write per burst of input
        }
    }
}
