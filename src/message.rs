//! Messages: what the application sends and receives (RFC 6455 §5.6 data frames, §5.5 control
//! frames), with payloads shared, not copied.
#![forbid(unsafe_code)]

use std::str::Utf8Error;

use bytes::Bytes;

use crate::close::CloseFrame;
use crate::utf8::Utf8Bytes;

/// A whole message or control frame, as received from or sent to the peer.
///
/// Payloads are reference-counted [`Bytes`]: a received message is handed out without a copy, and
/// echoing it back costs no allocation.
///
/// # Example
///
/// ```
/// use rfc6455::Message;
///
/// let msg = Message::text("hello");
/// assert!(msg.is_text());
/// assert_eq!(msg.as_payload(), b"hello");
/// assert_eq!(Message::binary(vec![1, 2, 3]).len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message: valid UTF-8.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping; the connection answers received pings by itself unless configured not to.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// A Close frame, with its code and reason when it carried any.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    ///
    /// ```
    /// use rfc6455::Message;
    ///
    /// assert_eq!(Message::text("hi").as_text(), Some("hi"));
    /// assert_eq!(Message::text(String::from("hi")), Message::text("hi"));
    /// ```
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    ///
    /// ```
    /// use rfc6455::Message;
    ///
    /// assert_eq!(Message::binary(vec![1, 2]).as_payload(), [1, 2]);
    /// ```
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message::Binary(data.into())
    }

    /// Whether this is a text message.
    ///
    /// ```
    /// assert!(rfc6455::Message::text("hi").is_text());
    /// ```
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    ///
    /// ```
    /// assert!(rfc6455::Message::binary(vec![0]).is_binary());
    /// ```
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// Whether this is a Ping.
    ///
    /// ```
    /// use rfc6455::Message;
    ///
    /// assert!(Message::Ping("are you there".into()).is_ping());
    /// assert!(!Message::Pong("yes".into()).is_ping());
    /// ```
    pub fn is_ping(&self) -> bool {
        matches!(self, Message::Ping(_))
    }

    /// Whether this is a Pong.
    ///
    /// ```
    /// use rfc6455::Message;
    ///
    /// assert!(Message::Pong("yes".into()).is_pong());
    /// assert!(!Message::Ping("are you there".into()).is_pong());
    /// ```
    pub fn is_pong(&self) -> bool {
        matches!(self, Message::Pong(_))
    }

    /// Whether this is a Close frame.
    ///
    /// ```
    /// assert!(rfc6455::Message::Close(None).is_close());
    /// ```
    pub fn is_close(&self) -> bool {
        matches!(self, Message::Close(_))
    }

    /// Whether this is a control frame (§5.5): Ping, Pong or Close.
    ///
    /// ```
    /// use rfc6455::Message;
    ///
    /// assert!(Message::Ping(Default::default()).is_control());
    /// assert!(Message::Close(None).is_control());
    /// assert!(!Message::text("hi").is_control());
    /// ```
    pub fn is_control(&self) -> bool {
        matches!(
            self,
            Message::Ping(_) | Message::Pong(_) | Message::Close(_)
        )
    }

    /// Whether this is a data message (§5.6): text or binary. Exactly one of `is_data` and
    /// [`is_control`](Message::is_control) holds.
    ///
    /// ```
    /// use rfc6455::Message;
    ///
    /// assert!(Message::text("hi").is_data());
    /// assert!(Message::binary(vec![1]).is_data());
    /// assert!(!Message::Pong(Default::default()).is_data());
    /// ```
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }

    /// The text of a text message; `None` for any other kind, even one whose payload happens to be
    /// UTF-8 (see [`to_text`](Message::to_text) for that). No check runs: received text was
    /// validated on arrival.
    ///
    /// ```
    /// use rfc6455::Message;
    ///
    /// assert_eq!(Message::text("hello").as_text(), Some("hello"));
    /// assert_eq!(Message::binary(&b"hello"[..]).as_text(), None);
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            _ => None,
        }
    }

    /// The payload as text, as tungstenite's `Message::to_text` gives it: a text message's text
    /// (no check: validated on arrival); a binary, Ping or Pong payload if it is valid UTF-8; a
    /// Close frame's reason (empty without one).
    ///
    /// # Errors
    ///
    /// A binary, Ping or Pong payload that is not valid UTF-8. Use [`as_text`](Message::as_text)
    /// to accept text messages only.
    ///
    /// ```
    /// use rfc6455::{CloseCode, CloseFrame, Message};
    ///
    /// assert_eq!(Message::text("hello").to_text()?, "hello");
    /// assert_eq!(Message::binary(&b"hello"[..]).to_text()?, "hello");
    /// assert!(Message::binary(vec![0xff]).to_text().is_err());
    /// let close = CloseFrame::new(CloseCode::NORMAL, "bye")?;
    /// assert_eq!(Message::Close(Some(close)).to_text()?, "bye");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_text(&self) -> Result<&str, Utf8Error> {
        match self {
            Message::Text(text) => Ok(text.as_str()),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => {
                std::str::from_utf8(data)
            }
            Message::Close(Some(frame)) => Ok(frame.reason.as_str()),
            Message::Close(None) => Ok(""),
        }
    }

    /// The payload as [`Utf8Bytes`], consuming the message: the same cases as
    /// [`to_text`](Message::to_text), without copying the payload (text, binary, Ping and Pong
    /// share their bytes; a Close reason's `String` buffer is taken over).
    ///
    /// # Errors
    ///
    /// A binary, Ping or Pong payload that is not valid UTF-8.
    ///
    /// ```
    /// use rfc6455::{Message, Utf8Bytes};
    ///
    /// let text: Utf8Bytes = Message::text("hello").into_text()?;
    /// assert_eq!(text, "hello");
    /// assert_eq!(Message::binary(&b"hi"[..]).into_text()?, "hi");
    /// assert!(Message::binary(vec![0xff]).into_text().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_text(self) -> Result<Utf8Bytes, Utf8Error> {
        match self {
            Message::Text(text) => Ok(text),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => {
                Utf8Bytes::try_from(data)
            }
            Message::Close(Some(frame)) => Ok(frame.reason.into()),
            Message::Close(None) => Ok(Utf8Bytes::new()),
        }
    }

    /// The payload of any message as [`Bytes`], consuming the message.
    ///
    /// Text, binary, Ping and Pong give their payload without a copy. A Close frame gives its wire
    /// payload: the code in network byte order, then the reason (as [`CloseFrame::encode`] writes
    /// it), or nothing for `Close(None)`. Note that this differs from
    /// [`as_payload`](Message::as_payload) and [`len`](Message::len), which see only the reason of
    /// a Close frame, and from tungstenite's `into_data`, which gives only the reason.
    ///
    /// ```
    /// use rfc6455::{CloseCode, CloseFrame, Message};
    ///
    /// assert_eq!(Message::text("hi").into_data(), "hi".as_bytes());
    /// assert_eq!(Message::binary(vec![1, 2]).into_data(), [1u8, 2][..]);
    /// let close = CloseFrame::new(CloseCode::NORMAL, "bye")?;
    /// assert_eq!(Message::Close(Some(close)).into_data(), b"\x03\xe8bye"[..]);
    /// assert!(Message::Close(None).into_data().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_data(self) -> Bytes {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(Some(frame)) => {
                let mut payload = Vec::with_capacity(2 + frame.reason.len());
                frame.encode(&mut payload);
                payload.into()
            }
            Message::Close(None) => Bytes::new(),
        }
    }

    /// The payload bytes (for Close, the reason).
    ///
    /// ```
    /// use rfc6455::{CloseCode, CloseFrame, Message};
    ///
    /// assert_eq!(Message::text("hi").as_payload(), b"hi");
    /// let close = CloseFrame::new(CloseCode::NORMAL, "bye")?;
    /// assert_eq!(Message::Close(Some(close)).as_payload(), b"bye");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_payload(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(Some(frame)) => frame.reason.as_bytes(),
            Message::Close(None) => &[],
        }
    }

    /// The payload bytes, as [`as_payload`](Message::as_payload) gives them (for Close, the
    /// reason); the name tungstenite and axum users look for.
    ///
    /// ```
    /// assert_eq!(rfc6455::Message::binary(vec![7]).as_bytes(), [7]);
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        self.as_payload()
    }

    /// Payload length in bytes (for Close, the reason's).
    ///
    /// ```
    /// assert_eq!(rfc6455::Message::text("€").len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.as_payload().len()
    }

    /// Whether the payload is empty.
    ///
    /// ```
    /// assert!(rfc6455::Message::Close(None).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Utf8Bytes> for Message {
    /// A text message.
    fn from(text: Utf8Bytes) -> Self {
        Message::Text(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text.into())
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.into())
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Message::Binary(data.into())
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Message::Binary(data)
    }
}
