//! Property tests: whatever one role sends, the other receives unchanged, in any chunking; and no
//! byte string makes either role panic or misreport an error.

mod support;

use proptest::prelude::*;
use rfc6455::Transport;
use rfc6455::{CloseCode, Config, Connection, Message, Role};
use support::*;

/// One thing the application asks the sending side to do.
#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    /// A text message in fragments, with a ping after the first one.
    FragmentedText(Vec<String>),
    FragmentedBinary(Vec<Vec<u8>>),
}

fn op() -> impl Strategy<Value = Op> {
    let bytes = || {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            proptest::collection::vec(any::<u8>(), 60_000..70_000)
        ]
    };
    prop_oneof![
        "\\PC{0,60}".prop_map(Op::Text),
        bytes().prop_map(Op::Binary),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Ping),
        proptest::collection::vec("\\PC{0,20}", 1..5).prop_map(Op::FragmentedText),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..5)
            .prop_map(Op::FragmentedBinary),
    ]
}

/// Sends `ops` and returns the messages the peer should see, in order.
fn perform(sender: &mut Connection, ops: &[Op]) -> Vec<Message> {
    let mut expected = Vec::new();
    for op in ops {
        match op {
            Op::Text(text) => {
                sender.send_text(text).unwrap();
                expected.push(Message::text(text.as_str()));
            }
            Op::Binary(data) => {
                sender.send_binary(data).unwrap();
                expected.push(Message::binary(data.clone()));
            }
            Op::Ping(data) => {
                sender.send_ping(data).unwrap();
                expected.push(Message::Ping(data.clone().into()));
            }
            Op::FragmentedText(parts) => {
                for (i, part) in parts.iter().enumerate() {
                    sender
                        .send_text_fragment(part, i + 1 == parts.len())
                        .unwrap();
                    if i == 0 && parts.len() > 1 {
                        sender.send_ping(b"between").unwrap();
                        expected.push(Message::Ping("between".into()));
                    }
                }
                expected.push(Message::text(parts.concat()));
            }
            Op::FragmentedBinary(parts) => {
                for (i, part) in parts.iter().enumerate() {
                    sender
                        .send_binary_fragment(part, i + 1 == parts.len())
                        .unwrap();
                }
                expected.push(Message::binary(parts.concat()));
            }
        }
    }
    sender.close(CloseCode::NORMAL, "bye").unwrap();
    expected.push(Message::Close(Some(rfc6455::CloseFrame {
        code: CloseCode::NORMAL,
        reason: "bye".into(),
    })));
    expected
}

fn deliver_in_chunks(receiver: &mut Connection, wire: &[u8], chunk: usize) -> Vec<Message> {
    let mut received = Vec::new();
    for piece in wire.chunks(chunk) {
        receiver.handle_input(piece);
        for event in drain(receiver) {
            received.push(event.expect("a valid stream never fails"));
        }
    }
    received
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn client_to_server_in_any_chunking(ops in proptest::collection::vec(op(), 0..8), chunk in prop_oneof![Just(1usize), 2usize..64, Just(usize::MAX)]) {
        let mut client = Connection::with_mask_seed(Role::Client, Config::default(), SEED);
        let expected = perform(&mut client, &ops);
        let wire = output(&mut client);
        let mut server = server();
        prop_assert_eq!(deliver_in_chunks(&mut server, &wire, chunk), expected);
        prop_assert!(matches!(server.transport(), Transport::ShutdownWrite | Transport::Release));
    }

    #[test]
    fn server_to_client_in_any_chunking(ops in proptest::collection::vec(op(), 0..8), chunk in prop_oneof![Just(1usize), 2usize..64, Just(usize::MAX)]) {
        let mut server = server();
        let expected = perform(&mut server, &ops);
        let wire = output(&mut server);
        let mut client = client();
        prop_assert_eq!(deliver_in_chunks(&mut client, &wire, chunk), expected);
    }

    #[test]
    fn arbitrary_bytes_yield_events_or_one_error_with_a_sendable_code(
        data in proptest::collection::vec(any::<u8>(), 0..512),
        chunk in 1usize..32,
        is_server in any::<bool>(),
    ) {
        let role = if is_server { Role::Server } else { Role::Client };
        let config = Config::default().max_message_size(256);
        let mut conn = Connection::with_mask_seed(role, config, SEED);
        let mut errors = Vec::new();
        for piece in data.chunks(chunk) {
            conn.handle_input(piece);
            loop {
                match conn.poll_recv() {
                    Ok(Some(message)) => prop_assert!(message.len() <= 256),
                    Ok(None) => break,
                    Err(error) => errors.push(error),
                }
            }
        }
        prop_assert!(errors.len() <= 1, "an error is reported once: {:?}", errors);
        if let Some(error) = errors.first() {
            prop_assert!(error.close_code().is_sendable());
            prop_assert!(matches!(conn.transport(), Transport::ShutdownWrite | Transport::Release));
        }
    }
}
