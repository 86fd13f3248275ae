//! Close codes and the Close frame payload,
//! [RFC 6455 §5.5.1](https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1) and
//! [§7.4](https://www.rfc-editor.org/rfc/rfc6455#section-7.4).
#![forbid(unsafe_code)]

use std::fmt;

use crate::error::{ProtocolError, SendError};

/// Longest reason a Close frame can carry: 125 payload bytes minus the 2-byte code.
pub const MAX_CLOSE_REASON: usize = 123;

/// A close status code.
///
/// An open newtype rather than an enum: application codes 3000–4999 must round-trip unchanged.
/// The named constants are the codes RFC 6455 §7.4.1 and the IANA registry define.
///
/// # Example
///
/// ```
/// use rfc6455::CloseCode;
///
/// assert_eq!(CloseCode::from(1000), CloseCode::NORMAL);
/// assert!(CloseCode::from(4000).is_sendable());
/// assert!(!CloseCode::NO_STATUS_RECEIVED.is_sendable());
/// assert_eq!(CloseCode::PROTOCOL_ERROR.to_string(), "1002 (protocol error)");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

macro_rules! close_codes {
    ($($(#[$doc:meta])* $name:ident = $value:literal, $text:literal;)*) => {
        impl CloseCode {
            $( $(#[$doc])* pub const $name: CloseCode = CloseCode($value); )*

            /// The registry's short description of a named code.
            pub fn description(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }
        }
    };
}

close_codes! {
    /// 1000: the purpose of the connection has been fulfilled.
    NORMAL = 1000, "normal closure";
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    GOING_AWAY = 1001, "going away";
    /// 1002: the peer violated the protocol.
    PROTOCOL_ERROR = 1002, "protocol error";
    /// 1003: the endpoint received a type of data it cannot accept.
    UNSUPPORTED_DATA = 1003, "unsupported data";
    /// 1005: no status code was present. Never sent on the wire.
    NO_STATUS_RECEIVED = 1005, "no status received";
    /// 1006: the connection closed without a Close frame. Never sent on the wire.
    ABNORMAL_CLOSURE = 1006, "abnormal closure";
    /// 1007: a message's data was inconsistent with its type (e.g. invalid UTF-8 text).
    INVALID_PAYLOAD = 1007, "invalid frame payload data";
    /// 1008: a message violated the endpoint's policy.
    POLICY_VIOLATION = 1008, "policy violation";
    /// 1009: a message was too big to process.
    MESSAGE_TOO_BIG = 1009, "message too big";
    /// 1010: the client expected the server to negotiate an extension it did not.
    MANDATORY_EXTENSION = 1010, "mandatory extension";
    /// 1011: the server met an unexpected condition.
    INTERNAL_ERROR = 1011, "internal error";
    /// 1012: the service is restarting (IANA registry).
    SERVICE_RESTART = 1012, "service restart";
    /// 1013: try again later (IANA registry).
    TRY_AGAIN_LATER = 1013, "try again later";
    /// 1014: a gateway received an invalid response (IANA registry).
    BAD_GATEWAY = 1014, "bad gateway";
    /// 1015: the TLS handshake failed. Never sent on the wire.
    TLS_HANDSHAKE = 1015, "TLS handshake failure";
}

impl CloseCode {
    /// Whether the code may appear in a Close frame on the wire.
    ///
    /// RFC 6455 §7.4: codes below 1000 are unused, 1004 is reserved, 1005, 1006 and 1015 "MUST NOT
    /// be set as a status code in a Close control frame", 1016–2999 are reserved for future
    /// revisions of the protocol; 3000–4999 belong to libraries and applications.
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// Whether a received Close frame carrying this code is a protocol error.
    pub fn is_reserved(self) -> bool {
        !self.is_sendable()
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({self})")
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.description() {
            Some(text) => write!(f, "{} ({text})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The contents of a Close frame that carries a status code.
///
/// A Close frame with an empty payload is represented as `None` wherever a `CloseFrame` is optional.
///
/// # Example
///
/// ```
/// use rfc6455::{CloseCode, CloseFrame};
///
/// let frame = CloseFrame::new(CloseCode::GOING_AWAY, "server restart")?;
/// let mut payload = Vec::new();
/// frame.encode(&mut payload);
/// assert_eq!(&payload[..2], &[0x03, 0xe9]);
/// assert_eq!(CloseFrame::parse(&payload)?, Some(frame));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// A human-readable reason, at most [`MAX_CLOSE_REASON`] bytes of UTF-8.
    pub reason: String,
}

impl CloseFrame {
    /// A close frame to send, checking that the code may be sent and the reason fits.
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Result<Self, SendError> {
        let reason = reason.into();
        if !code.is_sendable() {
            return Err(SendError::InvalidCloseCode(code));
        }
        if reason.len() > MAX_CLOSE_REASON {
            return Err(SendError::CloseReasonTooLong(reason.len()));
        }
        Ok(Self { code, reason })
    }

    /// Parses a received Close payload: empty (`None`), or a code followed by a UTF-8 reason.
    pub fn parse(payload: &[u8]) -> Result<Option<Self>, ProtocolError> {
        match payload {
            [] => Ok(None),
            // RFC 6455 §5.5.1: "If there is a body, the first two bytes of the body MUST be a
            // 2-byte unsigned integer", so a single byte is malformed.
            [_] => Err(ProtocolError::InvalidClosePayload),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if code.is_reserved() {
                    return Err(ProtocolError::InvalidCloseCode(code.0));
                }
                let reason = std::str::from_utf8(reason).map_err(|_| ProtocolError::InvalidUtf8)?;
                Ok(Some(Self {
                    code,
                    reason: reason.to_owned(),
                }))
            }
        }
    }

    /// Appends the wire payload (code in network byte order, then the reason) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.code.0.to_be_bytes());
        out.extend_from_slice(self.reason.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes_follow_section_7_4() {
        let sendable: Vec<u16> = (0..=5000).filter(|&c| CloseCode(c).is_sendable()).collect();
        let expected: Vec<u16> = (1000..=1003)
            .chain(1007..=1014)
            .chain(3000..=4999)
            .collect();
        assert_eq!(sendable, expected);
        for never in [1004, 1005, 1006, 1015, 1016, 2999, 999, 0, 5000, u16::MAX] {
            assert!(CloseCode(never).is_reserved(), "{never}");
        }
    }

    #[test]
    fn payload_rules() {
        assert_eq!(CloseFrame::parse(b""), Ok(None));
        assert_eq!(
            CloseFrame::parse(b"\x03"),
            Err(ProtocolError::InvalidClosePayload)
        );
        assert_eq!(
            CloseFrame::parse(b"\x03\xe8bye"),
            Ok(Some(CloseFrame {
                code: CloseCode::NORMAL,
                reason: "bye".into()
            }))
        );
        assert_eq!(
            CloseFrame::parse(b"\x03\xed"),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(
            CloseFrame::parse(b"\x0b\xb8\xff"),
            Err(ProtocolError::InvalidUtf8)
        );
        assert_eq!(
            CloseFrame::parse(b"\x0f\x9f").map(|f| f.map(|f| f.code.0)),
            Ok(Some(3999))
        );
    }

    #[test]
    fn new_checks_code_and_reason_length() {
        assert!(CloseFrame::new(CloseCode::NORMAL, "x".repeat(123)).is_ok());
        assert_eq!(
            CloseFrame::new(CloseCode::NORMAL, "x".repeat(124)),
            Err(SendError::CloseReasonTooLong(124))
        );
        assert_eq!(
            CloseFrame::new(CloseCode::ABNORMAL_CLOSURE, ""),
            Err(SendError::InvalidCloseCode(CloseCode::ABNORMAL_CLOSURE))
        );
    }

    #[test]
    fn display_uses_the_registry_text() {
        assert_eq!(CloseCode(1009).to_string(), "1009 (message too big)");
        assert_eq!(CloseCode(4321).to_string(), "4321");
    }
}
