//! The connection's behaviour, grouped by the section of RFC 6455 that requires it.

mod support;

use rfc6455::frame::{FrameHeader, Parse};
use rfc6455::{
    CloseCode, CloseFrame, Config, Connection, Message, ProtocolError, Role, SendError, State,
};
use rfc6455::{ConnectionError, Transport};
use support::*;

mod section_5_1_masking {
    use super::*;

    #[test]
    fn a_server_fails_on_an_unmasked_frame() {
        assert_failing(
            &mut server(),
            &frame(0x81, b"hi", None),
            ProtocolError::UnmaskedFrame,
        );
    }

    #[test]
    fn a_client_fails_on_a_masked_frame() {
        let mut client = client();
        client.handle_input(&frame(0x82, b"hi", Some([1, 2, 3, 4])));
        assert_eq!(
            drain(&mut client),
            vec![Err(ProtocolError::MaskedFrame.into())]
        );
        // The client's Close is masked: decode it with the parser to check the code.
        let out = output(&mut client);
        let Ok(Parse::Complete(header, len)) = FrameHeader::parse(&out) else {
            panic!("{out:?}")
        };
        let mut payload = out[len..].to_vec();
        rfc6455::apply_mask(
            &mut payload,
            header.mask.expect("client frames are masked"),
            0,
        );
        assert_eq!(payload, 1002u16.to_be_bytes());
        assert!(matches!(
            client.transport(),
            Transport::ShutdownWrite | Transport::Release
        ));
    }

    #[test]
    fn client_frames_are_masked_with_a_fresh_key_each_and_reproducible_from_the_seed() {
        let mut a = client();
        let mut b = client();
        for conn in [&mut a, &mut b] {
            conn.send_text("Hello").unwrap();
            conn.send_text("Hello").unwrap();
        }
        let bytes = output(&mut a);
        assert_eq!(bytes, output(&mut b), "same seed, same bytes");
        let Ok(Parse::Complete(first, n)) = FrameHeader::parse(&bytes) else {
            panic!()
        };
        let Ok(Parse::Complete(second, _)) = FrameHeader::parse(&bytes[n + 5..]) else {
            panic!()
        };
        assert_ne!(first.mask, second.mask, "a fresh key per frame");
        let mut server = server();
        server.handle_input(&bytes);
        assert_eq!(
            drain(&mut server),
            vec![Ok(Message::text("Hello")), Ok(Message::text("Hello"))]
        );
        // Another seed gives other keys.
        let mut c = Connection::with_mask_seed(Role::Client, Config::default(), [8; 32]);
        c.send_text("Hello").unwrap();
        assert_ne!(output(&mut c)[..6], bytes[..6]);
    }
}

mod section_5_2_base_framing {
    use super::*;

    #[test]
    fn reserved_bits_without_an_extension_fail() {
        for first in [0xc1, 0xa1, 0x91] {
            assert_failing(
                &mut server(),
                &client_frame(first, b"x"),
                ProtocolError::ReservedBits,
            );
        }
    }

    #[test]
    fn reserved_opcodes_fail() {
        assert_failing(
            &mut server(),
            &client_frame(0x83, b""),
            ProtocolError::ReservedOpcode(3),
        );
        assert_failing(
            &mut server(),
            &client_frame(0x8b, b""),
            ProtocolError::ReservedOpcode(0xb),
        );
    }

    #[test]
    fn non_minimal_lengths_fail() {
        assert_failing(
            &mut server(),
            b"\x82\xfe\x00\x05\x00\x00\x00\x00",
            ProtocolError::NonMinimalLength,
        );
    }
}

mod section_5_4_fragmentation {
    use super::*;

    #[test]
    fn fragments_are_assembled_with_control_frames_between_them() {
        let mut server = server();
        let mut wire = client_frame(0x01, b"Hel");
        wire.extend(client_frame(0x89, b"p"));
        wire.extend(client_frame(0x00, b"l"));
        wire.extend(client_frame(0x80, b"o"));
        server.handle_input(&wire);
        assert_eq!(
            drain(&mut server),
            vec![Ok(Message::Ping("p".into())), Ok(Message::text("Hello"))]
        );
        assert_eq!(output(&mut server), frame(0x8a, b"p", None));
    }

    #[test]
    fn a_continuation_without_a_message_fails() {
        assert_failing(
            &mut server(),
            &client_frame(0x80, b"x"),
            ProtocolError::UnexpectedContinuation,
        );
    }

    #[test]
    fn a_new_message_inside_a_fragmented_one_fails() {
        let mut wire = client_frame(0x01, b"a");
        wire.extend(client_frame(0x82, b"b"));
        assert_failing(&mut server(), &wire, ProtocolError::ExpectedContinuation);
    }

    #[test]
    fn empty_fragments_are_fine() {
        let mut server = server();
        let mut wire = client_frame(0x02, b"");
        wire.extend(client_frame(0x00, b""));
        wire.extend(client_frame(0x80, b""));
        server.handle_input(&wire);
        assert_eq!(drain(&mut server), vec![Ok(Message::binary(Vec::new()))]);
    }

    #[test]
    fn fragmented_sends_produce_the_rfc_example() {
        // RFC 6455 §5.7: "Hel" then "lo", unmasked.
        let mut server = server();
        server.send_text_fragment("Hel", false).unwrap();
        assert_eq!(
            server.send_text("x"),
            Err(SendError::FragmentedMessageInProgress)
        );
        assert_eq!(
            server.send_binary_fragment(b"x", true),
            Err(SendError::FragmentTypeMismatch)
        );
        server.send_ping(b"").unwrap();
        server.send_text_fragment("lo", true).unwrap();
        assert_eq!(output(&mut server), b"\x01\x03Hel\x89\x00\x80\x02lo");
    }
}

mod section_5_5_control_frames {
    use super::*;

    #[test]
    fn pings_are_answered_with_the_same_payload() {
        let mut server = server();
        server.handle_input(&client_frame(0x89, b"Hello"));
        assert_eq!(drain(&mut server), vec![Ok(Message::Ping("Hello".into()))]);
        // RFC 6455 §5.7: the unmasked pong "Hello".
        assert_eq!(output(&mut server), b"\x8a\x05Hello");
    }

    #[test]
    fn auto_pong_can_be_turned_off() {
        let mut server = Connection::new(Role::Server, Config::default().auto_pong(false));
        server.handle_input(&client_frame(0x89, b"x"));
        assert_eq!(drain(&mut server), vec![Ok(Message::Ping("x".into()))]);
        assert!(output(&mut server).is_empty());
    }

    #[test]
    fn long_or_fragmented_control_frames_fail() {
        assert_failing(
            &mut server(),
            &client_frame(0x89, &[0; 126]),
            ProtocolError::ControlFrameTooLong(126),
        );
        assert_failing(
            &mut server(),
            &client_frame(0x09, b""),
            ProtocolError::FragmentedControlFrame,
        );
    }

    #[test]
    fn control_payload_limits_apply_to_sends() {
        let mut server = server();
        assert_eq!(
            server.send_ping(&[0; 126]),
            Err(SendError::ControlPayloadTooLong(126))
        );
        assert_eq!(server.send_pong(&[0; 125]), Ok(()));
    }
}

mod section_5_5_1_close {
    use super::*;

    #[test]
    fn a_received_close_is_echoed_and_ends_input() {
        let mut server = server();
        let mut wire = client_frame(0x88, b"\x0b\xb8bye");
        wire.extend(client_frame(0x81, b"ignored"));
        server.handle_input(&wire);
        let close = CloseFrame {
            code: CloseCode(3000),
            reason: "bye".into(),
        };
        assert_eq!(drain(&mut server), vec![Ok(Message::Close(Some(close)))]);
        assert_eq!(output(&mut server), server_close(CloseCode(3000)));
        assert_eq!(server.state(), State::Closed);
        assert!(
            matches!(
                server.transport(),
                Transport::ShutdownWrite | Transport::Release
            ),
            "the server closes TCP first"
        );
        assert_eq!(server.send_text("late"), Err(SendError::Closed));
    }

    #[test]
    fn an_empty_close_is_answered_with_1000() {
        let mut server = server();
        server.handle_input(&client_frame(0x88, b""));
        assert_eq!(drain(&mut server), vec![Ok(Message::Close(None))]);
        assert_eq!(output(&mut server), server_close(CloseCode::NORMAL));
    }

    #[test]
    fn a_client_waits_for_the_server_to_close_the_transport() {
        let mut client = client();
        client.close(CloseCode::NORMAL, "done").unwrap();
        assert_eq!(client.state(), State::Closing);
        assert_eq!(client.send_text("x"), Err(SendError::Closed));
        let _ = output(&mut client);
        // Messages sent before the server saw our Close still arrive.
        client.handle_input(&frame(0x81, b"late", None));
        client.handle_input(&server_close(CloseCode::NORMAL));
        let events = drain(&mut client);
        assert_eq!(events[0], Ok(Message::text("late")));
        assert!(matches!(events[1], Ok(Message::Close(Some(_)))));
        assert!(output(&mut client).is_empty(), "no second Close");
        assert_eq!(client.state(), State::Closed);
        assert!(!matches!(
            client.transport(),
            Transport::ShutdownWrite | Transport::Release
        ));
        client.handle_eof();
        assert!(matches!(
            client.transport(),
            Transport::ShutdownWrite | Transport::Release
        ));
        assert!(
            drain(&mut client).is_empty(),
            "a clean close has no error at EOF"
        );
    }

    #[test]
    fn bad_close_payloads_fail() {
        assert_failing(
            &mut server(),
            &client_frame(0x88, b"\x03"),
            ProtocolError::InvalidClosePayload,
        );
        assert_failing(
            &mut server(),
            &client_frame(0x88, b"\x03\xed"),
            ProtocolError::InvalidCloseCode(1005),
        );
        assert_failing(
            &mut server(),
            &client_frame(0x88, b"\x03\xe8\xc0"),
            ProtocolError::InvalidUtf8,
        );
    }

    #[test]
    fn close_arguments_are_checked() {
        let mut server = server();
        assert_eq!(
            server.close(CloseCode::NO_STATUS_RECEIVED, ""),
            Err(SendError::InvalidCloseCode(CloseCode::NO_STATUS_RECEIVED))
        );
        assert_eq!(
            server.close(CloseCode::NORMAL, &"x".repeat(124)),
            Err(SendError::CloseReasonTooLong(124))
        );
        assert_eq!(server.state(), State::Open);
    }
}

mod section_8_1_utf8 {
    use super::*;

    #[test]
    fn invalid_text_fails_before_the_frame_is_complete() {
        let mut server = server();
        let wire = client_frame(0x81, b"valid\xf4\x90\x80\x80 and the rest");
        // Everything up to and including the first impossible byte (0x90), not the whole frame.
        server.handle_input(&wire[..6 + 7]);
        assert_eq!(
            drain(&mut server),
            vec![Err(ProtocolError::InvalidUtf8.into())]
        );
        assert_eq!(
            output(&mut server),
            server_close(CloseCode::INVALID_PAYLOAD)
        );
    }

    #[test]
    fn invalid_text_fails_in_the_fragment_that_contains_it() {
        let mut server = server();
        server.handle_input(&client_frame(0x01, b"ok"));
        assert!(drain(&mut server).is_empty());
        server.handle_input(&client_frame(0x00, b"\xed\xa0\x80"));
        assert_eq!(
            drain(&mut server),
            vec![Err(ProtocolError::InvalidUtf8.into())]
        );
    }

    #[test]
    fn a_code_point_split_across_fragments_is_fine() {
        let euro = "€".as_bytes();
        let mut server = server();
        let mut wire = client_frame(0x01, &euro[..1]);
        wire.extend(client_frame(0x00, &euro[1..2]));
        wire.extend(client_frame(0x80, &euro[2..]));
        server.handle_input(&wire);
        assert_eq!(drain(&mut server), vec![Ok(Message::text("€"))]);
    }

    #[test]
    fn a_message_ending_mid_code_point_fails() {
        assert_failing(
            &mut server(),
            &client_frame(0x81, &"€".as_bytes()[..2]),
            ProtocolError::InvalidUtf8,
        );
    }
}

mod limits {
    use super::*;

    #[test]
    fn a_frame_over_the_limit_fails_on_its_header() {
        let mut server = Connection::new(Role::Server, Config::default().max_frame_size(1000));
        // Only the header (declaring 1 GiB) arrives.
        let header = b"\x82\xff\x00\x00\x00\x00\x40\x00\x00\x00\x01\x02\x03\x04";
        assert_failing(
            &mut server,
            header,
            ProtocolError::FrameTooLarge {
                size: 1 << 30,
                max: 1000,
            },
        );
    }

    #[test]
    fn a_fragmented_message_over_the_limit_fails_on_the_fragment_that_crosses_it() {
        let mut server = Connection::new(Role::Server, Config::default().max_message_size(10));
        let mut wire = client_frame(0x02, &[0; 6]);
        wire.extend_from_slice(&client_frame(0x80, &[0; 5])[..6]);
        assert_failing(
            &mut server,
            &wire,
            ProtocolError::MessageTooLarge { size: 11, max: 10 },
        );
    }

    #[test]
    fn too_many_fragments_fail() {
        let mut server = Connection::new(Role::Server, Config::default().max_fragments(3));
        let mut wire = client_frame(0x02, b"1");
        wire.extend(client_frame(0x00, b"2"));
        wire.extend(client_frame(0x00, b"3"));
        wire.extend(client_frame(0x00, b"4"));
        assert_failing(
            &mut server,
            &wire,
            ProtocolError::TooManyFragments { max: 3 },
        );
    }

    #[test]
    fn the_default_limits_fit_a_64_mib_message_in_64_byte_fragments() {
        let config = Config::default();
        assert_eq!(config.max_message_size, 64 << 20);
        assert!(config.max_fragments * 64 >= config.max_message_size);
    }
}

mod corking {
    use super::*;

    #[test]
    fn pending_input_means_a_whole_frame_is_buffered() {
        let mut server = server();
        assert!(!server.has_pending_input());
        let mut wire = client_frame(0x81, b"one");
        wire.extend(client_frame(0x81, b"two"));
        server.handle_input(&wire[..wire.len() - 1]);
        assert!(server.has_pending_input());
        assert_eq!(server.poll_recv(), Ok(Some(Message::text("one"))));
        assert!(!server.has_pending_input(), "only a partial frame is left");
        server.handle_input(&wire[wire.len() - 1..]);
        assert!(server.has_pending_input());
        assert_eq!(server.poll_recv(), Ok(Some(Message::text("two"))));
        assert!(!server.has_pending_input());
        // A malformed header is pending input too: the error is ready to be reported.
        server.handle_input(b"\x83");
        assert!(!server.has_pending_input());
        server.handle_input(b"\x80");
        assert!(server.has_pending_input());
    }
}

mod output {
    use super::*;
    use bytes::Bytes;
    use std::io::IoSlice;

    #[test]
    fn a_large_owned_payload_is_queued_without_a_copy_and_in_order() {
        let mut server = server();
        let payload = Bytes::from(vec![0xab; 100_000]);
        server.send_text("before").unwrap();
        server.send(Message::Binary(payload.clone())).unwrap();
        server.send_text("after").unwrap();
        let mut slices = [IoSlice::new(&[]); 8];
        let n = server.transmit_chunks(&mut slices);
        assert_eq!(n, 3);
        assert_eq!(
            slices[1].as_ptr(),
            payload.as_ptr(),
            "the payload itself is queued"
        );
        // Written by a transport that takes at most 7,000 bytes a write, the bytes are the
        // frames in order.
        let mut wire = Vec::new();
        while server.pending_transmit() > 0 {
            let mut slices = [IoSlice::new(&[]); 8];
            let n = server.transmit_chunks(&mut slices);
            let run: Vec<u8> = slices[..n].iter().flat_map(|s| s.iter().copied()).collect();
            wire.extend_from_slice(&run[..run.len().min(7_000)]);
            server.advance_transmit(run.len().min(7_000));
        }
        let mut expected = frame(0x81, b"before", None);
        expected.extend(frame(0x82, &payload, None));
        expected.extend(frame(0x81, b"after", None));
        assert_eq!(wire, expected);
    }

    #[test]
    fn take_transmit_joins_queued_payloads() {
        let mut server = server();
        server.send(Message::binary(vec![1u8; 20_000])).unwrap();
        server.send_text("x").unwrap();
        let mut expected = frame(0x82, &[1u8; 20_000], None);
        expected.extend(frame(0x81, b"x", None));
        assert_eq!(server.pending_transmit(), expected.len());
        assert_eq!(&server.take_transmit()[..], &expected[..]);
        assert_eq!(server.pending_transmit(), 0);
    }

    #[test]
    fn a_client_still_masks_a_copy_of_a_large_payload() {
        let mut client = client();
        client.send(Message::binary(vec![5u8; 20_000])).unwrap();
        let mut slices = [IoSlice::new(&[]); 8];
        assert_eq!(client.transmit_chunks(&mut slices), 1);
        let mut server = server();
        server.handle_input(&output(&mut client));
        assert_eq!(
            drain(&mut server),
            vec![Ok(Message::binary(vec![5u8; 20_000]))]
        );
    }
}

mod transport_end {
    use super::*;

    #[test]
    fn eof_mid_frame_is_an_abnormal_closure() {
        let mut server = server();
        server.handle_input(&client_frame(0x82, b"truncated")[..8]);
        assert!(drain(&mut server).is_empty());
        server.handle_eof();
        assert_eq!(
            drain(&mut server),
            vec![Err(ConnectionError::TransportEnded)]
        );
        assert_eq!(
            ConnectionError::TransportEnded.close_code(),
            CloseCode::ABNORMAL_CLOSURE
        );
        assert_eq!(server.state(), State::Closed);
        assert!(
            output(&mut server).is_empty(),
            "nothing can be sent to a closed transport"
        );
    }
}
