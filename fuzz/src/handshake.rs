//! `handshake_request` and `handshake_response`: the opening handshake (RFC 6455 §4) fed in
//! chunks, checked against an independent reading of the head and against a one-shot feed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rfc6455::handshake::{
    Accept, BuildError, ClientHandshake, ClientHandshakeError, ClientRequest, HandshakeError,
    MAX_REFUSAL_BODY, ServerHandshake, UpgradeRequest, UpgradeResponse, accept_key,
};

use crate::{Cursor, chunks, find, head_limit, trim_ows};

/// The end of an HTTP head.
const TERMINATOR: &[u8] = b"\r\n\r\n";

/// What the handshake should have answered, from a plain search for the terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The head ends at this length, within the limit: a request/response or a non-size error.
    Head(usize),
    /// No terminator within the limit and at least `limit` bytes: the head is too large.
    TooLarge,
    /// Too short to decide.
    NeedMore,
}

fn expect(input: &[u8], limit: usize) -> Expect {
    match find(input, TERMINATOR).map(|p| p + TERMINATOR.len()) {
        Some(end) if end <= limit => Expect::Head(end),
        _ if input.len() >= limit => Expect::TooLarge,
        _ => Expect::NeedMore,
    }
}

// ------------------------------------------------------------------------ server side

/// Input: chunk size (1 byte, 0 = one chunk), head-limit selector (1 byte, see [`head_limit`]),
/// then the bytes a client sends.
pub fn check_request(data: &[u8]) {
    let mut cursor = Cursor::new(data);
    let chunk = usize::from(cursor.u8());
    let limit_selector = cursor.u8();
    let input = cursor.rest();
    let new_handshake = || match head_limit(limit_selector) {
        Some(limit) => ServerHandshake::new().with_max_header_bytes(limit),
        None => ServerHandshake::new(),
    };
    let limit = head_limit(limit_selector).unwrap_or(rfc6455::handshake::DEFAULT_MAX_HEADER_BYTES);

    let mut server = new_handshake();
    let mut outcome: Option<Result<UpgradeRequest, HandshakeError>> = None;
    for piece in chunks(input, chunk) {
        let result = server.handle_input(piece);
        match (&outcome, result) {
            (None, Ok(None)) => {}
            (None, Ok(Some(request))) => outcome = Some(Ok(request)),
            (None, Err(error)) => outcome = Some(Err(error)),
            // After the request, later bytes are leftover.
            (Some(Ok(_)), result) => assert_eq!(result, Ok(None), "after the request"),
            // Errors are sticky.
            (Some(Err(first)), result) => assert_eq!(result.as_ref(), Err(first)),
        }
    }

    // Chunking does not change the answer.
    let mut whole = new_handshake();
    let one_shot = whole.handle_input(input).transpose();
    assert_eq!(one_shot, outcome, "one-shot and chunked feeds disagree");

    match (expect(input, limit), &outcome) {
        (Expect::NeedMore, None) => {}
        (Expect::TooLarge, Some(Err(HandshakeError::HeadTooLarge { limit: l }))) => {
            assert_eq!(*l, limit)
        }
        (Expect::Head(_), Some(Err(HandshakeError::HeadTooLarge { .. }))) => {
            panic!("a head within the limit refused as too large")
        }
        (Expect::Head(end), Some(result)) => {
            let leftover = server.take_leftover();
            match result {
                Ok(request) => {
                    // Leftover and head account for every byte.
                    assert_eq!(
                        leftover.len() + end,
                        input.len(),
                        "leftover + head != input"
                    );
                    assert_eq!(&leftover[..], &input[end..]);
                    assert_eq!(&whole.take_leftover()[..], &input[end..]);
                    check_valid_request(request, &input[..end]);
                }
                Err(error) => {
                    assert!(
                        input[end..].starts_with(&leftover),
                        "leftover is not what followed the head"
                    );
                    assert_eq!(&whole.take_leftover()[..], &input[end..]);
                    check_request_error(error);
                }
            }
        }
        (expected, outcome) => panic!("expected {expected:?}, got {outcome:?}"),
    }
    if let Some(Err(error)) = &outcome {
        check_request_error(error);
        // Still the same error for any later byte.
        assert_eq!(server.handle_input(b"\r\n\r\n").as_ref(), Err(error));
    }
}

fn check_request_error(error: &HandshakeError) {
    let status = error.status();
    assert!(
        [400, 405, 426, 431].contains(&status),
        "{error:?} answers with {status}"
    );
    let response = error.response_bytes();
    let status_line = format!("HTTP/1.1 {status} ");
    assert!(
        response.starts_with(status_line.as_bytes()),
        "{error:?}: {}",
        String::from_utf8_lossy(&response)
    );
    // The response is a well-formed HTTP/1.1 response whose body matches its Content-Length and
    // that closes the connection.
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut parsed = httparse::Response::new(&mut headers);
    let head_len = match parsed.parse(&response) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("unparsable error response {other:?}"),
    };
    assert_eq!(parsed.code, Some(status));
    let field = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    };
    let length: usize = std::str::from_utf8(field("Content-Length").expect("Content-Length"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(length, response.len() - head_len);
    let connection = field("Connection").expect("Connection");
    assert!(
        connection
            .split(|&b| b == b',')
            .any(|t| trim_ows(t).eq_ignore_ascii_case(b"close"))
    );
    match error {
        HandshakeError::MethodNotAllowed => assert_eq!(field("Allow"), Some(&b"GET"[..])),
        HandshakeError::UnsupportedVersion => {
            assert_eq!(field("Sec-WebSocket-Version"), Some(&b"13"[..]))
        }
        _ => {}
    }
}

fn check_valid_request(request: &UpgradeRequest, head: &[u8]) {
    assert_eq!(request.method(), "GET");
    assert!(request.path().starts_with('/'), "path {:?}", request.path());
    assert!(!request.host().is_empty());
    // The key is base64 for 16 bytes (RFC 6455 §4.2.1), decoded independently.
    let key = request.key().expect("an upgrade request has a key");
    let decoded = BASE64.decode(key.as_bytes());
    assert!(
        decoded.as_ref().is_ok_and(|k| k.len() == 16),
        "accepted key {key:?}"
    );
    assert!(find(head, key.as_bytes()).is_some());
    for protocol in request.protocols() {
        assert!(!protocol.is_empty());
    }

    let response = request.accept(&Accept::default()).expect("default accept");
    assert!(response.starts_with(b"HTTP/1.1 101 "));
    assert!(response.ends_with(b"\r\n\r\n"));
    let accept_line = format!(
        "\r\nSec-WebSocket-Accept: {}\r\n",
        accept_key(key.as_bytes())
    );
    assert!(
        find(&response, accept_line.as_bytes()).is_some(),
        "{}",
        String::from_utf8_lossy(&response)
    );
    // Selecting an offered subprotocol works and is echoed; an unoffered one is refused.
    if let Some(first) = request.protocols().first() {
        let response = request
            .accept(&Accept::new().protocol(first.clone()))
            .expect("offered protocol");
        let line = format!("\r\nSec-WebSocket-Protocol: {first}\r\n");
        assert!(find(&response, line.as_bytes()).is_some());
    }
    let unoffered = "never-offered.invalid";
    if !request.protocols().iter().any(|p| p == unoffered) {
        assert_eq!(
            request.accept(&Accept::new().protocol(unoffered)),
            Err(BuildError::UnofferedProtocol(unoffered.into()))
        );
    }
    check_request_via_http(request);
}

/// The same request through the `http` crate's types validates the same way.
fn check_request_via_http(request: &UpgradeRequest) {
    let mut builder = http::Request::builder()
        .method("GET")
        .uri(request.target())
        .version(http::Version::HTTP_11);
    for (name, value) in request.headers().iter() {
        builder = builder.header(name, value);
    }
    // Not every head httparse accepts is representable in `http` types; skip those.
    let Ok(http_request) = builder.body(()) else {
        return;
    };
    let again = match UpgradeRequest::from_http(&http_request) {
        Ok(again) => again,
        Err(error) => panic!(
            "from_http refuses what the wire accepted: {error:?} for target {:?}",
            request.target()
        ),
    };
    assert_eq!(again.key(), request.key());
    assert_eq!(again.path(), request.path());
    assert_eq!(again.query(), request.query());
    assert_eq!(again.protocols(), request.protocols());
    assert_eq!(again.extensions(), request.extensions());
    assert_eq!(again.origin(), request.origin());
    let response = request
        .accept_http(&Accept::default())
        .expect("accept_http");
    assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(
        response.headers()["sec-websocket-accept"].as_bytes(),
        accept_key(request.key().unwrap_or_default().as_bytes()).as_bytes()
    );
}

// ------------------------------------------------------------------------ client side

/// The pinned nonce: RFC 6455 §1.3's, so the expected accept value is the RFC's too.
pub const NONCE: [u8; 16] = *b"the sample nonce";
/// `accept_key(base64(NONCE))`.
pub const EXPECTED_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// Subprotocols offered with [`RESP_OFFER_PROTOCOLS`].
pub const PROTOCOLS: [&str; 2] = ["chat", "superchat"];
/// Extensions offered with [`RESP_OFFER_EXTENSIONS`].
pub const EXTENSIONS: &str = "permessage-deflate; client_max_window_bits, x-custom";

/// Mode byte: the rest is an edit script applied to a valid response (see [`build_response`]).
pub const RESP_STRUCTURED: u8 = 0x01;
/// Mode byte: offer [`PROTOCOLS`].
pub const RESP_OFFER_PROTOCOLS: u8 = 0x02;
/// Mode byte: offer [`EXTENSIONS`].
pub const RESP_OFFER_EXTENSIONS: u8 = 0x04;

/// Header lines an edit can insert: near-misses of every rule of RFC 6455 §4.1's validation.
pub const DICTIONARY: &[&str] = &[
    "Upgrade: websocket",
    "Upgrade: WebSocket",
    "Upgrade: h2c, websocket",
    "Upgrade: websockets",
    "Connection: Upgrade",
    "Connection: keep-alive, upgrade",
    "Connection: close",
    "Sec-WebSocket-Accept: $ACCEPT",
    "sec-websocket-accept:\t$ACCEPT \t",
    "Sec-WebSocket-Accept: $ACCEPTx",
    "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Accept:",
    "Sec-WebSocket-Protocol: chat",
    "Sec-WebSocket-Protocol: superchat",
    "Sec-WebSocket-Protocol: chat, superchat",
    "Sec-WebSocket-Protocol: other",
    "Sec-WebSocket-Protocol:",
    "Sec-WebSocket-Extensions: permessage-deflate",
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10",
    "Sec-WebSocket-Extensions: x-custom; a=\"quoted, value\"",
    "Sec-WebSocket-Extensions: x-webkit-deflate-frame",
    "Sec-WebSocket-Extensions: permessage-deflate;;",
    "Sec-WebSocket-Extensions: , x-custom ,",
    "Content-Length: 0",
    "Transfer-Encoding: chunked",
    "HTTP/1.1 101 Switching Protocols",
    "HTTP/1.0 101 Switching Protocols",
    "HTTP/1.1 200 OK",
    "Location: ws://example.com/elsewhere",
    "X-Obs-Text: \u{e9}",
    " folded continuation",
    "",
];

/// The valid 101 response a structured input starts from.
fn template(mode: u8) -> Vec<Vec<u8>> {
    let mut lines = vec![
        b"HTTP/1.1 101 Switching Protocols".to_vec(),
        b"Upgrade: websocket".to_vec(),
        b"Connection: Upgrade".to_vec(),
        format!("Sec-WebSocket-Accept: {EXPECTED_ACCEPT}").into_bytes(),
    ];
    if mode & RESP_OFFER_PROTOCOLS != 0 {
        lines.push(b"Sec-WebSocket-Protocol: chat".to_vec());
    }
    if mode & RESP_OFFER_EXTENSIONS != 0 {
        lines.push(b"Sec-WebSocket-Extensions: permessage-deflate".to_vec());
    }
    lines
}

/// Builds a response from an edit script: a count byte, then `count` edits of 4 bytes
/// `[op, a, b, c]` applied to the template's lines, then the bytes that follow the head.
///
/// Ops (`op % 8`): 0 delete line `a`; 1 duplicate line `a`; 2 insert `DICTIONARY[b]` before line
/// `a`; 3 set byte `b` of line `a` to `c`; 4 insert byte `c` at `b` in line `a`; 5 delete byte
/// `b` of line `a`; 6 flip the ASCII case of line `a`; 7 swap lines `a` and `b`.
pub fn build_response(mode: u8, script: &[u8]) -> Vec<u8> {
    let mut lines = template(mode);
    let mut cursor = Cursor::new(script);
    let count = cursor.u8();
    for _ in 0..count {
        let [op, a, b, c] = [cursor.u8(), cursor.u8(), cursor.u8(), cursor.u8()];
        let n = lines.len();
        let line = |n: usize| if n == 0 { 0 } else { usize::from(a) % n };
        match op % 8 {
            0 if n > 0 => {
                lines.remove(line(n));
            }
            1 if n > 0 => {
                let copy = lines[line(n)].clone();
                lines.insert(line(n), copy);
            }
            2 => {
                let entry = DICTIONARY[usize::from(b) % DICTIONARY.len()];
                let entry = entry.replace("$ACCEPT", EXPECTED_ACCEPT);
                lines.insert(usize::from(a) % (n + 1), entry.into_bytes());
            }
            3 if n > 0 => {
                let l = &mut lines[line(n)];
                if !l.is_empty() {
                    let at = usize::from(b) % l.len();
                    l[at] = c;
                }
            }
            4 if n > 0 => {
                let l = &mut lines[line(n)];
                let at = usize::from(b) % (l.len() + 1);
                l.insert(at, c);
            }
            5 if n > 0 => {
                let l = &mut lines[line(n)];
                if !l.is_empty() {
                    let at = usize::from(b) % l.len();
                    l.remove(at);
                }
            }
            6 if n > 0 => {
                for byte in &mut lines[line(n)] {
                    if byte.is_ascii_alphabetic() {
                        *byte ^= 0x20;
                    }
                }
            }
            7 if n > 0 => {
                let other = usize::from(b) % n;
                lines.swap(line(n), other);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for line in &lines {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(cursor.rest());
    out
}

/// The client request for a mode byte.
pub fn client_request(mode: u8) -> ClientRequest {
    let mut request = ClientRequest::new("ws://example.com/chat")
        .unwrap()
        .key(NONCE);
    if mode & RESP_OFFER_PROTOCOLS != 0 {
        for protocol in PROTOCOLS {
            request = request.protocol(protocol);
        }
    }
    if mode & RESP_OFFER_EXTENSIONS != 0 {
        request = request.extensions(EXTENSIONS);
    }
    request
}

/// Input: mode byte (`RESP_*`), chunk size (0 = one chunk), head-limit selector, then the
/// server's bytes, or with [`RESP_STRUCTURED`] an edit script for [`build_response`].
pub fn check_response(data: &[u8]) {
    let mut cursor = Cursor::new(data);
    let mode = cursor.u8();
    let chunk = usize::from(cursor.u8());
    let limit_selector = cursor.u8();
    let rest = cursor.rest();
    let structured = mode & RESP_STRUCTURED != 0;
    let input = if structured {
        build_response(mode, rest)
    } else {
        rest.to_vec()
    };

    let request = client_request(mode);
    let new_handshake = || {
        let handshake = ClientHandshake::new(&request).expect("the request builds");
        match head_limit(limit_selector) {
            Some(limit) => handshake.with_max_header_bytes(limit),
            None => handshake,
        }
    };
    let limit = head_limit(limit_selector).unwrap_or(rfc6455::handshake::DEFAULT_MAX_HEADER_BYTES);
    let mut client = new_handshake();
    assert_eq!(client.key(), BASE64.encode(NONCE));
    assert_eq!(accept_key(client.key().as_bytes()), EXPECTED_ACCEPT);

    let mut outcome: Option<Result<UpgradeResponse, ClientHandshakeError>> = None;
    for piece in chunks(&input, chunk) {
        let result = client.handle_input(piece);
        match (&outcome, result) {
            (None, Ok(None)) => {}
            (None, Ok(Some(response))) => outcome = Some(Ok(response)),
            (None, Err(error)) => outcome = Some(Err(error)),
            (Some(Ok(_)), result) => assert_eq!(result, Ok(None), "after the response"),
            (Some(Err(first)), result) => assert_eq!(result.as_ref(), Err(first)),
        }
    }
    let mut whole = new_handshake();
    let whole_outcome = whole.handle_input(&input).transpose();
    // A refusal keeps the part of its body that came with the head, which depends on how the
    // bytes arrived: the verdicts are compared without it, and the one-shot body checked alone.
    assert_eq!(
        without_body(whole_outcome.clone()),
        without_body(outcome.clone()),
        "one-shot and chunked feeds disagree"
    );
    if let (
        Some(Err(ClientHandshakeError::UnexpectedStatus { headers, body, .. })),
        Expect::Head(end),
    ) = (&whole_outcome, expect(&input, limit))
    {
        let declared = headers
            .get("content-length")
            .and_then(|value| std::str::from_utf8(value).ok())
            .and_then(|value| value.trim().parse::<usize>().ok());
        let kept = declared.unwrap_or(MAX_REFUSAL_BODY).min(MAX_REFUSAL_BODY);
        let after_head = &input[end..];
        assert_eq!(&body[..], &after_head[..after_head.len().min(kept)]);
    }

    match (expect(&input, limit), &outcome) {
        (Expect::NeedMore, None) => {}
        (Expect::TooLarge, Some(Err(ClientHandshakeError::HeadTooLarge { limit: l }))) => {
            assert_eq!(*l, limit)
        }
        (Expect::Head(_), Some(Err(ClientHandshakeError::HeadTooLarge { .. }))) => {
            panic!("a head within the limit refused as too large")
        }
        (Expect::Head(end), Some(result)) => {
            let leftover = client.take_leftover();
            match result {
                Ok(response) => {
                    // Leftover and head account for every byte.
                    assert_eq!(
                        leftover.len() + end,
                        input.len(),
                        "leftover + head != input"
                    );
                    assert_eq!(&leftover[..], &input[end..]);
                    assert_eq!(&whole.take_leftover()[..], &input[end..]);
                    check_valid_response(&whole, response, mode);
                }
                Err(error) => {
                    // After an error, later receives return the error without keeping their
                    // bytes: the leftover is what came with the head's last chunk.
                    assert!(
                        input[end..].starts_with(&leftover),
                        "leftover is not what followed the head"
                    );
                    assert_eq!(&whole.take_leftover()[..], &input[end..]);
                    check_response_error(error);
                }
            }
        }
        (expected, outcome) => panic!("expected {expected:?}, got {outcome:?}"),
    }
    // The unedited template is a valid response (a check on the harness itself), within the
    // default limit.
    if structured && rest.first().is_none_or(|&count| count == 0) && limit_selector < 128 {
        assert!(
            matches!(outcome, Some(Ok(_))),
            "the template was refused: {outcome:?}"
        );
    }
    if let Some(Err(error)) = &outcome {
        assert_eq!(client.handle_input(b"\r\n\r\n").as_ref(), Err(error));
    }
}

/// An outcome with any refusal body removed.
fn without_body(
    outcome: Option<Result<UpgradeResponse, ClientHandshakeError>>,
) -> Option<Result<UpgradeResponse, ClientHandshakeError>> {
    outcome.map(|result| {
        result.map_err(|error| match error {
            ClientHandshakeError::UnexpectedStatus {
                status, headers, ..
            } => ClientHandshakeError::UnexpectedStatus {
                status,
                headers,
                body: Default::default(),
            },
            other => other,
        })
    })
}

fn check_response_error(error: &ClientHandshakeError) {
    match error {
        ClientHandshakeError::UnexpectedStatus { status, body, .. } => {
            assert!(body.len() <= MAX_REFUSAL_BODY);
            assert_ne!(*status, 101);
            assert_eq!(error.status(), Some(*status));
        }
        ClientHandshakeError::HeadTooLarge { .. }
        | ClientHandshakeError::TooManyHeaders
        | ClientHandshakeError::InvalidHttp { .. }
        | ClientHandshakeError::UnsupportedHttpVersion => assert_eq!(error.status(), None),
        _ => assert_eq!(error.status(), Some(101)),
    }
}

fn check_valid_response(client: &ClientHandshake, response: &UpgradeResponse, mode: u8) {
    assert_eq!(response.status(), 101);
    let headers = response.headers();
    // Success only when exactly one Sec-WebSocket-Accept is present and, ignoring surrounding
    // whitespace, equals the value derived from the key sent.
    let accepts: Vec<&[u8]> = headers.get_all("Sec-WebSocket-Accept").collect();
    assert_eq!(
        accepts.len(),
        1,
        "accepted with {} accept headers",
        accepts.len()
    );
    assert_eq!(
        trim_ows(accepts[0]),
        EXPECTED_ACCEPT.as_bytes(),
        "accepted a wrong Sec-WebSocket-Accept"
    );
    let has_token = |name: &str, token: &str| {
        headers.get_all(name).any(|value| {
            value
                .split(|&b| b == b',')
                .any(|t| trim_ows(t).eq_ignore_ascii_case(token.as_bytes()))
        })
    };
    assert!(has_token("Upgrade", "websocket"));
    assert!(has_token("Connection", "upgrade"));
    match response.protocol() {
        Some(protocol) => {
            assert!(mode & RESP_OFFER_PROTOCOLS != 0, "unoffered {protocol:?}");
            assert!(PROTOCOLS.contains(&protocol));
            assert_eq!(headers.get_all("Sec-WebSocket-Protocol").count(), 1);
        }
        None => assert!(!headers.contains("Sec-WebSocket-Protocol")),
    }
    for extension in response.extensions() {
        assert!(mode & RESP_OFFER_EXTENSIONS != 0, "unoffered {extension:?}");
        assert!(
            ["permessage-deflate", "x-custom"]
                .iter()
                .any(|name| extension.name.eq_ignore_ascii_case(name)),
            "unoffered {extension:?}"
        );
    }
    check_response_via_http(client, response);
}

/// The same response through the `http` crate's types validates the same way.
fn check_response_via_http(client: &ClientHandshake, response: &UpgradeResponse) {
    let mut builder = http::Response::builder()
        .status(101)
        .version(http::Version::HTTP_11);
    for (name, value) in response.headers().iter() {
        builder = builder.header(name, value);
    }
    let Ok(http_response) = builder.body(()) else {
        return;
    };
    match client.validate_http(&http_response) {
        Ok(again) => {
            assert_eq!(again.protocol(), response.protocol());
            assert_eq!(again.extensions(), response.extensions());
        }
        // validate_http writes the head out again; with the default limit it may be longer than
        // the wire head (": " separators), never otherwise different.
        Err(ClientHandshakeError::HeadTooLarge { .. }) => {}
        Err(error) => panic!("validate_http refuses what the wire accepted: {error:?}"),
    }
}
