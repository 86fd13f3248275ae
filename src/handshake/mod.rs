//! The opening handshake: [RFC 6455 §4] (§4.1 client requirements, §4.2 server requirements),
//! illustrated in [§1.3], with the extension grammar of [§9.1] and the `Sec-WebSocket-Version`
//! registry of [§11.3].
//!
//! Both roles are sans-IO, like the rest of the crate: bytes from the transport go in through
//! `handle_input`, a parsed and validated message comes out, and the bytes to write back are returned
//! as a `Vec<u8>`. Nothing here reads a socket or a clock.
//!
//! * Server: feed a [`ServerHandshake`] until it yields an [`UpgradeRequest`], decide, then answer with
//!   [`UpgradeRequest::accept`] and an [`Accept`], or with a [`Reject`]. If the peer sent something that
//!   is not a valid opening handshake, the [`HandshakeError`] says which HTTP status to answer
//!   with and [`HandshakeError::response_bytes`] writes that answer.
//! * Client: build a [`ClientRequest`] from a `ws://` or `wss://` URL, create a
//!   [`ClientHandshake`], write [`ClientHandshake::request_bytes`], then feed the server's bytes
//!   until it yields an [`UpgradeResponse`].
//!
//! In both roles the bytes that followed the handshake in the same read belong to the WebSocket
//! stream; `take_leftover` hands them over so they are never lost.
//!
//! Extensions are negotiated here too: `deflate` (feature `deflate`) turns permessage-deflate
//! offers into the parameters the codec in `rfc6455::deflate` runs with.
//!
//! Three error types keep apart who is at fault: [`HandshakeError`] (the client sent a bad
//! request; carries the status to answer with), [`ClientHandshakeError`] (the server sent a bad
//! response; the client must fail the connection) and [`BuildError`] (this application asked for
//! a handshake message that cannot be written; nothing is sent to the peer).
//!
//! [RFC 6455 §4]: https://www.rfc-editor.org/rfc/rfc6455#section-4
//! [§1.3]: https://www.rfc-editor.org/rfc/rfc6455#section-1.3
//! [§9.1]: https://www.rfc-editor.org/rfc/rfc6455#section-9.1
//! [§11.3]: https://www.rfc-editor.org/rfc/rfc6455#section-11.3
#![forbid(unsafe_code)]

mod client;
#[cfg(feature = "deflate")]
pub mod deflate;
mod error;
#[cfg(feature = "http")]
mod extended_connect;
mod extension;
mod head;
mod headers;
#[cfg(feature = "http")]
mod http;
mod server;
mod upgrade;
mod url;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest as _, Sha1};

pub use client::{ClientHandshake, ClientRequest, UpgradeResponse};
pub use error::{BuildError, ClientHandshakeError, HandshakeError, MAX_REFUSAL_BODY, UrlError};
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use extended_connect::WEBSOCKET_PROTOCOL;
pub use extension::{ExtensionError, ExtensionOffer};
pub use headers::Headers;
pub use server::{Accept, Reject, ServerHandshake, UpgradeRequest};
pub use upgrade::offer_extensions;
#[cfg(feature = "hyper")]
pub(crate) use upgrade::{Negotiated, negotiate};

/// The GUID that RFC 6455 §1.3 concatenates with the client's key to prove the server read the
/// handshake.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The only protocol version this crate speaks (RFC 6455 §11.3.5 registers 13 for the final RFC).
const VERSION: &str = "13";

/// Default limit on the size of a request or response head, terminator included.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 8 * 1024;

/// How many header fields a head may have before it is refused with 431.
pub const MAX_HEADERS: usize = 64;

/// Computes the `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (RFC 6455 §1.3, §4.2.2).
///
/// `key` is the header value as sent, still base64-encoded: the RFC hashes the string, not the
/// 16 bytes it encodes.
///
/// ```
/// use rfc6455::handshake::accept_key;
///
/// // The example from RFC 6455 §1.3.
/// assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(GUID.as_bytes());
    BASE64.encode(sha1.finalize())
}

/// Whether `b` may appear in an HTTP token (RFC 7230 §3.2.6 `tchar`).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Whether `s` is a non-empty HTTP token (RFC 7230 §3.2.6).
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Strips optional whitespace (RFC 7230 §3.2.3 `OWS`: spaces and tabs) from both ends.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Splits one header value of the form `#element` (RFC 7230 §7) into its trimmed elements.
///
/// RFC 7230 §7: "a recipient MUST accept empty list elements", so `a, , b` yields `a` and `b`.
/// Only for lists of tokens: a comma inside a quoted string would be split too.
pub(crate) fn split_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|element| !element.is_empty())
}

/// Whether any element of the comma lists in `values` is `token`, ignoring ASCII case.
///
/// A field that may hold a list can also be split across several header lines
/// (RFC 7230 §3.2.2), so this takes every value of the field.
pub(crate) fn lists_contain_token<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
    token: &str,
) -> bool {
    values
        .into_iter()
        .flat_map(split_list)
        .any(|element| element.eq_ignore_ascii_case(token.as_bytes()))
}

/// Whether `value` may be written as a header field value: no control character but tab, so no
/// CR or LF that would let it end the line and inject a header of its own.
pub(crate) fn is_field_value(value: &str) -> bool {
    value.bytes().all(|b| b == b'\t' || !(b.is_ascii_control()))
}

/// Checks an application-supplied header against the rules of [`BuildError`]: a token name, a
/// value without control characters, and not one of the fields the handshake writes itself.
pub(crate) fn check_extra_header(
    name: &str,
    value: &str,
    reserved: &[&str],
) -> Result<(), BuildError> {
    if !is_token(name.as_bytes()) {
        return Err(BuildError::InvalidHeaderName(name.to_owned()));
    }
    if reserved.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(BuildError::ReservedHeader(name.to_owned()));
    }
    if !is_field_value(value) {
        return Err(BuildError::InvalidHeaderValue(name.to_owned()));
    }
    Ok(())
}

/// Appends `name: value\r\n`.
pub(crate) fn push_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// The reason phrase for the statuses a handshake is likely to answer with. The phrase carries no
/// meaning (RFC 7230 §3.1.2: "A client SHOULD ignore the reason-phrase content"), so an unknown
/// status gets an empty one, which the grammar allows.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Writes a complete response that refuses the handshake: status line, the framing headers the
/// connection needs to end cleanly, `headers`, and `body`.
pub(crate) fn write_refusal(
    status: u16,
    connection: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(160 + body.len());
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason_phrase(status).as_bytes());
    out.extend_from_slice(b"\r\n");
    // The connection is not upgraded and the peer may be anything, so the body is delimited by
    // Content-Length and the connection closed after it rather than left for a second request.
    push_field(&mut out, "Content-Length", &body.len().to_string());
    push_field(&mut out, "Connection", connection);
    for (name, value) in headers {
        push_field(&mut out, name, value);
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Splits `input` at the positions `cuts` picks (each modulo the length), for tests that feed a
/// handshake in arbitrary chunks.
#[cfg(test)]
pub(crate) fn chunks<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for point in points {
        out.push(&input[start..point]);
        start = point;
    }
    out.push(&input[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_rfc_1_3_example() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn tokens() {
        assert!(is_token(b"websocket"));
        assert!(is_token(b"permessage-deflate"));
        assert!(!is_token(b""));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b"a,b"));
        assert!(!is_token(b"a=b"));
        assert!(!is_token("é".as_bytes()));
    }

    #[test]
    fn ows_trimming() {
        assert_eq!(trim_ows(b" \t a b \t "), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        assert_eq!(trim_ows(b""), b"");
    }

    #[test]
    fn comma_lists() {
        let elements: Vec<&[u8]> = split_list(b" keep-alive ,, Upgrade,\t,").collect();
        assert_eq!(elements, [&b"keep-alive"[..], &b"Upgrade"[..]]);
        assert_eq!(split_list(b"").count(), 0);
        assert_eq!(split_list(b" , ,").count(), 0);
    }

    #[test]
    fn token_lists_any_case_any_line() {
        let one_line: [&[u8]; 1] = [b"keep-alive, Upgrade"];
        assert!(lists_contain_token(one_line, "upgrade"));
        let two_lines: [&[u8]; 2] = [b"keep-alive", b"UPGRADE"];
        assert!(lists_contain_token(two_lines, "upgrade"));
        let substring: [&[u8]; 1] = [b"upgrades, keep-alive"];
        assert!(!lists_contain_token(substring, "upgrade"));
        let none: [&[u8]; 0] = [];
        assert!(!lists_contain_token(none, "upgrade"));
    }

    #[test]
    fn field_values() {
        assert!(is_field_value("a value\twith tab"));
        assert!(!is_field_value("a\r\nInjected: yes"));
        assert!(!is_field_value("nul\0"));
        assert!(!is_field_value("del\x7f"));
    }

    #[test]
    fn extra_headers() {
        assert_eq!(check_extra_header("X-Ok", "fine", &["Upgrade"]), Ok(()));
        assert_eq!(
            check_extra_header("Bad Name", "v", &[]),
            Err(BuildError::InvalidHeaderName("Bad Name".into()))
        );
        assert_eq!(
            check_extra_header("upgrade", "v", &["Upgrade"]),
            Err(BuildError::ReservedHeader("upgrade".into()))
        );
        assert_eq!(
            check_extra_header("X", "a\nb", &[]),
            Err(BuildError::InvalidHeaderValue("X".into()))
        );
    }
}
