//! The Close frame's payload, [RFC 6455 §5.5.1](https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1):
//! a status code and a UTF-8 reason, parsed and encoded.
#![forbid(unsafe_code)]

use super::code::CloseCode;
use crate::error::{ProtocolError, SendError};

/// Longest reason a Close frame can carry: 125 payload bytes minus the 2-byte code.
pub const MAX_CLOSE_REASON: usize = 123;

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
