//! What context takeover and the window size cost and buy (issue 17): the compressed size of a
//! realistic sample, chat-like JSON messages, at several window sizes with and without context
//! takeover, the memory a connection then holds, and the CPU a server spends compressing.
//!
//! The table in the README and in the `deflate` module docs comes from:
//!
//! ```text
//! cargo test --release --features deflate --test deflate_tradeoffs -- --ignored --nocapture --test-threads=1
//! ```
//!
//! Memory is the growth of the resident set (Linux `/proc/self/statm`) over 100 client and
//! server pairs, each after one 2 KiB message echoed compressed, halved: with the same
//! parameters both ends hold the same state. Each figure is measured in a fresh process (this
//! test runs its own binary again, one `memory_probe` per cell), after one echo that fills the
//! per-thread pool, so no measurement reuses memory another one freed and the pool, shared by a
//! thread's connections, is not counted. The time is what a server spends in `send_text` and
//! `take_transmit` per message (level 1), the best of five passes. The sizes are deterministic;
//! the memory moves by a few percent between runs, the time by 10–30% on a loaded machine.
#![cfg(feature = "deflate")]

use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::ExtensionOffer;
use rfc6455::handshake::deflate::{accept_response, negotiate};
use rfc6455::{Config, Connection, Message, Role};

/// The window sizes measured (9 is the smallest zlib compresses with).
const WINDOWS: [u8; 5] = [9, 10, 12, 14, 15];

/// A client and a server that negotiated `config` (its threshold included).
fn connections(config: DeflateConfig) -> (Connection, Connection) {
    let offers = ExtensionOffer::parse_list(config.offer().as_bytes()).unwrap();
    let server_params = negotiate(&offers, &config).unwrap();
    let answer = ExtensionOffer::parse_list(server_params.response().as_bytes()).unwrap();
    let client_params = accept_response(&answer, &config).unwrap().unwrap();
    let base = Config::default().deflate(Some(config));
    let client =
        Connection::with_mask_seed(Role::Client, base.clone(), [3; 32]).with_deflate(client_params);
    let server = Connection::new(Role::Server, base).with_deflate(server_params);
    (client, server)
}

fn config(takeover: bool, window: u8) -> DeflateConfig {
    let config = if takeover {
        DeflateConfig::context_takeover()
    } else {
        DeflateConfig::default()
    };
    config.max_window_bits(window).threshold(0)
}

/// A deterministic chat: messages of 80 to 250 bytes, the keys repeated, users, rooms and words
/// drawn from small vocabularies, as a chat server sends them.
fn chat(count: usize) -> Vec<String> {
    const WORDS: [&str; 24] = [
        "hello", "the", "build", "is", "green", "again", "who", "broke", "main", "deploy", "at",
        "noon", "lunch", "anyone", "coffee", "review", "my", "pull", "request", "please", "thanks",
        "looks", "good", "ship",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    (0..count)
        .map(|i| {
            let words = 3 + next(20) as usize;
            let text: Vec<_> = (0..words).map(|_| WORDS[next(24) as usize]).collect();
            format!(
                r#"{{"type":"message","id":{},"ts":{},"room":"room-{}","user":{{"id":{},"name":"user{}"}},"text":"{}"}}"#,
                1000 + i,
                1_764_979_200_000u64 + i as u64 * 1733 + next(1000),
                next(5),
                next(40),
                next(40),
                text.join(" ")
            )
        })
        .collect()
}

/// Chat messages batched into JSON arrays of about `size` bytes (a history page, a presence list).
fn batches(messages: &[String], size: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut batch = String::from("[");
    for message in messages {
        if batch.len() + message.len() + 1 > size {
            batch.pop();
            batch.push(']');
            out.push(std::mem::replace(&mut batch, String::from("[")));
        }
        batch.push_str(message);
        batch.push(',');
    }
    out
}

/// Bytes on the wire over bytes of payload, when a server sends `messages` in order.
fn ratio(config: DeflateConfig, messages: &[String]) -> f64 {
    let (mut client, mut server) = connections(config);
    let (mut wire, mut payload) = (0, 0);
    for message in messages {
        server.send_text(message).unwrap();
        let frame = server.take_transmit();
        wire += frame.len();
        payload += message.len();
        client.handle_input(&frame);
        assert_eq!(
            client.poll_recv(),
            Ok(Some(Message::text(message.as_str())))
        );
    }
    wire as f64 / payload as f64
}

/// Nanoseconds a server spends compressing and framing each of `messages`, sent in order: the
/// best of five passes, each on a fresh connection.
fn compress_ns(config: DeflateConfig, messages: &[String]) -> u128 {
    (0..5)
        .map(|_| {
            let (_, mut server) = connections(config.clone());
            let start = std::time::Instant::now();
            for message in messages {
                server.send_text(message).unwrap();
                std::hint::black_box(server.take_transmit());
            }
            start.elapsed().as_nanos() / messages.len() as u128
        })
        .min()
        .unwrap()
}

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// Resident bytes per connection after one 2 KiB message echoed compressed, over `PAIRS` pairs,
/// all alive when measured.
fn memory(config: DeflateConfig) -> usize {
    const PAIRS: usize = 100;
    let message = batches(&chat(100), 2048).remove(0);
    let mut keep = Vec::new();
    // The per-thread pool is filled once, before measuring: it is not any connection's.
    echo(config.clone(), &message);
    let before = resident_bytes();
    for _ in 0..PAIRS {
        keep.push(echo(config.clone(), &message));
    }
    (resident_bytes() - before) / PAIRS / 2
}

/// A pair after `message` went from the client to the server and back, compressed.
fn echo(config: DeflateConfig, message: &str) -> (Connection, Connection) {
    let (mut client, mut server) = connections(config);
    client.send_text(message).unwrap();
    server.handle_input(&client.take_transmit());
    let Ok(Some(echo)) = server.poll_recv() else {
        panic!("no message");
    };
    server.send(echo).unwrap();
    client.handle_input(&server.take_transmit());
    assert!(matches!(client.poll_recv(), Ok(Some(Message::Text(_)))));
    (client, server)
}

/// Set by the table to ask its child process for one memory figure: `WINDOW,TAKEOVER`.
const PROBE: &str = "RFC6455_DEFLATE_PROBE";

/// One memory figure, printed, in a process of its own: the table runs it.
#[test]
#[ignore = "run by window_bits_and_context_takeover_table"]
fn memory_probe() {
    let Ok(probe) = std::env::var(PROBE) else {
        return;
    };
    let (window, takeover) = probe.split_once(',').unwrap();
    let bytes = memory(config(takeover == "true", window.parse().unwrap()));
    println!("bytes per connection: {bytes}");
}

/// [`memory`] in a fresh process.
fn memory_in_child(takeover: bool, window: u8) -> usize {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "memory_probe", "--ignored", "--nocapture"])
        .env(PROBE, format!("{window},{takeover}"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let Some((_, bytes)) = stdout.split_once("bytes per connection: ") else {
        panic!("no figure from the probe: {stdout}");
    };
    bytes.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
#[ignore = "prints the table of the README's compression section; run with --release"]
fn window_bits_and_context_takeover_table() {
    let mut rows = Vec::new();
    for window in WINDOWS {
        let without = memory_in_child(false, window);
        let with = memory_in_child(true, window);
        rows.push((window, without, with));
    }
    let messages = chat(2000);
    let pages = batches(&messages, 1024);
    println!(
        "chat: {} messages, {} bytes on average; 1 KiB batches: {}",
        messages.len(),
        messages.iter().map(String::len).sum::<usize>() / messages.len(),
        pages.len()
    );
    println!(
        "| window bits | chat, no context takeover | chat, context takeover | 1 KiB batches, no context takeover | 1 KiB batches, context takeover | bytes per connection, no context takeover | context takeover | ns per chat message, no context takeover | context takeover | ns per 1 KiB batch, no context takeover | context takeover |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (window, without, with) in rows {
        println!(
            "| {window} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} |",
            ratio(config(false, window), &messages),
            ratio(config(true, window), &messages),
            ratio(config(false, window), &pages),
            ratio(config(true, window), &pages),
            thousands(without),
            thousands(with),
            thousands(compress_ns(config(false, window), &messages) as usize),
            thousands(compress_ns(config(true, window), &messages) as usize),
            thousands(compress_ns(config(false, window), &pages) as usize),
            thousands(compress_ns(config(true, window), &pages) as usize),
        );
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// What the table shows, checked on a smaller sample in every test run: context takeover
/// compresses a stream of small similar messages far better, and a smaller window never helps.
#[test]
fn context_takeover_pays_on_small_similar_messages() {
    let messages = chat(200);
    let without = ratio(config(false, 15), &messages);
    let with = ratio(config(true, 15), &messages);
    assert!(with < without * 0.7, "{with:.2} against {without:.2}");
    assert!(ratio(config(true, 9), &messages) >= with);
}
