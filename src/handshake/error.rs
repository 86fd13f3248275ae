//! Handshake errors, split by who is at fault (RFC 6455 §4.1, §4.2.1, §4.2.2).
//!
//! A bad request from the client is a [`HandshakeError`] and knows the HTTP status the server
//! answers with; a bad response from the server is a [`ClientHandshakeError`], after which the
//! client must fail the connection; an application asking for a handshake message that cannot be
//! written is a [`BuildError`] or a [`UrlError`], and nothing goes to the peer.

use bytes::{Bytes, BytesMut};

use super::extension::ExtensionError;
use super::headers::Headers;
use super::{VERSION, write_refusal};

/// Why a client's opening handshake was refused (RFC 6455 §4.2.1).
///
/// RFC 6455 §4.2.1: "If the server, while reading the handshake, finds that the client did not
/// send a handshake that matches the description below [...], the server MUST stop processing
/// the client's handshake and return an HTTP response with an appropriate error code (such as 400
/// Bad Request)." Each variant knows that code ([`status`](Self::status)) and the whole response
/// ([`response_bytes`](Self::response_bytes)).
///
/// ```
/// use rfc6455::handshake::{HandshakeError, ServerHandshake};
///
/// let mut server = ServerHandshake::new();
/// let error = server.handle_input(b"POST / HTTP/1.1\r\nHost: a\r\n\r\n").unwrap_err();
/// assert_eq!(error, HandshakeError::MethodNotAllowed);
/// assert_eq!(error.status(), 405);
/// assert!(error.response_bytes().starts_with(b"HTTP/1.1 405 Method Not Allowed\r\n"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head grew past the configured limit before its terminating empty line. Status 431.
    #[error("request head exceeds {limit} bytes")]
    HeadTooLarge {
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// The head has more than [`MAX_HEADERS`](super::MAX_HEADERS) header fields. Status 431.
    #[error("request has more than {} header fields", super::MAX_HEADERS)]
    TooManyHeaders,
    /// The head is not an HTTP/1.x request. Status 400.
    #[error("malformed HTTP request: {reason}")]
    InvalidHttp {
        /// What the parser tripped on.
        reason: &'static str,
    },
    /// The method is not `GET`. Status 405, with `Allow: GET`.
    #[error("request method is not GET")]
    MethodNotAllowed,
    /// The request is HTTP/1.0; RFC 6455 §4.1 requires at least HTTP/1.1. Status 400.
    #[error("request is not HTTP/1.1")]
    UnsupportedHttpVersion,
    /// The request target is neither a path (origin-form) nor an absolute `http`/`https` URI,
    /// or it has a fragment. Status 400.
    #[error("request target is not a path or an http(s) URI")]
    InvalidTarget,
    /// A header field that must appear at most once appears more than once. Status 400.
    #[error("duplicate {name} header")]
    DuplicateHeader {
        /// The field's canonical name.
        name: &'static str,
    },
    /// No `Host` header. Status 400.
    #[error("missing Host header")]
    MissingHost,
    /// The `Host` header is empty or holds characters no host can have. Status 400.
    #[error("invalid Host header")]
    InvalidHost,
    /// No `Upgrade` header with the token `websocket`. Status 400.
    #[error("Upgrade header does not name websocket")]
    NotWebSocketUpgrade,
    /// No `Connection` header with the token `upgrade`. Status 400.
    #[error("Connection header does not contain upgrade")]
    MissingConnectionUpgrade,
    /// `Sec-WebSocket-Version` is missing or not `13`. Status 426, with
    /// `Sec-WebSocket-Version: 13`.
    #[error("unsupported or missing Sec-WebSocket-Version")]
    UnsupportedVersion,
    /// No `Sec-WebSocket-Key` header. Status 400.
    #[error("missing Sec-WebSocket-Key header")]
    MissingKey,
    /// `Sec-WebSocket-Key` does not base64-decode to exactly 16 bytes. Status 400.
    #[error("Sec-WebSocket-Key is not 16 base64-encoded bytes")]
    InvalidKey,
    /// `Origin` holds something other than visible ASCII. Status 400.
    #[error("invalid Origin header")]
    InvalidOrigin,
    /// `Sec-WebSocket-Protocol` holds an element that is not a token. Status 400.
    #[error("invalid Sec-WebSocket-Protocol header")]
    InvalidProtocols,
    /// `Sec-WebSocket-Extensions` does not follow the grammar of RFC 6455 §9.1. Status 400.
    #[error("invalid Sec-WebSocket-Extensions header: {0}")]
    InvalidExtensions(ExtensionError),
    /// The request announces a body (`Content-Length` other than 0, or `Transfer-Encoding`).
    /// Status 400.
    #[error("handshake request has a body")]
    UnexpectedBody,
    /// Over HTTP/2, the method is not `CONNECT`: a WebSocket over HTTP/2 is an extended CONNECT
    /// (RFC 8441 §4). Status 405, with `Allow: CONNECT`.
    #[error("WebSocket over HTTP/2 request method is not CONNECT")]
    NotConnect,
    /// A `CONNECT` without the `:protocol` pseudo-header: a request for a tunnel, not for a
    /// WebSocket (RFC 8441 §4). Status 400.
    #[error("CONNECT request has no :protocol pseudo-header")]
    NotExtendedConnect,
    /// An extended CONNECT whose `:protocol` is not `websocket`. Status 501: RFC 9220 §3, whose
    /// extended CONNECT is RFC 8441's, says a server "SHOULD respond to the request with a 501
    /// (Not Implemented) status code" for an unsupported `:protocol`.
    #[error(":protocol pseudo-header does not name websocket")]
    UnsupportedConnectProtocol,
    /// An extended CONNECT without `:scheme`, or with one other than `http` or `https` (RFC 8441
    /// §5: `:scheme` "MUST be set to "https" for wss URIs and "http" for ws URIs"). Status 400.
    #[error(":scheme pseudo-header is missing or not http or https")]
    InvalidScheme,
    /// An HTTP/2 request carries a connection-specific field (`Connection`, `Upgrade`…), which
    /// makes it malformed (RFC 9113 §8.2.2). Status 400.
    #[error("connection-specific {name} header in an HTTP/2 request")]
    ConnectionSpecificHeader {
        /// The field's canonical name.
        name: &'static str,
    },
    /// Over HTTP/2, `Sec-WebSocket-Version` is missing or not `13`. Status 400 with
    /// `Sec-WebSocket-Version: 13`: the 426 of HTTP/1.1 must carry an `Upgrade` header, which
    /// HTTP/2 forbids (RFC 9113 §8.2.2).
    #[error("unsupported or missing Sec-WebSocket-Version in an extended CONNECT")]
    Http2UnsupportedVersion,
}

impl HandshakeError {
    /// The HTTP status a server answers this error with.
    pub fn status(&self) -> u16 {
        match self {
            Self::HeadTooLarge { .. } | Self::TooManyHeaders => 431,
            Self::MethodNotAllowed => 405,
            Self::UnsupportedVersion => 426,
            Self::InvalidHttp { .. }
            | Self::UnsupportedHttpVersion
            | Self::InvalidTarget
            | Self::DuplicateHeader { .. }
            | Self::MissingHost
            | Self::InvalidHost
            | Self::NotWebSocketUpgrade
            | Self::MissingConnectionUpgrade
            | Self::MissingKey
            | Self::InvalidKey
            | Self::InvalidOrigin
            | Self::InvalidProtocols
            | Self::InvalidExtensions(_)
            | Self::UnexpectedBody
            | Self::NotExtendedConnect
            | Self::InvalidScheme
            | Self::ConnectionSpecificHeader { .. }
            | Self::Http2UnsupportedVersion => 400,
            Self::NotConnect => 405,
            Self::UnsupportedConnectProtocol => 501,
        }
    }

    /// The complete HTTP response a server writes before closing the connection.
    ///
    /// It carries [`status`](Self::status), `Content-Length`, `Connection: close`, the headers
    /// that status requires, and a short fixed text body. Nothing from the request is echoed:
    /// whatever the client sent stays out of the response.
    ///
    /// ```
    /// use rfc6455::handshake::HandshakeError;
    ///
    /// let bytes = HandshakeError::UnsupportedVersion.response_bytes();
    /// let text = String::from_utf8(bytes).unwrap();
    /// assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
    /// assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    /// ```
    pub fn response_bytes(&self) -> Vec<u8> {
        let body = self.body();
        let headers = self.status_headers();
        match self {
            // RFC 6455 §4.2.2: the server "MUST abort the WebSocket handshake [...] and instead
            // send an appropriate HTTP error code (such as 426 Upgrade Required) and a
            // |Sec-WebSocket-Version| header field indicating the version(s) the server is
            // capable of understanding." RFC 7231 §6.5.15: "The server MUST send an Upgrade
            // header field in a 426 response", and RFC 7230 §6.7: "A sender of Upgrade MUST also
            // send an "Upgrade" connection option in the Connection header field".
            Self::UnsupportedVersion => {
                let mut with_upgrade = vec![("Upgrade", "websocket")];
                with_upgrade.extend(headers);
                write_refusal(
                    self.status(),
                    "Upgrade, close",
                    &with_upgrade,
                    body.as_bytes(),
                )
            }
            _ => write_refusal(self.status(), "close", &headers, body.as_bytes()),
        }
    }

    /// The header fields the response needs besides those of HTTP/1.1's framing: what its status
    /// requires, and the content type of the fixed body. None is connection-specific, so they
    /// serve an HTTP/2 response as they are.
    pub(crate) fn status_headers(&self) -> Vec<(&'static str, &'static str)> {
        match self {
            // RFC 7231 §6.5.5: "The origin server MUST generate an Allow header field in a 405
            // response containing a list of the target resource's currently supported methods."
            Self::MethodNotAllowed => vec![("Allow", "GET"), TEXT_PLAIN],
            // RFC 7231 §6.5.5 as for GET: CONNECT is the only method of a WebSocket over HTTP/2.
            Self::NotConnect => vec![("Allow", "CONNECT"), TEXT_PLAIN],
            Self::UnsupportedVersion | Self::Http2UnsupportedVersion => {
                vec![("Sec-WebSocket-Version", VERSION), TEXT_PLAIN]
            }
            _ => vec![TEXT_PLAIN],
        }
    }

    /// The response body: fixed text per variant, so no request byte can reach the response.
    pub(crate) fn body(&self) -> &'static str {
        match self {
            Self::HeadTooLarge { .. } => "Request header block too large",
            Self::TooManyHeaders => "Too many request header fields",
            Self::InvalidHttp { .. } => "Malformed HTTP request",
            Self::MethodNotAllowed => "WebSocket handshake must use GET",
            Self::UnsupportedHttpVersion => "WebSocket handshake requires HTTP/1.1",
            Self::InvalidTarget => "Invalid request target",
            Self::DuplicateHeader { name } => match *name {
                "Host" => "Duplicate Host header",
                "Origin" => "Duplicate Origin header",
                "Sec-WebSocket-Key" => "Duplicate Sec-WebSocket-Key header",
                _ => "Duplicate header",
            },
            Self::MissingHost => "Missing Host header",
            Self::InvalidHost => "Invalid Host header",
            Self::NotWebSocketUpgrade => "Missing or invalid Upgrade header",
            Self::MissingConnectionUpgrade => "Missing or invalid Connection header",
            Self::UnsupportedVersion => "Unsupported WebSocket version",
            Self::MissingKey => "Missing Sec-WebSocket-Key header",
            Self::InvalidKey => "Invalid Sec-WebSocket-Key header",
            Self::InvalidOrigin => "Invalid Origin header",
            Self::InvalidProtocols => "Invalid Sec-WebSocket-Protocol header",
            Self::InvalidExtensions(_) => "Invalid Sec-WebSocket-Extensions header",
            Self::UnexpectedBody => "WebSocket handshake must not have a body",
            Self::NotConnect => "WebSocket over HTTP/2 must use CONNECT",
            Self::NotExtendedConnect => "CONNECT without :protocol is not a WebSocket",
            Self::UnsupportedConnectProtocol => "Unsupported :protocol",
            Self::InvalidScheme => "Invalid :scheme",
            Self::ConnectionSpecificHeader { .. } => "Connection-specific header in HTTP/2",
            Self::Http2UnsupportedVersion => "Unsupported WebSocket version",
        }
    }
}

/// The content type of the fixed error bodies.
const TEXT_PLAIN: (&str, &str) = ("Content-Type", "text/plain; charset=utf-8");

/// Why a server's response to the opening handshake was refused (RFC 6455 §4.1).
///
/// RFC 6455 §4.1 lists each check with "the client MUST _Fail the WebSocket Connection_": after
/// any of these errors the client closes the transport; there is nothing to answer.
///
/// ```
/// use rfc6455::handshake::{ClientHandshake, ClientHandshakeError, ClientRequest};
///
/// let request = ClientRequest::new("ws://example.com/")?.key([0; 16]);
/// let mut client = ClientHandshake::new(&request)?;
/// let error = client
///     .handle_input(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\r\n")
///     .unwrap_err();
/// match error {
///     ClientHandshakeError::UnexpectedStatus { status, headers, .. } => {
///         assert_eq!(status, 401);
///         assert_eq!(headers.get("www-authenticate"), Some(&b"Basic"[..]));
///     }
///     other => panic!("unexpected {other}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientHandshakeError {
    /// The response head grew past the configured limit before its terminating empty line.
    #[error("response head exceeds {limit} bytes")]
    HeadTooLarge {
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// The response has more than [`MAX_HEADERS`](super::MAX_HEADERS) header fields.
    #[error("response has more than {} header fields", super::MAX_HEADERS)]
    TooManyHeaders,
    /// The head is not an HTTP/1.x response.
    #[error("malformed HTTP response: {reason}")]
    InvalidHttp {
        /// What the parser tripped on.
        reason: &'static str,
    },
    /// The response is not HTTP/1.1.
    #[error("response is not HTTP/1.1")]
    UnsupportedHttpVersion,
    /// The status is not 101: the server refused (401, 403, 404…), redirected (3xx) or is not a
    /// WebSocket server. The headers are kept so the caller can act on them (`Location`,
    /// `WWW-Authenticate`, `Retry-After`…), and so is the start of the body, which often says
    /// why ("bad token").
    #[error("server answered with status {status} instead of 101")]
    UnexpectedStatus {
        /// The status code the server sent.
        status: u16,
        /// The response's header fields.
        headers: Headers,
        /// The start of the response body, at most [`MAX_REFUSAL_BODY`] bytes, undecoded (a
        /// chunked body keeps its chunk framing). The core keeps what arrived with the head; the
        /// adapters read on until the body's `Content-Length` or [`MAX_REFUSAL_BODY`] bytes are
        /// in, or the stream ends.
        body: Bytes,
    },
    /// No `Upgrade` header with the token `websocket`.
    #[error("Upgrade header does not name websocket")]
    NotWebSocketUpgrade,
    /// No `Connection` header with the token `upgrade`.
    #[error("Connection header does not contain upgrade")]
    MissingConnectionUpgrade,
    /// No `Sec-WebSocket-Accept` header.
    #[error("missing Sec-WebSocket-Accept header")]
    MissingAccept,
    /// `Sec-WebSocket-Accept` is not the value derived from the key sent, or appears twice.
    #[error("Sec-WebSocket-Accept does not match the key sent")]
    InvalidAccept,
    /// The server chose a subprotocol the client did not offer (or offered none).
    #[error("server chose subprotocol {protocol:?}, which was not offered")]
    UnofferedProtocol {
        /// The subprotocol the server named.
        protocol: String,
    },
    /// `Sec-WebSocket-Protocol` does not hold exactly one token.
    #[error("Sec-WebSocket-Protocol must name exactly one subprotocol")]
    InvalidProtocol,
    /// The server accepted an extension the client did not offer.
    #[error("server accepted extension {name:?}, which was not offered")]
    UnofferedExtension {
        /// The extension the server named.
        name: String,
    },
    /// `Sec-WebSocket-Extensions` does not follow the grammar of RFC 6455 §9.1.
    #[error("invalid Sec-WebSocket-Extensions header: {0}")]
    InvalidExtensions(ExtensionError),
    /// The server accepted permessage-deflate with parameters the client cannot use.
    #[cfg(feature = "deflate")]
    #[error("unusable permessage-deflate response: {0}")]
    Deflate(super::deflate::DeflateNegotiationError),
}

/// The most bytes of a refusal's body that [`ClientHandshakeError::UnexpectedStatus`] keeps:
/// enough for an error message or a small JSON document, bounded against a server that sends a
/// whole page.
pub const MAX_REFUSAL_BODY: usize = 4096;

/// The body length a response head declares with `Content-Length`, if it does.
fn declared_length(headers: &Headers) -> Option<usize> {
    headers
        .get("content-length")
        .and_then(|value| std::str::from_utf8(value).ok())
        .and_then(|value| value.trim().parse::<usize>().ok())
}

impl ClientHandshakeError {
    /// How many more body bytes an [`UnexpectedStatus`](Self::UnexpectedStatus) wants, so that
    /// it holds the whole body its `Content-Length` declares (or [`MAX_REFUSAL_BODY`] bytes of
    /// it); 0 for any other error or when the length is not declared. The adapters read that
    /// much more after the head.
    #[cfg(feature = "std")]
    pub(crate) fn refusal_body_missing(&self) -> usize {
        let Self::UnexpectedStatus { headers, body, .. } = self else {
            return 0;
        };
        let declared = declared_length(headers).unwrap_or(0);
        declared.min(MAX_REFUSAL_BODY).saturating_sub(body.len())
    }

    /// Appends body bytes read after the head, within [`MAX_REFUSAL_BODY`] and the body's
    /// declared `Content-Length`, if any.
    pub(crate) fn extend_refusal_body(&mut self, more: &[u8]) {
        if let Self::UnexpectedStatus { headers, body, .. } = self {
            let limit = declared_length(headers)
                .map_or(MAX_REFUSAL_BODY, |declared| declared.min(MAX_REFUSAL_BODY));
            let room = limit.saturating_sub(body.len());
            let mut extended = BytesMut::from(&body[..]);
            extended.extend_from_slice(&more[..more.len().min(room)]);
            *body = extended.freeze();
        }
    }

    /// The status the server's response carried, if it got far enough to have one: the refusal
    /// status for [`UnexpectedStatus`](Self::UnexpectedStatus), 101 for a switching response that
    /// failed validation, `None` when the head could not be parsed.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::HeadTooLarge { .. }
            | Self::TooManyHeaders
            | Self::InvalidHttp { .. }
            | Self::UnsupportedHttpVersion => None,
            Self::UnexpectedStatus { status, .. } => Some(*status),
            Self::NotWebSocketUpgrade
            | Self::MissingConnectionUpgrade
            | Self::MissingAccept
            | Self::InvalidAccept
            | Self::UnofferedProtocol { .. }
            | Self::InvalidProtocol
            | Self::UnofferedExtension { .. }
            | Self::InvalidExtensions(_) => Some(101),
            #[cfg(feature = "deflate")]
            Self::Deflate(_) => Some(101),
        }
    }
}

/// The application asked for a handshake message that cannot be written.
///
/// These are local mistakes, not the peer's: nothing is sent, and the handshake can be retried
/// with corrected input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A header name is not an HTTP token (empty, or holds spaces, colons, CR, LF…).
    #[error("invalid header name {0:?}")]
    InvalidHeaderName(String),
    /// A header value holds a control character (CR, LF, NUL…) that would end or corrupt the
    /// line. Carries the header's name.
    #[error("value of header {0:?} contains a control character")]
    InvalidHeaderValue(String),
    /// A header that the handshake writes itself was given as an extra header.
    #[error("header {0:?} is written by the handshake itself")]
    ReservedHeader(String),
    /// A subprotocol name is not an HTTP token (RFC 6455 §4.1).
    #[error("subprotocol {0:?} is not a token")]
    InvalidProtocol(String),
    /// The server tried to select a subprotocol the client did not offer.
    #[error("subprotocol {0:?} was not offered by the client")]
    UnofferedProtocol(String),
    /// An extensions value does not follow the grammar of RFC 6455 §9.1.
    #[error("invalid Sec-WebSocket-Extensions value: {0}")]
    InvalidExtensions(ExtensionError),
    /// The server tried to accept an extension the client did not offer.
    #[error("extension {0:?} was not offered by the client")]
    UnofferedExtension(String),
    /// A [`Reject`](super::Reject) status outside 200–599, or 101.
    #[error("status {0} cannot refuse a handshake")]
    InvalidStatus(u16),
    /// An HTTP/1.1 response was asked for an HTTP/2 extended CONNECT (RFC 8441), which is
    /// answered on its stream: use `UpgradeRequest::accept_http` (feature `http`).
    #[error("an extended CONNECT is answered over HTTP/2, not with HTTP/1.1 bytes")]
    NotHttp1,
    /// The operating system's random source failed to produce the client's key.
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

/// Why a URL cannot be the target of a WebSocket client (RFC 6455 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `ws` or `wss`, or the URL has no `scheme://`.
    #[error("URL scheme must be ws:// or wss://")]
    UnsupportedScheme,
    /// The URL has a fragment (`#…`).
    #[error("a WebSocket URL must not have a fragment")]
    Fragment,
    /// The URL has user information (`user:pass@`), which this crate does not send.
    #[error("URL user information is not supported")]
    UserInfo,
    /// The URL has no host.
    #[error("URL has no host")]
    MissingHost,
    /// The host is neither a domain name, an IPv4 address nor a bracketed IPv6 address.
    #[error("invalid host in URL")]
    InvalidHost,
    /// The port is empty, not a number, 0 or above 65535.
    #[error("invalid port in URL")]
    InvalidPort,
    /// The URL holds a space, a control character or a non-ASCII character; percent-encode it.
    #[error("URL contains a character that must be percent-encoded")]
    InvalidCharacter,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(error: &HandshakeError) -> String {
        String::from_utf8(error.response_bytes()).unwrap()
    }

    #[test]
    fn bad_request_bytes() {
        assert_eq!(
            text(&HandshakeError::MissingHost),
            "HTTP/1.1 400 Bad Request\r\n\
             Content-Length: 19\r\n\
             Connection: close\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             Missing Host header"
        );
    }

    #[test]
    fn method_not_allowed_bytes() {
        assert_eq!(
            text(&HandshakeError::MethodNotAllowed),
            "HTTP/1.1 405 Method Not Allowed\r\n\
             Content-Length: 32\r\n\
             Connection: close\r\n\
             Allow: GET\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             WebSocket handshake must use GET"
        );
    }

    #[test]
    fn upgrade_required_bytes() {
        assert_eq!(
            text(&HandshakeError::UnsupportedVersion),
            "HTTP/1.1 426 Upgrade Required\r\n\
             Content-Length: 29\r\n\
             Connection: Upgrade, close\r\n\
             Upgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\
             \r\n\
             Unsupported WebSocket version"
        );
    }

    #[test]
    fn header_too_large_bytes() {
        let error = HandshakeError::HeadTooLarge { limit: 8192 };
        assert_eq!(error.status(), 431);
        assert!(text(&error).starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert_eq!(HandshakeError::TooManyHeaders.status(), 431);
    }

    #[test]
    fn every_body_matches_its_content_length() {
        let errors = [
            HandshakeError::HeadTooLarge { limit: 1 },
            HandshakeError::TooManyHeaders,
            HandshakeError::InvalidHttp { reason: "x" },
            HandshakeError::MethodNotAllowed,
            HandshakeError::UnsupportedHttpVersion,
            HandshakeError::InvalidTarget,
            HandshakeError::DuplicateHeader { name: "Host" },
            HandshakeError::DuplicateHeader { name: "Other" },
            HandshakeError::MissingHost,
            HandshakeError::InvalidHost,
            HandshakeError::NotWebSocketUpgrade,
            HandshakeError::MissingConnectionUpgrade,
            HandshakeError::UnsupportedVersion,
            HandshakeError::MissingKey,
            HandshakeError::InvalidKey,
            HandshakeError::InvalidOrigin,
            HandshakeError::InvalidProtocols,
            HandshakeError::InvalidExtensions(ExtensionError::ExpectedName { at: 0 }),
            HandshakeError::UnexpectedBody,
            HandshakeError::NotConnect,
            HandshakeError::NotExtendedConnect,
            HandshakeError::UnsupportedConnectProtocol,
            HandshakeError::InvalidScheme,
            HandshakeError::ConnectionSpecificHeader { name: "Upgrade" },
            HandshakeError::Http2UnsupportedVersion,
        ];
        for error in errors {
            let bytes = error.response_bytes();
            let mut headers = [httparse::EMPTY_HEADER; 8];
            let mut response = httparse::Response::new(&mut headers);
            let httparse::Status::Complete(n) = response.parse(&bytes).unwrap() else {
                panic!("incomplete response for {error:?}");
            };
            assert_eq!(response.code, Some(error.status()));
            let length = response
                .headers
                .iter()
                .find(|h| h.name == "Content-Length")
                .unwrap();
            let length: usize = std::str::from_utf8(length.value).unwrap().parse().unwrap();
            assert_eq!(length, bytes.len() - n, "{error:?}");
        }
    }

    #[test]
    fn client_error_status() {
        let refused = ClientHandshakeError::UnexpectedStatus {
            status: 403,
            headers: Headers::default(),
            body: Bytes::new(),
        };
        assert_eq!(refused.status(), Some(403));
        assert_eq!(ClientHandshakeError::InvalidAccept.status(), Some(101));
        assert_eq!(ClientHandshakeError::TooManyHeaders.status(), None);
    }
}
