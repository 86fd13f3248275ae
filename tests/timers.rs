//! Keepalive, idle, close and linger timers between a client and a server on a virtual clock
//! (`support::Pair`), and send-buffer backpressure.

mod support;

use std::time::Duration;

use rfc6455::frame::OpCode;
use rfc6455::{
    CloseCode, CloseFrame, Config, Connection, ConnectionError, Message, ProtocolError, Role,
    State, Timeout, Transport,
};
use support::*;

const SECOND: Duration = Duration::from_secs(1);

/// The default configuration without keepalive: each test turns on the timers it is about, on
/// the side it is about.
fn quiet() -> Config {
    Config::default().ping_interval(None)
}

/// Keepalive: a Ping after 20 s of silence, given up on 10 s later.
fn keepalive() -> Config {
    quiet()
        .ping_interval(Some(20 * SECOND))
        .pong_timeout(10 * SECOND)
}

/// A client that answers nothing by itself (no automatic pongs): whether it is silent is the
/// test's to decide.
fn silent() -> Config {
    quiet().auto_pong(false)
}

fn close_frame(code: CloseCode, reason: &str) -> Message {
    Message::Close(Some(CloseFrame::new(code, reason).unwrap()))
}

/// RFC 6455 §5.5.2–§5.5.3: the keepalive Ping and the Pong that answers it.
mod keepalive {
    use super::*;

    #[test]
    fn without_a_clock_no_timer_runs() {
        let config = quiet()
            .ping_interval(Some(SECOND))
            .idle_timeout(Some(SECOND));
        let server = Connection::new(Role::Server, config);
        assert_eq!(server.poll_timeout(), None);
        assert!(server.timers_running(), "it would run, given a clock");
    }

    #[test]
    fn a_ping_goes_out_after_the_interval_of_silence_and_activity_postpones_it() {
        let mut pair = Pair::new(quiet(), keepalive());
        let start = pair.now;
        assert_eq!(pair.server.poll_timeout(), Some(start + 20 * SECOND));
        // A message at 15 s moves the deadline to 35 s.
        pair.now = start + 15 * SECOND;
        pair.client.send_text("hi").unwrap();
        pair.step();
        assert_eq!(pair.take_server_events(), vec![Ok(Message::text("hi"))]);
        assert_eq!(pair.server.poll_timeout(), Some(start + 35 * SECOND));
        assert!(pair.take_frames_to_client().is_empty());

        assert_eq!(pair.advance_to_next_deadline(), start + 35 * SECOND);
        let sent = pair.take_frames_to_client();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].0, OpCode::Ping);
        // Now the pong deadline rules.
        assert_eq!(pair.server.poll_timeout(), Some(start + 45 * SECOND));
        // The client's automatic pong arrives 250 ms later; its round-trip time is measured at
        // the tick after the read.
        pair.now += Duration::from_millis(250);
        pair.step();
        assert_eq!(
            pair.take_server_events(),
            vec![Ok(Message::Pong(sent[0].1.clone().into()))]
        );
        assert_eq!(pair.server.last_rtt(), Some(Duration::from_millis(250)));
        pair.now = start + 36 * SECOND;
        pair.server.handle_timeout(pair.now);
        assert_eq!(
            pair.server.poll_timeout(),
            Some(start + 35 * SECOND + Duration::from_millis(250) + 20 * SECOND),
            "the drain after the tick is not new activity"
        );
        assert_eq!(pair.server.state(), State::Open);
    }

    #[test]
    fn a_peer_that_answers_pings_stays_connected() {
        let mut pair = Pair::new(quiet(), keepalive());
        let start = pair.now;
        for _ in 0..10 {
            pair.advance_to_next_deadline();
            pair.drive();
        }
        assert_eq!(pair.now - start, 200 * SECOND, "a ping every 20 s");
        let pings = pair.take_frames_to_client();
        assert_eq!(pings.len(), 10);
        assert!(pings.iter().all(|(opcode, _)| *opcode == OpCode::Ping));
        assert_eq!(pair.server.state(), State::Open);
        assert_eq!(pair.server.last_rtt(), Some(Duration::ZERO));
        assert!(
            pair.take_server_events()
                .iter()
                .all(|event| matches!(event, Ok(Message::Pong(_))))
        );
    }

    #[test]
    fn a_silent_peer_is_dropped_within_interval_plus_pong_timeout() {
        let mut pair = Pair::new(silent(), keepalive());
        let start = pair.now;
        // Step the clock by whatever poll_timeout asks, as an event loop would.
        while !ends_transport(&pair.server) {
            pair.advance_to_next_deadline();
        }
        assert_eq!(
            pair.now - start,
            30 * SECOND,
            "ping_interval + pong_timeout"
        );
        assert_eq!(
            pair.take_server_events(),
            vec![Err(ConnectionError::Timeout(Timeout::Keepalive))]
        );
        let sent = pair.take_frames_to_client();
        assert_eq!(
            sent.last().unwrap(),
            &(
                OpCode::Close,
                close_payload(CloseCode::INTERNAL_ERROR, "keepalive timeout")
            ),
            "the Close says why, for the peer to show"
        );
        assert_eq!(
            pair.take_client_events().last(),
            Some(&Ok(close_frame(
                CloseCode::INTERNAL_ERROR,
                "keepalive timeout"
            )))
        );
        assert_eq!(pair.server.poll_timeout(), None);
    }

    #[test]
    fn any_frame_counts_as_an_answer_to_a_keepalive_ping() {
        let mut pair = Pair::new(silent(), keepalive());
        let start = pair.now;
        assert_eq!(pair.advance_to_next_deadline(), start + 20 * SECOND);
        assert_eq!(pair.take_frames_to_client()[0].0, OpCode::Ping);
        // Not a pong, but a sign of life before the pong timeout (30 s).
        pair.now = start + 29 * SECOND;
        pair.client.send_binary(b"busy").unwrap();
        pair.step();
        assert_eq!(
            pair.take_server_events(),
            vec![Ok(Message::binary(b"busy".to_vec()))]
        );
        assert_eq!(
            pair.server.poll_timeout(),
            Some(start + 49 * SECOND),
            "the next ping is due an interval after the frame"
        );
        pair.now = start + 31 * SECOND;
        pair.server.handle_timeout(pair.now);
        pair.step();
        assert_eq!(pair.server.state(), State::Open);
        assert!(pair.take_server_events().is_empty());
    }
}

mod idle_timeout {
    use super::*;

    #[test]
    fn an_idle_connection_is_closed_with_1001() {
        let mut pair = Pair::new(quiet(), quiet().idle_timeout(Some(60 * SECOND)));
        let start = pair.now;
        assert_eq!(pair.server.poll_timeout(), Some(start + 60 * SECOND));
        assert_eq!(pair.advance_to_next_deadline(), start + 60 * SECOND);
        assert_eq!(
            pair.take_server_events(),
            vec![Err(ConnectionError::Timeout(Timeout::Idle))]
        );
        assert_eq!(pair.to_client, frame(0x88, b"\x03\xe9idle timeout", None));
        assert_eq!(
            pair.take_client_events(),
            vec![Ok(close_frame(CloseCode::GOING_AWAY, "idle timeout"))]
        );
        assert!(ends_transport(&pair.server));
    }
}

/// RFC 6455 §7.1.1–§7.1.3: the closing handshake's timers, and who ends the transport.
mod section_7_1_closing {
    use super::*;

    /// A pair whose client started and completed the closing handshake at `pair.now`.
    fn after_closing_handshake(server_config: Config) -> Pair {
        let mut pair = Pair::new(quiet(), server_config);
        pair.client.close(CloseCode::NORMAL, "").unwrap();
        pair.drive();
        assert!(matches!(
            pair.take_server_events()[..],
            [Ok(Message::Close(_))]
        ));
        assert!(matches!(
            pair.take_client_events()[..],
            [Ok(Message::Close(_))]
        ));
        pair
    }

    #[test]
    fn a_completed_closing_handshake_ends_both_transports_and_every_timer() {
        let mut pair = Pair::default_configs();
        pair.client.close(CloseCode::NORMAL, "done").unwrap();
        pair.end_transports();
        assert_eq!(
            pair.take_server_events(),
            vec![Ok(close_frame(CloseCode::NORMAL, "done"))]
        );
        // The echo carries the code, not the reason.
        assert_eq!(
            pair.take_client_events(),
            vec![Ok(close_frame(CloseCode::NORMAL, ""))]
        );
        assert_eq!(pair.client.poll_timeout(), None);
        assert_eq!(pair.server.poll_timeout(), None);
    }

    #[test]
    fn a_peer_that_never_answers_our_close_is_given_up_on() {
        let mut pair = Pair::new(quiet(), quiet().close_timeout(5 * SECOND));
        let start = pair.now;
        // The client vanished: nothing gets through any more.
        pair.partitioned = true;
        pair.server.close(CloseCode::NORMAL, "").unwrap();
        // The timer starts at the next tick; poll_timeout asks for that tick at once.
        assert_eq!(pair.server.poll_timeout(), Some(start));
        pair.now = start + SECOND;
        pair.server.handle_timeout(pair.now);
        assert_eq!(pair.server.poll_timeout(), Some(start + 6 * SECOND));
        assert_eq!(pair.server.transport(), Transport::Read);
        assert_eq!(pair.advance_to_next_deadline(), start + 6 * SECOND);
        assert_eq!(pair.server.transport(), Transport::Release);
        assert_eq!(
            pair.take_server_events(),
            vec![Err(ConnectionError::Timeout(Timeout::Close))]
        );
        assert_eq!(
            pair.take_frames_to_client(),
            vec![(OpCode::Close, close_payload(CloseCode::NORMAL, ""))],
            "giving up sends nothing more"
        );
        assert_eq!(
            ConnectionError::Timeout(Timeout::Close).close_code(),
            CloseCode::ABNORMAL_CLOSURE
        );
    }

    #[test]
    fn a_client_stops_waiting_for_the_server_to_end_the_transport() {
        let mut pair = Pair::default_configs();
        let start = pair.now;
        pair.server.close(CloseCode::NORMAL, "").unwrap();
        pair.drive();
        assert!(matches!(
            pair.take_client_events()[..],
            [Ok(Message::Close(_))]
        ));
        assert_eq!(pair.client.state(), State::Closed);
        assert_eq!(
            pair.client.transport(),
            Transport::Read,
            "waits for the server's EOF"
        );
        // This server's driver never closes its socket: only the client's timer ends the wait.
        while pair.client.transport() != Transport::Release {
            pair.advance_to_next_deadline();
        }
        assert_eq!(pair.now - start, Config::default().close_timeout);
        assert_eq!(
            pair.take_client_events(),
            vec![Err(ConnectionError::Timeout(Timeout::Close))]
        );
    }

    #[test]
    fn a_server_lingers_for_the_clients_fin_after_the_closing_handshake() {
        let mut pair = after_closing_handshake(quiet());
        assert_eq!(
            pair.server.transport(),
            Transport::ShutdownWrite,
            "shuts down its side and waits for the client's FIN"
        );
        pair.now += SECOND;
        pair.server.handle_timeout(pair.now);
        // Late bytes are discarded, not buffered.
        pair.server.handle_input(&client_frame(0x82, &[0; 1000]));
        assert_eq!(pair.server.input_buffer().len(), 0);
        assert_eq!(pair.server.transport(), Transport::ShutdownWrite);
        // The server's FIN reaches the client, which ends its side in turn.
        assert!(pair.eof_to_client());
        assert_eq!(pair.client.transport(), Transport::Release);
        assert!(pair.eof_to_server());
        assert_eq!(
            pair.server.transport(),
            Transport::Release,
            "the FIN ends the wait at once"
        );
        assert_eq!(pair.server.poll_timeout(), None);
        assert!(pair.take_server_events().is_empty());
        assert!(pair.take_client_events().is_empty());
    }

    #[test]
    fn the_linger_gives_up_on_a_client_that_never_sends_its_fin() {
        let mut pair = after_closing_handshake(quiet().close_linger(3 * SECOND));
        let start = pair.now;
        // The client's FIN is never delivered.
        while pair.server.transport() != Transport::Release {
            pair.advance_to_next_deadline();
        }
        assert_eq!(pair.now - start, 3 * SECOND);
        assert!(pair.take_server_events().is_empty(), "not an error");
    }

    #[test]
    fn no_linger_when_turned_off_or_after_the_peer_went_silent() {
        let pair = after_closing_handshake(quiet().close_linger(Duration::ZERO));
        assert_eq!(pair.server.transport(), Transport::Release);

        // A peer that stopped answering pings will not send a FIN either.
        let mut pair = Pair::new(silent(), keepalive());
        while !ends_transport(&pair.server) {
            pair.advance_to_next_deadline();
        }
        assert_eq!(
            pair.take_server_events(),
            vec![Err(ConnectionError::Timeout(Timeout::Keepalive))]
        );
        assert_eq!(pair.server.transport(), Transport::Release);
    }

    #[test]
    fn a_server_that_fails_the_connection_lingers_so_its_close_frame_arrives() {
        let mut pair = Pair::default_configs();
        let start = pair.now;
        // A client that does not mask: a protocol error.
        pair.server.handle_input(b"\x81\x02hi");
        pair.step();
        assert_eq!(
            pair.take_server_events(),
            vec![Err(ProtocolError::UnmaskedFrame.into())]
        );
        assert_eq!(pair.server.transport(), Transport::ShutdownWrite);
        pair.drive();
        assert_eq!(
            pair.take_client_events(),
            vec![Ok(close_frame(CloseCode::PROTOCOL_ERROR, ""))],
            "the client learns why"
        );
        // Its FIN never comes.
        while pair.server.transport() != Transport::Release {
            pair.advance_to_next_deadline();
        }
        assert_eq!(pair.now - start, 2 * SECOND, "the default linger is 2 s");
    }
}

mod backpressure {
    use super::*;

    #[test]
    fn past_the_high_water_mark_reading_pauses_but_sends_are_accepted() {
        let mut server = Connection::new(Role::Server, quiet().max_send_buffer(1000));
        let payload = [0u8; 300];
        for _ in 0..3 {
            server.send_binary(&payload).unwrap();
            assert_eq!(server.transport(), Transport::Read, "below the mark");
        }
        server.send_binary(&payload).unwrap();
        assert_eq!(server.pending_transmit(), 4 * 304);
        assert_eq!(server.transport(), Transport::PauseReading);
        // The application's own sends are its to bound: never refused for the buffer's size, so
        // the echo of a second large message in one batch cannot fail.
        assert_eq!(server.send_binary(&payload), Ok(()));
        assert_eq!(server.send_ping(b""), Ok(()));
        let n = server.pending_transmit();
        server.advance_transmit(n);
        assert_eq!(server.transport(), Transport::Read);
        assert_eq!(server.close(CloseCode::NORMAL, ""), Ok(()));
    }

    #[test]
    fn a_ping_flood_from_a_peer_that_never_reads_stays_bounded() {
        let limit = 4096;
        let mut server = Connection::new(Role::Server, quiet().max_send_buffer(limit));
        let ping = client_frame(0x89, &[0xaa; 125]);
        let chunk: Vec<u8> = ping.iter().copied().cycle().take(16 * 1024).collect();
        // An adapter reads only while the connection wants input, and never writes here: the
        // peer does not read.
        let mut reads = 0;
        while (server.transport() != Transport::PauseReading) && reads < 1000 {
            server.handle_input(&chunk);
            let _ = drain(&mut server);
            reads += 1;
        }
        assert!(reads < 1000, "reading stopped");
        let buffered = server.pending_transmit();
        // At most the mark plus the pongs for one read's worth of pings.
        assert!(
            buffered <= limit + 16 * 1024 * 127 / 131 + 127,
            "{buffered}"
        );
    }
}
