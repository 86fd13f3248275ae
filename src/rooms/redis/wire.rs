//! How rooms, messages and presence are spelled in Redis.
//!
//! A room's messages go to the channel `{prefix}room:{room}`, each as one byte (`t` text, `b`
//! binary) followed by the payload: every process encodes the frame once from it. A room's
//! presence is the sorted set `{prefix}presence:{room}`, whose members are
//! `{node}:{member id}:{name}` scored by the time (Unix milliseconds) at which the entry
//! expires unless its process refreshes it.

use crate::prepared::PreparedMessage;

pub(crate) fn channel(prefix: &str, room: &str) -> String {
    format!("{prefix}room:{room}")
}

pub(crate) fn room_of<'a>(prefix: &str, channel: &'a str) -> Option<&'a str> {
    channel.strip_prefix(prefix)?.strip_prefix("room:")
}

pub(crate) fn presence_key(prefix: &str, room: &str) -> String {
    format!("{prefix}presence:{room}")
}

pub(crate) fn encode(message: &PreparedMessage) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + message.payload().len());
    out.push(if message.is_text() { b't' } else { b'b' });
    out.extend_from_slice(message.payload());
    out
}

/// `None` for a payload no process of this crate sent (or text that is not UTF-8).
pub(crate) fn decode(payload: &[u8]) -> Option<PreparedMessage> {
    match payload.split_first()? {
        (b't', text) => Some(PreparedMessage::text(std::str::from_utf8(text).ok()?)),
        (b'b', data) => Some(PreparedMessage::binary(data)),
        _ => None,
    }
}

pub(crate) fn presence_entry(node: &str, id: u64, name: &str) -> String {
    format!("{node}:{id}:{name}")
}

/// `(node, member id, name)`; the name may itself contain `:`.
pub(crate) fn parse_presence_entry(entry: &str) -> Option<(&str, u64, &str)> {
    let (node, rest) = entry.split_once(':')?;
    let (id, name) = rest.split_once(':')?;
    Some((node, id.parse().ok()?, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_presence_entries_read_back_as_written() {
        for message in [
            PreparedMessage::text("héllo"),
            PreparedMessage::binary(b"\0\xff"),
        ] {
            assert_eq!(decode(&encode(&message)), Some(message));
        }
        assert_eq!(decode(b""), None);
        assert_eq!(decode(b"x"), None);
        assert_eq!(decode(b"t\xff"), None);
        let entry = presence_entry("n1", 7, "ann:the:first");
        assert_eq!(
            parse_presence_entry(&entry),
            Some(("n1", 7, "ann:the:first"))
        );
        assert_eq!(room_of("p:", &channel("p:", "a:b")), Some("a:b"));
        assert_eq!(room_of("p:", "q:room:a"), None);
    }
}
