//! Tests of [`super`]: RFC 8441's extended CONNECT, each refusal with its status.

use super::*;
use crate::handshake::{Accept, BuildError, ClientRequest, ExtensionError};

/// RFC 8441 §5.1's request, as an HTTP/2 stack hands it over.
fn rfc_request() -> http::request::Builder {
    http::Request::connect("https://server.example.com/chat?room=1")
        .version(http::Version::HTTP_2)
        .header("sec-websocket-protocol", "chat, superchat")
        .header("sec-websocket-version", "13")
        .header("origin", "http://www.example.com")
}

fn parse(builder: http::request::Builder) -> Result<UpgradeRequest, HandshakeError> {
    UpgradeRequest::from_extended_connect(&builder.body(()).unwrap(), Some("websocket"))
}

#[test]
fn rfc_8441_5_1_example() {
    let request = parse(rfc_request()).unwrap();
    assert!(request.is_extended_connect());
    assert_eq!(request.method(), "CONNECT");
    assert_eq!(request.host(), "server.example.com");
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.query(), Some("room=1"));
    assert_eq!(request.origin(), Some("http://www.example.com"));
    assert_eq!(request.protocols(), ["chat", "superchat"]);
    assert_eq!(request.key(), None);

    let response = request
        .accept_http(&Accept::new().protocol("chat").header("set-cookie", "a=b"))
        .unwrap();
    assert_eq!(response.status(), 200);
    let fields: Vec<(&str, &str)> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
        .collect();
    // RFC 8441 §5: no Upgrade, Connection or Sec-WebSocket-Accept.
    assert_eq!(
        fields,
        [("sec-websocket-protocol", "chat"), ("set-cookie", "a=b")]
    );
}

#[test]
fn the_protocol_token_ignores_case_and_a_key_is_ignored() {
    let connect = rfc_request()
        .header("sec-websocket-key", "not even base64")
        .body(())
        .unwrap();
    let request = UpgradeRequest::from_extended_connect(&connect, Some("WebSocket")).unwrap();
    assert_eq!(request.key(), None);
}

#[test]
fn a_host_field_equal_to_the_authority_is_accepted() {
    let request = parse(rfc_request().header("host", "Server.Example.com")).unwrap();
    assert_eq!(request.host(), "server.example.com");
}

/// Each refusal, with the status and the headers its response carries.
#[test]
fn refusals_and_their_statuses() {
    let cases: Vec<(http::Request<()>, Option<&str>, HandshakeError, u16)> = vec![
        (
            rfc_request()
                .version(http::Version::HTTP_11)
                .body(())
                .unwrap(),
            Some("websocket"),
            HandshakeError::UnsupportedHttpVersion,
            400,
        ),
        (
            rfc_request().method("GET").body(()).unwrap(),
            Some("websocket"),
            HandshakeError::NotConnect,
            405,
        ),
        (
            rfc_request().body(()).unwrap(),
            None,
            HandshakeError::NotExtendedConnect,
            400,
        ),
        (
            rfc_request().body(()).unwrap(),
            Some("webtransport"),
            HandshakeError::UnsupportedConnectProtocol,
            501,
        ),
        (
            rfc_request().uri("ftp://a/chat").body(()).unwrap(),
            Some("websocket"),
            HandshakeError::InvalidScheme,
            400,
        ),
        (
            rfc_request().uri("/chat").body(()).unwrap(),
            Some("websocket"),
            HandshakeError::InvalidScheme,
            400,
        ),
        (
            rfc_request()
                .header("host", "other.example")
                .body(())
                .unwrap(),
            Some("websocket"),
            HandshakeError::InvalidHost,
            400,
        ),
        (
            rfc_request().uri("https://user@a/chat").body(()).unwrap(),
            Some("websocket"),
            HandshakeError::InvalidHost,
            400,
        ),
        (
            rfc_request()
                .header("connection", "upgrade")
                .body(())
                .unwrap(),
            Some("websocket"),
            HandshakeError::ConnectionSpecificHeader { name: "Connection" },
            400,
        ),
        (
            rfc_request()
                .header("upgrade", "websocket")
                .body(())
                .unwrap(),
            Some("websocket"),
            HandshakeError::ConnectionSpecificHeader { name: "Upgrade" },
            400,
        ),
        (
            rfc_request()
                .header("transfer-encoding", "chunked")
                .body(())
                .unwrap(),
            Some("websocket"),
            HandshakeError::ConnectionSpecificHeader {
                name: "Transfer-Encoding",
            },
            400,
        ),
        (
            rfc_request()
                .header("sec-websocket-version", "13")
                .body(())
                .unwrap(),
            Some("websocket"),
            HandshakeError::Http2UnsupportedVersion,
            400,
        ),
        (
            http::Request::connect("https://a/chat")
                .version(http::Version::HTTP_2)
                .body(())
                .unwrap(),
            Some("websocket"),
            HandshakeError::Http2UnsupportedVersion,
            400,
        ),
        (
            rfc_request()
                .header("content-length", "5")
                .body(())
                .unwrap(),
            Some("websocket"),
            HandshakeError::UnexpectedBody,
            400,
        ),
        (
            rfc_request()
                .header("sec-websocket-protocol", "a b")
                .body(())
                .unwrap(),
            Some("websocket"),
            HandshakeError::InvalidProtocols,
            400,
        ),
        (
            rfc_request()
                .header("sec-websocket-extensions", ";x")
                .body(())
                .unwrap(),
            Some("websocket"),
            HandshakeError::InvalidExtensions(ExtensionError::ExpectedName { at: 0 }),
            400,
        ),
        (
            rfc_request()
                .header("origin", "https://b")
                .body(())
                .unwrap(),
            Some("websocket"),
            HandshakeError::DuplicateHeader { name: "Origin" },
            400,
        ),
    ];
    for (request, protocol, expected, status) in cases {
        let error = UpgradeRequest::from_extended_connect(&request, protocol).unwrap_err();
        assert_eq!(error, expected, "{request:?}");
        let response = error.http_response();
        assert_eq!(response.status(), status, "{error:?}");
        assert_eq!(error.status(), status);
        // Valid over HTTP/2: nothing connection-specific; and the body is the fixed text.
        for name in crate::handshake::server::CONNECTION_SPECIFIC {
            assert!(response.headers().get(*name).is_none(), "{error:?}: {name}");
        }
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        assert!(!response.body().is_empty());
        match error {
            HandshakeError::NotConnect => assert_eq!(response.headers()["allow"], "CONNECT"),
            HandshakeError::Http2UnsupportedVersion => {
                assert_eq!(response.headers()["sec-websocket-version"], "13")
            }
            _ => assert_eq!(response.headers().len(), 1, "{error:?}"),
        }
    }
}

#[test]
fn every_refusal_header_name_has_its_http_name() {
    // `http_response` maps the names of `status_headers` to `http`'s lowercase constants.
    for error in [
        HandshakeError::MethodNotAllowed,
        HandshakeError::NotConnect,
        HandshakeError::UnsupportedVersion,
        HandshakeError::Http2UnsupportedVersion,
        HandshakeError::MissingHost,
    ] {
        for (name, _) in error.status_headers() {
            assert_eq!(static_lowercase(name), name.to_ascii_lowercase());
        }
    }
}

#[test]
fn an_extended_connect_has_no_http1_answer() {
    let request = parse(rfc_request()).unwrap();
    assert_eq!(request.accept(&Accept::new()), Err(BuildError::NotHttp1));
}

#[test]
fn connection_specific_fields_cannot_be_added_to_the_200() {
    let request = parse(rfc_request()).unwrap();
    for name in ["Keep-Alive", "Transfer-Encoding", "Upgrade", "Connection"] {
        assert_eq!(
            request.accept_http(&Accept::new().header(name, "x")).err(),
            Some(BuildError::ReservedHeader(name.into())),
        );
    }
}

fn client(url: &str) -> ClientHandshake {
    let request = ClientRequest::new(url)
        .unwrap()
        .protocol("chat")
        .origin("https://example.com")
        .header("authorization", "Bearer 1");
    ClientHandshake::new(&request).unwrap()
}

fn response(status: u16) -> http::response::Builder {
    http::Response::builder()
        .status(status)
        .version(http::Version::HTTP_2)
}

#[test]
fn the_client_request_has_the_pseudo_header_targets_and_no_http1_fields() {
    let request = client("ws://example.com:8080/a?b=1")
        .extended_connect_request()
        .unwrap();
    assert_eq!(request.method(), http::Method::CONNECT);
    assert_eq!(request.version(), http::Version::HTTP_2);
    assert_eq!(request.uri(), "http://example.com:8080/a?b=1");
    let names: Vec<&str> = request.headers().keys().map(|n| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "sec-websocket-version",
            "origin",
            "sec-websocket-protocol",
            "authorization"
        ]
    );
    let secure = client("wss://example.com/")
        .extended_connect_request()
        .unwrap();
    assert_eq!(secure.uri(), "https://example.com/");
}

#[test]
fn client_and_server_agree_through_http_types() {
    let client = client("wss://[::1]:8443/chat");
    let request = client.extended_connect_request().unwrap();
    let server = UpgradeRequest::from_extended_connect(&request, Some(WEBSOCKET_PROTOCOL)).unwrap();
    assert_eq!(server.host(), "[::1]:8443");
    assert_eq!(server.origin(), Some("https://example.com"));
    assert_eq!(
        server.headers().get("authorization"),
        Some(&b"Bearer 1"[..])
    );
    let accepted = server.accept_http(&Accept::new().protocol("chat")).unwrap();
    assert_eq!(accepted.version(), http::Version::HTTP_2);
    let response = client.validate_extended_connect(&accepted).unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.protocol(), Some("chat"));
}

#[test]
fn client_refusals() {
    let client = client("wss://example.com/");
    match client.validate_extended_connect(&response(403).header("x-why", "no").body(()).unwrap()) {
        Err(ClientHandshakeError::UnexpectedStatus {
            status, headers, ..
        }) => {
            assert_eq!(status, 403);
            assert_eq!(headers.get("x-why"), Some(&b"no"[..]));
        }
        other => panic!("{other:?}"),
    }
    // A 101 is HTTP/1.1's answer, never a WebSocket over HTTP/2.
    assert!(matches!(
        client.validate_extended_connect(&response(101).body(()).unwrap()),
        Err(ClientHandshakeError::UnexpectedStatus { status: 101, .. })
    ));
    assert_eq!(
        client.validate_extended_connect(
            &response(200)
                .version(http::Version::HTTP_11)
                .body(())
                .unwrap()
        ),
        Err(ClientHandshakeError::UnsupportedHttpVersion)
    );
    assert_eq!(
        client.validate_extended_connect(
            &response(200)
                .header("sec-websocket-protocol", "other")
                .body(())
                .unwrap()
        ),
        Err(ClientHandshakeError::UnofferedProtocol {
            protocol: "other".into()
        })
    );
    assert_eq!(
        client.validate_extended_connect(
            &response(200)
                .header("sec-websocket-extensions", "x-never")
                .body(())
                .unwrap()
        ),
        Err(ClientHandshakeError::UnofferedExtension {
            name: "x-never".into()
        })
    );
    assert_eq!(
        client.validate_extended_connect(
            &response(200)
                .header("x-big", "a".repeat(10_000))
                .body(())
                .unwrap()
        ),
        Err(ClientHandshakeError::HeadTooLarge { limit: 8192 })
    );
    // No Sec-WebSocket-Accept is needed, nor Upgrade or Connection.
    assert!(
        client
            .validate_extended_connect(&response(200).body(()).unwrap())
            .is_ok()
    );
}
