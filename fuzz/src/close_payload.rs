//! `close_payload`: `CloseFrame::parse` on arbitrary bytes (RFC 6455 §5.5.1, §7.4).

use rfc6455::close::MAX_CLOSE_REASON;
use rfc6455::{CloseCode, CloseFrame, ProtocolError, SendError};

/// The whole input is a Close frame's payload.
pub fn check(data: &[u8]) {
    let result = CloseFrame::parse(data);
    match &result {
        Ok(None) => assert!(data.is_empty(), "Ok(None) for a non-empty payload"),
        Ok(Some(frame)) => {
            assert!(!data.is_empty(), "Some for an empty payload");
            assert!(
                frame.code.is_sendable() && !frame.code.is_reserved(),
                "accepted {:?}",
                frame.code
            );
            assert_eq!(frame.code.0, u16::from_be_bytes([data[0], data[1]]));
            assert_eq!(frame.reason.as_bytes(), &data[2..]);
            let mut encoded = Vec::new();
            frame.encode(&mut encoded);
            assert_eq!(encoded, data, "re-encoding differs");
            // The sending side accepts what the receiving side accepts, reason length allowing.
            let rebuilt = CloseFrame::new(frame.code, frame.reason.clone());
            if frame.reason.len() <= MAX_CLOSE_REASON {
                assert_eq!(rebuilt.as_ref(), Ok(frame));
            } else {
                assert_eq!(
                    rebuilt,
                    Err(SendError::CloseReasonTooLong(frame.reason.len()))
                );
            }
            // Display never panics and starts with the number.
            assert!(
                frame
                    .code
                    .to_string()
                    .starts_with(&frame.code.0.to_string())
            );
        }
        Err(error) => {
            assert!(!data.is_empty(), "an empty payload is valid");
            let expected = match data {
                [_] => ProtocolError::InvalidClosePayload,
                [hi, lo, reason @ ..] => {
                    let code = u16::from_be_bytes([*hi, *lo]);
                    if !CloseCode(code).is_sendable() {
                        ProtocolError::InvalidCloseCode(code)
                    } else {
                        assert!(std::str::from_utf8(reason).is_err(), "valid reason refused");
                        ProtocolError::InvalidUtf8
                    }
                }
                [] => unreachable!(),
            };
            assert_eq!(error, &expected);
            let code = error.close_code();
            assert!(code.is_sendable(), "{error:?} maps to unsendable {code:?}");
            assert!(
                code == CloseCode::PROTOCOL_ERROR || code == CloseCode::INVALID_PAYLOAD,
                "{error:?} maps to {code:?}"
            );
        }
    }
    if data.len() == 1 {
        assert_eq!(result, Err(ProtocolError::InvalidClosePayload));
    }
}
