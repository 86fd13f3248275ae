//! The rustls client configuration of `wss://` connections (feature `rustls`):
//! [RFC 6455 §4.1](https://www.rfc-editor.org/rfc/rfc6455#section-4.1) requires a TLS handshake
//! before the opening handshake when /secure/ is true. The
//! [`Connector`](crate::connector::Connector) performs that TLS handshake with it;
//! [`tls`](crate::tls) re-exports these helpers for applications that build their own.
#![forbid(unsafe_code)]

use std::sync::{Arc, OnceLock};

/// The default client configuration: the webpki roots, the *ring* provider, TLS 1.2 and 1.3, no
/// ALPN. Built once and shared.
///
/// ```
/// let config = rfc6455::tls::client_config();
/// assert!(config.alpn_protocols.is_empty());
/// ```
pub fn client_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    Arc::clone(CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Arc::new(
            client_config_builder()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    }))
}

/// A [`rustls::ClientConfig`] builder with the *ring* provider and the safe default protocol
/// versions, ready for your roots: the starting point for
/// [`tls::connect_with`](crate::tls::connect_with).
///
/// ```
/// use std::sync::Arc;
///
/// let mut roots = rustls::RootCertStore::empty();
/// // roots.add(my_ca_certificate)?;
/// let config = rfc6455::tls::client_config_builder()
///     .with_root_certificates(roots)
///     .with_no_client_auth();
/// let _shared = Arc::new(config);
/// ```
pub fn client_config_builder() -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier>
{
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        // Only fails for a provider without a cipher suite for the versions; ring has them all.
        .unwrap_or_else(|_| unreachable!("ring supports TLS 1.2 and 1.3"))
}
