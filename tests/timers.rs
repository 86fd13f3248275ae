//! Keepalive, idle and close timers driven by a fake clock, and send-buffer backpressure.

mod common;

use std::time::{Duration, Instant};

use common::*;
use rfc6455::frame::{FrameHeader, OpCode, Parse};
use rfc6455::{CloseCode, Config, Connection, Message, ProtocolError, Role, State};
use rfc6455::{ConnectionError, Timeout, Transport};

const SECOND: Duration = Duration::from_secs(1);

fn keepalive_server() -> (Connection, Instant) {
    let config = Config::default()
        .ping_interval(Some(20 * SECOND))
        .pong_timeout(10 * SECOND);
    let mut server = Connection::new(Role::Server, config);
    let start = Instant::now();
    server.handle_timeout(start);
    (server, start)
}

/// The frames in a server's output, as (opcode, payload).
fn frames(bytes: &[u8]) -> Vec<(OpCode, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Ok(Parse::Complete(header, len)) = FrameHeader::parse(rest) {
        let end = len + header.payload_len as usize;
        out.push((header.opcode, rest[len..end].to_vec()));
        rest = &rest[end..];
    }
    out
}

#[test]
fn without_a_clock_no_timer_runs() {
    let config = Config::default()
        .ping_interval(Some(SECOND))
        .idle_timeout(Some(SECOND));
    let server = Connection::new(Role::Server, config);
    assert_eq!(server.poll_timeout(), None);
}

#[test]
fn a_ping_goes_out_after_the_interval_of_silence_and_activity_postpones_it() {
    let (mut server, start) = keepalive_server();
    assert_eq!(server.poll_timeout(), Some(start + 20 * SECOND));
    // A message at 15 s moves the deadline to 35 s.
    server.receive(&client_frame(0x81, b"hi"));
    server.handle_timeout(start + 15 * SECOND);
    assert_eq!(drain(&mut server), vec![Ok(Message::text("hi"))]);
    server.handle_timeout(start + 15 * SECOND);
    assert_eq!(server.poll_timeout(), Some(start + 35 * SECOND));
    server.handle_timeout(start + 34 * SECOND);
    assert!(output(&mut server).is_empty());
    server.handle_timeout(start + 35 * SECOND);
    let sent = frames(&output(&mut server));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, OpCode::Ping);
    // Now the pong deadline rules.
    assert_eq!(server.poll_timeout(), Some(start + 45 * SECOND));
    // The pong arrives 250 ms later; its round-trip time is measured at the tick after the read.
    server.receive(&client_frame(0x8a, &sent[0].1));
    server.handle_timeout(start + 35 * SECOND + Duration::from_millis(250));
    assert!(matches!(drain(&mut server)[..], [Ok(Message::Pong(_))]));
    assert_eq!(server.last_rtt(), Some(Duration::from_millis(250)));
    server.handle_timeout(start + 36 * SECOND);
    assert_eq!(
        server.poll_timeout(),
        Some(start + 35 * SECOND + Duration::from_millis(250) + 20 * SECOND),
        "the drain after the tick is not new activity"
    );
    assert_eq!(server.state(), State::Open);
}

#[test]
fn a_silent_peer_is_dropped_within_interval_plus_pong_timeout() {
    let (mut server, start) = keepalive_server();
    // Step the clock by whatever poll_timeout asks, as an event loop would.
    let mut now = start;
    while !matches!(
        server.transport(),
        Transport::ShutdownWrite | Transport::Release
    ) {
        now = server
            .poll_timeout()
            .expect("a timer runs while the peer is silent");
        server.handle_timeout(now);
    }
    assert_eq!(now - start, 30 * SECOND, "ping_interval + pong_timeout");
    assert_eq!(
        server.poll_event(),
        Err(ConnectionError::Timeout(Timeout::Keepalive))
    );
    let sent = frames(&output(&mut server));
    assert_eq!(
        sent.last().unwrap(),
        &(OpCode::Close, b"\x03\xf3keepalive timeout".to_vec()),
        "the Close says why, for the peer to show"
    );
    assert_eq!(server.poll_timeout(), None);
}

#[test]
fn any_frame_counts_as_an_answer_to_a_keepalive_ping() {
    let (mut server, start) = keepalive_server();
    server.handle_timeout(start + 20 * SECOND);
    server.receive(&client_frame(0x82, b"busy"));
    server.handle_timeout(start + 29 * SECOND);
    let _ = drain(&mut server);
    server.handle_timeout(start + 31 * SECOND);
    assert_eq!(server.state(), State::Open);
    assert_eq!(server.poll_event(), Ok(None));
}

#[test]
fn an_idle_connection_is_closed_with_1001() {
    let config = Config::default().idle_timeout(Some(60 * SECOND));
    let mut server = Connection::new(Role::Server, config);
    let start = Instant::now();
    server.handle_timeout(start);
    assert_eq!(server.poll_timeout(), Some(start + 60 * SECOND));
    server.handle_timeout(start + 60 * SECOND);
    assert_eq!(
        server.poll_event(),
        Err(ConnectionError::Timeout(Timeout::Idle))
    );
    assert_eq!(
        output(&mut server),
        frame(0x88, b"\x03\xe9idle timeout", None)
    );
    assert!(matches!(
        server.transport(),
        Transport::ShutdownWrite | Transport::Release
    ));
}

#[test]
fn a_peer_that_never_answers_our_close_is_given_up_on() {
    let mut server = Connection::new(Role::Server, Config::default().close_timeout(5 * SECOND));
    let start = Instant::now();
    server.handle_timeout(start);
    server.close(CloseCode::NORMAL, "").unwrap();
    // The timer starts at the next tick; poll_timeout asks for that tick at once.
    assert_eq!(server.poll_timeout(), Some(start));
    server.handle_timeout(start + SECOND);
    assert_eq!(server.poll_timeout(), Some(start + 6 * SECOND));
    assert!(!matches!(
        server.transport(),
        Transport::ShutdownWrite | Transport::Release
    ));
    server.handle_timeout(start + 6 * SECOND);
    assert!(matches!(
        server.transport(),
        Transport::ShutdownWrite | Transport::Release
    ));
    assert_eq!(
        server.poll_event(),
        Err(ConnectionError::Timeout(Timeout::Close))
    );
    assert_eq!(
        ConnectionError::Timeout(Timeout::Close).close_code(),
        CloseCode::ABNORMAL_CLOSURE
    );
}

#[test]
fn a_client_stops_waiting_for_the_server_to_end_the_transport() {
    let mut client = Connection::with_mask_seed(Role::Client, Config::default(), SEED);
    let start = Instant::now();
    client.handle_timeout(start);
    client.receive(&server_close(CloseCode::NORMAL));
    assert!(matches!(drain(&mut client)[..], [Ok(Message::Close(_))]));
    assert_eq!(client.state(), State::Closed);
    assert!(
        !matches!(
            client.transport(),
            Transport::ShutdownWrite | Transport::Release
        ),
        "waits for the server's EOF"
    );
    client.handle_timeout(start);
    client.handle_timeout(start + 10 * SECOND);
    assert!(matches!(
        client.transport(),
        Transport::ShutdownWrite | Transport::Release
    ));
}

/// A server that completed a closing handshake the client started, at `start`.
fn server_after_closing_handshake(config: Config) -> (Connection, Instant) {
    let mut server = Connection::new(Role::Server, config);
    let start = Instant::now();
    server.handle_timeout(start);
    server.receive(&client_frame(0x88, &1000u16.to_be_bytes()));
    assert!(matches!(drain(&mut server)[..], [Ok(Message::Close(_))]));
    assert!(matches!(
        server.transport(),
        Transport::ShutdownWrite | Transport::Release
    ));
    (server, start)
}

#[test]
fn a_server_lingers_for_the_clients_fin_after_the_closing_handshake() {
    let (mut server, start) = server_after_closing_handshake(Config::default());
    assert!(
        server.transport() != Transport::Release,
        "waits for the client's FIN"
    );
    server.handle_timeout(start + SECOND);
    // Late bytes are discarded, not buffered.
    server.receive(&client_frame(0x82, &[0; 1000]));
    assert_eq!(server.receive_buffer().len(), 0);
    assert!(server.transport() != Transport::Release);
    server.receive_eof();
    assert!(
        server.transport() == Transport::Release,
        "the FIN ends the wait at once"
    );
    assert_eq!(server.poll_timeout(), None);
}

#[test]
fn the_linger_gives_up_on_a_client_that_never_sends_its_fin() {
    let config = Config::default().close_linger(3 * SECOND);
    let (mut server, start) = server_after_closing_handshake(config);
    // Step the clock as an event loop would.
    let mut now = start;
    while server.transport() != Transport::Release {
        now = server.poll_timeout().expect("the linger timer runs");
        server.handle_timeout(now);
    }
    assert_eq!(now - start, 3 * SECOND);
}

#[test]
fn no_linger_when_turned_off_or_after_the_peer_went_silent() {
    let (server, _) =
        server_after_closing_handshake(Config::default().close_linger(Duration::ZERO));
    assert!(server.transport() == Transport::Release);

    // A peer that stopped answering pings will not send a FIN either.
    let (mut server, start) = keepalive_server();
    server.handle_timeout(start + 20 * SECOND);
    server.handle_timeout(start + 30 * SECOND);
    assert_eq!(
        server.poll_event(),
        Err(ConnectionError::Timeout(Timeout::Keepalive))
    );
    assert!(server.transport() == Transport::Release);
}

#[test]
fn a_server_that_fails_the_connection_lingers_so_its_close_frame_arrives() {
    let mut server = Connection::new(Role::Server, Config::default());
    let start = Instant::now();
    server.handle_timeout(start);
    // An unmasked frame: a protocol error.
    server.receive(b"\x81\x02hi");
    assert_eq!(
        server.poll_event(),
        Err(ProtocolError::UnmaskedFrame.into())
    );
    assert!(matches!(
        server.transport(),
        Transport::ShutdownWrite | Transport::Release
    ));
    assert!(server.transport() != Transport::Release);
    server.handle_timeout(start);
    server.handle_timeout(start + 2 * SECOND);
    assert!(
        server.transport() == Transport::Release,
        "the default linger is 2 s"
    );
}

#[test]
fn past_the_high_water_mark_reading_pauses_but_sends_are_accepted() {
    let mut server = Connection::new(Role::Server, Config::default().max_send_buffer(1000));
    let payload = [0u8; 300];
    for _ in 0..3 {
        server.send_binary(&payload).unwrap();
        assert_eq!(server.transport(), Transport::Read, "below the mark");
    }
    server.send_binary(&payload).unwrap();
    assert_eq!(server.pending_transmit(), 4 * 304);
    assert_eq!(server.transport(), Transport::PauseReading);
    // The application's own sends are its to bound: never refused for the buffer's size, so the
    // echo of a second large message in one batch cannot fail.
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
    let mut server = Connection::new(Role::Server, Config::default().max_send_buffer(limit));
    let ping = client_frame(0x89, &[0xaa; 125]);
    let chunk: Vec<u8> = ping.iter().copied().cycle().take(16 * 1024).collect();
    // An adapter reads only while the connection wants input, and never writes here: the peer
    // does not read.
    let mut reads = 0;
    while (server.transport() != Transport::PauseReading) && reads < 1000 {
        server.receive(&chunk);
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
