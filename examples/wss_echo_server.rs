//! A `wss://` echo server: tokio-rustls terminates TLS, this crate runs the WebSocket over it.
//!
//! ```sh
//! cargo run --features rustls --example wss_echo_server -- cert.pem key.pem [127.0.0.1:9443]
//! ```
//!
//! `cert.pem` holds the certificate chain, leaf first; `key.pem` the private key (PKCS#8, PKCS#1
//! or SEC1). For a local test, `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256
//! -nodes -subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout key.pem -out cert.pem`
//! makes a pair, which a client trusts through `rfc6455::tls::connect_with`.
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(cert), Some(key)) = (args.next(), args.next()) else {
        eprintln!("usage: wss_echo_server CERT.pem KEY.pem [ADDR]");
        std::process::exit(2);
    };
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9443".into());

    let chain = CertificateDer::pem_file_iter(&cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let listener = TcpListener::bind(&addr).await?;
    println!("wss://{addr}/");
    loop {
        let (tcp, peer) = listener.accept().await?;
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            if let Err(error) = serve(acceptor, tcp).await {
                eprintln!("{peer}: {error}");
            }
        });
    }
}

async fn serve(acceptor: TlsAcceptor, tcp: tokio::net::TcpStream) -> Result<(), rfc6455::Error> {
    tcp.set_nodelay(true)?;
    let tls = acceptor.accept(tcp).await?;
    // The server side is generic over the stream: a TLS stream is accepted like a TCP one.
    let mut ws = rfc6455::tokio::WebSocket::accept(tls).await?;
    loop {
        match ws.recv().await {
            Ok(message) if message.is_text() || message.is_binary() => ws.send(message).await?,
            Ok(_) => {}
            Err(rfc6455::Error::Closed) => return Ok(()),
            Err(error) => return Err(error),
        }
    }
}
