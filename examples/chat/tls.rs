//! `--tls CERT KEY` (features `rustls` and `http2`): the chat over HTTPS, with HTTP/2 offered first
//! by ALPN and extended CONNECT enabled, so that a browser loads the page over HTTP/2 and opens
//! its WebSocket as one more stream of that connection (RFC 8441) instead of a connection of its
//! own. HTTP/1.1 clients get the same router.

use std::future::Future;
use std::io;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Serves `router` over TLS on `listener` until `shutdown` resolves. `cert` holds the PEM
/// certificate chain, leaf first; `key` the PEM private key.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    cert: &str,
    key: &str,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| io::Error::other(format!("{cert}: {error}")))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|error| io::Error::other(format!("{key}: {error}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(io::Error::other)?;
    // h2 first: browsers then speak HTTP/2, and open their WebSockets on the same connection.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let service = TowerToHyperService::new(router);
    tokio::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                // Out of file descriptors, say: the listener itself is fine; try the next one.
                Err(error) => {
                    eprintln!("chat: accept failed: {error}");
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let acceptor = acceptor.clone();
        let service = service.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let mut builder = auto::Builder::new(TokioExecutor::new());
            // RFC 8441 §3: without SETTINGS_ENABLE_CONNECT_PROTOCOL no client may open a
            // WebSocket over HTTP/2.
            builder.http2().enable_connect_protocol();
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await;
        });
    }
}
