//! Close status codes, [RFC 6455 §7.4](https://www.rfc-editor.org/rfc/rfc6455#section-7.4) and
//! the IANA registry: which may be sent, which are reserved.
#![forbid(unsafe_code)]

use std::fmt;

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
