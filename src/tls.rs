//! `wss://` clients over [rustls](https://docs.rs/rustls) (feature `rustls`):
//! [RFC 6455 §3](https://www.rfc-editor.org/rfc/rfc6455#section-3) "wss" URIs, and §4.1: "If
//! /secure/ is true, the client MUST perform a TLS handshake over the connection after opening
//! the connection and before sending the handshake data [...] the client MUST use the Server
//! Name Indication extension in the TLS handshake".
//!
//! [`connect`] trusts the [webpki roots](https://docs.rs/webpki-roots) (Mozilla's CA list,
//! compiled in); [`connect_with`] takes a [`rustls::ClientConfig`] of your own, for a private CA
//! or client certificates. Both send the URL's host as SNI and refuse a certificate that is not
//! valid for it. The crypto provider is *ring*, chosen explicitly so that another crate enabling
//! aws-lc-rs in the same build cannot make the choice ambiguous.
//!
//! The server side needs nothing from this crate: accept with a `tokio_rustls::TlsAcceptor` and
//! hand the TLS stream to [`WebSocket::accept_with`](crate::tokio::WebSocket::accept_with); see
//! `examples/wss_echo_server.rs`.
//!
//! ```no_run
//! # async fn run() -> Result<(), rfc6455::Error> {
//! let (mut ws, _response) = rfc6455::tls::connect("wss://echo.example.com/").await?;
//! ws.send_text("hello").await?;
//! println!("{:?}", ws.recv().await?);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

use std::sync::Arc;

use crate::connector::{Connector, MaybeTlsStream};
use crate::handshake::UpgradeResponse;
use crate::io_error::Error;
pub use crate::tls_config::{client_config, client_config_builder};
use crate::tokio::WebSocket;

/// Connects to a `wss://` (or `ws://`) URL, trusting the webpki roots, with
/// [`Config::default`](crate::Config::default). For a timeout, headers or another
/// configuration use a [`Connector`].
pub async fn connect(url: &str) -> Result<(WebSocket<MaybeTlsStream>, UpgradeResponse), Error> {
    Connector::new().connect(url).await
}

/// Connects to a `wss://` (or `ws://`) URL with a TLS configuration of your own.
///
/// ```no_run
/// # async fn run(ca: rustls::pki_types::CertificateDer<'static>) -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
///
/// let mut roots = rustls::RootCertStore::empty();
/// roots.add(ca)?;
/// let tls = rfc6455::tls::client_config_builder()
///     .with_root_certificates(roots)
///     .with_no_client_auth();
/// let (mut ws, _) = rfc6455::tls::connect_with("wss://internal.example:8443/", Arc::new(tls)).await?;
/// ws.send_text("hello").await?;
/// # Ok(()) }
/// ```
pub async fn connect_with(
    url: &str,
    config: Arc<rustls::ClientConfig>,
) -> Result<(WebSocket<MaybeTlsStream>, UpgradeResponse), Error> {
    Connector::new().tls_config(config).connect(url).await
}
