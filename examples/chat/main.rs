//! A multi-room chat: one process serves the page at `GET /` and its WebSockets at `/ws`, on the
//! same port, with axum and this crate's hyper upgrade.
//!
//! ```sh
//! cargo run --release --example chat                     # then open http://127.0.0.1:8080
//! cargo run --release --example chat -- 0.0.0.0:9000 --max-message-bytes 1048576 --rate 5
//! # One chat over two processes (or hosts), through Redis:
//! cargo run --release --example chat -- 127.0.0.1:8080 --redis redis://127.0.0.1:6379
//! cargo run --release --example chat -- 127.0.0.1:8081 --redis redis://127.0.0.1:6379
//! # Over HTTPS with HTTP/2:
//! cargo run --release --example chat --features rustls,http2 -- --tls cert.pem key.pem
//! ```
//!
//! With `--redis`, the rooms are [`rfc6455::rooms`] with the Redis backplane: a member on one
//! process talks with members on every other, and presence lists them all. While Redis is down
//! each process keeps serving its own members (they hear each other; the other processes'
//! members do not hear them) and reconnects by itself.
//!
//! With `--tls` (features `rustls` and `http2`) the chat is served over HTTPS, HTTP/2 first: a
//! browser then opens its WebSocket on the page's own HTTP/2 connection (RFC 8441's extended
//! CONNECT). The log says which handshake each WebSocket came by.
//!
//! Open the page in two tabs, pick a name and the same room in each, and talk. The page
//! (`index.html` next to this file, plain JavaScript, no build step) shows
//! the connection state, who is in the room and who is typing, and reconnects by itself with
//! exponential backoff and full jitter (500 ms doubling up to 10 s), joining its room again.
//!
//! # Protocol
//!
//! Every message, both ways, is one JSON text message: `{"type", "id", "ts", "payload"}`. `id`
//! is the client's own (a number or a string of up to 64 characters, optional) on what it sends,
//! and echoed in the `ack` or `error` answering it; the server numbers what it originates. `ts`
//! is the server's clock in milliseconds since the Unix epoch (a client's `ts` is ignored).
//!
//! | client → server | payload | effect |
//! |---|---|---|
//! | `join` | `{room, name}` | leaves the current room, enters `room` as `name` (unique in the room) |
//! | `leave` | — | leaves the current room |
//! | `message` | `{text}` | `message` to every member of the room, the sender included |
//! | `typing` | — | `typing` to the room (the page sends it at most every 2 s, and ignores its own) |
//!
//! | server → client | payload |
//! |---|---|
//! | `message` | `{room, from, text}` |
//! | `typing` | `{room, name}` |
//! | `presence` | `{room, name, status: "online" \| "offline", members: [names in join order]}`, to the whole room, the newcomer included, whenever a member comes or goes |
//! | `ack` | `{of: type}`, with the client's `id`: the message was accepted |
//! | `error` | `{code, reason}`, with the client's `id` if it had a readable one |
//!
//! Error codes: `bad_json`, `bad_message` (not an object, no `type`), `bad_id`, `unknown_type`,
//! `bad_payload`, `not_in_room`, `name_taken`, `unsupported` (binary messages). The connection
//! stays open after an error.
//!
//! Each broadcast is encoded once, as a [`rfc6455::PreparedMessage`], and published to the room
//! ([`rfc6455::rooms`]): the same bytes are queued for every member. Each connection is split:
//! its reader runs in the connection's task, its writer is a room member, written by a task of
//! its own from a bounded queue of frames (64).
//!
//! # Limits
//!
//! - `--max-message-bytes N` (default 65536): a bigger message fails the connection with close
//!   code 1009, sent by the core before the message is buffered.
//! - `--rate R` (default 20) and `--burst B` (default 2 × R): messages per second per
//!   connection, as a token bucket; a client above it is closed with 1008 "rate limit
//!   exceeded".
//! - A member whose queue of outgoing frames is full (64 frames; it reads slower than the room
//!   talks) is evicted from its room and closed with 1008 "too slow: fell behind its rooms", so
//!   that it cannot make the server hold an ever-growing backlog; the others see it go offline.
//! - Heartbeat: a Ping after 30 s without a frame from the client; one that has not answered 30 s
//!   later is closed with 1011.
//! - Requests whose `Origin` is not this server's own host are refused with 403 (cross-site
//!   WebSocket hijacking); clients that send no `Origin` (not browsers) are accepted.
//!
//! SIGINT or SIGTERM closes every WebSocket with 1001 and exits.

mod protocol;
mod rate;
mod room;
mod session;
#[cfg(all(feature = "rustls", feature = "http2"))]
mod tls;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rfc6455::Config;
use rfc6455::axum::WebSocketUpgrade;
use rfc6455::handshake::Reject;
use tokio::sync::{mpsc, watch};

use crate::room::ChatRooms;
use crate::session::{Limits, Shared};

/// The page, compiled in.
const INDEX_HTML: &str = include_str!("index.html");

/// The keepalive interval, and how long a Ping may go unanswered.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// How long shutdown waits for connections to finish their closing handshake.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

const USAGE: &str = "\
usage: chat [ADDRESS] [--max-message-bytes N] [--rate R] [--burst B] [--redis URL] [--tls CERT KEY]

  ADDRESS                  where to listen (default 127.0.0.1:8080)
  --max-message-bytes N    largest message a client may send (default 65536); bigger: close 1009
  --rate R                 messages per second per connection (default 20); above: close 1008
  --burst B                messages allowed in a burst (default 2 x rate)
  --redis URL              share rooms with every chat process using this Redis
                           (redis://host:port); without it, rooms live in this process
  --tls CERT KEY           HTTPS with HTTP/2 and HTTP/1.1, from PEM files (features rustls, http2)
";

/// The command line.
#[derive(Debug, Clone, PartialEq)]
struct Options {
    addr: String,
    max_message_bytes: usize,
    rate: f64,
    burst: f64,
    redis: Option<String>,
    /// The PEM certificate chain and key for `--tls`.
    tls: Option<(String, String)>,
}

/// Parses the arguments after the program name; `Ok(None)` asks for the usage text.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut addr = None;
    let mut max_message_bytes = 64 * 1024;
    let mut rate = 20.0;
    let mut burst = None;
    let mut redis = None;
    let mut tls = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        if !arg.starts_with("--") {
            if addr.replace(arg.clone()).is_some() {
                return Err(format!("unexpected argument {arg:?}"));
            }
            continue;
        }
        // `--flag value` or `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--max-message-bytes" => {
                let value = value()?;
                max_message_bytes = match value.parse::<usize>() {
                    Ok(n) if n >= 256 => n,
                    _ => {
                        return Err(format!(
                            "--max-message-bytes: {value:?} is not a number >= 256"
                        ));
                    }
                };
            }
            "--rate" => rate = positive(&flag, &value()?)?,
            "--burst" => burst = Some(positive(&flag, &value()?)?.max(1.0)),
            "--redis" => redis = Some(value()?),
            "--tls" if cfg!(all(feature = "rustls", feature = "http2")) => {
                let cert = value()?;
                let key = args.next().ok_or("--tls needs a certificate and a key")?;
                tls = Some((cert, key));
            }
            "--tls" => return Err("--tls needs the features rustls and http2".to_owned()),
            _ => return Err(format!("unknown option {flag:?}")),
        }
    }
    Ok(Some(Options {
        addr: addr.unwrap_or_else(|| "127.0.0.1:8080".to_owned()),
        max_message_bytes,
        rate,
        burst: burst.unwrap_or((2.0 * rate).max(1.0)),
        redis,
        tls,
    }))
}

fn positive(flag: &str, value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err(format!("{flag}: {value:?} is not a positive number")),
    }
}

/// The router's state.
#[derive(Clone)]
struct App {
    config: Config,
    shared: Shared,
    next_conn: Arc<AtomicU64>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprint!("chat: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match serve(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chat: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(options: Options) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(&options.addr).await?;
    let rooms = match &options.redis {
        Some(url) => ChatRooms::with_redis(url).map_err(std::io::Error::other)?,
        None => ChatRooms::local(),
    };
    let (shutdown_tx, shutdown) = watch::channel(false);
    let (alive, mut alive_rx) = mpsc::channel(1);
    let app = App {
        config: Config::default()
            .ping_interval(Some(HEARTBEAT))
            .pong_timeout(HEARTBEAT)
            .max_message_size(options.max_message_bytes),
        shared: Shared {
            rooms,
            limits: Limits {
                rate: options.rate,
                burst: options.burst,
            },
            shutdown,
            alive,
        },
        next_conn: Arc::new(AtomicU64::new(1)),
    };
    let router = Router::new()
        .route("/", get(index))
        // An HTTP/2 WebSocket's method is CONNECT (RFC 8441).
        .route("/ws", get(websocket).connect(websocket))
        .with_state(app);
    match &options.tls {
        None => {
            println!("chat: open http://{}/", listener.local_addr()?);
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown_signal())
                .await?;
        }
        #[cfg(all(feature = "rustls", feature = "http2"))]
        Some((cert, key)) => {
            println!("chat: open https://{}/", listener.local_addr()?);
            tls::serve(listener, router, cert, key, shutdown_signal()).await?;
        }
        #[cfg(not(all(feature = "rustls", feature = "http2")))]
        Some(_) => {
            return Err(std::io::Error::other(
                "--tls needs the features rustls and http2",
            ));
        }
    }
    // Close every WebSocket with 1001 and give them a moment to finish the closing handshake:
    // each holds a clone of `alive`, so `recv` returns `None` once all are gone.
    shutdown_tx.send_replace(true);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, alive_rx.recv()).await;
    Ok(())
}

async fn index() -> Response {
    ([(header::CACHE_CONTROL, "no-cache")], Html(INDEX_HTML)).into_response()
}

/// Checks the (already validated) upgrade, returns the 101, and serves the connection in a task
/// once hyper hands it over. A bad handshake never gets here: the extractor answers it with 400,
/// 405 or 426.
async fn websocket(upgrade: WebSocketUpgrade, State(app): State<App>) -> Response {
    let upgrade = match upgrade.check(same_origin) {
        Ok(upgrade) => upgrade.config(app.config.clone()),
        Err(refusal) => return refusal.into_response(), // 403 for a foreign origin
    };
    let conn = app.next_conn.fetch_add(1, Ordering::Relaxed);
    let handshake = if upgrade.request().is_extended_connect() {
        "HTTP/2 extended CONNECT"
    } else {
        "HTTP/1.1 upgrade"
    };
    println!("chat: #{conn} opened by {handshake}");
    upgrade.on_upgrade(move |ws| session::run(ws, conn, app.shared))
}

/// Accepts clients without an `Origin` (not browsers) and pages served by this host; refuses
/// other sites' pages, which would otherwise connect with their visitors' cookies.
fn same_origin(request: &rfc6455::handshake::UpgradeRequest) -> Result<(), Reject> {
    let Some(origin) = request.origin() else {
        return Ok(());
    };
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    if authority.is_some_and(|authority| authority.eq_ignore_ascii_case(request.host())) {
        Ok(())
    } else {
        Err(Reject::new(403).body("cross-origin WebSocket connections are not allowed\n"))
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<Option<Options>, String> {
        parse_args(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_the_command_line() {
        let options = args("").unwrap().unwrap();
        assert_eq!(options.addr, "127.0.0.1:8080");
        assert_eq!(
            (options.max_message_bytes, options.rate, options.burst),
            (65536, 20.0, 40.0)
        );
        let options = args("0.0.0.0:1 --max-message-bytes=2097152 --rate 5 --burst 7")
            .unwrap()
            .unwrap();
        assert_eq!(options.addr, "0.0.0.0:1");
        assert_eq!(
            (options.max_message_bytes, options.rate, options.burst),
            (2097152, 5.0, 7.0)
        );
        assert_eq!(options.redis, None);
        let options = args("--redis redis://127.0.0.1:6379").unwrap().unwrap();
        assert_eq!(options.redis.as_deref(), Some("redis://127.0.0.1:6379"));
        assert_eq!(args("--help"), Ok(None));
        assert!(args("--rate").is_err());
        assert!(args("--rate -1").is_err());
        assert!(args("--rate nan").is_err());
        assert!(args("--max-message-bytes 10").is_err());
        assert!(args("--colour blue").is_err());
        assert!(args("a:1 b:2").is_err());
        let with_tls = args("--tls cert.pem key.pem");
        if cfg!(all(feature = "rustls", feature = "http2")) {
            let tls = with_tls.unwrap().unwrap().tls;
            assert_eq!(tls, Some(("cert.pem".to_owned(), "key.pem".to_owned())));
            assert!(args("--tls cert.pem").is_err());
        } else {
            assert!(with_tls.is_err());
        }
    }

    fn request(origin: Option<&str>) -> rfc6455::handshake::UpgradeRequest {
        let mut builder = axum::http::Request::get("/ws")
            .header("Host", "127.0.0.1:8080")
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Version", "13");
        if let Some(origin) = origin {
            builder = builder.header("Origin", origin);
        }
        rfc6455::handshake::UpgradeRequest::from_http(&builder.body(()).unwrap()).unwrap()
    }

    #[test]
    fn only_this_hosts_pages_may_connect() {
        assert!(same_origin(&request(None)).is_ok());
        assert!(same_origin(&request(Some("http://127.0.0.1:8080"))).is_ok());
        assert!(same_origin(&request(Some("https://127.0.0.1:8080"))).is_ok());
        assert!(same_origin(&request(Some("http://evil.example"))).is_err());
        assert!(same_origin(&request(Some("http://127.0.0.1:8081"))).is_err());
        assert!(same_origin(&request(Some("null"))).is_err());
    }
}
