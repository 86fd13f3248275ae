//! Tests of [`super`]: the opening handshake's client side, by RFC 6455 §4 requirement.

use super::*;
use crate::handshake::{ExtensionError, MAX_REFUSAL_BODY, ServerHandshake};
use proptest::prelude::*;

const NONCE: [u8; 16] = *b"the sample nonce";

const OK_RESPONSE: &str = "HTTP/1.1 101 Switching Protocols\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
    \r\n";

fn handshake(request: ClientRequest) -> ClientHandshake {
    ClientHandshake::new(&request.key(NONCE)).unwrap()
}

fn plain() -> ClientHandshake {
    handshake(ClientRequest::new("ws://example.com/").unwrap())
}

/// The response of the RFC with `extra` header lines inserted before the empty line.
fn response_with(extra: &str) -> String {
    format!("{}{extra}\r\n", OK_RESPONSE.strip_suffix("\r\n").unwrap())
}

fn validate(
    client: &mut ClientHandshake,
    response: &str,
) -> Result<UpgradeResponse, ClientHandshakeError> {
    client
        .handle_input(response.as_bytes())
        .map(|r| r.expect("complete"))
}

#[test]
fn exact_request_bytes() {
    let client = handshake(
        ClientRequest::new("ws://server.example.com/chat")
            .unwrap()
            .origin("http://example.com")
            .protocol("chat")
            .protocol("superchat"),
    );
    // The request of RFC 6455 §1.3, with this crate's field order.
    assert_eq!(
        std::str::from_utf8(client.request_bytes()).unwrap(),
        "GET /chat HTTP/1.1\r\n\
         Host: server.example.com\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Origin: http://example.com\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\n\
         \r\n"
    );
    assert_eq!(client.key(), "dGhlIHNhbXBsZSBub25jZQ==");
}

#[test]
fn exact_request_bytes_with_port_query_extensions_and_headers() {
    let client = handshake(
        ClientRequest::new("WSS://[::1]:9443?x=1")
            .unwrap()
            .extensions("permessage-deflate; client_max_window_bits")
            .header("User-Agent", "rfc6455-test"),
    );
    assert_eq!(
        std::str::from_utf8(client.request_bytes()).unwrap(),
        "GET /?x=1 HTTP/1.1\r\n\
         Host: [::1]:9443\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
         User-Agent: rfc6455-test\r\n\
         \r\n"
    );
}

#[test]
fn random_keys_differ_and_are_valid() {
    let request = ClientRequest::new("ws://a/").unwrap();
    let a = ClientHandshake::new(&request).unwrap();
    let b = ClientHandshake::new(&request).unwrap();
    assert_ne!(a.key(), b.key());
    // Our own server accepts our own request.
    let mut server = ServerHandshake::new();
    let parsed = server.handle_input(a.request_bytes()).unwrap().unwrap();
    assert_eq!(parsed.key(), Some(a.key()));
}

#[test]
fn build_errors() {
    let url = || ClientRequest::new("ws://a/").unwrap().key(NONCE);
    let cases = [
        (
            url().protocol("a b"),
            BuildError::InvalidProtocol("a b".into()),
        ),
        (
            url().protocol(""),
            BuildError::InvalidProtocol(String::new()),
        ),
        (
            url().protocol("x").protocol("x"),
            BuildError::InvalidProtocol("x".into()),
        ),
        (
            url().origin("http://a\r\nX: y"),
            BuildError::InvalidHeaderValue("Origin".into()),
        ),
        (
            url().extensions("foo;"),
            BuildError::InvalidExtensions(ExtensionError::ExpectedParamName { at: 4 }),
        ),
        (
            url().extensions("foo\n"),
            BuildError::InvalidHeaderValue("Sec-WebSocket-Extensions".into()),
        ),
        (
            url().header("X", "1\r\n"),
            BuildError::InvalidHeaderValue("X".into()),
        ),
        (
            url().header("X:", "1"),
            BuildError::InvalidHeaderName("X:".into()),
        ),
        (
            url().header("HOST", "evil"),
            BuildError::ReservedHeader("HOST".into()),
        ),
        (
            url().header("Sec-WebSocket-Key", "x"),
            BuildError::ReservedHeader("Sec-WebSocket-Key".into()),
        ),
    ];
    for (request, error) in cases {
        assert_eq!(ClientHandshake::new(&request).unwrap_err(), error);
    }
    // An empty extensions value offers nothing.
    let client = ClientHandshake::new(&url().extensions("")).unwrap();
    assert!(
        !client
            .request_bytes()
            .windows(10)
            .any(|w| w == b"Extensions")
    );
}

#[test]
fn valid_response() {
    let mut client = plain();
    let response = validate(&mut client, OK_RESPONSE).unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(response.protocol(), None);
    assert!(response.extensions().is_empty());
    assert_eq!(response.headers().len(), 3);
}

#[test]
fn lenient_where_the_rfc_is() {
    let variants = [
        ("Upgrade: websocket", "upgrade: WEBSOCKET"),
        ("Connection: Upgrade", "Connection: keep-alive, upgrade"),
        (
            "Connection: Upgrade",
            "Connection: x\r\nConnection: Upgrade",
        ),
        (
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "sec-websocket-accept:\t s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \t",
        ),
    ];
    for (from, to) in variants {
        let response = OK_RESPONSE.replacen(from, to, 1);
        validate(&mut plain(), &response).unwrap_or_else(|e| panic!("{to:?}: {e}"));
    }
}

#[test]
fn response_validation_failures() {
    use ClientHandshakeError::*;
    let cases: Vec<(String, ClientHandshakeError)> = vec![
        (
            OK_RESPONSE.replacen("HTTP/1.1", "HTTP/1.0", 1),
            UnsupportedHttpVersion,
        ),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n".into(),
            UnexpectedStatus {
                status: 200,
                headers: Headers::default(),
                body: Bytes::new(),
            },
        ),
        (
            OK_RESPONSE.replacen("Upgrade: websocket\r\n", "", 1),
            NotWebSocketUpgrade,
        ),
        (
            OK_RESPONSE.replacen("Upgrade: websocket", "Upgrade: h2c", 1),
            NotWebSocketUpgrade,
        ),
        (
            OK_RESPONSE.replacen("Connection: Upgrade\r\n", "", 1),
            MissingConnectionUpgrade,
        ),
        (
            OK_RESPONSE.replacen("Connection: Upgrade", "Connection: close", 1),
            MissingConnectionUpgrade,
        ),
        (
            OK_RESPONSE.replacen(
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
                "",
                1,
            ),
            MissingAccept,
        ),
        (
            OK_RESPONSE.replacen(
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOp=",
                1,
            ),
            InvalidAccept,
        ),
        (
            OK_RESPONSE.replacen(
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                "S3PPLMBITXAQ9KYGZZHZRBK+XOO=",
                1,
            ),
            InvalidAccept,
        ),
        (
            response_with("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
            InvalidAccept,
        ),
        (
            response_with("Sec-WebSocket-Protocol: chat\r\n"),
            UnofferedProtocol {
                protocol: "chat".into(),
            },
        ),
        (
            response_with("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
            UnofferedExtension {
                name: "permessage-deflate".into(),
            },
        ),
        (
            response_with("Sec-WebSocket-Extensions: x; y=\r\n"),
            InvalidExtensions(ExtensionError::ExpectedValue { at: 5 }),
        ),
        (
            "HTTP/1.1 101 Switching Protocols\r\nBad Header: x\r\n\r\n".into(),
            InvalidHttp {
                reason: "invalid header name",
            },
        ),
        (
            "HTTP/1.1 1O1 Switching Protocols\r\n\r\n".into(),
            InvalidHttp {
                reason: "invalid status code",
            },
        ),
    ];
    for (response, expected) in cases {
        let error = validate(&mut plain(), &response).unwrap_err();
        match (&error, &expected) {
            // The headers are checked separately below.
            (UnexpectedStatus { status: a, .. }, UnexpectedStatus { status: b, .. }) => {
                assert_eq!(a, b)
            }
            _ => assert_eq!(error, expected, "{response:?}"),
        }
    }
}

#[test]
fn refusal_keeps_status_headers_and_body() {
    let mut client = plain();
    let error = client
        .handle_input(
            b"HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\nContent-Length: 4\r\n\r\nbody",
        )
        .unwrap_err();
    let ClientHandshakeError::UnexpectedStatus {
        status,
        headers,
        body,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(*status, 302);
    assert_eq!(headers.get("location"), Some(&b"ws://elsewhere/"[..]));
    assert_eq!(&body[..], b"body");
    assert_eq!(&client.take_leftover()[..], b"body");
    // The error sticks.
    assert_eq!(client.handle_input(OK_RESPONSE.as_bytes()), Err(error));
}

#[test]
fn a_refusal_body_stops_at_its_content_length_and_at_the_bound() {
    let body_of = |response: &[u8]| match plain().handle_input(response) {
        Err(ClientHandshakeError::UnexpectedStatus { body, .. }) => body,
        other => panic!("{other:?}"),
    };
    // What follows the declared body (another response, garbage) is not part of it.
    let body = body_of(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 9\r\n\r\nbad tokenHTTP/1.1");
    assert_eq!(&body[..], b"bad token");
    let long = [b"HTTP/1.1 500 Oops\r\n\r\n".as_slice(), &[b'x'; 10_000]].concat();
    assert_eq!(body_of(&long).len(), MAX_REFUSAL_BODY);
}

#[test]
fn protocol_selection() {
    let offering = || {
        handshake(
            ClientRequest::new("ws://a/")
                .unwrap()
                .protocol("chat")
                .protocol("superchat"),
        )
    };
    let chosen = validate(
        &mut offering(),
        &response_with("Sec-WebSocket-Protocol: superchat\r\n"),
    )
    .unwrap();
    assert_eq!(chosen.protocol(), Some("superchat"));
    let none = validate(&mut offering(), OK_RESPONSE).unwrap();
    assert_eq!(none.protocol(), None);
    let cases = [
        (
            "Sec-WebSocket-Protocol: other\r\n",
            ClientHandshakeError::UnofferedProtocol {
                protocol: "other".into(),
            },
        ),
        (
            // Subprotocol names are compared exactly.
            "Sec-WebSocket-Protocol: Chat\r\n",
            ClientHandshakeError::UnofferedProtocol {
                protocol: "Chat".into(),
            },
        ),
        (
            "Sec-WebSocket-Protocol: chat, superchat\r\n",
            ClientHandshakeError::InvalidProtocol,
        ),
        (
            "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n",
            ClientHandshakeError::InvalidProtocol,
        ),
        (
            "Sec-WebSocket-Protocol:\r\n",
            ClientHandshakeError::InvalidProtocol,
        ),
    ];
    for (extra, expected) in cases {
        assert_eq!(
            validate(&mut offering(), &response_with(extra)),
            Err(expected),
            "{extra:?}"
        );
    }
}

#[test]
fn extension_acceptance() {
    let offering = || {
        handshake(
            ClientRequest::new("ws://a/")
                .unwrap()
                .extensions("permessage-deflate; client_max_window_bits, x-foo"),
        )
    };
    let response = validate(
        &mut offering(),
        &response_with(
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=\"10\"\r\n\
             Sec-WebSocket-Extensions: X-Foo\r\n",
        ),
    )
    .unwrap();
    assert_eq!(
        response.extensions(),
        [
            ExtensionOffer {
                name: "permessage-deflate".into(),
                params: vec![("server_max_window_bits".into(), Some("10".into()))],
            },
            ExtensionOffer::new("X-Foo"),
        ]
    );
    assert_eq!(
        validate(
            &mut offering(),
            &response_with("Sec-WebSocket-Extensions: x-bar\r\n")
        ),
        Err(ClientHandshakeError::UnofferedExtension {
            name: "x-bar".into()
        })
    );
}

#[test]
fn leftover_one_byte_at_a_time() {
    let mut client = plain();
    let mut input = OK_RESPONSE.as_bytes().to_vec();
    input.extend_from_slice(b"\x81\x05hello");
    let mut responses = Vec::new();
    for byte in input.chunks(1) {
        responses.extend(client.handle_input(byte).unwrap());
    }
    assert_eq!(responses.len(), 1);
    assert_eq!(&client.take_leftover()[..], b"\x81\x05hello");
}

#[test]
fn response_head_limit_is_enforced() {
    let mut client = plain().with_max_header_bytes(64);
    let mut result = Ok(None);
    for chunk in OK_RESPONSE.as_bytes().chunks(7) {
        result = client.handle_input(chunk);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(
        result,
        Err(ClientHandshakeError::HeadTooLarge { limit: 64 })
    );
}

#[test]
fn talks_to_the_server() {
    let request = ClientRequest::new("ws://localhost:9001/echo?x")
        .unwrap()
        .protocol("b")
        .protocol("a")
        .extensions("permessage-deflate");
    let mut client = ClientHandshake::new(&request).unwrap();
    let mut server = ServerHandshake::new();
    let received = server
        .handle_input(client.request_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(received.host(), "localhost:9001");
    assert_eq!(received.path(), "/echo");
    assert_eq!(received.query(), Some("x"));
    let accept = crate::handshake::Accept::new()
        .protocol("a")
        .extensions("permessage-deflate");
    let bytes = received.accept(&accept).unwrap();
    let response = client.handle_input(&bytes).unwrap().unwrap();
    assert_eq!(response.protocol(), Some("a"));
    assert_eq!(
        response.extensions(),
        [ExtensionOffer::new("permessage-deflate")]
    );
}

proptest! {
    #[test]
    fn any_bytes_any_chunking_never_panics(
        input in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
        limit in 0usize..700,
    ) {
        let mut client = plain().with_max_header_bytes(limit);
        for chunk in crate::handshake::chunks(&input, &cuts) {
            let _ = client.handle_input(chunk);
        }
        let _ = client.take_leftover();
    }

    #[test]
    fn any_chunking_gives_the_same_response(
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let input = response_with("Sec-WebSocket-Extensions:\r\nX-A: b\r\n") + "tail";
        let mut client = plain();
        let mut responses = Vec::new();
        for chunk in crate::handshake::chunks(input.as_bytes(), &cuts) {
            responses.extend(client.handle_input(chunk).unwrap());
        }
        let whole = validate(&mut plain(), &input).unwrap();
        prop_assert_eq!(responses, vec![whole]);
        prop_assert_eq!(&client.take_leftover()[..], b"tail");
    }

    #[test]
    fn urls_never_panic_the_builder(url in "(ws|wss|WS|http)://\\PC{0,30}", key in any::<[u8; 16]>()) {
        if let Ok(request) = ClientRequest::new(&url) {
            let client = ClientHandshake::new(&request.key(key)).unwrap();
            // Whatever URL was accepted, the request it makes is one our server parses.
            let mut server = ServerHandshake::new();
            prop_assert!(server.handle_input(client.request_bytes()).unwrap().is_some());
        }
    }
}
