//! The client's side of the opening handshake (RFC 6455 §4.1): writing the request and
//! validating the server's response.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Bytes, BytesMut};

use super::head::{HeadExchange, httparse_reason};
use super::server::Bootstrap;
use super::url::WsUrl;
use super::{
    BuildError, ClientHandshakeError, DEFAULT_MAX_HEADER_BYTES, ExtensionOffer, Headers,
    MAX_HEADERS, UrlError, VERSION, accept_key, check_extra_header, is_field_value, is_token,
    push_field, trim_ows,
};

/// What a client asks for: the URL it connects to and the optional parts of the request.
///
/// Build it, then create a [`ClientHandshake`] from it. Builder methods only record; everything
/// is checked when the handshake is created.
///
/// ```
/// use rfc6455::handshake::ClientRequest;
///
/// let request = ClientRequest::new("wss://example.com:8443/chat?room=1")?
///     .origin("https://example.com")
///     .protocol("v2.chat")
///     .protocol("v1.chat")
///     .header("Authorization", "Bearer abc");
/// assert_eq!(request.host(), "example.com");
/// assert_eq!(request.port(), 8443);
/// assert!(request.is_secure());
/// assert_eq!(request.resource(), "/chat?room=1");
/// # Ok::<(), rfc6455::handshake::UrlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequest {
    url: WsUrl,
    origin: Option<String>,
    protocols: Vec<String>,
    extensions: Option<String>,
    headers: Vec<(String, String)>,
    key: Option<[u8; 16]>,
}

impl ClientRequest {
    /// A request for a `ws://` or `wss://` URL (RFC 6455 §3).
    ///
    /// The scheme is matched ignoring case. The host is a domain name (ASCII; convert
    /// internationalised names to punycode first), an IPv4 address or a bracketed IPv6 address.
    /// The port defaults to 80 for `ws` and 443 for `wss`; the path to `/`. Fragments, user
    /// information and characters that need percent-encoding are refused.
    pub fn new(url: &str) -> Result<Self, UrlError> {
        Ok(Self {
            url: WsUrl::parse(url)?,
            origin: None,
            protocols: Vec::new(),
            extensions: None,
            headers: Vec::new(),
            key: None,
        })
    }

    /// The host to connect to; an IPv6 address comes without its brackets, ready for a socket
    /// address.
    pub fn host(&self) -> &str {
        &self.url.host
    }

    /// The port to connect to: the URL's, or the scheme's default.
    pub fn port(&self) -> u16 {
        self.url.port
    }

    /// Whether the URL is `wss://`, so the connection must be TLS.
    pub fn is_secure(&self) -> bool {
        self.url.secure
    }

    /// The resource name of the request line: path and query, at least `/`.
    pub fn resource(&self) -> &str {
        &self.url.resource
    }

    /// Sets the `Origin` header (RFC 6455 §4.1 item 8): what a browser would send for the page
    /// that opened the connection, needed by servers that check it.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Offers a subprotocol; call once per subprotocol, most preferred first. Each must be a
    /// token and offered only once (RFC 6455 §4.1 item 10).
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// Sets the `Sec-WebSocket-Extensions` offer, as written by the extension's negotiation
    /// (e.g. `permessage-deflate; client_max_window_bits`). It must parse per RFC 6455 §9.1. An
    /// empty value sends no header.
    pub fn extensions(mut self, value: impl Into<String>) -> Self {
        self.extensions = Some(value.into());
        self
    }

    /// Adds a header to the request (`Authorization`, `Cookie`, `User-Agent`…). The name must be
    /// a token, the value free of control characters (no CR or LF), and the field not one the
    /// handshake writes itself.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Uses `key` as the 16 bytes of `Sec-WebSocket-Key` instead of fresh random ones, so tests
    /// can compare exact bytes.
    ///
    /// Only for tests: RFC 6455 §4.1 requires the nonce to be "randomly selected" for each
    /// connection.
    pub fn key(mut self, key: [u8; 16]) -> Self {
        self.key = Some(key);
        self
    }
}

/// Headers the request writes itself.
const REQUEST_RESERVED: &[&str] = &[
    "Host",
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Origin",
];

/// A client's opening handshake in progress (RFC 6455 §4.1).
///
/// Write [`request_bytes`](Self::request_bytes) to the transport, then feed the server's bytes to
/// [`handle_input`](Self::handle_input) until it returns the [`UpgradeResponse`]. Bytes that followed the response
/// are WebSocket frames, kept for [`take_leftover`](Self::take_leftover). On an error the client
/// must fail the connection: close the transport.
///
/// ```
/// use rfc6455::handshake::{ClientHandshake, ClientRequest};
///
/// let request = ClientRequest::new("ws://example.com/chat")?
///     .protocol("chat")
///     .key(*b"the sample nonce");
/// let mut client = ClientHandshake::new(&request)?;
/// assert_eq!(
///     client.request_bytes(),
///     b"GET /chat HTTP/1.1\r\n\
///       Host: example.com\r\n\
///       Upgrade: websocket\r\n\
///       Connection: Upgrade\r\n\
///       Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///       Sec-WebSocket-Version: 13\r\n\
///       Sec-WebSocket-Protocol: chat\r\n\r\n"
/// );
///
/// let response = client
///     .handle_input(
///         b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///           Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
///           Sec-WebSocket-Protocol: chat\r\n\r\n\x81\x02hi",
///     )?
///     .expect("the response is complete");
/// assert_eq!(response.protocol(), Some("chat"));
/// assert_eq!(&client.take_leftover()[..], b"\x81\x02hi");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ClientHandshake {
    request: Vec<u8>,
    /// The header fields of the request, in order, for conversions that need them apart.
    #[cfg_attr(
        not(feature = "http"),
        allow(dead_code, reason = "read by the http feature")
    )]
    fields: Vec<(String, String)>,
    #[cfg_attr(
        not(feature = "http"),
        allow(dead_code, reason = "read by the http feature")
    )]
    url: WsUrl,
    key: String,
    expected_accept: String,
    protocols: Vec<String>,
    extension_names: Vec<String>,
    head: HeadExchange<ClientHandshakeError>,
}

impl ClientHandshake {
    /// Checks `request` and writes the request bytes, drawing a fresh key from the operating
    /// system's CSPRNG unless the request pins one.
    ///
    /// RFC 6455 §4.1: "The request MUST include a header field with the name
    /// |Sec-WebSocket-Key|. The value of this header field MUST be a nonce consisting of a
    /// randomly selected 16-byte value that has been base64-encoded".
    pub fn new(request: &ClientRequest) -> Result<Self, BuildError> {
        let nonce = match request.key {
            Some(key) => key,
            None => {
                let mut nonce = [0u8; 16];
                getrandom::fill(&mut nonce).map_err(|e| BuildError::Random(e.to_string()))?;
                nonce
            }
        };
        let key = BASE64.encode(nonce);

        let mut fields: Vec<(String, String)> = vec![
            ("Host".into(), request.url.host_header()),
            ("Upgrade".into(), "websocket".into()),
            ("Connection".into(), "Upgrade".into()),
            ("Sec-WebSocket-Key".into(), key.clone()),
            ("Sec-WebSocket-Version".into(), VERSION.into()),
        ];
        if let Some(origin) = &request.origin {
            if !is_field_value(origin) {
                return Err(BuildError::InvalidHeaderValue("Origin".into()));
            }
            fields.push(("Origin".into(), origin.clone()));
        }
        for (i, protocol) in request.protocols.iter().enumerate() {
            // RFC 6455 §4.1: the elements "MUST be non-empty strings with characters in the range
            // U+0021 to U+007E not including separator characters [...] and MUST all be unique
            // strings."
            let repeated = request
                .protocols
                .get(..i)
                .unwrap_or_default()
                .contains(protocol);
            if !is_token(protocol.as_bytes()) || repeated {
                return Err(BuildError::InvalidProtocol(protocol.clone()));
            }
        }
        if !request.protocols.is_empty() {
            fields.push((
                "Sec-WebSocket-Protocol".into(),
                request.protocols.join(", "),
            ));
        }
        let mut extension_names = Vec::new();
        if let Some(extensions) = request.extensions.as_deref().filter(|e| !e.is_empty()) {
            if !is_field_value(extensions) {
                return Err(BuildError::InvalidHeaderValue(
                    "Sec-WebSocket-Extensions".into(),
                ));
            }
            let offers = ExtensionOffer::parse_list(extensions.as_bytes())
                .map_err(BuildError::InvalidExtensions)?;
            extension_names = offers.into_iter().map(|offer| offer.name).collect();
            fields.push(("Sec-WebSocket-Extensions".into(), extensions.to_owned()));
        }
        for (name, value) in &request.headers {
            check_extra_header(name, value, REQUEST_RESERVED)?;
            fields.push((name.clone(), value.clone()));
        }

        let mut bytes = Vec::with_capacity(
            32 + request.url.resource.len()
                + fields
                    .iter()
                    .map(|(n, v)| n.len() + v.len() + 4)
                    .sum::<usize>(),
        );
        // RFC 6455 §4.1: "The method of the request MUST be GET, and the HTTP version MUST be at
        // least 1.1."
        bytes.extend_from_slice(b"GET ");
        bytes.extend_from_slice(request.url.resource.as_bytes());
        bytes.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in &fields {
            push_field(&mut bytes, name, value);
        }
        bytes.extend_from_slice(b"\r\n");

        Ok(Self {
            request: bytes,
            fields,
            url: request.url.clone(),
            expected_accept: accept_key(key.as_bytes()),
            key,
            protocols: request.protocols.clone(),
            extension_names,
            head: HeadExchange::new(DEFAULT_MAX_HEADER_BYTES),
        })
    }

    /// Sets the largest response head accepted, in bytes, status line and empty line included
    /// (default [`DEFAULT_MAX_HEADER_BYTES`](super::DEFAULT_MAX_HEADER_BYTES), 8 KiB).
    pub fn with_max_header_bytes(mut self, limit: usize) -> Self {
        self.head.reader().set_limit(limit);
        self
    }

    /// The exact request to write to the transport.
    pub fn request_bytes(&self) -> &[u8] {
        &self.request
    }

    /// The `Sec-WebSocket-Key` sent, base64-encoded.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Adds bytes received from the server.
    ///
    /// Returns `Ok(None)` while the response head is incomplete, `Ok(Some(response))` once it is
    /// complete and valid, and an error if the server refused or answered wrongly; the error is
    /// returned again by every later call. After the response has been returned, further bytes
    /// are appended to the leftover and `Ok(None)` is returned.
    pub fn handle_input(
        &mut self,
        data: &[u8],
    ) -> Result<Option<UpgradeResponse>, ClientHandshakeError> {
        let head = match self
            .head
            .push(data, |limit| ClientHandshakeError::HeadTooLarge { limit })?
        {
            Some(head) => head,
            None => return Ok(None),
        };
        let mut verdict = self.validate(head);
        if let Err(refusal @ ClientHandshakeError::UnexpectedStatus { .. }) = &mut verdict {
            refusal.extend_refusal_body(self.head.reader().leftover());
        }
        self.head.settle(verdict)
    }

    /// The bytes received after the response head: the start of the WebSocket stream, or of the
    /// body of a refusal. Leaves none behind.
    pub fn take_leftover(&mut self) -> BytesMut {
        self.head.reader().take_leftover()
    }

    /// The limit on the response head in force.
    #[cfg_attr(
        not(feature = "http"),
        allow(dead_code, reason = "read by the http feature")
    )]
    pub(crate) fn max_header_bytes(&self) -> usize {
        self.head.limit()
    }

    /// The request's URL, normalised, and its header fields.
    #[cfg_attr(
        not(feature = "http"),
        allow(dead_code, reason = "read by the http feature")
    )]
    pub(crate) fn parts(&self) -> (String, &[(String, String)]) {
        (self.url.to_url(), &self.fields)
    }

    /// Parses and validates a complete response head, terminator included (RFC 6455 §4.1, the
    /// list after "The client MUST validate the server's response as follows").
    pub(crate) fn validate(&self, head: Bytes) -> Result<UpgradeResponse, ClientHandshakeError> {
        self.validate_as(head, Bootstrap::Upgrade)
    }

    /// The target of an extended CONNECT (RFC 8441 §5): `:scheme` "https" for wss URIs and
    /// "http" for ws URIs, `:authority` the URI's authority, `:path` its path and query.
    #[cfg(feature = "http")]
    pub(crate) fn extended_connect_uri(&self) -> String {
        let scheme = if self.url.secure { "https" } else { "http" };
        format!("{scheme}://{}{}", self.url.host_header(), self.url.resource)
    }

    /// Validates a complete response head as the answer to the request of `bootstrap`. A
    /// response on an HTTP/2 stream arrives here rewritten as an HTTP/1.1 head.
    pub(crate) fn validate_as(
        &self,
        head: Bytes,
        bootstrap: Bootstrap,
    ) -> Result<UpgradeResponse, ClientHandshakeError> {
        let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut storage);
        match parsed.parse(&head) {
            // The head ends at the first empty line, so a complete parse must consume all of it;
            // less means a bare-LF empty line came earlier and the split point is ambiguous.
            Ok(httparse::Status::Complete(n)) if n == head.len() => {}
            Ok(_) => {
                return Err(ClientHandshakeError::InvalidHttp {
                    reason: "incomplete or ambiguous head",
                });
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(ClientHandshakeError::TooManyHeaders);
            }
            Err(error) => {
                return Err(ClientHandshakeError::InvalidHttp {
                    reason: httparse_reason(error),
                });
            }
        }
        let version = parsed.version;
        let status = parsed.code.unwrap_or_default();
        let headers = Headers::from_parsed(head.clone(), parsed.headers);

        if version != Some(1) {
            return Err(ClientHandshakeError::UnsupportedHttpVersion);
        }
        // RFC 6455 §4.1: "If the status code received from the server is not 101, the client
        // handles the response per HTTP [RFC2616] procedures." That is the caller's to do, with
        // the status and headers.
        // RFC 6455 §4.1: "If the status code received from the server is not 101, the client
        // handles the response per HTTP [RFC2616] procedures." That is the caller's to do, with
        // the status and headers. RFC 8441 §5: "If the server agrees to the WebSocket
        // connection, it MUST respond with a 200 (OK) status code."
        let agreed = match bootstrap {
            Bootstrap::Upgrade => 101,
            Bootstrap::ExtendedConnect => 200,
        };
        if status != agreed {
            return Err(ClientHandshakeError::UnexpectedStatus {
                status,
                headers,
                body: Bytes::new(),
            });
        }
        if bootstrap == Bootstrap::Upgrade {
            self.check_upgrade_fields(&headers)?;
        }
        // RFC 6455 §4.1: "If the response includes a |Sec-WebSocket-Extensions| header field and
        // this header field indicates the use of an extension that was not present in the
        // client's handshake [...], the client MUST _Fail the WebSocket Connection_."
        let mut extensions = Vec::new();
        for value in headers.get_all("Sec-WebSocket-Extensions") {
            for extension in ExtensionOffer::parse_list(value)
                .map_err(ClientHandshakeError::InvalidExtensions)?
            {
                let offered = self
                    .extension_names
                    .iter()
                    .any(|name| name.eq_ignore_ascii_case(&extension.name));
                if !offered {
                    return Err(ClientHandshakeError::UnofferedExtension {
                        name: extension.name,
                    });
                }
                extensions.push(extension);
            }
        }
        // RFC 6455 §4.1: "If the response includes a |Sec-WebSocket-Protocol| header field and
        // this header field indicates the use of a subprotocol that was not present in the
        // client's handshake [...], the client MUST _Fail the WebSocket Connection_." §4.2.2
        // lets the server select one value, so a list or a repeated field is refused too.
        let mut values = headers.get_all("Sec-WebSocket-Protocol");
        let selected = (values.next(), values.next());
        drop(values);
        let protocol = match selected {
            (None, _) => None,
            (Some(value), None) if is_token(trim_ows(value)) => {
                let protocol: String = trim_ows(value).iter().copied().map(char::from).collect();
                if !self.protocols.contains(&protocol) {
                    return Err(ClientHandshakeError::UnofferedProtocol { protocol });
                }
                Some(protocol)
            }
            _ => return Err(ClientHandshakeError::InvalidProtocol),
        };

        Ok(UpgradeResponse {
            status,
            headers,
            protocol,
            extensions,
        })
    }

    /// The fields only an HTTP/1.1 upgrade's response has (RFC 6455 §4.1 items 2, 3 and 4).
    fn check_upgrade_fields(&self, headers: &Headers) -> Result<(), ClientHandshakeError> {
        // RFC 6455 §4.1: "If the response lacks an |Upgrade| header field or the |Upgrade| header
        // field contains a value that is not an ASCII case-insensitive match for the value
        // "websocket", the client MUST _Fail the WebSocket Connection_."
        if !headers.contains_token("Upgrade", "websocket") {
            return Err(ClientHandshakeError::NotWebSocketUpgrade);
        }
        // RFC 6455 §4.1: "If the response lacks a |Connection| header field or the |Connection|
        // header field doesn't contain a token that is an ASCII case-insensitive match for the
        // value "Upgrade", the client MUST _Fail the WebSocket Connection_."
        if !headers.contains_token("Connection", "upgrade") {
            return Err(ClientHandshakeError::MissingConnectionUpgrade);
        }
        // RFC 6455 §4.1: "If the response lacks a |Sec-WebSocket-Accept| header field or the
        // |Sec-WebSocket-Accept| contains a value other than the base64-encoded SHA-1 of the
        // concatenation of the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the
        // string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" but ignoring any leading and trailing
        // whitespace, the client MUST _Fail the WebSocket Connection_."
        {
            let mut accepts = headers.get_all("Sec-WebSocket-Accept");
            let accept = accepts.next().ok_or(ClientHandshakeError::MissingAccept)?;
            if trim_ows(accept) != self.expected_accept.as_bytes() || accepts.next().is_some() {
                return Err(ClientHandshakeError::InvalidAccept);
            }
        }
        Ok(())
    }
}

/// A server's valid `101 Switching Protocols` response (RFC 6455 §4.2.2).
///
/// See [`ClientHandshake`] for an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeResponse {
    status: u16,
    headers: Headers,
    protocol: Option<String>,
    extensions: Vec<ExtensionOffer>,
}

impl UpgradeResponse {
    /// The status: always 101 for a response that passed validation.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Every header field of the response.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The subprotocol the server selected, one of those offered, or `None`.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The extensions the server accepted, with their parameters, in the order it listed them;
    /// each is one the client offered.
    pub fn extensions(&self) -> &[ExtensionOffer] {
        &self.extensions
    }
}

#[cfg(test)]
mod tests;
