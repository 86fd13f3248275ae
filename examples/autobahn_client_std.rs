//! Autobahn TestSuite client on blocking sockets: runs every case a fuzzing server offers,
//! echoing each message, then asks the server to write its report.
//!
//! ```text
//! cargo run --release --example autobahn_client_std -- ws://127.0.0.1:9001
//! ```

use std::net::TcpStream;

use rfc6455::blocking::WebSocket;
use rfc6455::handshake::ClientRequest;
use rfc6455::{CloseCode, Config, Error, Message};

const AGENT: &str = "rfc6455-std";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let count = case_count(&base)?;
    println!("{count} cases");
    for case in 1..=count {
        match run_case(&format!("{base}/runCase?case={case}&agent={AGENT}")) {
            Ok(()) | Err(Error::Closed) => {}
            Err(error) => println!("case {case}: {error}"),
        }
    }
    let mut ws = connect(&format!("{base}/updateReports?agent={AGENT}"))?;
    ws.close(CloseCode::NORMAL, "")?;
    while ws.recv().is_ok() {}
    Ok(())
}

fn connect(url: &str) -> Result<WebSocket<TcpStream>, Error> {
    let request = ClientRequest::new(url)?;
    let stream = TcpStream::connect((request.host(), request.port()))?;
    stream.set_nodelay(true)?;
    let config = Config::default().max_message_size(64 << 20);
    // Offering client_no_context_takeover lets servers that insist on it accept compression;
    // every echo is compressed, as the TestSuite's compression cases expect.
    #[cfg(feature = "deflate")]
    let config = config.deflate(Some(
        rfc6455::deflate::DeflateConfig::default()
            .client_no_context_takeover(true)
            .threshold(0),
    ));
    Ok(WebSocket::client(stream, &request, config)?.0)
}

fn case_count(base: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let mut ws = connect(&format!("{base}/getCaseCount"))?;
    let mut count = None;
    loop {
        match ws.recv() {
            Ok(Message::Text(text)) => count = Some(text.as_str().trim().parse()?),
            Ok(_) => {}
            Err(Error::Closed) => break,
            Err(error) => return Err(error.into()),
        }
    }
    count.ok_or_else(|| "no case count received".into())
}

fn run_case(url: &str) -> Result<(), Error> {
    let mut ws = connect(url)?;
    loop {
        let message = ws.recv()?;
        if message.is_text() || message.is_binary() {
            ws.feed(message)?;
        }
    }
}
