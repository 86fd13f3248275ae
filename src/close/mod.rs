//! Close codes and the Close frame payload,
//! [RFC 6455 §5.5.1](https://www.rfc-editor.org/rfc/rfc6455#section-5.5.1) and
//! [§7.4](https://www.rfc-editor.org/rfc/rfc6455#section-7.4).
#![forbid(unsafe_code)]

mod code;
mod frame;

pub use code::CloseCode;
pub use frame::{CloseFrame, MAX_CLOSE_REASON};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ProtocolError, SendError};

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
