//! `handshake_extended_connect`: RFC 8441's extended CONNECT, both roles, through the `http`
//! types an HTTP/2 stack hands over.
//!
//! Input: a flags byte, then lines (split on `\n`). Server mode: an optional `:protocol` line,
//! the URI line, then `name: value` header lines. Client mode: a status line (its first three
//! bytes read as digits), then header lines. Lines the `http` crate refuses are dropped, so every
//! input reaches the validation.

use rfc6455::handshake::{
    Accept, BuildError, ClientHandshake, ClientHandshakeError, ClientRequest, HandshakeError,
    UpgradeRequest, WEBSOCKET_PROTOCOL,
};

use crate::Cursor;

/// Flags bits 0–1: the `:protocol`: none, `websocket`, `WebSocket`, or the first line.
const PROTOCOL_MASK: u8 = 0x03;
/// Flags bit: the request claims HTTP/1.1 instead of HTTP/2.
pub const FLAG_HTTP11: u8 = 0x04;
/// Flags bit: the method is GET instead of CONNECT.
pub const FLAG_GET: u8 = 0x08;
/// Flags bit: the client role: the lines are the server's response.
pub const FLAG_CLIENT: u8 = 0x10;

/// Fields no HTTP/2 message may carry (RFC 9113 §8.2.2).
const CONNECTION_SPECIFIC: [&str; 5] = [
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
];

pub fn check(data: &[u8]) {
    let mut cursor = Cursor::new(data);
    let flags = cursor.u8();
    let mut lines = cursor.rest().split(|&b| b == b'\n');
    if flags & FLAG_CLIENT != 0 {
        check_response(&mut lines);
    } else {
        check_request(flags, &mut lines);
    }
}

fn header_line(line: &[u8]) -> Option<(http::HeaderName, http::HeaderValue)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = http::HeaderName::from_bytes(&line[..colon]).ok()?;
    let value = http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
    Some((name, value))
}

fn check_request<'a>(flags: u8, lines: &mut impl Iterator<Item = &'a [u8]>) {
    let first = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
    let protocol = match flags & PROTOCOL_MASK {
        0 => None,
        1 => Some(WEBSOCKET_PROTOCOL.to_owned()),
        2 => Some("WebSocket".to_owned()),
        _ => Some(first.clone()),
    };
    let uri_line = if flags & PROTOCOL_MASK == 3 {
        String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned()
    } else {
        first
    };
    let Ok(uri) = uri_line.parse::<http::Uri>() else {
        return;
    };
    let mut request = http::Request::new(());
    *request.uri_mut() = uri;
    *request.method_mut() = if flags & FLAG_GET != 0 {
        http::Method::GET
    } else {
        http::Method::CONNECT
    };
    *request.version_mut() = if flags & FLAG_HTTP11 != 0 {
        http::Version::HTTP_11
    } else {
        http::Version::HTTP_2
    };
    for (name, value) in lines.filter_map(header_line) {
        request.headers_mut().append(name, value);
    }

    match UpgradeRequest::from_extended_connect(&request, protocol.as_deref()) {
        Ok(accepted) => check_valid(&request, protocol.as_deref(), &accepted),
        Err(error) => check_error(&error),
    }
}

fn check_valid(request: &http::Request<()>, protocol: Option<&str>, accepted: &UpgradeRequest) {
    assert_eq!(request.version(), http::Version::HTTP_2);
    assert_eq!(request.method(), http::Method::CONNECT);
    assert!(protocol.is_some_and(|p| p.eq_ignore_ascii_case("websocket")));
    assert!(accepted.is_extended_connect());
    assert_eq!(accepted.method(), "CONNECT");
    assert_eq!(accepted.key(), None);
    assert!(accepted.path().starts_with('/'), "{:?}", accepted.path());
    let authority = request.uri().authority().expect("an authority");
    assert_eq!(accepted.host(), authority.as_str());
    assert!(matches!(request.uri().scheme_str(), Some("http" | "https")));
    for name in CONNECTION_SPECIFIC {
        assert!(!request.headers().contains_key(name), "{name} accepted");
    }
    assert_eq!(request.headers()["sec-websocket-version"].as_bytes(), b"13");

    assert_eq!(accepted.accept(&Accept::new()), Err(BuildError::NotHttp1));
    let response = accepted
        .accept_http(&Accept::new())
        .expect("default accept");
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert!(response.headers().is_empty(), "{response:?}");
    if let Some(first) = accepted.protocols().first() {
        let response = accepted
            .accept_http(&Accept::new().protocol(first.clone()))
            .expect("an offered protocol");
        assert_eq!(
            response.headers()["sec-websocket-protocol"].as_bytes(),
            first.as_bytes()
        );
    }
}

fn check_error(error: &HandshakeError) {
    let status = error.status();
    // 431 for more header fields than MAX_HEADERS, as over HTTP/1.1.
    assert!(
        [400, 405, 431, 501].contains(&status),
        "{error:?} answers with {status}"
    );
    // Never the HTTP/1.1 handshake's errors: no 426 (HTTP/2 has no Upgrade), nothing about keys.
    assert!(
        !matches!(
            error,
            HandshakeError::UnsupportedVersion
                | HandshakeError::MissingKey
                | HandshakeError::InvalidKey
                | HandshakeError::NotWebSocketUpgrade
                | HandshakeError::MissingConnectionUpgrade
                | HandshakeError::MethodNotAllowed
        ),
        "{error:?}"
    );
    let response = error.http_response();
    assert_eq!(response.status().as_u16(), status);
    for name in CONNECTION_SPECIFIC {
        assert!(!response.headers().contains_key(name), "{error:?}: {name}");
    }
    // The body is the refusal's fixed text, the same as over HTTP/1.1: nothing of the request.
    assert!(!response.body().is_empty());
    assert!(error.response_bytes().ends_with(response.body().as_bytes()));
}

fn check_response<'a>(lines: &mut impl Iterator<Item = &'a [u8]>) {
    let status_line = lines.next().unwrap_or_default();
    let digits: Vec<u8> = status_line.iter().take(3).copied().collect();
    let Ok(status) = http::StatusCode::from_bytes(&digits) else {
        return;
    };
    let mut response = http::Response::new(());
    *response.status_mut() = status;
    *response.version_mut() = http::Version::HTTP_2;
    for (name, value) in lines.filter_map(header_line) {
        response.headers_mut().append(name, value);
    }
    let request = ClientRequest::new("wss://example.com/chat")
        .expect("a valid URL")
        .protocol("chat")
        .extensions("permessage-deflate");
    let client = ClientHandshake::new(&request).expect("a valid request");
    match client.validate_extended_connect(&response) {
        Ok(accepted) => {
            assert_eq!(status, 200);
            assert_eq!(accepted.status(), 200);
            assert!(matches!(accepted.protocol(), None | Some("chat")));
            for extension in accepted.extensions() {
                assert!(extension.name.eq_ignore_ascii_case("permessage-deflate"));
            }
        }
        Err(ClientHandshakeError::UnexpectedStatus { status: got, .. }) => {
            assert_ne!(status, 200);
            assert_eq!(got, status.as_u16());
        }
        // Limits on the head apply to any response, as over HTTP/1.1.
        Err(
            ClientHandshakeError::TooManyHeaders
            | ClientHandshakeError::HeadTooLarge { .. }
            | ClientHandshakeError::InvalidHttp { .. },
        ) => {}
        Err(error) => {
            // Only a 200 gets as far as its fields.
            assert_eq!(status, 200, "{error:?}");
        }
    }
}
