//! Conversions with the [`http`] crate's types, for servers and clients whose HTTP layer (hyper,
//! axum…) has already parsed the head.
//!
//! A message from the `http` crate is written back out as an HTTP/1.1 head and validated by the
//! same code as bytes from the wire, so both paths enforce exactly the same rules.

use bytes::Bytes;

use super::{
    Accept, BuildError, ClientHandshake, ClientHandshakeError, HandshakeError, UpgradeRequest,
    UpgradeResponse,
};

impl UpgradeRequest {
    /// Validates a handshake request parsed by the `http` crate (RFC 6455 §4.2.1).
    ///
    /// The request must be HTTP/1.1: a WebSocket over HTTP/2 is a different handshake (RFC 8441).
    /// The target is the URI's path and query, so an absolute-form URI is accepted. The head is
    /// not subject to a size limit (it is already in memory) but at most
    /// [`MAX_HEADERS`](super::MAX_HEADERS) fields are accepted.
    ///
    /// ```
    /// use rfc6455::handshake::{Accept, UpgradeRequest};
    ///
    /// let http_request = http::Request::get("/chat")
    ///     .header("Host", "server.example.com")
    ///     .header("Upgrade", "websocket")
    ///     .header("Connection", "Upgrade")
    ///     .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .header("Sec-WebSocket-Version", "13")
    ///     .body(())?;
    /// let request = UpgradeRequest::from_http(&http_request)?;
    /// let response = request.accept_http(&Accept::new())?;
    /// assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
    /// assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_http<B>(request: &http::Request<B>) -> Result<Self, HandshakeError> {
        match request.version() {
            http::Version::HTTP_11 => {}
            _ => return Err(HandshakeError::UnsupportedHttpVersion),
        }
        // Rebuilt from path and query: for `http://host?q` the http crate's `path_and_query()`
        // is `?q`, without the `/` that `path()` supplies (found by the handshake fuzz target).
        let uri = request.uri();
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(request.method().as_str().as_bytes());
        head.push(b' ');
        head.extend_from_slice(uri.path().as_bytes());
        if let Some(query) = uri.query() {
            head.push(b'?');
            head.extend_from_slice(query.as_bytes());
        }
        head.extend_from_slice(b" HTTP/1.1\r\n");
        write_fields(&mut head, request.headers());
        UpgradeRequest::parse(Bytes::from(head))
    }

    /// The response that accepts this request, as an `http` response: `101 Switching Protocols`
    /// for an HTTP/1.1 upgrade, `200` for an HTTP/2 extended CONNECT (RFC 8441 §5, with no
    /// `Upgrade`, `Connection` or `Sec-WebSocket-Accept`); see [`accept`](Self::accept) for the
    /// rules.
    pub fn accept_http(&self, accept: &Accept) -> Result<http::Response<()>, BuildError> {
        let mut response = http::Response::new(());
        if self.is_extended_connect() {
            *response.version_mut() = http::Version::HTTP_2;
        } else {
            *response.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
        }
        for (name, value) in self.accept_fields(accept)? {
            let (name, value) = http_field(name, &value)?;
            response.headers_mut().append(name, value);
        }
        Ok(response)
    }
}

impl ClientHandshake {
    /// The handshake request as an `http` request, for an HTTP client that writes it itself.
    ///
    /// The URI is the normalised `ws://` or `wss://` URL; the header fields are those of
    /// [`request_bytes`](Self::request_bytes), `Host` included.
    ///
    /// ```
    /// use rfc6455::handshake::{ClientHandshake, ClientRequest};
    ///
    /// let client = ClientHandshake::new(&ClientRequest::new("ws://example.com:8080/chat")?)?;
    /// let request = client.http_request()?;
    /// assert_eq!(request.uri(), "ws://example.com:8080/chat");
    /// assert_eq!(request.headers()["host"], "example.com:8080");
    /// assert_eq!(request.headers()["sec-websocket-key"], client.key());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn http_request(&self) -> Result<http::Request<()>, http::Error> {
        let (url, fields) = self.parts();
        let mut builder = http::Request::get(url).version(http::Version::HTTP_11);
        for (name, value) in fields {
            builder = builder.header(name.as_str(), value.as_str());
        }
        builder.body(())
    }

    /// Validates a response parsed by the `http` crate against this handshake (RFC 6455 §4.1).
    ///
    /// The same rules as [`handle_input`](Self::handle_input) apply, including the limits on the head. It
    /// does not change the handshake's state.
    pub fn validate_http<B>(
        &self,
        response: &http::Response<B>,
    ) -> Result<UpgradeResponse, ClientHandshakeError> {
        match response.version() {
            http::Version::HTTP_11 => {}
            _ => return Err(ClientHandshakeError::UnsupportedHttpVersion),
        }
        self.validate(self.response_head(response)?)
    }

    /// A response parsed by the `http` crate (either version) as the HTTP/1.1 head the
    /// validation reads, within the limit on the head.
    pub(super) fn response_head<B>(
        &self,
        response: &http::Response<B>,
    ) -> Result<Bytes, ClientHandshakeError> {
        let mut head = Vec::with_capacity(256);
        head.extend_from_slice(b"HTTP/1.1 ");
        head.extend_from_slice(response.status().as_str().as_bytes());
        // The reason phrase is ignored by the validation; any will do.
        head.extend_from_slice(b" -\r\n");
        write_fields(&mut head, response.headers());
        if head.len() > self.max_header_bytes() {
            return Err(ClientHandshakeError::HeadTooLarge {
                limit: self.max_header_bytes(),
            });
        }
        Ok(Bytes::from(head))
    }
}

/// Writes `headers` as header lines, then the empty line that ends a head.
///
/// `HeaderValue` refuses CR, LF and NUL on construction, but its unchecked constructors do not;
/// such a value produces a head the parser then refuses, never a smuggled field.
pub(super) fn write_fields(head: &mut Vec<u8>, headers: &http::HeaderMap) {
    for (name, value) in headers {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
}

/// Converts a checked field to the `http` crate's types.
fn http_field(
    name: &str,
    value: &str,
) -> Result<(http::HeaderName, http::HeaderValue), BuildError> {
    let name = http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| BuildError::InvalidHeaderName(name.to_owned()))?;
    let value = http::HeaderValue::from_str(value)
        .map_err(|_| BuildError::InvalidHeaderValue(name.as_str().to_owned()))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::{ClientRequest, ServerHandshake};

    fn rfc_request() -> http::request::Builder {
        http::Request::get("/chat?x=1")
            .header("Host", "server.example.com")
            .header("Upgrade", "websocket")
            .header("Connection", "keep-alive, Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Origin", "http://example.com")
            .header("Sec-WebSocket-Protocol", "chat, superchat")
            .header("Sec-WebSocket-Version", "13")
    }

    #[test]
    fn request_from_http_matches_request_from_bytes() {
        let request = UpgradeRequest::from_http(&rfc_request().body(()).unwrap()).unwrap();
        assert_eq!(request.path(), "/chat");
        assert_eq!(request.query(), Some("x=1"));
        assert_eq!(request.host(), "server.example.com");
        assert_eq!(request.origin(), Some("http://example.com"));
        assert_eq!(request.protocols(), ["chat", "superchat"]);
        assert_eq!(
            request.headers().get("connection"),
            Some(&b"keep-alive, Upgrade"[..])
        );
    }

    #[test]
    fn request_from_http_absolute_form() {
        let request = rfc_request()
            .uri("http://server.example.com/chat")
            .body(())
            .unwrap();
        assert_eq!(
            UpgradeRequest::from_http(&request).unwrap().target(),
            "/chat"
        );
    }

    #[test]
    fn absolute_form_with_an_empty_path_and_a_query() {
        // Regression from fuzz/regressions/handshake_request-from-http-absolute-form-empty-path.
        let request = http::Request::get("http://example.com?room=1")
            .header("Host", "example.com")
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Version", "13")
            .body(())
            .unwrap();
        let parsed = UpgradeRequest::from_http(&request).unwrap();
        assert_eq!((parsed.path(), parsed.query()), ("/", Some("room=1")));
    }

    #[test]
    fn request_from_http_errors() {
        let post = rfc_request().method("POST").body(()).unwrap();
        assert_eq!(
            UpgradeRequest::from_http(&post),
            Err(HandshakeError::MethodNotAllowed)
        );
        let http10 = rfc_request()
            .version(http::Version::HTTP_10)
            .body(())
            .unwrap();
        assert_eq!(
            UpgradeRequest::from_http(&http10),
            Err(HandshakeError::UnsupportedHttpVersion)
        );
        let http2 = rfc_request()
            .version(http::Version::HTTP_2)
            .body(())
            .unwrap();
        assert_eq!(
            UpgradeRequest::from_http(&http2),
            Err(HandshakeError::UnsupportedHttpVersion)
        );
        let v8 = rfc_request()
            .header("Sec-WebSocket-Version", "8")
            .body(())
            .unwrap();
        assert_eq!(
            UpgradeRequest::from_http(&v8),
            Err(HandshakeError::UnsupportedVersion)
        );
        let mut many = rfc_request();
        for i in 0..crate::handshake::MAX_HEADERS {
            many = many.header(format!("x-{i}"), "v");
        }
        assert_eq!(
            UpgradeRequest::from_http(&many.body(()).unwrap()),
            Err(HandshakeError::TooManyHeaders)
        );
    }

    #[test]
    fn accept_http_has_the_same_fields_as_accept() {
        let request = UpgradeRequest::from_http(&rfc_request().body(()).unwrap()).unwrap();
        let accept = Accept::new().protocol("chat").header("Set-Cookie", "a=b");
        let response = request.accept_http(&accept).unwrap();
        assert_eq!(response.status(), 101);
        let fields: Vec<(&str, &str)> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            fields,
            [
                ("upgrade", "websocket"),
                ("connection", "Upgrade"),
                ("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                ("sec-websocket-protocol", "chat"),
                ("set-cookie", "a=b"),
            ]
        );
        assert_eq!(
            request.accept_http(&Accept::new().protocol("nope")).err(),
            Some(BuildError::UnofferedProtocol("nope".into()))
        );
    }

    #[test]
    fn client_round_trip_through_http_types() {
        let request = ClientRequest::new("wss://[::1]/a?b")
            .unwrap()
            .protocol("chat")
            .key(*b"the sample nonce");
        let client = ClientHandshake::new(&request).unwrap();
        let http_request = client.http_request().unwrap();
        assert_eq!(http_request.uri(), "wss://[::1]/a?b");
        assert_eq!(http_request.headers()["host"], "[::1]");
        assert_eq!(
            http_request.headers()["sec-websocket-key"],
            "dGhlIHNhbXBsZSBub25jZQ=="
        );

        let server_request = UpgradeRequest::from_http(&http_request).unwrap();
        let response = server_request
            .accept_http(&Accept::new().protocol("chat"))
            .unwrap();
        let accepted = client.validate_http(&response).unwrap();
        assert_eq!(accepted.protocol(), Some("chat"));

        // The http and byte paths agree.
        let mut server = ServerHandshake::new();
        let from_bytes = server
            .handle_input(client.request_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(from_bytes.key(), server_request.key());
        assert_eq!(from_bytes.target(), server_request.target());
    }

    #[test]
    fn validate_http_errors() {
        let client =
            ClientHandshake::new(&ClientRequest::new("ws://a/").unwrap().key([0; 16])).unwrap();
        let refused = http::Response::builder()
            .status(403)
            .header("X-Reason", "no")
            .body(())
            .unwrap();
        match client.validate_http(&refused) {
            Err(ClientHandshakeError::UnexpectedStatus {
                status, headers, ..
            }) => {
                assert_eq!(status, 403);
                assert_eq!(headers.get("x-reason"), Some(&b"no"[..]));
            }
            other => panic!("{other:?}"),
        }
        let wrong_accept = http::Response::builder()
            .status(101)
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            .body(())
            .unwrap();
        assert_eq!(
            client.validate_http(&wrong_accept),
            Err(ClientHandshakeError::InvalidAccept)
        );
        let huge = http::Response::builder()
            .status(101)
            .header("X-Big", "a".repeat(10_000))
            .body(())
            .unwrap();
        assert_eq!(
            client.validate_http(&huge),
            Err(ClientHandshakeError::HeadTooLarge { limit: 8192 })
        );
    }
}
