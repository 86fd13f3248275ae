//! Messages read like the standard types: code ported from tungstenite or axum, written against
//! `str`, `String` and `Bytes`, compiles against `Message` and `Utf8Bytes` and does what it did.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;
use rfc6455::{CloseCode, CloseFrame, Config, Connection, Message, Role, Utf8Bytes};

/// A text message as the connection hands it out: received, unmasked, validated.
fn received_text(text: &str) -> Utf8Bytes {
    let mut client = Connection::new(Role::Client, Config::default());
    let mut server = Connection::new(Role::Server, Config::default());
    client.send_text(text).unwrap();
    let mut wire = Vec::new();
    client.poll_transmit(&mut wire);
    server.handle_input(&wire);
    match server.poll_recv().unwrap() {
        Some(Message::Text(text)) => text,
        other => panic!("expected a text message, got {other:?}"),
    }
}

#[test]
fn received_text_uses_str_methods() {
    let text = received_text("hello, wörld");
    assert!(text.starts_with("he"));
    assert!(text.ends_with("wörld"));
    assert!(text.contains(", "));
    assert_eq!(text.find('w'), Some(7));
    assert_eq!(text.split(", ").collect::<Vec<_>>(), ["hello", "wörld"]);
    assert_eq!(text.to_uppercase(), "HELLO, WÖRLD");
    assert_eq!(text.chars().count(), 12);
    assert_eq!(text.len(), 13);
    assert_eq!(&text[..5], "hello");
    assert_eq!(text.parse::<u32>().ok(), None);
    assert_eq!(received_text("42").parse::<u32>(), Ok(42));
}

#[test]
fn derefs_and_converts_to_str() {
    let text = received_text("hello");
    let s: &str = &text;
    assert_eq!(s, "hello");
    let as_ref: &str = text.as_ref();
    assert_eq!(as_ref, "hello");
    let bytes: &[u8] = text.as_ref();
    assert_eq!(bytes, b"hello");
    assert_eq!(text.as_str(), "hello");
    fn takes_str(s: &str) -> usize {
        s.len()
    }
    assert_eq!(takes_str(&text), 5);
    fn takes_as_ref(s: impl AsRef<str>) -> String {
        s.as_ref().to_owned()
    }
    assert_eq!(takes_as_ref(&text), "hello");
    assert_eq!(takes_as_ref(text.clone()), "hello");
    let owned: String = text.to_string();
    assert_eq!(owned, "hello");
    assert_eq!(text.to_owned(), text);
    assert_eq!(Bytes::from(text.clone()), Bytes::from_static(b"hello"));
    assert_eq!(text.into_bytes(), Bytes::from_static(b"hello"));
}

#[test]
// Comparing with a freshly made `String` is the point: `PartialEq<String>` both ways.
#[allow(clippy::cmp_owned)]
fn compares_with_str_and_string_both_ways() {
    let text = received_text("hello");
    assert!(text == "hello");
    assert!("hello" == text);
    assert!(text == *"hello");
    assert!(*"hello" == text);
    assert!(text == String::from("hello"));
    assert!(String::from("hello") == text);
    assert!(text != "world");
    assert!("world" != text);
    assert!(String::from("x") == Utf8Bytes::from("x"));
    assert!(Utf8Bytes::from("x") == String::from("x"));
    assert!(String::from("x") != Utf8Bytes::from("y"));
    assert_eq!(text, Utf8Bytes::from_static("hello"));
    assert_eq!(text, "hello");
    assert_eq!("hello", text);
    assert!(Utf8Bytes::from("a") < Utf8Bytes::from("b"));
    assert!(Utf8Bytes::from("é") > Utf8Bytes::from("z"));
}

#[test]
fn keys_maps_and_sets_looked_up_by_str() {
    let mut counts: HashMap<Utf8Bytes, u32> = HashMap::new();
    for word in ["join", "leave", "join"] {
        *counts.entry(received_text(word)).or_default() += 1;
    }
    assert_eq!(counts.get("join"), Some(&2));
    assert_eq!(counts["leave"], 1);
    assert!(!counts.contains_key("chat"));
    assert_eq!(counts.remove("join"), Some(2));

    let rooms: HashSet<Utf8Bytes> = ["lobby", "games"]
        .into_iter()
        .map(Utf8Bytes::from)
        .collect();
    assert!(rooms.contains("lobby"));
    assert!(!rooms.contains("Lobby"));

    let sorted: BTreeMap<Utf8Bytes, ()> = ["b", "a", "c"]
        .into_iter()
        .map(|k| (Utf8Bytes::from(k), ()))
        .collect();
    assert_eq!(
        sorted.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert!(sorted.contains_key("c"));
}

#[test]
fn formats_like_str() {
    let text = received_text("hi");
    assert_eq!(format!("{text}"), "hi");
    assert_eq!(format!("<{text:>4}>"), "<  hi>");
    assert_eq!(format!("{text:?}"), "\"hi\"");
    assert_eq!(text.to_string(), "hi");
}

#[test]
fn message_text_accessors() {
    let msg = Message::Text(received_text("hello"));
    assert_eq!(msg.as_text(), Some("hello"));
    assert_eq!(msg.to_text(), Ok("hello"));
    assert_eq!(msg.clone().into_text().unwrap(), "hello");
    assert_eq!(msg.as_bytes(), b"hello");
    assert_eq!(msg.as_payload(), b"hello");

    let binary = Message::binary(&b"hello"[..]);
    assert_eq!(binary.as_text(), None);
    // tungstenite's `to_text` and `into_text` decode any payload that is UTF-8.
    assert_eq!(binary.to_text(), Ok("hello"));
    assert_eq!(binary.clone().into_text().unwrap(), "hello");
    let not_utf8 = Message::binary(vec![0xc3]);
    assert!(not_utf8.to_text().is_err());
    assert!(not_utf8.into_text().is_err());

    let close = Message::Close(Some(CloseFrame::new(CloseCode::GOING_AWAY, "bye").unwrap()));
    assert_eq!(close.as_text(), None);
    assert_eq!(close.to_text(), Ok("bye"));
    assert_eq!(close.into_text().unwrap(), "bye");
    assert_eq!(Message::Close(None).to_text(), Ok(""));
    assert_eq!(Message::Ping(Bytes::from_static(b"p")).to_text(), Ok("p"));
}

#[test]
fn into_data_for_each_variant() {
    assert_eq!(
        Message::Text(received_text("hi")).into_data(),
        Bytes::from_static(b"hi")
    );
    assert_eq!(
        Message::binary(vec![1, 2, 3]).into_data(),
        Bytes::from(vec![1, 2, 3])
    );
    assert_eq!(
        Message::Ping(Bytes::from_static(b"ping")).into_data(),
        Bytes::from_static(b"ping")
    );
    assert_eq!(
        Message::Pong(Bytes::from_static(b"pong")).into_data(),
        Bytes::from_static(b"pong")
    );
    // A Close frame gives its wire payload: code, then reason; nothing without a code.
    let frame = CloseFrame::new(CloseCode::NORMAL, "done").unwrap();
    let mut encoded = Vec::new();
    frame.encode(&mut encoded);
    let data = Message::Close(Some(frame.clone())).into_data();
    assert_eq!(data, Bytes::from(encoded));
    assert_eq!(data, Bytes::from_static(b"\x03\xe8done"));
    assert_eq!(CloseFrame::parse(&data).unwrap(), Some(frame));
    assert_eq!(Message::Close(None).into_data(), Bytes::new());
}

#[test]
fn into_data_shares_the_received_buffer() {
    let text = received_text("no copy");
    let before = text.as_ptr();
    let data = Message::Text(text).into_data();
    assert_eq!(data.as_ptr(), before);
}

#[test]
fn kind_predicates() {
    let all = [
        ("text", Message::text("t")),
        ("binary", Message::binary(vec![0])),
        ("ping", Message::Ping(Bytes::new())),
        ("pong", Message::Pong(Bytes::new())),
        ("close", Message::Close(None)),
    ];
    for (kind, msg) in &all {
        assert_eq!(msg.is_text(), *kind == "text", "{kind}");
        assert_eq!(msg.is_binary(), *kind == "binary", "{kind}");
        assert_eq!(msg.is_ping(), *kind == "ping", "{kind}");
        assert_eq!(msg.is_pong(), *kind == "pong", "{kind}");
        assert_eq!(msg.is_close(), *kind == "close", "{kind}");
        assert_eq!(msg.is_data(), matches!(*kind, "text" | "binary"), "{kind}");
        assert_eq!(
            msg.is_control(),
            matches!(*kind, "ping" | "pong" | "close"),
            "{kind}"
        );
        assert_ne!(msg.is_data(), msg.is_control(), "{kind}");
    }
}

#[test]
fn messages_from_text_types() {
    let text = Utf8Bytes::from("u");
    assert_eq!(Message::from(text.clone()), Message::Text(text));
    assert_eq!(Message::from("s"), Message::text("s"));
    assert_eq!(Message::from(String::from("s")), Message::text("s"));
    let owned = String::from("s");
    assert_eq!(Message::text(&owned), Message::text(owned));
}
