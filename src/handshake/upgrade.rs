//! From a completed opening handshake to a [`Connection`]: the response becomes the connection's
//! first output, the bytes that followed the handshake its first input, and the extensions the
//! configuration enables are negotiated (RFC 6455 §4.2.2 step 5, §9; RFC 7692 §5).

use super::{
    Accept, BuildError, ClientHandshake, ClientHandshakeError, ClientRequest, ServerHandshake,
    UpgradeRequest, UpgradeResponse,
};
use std::sync::Arc;

use crate::config::Config;
use crate::connection::{Connection, Role};

impl ServerHandshake {
    /// Accepts `request` and returns the connection, with the `101` response already queued as its
    /// first output (see [`Connection::poll_transmit`]) and any bytes that followed the request
    /// as its first input.
    ///
    /// Extensions enabled in `config` (permessage-deflate) are negotiated against the client's
    /// offers, unless `accept` already sets `Sec-WebSocket-Extensions`.
    ///
    /// # Example
    ///
    /// ```
    /// use rfc6455::handshake::{Accept, ServerHandshake};
    /// use rfc6455::Config;
    ///
    /// let mut handshake = ServerHandshake::new();
    /// let request = handshake
    ///     .handle_input(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    ///                Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n\
    ///                \x89\x80\x00\x00\x00\x00")?
    ///     .expect("a whole request");
    /// let mut conn = handshake.accept(&request, Accept::default(), Config::default())?;
    /// assert!(conn.take_transmit().starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    /// // The ping that came with the request is there too.
    /// assert!(matches!(conn.poll_recv()?, Some(rfc6455::Message::Ping(_))));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn accept(
        &mut self,
        request: &UpgradeRequest,
        accept: Accept,
        config: impl Into<Arc<Config>>,
    ) -> Result<Connection, BuildError> {
        let config = config.into();
        let (accept, negotiated) = negotiate(request, accept, &config);
        let response = request.accept(&accept)?;
        let mut conn = Connection::new(Role::Server, config);
        conn.queue_raw(&response);
        conn.handle_input(&self.take_leftover());
        Ok(negotiated.apply(conn))
    }
}

/// The extensions a server agreed to, to be switched on in its connection.
#[derive(Debug, Default)]
pub(crate) struct Negotiated {
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::DeflateParams>,
}

impl Negotiated {
    /// Switches the agreed extensions on in `conn`.
    pub(crate) fn apply(self, conn: Connection) -> Connection {
        #[cfg(feature = "deflate")]
        if let Some(params) = self.deflate {
            return conn.with_deflate(params);
        }
        conn
    }
}

/// Server side: negotiates the extensions `config` enables against the client's offers, unless
/// `accept` already sets `Sec-WebSocket-Extensions`, and returns the `accept` to answer with.
pub(crate) fn negotiate(
    request: &UpgradeRequest,
    accept: Accept,
    config: &Config,
) -> (Accept, Negotiated) {
    #[cfg(feature = "deflate")]
    if let Some(deflate) = &config.deflate {
        if accept.extensions_value().is_none() {
            if let Some(params) = super::deflate::negotiate(request.extensions(), deflate) {
                let accept = accept.extensions(params.response());
                return (
                    accept,
                    Negotiated {
                        deflate: Some(params),
                    },
                );
            }
        }
    }
    let _ = (request, config);
    (accept, Negotiated::default())
}

impl ClientHandshake {
    /// Turns a validated `response` into the connection, with any bytes that followed the
    /// response as its first input, checking the parameters of the extensions it accepted.
    pub fn connect(
        &mut self,
        response: &UpgradeResponse,
        config: impl Into<Arc<Config>>,
    ) -> Result<Connection, ClientHandshakeError> {
        let config = config.into();
        #[cfg(feature = "deflate")]
        let deflate = match &config.deflate {
            Some(deflate) => super::deflate::accept_response(response.extensions(), deflate)
                .map_err(ClientHandshakeError::Deflate)?,
            None => None,
        };
        #[cfg(not(feature = "deflate"))]
        let _ = response;
        let mut conn = Connection::new(Role::Client, config);
        conn.handle_input(&self.take_leftover());
        #[cfg(feature = "deflate")]
        if let Some(params) = deflate {
            conn = conn.with_deflate(params);
        }
        Ok(conn)
    }
}

/// The request with the `Sec-WebSocket-Extensions` offer for what `config` enables
/// (permessage-deflate); unchanged when nothing is enabled.
pub fn offer_extensions(request: &ClientRequest, config: &Config) -> ClientRequest {
    #[cfg(feature = "deflate")]
    if let Some(deflate) = &config.deflate {
        return request.clone().extensions(deflate.offer());
    }
    let _ = config;
    request.clone()
}
