//! Tests of [`super`]: the opening handshake's server side, by RFC 6455 §4 requirement.

use super::*;
use crate::handshake::chunks;
use proptest::prelude::*;

/// The client's request of RFC 6455 §1.3.
const RFC_REQUEST: &str = "GET /chat HTTP/1.1\r\n\
    Host: server.example.com\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Origin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\n\
    Sec-WebSocket-Version: 13\r\n\
    \r\n";

/// The server's response of RFC 6455 §1.3.
const RFC_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
    Sec-WebSocket-Protocol: chat\r\n\
    \r\n";

/// A minimal valid request with `extra` header lines inserted before the empty line.
fn request_with(extra: &str) -> String {
    format!(
        "GET /p?q=1 HTTP/1.1\r\n\
         Host: h\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         {extra}\r\n"
    )
}

/// A minimal valid request with `from` replaced by `to`.
fn request_replacing(from: &str, to: &str) -> String {
    let request = request_with("");
    assert!(request.contains(from), "{from:?}");
    request.replacen(from, to, 1)
}

fn parse(request: &str) -> Result<UpgradeRequest, HandshakeError> {
    let mut server = ServerHandshake::new();
    server
        .handle_input(request.as_bytes())
        .map(|r| r.expect("complete"))
}

#[test]
fn rfc_1_3_example() {
    let request = parse(RFC_REQUEST).unwrap();
    assert_eq!(request.method(), "GET");
    assert_eq!(request.target(), "/chat");
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.query(), None);
    assert_eq!(request.host(), "server.example.com");
    assert_eq!(request.origin(), Some("http://example.com"));
    assert_eq!(request.key(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
    assert_eq!(request.protocols(), ["chat", "superchat"]);
    assert!(request.extensions().is_empty());
    assert_eq!(request.headers().len(), 7);
    let response = request.accept(&Accept::new().protocol("chat")).unwrap();
    assert_eq!(String::from_utf8(response).unwrap(), RFC_RESPONSE);
}

#[test]
fn accept_without_protocol() {
    let request = parse(RFC_REQUEST).unwrap();
    let response = request.accept(&Accept::new()).unwrap();
    assert_eq!(
        String::from_utf8(response).unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
         \r\n"
    );
}

#[test]
fn target_path_and_query() {
    let request = parse(&request_with("")).unwrap();
    assert_eq!(request.target(), "/p?q=1");
    assert_eq!(request.path(), "/p");
    assert_eq!(request.query(), Some("q=1"));
    let request = parse(&request_replacing("/p?q=1", "/a/b?")).unwrap();
    assert_eq!(request.path(), "/a/b");
    assert_eq!(request.query(), Some(""));
    let request = parse(&request_replacing("/p?q=1", "/?x?y")).unwrap();
    assert_eq!(request.path(), "/");
    assert_eq!(request.query(), Some("x?y"));
}

#[test]
fn absolute_form_target() {
    // (target, path, query, host)
    let cases = [
        (
            "http://example.com:8080/chat?x=1",
            "/chat",
            Some("x=1"),
            "example.com:8080",
        ),
        ("HTTPS://example.com/", "/", None, "example.com"),
        ("http://example.com", "/", None, "example.com"),
        ("http://example.com?x", "/", Some("x"), "example.com"),
        ("http://[::1]:9/a", "/a", None, "[::1]:9"),
    ];
    for (target, path, query, host) in cases {
        let request = parse(&request_replacing("/p?q=1", target)).unwrap();
        assert_eq!(request.target(), target);
        assert_eq!(request.path(), path, "{target}");
        assert_eq!(request.query(), query, "{target}");
        assert_eq!(request.host(), host, "{target}");
    }
}

/// Each validation failure with its exact status.
#[test]
fn validation_failures() {
    use HandshakeError::*;
    let cases: Vec<(String, HandshakeError, u16)> = vec![
        (request_replacing("GET", "POST"), MethodNotAllowed, 405),
        (request_replacing("GET", "get"), MethodNotAllowed, 405),
        (
            request_replacing("HTTP/1.1", "HTTP/1.0"),
            UnsupportedHttpVersion,
            400,
        ),
        (
            request_replacing("HTTP/1.1", "HTTP/2.0"),
            InvalidHttp {
                reason: "invalid HTTP version",
            },
            400,
        ),
        (request_replacing("/p?q=1", "p"), InvalidTarget, 400),
        (request_replacing("/p?q=1", "ftp://h/p"), InvalidTarget, 400),
        (request_replacing("/p?q=1", "ws://h/p"), InvalidTarget, 400),
        (request_replacing("/p?q=1", "http:///p"), InvalidTarget, 400),
        (
            request_replacing("/p?q=1", "http://u@h/p"),
            InvalidTarget,
            400,
        ),
        (request_replacing("/p?q=1", "*"), InvalidTarget, 400),
        (request_replacing("/p?q=1", "/p#f"), InvalidTarget, 400),
        (request_replacing("Host: h\r\n", ""), MissingHost, 400),
        (
            request_with("Host: h\r\n"),
            DuplicateHeader { name: "Host" },
            400,
        ),
        (request_replacing("Host: h", "Host:"), InvalidHost, 400),
        (request_replacing("Host: h", "Host: a/b"), InvalidHost, 400),
        (request_replacing("Host: h", "Host: a b"), InvalidHost, 400),
        (
            request_replacing("Upgrade: websocket\r\n", ""),
            NotWebSocketUpgrade,
            400,
        ),
        (
            request_replacing("Upgrade: websocket", "Upgrade: h2c"),
            NotWebSocketUpgrade,
            400,
        ),
        (
            request_replacing("Upgrade: websocket", "Upgrade: websockets"),
            NotWebSocketUpgrade,
            400,
        ),
        (
            request_replacing("Connection: Upgrade\r\n", ""),
            MissingConnectionUpgrade,
            400,
        ),
        (
            request_replacing("Connection: Upgrade", "Connection: keep-alive"),
            MissingConnectionUpgrade,
            400,
        ),
        (
            request_replacing("Sec-WebSocket-Version: 13\r\n", ""),
            UnsupportedVersion,
            426,
        ),
        (
            request_replacing("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
            UnsupportedVersion,
            426,
        ),
        (
            request_replacing("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 13, 8"),
            UnsupportedVersion,
            426,
        ),
        (
            request_with("Sec-WebSocket-Version: 13\r\n"),
            UnsupportedVersion,
            426,
        ),
        (
            request_replacing("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            MissingKey,
            400,
        ),
        (
            request_with("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"),
            DuplicateHeader {
                name: "Sec-WebSocket-Key",
            },
            400,
        ),
        (
            request_replacing("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"),
            InvalidKey,
            400,
        ),
        (
            request_replacing("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZXh4"),
            InvalidKey,
            400,
        ),
        (
            request_replacing("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j!Q=="),
            InvalidKey,
            400,
        ),
        (
            request_replacing("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ==AA"),
            InvalidKey,
            400,
        ),
        (
            request_with("Origin: a\r\nOrigin: b\r\n"),
            DuplicateHeader { name: "Origin" },
            400,
        ),
        (
            request_with("Origin: \x01\r\n"),
            InvalidHttp {
                reason: "invalid header value",
            },
            400,
        ),
        (request_with("Origin: caf\u{e9}\r\n"), InvalidOrigin, 400),
        (
            request_with("Sec-WebSocket-Protocol: chat, super chat\r\n"),
            InvalidProtocols,
            400,
        ),
        (
            request_with("Sec-WebSocket-Extensions: foo; =1\r\n"),
            InvalidExtensions(crate::handshake::ExtensionError::ExpectedParamName { at: 5 }),
            400,
        ),
        (request_with("Content-Length: 5\r\n"), UnexpectedBody, 400),
        (
            request_with("Transfer-Encoding: chunked\r\n"),
            UnexpectedBody,
            400,
        ),
        (
            request_with("Bad Header: x\r\n"),
            InvalidHttp {
                reason: "invalid header name",
            },
            400,
        ),
        (
            "\r\n\r\n".to_string(),
            InvalidHttp {
                reason: "incomplete or ambiguous head",
            },
            400,
        ),
        (
            "GET / HTTP/1.1\nHost: h\n\nGET / HTTP/1.1\r\n\r\n".to_string(),
            InvalidHttp {
                reason: "incomplete or ambiguous head",
            },
            400,
        ),
    ];
    for (request, error, status) in cases {
        assert_eq!(parse(&request), Err(error.clone()), "{request:?}");
        assert_eq!(error.status(), status, "{request:?}");
    }
}

#[test]
fn content_length_zero_is_no_body() {
    assert!(parse(&request_with("Content-Length: 0\r\n")).is_ok());
}

#[test]
fn too_many_headers_is_431() {
    let extra: String = (0..MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
    let error = parse(&request_with(&extra)).unwrap_err();
    assert_eq!(error, HandshakeError::TooManyHeaders);
    assert_eq!(error.status(), 431);
    // Exactly the maximum is fine.
    let extra: String = (0..MAX_HEADERS - 6)
        .map(|i| format!("X-{i}: v\r\n"))
        .collect();
    assert!(parse(&request_with(&extra)).is_ok());
}

#[test]
fn tokens_in_lists_any_case_any_line() {
    let variants = [
        ("Upgrade: websocket", "Upgrade: WebSocket"),
        ("Upgrade: websocket", "Upgrade: foo/1, WEBSOCKET"),
        ("Connection: Upgrade", "Connection: keep-alive, Upgrade"),
        ("Connection: Upgrade", "Connection: upgrade"),
        (
            "Connection: Upgrade",
            "Connection: keep-alive\r\nConnection: UPGRADE",
        ),
        ("Connection: Upgrade", "connection:Upgrade , keep-alive"),
        ("Sec-WebSocket-Version: 13", "sec-websocket-version:   13  "),
    ];
    for (from, to) in variants {
        let request = request_replacing(from, to);
        let parsed = parse(&request).unwrap_or_else(|e| panic!("{to:?}: {e}"));
        assert!(parsed.headers().contains_token("connection", "UPGRADE"));
    }
}

#[test]
fn protocols_across_lines_in_order() {
    let request = parse(&request_with(
        "Sec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Protocol: ,c,\r\n",
    ))
    .unwrap();
    assert_eq!(request.protocols(), ["a", "b", "c"]);
    assert!(request.accept(&Accept::new().protocol("c")).is_ok());
    assert_eq!(
        request.accept(&Accept::new().protocol("A")),
        Err(BuildError::UnofferedProtocol("A".into()))
    );
}

#[test]
fn extensions_across_lines() {
    let request = parse(&request_with(
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
         Sec-WebSocket-Extensions: x-foo, permessage-deflate\r\n",
    ))
    .unwrap();
    let names: Vec<&str> = request
        .extensions()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["permessage-deflate", "x-foo", "permessage-deflate"]);
    assert_eq!(
        request.extensions()[0].params,
        [("client_max_window_bits".to_string(), None)]
    );
    let response = request
        .accept(&Accept::new().extensions("permessage-deflate; server_no_context_takeover"))
        .unwrap();
    assert!(String::from_utf8(response).unwrap().ends_with(
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n"
    ));
    assert_eq!(
        request.accept(&Accept::new().extensions("x-bar")),
        Err(BuildError::UnofferedExtension("x-bar".into()))
    );
    assert!(matches!(
        request.accept(&Accept::new().extensions("x-foo;")),
        Err(BuildError::InvalidExtensions(_))
    ));
    assert_eq!(
        request.accept(&Accept::new().extensions("x-foo\r\nX: y")),
        Err(BuildError::InvalidHeaderValue(
            "Sec-WebSocket-Extensions".into()
        ))
    );
    // An empty value means no extension was accepted.
    let plain = request.accept(&Accept::new()).unwrap();
    assert_eq!(
        request.accept(&Accept::new().extensions("")).unwrap(),
        plain
    );
}

#[test]
fn accept_extra_headers() {
    let request = parse(RFC_REQUEST).unwrap();
    let response = request
        .accept(&Accept::new().header("Set-Cookie", "a=b").header("X-Y", ""))
        .unwrap();
    assert!(
        String::from_utf8(response)
            .unwrap()
            .ends_with("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSet-Cookie: a=b\r\nX-Y: \r\n\r\n")
    );
    let bad = [
        (
            Accept::new().header("X", "a\r\nInjected: 1"),
            BuildError::InvalidHeaderValue("X".into()),
        ),
        (
            Accept::new().header("X\r\nY", "a"),
            BuildError::InvalidHeaderName("X\r\nY".into()),
        ),
        (
            Accept::new().header("", "a"),
            BuildError::InvalidHeaderName(String::new()),
        ),
        (
            Accept::new().header("sec-websocket-accept", "a"),
            BuildError::ReservedHeader("sec-websocket-accept".into()),
        ),
    ];
    for (accept, error) in bad {
        assert_eq!(request.accept(&accept), Err(error));
    }
}

#[test]
fn reject_builder() {
    let bytes = Reject::new(401)
        .header("WWW-Authenticate", "Basic realm=\"ws\"")
        .header("Content-Type", "text/html")
        .body("<p>no</p>")
        .to_bytes()
        .unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "HTTP/1.1 401 Unauthorized\r\n\
         Content-Length: 9\r\n\
         Connection: close\r\n\
         WWW-Authenticate: Basic realm=\"ws\"\r\n\
         Content-Type: text/html\r\n\
         \r\n\
         <p>no</p>"
    );
    let unknown = Reject::new(599).to_bytes().unwrap();
    assert!(unknown.starts_with(b"HTTP/1.1 599 \r\nContent-Length: 0\r\n"));
    for status in [0, 99, 101, 199, 600, 1000] {
        assert_eq!(
            Reject::new(status).to_bytes(),
            Err(BuildError::InvalidStatus(status))
        );
    }
    assert_eq!(
        Reject::new(400)
            .header("connection", "keep-alive")
            .to_bytes(),
        Err(BuildError::ReservedHeader("connection".into()))
    );
}

#[test]
fn leftover_in_same_buffer() {
    let mut server = ServerHandshake::new();
    let mut input = RFC_REQUEST.as_bytes().to_vec();
    input.extend_from_slice(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
    let request = server.handle_input(&input).unwrap().unwrap();
    assert_eq!(request.path(), "/chat");
    assert_eq!(
        &server.take_leftover()[..],
        b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
    );
    // Bytes fed after completion are leftover too, and nothing is handed out again.
    assert_eq!(server.handle_input(b"more").unwrap(), None);
    assert_eq!(&server.take_leftover()[..], b"more");
}

#[test]
fn leftover_one_byte_at_a_time() {
    let mut server = ServerHandshake::new();
    let mut input = RFC_REQUEST.as_bytes().to_vec();
    input.extend_from_slice(b"frame bytes");
    let mut request = None;
    for (i, byte) in input.chunks(1).enumerate() {
        match server.handle_input(byte).unwrap() {
            Some(r) => {
                assert_eq!(i, RFC_REQUEST.len() - 1, "completed at the terminator");
                request = Some(r);
            }
            None => assert!(i != RFC_REQUEST.len() - 1 || request.is_some()),
        }
    }
    assert_eq!(request.unwrap(), parse(RFC_REQUEST).unwrap());
    assert_eq!(&server.take_leftover()[..], b"frame bytes");
}

#[test]
fn header_limit_in_small_chunks_is_431() {
    let mut server = ServerHandshake::new().with_max_header_bytes(256);
    let mut sent = 0;
    let error = loop {
        match server.handle_input(b"X-Filler: 0123456789\r\n") {
            Ok(None) => sent += 22,
            Ok(Some(_)) => panic!("no terminator was sent"),
            Err(error) => break error,
        }
    };
    assert_eq!(error, HandshakeError::HeadTooLarge { limit: 256 });
    assert_eq!(error.status(), 431);
    assert!(sent < 256);
    // The error sticks.
    assert_eq!(server.handle_input(b"\r\n\r\n"), Err(error));
}

#[test]
fn default_limit_is_8_kib() {
    let mut server = ServerHandshake::new();
    let filler = format!("X-Filler: {}\r\n", "a".repeat(8 * 1024));
    assert_eq!(
        server.handle_input(request_with(&filler).as_bytes()),
        Err(HandshakeError::HeadTooLarge { limit: 8192 })
    );
    let mut server = ServerHandshake::new();
    let request = request_with("");
    let filler = format!("X-Filler: {}\r\n", "a".repeat(8192 - request.len() - 12));
    let request = request_with(&filler);
    assert_eq!(request.len(), 8192);
    assert!(server.handle_input(request.as_bytes()).unwrap().is_some());
}

#[test]
fn failed_handshake_stays_failed() {
    let mut server = ServerHandshake::new();
    let request = request_replacing("GET", "PUT");
    assert_eq!(
        server.handle_input(request.as_bytes()),
        Err(HandshakeError::MethodNotAllowed)
    );
    assert_eq!(
        server.handle_input(request_with("").as_bytes()),
        Err(HandshakeError::MethodNotAllowed)
    );
}

proptest! {
    #[test]
    fn any_bytes_any_chunking_never_panics(
        input in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        limit in 0usize..700,
    ) {
        let mut server = ServerHandshake::new().with_max_header_bytes(limit);
        for chunk in chunks(&input, &cuts) {
            match server.handle_input(chunk) {
                Ok(Some(request)) => {
                    let _ = request.accept(&Accept::new());
                }
                Ok(None) => {}
                Err(error) => {
                    let _ = error.response_bytes();
                }
            }
        }
        let _ = server.take_leftover();
    }

    #[test]
    fn mutated_request_never_panics(
        position in 0usize..200,
        byte in any::<u8>(),
    ) {
        let mut input = RFC_REQUEST.as_bytes().to_vec();
        if let Some(slot) = input.get_mut(position) {
            *slot = byte;
        }
        let mut server = ServerHandshake::new();
        let _ = server.handle_input(&input);
    }

    #[test]
    fn any_chunking_gives_the_same_request(
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut input = RFC_REQUEST.as_bytes().to_vec();
        input.extend_from_slice(b"after");
        let mut server = ServerHandshake::new();
        let mut requests = Vec::new();
        for chunk in chunks(&input, &cuts) {
            requests.extend(server.handle_input(chunk).unwrap());
        }
        prop_assert_eq!(requests, vec![parse(RFC_REQUEST).unwrap()]);
        prop_assert_eq!(&server.take_leftover()[..], b"after");
    }
}

#[test]
fn every_split_gives_the_same_request() {
    let expected = parse(RFC_REQUEST).unwrap();
    let mut input = RFC_REQUEST.as_bytes().to_vec();
    input.extend_from_slice(b"after");
    for split in 0..=input.len() {
        let (a, b) = input.split_at(split);
        let mut server = ServerHandshake::new();
        let first = server.handle_input(a).unwrap();
        let second = server.handle_input(b).unwrap();
        assert_eq!(
            first.is_some(),
            split >= RFC_REQUEST.len(),
            "split at {split}"
        );
        assert!(first.is_none() || second.is_none());
        assert_eq!(
            first.or(second).as_ref(),
            Some(&expected),
            "split at {split}"
        );
        assert_eq!(&server.take_leftover()[..], b"after", "split at {split}");
    }
}
