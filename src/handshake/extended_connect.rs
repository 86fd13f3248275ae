//! WebSockets over HTTP/2: the extended CONNECT of [RFC 8441] (feature `http`), for both roles.
//!
//! A WebSocket over HTTP/2 runs on one stream of a connection. The client asks with `CONNECT` and
//! the `:protocol` pseudo-header `websocket` ([§4], [§5]); `:scheme`, `:path` and `:authority`
//! name the target, and `Sec-WebSocket-Version`, `Sec-WebSocket-Protocol`,
//! `Sec-WebSocket-Extensions` and `Origin` mean what they mean in RFC 6455. The server agrees
//! with `200`; the stream's DATA frames then carry the WebSocket's bytes, the same bytes a
//! [`Connection`](crate::Connection) reads and writes over TCP. There is no `Sec-WebSocket-Key`
//! nor `Sec-WebSocket-Accept`, and no `Upgrade` or `Connection` field (HTTP/2 forbids them).
//!
//! This module stays sans-IO: it takes and gives the `http` crate's types, and the HTTP/2 stack
//! (h2, hyper) carries them. That stack owns the one thing `http` cannot express, the
//! `:protocol` pseudo-header: a server passes its value in ([`UpgradeRequest::from_extended_connect`]),
//! a client adds it to the request ([`ClientHandshake::extended_connect_request`]).
//!
//! Both roles share the HTTP/1.1 handshake's rules for subprotocols, extensions, `Origin` and
//! the authority, and its refusals: a bad request gets a [`HandshakeError`] with the status to
//! answer ([`HandshakeError::http_response`]), echoing nothing of the request.
//!
//! [RFC 8441]: https://www.rfc-editor.org/rfc/rfc8441
//! [§4]: https://www.rfc-editor.org/rfc/rfc8441#section-4
//! [§5]: https://www.rfc-editor.org/rfc/rfc8441#section-5

use bytes::Bytes;

use super::http::write_fields;
use super::server::Bootstrap;
use super::{
    ClientHandshake, ClientHandshakeError, HandshakeError, UpgradeRequest, UpgradeResponse,
};

/// The `:protocol` value that asks for a WebSocket (RFC 8441 §5: "The value of this field MUST be
/// "websocket"").
pub const WEBSOCKET_PROTOCOL: &str = "websocket";

/// Request fields the extended CONNECT does not carry: `Host` is `:authority`, the key is
/// superseded by `:protocol` (RFC 8441 §5), and `Upgrade` and `Connection` are
/// connection-specific (RFC 9113 §8.2.2).
const NOT_OVER_HTTP2: &[&str] = &["Host", "Upgrade", "Connection", "Sec-WebSocket-Key"];

impl UpgradeRequest {
    /// Validates an HTTP/2 extended CONNECT (RFC 8441 §4, §5) given as an `http` request, with
    /// the value of its `:protocol` pseudo-header, which the HTTP/2 stack keeps apart (hyper's
    /// `hyper::ext::Protocol`, h2's `h2::ext::Protocol`); `None` if the request had none.
    ///
    /// The request must be HTTP/2 with method `CONNECT`, `:protocol` `websocket`, a `:scheme` of
    /// `http` or `https`, a `:path` and an `:authority` (the URI carries all three), and
    /// `Sec-WebSocket-Version: 13`; no connection-specific field; a `Host` field, if any, must
    /// equal `:authority` (RFC 9113 §8.3.1). Subprotocols, extensions and `Origin` are checked as
    /// for HTTP/1.1. At most [`MAX_HEADERS`](super::MAX_HEADERS) fields are accepted.
    ///
    /// Answer the request with [`accept_http`](Self::accept_http) (a `200`), or with
    /// [`HandshakeError::http_response`] on error.
    ///
    /// ```
    /// use rfc6455::handshake::{Accept, HandshakeError, UpgradeRequest};
    ///
    /// // RFC 8441 §5.1's example.
    /// let connect = http::Request::connect("https://server.example.com/chat")
    ///     .version(http::Version::HTTP_2)
    ///     .header("sec-websocket-protocol", "chat, superchat")
    ///     .header("sec-websocket-version", "13")
    ///     .header("origin", "http://www.example.com")
    ///     .body(())?;
    /// let request = UpgradeRequest::from_extended_connect(&connect, Some("websocket"))?;
    /// assert!(request.is_extended_connect());
    /// assert_eq!((request.host(), request.path()), ("server.example.com", "/chat"));
    /// let response = request.accept_http(&Accept::new().protocol("chat"))?;
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.headers()["sec-websocket-protocol"], "chat");
    ///
    /// // Another :protocol is not ours to serve: 501.
    /// let error = UpgradeRequest::from_extended_connect(&connect, Some("webtransport")).unwrap_err();
    /// assert_eq!(error, HandshakeError::UnsupportedConnectProtocol);
    /// assert_eq!(error.http_response().status(), 501);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_extended_connect<B>(
        request: &http::Request<B>,
        protocol: Option<&str>,
    ) -> Result<Self, HandshakeError> {
        if request.version() != http::Version::HTTP_2 {
            return Err(HandshakeError::UnsupportedHttpVersion);
        }
        if request.method() != http::Method::CONNECT {
            return Err(HandshakeError::NotConnect);
        }
        match protocol {
            None => return Err(HandshakeError::NotExtendedConnect),
            // Upgrade tokens are compared without case, as RFC 6455 §4.2.1 does for `Upgrade`.
            Some(protocol) if !protocol.eq_ignore_ascii_case(WEBSOCKET_PROTOCOL) => {
                return Err(HandshakeError::UnsupportedConnectProtocol);
            }
            Some(_) => {}
        }
        // RFC 8441 §4: "On requests that contain the :protocol pseudo-header field, the :scheme
        // and :path pseudo-header fields of the target URI (see Section 5) MUST also be
        // included."
        let uri = request.uri();
        match uri.scheme_str() {
            Some(scheme) if scheme == "http" || scheme == "https" => {}
            _ => return Err(HandshakeError::InvalidScheme),
        }
        let authority = uri.authority().ok_or(HandshakeError::MissingHost)?;
        let path_and_query = uri.path_and_query().ok_or(HandshakeError::InvalidTarget)?;
        // RFC 9113 §8.3.1: "A server SHOULD treat a request as malformed if it contains a Host
        // header field that identifies an entity that differs from the entity in the
        // ":authority" pseudo-header field."
        let hosts = request.headers().get_all(http::header::HOST);
        if hosts.iter().any(|host| {
            !host
                .as_bytes()
                .eq_ignore_ascii_case(authority.as_str().as_bytes())
        }) {
            return Err(HandshakeError::InvalidHost);
        }

        // Written out as an HTTP/1.1 head, `:authority` as its `Host`, so that the rules both
        // handshakes share run on the same code as bytes from the wire.
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(b"CONNECT ");
        head.extend_from_slice(path_and_query.as_str().as_bytes());
        head.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        head.extend_from_slice(authority.as_str().as_bytes());
        head.extend_from_slice(b"\r\n");
        let mut fields = request.headers().clone();
        fields.remove(http::header::HOST);
        write_fields(&mut head, &fields);
        UpgradeRequest::parse_as(Bytes::from(head), Bootstrap::ExtendedConnect)
    }
}

impl HandshakeError {
    /// The refusal as an `http` response, for an HTTP layer that frames it itself (an HTTP/2
    /// stream, or hyper's HTTP/1.1): [`status`](Self::status), the headers that status needs
    /// (`Allow`, `Sec-WebSocket-Version`), and the same fixed text body as
    /// [`response_bytes`](Self::response_bytes). Nothing connection-specific, so it is valid over
    /// HTTP/2; nothing from the request.
    ///
    /// ```
    /// use rfc6455::handshake::HandshakeError;
    ///
    /// let response = HandshakeError::Http2UnsupportedVersion.http_response();
    /// assert_eq!(response.status(), 400);
    /// assert_eq!(response.headers()["sec-websocket-version"], "13");
    /// assert!(response.headers().get("connection").is_none());
    /// ```
    pub fn http_response(&self) -> http::Response<&'static str> {
        let mut response = http::Response::new(self.body());
        *response.status_mut() =
            http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::BAD_REQUEST);
        for (name, value) in self.status_headers() {
            response.headers_mut().append(
                http::HeaderName::from_static(static_lowercase(name)),
                http::HeaderValue::from_static(value),
            );
        }
        response
    }
}

/// The lowercase form `http::HeaderName::from_static` requires, for the few names refusals carry.
fn static_lowercase(name: &'static str) -> &'static str {
    match name {
        "Allow" => "allow",
        "Sec-WebSocket-Version" => "sec-websocket-version",
        "Content-Type" => "content-type",
        // Every name `status_headers` returns is listed above (a test checks it).
        _ => "x-unknown",
    }
}

impl ClientHandshake {
    /// The handshake as an HTTP/2 extended CONNECT (RFC 8441 §5), for an HTTP/2 client that
    /// sends it on a stream of its own.
    ///
    /// The method is `CONNECT`, the version HTTP/2, and the URI `http://` (for `ws://`) or
    /// `https://` (for `wss://`) with the URL's authority, path and query: the `:scheme`,
    /// `:authority` and `:path` pseudo-headers. The header fields are those of
    /// [`request_bytes`](Self::request_bytes) but `Host`, `Upgrade`, `Connection` and
    /// `Sec-WebSocket-Key`. The caller's stack adds the `:protocol` pseudo-header
    /// ([`WEBSOCKET_PROTOCOL`]), which the `http` crate cannot express: with h2,
    /// `request.extensions_mut().insert(h2::ext::Protocol::from_static("websocket"))`.
    ///
    /// ```
    /// use rfc6455::handshake::{ClientHandshake, ClientRequest};
    ///
    /// let client = ClientHandshake::new(&ClientRequest::new("wss://example.com/chat")?.protocol("chat"))?;
    /// let request = client.extended_connect_request()?;
    /// assert_eq!(request.method(), http::Method::CONNECT);
    /// assert_eq!(request.uri(), "https://example.com/chat");
    /// assert_eq!(request.headers()["sec-websocket-version"], "13");
    /// assert!(request.headers().get("sec-websocket-key").is_none());
    ///
    /// let response = http::Response::builder()
    ///     .version(http::Version::HTTP_2)
    ///     .header("sec-websocket-protocol", "chat")
    ///     .body(())?;
    /// assert_eq!(client.validate_extended_connect(&response)?.protocol(), Some("chat"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn extended_connect_request(&self) -> Result<http::Request<()>, http::Error> {
        let (_, fields) = self.parts();
        let mut builder = http::Request::builder()
            .method(http::Method::CONNECT)
            .version(http::Version::HTTP_2)
            .uri(self.extended_connect_uri());
        for (name, value) in fields {
            if NOT_OVER_HTTP2
                .iter()
                .any(|skipped| skipped.eq_ignore_ascii_case(name))
            {
                continue;
            }
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder.body(())
    }

    /// Validates the answer to [`extended_connect_request`](Self::extended_connect_request),
    /// parsed by the HTTP/2 stack (RFC 8441 §5): `200`, and the same rules as over HTTP/1.1 for
    /// the subprotocol and the extensions. Any other status is
    /// [`ClientHandshakeError::UnexpectedStatus`], with the headers. It does not change the
    /// handshake's state.
    pub fn validate_extended_connect<B>(
        &self,
        response: &http::Response<B>,
    ) -> Result<UpgradeResponse, ClientHandshakeError> {
        if response.version() != http::Version::HTTP_2 {
            return Err(ClientHandshakeError::UnsupportedHttpVersion);
        }
        self.validate_as(self.response_head(response)?, Bootstrap::ExtendedConnect)
    }
}

#[cfg(test)]
mod tests;
