//! A test-only bridge that runs the Autobahn TestSuite's server cases against the HTTP/2 path:
//! the runner speaks HTTP/1.1 WebSockets to the bridge, and the bridge carries each one, byte for
//! byte, as one stream of a single HTTP/2 connection (RFC 8441's extended CONNECT) to an echo
//! server that accepts it with `rfc6455::hyper::upgrade`, so every frame the runner sends is read
//! and answered by the server's `Connection` over an HTTP/2 stream.
//!
//! ```sh
//! cargo build --release --features tokio,deflate,http2 --example h2_autobahn_bridge
//! autobahn/run --no-build "h2_bridge=server:target/release/examples/h2_autobahn_bridge"
//! ```
//!
//! The bridge answers the runner's handshake itself, with what the HTTP/2 server answered: the
//! subprotocol and the `Sec-WebSocket-Extensions` (the runner's permessage-deflate offers are
//! forwarded unchanged, so the server negotiates them). It never parses a frame.

use std::convert::Infallible;
use std::sync::Arc;

use futures_util::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rfc6455::Config;
use rfc6455::handshake::{Accept, ClientRequest, ServerHandshake, UpgradeRequest};
use rfc6455::http2::Http2Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let server = start_http2_echo_server().await?;
    let tcp = TcpStream::connect(server).await?;
    // Window updates are small frames that must not wait for Nagle's algorithm.
    tcp.set_nodelay(true)?;
    let client = Http2Client::handshake(tcp).await?;
    if !client.supports_websockets() {
        return Err("the HTTP/2 echo server did not enable extended CONNECT".into());
    }
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "bridge on ws://{} to the HTTP/2 echo server on {server}",
        listener.local_addr()?
    );
    loop {
        let (tcp, _) = listener.accept().await?;
        let client = client.clone();
        tokio::spawn(async move {
            if let Err(error) = bridge(tcp, client, server.port()).await {
                eprintln!("bridge: {error}");
            }
        });
    }
}

/// The echo server of `examples/echo_server.rs` (the same configuration and loop) behind an
/// HTTP/2-only hyper server (prior knowledge) with extended CONNECT enabled.
async fn start_http2_echo_server() -> std::io::Result<std::net::SocketAddr> {
    let config = Config::default().max_message_size(64 << 20);
    // Compress every echo, small ones too: the Autobahn TestSuite's compression cases expect it.
    #[cfg(feature = "deflate")]
    let config = config.deflate(Some(
        rfc6455::deflate::DeflateConfig::default().threshold(0),
    ));
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let config = config.clone();
            tokio::spawn(async move {
                let _ = tcp.set_nodelay(true);
                let service = hyper::service::service_fn(move |mut request| {
                    let config = config.clone();
                    async move {
                        let (response, upgrade) =
                            match rfc6455::hyper::upgrade(&mut request, config) {
                                Ok(parts) => parts,
                                Err(refusal) => {
                                    return Ok::<_, Infallible>(refusal.into_http_response());
                                }
                            };
                        tokio::spawn(async move {
                            let Ok(mut ws) = upgrade.await else { return };
                            while let Some(Ok(message)) = ws.next().await {
                                if message.is_data() && ws.feed(message).await.is_err() {
                                    break;
                                }
                            }
                            // The loop ends once the connection is over (after an error too,
                            // everything queued is written by then); this only covers a loop
                            // that stopped on a failed `feed`.
                            let _ = ws.flush().await;
                        });
                        Ok(response)
                    }
                });
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .enable_connect_protocol()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    Ok(addr)
}

/// One runner connection: its HTTP/1.1 handshake answered with the HTTP/2 server's answer, then
/// bytes copied both ways between the socket and the stream until both ends are done.
async fn bridge(
    mut tcp: TcpStream,
    client: Http2Client,
    server_port: u16,
) -> Result<(), rfc6455::Error> {
    tcp.set_nodelay(true)?;
    let mut handshake = ServerHandshake::new();
    let mut buf = vec![0u8; 8192];
    let request = loop {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        match handshake.handle_input(&buf[..n]) {
            Ok(Some(request)) => break request,
            Ok(None) => {}
            Err(error) => {
                tcp.write_all(&error.response_bytes()).await?;
                return Err(error.into());
            }
        }
    };
    let (stream, answer) = match client
        .websocket(&forwarded(&request, server_port)?, Config::default())
        .await
    {
        Ok((ws, response)) => (ws.into_parts().0, response),
        Err(error) => {
            let refusal = rfc6455::handshake::Reject::new(502).body("the HTTP/2 server refused");
            tcp.write_all(&refusal.to_bytes()?).await?;
            return Err(error);
        }
    };
    let mut accept = Accept::new();
    if let Some(protocol) = answer.protocol() {
        accept = accept.protocol(protocol);
    }
    let extensions: Vec<&str> = answer
        .headers()
        .get_all("sec-websocket-extensions")
        .filter_map(|value| std::str::from_utf8(value).ok())
        .collect();
    if !extensions.is_empty() {
        accept = accept.extensions(extensions.join(", "));
    }
    tcp.write_all(&request.accept(&accept)?).await?;
    let mut stream = stream;
    stream.write_all(&handshake.take_leftover()).await?;
    tokio::io::copy_bidirectional(&mut tcp, &mut stream).await?;
    Ok(())
}

/// The runner's request as the bridge's request to the HTTP/2 server: the same resource,
/// subprotocols and extension offers, so the server negotiates what the runner asked for.
fn forwarded(request: &UpgradeRequest, server_port: u16) -> Result<ClientRequest, rfc6455::Error> {
    let mut forwarded =
        ClientRequest::new(&format!("ws://127.0.0.1:{server_port}{}", request.target()))?;
    for protocol in request.protocols() {
        forwarded = forwarded.protocol(protocol.clone());
    }
    let offers: Vec<&str> = request
        .headers()
        .get_all("sec-websocket-extensions")
        .filter_map(|value| std::str::from_utf8(value).ok())
        .collect();
    if !offers.is_empty() {
        forwarded = forwarded.extensions(offers.join(", "));
    }
    Ok(forwarded)
}
