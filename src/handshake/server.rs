//! The server's side of the opening handshake (RFC 6455 §4.2): reading and validating the
//! client's request (§4.2.1), then accepting or refusing it (§4.2.2).

use std::ops::Range;

use bytes::{Bytes, BytesMut};

use super::head::{HeadExchange, httparse_reason};
use super::{
    BuildError, DEFAULT_MAX_HEADER_BYTES, ExtensionOffer, HandshakeError, Headers, MAX_HEADERS,
    VERSION, accept_key, check_extra_header, is_field_value, is_token, push_field, split_list,
    trim_ows, write_refusal,
};

/// Reads a client's opening handshake (RFC 6455 §4.2.1).
///
/// Feed it bytes from the transport with [`handle_input`](Self::handle_input) until it returns a
/// [`UpgradeRequest`]; bytes that followed the request are WebSocket frames, kept for
/// [`take_leftover`](Self::take_leftover). If it returns an error, write
/// [`HandshakeError::response_bytes`] and close the connection.
///
/// ```
/// use rfc6455::handshake::{Accept, ServerHandshake};
///
/// let mut server = ServerHandshake::new();
/// // The request of RFC 6455 §1.3, arriving in two reads, followed by the first frame.
/// assert!(server.handle_input(b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n")?.is_none());
/// let request = server
///     .handle_input(
///         b"Upgrade: websocket\r\nConnection: Upgrade\r\n\
///           Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///           Origin: http://example.com\r\n\
///           Sec-WebSocket-Protocol: chat, superchat\r\n\
///           Sec-WebSocket-Version: 13\r\n\r\n\x81\x80",
///     )?
///     .expect("the request is complete");
/// assert_eq!(request.path(), "/chat");
/// assert_eq!(request.origin(), Some("http://example.com"));
/// assert_eq!(request.protocols(), ["chat", "superchat"]);
///
/// let response = request.accept(&Accept::new().protocol("chat"))?;
/// assert_eq!(
///     response,
///     b"HTTP/1.1 101 Switching Protocols\r\n\
///       Upgrade: websocket\r\n\
///       Connection: Upgrade\r\n\
///       Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
///       Sec-WebSocket-Protocol: chat\r\n\r\n"
/// );
/// // The frame bytes that arrived with the request are not lost.
/// assert_eq!(&server.take_leftover()[..], b"\x81\x80");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ServerHandshake {
    head: HeadExchange<HandshakeError>,
}

impl ServerHandshake {
    /// A handshake that accepts request heads of up to
    /// [`DEFAULT_MAX_HEADER_BYTES`](super::DEFAULT_MAX_HEADER_BYTES) (8 KiB).
    pub fn new() -> Self {
        Self {
            head: HeadExchange::new(DEFAULT_MAX_HEADER_BYTES),
        }
    }

    /// Sets the largest request head accepted, in bytes, counting the request line, every header
    /// line and the empty line that ends them. A longer head is refused with 431.
    pub fn with_max_header_bytes(mut self, limit: usize) -> Self {
        self.head.reader().set_limit(limit);
        self
    }

    /// Adds bytes received from the client.
    ///
    /// Returns `Ok(None)` while the request head is incomplete, `Ok(Some(request))` once it is
    /// complete and valid, and an error if it is not a valid opening handshake; the error is
    /// returned again by every later call. After the request has been returned, further bytes
    /// are appended to the leftover and `Ok(None)` is returned.
    ///
    /// Only the head is buffered, up to the configured limit; the head is parsed once, when its
    /// terminating empty line arrives.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<Option<UpgradeRequest>, HandshakeError> {
        let head = match self
            .head
            .push(data, |limit| HandshakeError::HeadTooLarge { limit })?
        {
            Some(head) => head,
            None => return Ok(None),
        };
        let verdict = UpgradeRequest::parse(head);
        self.head.settle(verdict)
    }

    /// The bytes received after the request head: the start of the WebSocket stream. Leaves
    /// none behind.
    pub fn take_leftover(&mut self) -> BytesMut {
        self.head.reader().take_leftover()
    }
}

impl Default for ServerHandshake {
    fn default() -> Self {
        Self::new()
    }
}

/// A valid opening handshake request (RFC 6455 §4.2.1), ready to be accepted or refused.
///
/// Everything RFC 6455 requires has been checked; what is left to the application is its own
/// policy: the path, the [`origin`](Self::origin) (RFC 6455 §10.2: a browser client always sends
/// one, and a server that cares which sites may connect must check it), authentication, and the
/// choice of subprotocol and extensions. Then [`accept`](Self::accept) or send a [`Reject`].
///
/// See [`ServerHandshake`] for an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    headers: Headers,
    method: Range<usize>,
    target: Range<usize>,
    /// Where the resource name (path and query) starts in the target: 0 for origin-form, after
    /// the authority for absolute-form.
    resource_start: usize,
    /// Length of the path within the resource name; a query follows it after `?`.
    path_len: usize,
    host: Range<usize>,
    origin: Option<Range<usize>>,
    /// `None` for an extended CONNECT.
    key: Option<Range<usize>>,
    protocols: Vec<String>,
    extensions: Vec<ExtensionOffer>,
    bootstrap: Bootstrap,
}

/// How a WebSocket is bootstrapped: which of the two handshakes a request made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bootstrap {
    /// RFC 6455 §4: an HTTP/1.1 `GET` with `Upgrade: websocket`, answered with 101.
    Upgrade,
    /// RFC 8441 §5: an HTTP/2 `CONNECT` with `:protocol websocket`, answered with 200; the stream
    /// carries the WebSocket. No `Sec-WebSocket-Key`: the `:protocol` pseudo-header supersedes it.
    ExtendedConnect,
}

/// Fields HTTP/2 forbids because they describe one hop's connection (RFC 9113 §8.2.2: "An
/// endpoint MUST NOT generate an HTTP/2 message containing connection-specific header fields.
/// [...] Any message containing connection-specific header fields MUST be treated as malformed").
pub(crate) const CONNECTION_SPECIFIC: &[&str] = &[
    "Connection",
    "Upgrade",
    "Keep-Alive",
    "Proxy-Connection",
    "Transfer-Encoding",
];

impl UpgradeRequest {
    /// Parses and validates a complete HTTP/1.1 head, terminator included.
    pub(crate) fn parse(head: Bytes) -> Result<Self, HandshakeError> {
        Self::parse_as(head, Bootstrap::Upgrade)
    }

    /// Parses and validates a complete head, terminator included, as the request of `bootstrap`.
    /// An extended CONNECT arrives here rewritten as an HTTP/1.1 head (`CONNECT <path> HTTP/1.1`,
    /// `:authority` as `Host`), so both handshakes share every rule they have in common.
    pub(crate) fn parse_as(head: Bytes, bootstrap: Bootstrap) -> Result<Self, HandshakeError> {
        let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut storage);
        match parsed.parse(&head) {
            // The head ends at the first empty line, so a complete parse must consume all of it;
            // less means a bare-LF empty line came earlier and the split point is ambiguous.
            Ok(httparse::Status::Complete(n)) if n == head.len() => {}
            Ok(_) => {
                return Err(HandshakeError::InvalidHttp {
                    reason: "incomplete or ambiguous head",
                });
            }
            Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
            Err(error) => {
                return Err(HandshakeError::InvalidHttp {
                    reason: httparse_reason(error),
                });
            }
        }
        let method = parsed.method.unwrap_or_default();
        let target = parsed.path.unwrap_or_default();
        let version = parsed.version;
        let method_span = super::headers::span(&head, method.as_bytes());
        let target_span = super::headers::span(&head, target.as_bytes());
        let headers = Headers::from_parsed(head.clone(), parsed.headers);

        match bootstrap {
            // RFC 6455 §4.1: "The method of the request MUST be GET, and the HTTP version MUST be
            // at least 1.1." (Methods are case-sensitive, RFC 7231 §4.1.)
            Bootstrap::Upgrade if method != "GET" => return Err(HandshakeError::MethodNotAllowed),
            // RFC 8441 §4: the extended CONNECT "uses the CONNECT method".
            Bootstrap::ExtendedConnect if method != "CONNECT" => {
                return Err(HandshakeError::NotConnect);
            }
            _ => {}
        }
        // httparse reads only HTTP/1.x and reports the minor version.
        if version != Some(1) {
            return Err(HandshakeError::UnsupportedHttpVersion);
        }
        // RFC 6455 §4.1: 'The "Request-URI" part of the request MUST match the /resource name/
        // defined in Section 3 (a relative URI) or be an absolute http/https URI that, when
        // parsed, has a /resource name/, /host/, and /port/ that match the corresponding ws/wss
        // URI.'
        if target.contains('#') {
            return Err(HandshakeError::InvalidTarget);
        }
        let (resource_start, target_authority) = if target.starts_with('/') {
            (0, None)
        } else if bootstrap == Bootstrap::ExtendedConnect {
            // RFC 8441 §5: ":path [...] MUST be set to the path and query parts of the target
            // URI"; the authority travels in `:authority`.
            return Err(HandshakeError::InvalidTarget);
        } else {
            let (authority, resource_start) =
                split_absolute(target).ok_or(HandshakeError::InvalidTarget)?;
            (resource_start, Some(authority))
        };
        let resource = target.get(resource_start..).unwrap_or_default();
        let path_len = resource.find('?').unwrap_or(resource.len());

        // RFC 7230 §5.4: "A server MUST respond with a 400 (Bad Request) status code to any
        // HTTP/1.1 request message that lacks a Host header field and to any request message that
        // contains more than one Host header field or a Host header field with an invalid
        // field-value."
        let host = single(&headers, "Host")?.ok_or(HandshakeError::MissingHost)?;
        let host_value = headers.bytes(&host);
        if host_value.is_empty()
            || !host_value
                .iter()
                .all(|b| b.is_ascii_graphic() && *b != b'/' && *b != b'@')
        {
            return Err(HandshakeError::InvalidHost);
        }
        // RFC 7230 §5.4: "When a proxy receives a request with an absolute-form of
        // request-target, the proxy MUST ignore the received Host header field (if any) and
        // instead replace it with the host information of the request-target." A server that
        // sees one takes the target's authority the same way.
        let host = match target_authority {
            Some(authority) => {
                target_span.start + authority.start..target_span.start + authority.end
            }
            None => host,
        };

        let key = match bootstrap {
            Bootstrap::Upgrade => Some(check_upgrade_fields(&headers)?),
            Bootstrap::ExtendedConnect => {
                check_extended_connect_fields(&headers)?;
                None
            }
        };

        // A second Origin would let one check pass on the first value while something else
        // trusts the other.
        let origin = single(&headers, "Origin")?;
        if let Some(origin) = &origin {
            if !headers
                .bytes(origin)
                .iter()
                .all(|b| b.is_ascii_graphic() || *b == b' ')
            {
                return Err(HandshakeError::InvalidOrigin);
            }
        }

        // RFC 6455 §4.1: the subprotocol values "MUST all be unique strings", each a token; a
        // malformed list is not a handshake this server can answer faithfully.
        let mut protocols = Vec::new();
        for element in headers
            .get_all("Sec-WebSocket-Protocol")
            .flat_map(split_list)
        {
            if !is_token(element) {
                return Err(HandshakeError::InvalidProtocols);
            }
            protocols.push(element.iter().copied().map(char::from).collect());
        }

        let mut extensions = Vec::new();
        for value in headers.get_all("Sec-WebSocket-Extensions") {
            extensions.extend(
                ExtensionOffer::parse_list(value).map_err(HandshakeError::InvalidExtensions)?,
            );
        }

        // A body would arrive where the WebSocket frames are expected and be read as frames;
        // RFC 7230 §3.3.3 has no place for a body on a connection that switches protocols.
        let has_body = headers.contains("Transfer-Encoding")
            || headers
                .get_all("Content-Length")
                .any(|length| trim_ows(length) != b"0");
        if has_body {
            return Err(HandshakeError::UnexpectedBody);
        }

        Ok(Self {
            headers,
            method: method_span,
            target: target_span,
            resource_start,
            path_len,
            host,
            origin,
            key,
            protocols,
            extensions,
            bootstrap,
        })
    }

    /// Whether this is an HTTP/2 extended CONNECT (RFC 8441) rather than an HTTP/1.1 upgrade: it
    /// is then answered with `200` by [`accept_http`](Self::accept_http), and its stream carries
    /// the WebSocket.
    pub fn is_extended_connect(&self) -> bool {
        self.bootstrap == Bootstrap::ExtendedConnect
    }

    /// The request method: `GET` for an HTTP/1.1 upgrade, `CONNECT` for an HTTP/2 extended
    /// CONNECT.
    pub fn method(&self) -> &str {
        self.headers.text(&self.method)
    }

    /// The request target as sent: usually path and query, e.g. `/chat?room=1`; possibly an
    /// absolute URI, e.g. `http://example.com/chat?room=1`.
    pub fn target(&self) -> &str {
        self.headers.text(&self.target)
    }

    /// The path part of the target, without the query, e.g. `/chat`; `/` if an absolute-form
    /// target has none. Still percent-encoded.
    pub fn path(&self) -> &str {
        let path = self
            .target()
            .get(self.resource_start..self.resource_start + self.path_len)
            .unwrap_or_default();
        // RFC 6455 §3: the resource name is "/" if the path component is empty.
        if path.is_empty() { "/" } else { path }
    }

    /// The query part of the target, after `?` (which is not included), if there is one.
    pub fn query(&self) -> Option<&str> {
        self.target()
            .get(self.resource_start + self.path_len..)
            .and_then(|rest| rest.strip_prefix('?'))
    }

    /// Every header field of the request.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The host the request is for, with the port if not the default: the `Host` header, or the
    /// authority of an absolute-form target, which takes precedence (RFC 7230 §5.4).
    pub fn host(&self) -> &str {
        self.headers.text(&self.host)
    }

    /// The `Origin` header, if any (RFC 6455 §4.2.1 item 7, §10.2).
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_ref().map(|origin| self.headers.text(origin))
    }

    /// The `Sec-WebSocket-Key` header, still base64-encoded; `None` for an extended CONNECT,
    /// which has none (RFC 8441 §5: the `:protocol` pseudo-header supersedes it). An HTTP/1.1
    /// upgrade request always has one: it is refused without.
    pub fn key(&self) -> Option<&str> {
        self.key.as_ref().map(|key| self.headers.text(key))
    }

    /// The subprotocols the client offered in `Sec-WebSocket-Protocol`, in its order of
    /// preference, across all lines of the header.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The extensions the client offered in `Sec-WebSocket-Extensions`, in its order of
    /// preference, across all lines of the header.
    pub fn extensions(&self) -> &[ExtensionOffer] {
        &self.extensions
    }

    /// The `101 Switching Protocols` response that accepts this request (RFC 6455 §4.2.2).
    ///
    /// Fails, and nothing should be sent, if `accept` selects a subprotocol or extension the
    /// client did not offer, or has an extra header that cannot be written.
    ///
    /// An extended CONNECT (HTTP/2) has no HTTP/1.1 answer: answer it with
    /// [`accept_http`](Self::accept_http); here it is [`BuildError::NotHttp1`].
    pub fn accept(&self, accept: &Accept) -> Result<Vec<u8>, BuildError> {
        if self.is_extended_connect() {
            return Err(BuildError::NotHttp1);
        }
        let fields = self.accept_fields(accept)?;
        let mut out = Vec::with_capacity(
            64 + fields
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>(),
        );
        out.extend_from_slice(b"HTTP/1.1 101 Switching Protocols\r\n");
        for (name, value) in &fields {
            push_field(&mut out, name, value);
        }
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }

    /// The header fields of the 101 response, in order, after checking `accept` against the
    /// offer.
    pub(crate) fn accept_fields<'a>(
        &self,
        accept: &'a Accept,
    ) -> Result<Vec<(&'a str, String)>, BuildError> {
        let mut fields = match self.bootstrap {
            Bootstrap::Upgrade => vec![
                // RFC 6455 §4.2.2: "An |Upgrade| header field with value "websocket" as per RFC
                // 2616" and "A |Connection| header field with value "Upgrade"".
                ("Upgrade", "websocket".to_owned()),
                ("Connection", "Upgrade".to_owned()),
                // RFC 6455 §4.2.2: "A |Sec-WebSocket-Accept| header field. The value of this
                // header field is constructed by concatenating /key/ [...] with the string
                // "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", taking the SHA-1 hash of this
                // concatenated value to obtain a 20-byte value and base64-encoding". An upgrade
                // request without a valid key was refused when it was parsed.
                (
                    "Sec-WebSocket-Accept",
                    accept_key(self.key().unwrap_or_default().as_bytes()),
                ),
            ],
            // RFC 8441 §5: "If the server agrees to the WebSocket connection, it MUST respond
            // with a 200 (OK) status code"; no Upgrade, Connection or Sec-WebSocket-Accept.
            Bootstrap::ExtendedConnect => Vec::new(),
        };
        if let Some(protocol) = &accept.protocol {
            // RFC 6455 §4.2.2: "The value chosen MUST be derived from the client's handshake,
            // specifically by selecting one of the values from the |Sec-WebSocket-Protocol|
            // field that the server is willing to use for this connection (if any)."
            if !self.protocols.iter().any(|offered| offered == protocol) {
                return Err(BuildError::UnofferedProtocol(protocol.clone()));
            }
            fields.push(("Sec-WebSocket-Protocol", protocol.clone()));
        }
        if let Some(extensions) = accept.extensions.as_deref().filter(|e| !e.is_empty()) {
            if !is_field_value(extensions) {
                return Err(BuildError::InvalidHeaderValue(
                    "Sec-WebSocket-Extensions".into(),
                ));
            }
            let accepted = ExtensionOffer::parse_list(extensions.as_bytes())
                .map_err(BuildError::InvalidExtensions)?;
            // RFC 6455 §9.1: the server's list "MUST [...] be drawn from the extensions the
            // client listed" – a client fails the connection on any other.
            for extension in &accepted {
                let offered = self
                    .extensions
                    .iter()
                    .any(|offer| offer.name.eq_ignore_ascii_case(&extension.name));
                if !offered {
                    return Err(BuildError::UnofferedExtension(extension.name.clone()));
                }
            }
            fields.push(("Sec-WebSocket-Extensions", extensions.to_owned()));
        }
        for (name, value) in &accept.headers {
            check_extra_header(name, value, ACCEPT_RESERVED)?;
            if self.is_extended_connect() {
                check_extra_header(name, value, CONNECTION_SPECIFIC)?;
            }
            fields.push((name.as_str(), value.clone()));
        }
        Ok(fields)
    }
}

/// The fields only an HTTP/1.1 upgrade has (RFC 6455 §4.2.1 items 3, 4, 5 and 6); returns the
/// span of the key.
fn check_upgrade_fields(headers: &Headers) -> Result<Range<usize>, HandshakeError> {
    // RFC 6455 §4.2.1: "An |Upgrade| header field containing the value "websocket", treated
    // as an ASCII case-insensitive value."
    if !headers.contains_token("Upgrade", "websocket") {
        return Err(HandshakeError::NotWebSocketUpgrade);
    }
    // RFC 6455 §4.2.1: "A |Connection| header field that includes the token "Upgrade",
    // treated as an ASCII case-insensitive value."
    if !headers.contains_token("Connection", "upgrade") {
        return Err(HandshakeError::MissingConnectionUpgrade);
    }
    // Checked before the key so that a client speaking an older draft (hixie-76 sends
    // Sec-WebSocket-Key1/2 and no Sec-WebSocket-Key) learns which version to speak.
    // RFC 6455 §4.2.1: "A |Sec-WebSocket-Version| header field, with a value of 13."
    if !is_version_13(headers) {
        return Err(HandshakeError::UnsupportedVersion);
    }
    // RFC 6455 §4.2.1: "A |Sec-WebSocket-Key| header field with a base64-encoded (see
    // Section 4 of [RFC4648]) value that, when decoded, is 16 bytes in length."
    let key = single(headers, "Sec-WebSocket-Key")?.ok_or(HandshakeError::MissingKey)?;
    if !is_valid_key(headers.bytes(&key)) {
        return Err(HandshakeError::InvalidKey);
    }
    Ok(key)
}

/// The fields of an extended CONNECT (RFC 8441 §5) that differ from an upgrade's: no
/// connection-specific field, and the version, refused without the 426 that would need one.
fn check_extended_connect_fields(headers: &Headers) -> Result<(), HandshakeError> {
    if let Some(name) = CONNECTION_SPECIFIC
        .iter()
        .find(|name| headers.contains(name))
    {
        return Err(HandshakeError::ConnectionSpecificHeader { name });
    }
    // RFC 8441 §5 keeps RFC 6455's Sec-WebSocket-Version ("sec-websocket-version = 13" in its
    // example); a 426 would need an Upgrade header, which HTTP/2 forbids.
    if !is_version_13(headers) {
        return Err(HandshakeError::Http2UnsupportedVersion);
    }
    // `Sec-WebSocket-Key` is ignored: RFC 8441 §5: "Implementations using this extended CONNECT
    // to bootstrap WebSockets do not do the processing of the Sec-WebSocket-Key and
    // Sec-WebSocket-Accept header fields of [RFC6455] as that functionality has been superseded
    // by the :protocol pseudo-header field."
    Ok(())
}

/// Whether `Sec-WebSocket-Version` appears once, with the value 13.
fn is_version_13(headers: &Headers) -> bool {
    let mut versions = headers.get_all("Sec-WebSocket-Version");
    versions.next().is_some_and(|v| v == VERSION.as_bytes()) && versions.next().is_none()
}

/// Headers the 101 response writes itself.
const ACCEPT_RESERVED: &[&str] = &[
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
];

/// How a server accepts a handshake: the subprotocol and extensions it selected and any extra
/// headers (cookies, for instance). The default selects no subprotocol and no extension.
///
/// ```
/// use rfc6455::handshake::{Accept, BuildError, ServerHandshake};
///
/// let mut server = ServerHandshake::new();
/// let request = server
///     .handle_input(
///         b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///           Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
///           Sec-WebSocket-Protocol: v2.chat\r\n\r\n",
///     )?
///     .unwrap();
///
/// let accept = Accept::new().protocol("v2.chat").header("Set-Cookie", "id=1");
/// let response = String::from_utf8(request.accept(&accept)?)?;
/// assert!(response.ends_with("Sec-WebSocket-Protocol: v2.chat\r\nSet-Cookie: id=1\r\n\r\n"));
///
/// // Selecting a subprotocol the client did not offer is this server's mistake, not the peer's.
/// assert_eq!(
///     request.accept(&Accept::new().protocol("v3.chat")),
///     Err(BuildError::UnofferedProtocol("v3.chat".into()))
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accept {
    protocol: Option<String>,
    extensions: Option<String>,
    headers: Vec<(String, String)>,
}

impl Accept {
    /// Accepts with no subprotocol, no extension and no extra header.
    pub fn new() -> Self {
        Self::default()
    }

    /// Selects a subprotocol; it must be one the client offered ([`UpgradeRequest::protocols`]).
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = Some(protocol.into());
        self
    }

    /// Sets the `Sec-WebSocket-Extensions` response value, as negotiated (e.g.
    /// `permessage-deflate; server_no_context_takeover`). It must parse per RFC 6455 §9.1 and
    /// name only extensions the client offered. An empty value sends no header.
    pub fn extensions(mut self, value: impl Into<String>) -> Self {
        self.extensions = Some(value.into());
        self
    }

    /// Adds a header to the response. The name must be a token, the value free of control
    /// characters (no CR or LF), and the field not one the handshake writes itself.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The `Sec-WebSocket-Extensions` value set with [`extensions`](Self::extensions), if any.
    pub fn extensions_value(&self) -> Option<&str> {
        self.extensions.as_deref()
    }
}

/// A response that refuses a valid handshake for the application's own reasons: 403 for a
/// disallowed origin, 401 with `WWW-Authenticate`, 404 for an unknown path, a redirect…
///
/// The response closes the connection (`Connection: close`) and delimits its body with
/// `Content-Length`; a `Content-Type: text/plain; charset=utf-8` is added unless one is given.
///
/// ```
/// use rfc6455::handshake::Reject;
///
/// let bytes = Reject::new(403).body("Origin not allowed").to_bytes()?;
/// assert_eq!(
///     bytes,
///     b"HTTP/1.1 403 Forbidden\r\n\
///       Content-Length: 18\r\n\
///       Connection: close\r\n\
///       Content-Type: text/plain; charset=utf-8\r\n\
///       \r\n\
///       Origin not allowed"
/// );
/// # Ok::<(), rfc6455::handshake::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    status: u16,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

impl Reject {
    /// A refusal with `status`, which must be in 200–599 (and so not 101): a 2xx serves a plain
    /// HTTP answer on the WebSocket endpoint, a 3xx redirects, a 4xx or 5xx refuses.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            body: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Sets the body. Unlike the bodies of [`HandshakeError`], it is sent as given: keep peer
    /// input out of it.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Adds a header. The name must be a token, the value free of control characters, and the
    /// field not `Content-Length`, `Transfer-Encoding` or `Connection`, which this response
    /// writes itself.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The complete response.
    pub fn to_bytes(&self) -> Result<Vec<u8>, BuildError> {
        if !(200..=599).contains(&self.status) {
            return Err(BuildError::InvalidStatus(self.status));
        }
        let mut headers = Vec::with_capacity(self.headers.len() + 1);
        for (name, value) in &self.headers {
            check_extra_header(
                name,
                value,
                &["Content-Length", "Transfer-Encoding", "Connection"],
            )?;
            headers.push((name.as_str(), value.as_str()));
        }
        if !self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("Content-Type"))
        {
            headers.push(("Content-Type", "text/plain; charset=utf-8"));
        }
        Ok(write_refusal(self.status, "close", &headers, &self.body))
    }
}

/// For an absolute-form target (`http://host:port/path?query`, RFC 7230 §5.3.2), the range of
/// its authority and where its resource name starts. Only `http` and `https` are allowed there
/// (RFC 6455 §4.1), with a non-empty authority and no user information.
fn split_absolute(target: &str) -> Option<(Range<usize>, usize)> {
    let (scheme, rest) = target.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let authority_len = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = rest.get(..authority_len)?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let start = scheme.len() + "://".len();
    Some((start..start + authority_len, start + authority_len))
}

/// Whether `key` is the base64 encoding of exactly 16 bytes.
fn is_valid_key(key: &[u8]) -> bool {
    use base64::Engine as _;
    // 16 bytes encode to 24 characters ending in "=="; a buffer of 18 fits any 24-character
    // input, so a decoded length other than 16 is a wrong key, not a short buffer.
    let mut decoded = [0u8; 18];
    key.len() == 24
        && base64::engine::general_purpose::STANDARD
            .decode_slice(key, &mut decoded)
            .is_ok_and(|n| n == 16)
}

/// The value span of a field that may appear at most once: `None` if absent, an error if
/// repeated.
fn single(headers: &Headers, name: &'static str) -> Result<Option<Range<usize>>, HandshakeError> {
    let mut spans = headers.value_spans(name);
    let first = spans.next().cloned();
    if spans.next().is_some() {
        return Err(HandshakeError::DuplicateHeader { name });
    }
    Ok(first)
}

#[cfg(test)]
mod tests;
