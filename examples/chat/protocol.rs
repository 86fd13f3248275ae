//! The JSON protocol: every message both ways is an envelope `{"type", "id", "ts", "payload"}`.
//!
//! Parsing never panics and never closes the connection: whatever a client sends, [`parse`]
//! returns a [`Request`] or an [`Invalid`] that becomes an `error` message. Outgoing messages are
//! encoded once into a [`PreparedMessage`], whatever the number of recipients.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rfc6455::PreparedMessage;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest name, in characters.
pub(crate) const MAX_NAME_CHARS: usize = 32;
/// Longest room name, in characters.
pub(crate) const MAX_ROOM_CHARS: usize = 64;
/// Longest string id a client may attach to a message, in characters.
pub(crate) const MAX_ID_CHARS: usize = 64;

/// What a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// Enter `room` as `name`, leaving the current room if any.
    Join { room: String, name: String },
    /// Leave the current room.
    Leave,
    /// Say `text` to the current room.
    Message { text: String },
    /// Tell the others in the room that this member is typing.
    Typing,
}

impl Request {
    /// The `type` this request came as.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Request::Join { .. } => "join",
            Request::Leave => "leave",
            Request::Message { .. } => "message",
            Request::Typing => "typing",
        }
    }
}

/// A well-formed client message: the client's `id` (echoed in the `ack`) and the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Incoming {
    pub(crate) id: Value,
    pub(crate) request: Request,
}

/// Why a client message was refused; sent back as an `error` carrying the client's `id` when it
/// could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) id: Value,
    /// Stable, machine-readable: `bad_json`, `bad_message`, `bad_id`, `unknown_type`,
    /// `bad_payload`, `not_in_room`, `name_taken`, `unsupported`.
    pub(crate) code: &'static str,
    /// For people.
    pub(crate) reason: String,
}

impl Invalid {
    pub(crate) fn new(id: Value, code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            id,
            code,
            reason: reason.into(),
        }
    }
}

#[derive(Deserialize)]
struct JoinPayload {
    room: String,
    name: String,
}

#[derive(Deserialize)]
struct MessagePayload {
    text: String,
}

/// Parses one client text message.
pub(crate) fn parse(text: &str) -> Result<Incoming, Invalid> {
    let value: Value = serde_json::from_str(text)
        .map_err(|error| Invalid::new(Value::Null, "bad_json", format!("invalid JSON: {error}")))?;
    let Value::Object(mut fields) = value else {
        return Err(Invalid::new(
            Value::Null,
            "bad_message",
            "a message must be a JSON object",
        ));
    };
    let id = parse_id(fields.remove("id"))?;
    let kind = match fields.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        _ => {
            return Err(Invalid::new(id, "bad_message", "\"type\" must be a string"));
        }
    };
    // `ts` from clients is allowed and ignored: the server's clock dates what it relays.
    let request = match kind {
        "join" => {
            let JoinPayload { room, name } = payload(&mut fields, &id)?;
            let room = clean(&room, "room", MAX_ROOM_CHARS).map_err(|r| bad_payload(&id, r))?;
            let name = clean(&name, "name", MAX_NAME_CHARS).map_err(|r| bad_payload(&id, r))?;
            Request::Join { room, name }
        }
        "leave" => Request::Leave,
        "message" => {
            let MessagePayload { text } = payload(&mut fields, &id)?;
            if text.trim().is_empty() {
                return Err(bad_payload(&id, "\"text\" must not be empty".into()));
            }
            Request::Message { text }
        }
        "typing" => Request::Typing,
        other => {
            let shown: String = other.chars().take(32).collect();
            return Err(Invalid::new(
                id,
                "unknown_type",
                format!("unknown message type {shown:?}"),
            ));
        }
    };
    Ok(Incoming { id, request })
}

/// A client id is a string of at most [`MAX_ID_CHARS`] characters, a number, or absent.
fn parse_id(id: Option<Value>) -> Result<Value, Invalid> {
    match id {
        None | Some(Value::Null) => Ok(Value::Null),
        Some(Value::Number(n)) => Ok(Value::Number(n)),
        Some(Value::String(s)) if s.chars().count() <= MAX_ID_CHARS => Ok(Value::String(s)),
        Some(_) => Err(Invalid::new(
            Value::Null,
            "bad_id",
            format!("\"id\" must be a number or a string of at most {MAX_ID_CHARS} characters"),
        )),
    }
}

fn payload<T: for<'de> Deserialize<'de>>(
    fields: &mut Map<String, Value>,
    id: &Value,
) -> Result<T, Invalid> {
    let payload = fields.remove("payload").unwrap_or(Value::Null);
    serde_json::from_value(payload)
        .map_err(|error| bad_payload(id, format!("bad payload: {error}")))
}

fn bad_payload(id: &Value, reason: String) -> Invalid {
    Invalid::new(id.clone(), "bad_payload", reason)
}

/// Trims `value` and checks it is a non-empty, printable name of at most `max` characters.
fn clean(value: &str, field: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("\"{field}\" must not be empty"));
    }
    if value.chars().count() > max {
        return Err(format!("\"{field}\" is longer than {max} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("\"{field}\" contains control characters"));
    }
    Ok(value.to_owned())
}

// ------------------------------------------------------------------------------ server → client

#[derive(Serialize)]
struct Envelope<'a, P> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a Value,
    ts: u64,
    payload: P,
}

/// Ids of the messages the server originates (`message`, `typing`, `presence`).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn server_id() -> Value {
    Value::from(NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// Encodes one envelope, once, as a frame ready for any number of connections.
fn encode<P: Serialize>(kind: &str, id: &Value, payload: P) -> PreparedMessage {
    let envelope = Envelope {
        kind,
        id,
        ts: now_ms(),
        payload,
    };
    // Serializing these plain structs cannot fail; should it ever, the client gets an error
    // rather than the server a panic.
    let json = serde_json::to_string(&envelope).unwrap_or_else(|_| {
        r#"{"type":"error","id":null,"ts":0,"payload":{"code":"internal","reason":"encoding failed"}}"#
            .to_owned()
    });
    PreparedMessage::text(&json)
}

/// `message`: `text` said by `from` in `room`.
pub(crate) fn message(room: &str, from: &str, text: &str) -> PreparedMessage {
    #[derive(Serialize)]
    struct Payload<'a> {
        room: &'a str,
        from: &'a str,
        text: &'a str,
    }
    encode("message", &server_id(), Payload { room, from, text })
}

/// `typing`: `name` is typing in `room`.
pub(crate) fn typing(room: &str, name: &str) -> PreparedMessage {
    #[derive(Serialize)]
    struct Payload<'a> {
        room: &'a str,
        name: &'a str,
    }
    encode("typing", &server_id(), Payload { room, name })
}

/// `presence`: `name` came online or went offline in `room`; `members` is who is there now.
pub(crate) fn presence(room: &str, name: &str, online: bool, members: &[&str]) -> PreparedMessage {
    #[derive(Serialize)]
    struct Payload<'a> {
        room: &'a str,
        name: &'a str,
        status: &'a str,
        members: &'a [&'a str],
    }
    let status = if online { "online" } else { "offline" };
    encode(
        "presence",
        &server_id(),
        Payload {
            room,
            name,
            status,
            members,
        },
    )
}

/// `ack`: the client's message `id` was accepted.
pub(crate) fn ack(id: &Value, of: &str) -> PreparedMessage {
    #[derive(Serialize)]
    struct Payload<'a> {
        of: &'a str,
    }
    encode("ack", id, Payload { of })
}

/// `error`: the client's message `id` was refused.
pub(crate) fn error(invalid: &Invalid) -> PreparedMessage {
    #[derive(Serialize)]
    struct Payload<'a> {
        code: &'a str,
        reason: &'a str,
    }
    encode(
        "error",
        &invalid.id,
        Payload {
            code: invalid.code,
            reason: &invalid.reason,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> &'static str {
        parse(text).unwrap_err().code
    }

    #[test]
    fn parses_every_request_type() {
        let join = parse(r#"{"type":"join","id":"1","payload":{"room":" lobby ","name":"ann"}}"#);
        assert_eq!(
            join.unwrap(),
            Incoming {
                id: Value::from("1"),
                request: Request::Join {
                    room: "lobby".into(),
                    name: "ann".into()
                }
            }
        );
        let message = parse(r#"{"type":"message","id":7,"ts":1,"payload":{"text":"héllo ✓"}}"#);
        assert_eq!(
            message.unwrap().request,
            Request::Message {
                text: "héllo ✓".into()
            }
        );
        assert_eq!(
            parse(r#"{"type":"leave"}"#).unwrap().request,
            Request::Leave
        );
        assert_eq!(parse(r#"{"type":"typing"}"#).unwrap().id, Value::Null);
    }

    #[test]
    fn refuses_bad_input_with_a_code_and_keeps_the_id() {
        assert_eq!(code("{"), "bad_json");
        assert_eq!(code("[1]"), "bad_message");
        assert_eq!(code(r#"{"id":1}"#), "bad_message");
        assert_eq!(code(r#"{"type":"join","id":{}}"#), "bad_id");
        let unknown = parse(r#"{"type":"dance","id":"x"}"#).unwrap_err();
        assert_eq!(
            (unknown.code, unknown.id),
            ("unknown_type", Value::from("x"))
        );
        assert_eq!(
            code(r#"{"type":"message","payload":{"text":"  "}}"#),
            "bad_payload"
        );
        assert_eq!(code(r#"{"type":"message"}"#), "bad_payload");
        assert_eq!(
            code(r#"{"type":"join","payload":{"room":"r","name":""}}"#),
            "bad_payload"
        );
        assert_eq!(
            code(r#"{"type":"join","payload":{"room":"r","name":"a\u0007"}}"#),
            "bad_payload"
        );
        let long = "n".repeat(MAX_NAME_CHARS + 1);
        let join = format!(r#"{{"type":"join","payload":{{"room":"r","name":"{long}"}}}}"#);
        assert_eq!(code(&join), "bad_payload");
    }

    #[test]
    fn encodes_envelopes() {
        let frame = ack(&Value::from("42"), "message");
        let json: Value = serde_json::from_slice(frame.payload()).unwrap();
        assert_eq!(json["type"], "ack");
        assert_eq!(json["id"], "42");
        assert_eq!(json["payload"]["of"], "message");
        assert!(json["ts"].as_u64().unwrap() > 0);
        let frame = presence("r", "ann", true, &["ann", "bob"]);
        let json: Value = serde_json::from_slice(frame.payload()).unwrap();
        assert_eq!(
            json["payload"]["members"],
            serde_json::json!(["ann", "bob"])
        );
        assert_eq!(json["payload"]["status"], "online");
    }
}
