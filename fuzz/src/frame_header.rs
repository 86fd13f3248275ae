//! `frame_header`: `FrameHeader::parse` on arbitrary bytes (RFC 6455 §5.2).

use rfc6455::ProtocolError;
use rfc6455::close::CloseCode;
use rfc6455::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Parse};

/// Padding patterns used to complete an incomplete header.
const PADS: [u8; 3] = [0x00, 0xff, 0x7e];

/// The whole input is the candidate header (and whatever follows it).
pub fn check(data: &[u8]) {
    let result = FrameHeader::parse(data);

    // The parser looks at no more than the longest header.
    let window = &data[..data.len().min(MAX_HEADER_LEN)];
    assert_eq!(
        FrameHeader::parse(window),
        result,
        "the answer depends on bytes past the 14th"
    );

    match result {
        Ok(Parse::Complete(header, len)) => check_complete(data, header, len),
        Ok(Parse::Incomplete { needed }) => check_incomplete(data, needed),
        Err(error) => {
            assert!(
                matches!(
                    error,
                    ProtocolError::ReservedOpcode(_)
                        | ProtocolError::NonMinimalLength
                        | ProtocolError::LengthOverflow
                        | ProtocolError::FragmentedControlFrame
                        | ProtocolError::ControlFrameTooLong(_)
                ),
                "undocumented header error {error:?}"
            );
            assert_eq!(error.close_code(), CloseCode::PROTOCOL_ERROR);
            if let ProtocolError::ReservedOpcode(op) = error {
                assert_eq!(op, data[0] & 0x0f);
            }
        }
    }
}

fn check_complete(data: &[u8], header: FrameHeader, len: usize) {
    assert!((2..=MAX_HEADER_LEN).contains(&len), "header length {len}");
    assert!(len <= data.len(), "consumed {len} of {} bytes", data.len());
    // Canonical forms only: re-encoding gives back exactly the consumed bytes.
    assert_eq!(
        &*header.encode(),
        &data[..len],
        "encode() of {header:?} differs from the input"
    );
    // Field-level consistency with the wire (independently of encode()).
    assert_eq!(header.fin, data[0] & 0x80 != 0);
    assert_eq!(header.rsv1, data[0] & 0x40 != 0);
    assert_eq!(header.rsv2, data[0] & 0x20 != 0);
    assert_eq!(header.rsv3, data[0] & 0x10 != 0);
    assert_eq!(header.opcode.as_u8(), data[0] & 0x0f);
    assert_eq!(header.mask.is_some(), data[1] & 0x80 != 0);
    let expected_len =
        2 + match data[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        } + if header.mask.is_some() { 4 } else { 0 };
    assert_eq!(len, expected_len);
    if let Some(key) = header.mask {
        assert_eq!(key[..], data[len - 4..len]);
    }
    assert!(header.payload_len >> 63 == 0, "64-bit length with MSB set");
    if header.opcode.is_control() {
        assert!(header.fin, "fragmented control frame accepted");
        assert!(header.payload_len <= MAX_CONTROL_PAYLOAD as u64);
    }
    // Exactly the consumed bytes parse to the same header.
    assert_eq!(
        FrameHeader::parse(&data[..len]),
        Ok(Parse::Complete(header, len))
    );
    // Every strict prefix is a valid prefix asking for more.
    for cut in 0..len {
        match FrameHeader::parse(&data[..cut]) {
            Ok(Parse::Incomplete { needed }) => {
                assert!(needed >= 1);
                assert!(
                    cut + needed <= len,
                    "prefix {cut} asks for {needed} of {len}"
                );
                if cut >= 2 {
                    assert_eq!(cut + needed, len, "prefix {cut} of a {len}-byte header");
                }
            }
            other => panic!("prefix {cut} of a complete {len}-byte header gave {other:?}"),
        }
    }
}

fn check_incomplete(data: &[u8], needed: usize) {
    assert!(needed >= 1, "Incomplete with needed == 0");
    assert!(
        data.len() + needed <= MAX_HEADER_LEN,
        "{} bytes plus {needed} needed exceeds the longest header",
        data.len()
    );
    for pad in PADS {
        // Fewer than `needed` more bytes can never complete the header.
        for k in 1..needed {
            let mut padded = data.to_vec();
            padded.resize(data.len() + k, pad);
            match FrameHeader::parse(&padded) {
                Ok(Parse::Incomplete { needed: now }) => {
                    assert!(now >= 1);
                    if data.len() >= 2 {
                        // The second byte fixed the header's length: the count just goes down.
                        assert_eq!(now, needed - k, "padding {k} of {needed}");
                    }
                }
                // The padding can complete a length field that is then refused.
                Err(_) => {}
                Ok(complete) => {
                    panic!("{k} bytes completed a header that needed {needed}: {complete:?}")
                }
            }
        }
        // Exactly `needed` more bytes change the answer.
        let mut padded = data.to_vec();
        padded.resize(data.len() + needed, pad);
        match FrameHeader::parse(&padded) {
            Ok(Parse::Incomplete { needed: now }) => {
                assert!(
                    data.len() < 2,
                    "needed {needed} but still incomplete (needs {now}) after them"
                );
                assert!(now >= 1);
            }
            Ok(Parse::Complete(_, len)) => assert_eq!(len, data.len() + needed),
            Err(_) => {}
        }
    }
}
