//! permessage-deflate (RFC 7692) through the connection and over loopback sockets.
#![cfg(feature = "deflate")]

mod support;

use proptest::prelude::*;
use rfc6455::ConnectionError;
use rfc6455::deflate::DeflateConfig;
use rfc6455::frame::{FrameHeader, Parse};
use rfc6455::handshake::ExtensionOffer;
use rfc6455::handshake::deflate::{accept_response, negotiate};
use rfc6455::{CloseCode, Config, Connection, Message, ProtocolError, Role};
use support::*;

/// A client and a server that negotiated permessage-deflate with `config` on both sides.
fn deflate_pair(config: DeflateConfig, max_message: usize) -> Pair {
    let (client, server) = deflate_connections(config, max_message);
    Pair::from_connections(client, server)
}

/// The two connections of [`deflate_pair`], for a test that plays one side by hand.
fn deflate_connections(config: DeflateConfig, max_message: usize) -> (Connection, Connection) {
    let offers = ExtensionOffer::parse_list(config.offer().as_bytes()).unwrap();
    let server_params = negotiate(&offers, &config).unwrap();
    let answer = ExtensionOffer::parse_list(server_params.response().as_bytes()).unwrap();
    let client_params = accept_response(&answer, &config).unwrap().unwrap();
    let base = Config::default()
        .max_message_size(max_message)
        .deflate(Some(config));
    let client =
        Connection::with_mask_seed(Role::Client, base.clone(), SEED).with_deflate(client_params);
    let server = Connection::new(Role::Server, base).with_deflate(server_params);
    (client, server)
}

fn first_header(bytes: &[u8]) -> FrameHeader {
    match FrameHeader::parse(bytes) {
        Ok(Parse::Complete(header, _)) => header,
        other => panic!("{other:?}"),
    }
}

#[test]
fn large_messages_are_compressed_with_rsv1_and_small_ones_are_not() {
    let mut pair = deflate_pair(DeflateConfig::default(), 1 << 20);
    let json = r#"{"type":"message","room":"lobby","payload":"hello"}"#.repeat(100);
    pair.client.send_text(&json).unwrap();
    pair.step();
    let wire = std::mem::take(&mut pair.to_server);
    assert!(first_header(&wire).rsv1, "compressed");
    assert!(
        wire.len() < json.len() / 5,
        "{} bytes for {}",
        wire.len(),
        json.len()
    );
    assert_eq!(
        pair.take_server_events(),
        vec![Ok(Message::text(json.as_str()))]
    );

    pair.client.send_text("tiny").unwrap();
    pair.step();
    let wire = std::mem::take(&mut pair.to_server);
    assert!(!first_header(&wire).rsv1, "below the threshold");
    // The opt-out sends even a large message as it is.
    pair.client
        .send_uncompressed(Message::text(json.as_str()))
        .unwrap();
    pair.step();
    assert!(!first_header(&pair.to_server).rsv1);
    assert_eq!(
        pair.take_server_events(),
        vec![Ok(Message::text("tiny")), Ok(Message::text(json.as_str()))]
    );
}

#[test]
fn a_compressed_message_sent_in_fragments_has_rsv1_on_the_first_frame_only() {
    let mut pair = deflate_pair(DeflateConfig::default().threshold(0), 1 << 20);
    pair.client.send_binary_fragment(&[1; 3000], false).unwrap();
    pair.client.send_ping(b"between").unwrap();
    pair.client.send_binary_fragment(&[2; 3000], true).unwrap();
    pair.drive();
    let wire = std::mem::take(&mut pair.to_server);
    let mut rest = &wire[..];
    let mut rsv1 = Vec::new();
    while let Ok(Parse::Complete(header, len)) = FrameHeader::parse(rest) {
        rsv1.push((header.opcode, header.rsv1));
        rest = &rest[len + header.payload_len as usize..];
    }
    use rfc6455::frame::OpCode::*;
    assert_eq!(
        rsv1,
        vec![(Binary, true), (Ping, false), (Continuation, false)]
    );
    let mut expected = vec![1; 3000];
    expected.extend([2; 3000]);
    assert_eq!(
        pair.take_server_events(),
        vec![
            Ok(Message::Ping("between".into())),
            Ok(Message::binary(expected))
        ]
    );
    // The automatic pong goes back uncompressed.
    assert_eq!(
        pair.take_frames_to_client(),
        vec![(Pong, b"between".to_vec())]
    );
}

#[test]
fn rsv1_on_a_control_frame_or_continuation_fails() {
    let (_, mut server) = deflate_connections(DeflateConfig::default(), 1 << 20);
    assert_failing(
        &mut server,
        &client_frame(0xc9, b""),
        ProtocolError::ReservedBits,
    );
    let (_, mut server) = deflate_connections(DeflateConfig::default(), 1 << 20);
    let mut wire = client_frame(0x02, b"x");
    wire.extend(client_frame(0xc0, b"y"));
    assert_failing(&mut server, &wire, ProtocolError::ReservedBits);
}

#[test]
fn a_compression_bomb_closes_with_1009_without_holding_more_than_the_limit() {
    // 10 MiB of zeros, compressed at the best level by the sender: a few KiB on the wire.
    let sender_config = DeflateConfig::default().level(9).threshold(0);
    let (client, _) = deflate_connections(sender_config, 64 << 20);
    let (_, server) = deflate_connections(DeflateConfig::default(), 1 << 20);
    let mut pair = Pair::from_connections(client, server);
    pair.client.send_binary(&vec![0; 10 << 20]).unwrap();
    pair.drive();
    assert!(
        pair.to_server.len() < 16 * 1024,
        "{} bytes",
        pair.to_server.len()
    );
    let events = pair.take_server_events();
    assert!(
        matches!(
            events[..],
            [Err(ConnectionError::Protocol(
                ProtocolError::MessageTooLarge { max: 1_048_576, .. }
            ))]
        ),
        "{events:?}"
    );
    assert_eq!(pair.to_client, server_close(CloseCode::MESSAGE_TOO_BIG));
    assert_eq!(
        pair.take_client_events(),
        vec![Ok(Message::Close(Some(
            rfc6455::CloseFrame::new(CloseCode::MESSAGE_TOO_BIG, "").unwrap()
        )))],
        "the sender learns why"
    );
}

#[test]
fn corrupt_compressed_data_closes_with_1007() {
    let (_, mut server) = deflate_connections(DeflateConfig::default(), 1 << 20);
    assert_failing(
        &mut server,
        &client_frame(0xc2, &[0xff; 8]),
        ProtocolError::InvalidCompressedData,
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_messages_round_trip_compressed_in_any_chunking(
        messages in proptest::collection::vec(prop_oneof![
            "\\PC{0,300}".prop_map(Message::from),
            proptest::collection::vec(0u8..4, 0..5000).prop_map(Message::from),
        ], 1..10),
        low_memory in any::<bool>(),
        chunk in 1usize..200,
    ) {
        let config = if low_memory { DeflateConfig::low_memory() } else { DeflateConfig::default() };
        let mut pair = deflate_pair(config.threshold(0), 1 << 20);
        pair.read_size = chunk;
        for message in &messages {
            pair.client.send(message.clone()).unwrap();
        }
        pair.drive();
        let received: Vec<_> = pair.take_server_events().into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(received, messages.clone());
        // And back, server to client.
        for message in &messages {
            pair.server.send(message.clone()).unwrap();
        }
        pair.drive();
        let echoed: Vec<_> = pair.take_client_events().into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(echoed, messages);
    }
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_client_and_server_negotiate_and_compress() {
    use futures_util::StreamExt;
    use rfc6455::tokio::WebSocket;

    let (listener, addr) = tokio_listener().await;
    let url = ws_url(addr);
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let config = Config::default().deflate(Some(DeflateConfig::default()));
        let mut ws = WebSocket::accept_with(stream, config, |request| {
            assert!(
                request
                    .extensions()
                    .iter()
                    .any(|e| e.name == "permessage-deflate")
            );
            Ok(Default::default())
        })
        .await
        .unwrap();
        assert!(ws.connection().is_compressed());
        while let Some(message) = ws.next().await {
            let message = message.unwrap();
            if message.is_text() || message.is_binary() {
                ws.send(message).await.unwrap();
            }
        }
    });
    let request = rfc6455::handshake::ClientRequest::new(&url).unwrap();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let config = Config::default().deflate(Some(DeflateConfig::default()));
    let (mut ws, response) = WebSocket::client(stream, &request, config).await.unwrap();
    assert_eq!(response.extensions()[0].name, "permessage-deflate");
    assert!(ws.connection().is_compressed());
    let big = "compressible ".repeat(10_000);
    ws.send_text(&big).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::text(big.as_str()));
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    while ws.next().await.is_some() {}
    server.await.unwrap();
}

#[test]
fn prepared_messages_are_compressed_in_both_roles_and_decode() {
    let mut pair = deflate_pair(DeflateConfig::default().threshold(0), 1 << 20);
    let prepared = rfc6455::PreparedMessage::text(&"broadcast ".repeat(50));
    pair.server.send_prepared(&prepared).unwrap();
    pair.step();
    let wire = std::mem::take(&mut pair.to_client);
    assert!(first_header(&wire).rsv1, "compressed");
    assert!(
        wire.len() < prepared.frame().len() / 5,
        "{} bytes",
        wire.len()
    );
    assert_eq!(
        pair.take_client_events(),
        vec![Ok(Message::text("broadcast ".repeat(50)))]
    );
    assert_eq!(prepared.compressed_variants(), 1);

    // The client masks the same compressed payload into a frame of its own.
    pair.client.send_prepared(&prepared).unwrap();
    pair.step();
    let header = first_header(&pair.to_server);
    assert!(header.rsv1);
    assert!(
        header.mask.is_some(),
        "a client masks even a prepared message"
    );
    assert_eq!(
        pair.take_server_events(),
        vec![Ok(Message::text("broadcast ".repeat(50)))]
    );
    assert_eq!(prepared.compressed_variants(), 1, "same level and window");

    // Below the threshold, or with compression off, the uncompressed frame goes out as it is.
    let mut pair = deflate_pair(DeflateConfig::default(), 1 << 20);
    pair.server.send_prepared(&prepared).unwrap();
    pair.step();
    assert_eq!(pair.to_client, prepared.frame());
    let mut plain = Connection::new(Role::Server, Config::default());
    plain.send_prepared(&prepared).unwrap();
    assert_eq!(plain.take_transmit(), prepared.frame());
}

/// Issue 17's broadcast: one 1 KiB message to 1,000 members that negotiated the same
/// no-context-takeover parameters is compressed once, and every member gets the same bytes.
#[test]
fn a_broadcast_to_a_thousand_members_compresses_once() {
    let config = DeflateConfig::default();
    let text = chat_json(1024);
    let prepared = rfc6455::PreparedMessage::text(&text);
    let mut members: Vec<_> = (0..1000)
        .map(|_| deflate_connections(config.clone(), 1 << 20))
        .collect();
    let mut first = None;
    for (client, server) in &mut members {
        server.send_prepared(&prepared).unwrap();
        let wire = server.take_transmit().to_vec();
        let first = first.get_or_insert_with(|| wire.clone());
        assert_eq!(&wire, first, "every member gets the same frame");
        client.handle_input(&wire);
        assert_eq!(client.poll_recv(), Ok(Some(Message::text(text.as_str()))));
    }
    assert_eq!(prepared.compressed_variants(), 1, "one compression");
    let first = first.unwrap();
    assert!(first_header(&first).rsv1);
    assert!(first.len() < text.len() / 2, "{} bytes", first.len());
    // What a member compressing the message itself would send.
    let (_, mut alone) = deflate_connections(config.clone(), 1 << 20);
    alone.send_text(&text).unwrap();
    assert_eq!(alone.take_transmit(), &first[..]);

    // A member with context takeover, in the same broadcast, compresses with its own compressor:
    // a correct frame of its own, and the shared one stays the only compression.
    let (mut client, mut server) = deflate_connections(DeflateConfig::context_takeover(), 1 << 20);
    for _ in 0..2 {
        server.send_prepared(&prepared).unwrap();
        let wire = server.take_transmit().to_vec();
        assert!(first_header(&wire).rsv1);
        client.handle_input(&wire);
        assert_eq!(client.poll_recv(), Ok(Some(Message::text(text.as_str()))));
    }
    assert_eq!(prepared.compressed_variants(), 1);

    // Other parameters (a smaller window, another level) get a variant of their own, once.
    for _ in 0..3 {
        for config in [config.clone().max_window_bits(10), config.clone().level(6)] {
            let (mut client, mut server) = deflate_connections(config, 1 << 20);
            server.send_prepared(&prepared).unwrap();
            client.handle_input(&server.take_transmit());
            assert_eq!(client.poll_recv(), Ok(Some(Message::text(text.as_str()))));
        }
    }
    assert_eq!(prepared.compressed_variants(), 3);
}

/// Chat-like JSON of `size` bytes: repetitive keys, varying values.
fn chat_json(size: usize) -> String {
    let mut out = String::from("[");
    let mut i = 0u64;
    while out.len() < size {
        out.push_str(&format!(
            r#"{{"type":"message","id":{i},"room":"lobby-{}","user":"user{}","text":"hello number {i}"}},"#,
            i % 7,
            i % 113
        ));
        i += 1;
    }
    out.truncate(size);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// A prepared message, compressed once and shared or compressed by a connection with context
    /// takeover, decodes to itself on the other side, in both roles and any chunking.
    #[test]
    fn prepared_messages_round_trip_compressed_in_any_chunking(
        messages in proptest::collection::vec(prop_oneof![
            "\\PC{0,300}".prop_map(|text: String| rfc6455::PreparedMessage::text(&text)),
            proptest::collection::vec(0u8..4, 0..5000)
                .prop_map(|data| rfc6455::PreparedMessage::binary(&data)),
        ], 1..6),
        takeover in any::<bool>(),
        window in 9u8..=15,
        chunk in 1usize..200,
    ) {
        let config = if takeover {
            DeflateConfig::context_takeover()
        } else {
            DeflateConfig::default()
        };
        let mut pair = deflate_pair(config.max_window_bits(window).threshold(0), 1 << 20);
        pair.read_size = chunk;
        let expected: Vec<Message> = messages
            .iter()
            .map(|m| match m.is_text() {
                true => Message::text(std::str::from_utf8(m.payload()).unwrap()),
                false => Message::binary(m.payload().to_vec()),
            })
            .collect();
        for message in &messages {
            pair.server.send_prepared(message).unwrap();
        }
        pair.drive();
        let received: Vec<_> = pair.take_client_events().into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(&received, &expected);
        for message in &messages {
            pair.client.send_prepared(message).unwrap();
        }
        pair.drive();
        let received: Vec<_> = pair.take_server_events().into_iter().map(Result::unwrap).collect();
        prop_assert_eq!(received, expected);
        for message in &messages {
            prop_assert_eq!(message.compressed_variants(), usize::from(!takeover));
        }
    }
}

/// A room publishing to members that negotiated permessage-deflate compresses the message once:
/// their writer tasks share the prepared message's compressed frame.
#[cfg(feature = "rooms")]
#[tokio::test]
async fn a_room_publish_to_compressing_members_compresses_once() {
    use rfc6455::rooms::Rooms;
    use rfc6455::tokio::WebSocket;

    let rooms = Rooms::new();
    let config = Config::default().deflate(Some(DeflateConfig::default()));
    let mut clients = Vec::new();
    let mut keep = Vec::new();
    for i in 0..20 {
        let (listener, addr) = tokio_listener().await;
        let server_config = config.clone();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let ws = WebSocket::accept_with(stream, server_config, |_| Ok(Default::default()))
                .await
                .unwrap();
            assert!(ws.connection().is_compressed());
            ws.into_split()
        });
        let request = rfc6455::handshake::ClientRequest::new(&ws_url(addr)).unwrap();
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (ws, _) = WebSocket::client(stream, &request, config.clone())
            .await
            .unwrap();
        let (reader, writer) = server.await.unwrap();
        let member = rooms.attach(writer, &format!("member{i}"));
        assert!(member.join("lobby"));
        clients.push(ws);
        keep.push((reader, member));
    }
    let text = chat_json(3000);
    let prepared = rfc6455::PreparedMessage::text(&text);
    assert_eq!(rooms.publish("lobby", &prepared).delivered, 20);
    for ws in &mut clients {
        assert_eq!(ws.recv().await.unwrap(), Message::text(text.as_str()));
    }
    assert_eq!(prepared.compressed_variants(), 1);
}
