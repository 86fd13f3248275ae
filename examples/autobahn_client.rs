//! Autobahn TestSuite client on tokio: runs every case a fuzzing server offers, echoing each
//! message, then asks the server to write its report.
//!
//! ```text
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9001
//! ```

use futures_util::StreamExt;
use rfc6455::Config;
use rfc6455::handshake::ClientRequest;
use rfc6455::tokio::WebSocket;
use tokio::net::TcpStream;

const AGENT: &str = "rfc6455-tokio";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001".into());
    let count = case_count(&base).await?;
    println!("{count} cases");
    for case in 1..=count {
        if let Err(error) = run_case(&format!("{base}/runCase?case={case}&agent={AGENT}")).await {
            println!("case {case}: {error}");
        }
    }
    let mut ws = connect(&format!("{base}/updateReports?agent={AGENT}")).await?;
    ws.close(rfc6455::CloseCode::NORMAL, "").await?;
    while ws.next().await.is_some() {}
    Ok(())
}

async fn connect(url: &str) -> Result<WebSocket<TcpStream>, rfc6455::Error> {
    let request = ClientRequest::new(url)?;
    let stream = TcpStream::connect((request.host(), request.port())).await?;
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
    Ok(WebSocket::client(stream, &request, config).await?.0)
}

async fn case_count(base: &str) -> Result<u32, Box<dyn std::error::Error>> {
    let mut ws = connect(&format!("{base}/getCaseCount")).await?;
    let mut count = None;
    while let Some(message) = ws.next().await {
        if let rfc6455::Message::Text(text) = message? {
            count = Some(text.as_str().trim().parse()?);
        }
    }
    count.ok_or_else(|| "no case count received".into())
}

async fn run_case(url: &str) -> Result<(), rfc6455::Error> {
    let mut ws = connect(url).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.feed(message).await?;
        }
    }
    Ok(())
}
