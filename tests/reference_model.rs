//! `Connection` against the reference decoder (`support::model`, also the fuzz targets' oracle)
//! on RFC 6455 §5.7's examples and hand-picked streams, delivered in every chunking: the same
//! events and the same error, whatever the reads.

mod support;

use rfc6455::{Config, Connection, ConnectionError, Message, Role};
use support::model::{self, Outcome};
use support::*;

/// Feeds `wire` in reads of `chunk` bytes, draining after each, then ends the stream; returns
/// the events and the error.
fn run(
    role: Role,
    config: &Config,
    wire: &[u8],
    chunk: usize,
) -> (Vec<Message>, Option<ConnectionError>) {
    let mut conn = Connection::with_mask_seed(role, config.clone(), SEED);
    let mut events = Vec::new();
    let mut error = None;
    let mut collect = |conn: &mut Connection| {
        for event in drain(conn) {
            match event {
                Ok(message) => events.push(message),
                Err(e) => {
                    assert!(error.is_none(), "a second error {e:?} after {error:?}");
                    error = Some(e);
                }
            }
        }
    };
    for read in wire.chunks(chunk) {
        conn.handle_input(read);
        collect(&mut conn);
    }
    conn.handle_eof();
    collect(&mut conn);
    (events, error)
}

/// The connection agrees with the model on `wire` in every read size from 1 byte to all of it
/// (large streams: a few sizes, 1 byte and whole included).
#[track_caller]
fn agrees(role: Role, config: &Config, wire: &[u8]) -> Outcome {
    let (expected, outcome) = model::expected(role, config, wire);
    let expected_error = match &outcome {
        Outcome::Error(error) => Some(ConnectionError::Protocol(error.clone())),
        Outcome::Closed => None,
        // The stream ends without a closing handshake.
        Outcome::End => Some(ConnectionError::TransportEnded),
    };
    let sizes: Vec<usize> = if wire.len() <= 512 {
        (1..=wire.len().max(1)).collect()
    } else {
        vec![1, 2, 7, 125, 4096, wire.len()]
    };
    for chunk in sizes {
        let (events, error) = run(role, config, wire, chunk);
        assert_eq!(events, expected, "events in reads of {chunk}");
        assert_eq!(error, expected_error, "error in reads of {chunk}");
    }
    outcome
}

/// A masked frame as a client sends it, with a key of its own.
fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    frame(first, payload, Some([0xa1, 0x00, 0x5c, 0xff]))
}

mod section_5_7_examples {
    use super::*;

    #[test]
    fn a_single_frame_unmasked_text_message() {
        let outcome = agrees(
            Role::Client,
            &Config::default(),
            b"\x81\x05\x48\x65\x6c\x6c\x6f",
        );
        assert_eq!(outcome, Outcome::End);
    }

    #[test]
    fn a_single_frame_masked_text_message() {
        let outcome = agrees(
            Role::Server,
            &Config::default(),
            b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
        );
        assert_eq!(outcome, Outcome::End);
    }

    #[test]
    fn a_fragmented_unmasked_text_message() {
        let (events, _) = model::expected(
            Role::Client,
            &Config::default(),
            b"\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f",
        );
        assert_eq!(events, vec![Message::text("Hello")]);
        agrees(
            Role::Client,
            &Config::default(),
            b"\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f",
        );
    }

    #[test]
    fn unmasked_ping_and_masked_pong() {
        agrees(
            Role::Client,
            &Config::default(),
            b"\x89\x05\x48\x65\x6c\x6c\x6f",
        );
        agrees(
            Role::Server,
            &Config::default(),
            b"\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
        );
    }

    #[test]
    fn binary_messages_of_256_bytes_and_64_kib_in_a_single_unmasked_frame() {
        let mut wire = b"\x82\x7e\x01\x00".to_vec();
        wire.extend((0..256).map(|i| i as u8));
        let (events, _) = model::expected(Role::Client, &Config::default(), &wire);
        assert_eq!(events.len(), 1);
        agrees(Role::Client, &Config::default(), &wire);

        let mut wire = b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00".to_vec();
        wire.extend((0..65536).map(|i| (i % 251) as u8));
        agrees(Role::Client, &Config::default(), &wire);
    }

    #[test]
    fn each_example_sent_to_the_wrong_role_fails_on_its_masking() {
        let outcome = agrees(
            Role::Server,
            &Config::default(),
            b"\x81\x05\x48\x65\x6c\x6c\x6f",
        );
        assert!(matches!(outcome, Outcome::Error(_)), "{outcome:?}");
        let outcome = agrees(
            Role::Client,
            &Config::default(),
            b"\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
        );
        assert!(matches!(outcome, Outcome::Error(_)), "{outcome:?}");
    }
}

mod hand_picked {
    use super::*;
    use rfc6455::ProtocolError;

    #[test]
    fn control_frames_between_fragments_and_a_closing_handshake() {
        let mut wire = masked(0x01, b"Hel");
        wire.extend(masked(0x89, b"ping"));
        wire.extend(masked(0x00, "lo €".as_bytes()));
        wire.extend(masked(0x8a, b""));
        wire.extend(masked(0x80, b"!"));
        wire.extend(masked(0x88, b"\x03\xe8bye"));
        // Ignored: after the peer's Close nothing is decoded.
        wire.extend(b"\xff\xff garbage");
        assert_eq!(
            agrees(Role::Server, &Config::default(), &wire),
            Outcome::Closed
        );
    }

    #[test]
    fn invalid_utf8_split_across_fragments_fails_as_soon_as_it_is_hopeless() {
        let euro = "€".as_bytes();
        let mut wire = masked(0x01, &[b'a', euro[0]]);
        wire.extend(masked(0x89, b"still decoded"));
        // A continuation byte was due; '(' makes the text invalid before the frame ends.
        wire.extend(masked(0x80, b"( and more"));
        assert_eq!(
            agrees(Role::Server, &Config::default(), &wire),
            Outcome::Error(ProtocolError::InvalidUtf8)
        );
    }

    #[test]
    fn limits_are_checked_on_the_header_before_the_payload() {
        let config = Config::default().max_frame_size(100).max_message_size(150);
        let mut wire = masked(0x02, &[1; 100]);
        wire.extend(masked(0x80, &[2; 60]));
        assert!(matches!(
            agrees(Role::Server, &config, &wire),
            Outcome::Error(ProtocolError::MessageTooLarge { size: 160, .. })
        ));
        let wire = masked(0x82, &[3; 101]);
        assert!(matches!(
            agrees(Role::Server, &config, &wire[..20]),
            Outcome::Error(ProtocolError::FrameTooLarge { size: 101, .. })
        ));
    }

    #[test]
    fn framing_errors() {
        let cases: [(&[u8], ProtocolError); 5] = [
            (b"\x83\x00", ProtocolError::ReservedOpcode(3)),
            (b"\x82\x7e\x00\x05hello", ProtocolError::NonMinimalLength),
            (b"\x80\x01x", ProtocolError::UnexpectedContinuation),
            (b"\x09\x00", ProtocolError::FragmentedControlFrame),
            (b"\x88\x01\x03", ProtocolError::InvalidClosePayload),
        ];
        for (wire, error) in cases {
            assert_eq!(
                agrees(Role::Client, &Config::default(), wire),
                Outcome::Error(error)
            );
        }
    }

    #[test]
    fn close_codes_that_may_not_be_sent_fail_the_connection() {
        for code in [999u16, 1004, 1005, 1006, 1015, 2999, 5000] {
            let wire = masked(0x88, &code.to_be_bytes());
            assert_eq!(
                agrees(Role::Server, &Config::default(), &wire),
                Outcome::Error(ProtocolError::InvalidCloseCode(code))
            );
        }
    }

    #[test]
    fn a_stream_cut_inside_a_frame_ends_without_an_error_of_its_own() {
        let wire = masked(0x81, b"Hello, world");
        assert_eq!(
            agrees(Role::Server, &Config::default(), &wire[..9]),
            Outcome::End
        );
    }
}
