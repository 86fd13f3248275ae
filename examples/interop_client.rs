//! Interop client: runs the peer-interop scenarios against another implementation's echo server,
//! through the tokio adapter or the blocking one, and checks every reply by content.
//!
//! ```text
//! cargo run --release --features tokio --example interop_client -- tokio ws://127.0.0.1:9001
//! cargo run --release --features tokio --example interop_client -- std ws://127.0.0.1:9001
//! ```
//!
//! `tests/interop/run` runs it against the Node `ws` and Python `websockets` servers of
//! `tests/interop/`. The server must:
//!
//! * echo every text and binary message unchanged;
//! * on the text message `close-me`, close the connection with 4001 `bye`;
//! * on `frag-me`, send the text [`FRAG_TEXT`] as the fragments of [`FRAG_TEXT_PARTS`] (a code
//!   point split between two of them, an empty one among them) with a Ping `mid-message` after
//!   the first, then the binary [`frag_binary`] as several fragments;
//! * on `close-of:PATH`, answer `CODE REASON` with the Close it received on the last connection
//!   made to `PATH` (waiting a little for it), or `none`.
//!
//! Scenarios: `sizes` (text and binary of 0 B to 1 MiB, the text with multi-byte UTF-8),
//! `fragments` (ours and the server's), `ping`, `close` (the server's 4001 `bye` as seen here,
//! ours 4002 `done` as the server saw it) and `concurrency` (100 connections × 100 messages).
//! Prints one line per scenario; exits with status 1 and the first mismatch on failure.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rfc6455::{CloseCode, CloseFrame, Error, Message};

/// How long any single script (one connection) may take.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);
/// The payload sizes of the `sizes` scenario: around each length encoding's boundary, and 1 MiB.
const SIZES: [usize; 6] = [0, 125, 126, 65535, 65536, 1 << 20];
const CONNECTIONS: usize = 100;
const MESSAGES_PER_CONNECTION: usize = 100;

/// The raw fragments the server sends on `frag-me`: `ä` and `✓` are split between fragments.
const FRAG_TEXT_PARTS: [&[u8]; 5] = [
    b"fr\xc3",
    b"\xa4g",
    b"",
    b"ment \xe2\x9c",
    b"\x93 \xf0\x9f\x98\x80",
];
/// The text the fragments of [`FRAG_TEXT_PARTS`] make.
const FRAG_TEXT: &str = "frägment ✓ 😀";
/// The sizes of the binary fragments the server sends on `frag-me`.
const FRAG_BINARY_SIZES: [usize; 5] = [1, 0, 125, 126, 1000];

/// The binary message the server sends on `frag-me`: byte `i` is `i % 251`.
fn frag_binary() -> Vec<u8> {
    let len: usize = FRAG_BINARY_SIZES.iter().sum();
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// One thing a script does on its connection.
#[derive(Clone)]
enum Step {
    /// Send a whole message or a Ping.
    Send(Message),
    /// Send one fragment of a text message; `true` ends it.
    TextFragment(String, bool),
    /// Send one fragment of a binary message; `true` ends it.
    BinaryFragment(Vec<u8>, bool),
    /// Start the closing handshake.
    Close(u16, &'static str),
    /// The next thing received must be exactly this.
    Expect(Message),
    /// The next thing received must be a Close with this code (any reason).
    ExpectCloseCode(u16),
    /// The connection must be over: the adapter reports `Error::Closed`.
    ExpectEnd,
}

/// A connection to `path` on the server, and what to do on it.
#[derive(Clone)]
struct Script {
    path: String,
    steps: Vec<Step>,
}

/// A named list of scripts, run one after another or all at once.
struct Scenario {
    name: &'static str,
    scripts: Vec<Script>,
    concurrent: bool,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [adapter, base] = args.as_slice() else {
        eprintln!("usage: interop_client tokio|std ws://HOST:PORT");
        return ExitCode::from(2);
    };
    let base = base.trim_end_matches('/');
    if adapter != "tokio" && adapter != "std" {
        eprintln!("unknown adapter {adapter:?}: expected tokio or std");
        return ExitCode::from(2);
    }
    let runtime = if adapter == "tokio" {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => Some(runtime),
            Err(error) => {
                eprintln!("cannot start a tokio runtime: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    // Tells this run's close scenario from another run's on the same server.
    let tag = format!("{adapter}-{}", std::process::id());
    for scenario in scenarios(&tag) {
        let start = Instant::now();
        let result = match &runtime {
            Some(runtime) => runtime.block_on(tokio_client::run(base, &scenario)),
            None => std_client::run(base, &scenario),
        };
        let elapsed = start.elapsed().as_secs_f64();
        match result {
            Ok(()) => println!("ok   {adapter} {} ({elapsed:.2} s)", scenario.name),
            Err(error) => {
                println!("FAIL {adapter} {}: {error}", scenario.name);
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

// ------------------------------------------------------------------------------- scenarios

fn scenarios(tag: &str) -> Vec<Scenario> {
    vec![
        Scenario {
            name: "sizes",
            scripts: vec![sizes()],
            concurrent: false,
        },
        Scenario {
            name: "fragments",
            scripts: vec![fragments()],
            concurrent: false,
        },
        Scenario {
            name: "ping",
            scripts: vec![ping()],
            concurrent: false,
        },
        Scenario {
            name: "close",
            scripts: close(tag),
            concurrent: false,
        },
        Scenario {
            name: "concurrency",
            scripts: (0..CONNECTIONS).map(concurrent_connection).collect(),
            concurrent: true,
        },
    ]
}

/// Every size as text and as binary, each echo compared whole.
fn sizes() -> Script {
    let mut steps = Vec::new();
    for (seed, &len) in SIZES.iter().enumerate() {
        for message in [
            Message::text(text_of(len, seed)),
            Message::binary(binary_of(len, seed)),
        ] {
            steps.push(Step::Send(message.clone()));
            steps.push(Step::Expect(message));
        }
    }
    steps.extend(normal_close());
    Script {
        path: "/sizes".into(),
        steps,
    }
}

/// Messages we send in fragments (with a Ping between two of them), then the server's.
fn fragments() -> Script {
    use Step::*;
    let big: Vec<u8> = binary_of(1 << 20, 7);
    let mut steps = vec![
        TextFragment("frä".into(), false),
        TextFragment(String::new(), false),
        Send(Message::Ping("between fragments".into())),
        TextFragment("gment ✓ ".into(), false),
        TextFragment(text_of(70_000, 3), true),
        Expect(Message::Pong("between fragments".into())),
        Expect(Message::text(format!("frägment ✓ {}", text_of(70_000, 3)))),
        BinaryFragment(Vec::new(), false),
        BinaryFragment(vec![0xff], true),
        Expect(Message::binary(vec![0xff])),
    ];
    // 1 MiB in 16 fragments of 64 KiB.
    for (i, chunk) in big.chunks(1 << 16).enumerate() {
        steps.push(BinaryFragment(chunk.to_vec(), i == 15));
    }
    steps.push(Expect(Message::binary(big)));
    // A one-fragment "fragmented" message: a single frame with FIN set.
    steps.push(TextFragment("ünïcode".into(), true));
    steps.push(Expect(Message::text("ünïcode")));
    // The server's fragments, with a code point split between two and a Ping among them.
    assert_eq!(FRAG_TEXT_PARTS.concat(), FRAG_TEXT.as_bytes());
    steps.push(Send(Message::text("frag-me")));
    steps.push(Expect(Message::Ping("mid-message".into())));
    steps.push(Expect(Message::text(FRAG_TEXT)));
    steps.push(Expect(Message::binary(frag_binary())));
    steps.extend(normal_close());
    Script {
        path: "/fragments".into(),
        steps,
    }
}

/// Pings with an empty, a UTF-8 and a 125-byte payload: each Pong carries the same payload.
fn ping() -> Script {
    let mut steps = Vec::new();
    for payload in [
        Vec::new(),
        "ping ✓ ü".as_bytes().to_vec(),
        binary_of(125, 11),
    ] {
        steps.push(Step::Send(Message::Ping(payload.clone().into())));
        steps.push(Step::Expect(Message::Pong(payload.into())));
    }
    // The connection still echoes after the pings.
    steps.push(Step::Send(Message::text("after pings")));
    steps.push(Step::Expect(Message::text("after pings")));
    steps.extend(normal_close());
    Script {
        path: "/ping".into(),
        steps,
    }
}

/// The server closes with 4001 "bye"; we close with 4002 "done" and ask the server what it got.
fn close(tag: &str) -> Vec<Script> {
    use Step::*;
    let ours = format!("/close-ours-{tag}");
    vec![
        Script {
            path: "/close-peer".into(),
            steps: vec![
                Send(Message::text("close-me")),
                Expect(Message::Close(Some(CloseFrame {
                    code: CloseCode(4001),
                    reason: "bye".into(),
                }))),
                ExpectEnd,
            ],
        },
        Script {
            path: ours.clone(),
            steps: vec![
                Send(Message::text("before close")),
                Expect(Message::text("before close")),
                Close(4002, "done"),
                ExpectCloseCode(4002),
                ExpectEnd,
            ],
        },
        Script {
            path: "/close-query".into(),
            steps: [
                Send(Message::text(format!("close-of:{ours}"))),
                Expect(Message::text("4002 done")),
            ]
            .into_iter()
            .chain(normal_close())
            .collect(),
        },
    ]
}

/// Connection `c` of the concurrency scenario: 100 distinct messages sent back to back, then
/// their echoes checked in order.
fn concurrent_connection(c: usize) -> Script {
    let messages: Vec<Message> = (0..MESSAGES_PER_CONNECTION)
        .map(|i| {
            let filler = (c * 31 + i * 17) % 300;
            if i % 2 == 0 {
                Message::text(format!("conn {c} msg {i} ✓ {}", text_of(filler, c + i)))
            } else {
                let mut data = format!("conn {c} msg {i} ").into_bytes();
                data.extend(binary_of(filler, c * i));
                Message::binary(data)
            }
        })
        .collect();
    let mut steps: Vec<Step> = messages.iter().cloned().map(Step::Send).collect();
    steps.extend(messages.into_iter().map(Step::Expect));
    steps.extend(normal_close());
    Script {
        path: format!("/concurrent/{c}"),
        steps,
    }
}

fn normal_close() -> [Step; 3] {
    [
        Step::Close(1000, ""),
        Step::ExpectCloseCode(1000),
        Step::ExpectEnd,
    ]
}

/// Exactly `len` bytes of UTF-8 mixing 1- to 4-byte characters, starting at a `seed`-dependent
/// place in the pattern (padded with ASCII where a character would not fit).
fn text_of(len: usize, seed: usize) -> String {
    const PATTERN: &str = "héllo wörld — ✓ € 😀 ñ 日本語 ";
    let chars: Vec<char> = PATTERN.chars().collect();
    let mut text = String::with_capacity(len);
    let mut i = seed;
    while text.len() < len {
        let c = chars[i % chars.len()];
        text.push(if text.len() + c.len_utf8() <= len {
            c
        } else {
            'x'
        });
        i += 1;
    }
    text
}

/// `len` bytes covering every byte value, varied by `seed`.
fn binary_of(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(131) ^ (i >> 8) ^ seed.wrapping_mul(7)) as u8)
        .collect()
}

// ---------------------------------------------------------------------------------- checks

impl Step {
    /// A short description, without the payload itself.
    fn describe(&self) -> String {
        match self {
            Step::Send(message) => format!("send {}", describe(message)),
            Step::TextFragment(text, fin) => {
                format!("send text fragment of {} B, fin {fin}", text.len())
            }
            Step::BinaryFragment(data, fin) => {
                format!("send binary fragment of {} B, fin {fin}", data.len())
            }
            Step::Close(code, reason) => format!("close with {code} {reason:?}"),
            Step::Expect(message) => format!("expect {}", describe(message)),
            Step::ExpectCloseCode(code) => format!("expect Close {code}"),
            Step::ExpectEnd => "expect the end of the connection".into(),
        }
    }

    fn is_expectation(&self) -> bool {
        matches!(
            self,
            Step::Expect(_) | Step::ExpectCloseCode(_) | Step::ExpectEnd
        )
    }
}

/// Checks what the adapter's `recv` returned against an expectation step.
fn check(step: &Step, received: Result<Message, Error>) -> Result<(), String> {
    match (step, received) {
        (Step::Expect(expected), Ok(got)) if *expected == got => Ok(()),
        (Step::Expect(expected), Ok(got)) => Err(mismatch(expected, &got)),
        (Step::ExpectCloseCode(code), Ok(Message::Close(Some(frame)))) if frame.code.0 == *code => {
            Ok(())
        }
        (Step::ExpectEnd, Err(Error::Closed)) => Ok(()),
        (_, Ok(got)) => Err(format!("received {}", describe(&got))),
        (_, Err(error)) => Err(format!("receive failed: {error}")),
    }
}

/// A message's kind and size, and its payload when short.
fn describe(message: &Message) -> String {
    let payload = message.as_payload();
    let kind = match message {
        Message::Text(_) => "Text",
        Message::Binary(_) => "Binary",
        Message::Ping(_) => "Ping",
        Message::Pong(_) => "Pong",
        Message::Close(None) => return "Close without a code".into(),
        Message::Close(Some(frame)) => {
            return format!("Close {} {:?}", frame.code.0, frame.reason);
        }
    };
    if payload.len() <= 40 {
        format!("{kind} {:?}", String::from_utf8_lossy(payload))
    } else {
        format!("{kind} of {} B", payload.len())
    }
}

/// Where two messages differ.
fn mismatch(expected: &Message, got: &Message) -> String {
    let mut text = format!(
        "expected {}, received {}",
        describe(expected),
        describe(got)
    );
    let (a, b) = (expected.as_payload(), got.as_payload());
    if let Some(at) = a.iter().zip(b).position(|(x, y)| x != y) {
        let _ = write!(
            text,
            "; payloads first differ at byte {at} (expected {:#04x}, received {:#04x})",
            a[at], b[at]
        );
    } else if a.len() != b.len() {
        let _ = write!(text, "; lengths differ ({} vs {} B)", a.len(), b.len());
    }
    text
}

/// Adds the script's path and the failing step to an error.
fn in_step(script: &Script, index: usize, error: impl std::fmt::Display) -> String {
    format!(
        "{} step {index} ({}): {error}",
        script.path,
        script.steps[index].describe()
    )
}

// ----------------------------------------------------------------------------- the clients

mod tokio_client {
    use super::*;
    use rfc6455::tokio::WebSocket;
    use tokio::net::TcpStream;

    pub(super) async fn run(base: &str, scenario: &Scenario) -> Result<(), String> {
        if !scenario.concurrent {
            for script in &scenario.scripts {
                run_script(base, script).await?;
            }
            return Ok(());
        }
        let mut tasks = tokio::task::JoinSet::new();
        for script in &scenario.scripts {
            let (base, script) = (base.to_owned(), script.clone());
            tasks.spawn(async move { run_script(&base, &script).await });
        }
        let mut first_error = None;
        while let Some(result) = tasks.join_next().await {
            let result = result
                .map_err(|error| format!("task failed: {error}"))
                .and_then(|r| r);
            if let Err(error) = result {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn run_script(base: &str, script: &Script) -> Result<(), String> {
        let url = format!("{base}{}", script.path);
        let steps = async {
            let (mut ws, _response) = rfc6455::tokio::connect(&url)
                .await
                .map_err(|error| format!("{}: connect to {url}: {error}", script.path))?;
            for (index, step) in script.steps.iter().enumerate() {
                if step.is_expectation() {
                    check(step, ws.recv().await)
                } else {
                    perform(&mut ws, step)
                        .await
                        .map_err(|error| format!("send failed: {error}"))
                }
                .map_err(|error| in_step(script, index, error))?;
            }
            Ok(())
        };
        tokio::time::timeout(SCRIPT_TIMEOUT, steps)
            .await
            .map_err(|_| format!("{}: timed out after {SCRIPT_TIMEOUT:?}", script.path))?
    }

    async fn perform(ws: &mut WebSocket<TcpStream>, step: &Step) -> Result<(), Error> {
        match step {
            Step::Send(message) => ws.send(message.clone()).await,
            Step::TextFragment(text, fin) => ws.send_text_fragment(text, *fin).await,
            Step::BinaryFragment(data, fin) => ws.send_binary_fragment(data, *fin).await,
            Step::Close(code, reason) => ws.close(CloseCode(*code), reason).await,
            Step::Expect(_) | Step::ExpectCloseCode(_) | Step::ExpectEnd => Ok(()),
        }
    }
}

mod std_client {
    use super::*;
    use rfc6455::blocking::WebSocket;
    use std::net::TcpStream;

    pub(super) fn run(base: &str, scenario: &Scenario) -> Result<(), String> {
        if !scenario.concurrent {
            return scenario
                .scripts
                .iter()
                .try_for_each(|script| run_script(base, script));
        }
        std::thread::scope(|scope| {
            let threads: Vec<_> = scenario
                .scripts
                .iter()
                .map(|script| scope.spawn(move || run_script(base, script)))
                .collect();
            let mut first_error = None;
            for thread in threads {
                let result = thread
                    .join()
                    .unwrap_or_else(|_| Err("a client thread panicked".into()));
                if let Err(error) = result {
                    first_error.get_or_insert(error);
                }
            }
            first_error.map_or(Ok(()), Err)
        })
    }

    fn run_script(base: &str, script: &Script) -> Result<(), String> {
        let url = format!("{base}{}", script.path);
        let (mut ws, _response) = rfc6455::blocking::connect(&url)
            .map_err(|error| format!("{}: connect to {url}: {error}", script.path))?;
        // Bounds every read: a server that never answers fails the step instead of hanging.
        ws.get_ref()
            .set_read_timeout(Some(SCRIPT_TIMEOUT))
            .map_err(|error| format!("{}: set_read_timeout: {error}", script.path))?;
        for (index, step) in script.steps.iter().enumerate() {
            if step.is_expectation() {
                check(step, ws.recv())
            } else {
                perform(&mut ws, step).map_err(|error| format!("send failed: {error}"))
            }
            .map_err(|error| in_step(script, index, error))?;
        }
        Ok(())
    }

    fn perform(ws: &mut WebSocket<TcpStream>, step: &Step) -> Result<(), Error> {
        match step {
            Step::Send(message) => ws.send(message.clone()),
            Step::TextFragment(text, fin) => ws.send_text_fragment(text, *fin),
            Step::BinaryFragment(data, fin) => ws.send_binary_fragment(data, *fin),
            Step::Close(code, reason) => ws.close(CloseCode(*code), reason),
            Step::Expect(_) | Step::ExpectCloseCode(_) | Step::ExpectEnd => Ok(()),
        }
    }
}
