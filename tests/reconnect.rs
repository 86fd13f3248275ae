//! The reconnecting client against a server that stops and restarts, over real loopback sockets,
//! with tokio's paused clock: the backoff sleeps take no real time and their lengths are exact.
#![cfg(feature = "tokio")]

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rfc6455::handshake::ClientRequest;
use rfc6455::reconnect::{Backoff, ReconnectingClient};
use rfc6455::tokio::WebSocket;
use rfc6455::{CloseCode, Config, Error, Message};
use support::tokio_listener;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// A server generation: accepts one connection, stops listening at once, answers the client's
/// "subscribe" with "welcome {generation}", then closes with 1001 (going away).
fn serve_once(listener: TcpListener, generation: u32) {
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        drop(listener);
        // The text and the Close are two small writes: with Nagle's algorithm the second waits
        // ~40 ms of real time for an ACK, long enough for the paused clock to jump ahead.
        tcp.set_nodelay(true).unwrap();
        let mut ws = WebSocket::accept_with(tcp, Config::default(), |_| Ok(Default::default()))
            .await
            .unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::text("subscribe"));
        ws.send_text(&format!("welcome {generation}"))
            .await
            .unwrap();
        ws.close(CloseCode::GOING_AWAY, "restarting").await.unwrap();
        while ws.recv().await.is_ok() {}
    });
}

/// A local address where nothing listens.
async fn dead_addr() -> SocketAddr {
    // The listener is dropped at once: the port was free, and nothing listens on it now.
    let (_, addr) = tokio_listener().await;
    addr
}

#[tokio::test(start_paused = true)]
async fn the_client_comes_back_after_a_restart_with_delays_inside_the_backoff() {
    const RESTART_AT_ATTEMPT: usize = 4;
    let (listener, addr) = tokio_listener().await;
    serve_once(listener, 1);

    let attempts = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let recorded = Arc::clone(&attempts);
    let backoff = Backoff::default()
        .initial(Duration::from_millis(500))
        .factor(2.0)
        .max(Duration::from_secs(3));
    let mut client = ReconnectingClient::with_connect(move || {
        let attempts = Arc::clone(&recorded);
        async move {
            let count = {
                let mut attempts = attempts.lock().unwrap();
                attempts.push(Instant::now());
                attempts.len()
            };
            // The server comes back up just before the client's fifth attempt.
            if count == RESTART_AT_ATTEMPT + 1 {
                serve_once(TcpListener::bind(addr).await?, 2);
            }
            let request = ClientRequest::new(&format!("ws://{addr}/"))?;
            let tcp = TcpStream::connect(addr).await?;
            WebSocket::client(tcp, &request, Config::default()).await
        }
    })
    .backoff(backoff.clone())
    .jitter_seed([42; 32])
    .on_connect(|ws| Box::pin(async move { ws.send_text("subscribe").await }));

    assert_eq!(client.recv().await.unwrap(), Message::text("welcome 1"));
    assert!(client.recv().await.unwrap().is_close());
    let dropped_at = Instant::now();
    // The next call finds the connection gone and reconnects: four refused attempts, then the
    // restarted server, and the hook subscribes again before any message is handed out.
    assert_eq!(client.recv().await.unwrap(), Message::text("welcome 2"));
    assert_eq!(client.connections(), 2);

    let attempts = attempts.lock().unwrap().clone();
    assert_eq!(attempts.len(), RESTART_AT_ATTEMPT + 1, "{attempts:?}");
    // The first connection went at once; each attempt of the round waited at most its ceiling.
    let mut previous = dropped_at;
    let mut waited = Duration::ZERO;
    for (n, at) in attempts[1..].iter().enumerate() {
        let delay = *at - previous;
        let ceiling = backoff.ceiling(n as u32);
        assert!(delay <= ceiling, "attempt {n}: {delay:?} > {ceiling:?}");
        waited += delay;
        previous = *at;
    }
    // Full jitter, not no jitter and not no wait: the delays are spread inside the bounds.
    assert!(waited > Duration::ZERO);
    assert!(waited < (0..5).map(|n| backoff.ceiling(n)).sum::<Duration>());
}

#[tokio::test(start_paused = true)]
async fn a_capped_client_gives_up_with_the_last_error() {
    let addr = dead_addr().await;
    let backoff = Backoff::default().max_attempts(Some(3));
    let mut client = ReconnectingClient::connect(&format!("ws://{addr}/"))
        .unwrap()
        .backoff(backoff.clone());
    let start = Instant::now();
    match client.recv().await {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused),
        other => panic!("{other:?}"),
    }
    // Attempt 0 at once, then at most ceiling(1) and ceiling(2).
    assert!(start.elapsed() <= backoff.ceiling(1) + backoff.ceiling(2));
    assert_eq!(client.connections(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_time_capped_client_starts_no_attempt_past_the_cap() {
    let addr = dead_addr().await;
    let attempts = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let recorded = Arc::clone(&attempts);
    let backoff = Backoff::default().max_elapsed(Some(Duration::from_secs(20)));
    let mut client = ReconnectingClient::with_connect(move || {
        recorded.lock().unwrap().push(Instant::now());
        async move {
            let request = ClientRequest::new(&format!("ws://{addr}/"))?;
            WebSocket::client(TcpStream::connect(addr).await?, &request, Config::default()).await
        }
    })
    .backoff(backoff)
    .jitter_seed([7; 32]);
    let start = Instant::now();
    assert!(matches!(client.send_text("lost").await, Err(Error::Io(_))));
    let attempts = attempts.lock().unwrap();
    assert!(attempts.len() >= 2, "{attempts:?}");
    assert!(
        attempts
            .iter()
            .all(|at| *at - start <= Duration::from_secs(20))
    );
    assert!(start.elapsed() <= Duration::from_secs(20));
}

#[tokio::test]
async fn close_stops_reconnecting() {
    let (listener, addr) = tokio_listener().await;
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = WebSocket::accept(tcp).await.unwrap();
        while let Ok(message) = ws.recv().await {
            if message.is_text() {
                ws.send(message).await.unwrap();
            }
        }
    });
    let mut client = ReconnectingClient::connect(&format!("ws://{addr}/")).unwrap();
    // The client and its futures can move to a spawned task.
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&client);
    assert_send(&client.recv());
    client.send_text("hi").await.unwrap();
    assert_eq!(client.recv().await.unwrap(), Message::text("hi"));
    client.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(client.recv().await.unwrap().is_close());
    assert!(matches!(client.recv().await, Err(Error::Closed)));
    assert!(matches!(client.send_text("x").await, Err(Error::Closed)));
    assert_eq!(client.connections(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failing_hook_counts_as_a_failed_attempt() {
    let (listener, addr) = tokio_listener().await;
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tcp.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let Ok(mut ws) = WebSocket::accept(tcp).await else {
                    return;
                };
                while let Ok(message) = ws.recv().await {
                    if message.is_text() {
                        let _ = ws.send(message).await;
                    }
                }
            });
        }
    });
    let hook_runs = Arc::new(Mutex::new(0));
    let runs = Arc::clone(&hook_runs);
    let mut client = ReconnectingClient::connect(&format!("ws://{addr}/"))
        .unwrap()
        .jitter_seed([3; 32])
        .on_connect(move |ws| {
            let runs = Arc::clone(&runs);
            Box::pin(async move {
                let first = {
                    let mut runs = runs.lock().unwrap();
                    *runs += 1;
                    *runs == 1
                };
                if first {
                    // E.g. the server refused our subscription: drop and retry.
                    return Err(Error::Closed);
                }
                ws.send_text("subscribed").await
            })
        });
    assert_eq!(client.recv().await.unwrap(), Message::text("subscribed"));
    assert_eq!(*hook_runs.lock().unwrap(), 2);
    assert_eq!(client.connections(), 1);
}
