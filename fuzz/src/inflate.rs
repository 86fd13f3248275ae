//! The permessage-deflate receive path: arbitrary bytes as the payload of compressed frames sent
//! to a server that negotiated compression with a small message limit.
//!
//! Input: byte 0 picks the limit (1..=4096 bytes) and whether the client asked for no context
//! takeover; the rest is split into up to four compressed messages at `0xff 0xfe` markers. The
//! inflated size limit must hold for every message delivered, and any failure must be 1007
//! (undecodable), 1009 (too big) or 1002, with that Close frame queued.

use rfc6455::deflate::DeflateConfig;
use rfc6455::frame::{FrameHeader, OpCode};
use rfc6455::handshake::ExtensionOffer;
use rfc6455::handshake::deflate::{accept_response, negotiate};
use rfc6455::{CloseCode, Config, Connection, Message, Role, apply_mask};

/// Runs one input.
pub fn check(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let limit = 1 + (usize::from(control) * 16) % 4096;
    // Both the pooled path (no context takeover, the default) and state kept between messages.
    let config = if control & 1 == 1 {
        DeflateConfig::default()
    } else {
        DeflateConfig::context_takeover()
    };
    let offers =
        ExtensionOffer::parse_list(config.offer().as_bytes()).expect("our own offer parses");
    let params = negotiate(&offers, &config).expect("our own offer is accepted");
    let answer = ExtensionOffer::parse_list(params.response().as_bytes()).expect("response parses");
    accept_response(&answer, &config).expect("our own response is acceptable");
    let base = Config::default()
        .max_message_size(limit)
        .deflate(Some(config));
    let mut server = Connection::new(Role::Server, base).with_deflate(params);

    let mut wire = Vec::new();
    for (i, payload) in rest.split(|&b| b == 0xfe).take(4).enumerate() {
        let mut header = FrameHeader::new(
            if i % 2 == 0 {
                OpCode::Binary
            } else {
                OpCode::Text
            },
            payload.len() as u64,
        );
        header.rsv1 = true;
        let key = [0x11, 0x22, 0x33, u8::try_from(i).unwrap_or(0)];
        header.mask = Some(key);
        wire.extend_from_slice(&header.encode());
        let start = wire.len();
        wire.extend_from_slice(payload);
        apply_mask(&mut wire[start..], key, 0);
    }
    server.handle_input(&wire);
    loop {
        match server.poll_recv() {
            Ok(Some(Message::Text(text))) => {
                assert!(text.len() <= limit, "text of {} > {limit}", text.len())
            }
            Ok(Some(Message::Binary(data))) => {
                assert!(data.len() <= limit, "binary of {} > {limit}", data.len())
            }
            Ok(Some(other)) => panic!("unexpected event {other:?}"),
            Ok(None) => break,
            Err(error) => {
                let code = error.close_code();
                assert!(
                    [
                        CloseCode::INVALID_PAYLOAD,
                        CloseCode::MESSAGE_TOO_BIG,
                        CloseCode::PROTOCOL_ERROR
                    ]
                    .contains(&code),
                    "{error:?} closes with {code}"
                );
                let out = server.take_transmit();
                assert!(
                    out.ends_with(&code.0.to_be_bytes()),
                    "the Close with {code} is queued: {out:?}"
                );
                assert_eq!(server.poll_recv(), Ok(None));
                break;
            }
        }
    }
}
