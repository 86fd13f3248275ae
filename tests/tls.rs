//! `wss://` through tokio-rustls over real loopback sockets, with a certificate made at test time.
#![cfg(feature = "rustls")]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use rfc6455::{CloseCode, Config, Error, Message};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use support::tokio_listener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

/// A self-signed certificate for `localhost`, and the client configuration that trusts it.
fn certificate() -> (
    CertificateDer<'static>,
    PrivateKeyDer<'static>,
    Arc<rustls::ClientConfig>,
) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()).into();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let client = rfc6455::tls::client_config_builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (cert, key, Arc::new(client))
}

/// A wss echo server for one connection; reports the SNI name the client sent.
async fn wss_echo_server(
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> (SocketAddr, oneshot::Receiver<Option<String>>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let (listener, addr) = tokio_listener().await;
    let (sni_tx, sni_rx) = oneshot::channel();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        // A client that refuses the certificate aborts the TLS handshake: nothing to serve.
        let Ok(tls) = acceptor.accept(tcp).await else {
            return;
        };
        let _ = sni_tx.send(tls.get_ref().1.server_name().map(str::to_owned));
        let mut ws = rfc6455::tokio::WebSocket::accept(tls).await.unwrap();
        while let Ok(message) = ws.recv().await {
            if message.is_text() || message.is_binary() {
                ws.send(message).await.unwrap();
            }
        }
    });
    (addr, sni_rx)
}

#[tokio::test]
async fn a_wss_round_trip_with_sni() {
    let (cert, key, client_config) = certificate();
    let (addr, sni) = wss_echo_server(cert, key).await;
    let url = format!("wss://localhost:{}/echo", addr.port());
    let (mut ws, _) = rfc6455::tls::connect_with(&url, client_config)
        .await
        .unwrap();
    assert_eq!(sni.await.unwrap().as_deref(), Some("localhost"));
    for size in [0, 125, 70_000, 1 << 20] {
        let text = "é".repeat(size / 2);
        ws.send_text(&text).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::text(text.as_str()));
    }
    ws.close(CloseCode::NORMAL, "bye").await.unwrap();
    assert!(ws.recv().await.unwrap().is_close());
    assert!(matches!(ws.recv().await, Err(Error::Closed)));
}

/// The rustls error inside an adapter error, if any.
fn rustls_error(error: &Error) -> Option<&rustls::Error> {
    match error {
        Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>(),
        _ => None,
    }
}

#[tokio::test]
async fn a_certificate_for_another_host_is_refused() {
    let (cert, key, client_config) = certificate();
    let (addr, _) = wss_echo_server(cert, key).await;
    // The certificate names localhost, not 127.0.0.1.
    let url = format!("wss://127.0.0.1:{}/", addr.port());
    let error = rfc6455::tls::connect_with(&url, client_config)
        .await
        .unwrap_err();
    assert!(
        matches!(
            rustls_error(&error),
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. }
            ))
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_default_roots_do_not_trust_a_self_signed_certificate() {
    let (cert, key, _) = certificate();
    let (addr, _) = wss_echo_server(cert, key).await;
    let url = format!("wss://localhost:{}/", addr.port());
    let error = rfc6455::tls::connect(&url).await.unwrap_err();
    assert!(
        matches!(
            rustls_error(&error),
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_connector_with_tls_config_and_timeout_reaches_wss() {
    let (cert, key, client_config) = certificate();
    let (addr, _) = wss_echo_server(cert, key).await;
    let url = format!("wss://localhost:{}/", addr.port());
    let (mut ws, _) = rfc6455::connector::Connector::new()
        .config(Config::default())
        .tls_config(client_config)
        .connect_timeout(std::time::Duration::from_secs(10))
        .connect(&url)
        .await
        .unwrap();
    assert!(matches!(
        ws.get_ref(),
        rfc6455::connector::MaybeTlsStream::Rustls(_)
    ));
    ws.send_text("over tls").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text("over tls"));
}
