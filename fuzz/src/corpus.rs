//! The seed corpus: small, valid-ish inputs for every target, built from RFC 6455's examples and
//! from the crate's own encoders. `src/bin/make_corpus.rs` writes them to `seeds/<target>/`.

use rfc6455::frame::{FrameHeader, OpCode};
use rfc6455::handshake::{ClientHandshake, ClientRequest};
use rfc6455::{CloseCode, Config, Connection, Role};

use crate::connection::{
    ConnInput, FLAG_AUTO_PONG, FLAG_EOF, FLAG_FEW_FRAGMENTS, FLAG_READ_BUFFER, FLAG_STRUCTURED,
    FLAG_WRITE_SHIFT, StructuredFrame, encode_structured,
};
use crate::handshake::{
    EXPECTED_ACCEPT, RESP_OFFER_EXTENSIONS, RESP_OFFER_PROTOCOLS, RESP_STRUCTURED, client_request,
};

/// One seed: target, file name, bytes.
pub type Seed = (&'static str, String, Vec<u8>);

/// Every target, in the order the runner uses.
pub const TARGETS: [&str; 9] = [
    "frame_header",
    "close_payload",
    "mask",
    "connection_server",
    "connection_client",
    "handshake_request",
    "handshake_response",
    "handshake_extended_connect",
    "inflate",
];

/// Runs the check of `target` on `data`.
pub fn check(target: &str, data: &[u8]) {
    match target {
        "frame_header" => crate::frame_header::check(data),
        "close_payload" => crate::close_payload::check(data),
        "mask" => crate::mask::check(data),
        "connection_server" => crate::connection::check(Role::Server, data),
        "connection_client" => crate::connection::check(Role::Client, data),
        "handshake_request" => crate::handshake::check_request(data),
        "handshake_response" => crate::handshake::check_response(data),
        "handshake_extended_connect" => crate::extended_connect::check(data),
        "inflate" => crate::inflate::check(data),
        other => panic!("unknown target {other}"),
    }
}

/// All seeds of all targets.
pub fn seeds() -> Vec<Seed> {
    let mut out = Vec::new();
    frame_header(&mut out);
    close_payload(&mut out);
    mask(&mut out);
    connection(&mut out, Role::Server);
    connection(&mut out, Role::Client);
    handshake_request(&mut out);
    handshake_response(&mut out);
    handshake_extended_connect(&mut out);
    inflate(&mut out);
    out
}

fn inflate(out: &mut Vec<Seed>) {
    const T: &str = "inflate";
    // RFC 7692 §7.2.3.1 "Hello", then the same referencing the first (§7.2.3.2).
    push(
        out,
        T,
        "rfc7692-hello-twice",
        [
            &[0x10u8][..],
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            &[0xfe],
            &[0xf2, 0x00, 0x11, 0x00, 0x00],
        ]
        .concat(),
    );
    // A stored block (§7.2.3.3) and a final block (§7.2.3.4).
    push(
        out,
        T,
        "rfc7692-stored",
        [
            &[0x20u8][..],
            &[
                0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
            ],
        ]
        .concat(),
    );
    push(
        out,
        T,
        "rfc7692-bfinal",
        [
            &[0x21u8][..],
            &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
        ]
        .concat(),
    );
    push(out, T, "garbage", [0x01u8, 0xff, 0x00, 0x13, 0x37]);
}

fn push(out: &mut Vec<Seed>, target: &'static str, name: &str, bytes: impl Into<Vec<u8>>) {
    let index = out.iter().filter(|(t, _, _)| *t == target).count();
    out.push((target, format!("{index:02}-{name}"), bytes.into()));
}

/// RFC 6455 §5.7's example frames.
const RFC_5_7: [(&str, &[u8]); 8] = [
    ("text-hello", b"\x81\x05Hello"),
    (
        "masked-text-hello",
        b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
    ),
    ("fragment-hel", b"\x01\x03Hel"),
    ("fragment-lo", b"\x80\x02lo"),
    ("ping-hello", b"\x89\x05Hello"),
    (
        "masked-pong-hello",
        b"\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
    ),
    ("binary-256-header", b"\x82\x7e\x01\x00"),
    (
        "binary-64k-header",
        b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
    ),
];

fn frame_header(out: &mut Vec<Seed>) {
    const T: &str = "frame_header";
    for (name, bytes) in RFC_5_7 {
        push(out, T, &format!("rfc5.7-{name}"), bytes);
    }
    let opcodes = [
        OpCode::Continuation,
        OpCode::Text,
        OpCode::Binary,
        OpCode::Close,
        OpCode::Ping,
        OpCode::Pong,
    ];
    for opcode in opcodes {
        let mut header = FrameHeader::new(opcode, 125);
        header.mask = Some([1, 2, 3, 4]);
        push(
            out,
            T,
            &format!("encoded-{opcode:?}-masked"),
            &*header.encode(),
        );
    }
    for len in [0u64, 126, 65535, 65536, i64::MAX as u64] {
        let mut header = FrameHeader::new(OpCode::Binary, len);
        header.fin = false;
        header.rsv1 = true;
        push(out, T, &format!("encoded-binary-{len}"), &*header.encode());
    }
    let invalid: [(&str, &[u8]); 8] = [
        ("empty", b""),
        ("one-byte", b"\x82"),
        ("reserved-opcode", b"\x83\x00"),
        ("non-minimal-16", b"\x82\x7e\x00\x7d"),
        (
            "non-minimal-64",
            b"\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff",
        ),
        ("length-msb", b"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00"),
        ("fragmented-ping", b"\x09\x00"),
        ("long-ping", b"\x89\xfe\x00\x7e\x01\x02\x03\x04"),
    ];
    for (name, bytes) in invalid {
        push(out, T, name, bytes);
    }
}

fn close_payload(out: &mut Vec<Seed>) {
    const T: &str = "close_payload";
    let mut long = 1000u16.to_be_bytes().to_vec();
    long.extend_from_slice(&[b'x'; 123]);
    let mut too_long = long.clone();
    too_long.push(b'x');
    let cases: [(&str, Vec<u8>); 12] = [
        ("empty", vec![]),
        ("one-byte", vec![0x03]),
        ("normal", b"\x03\xe8".to_vec()),
        ("normal-bye", b"\x03\xe8bye".to_vec()),
        ("going-away", b"\x03\xe9server restart".to_vec()),
        ("no-status-1005", b"\x03\xed".to_vec()),
        ("reserved-1016", b"\x03\xf8".to_vec()),
        ("private-3999", b"\x0f\x9f".to_vec()),
        (
            "private-4999-utf8",
            "\u{13}\u{87}h\u{e9}".as_bytes().to_vec(),
        ),
        ("invalid-utf8", b"\x0b\xb8\xff".to_vec()),
        ("reason-123", long),
        ("reason-124", too_long),
    ];
    for (name, bytes) in cases {
        push(out, T, name, bytes);
    }
}

fn mask(out: &mut Vec<Seed>) {
    use crate::mask::encode;
    const T: &str = "mask";
    let rfc_key = [0x37, 0xfa, 0x21, 0x3d];
    push(out, T, "rfc5.7-hello", encode(rfc_key, 0, 0, &[], b"Hello"));
    push(
        out,
        T,
        "rfc5.7-hello-split",
        encode(rfc_key, 0, 3, &[2], b"\x7f\x9f\x4d\x51\x58"),
    );
    let long: Vec<u8> = (0..=255u8).collect();
    push(
        out,
        T,
        "long-unaligned-splits",
        encode(
            [0xde, 0xad, 0xbe, 0xef],
            1,
            5,
            &[1, 7, 8, 9, 64, 200],
            &long,
        ),
    );
    push(
        out,
        T,
        "huge-offset",
        encode([0xff; 4], u64::MAX - 1, 7, &[3, 33], &long[..77]),
    );
    push(out, T, "zero-key-empty", encode([0; 4], 2, 1, &[0, 0], b""));
}

/// A connection input with generous limits, one chunk size and no ops.
fn conn_input(flags: u8, chunk: u8, wire: Vec<u8>) -> ConnInput {
    ConnInput {
        flags,
        max_message_size: 4095,
        max_frame_size: 4095,
        max_fragments: 0,
        timers: [0; 4],
        max_send_buffer: 0,
        clock: 0,
        chunks: vec![chunk],
        ops: vec![],
        wire,
    }
}

/// What a peer of `role` sends for one of a few typical exchanges, from the crate's encoder.
fn peer_bytes(role: Role, script: impl FnOnce(&mut Connection)) -> Vec<u8> {
    let peer_role = match role {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    };
    let mut peer = Connection::with_mask_seed(peer_role, Config::default(), [7; 32]);
    script(&mut peer);
    peer.take_transmit().to_vec()
}

fn connection(out: &mut Vec<Seed>, role: Role) {
    let target = match role {
        Role::Server => "connection_server",
        Role::Client => "connection_client",
    };
    let text = peer_bytes(role, |p| p.send_text("Hello, wörld").unwrap());
    let mixed = peer_bytes(role, |p| {
        p.send_text("Hello").unwrap();
        p.send_binary(&[0, 1, 2, 3, 0xff]).unwrap();
        p.send_ping(b"are you there").unwrap();
        p.send_pong(b"").unwrap();
        p.send_text_fragment("Hel", false).unwrap();
        p.send_ping(b"between fragments").unwrap();
        p.send_text_fragment("lo €", true).unwrap();
        p.send_binary_fragment(&[9; 200], false).unwrap();
        p.send_binary_fragment(&[8; 10], true).unwrap();
        p.close(CloseCode::NORMAL, "bye").unwrap();
    });
    let close_only = peer_bytes(role, |p| p.close(CloseCode(4000), "app").unwrap());
    let big = peer_bytes(role, |p| p.send_binary(&[0x42; 3000]).unwrap());
    let mixed_for_timers = peer_bytes(role, |p| {
        p.send_text("first").unwrap();
        p.send_pong(&1u64.to_be_bytes()).unwrap();
        p.send_ping(b"x").unwrap();
    });

    push(
        out,
        target,
        "text",
        conn_input(FLAG_AUTO_PONG, 255, text.clone()).encode(),
    );
    push(
        out,
        target,
        "mixed-whole",
        conn_input(FLAG_AUTO_PONG, 255, mixed.clone()).encode(),
    );
    push(
        out,
        target,
        "mixed-byte-by-byte-read-buffer",
        conn_input(FLAG_AUTO_PONG | FLAG_READ_BUFFER, 0, mixed.clone()).encode(),
    );
    push(
        out,
        target,
        "close",
        conn_input(FLAG_AUTO_PONG, 7, close_only).encode(),
    );
    let mut limited = conn_input(
        FLAG_AUTO_PONG | FLAG_FEW_FRAGMENTS | (2 << FLAG_WRITE_SHIFT),
        31,
        mixed,
    );
    limited.max_message_size = 99;
    limited.max_frame_size = 63;
    limited.max_fragments = 1;
    push(out, target, "mixed-small-limits", limited.encode());
    let mut too_big = conn_input(FLAG_EOF, 100, big);
    too_big.max_frame_size = 2047;
    push(out, target, "frame-too-large", too_big.encode());

    // Local sends interleaved with input, then end of input.
    let mut with_ops = conn_input(FLAG_AUTO_PONG | FLAG_EOF | (1 << FLAG_WRITE_SHIFT), 3, text);
    with_ops.chunks = vec![3, 0, 17];
    with_ops.ops = vec![
        [0, 0, 5], // send_text
        [2, 1, 4], // ping
        [5, 1, 6], // text fragment, not final
        [1, 2, 9], // send_binary while fragmenting: refused
        [5, 2, 7], // text fragment, final
        [4, 3, 0], // close 1000
        [0, 4, 1], // send after close: refused
    ];
    push(out, target, "ops-and-eof", with_ops.encode());

    // Timers: keepalive every 1 s, pong timeout 0.5 s, idle 3 s, close timeout 2 s; the clock
    // moves 0.3 s per chunk, and ops move it further.
    let mut timed = conn_input(
        FLAG_AUTO_PONG | (2 << FLAG_WRITE_SHIFT),
        5,
        mixed_for_timers.clone(),
    );
    timed.timers = [10, 5, 30, 20];
    timed.clock = 0x80 | 3;
    timed.max_send_buffer = 64;
    timed.ops = vec![
        [0, 1, 40],   // a long text: fills the small send buffer
        [2, 2, 3],    // a ping: queued all the same; reading pauses instead
        [8, 255, 12], // after the input, 1.2 s of silence: a keepalive ping
        [8, 255, 6],  // 0.6 s more without an answer: Close 1011 "keepalive timeout"
    ];
    push(out, target, "timers-and-backpressure", timed.encode());
    let mut closing = conn_input(FLAG_AUTO_PONG, 255, vec![]);
    closing.timers = [0, 0, 0, 10];
    // Close, start the clock, then let the 1 s close timer run out.
    closing.ops = vec![[4, 0, 0], [8, 0, 5], [8, 0, 11]];
    push(out, target, "close-timeout", closing.encode());

    // The peer breaks a rule.
    let rule_breakers: [(&str, &[u8]); 4] = match role {
        Role::Server => [
            ("rfc5.7-masked-hello", RFC_5_7[1].1),
            ("unmasked-text", RFC_5_7[0].1),
            ("reserved-opcode", b"\x83\x80\x00\x00\x00\x00"),
            ("rsv1-set", b"\xc1\x80\x00\x00\x00\x00"),
        ],
        Role::Client => [
            ("rfc5.7-hello", RFC_5_7[0].1),
            ("rfc5.7-fragments", b"\x01\x03Hel\x80\x02lo\x89\x05Hello"),
            ("masked-pong", RFC_5_7[5].1),
            ("continuation-first", b"\x80\x02lo"),
        ],
    };
    for (name, bytes) in rule_breakers {
        push(
            out,
            target,
            name,
            conn_input(FLAG_AUTO_PONG, 255, bytes.to_vec()).encode(),
        );
    }

    // Structured: the harness frames and masks, so payloads stay readable to the fuzzer.
    let split_euro = "€".as_bytes();
    let structured = [
        (
            "utf8-split-across-fragments",
            vec![
                StructuredFrame::new(0x01, &[b'a', split_euro[0]]),
                StructuredFrame::new(0x89, b"ping"),
                StructuredFrame::new(0x00, &split_euro[1..]),
                StructuredFrame::new(0x80, b"b"),
                StructuredFrame::new(0x88, b"\x03\xe8done"),
            ],
        ),
        (
            "invalid-utf8-text",
            vec![StructuredFrame::new(0x81, b"ok \xc3\x28 not")],
        ),
        (
            "bad-close-code",
            vec![StructuredFrame::new(0x88, b"\x03\xed")],
        ),
        (
            "wrong-mask",
            vec![StructuredFrame {
                wrong_mask: true,
                ..StructuredFrame::new(0x82, b"data")
            }],
        ),
        (
            "truncated-frame",
            vec![StructuredFrame {
                declared_len: 300,
                ..StructuredFrame::new(0x82, &[7; 100])
            }],
        ),
        (
            "interleaved-data",
            vec![
                StructuredFrame::new(0x02, b"one"),
                StructuredFrame::new(0x81, b"two"),
            ],
        ),
    ];
    for (name, frames) in structured {
        push(
            out,
            target,
            &format!("structured-{name}"),
            conn_input(
                FLAG_AUTO_PONG | FLAG_STRUCTURED | FLAG_EOF,
                4,
                encode_structured(&frames),
            )
            .encode(),
        );
    }
}

/// RFC 6455 §1.3's request.
const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

fn with_prefix(prefix: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    out.extend_from_slice(body);
    out
}

fn handshake_extended_connect(out: &mut Vec<Seed>) {
    use crate::extended_connect::{FLAG_CLIENT, FLAG_GET, FLAG_HTTP11};
    const T: &str = "handshake_extended_connect";
    const WEBSOCKET: u8 = 1;
    const PROTOCOL_LINE: u8 = 3;
    // RFC 8441 §5.1's request.
    let rfc = b"https://server.example.com/chat\nsec-websocket-protocol: chat, superchat\n\
sec-websocket-version: 13\norigin: http://www.example.com";
    push(out, T, "rfc8441-5.1", with_prefix(&[WEBSOCKET], rfc));
    push(out, T, "no-protocol", with_prefix(&[0], rfc));
    push(out, T, "get", with_prefix(&[WEBSOCKET | FLAG_GET], rfc));
    push(
        out,
        T,
        "http11",
        with_prefix(&[WEBSOCKET | FLAG_HTTP11], rfc),
    );
    push(
        out,
        T,
        "webtransport",
        with_prefix(
            &[PROTOCOL_LINE],
            b"webtransport\nhttps://a/chat\nsec-websocket-version: 13",
        ),
    );
    let near_misses: [(&str, &[u8]); 5] = [
        ("version-8", b"https://a/\nsec-websocket-version: 8"),
        (
            "connection-header",
            b"https://a/\nsec-websocket-version: 13\nconnection: upgrade",
        ),
        (
            "host-mismatch",
            b"http://a/\nsec-websocket-version: 13\nhost: b",
        ),
        (
            "deflate-offer",
            b"http://a:80/x?y\nsec-websocket-version: 13\n\
sec-websocket-extensions: permessage-deflate; client_max_window_bits",
        ),
        ("ftp-scheme", b"ftp://a/\nsec-websocket-version: 13"),
    ];
    for (name, bytes) in near_misses {
        push(out, T, name, with_prefix(&[WEBSOCKET], bytes));
    }
    push(
        out,
        T,
        "response-200",
        with_prefix(
            &[FLAG_CLIENT],
            b"200\nsec-websocket-protocol: chat\nsec-websocket-extensions: permessage-deflate",
        ),
    );
    push(
        out,
        T,
        "response-403",
        with_prefix(&[FLAG_CLIENT], b"403\ncontent-type: text/plain"),
    );
}

fn handshake_request(out: &mut Vec<Seed>) {
    const T: &str = "handshake_request";
    push(out, T, "rfc1.3", with_prefix(&[0, 0], RFC_REQUEST));
    push(
        out,
        T,
        "rfc1.3-byte-by-byte",
        with_prefix(&[1, 0], RFC_REQUEST),
    );
    let mut with_frame = RFC_REQUEST.to_vec();
    with_frame.extend_from_slice(RFC_5_7[1].1);
    push(
        out,
        T,
        "rfc1.3-with-frame",
        with_prefix(&[13, 0], &with_frame),
    );
    let client = ClientHandshake::new(
        &ClientRequest::new("ws://example.com:8080/path?query=1")
            .unwrap()
            .origin("https://example.com")
            .protocol("v2.chat")
            .protocol("v1.chat")
            .extensions("permessage-deflate; client_max_window_bits, x-custom; a=\"b\"")
            .header("Authorization", "Bearer abc")
            .key(*b"0123456789abcdef"),
    )
    .unwrap();
    push(
        out,
        T,
        "client-request",
        with_prefix(&[64, 0], client.request_bytes()),
    );
    let absolute = b"GET http://example.com/chat?x=1 HTTP/1.1\r\nHost: example.com\r\n\
Upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\
Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    push(out, T, "absolute-form", with_prefix(&[0, 0], absolute));
    let bad: [(&str, &[u8]); 6] = [
        ("post", b"POST /chat HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("http10", b"GET / HTTP/1.0\r\nHost: a\r\n\r\n"),
        (
            "version-8",
            b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
        ),
        (
            "duplicate-host",
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nUpgrade: websocket\r\n\r\n",
        ),
        (
            "short-key-with-body",
            b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\nContent-Length: 5\r\n\r\nhello",
        ),
        ("bare-lf", b"GET / HTTP/1.1\nHost: a\n\n\r\n\r\n"),
    ];
    for (name, bytes) in bad {
        push(out, T, name, with_prefix(&[5, 0], bytes));
    }
    // A limit of 48 bytes (selector 129): the RFC request is too large.
    push(out, T, "too-large", with_prefix(&[0, 129], RFC_REQUEST));
}

fn handshake_response(out: &mut Vec<Seed>) {
    const T: &str = "handshake_response";
    let valid = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: {EXPECTED_ACCEPT}\r\n\r\n"
    );
    push(out, T, "valid", with_prefix(&[0, 0, 0], valid.as_bytes()));
    let mut with_frame = valid.clone().into_bytes();
    with_frame.extend_from_slice(b"\x81\x02hi");
    push(
        out,
        T,
        "valid-with-frame",
        with_prefix(&[0, 1, 0], &with_frame),
    );
    let negotiated = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n\
sec-websocket-accept:  {EXPECTED_ACCEPT} \r\nSec-WebSocket-Protocol: superchat\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12\r\n\r\n"
    );
    let mode = RESP_OFFER_PROTOCOLS | RESP_OFFER_EXTENSIONS;
    push(
        out,
        T,
        "negotiated",
        with_prefix(&[mode, 9, 0], negotiated.as_bytes()),
    );
    push(
        out,
        T,
        "unoffered-protocol",
        with_prefix(&[0, 0, 0], negotiated.as_bytes()),
    );
    let wrong_accept = valid.replace(EXPECTED_ACCEPT, "dGhlIHNhbXBsZSBub25jZQ==");
    push(
        out,
        T,
        "wrong-accept",
        with_prefix(&[0, 0, 0], wrong_accept.as_bytes()),
    );
    push(
        out,
        T,
        "unauthorized",
        with_prefix(
            &[0, 0, 0],
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 4\r\n\r\nnope",
        ),
    );
    push(
        out,
        T,
        "too-large",
        with_prefix(&[0, 0, 130], valid.as_bytes()),
    );
    // Structured: edit scripts over the valid template.
    let s = RESP_STRUCTURED;
    push(out, T, "structured-template", vec![s, 0, 0, 0]);
    push(
        out,
        T,
        "structured-template-negotiated",
        vec![s | mode, 3, 0, 0, b'\x81', b'\x00'],
    );
    // Insert "Sec-WebSocket-Protocol: chat, superchat" (dictionary 14) after the status line.
    push(
        out,
        T,
        "structured-protocol-list",
        vec![s | mode, 0, 0, 1, 2, 1, 14, 0],
    );
    // Delete the accept line (line 3), then duplicate the Upgrade line.
    push(
        out,
        T,
        "structured-no-accept",
        vec![s, 0, 0, 2, 0, 3, 0, 0, 1, 1, 0, 0],
    );
    // Flip the case of the accept value's first letter: a wrong accept.
    push(
        out,
        T,
        "structured-accept-case",
        vec![s, 0, 0, 1, 3, 3, 22, b'S'],
    );

    // The request's offers must match what the checks assume.
    let _ = client_request(mode);
}
