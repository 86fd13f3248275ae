//! The `Sec-WebSocket-Extensions` header (RFC 6455 §9.1).
//!
//! ```text
//! Sec-WebSocket-Extensions = extension-list
//! extension-list = 1#extension
//! extension = extension-token *( ";" extension-param )
//! extension-token = registered-token
//! registered-token = token
//! extension-param = token [ "=" (token | quoted-string) ]
//!     ;When using the quoted-string syntax variant, the value
//!     ;after quoted-string unescaping MUST conform to the
//!     ;'token' ABNF.
//! ```

use std::fmt;

use super::{is_tchar, is_token};

/// One extension of a `Sec-WebSocket-Extensions` header (RFC 6455 §9.1): its name and its
/// parameters, in order.
///
/// In a client's request it is an offer; in a server's response, the accepted configuration. A
/// parameter without a value (`client_max_window_bits`) has `None`; a quoted value is stored
/// unescaped. Every name and value is an HTTP token, so [`Display`](fmt::Display) writes it back
/// without quoting.
///
/// ```
/// use rfc6455::handshake::ExtensionOffer;
///
/// let offers = ExtensionOffer::parse_list(
///     b"permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\", x-foo",
/// )?;
/// assert_eq!(offers[0].name, "permessage-deflate");
/// assert_eq!(
///     offers[0].params,
///     [
///         ("client_max_window_bits".to_string(), None),
///         ("server_max_window_bits".to_string(), Some("10".to_string())),
///     ]
/// );
/// assert_eq!(offers[0].param("server_max_window_bits"), Some(Some("10")));
/// assert_eq!(offers[1].to_string(), "x-foo");
/// # Ok::<(), rfc6455::handshake::ExtensionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionOffer {
    /// The extension's registered token, e.g. `permessage-deflate`.
    pub name: String,
    /// The parameters in the order given: name and, if any, the (unquoted) value.
    pub params: Vec<(String, Option<String>)>,
}

/// Why a `Sec-WebSocket-Extensions` value does not follow RFC 6455 §9.1.
///
/// `at` is the byte offset in the header value where parsing stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtensionError {
    /// An extension name (a token) was expected.
    #[error("expected an extension name at byte {at}")]
    ExpectedName {
        /// Byte offset in the value.
        at: usize,
    },
    /// A parameter name (a token) was expected after `;`.
    #[error("expected a parameter name at byte {at}")]
    ExpectedParamName {
        /// Byte offset in the value.
        at: usize,
    },
    /// A token or quoted string was expected after `=`.
    #[error("expected a parameter value at byte {at}")]
    ExpectedValue {
        /// Byte offset in the value.
        at: usize,
    },
    /// A quoted string has no closing quote.
    #[error("unterminated quoted string starting at byte {at}")]
    UnterminatedQuote {
        /// Byte offset of the opening quote.
        at: usize,
    },
    /// A quoted value is not a token once unescaped, which §9.1 requires.
    #[error("quoted value at byte {at} is not a token")]
    QuotedValueNotToken {
        /// Byte offset of the opening quote.
        at: usize,
    },
    /// A character that has no place there, such as a second name without `;` or `,`.
    #[error("unexpected character at byte {at}")]
    UnexpectedCharacter {
        /// Byte offset in the value.
        at: usize,
    },
}

impl ExtensionOffer {
    /// An extension with no parameters.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// The first parameter called `name` (any case): `None` if absent, `Some(None)` if present
    /// without a value, `Some(Some(value))` otherwise.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// Parses one `Sec-WebSocket-Extensions` header value into its extensions, in order.
    ///
    /// When the header appears on several lines, parse each and concatenate: RFC 7230 §3.2.2 makes
    /// that the same as one comma-joined line. Empty list elements (`a, , b`) are skipped, as
    /// RFC 7230 §7 requires of a recipient.
    pub fn parse_list(value: &[u8]) -> Result<Vec<Self>, ExtensionError> {
        let mut parser = Parser {
            input: value,
            at: 0,
        };
        let mut extensions = Vec::new();
        loop {
            parser.skip_ows();
            match parser.peek() {
                None => return Ok(extensions),
                Some(b',') => {
                    parser.at += 1;
                    continue;
                }
                Some(_) => {}
            }
            let name = parser
                .token()
                .ok_or(ExtensionError::ExpectedName { at: parser.at })?;
            let mut extension = Self::new(name);
            loop {
                parser.skip_ows();
                match parser.peek() {
                    None => break,
                    Some(b',') => {
                        parser.at += 1;
                        break;
                    }
                    Some(b';') => {
                        parser.at += 1;
                        parser.skip_ows();
                        let param = parser
                            .token()
                            .ok_or(ExtensionError::ExpectedParamName { at: parser.at })?;
                        parser.skip_ows();
                        let value = if parser.peek() == Some(b'=') {
                            parser.at += 1;
                            parser.skip_ows();
                            Some(parser.value()?)
                        } else {
                            None
                        };
                        extension.params.push((param, value));
                    }
                    Some(_) => return Err(ExtensionError::UnexpectedCharacter { at: parser.at }),
                }
            }
            extensions.push(extension);
        }
    }
}

impl fmt::Display for ExtensionOffer {
    /// Writes the extension in header syntax: `name; param; param=value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (name, value) in &self.params {
            write!(f, "; {name}")?;
            if let Some(value) = value {
                write!(f, "={value}")?;
            }
        }
        Ok(())
    }
}

/// A cursor over a header value.
struct Parser<'a> {
    input: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.at).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    /// A token at the cursor, or `None` (cursor unmoved) if there is none.
    fn token(&mut self) -> Option<String> {
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        let token = self.input.get(start..self.at).unwrap_or_default();
        if token.is_empty() {
            return None;
        }
        // Tokens are ASCII, so each byte is one char.
        Some(token.iter().copied().map(char::from).collect())
    }

    /// A parameter value: a token or a quoted string whose content is a token.
    fn value(&mut self) -> Result<String, ExtensionError> {
        if self.peek() != Some(b'"') {
            return self
                .token()
                .ok_or(ExtensionError::ExpectedValue { at: self.at });
        }
        let open = self.at;
        self.at += 1;
        let mut unescaped = Vec::new();
        loop {
            let Some(byte) = self.peek() else {
                return Err(ExtensionError::UnterminatedQuote { at: open });
            };
            self.at += 1;
            match byte {
                b'"' => break,
                // RFC 7230 §3.2.6: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                b'\\' => {
                    let Some(escaped) = self.peek() else {
                        return Err(ExtensionError::UnterminatedQuote { at: open });
                    };
                    if escaped != b'\t' && escaped.is_ascii_control() {
                        return Err(ExtensionError::UnexpectedCharacter { at: self.at });
                    }
                    self.at += 1;
                    unescaped.push(escaped);
                }
                b'\t' => unescaped.push(byte),
                _ if byte.is_ascii_control() => {
                    return Err(ExtensionError::UnexpectedCharacter { at: self.at - 1 });
                }
                _ => unescaped.push(byte),
            }
        }
        // RFC 6455 §9.1: "the value after quoted-string unescaping MUST conform to the 'token'
        // ABNF."
        if !is_token(&unescaped) {
            return Err(ExtensionError::QuotedValueNotToken { at: open });
        }
        Ok(unescaped.into_iter().map(char::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(name: &str, params: &[(&str, Option<&str>)]) -> ExtensionOffer {
        ExtensionOffer {
            name: name.into(),
            params: params
                .iter()
                .map(|(n, v)| (n.to_string(), v.map(str::to_string)))
                .collect(),
        }
    }

    #[test]
    fn valid_values() {
        let cases: &[(&[u8], Vec<ExtensionOffer>)] = &[
            (b"", vec![]),
            (b" , ,", vec![]),
            (b"foo", vec![ext("foo", &[])]),
            (b"foo, bar", vec![ext("foo", &[]), ext("bar", &[])]),
            (
                b"foo;a;b=1 ; c = \"2\"",
                vec![ext(
                    "foo",
                    &[("a", None), ("b", Some("1")), ("c", Some("2"))],
                )],
            ),
            (
                b"permessage-deflate; client_max_window_bits, permessage-deflate",
                vec![
                    ext("permessage-deflate", &[("client_max_window_bits", None)]),
                    ext("permessage-deflate", &[]),
                ],
            ),
            (b"x; v=\"a\\bc\"", vec![ext("x", &[("v", Some("abc"))])]),
            (b"\tx\t;\tp\t,", vec![ext("x", &[("p", None)])]),
        ];
        for (input, expected) in cases {
            assert_eq!(
                &ExtensionOffer::parse_list(input).unwrap(),
                expected,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn malformed_values() {
        use ExtensionError::*;
        let cases: &[(&[u8], ExtensionError)] = &[
            (b";a", ExpectedName { at: 0 }),
            (b"foo bar", UnexpectedCharacter { at: 4 }),
            (b"foo;", ExpectedParamName { at: 4 }),
            (b"foo; =1", ExpectedParamName { at: 5 }),
            (b"foo; a=", ExpectedValue { at: 7 }),
            (b"foo; a=,", ExpectedValue { at: 7 }),
            (b"foo; a=\"1", UnterminatedQuote { at: 7 }),
            (b"foo; a=\"1\\", UnterminatedQuote { at: 7 }),
            (b"foo; a=\"1 2\"", QuotedValueNotToken { at: 7 }),
            (b"foo; a=\"\"", QuotedValueNotToken { at: 7 }),
            (b"foo; a=\"\xc3\xa9\"", QuotedValueNotToken { at: 7 }),
            (b"foo; a=\"\r\"", UnexpectedCharacter { at: 8 }),
            (b"foo; a=1 2", UnexpectedCharacter { at: 9 }),
            (b"f\xc3\xa9", UnexpectedCharacter { at: 1 }),
            (b"\"foo\"", ExpectedName { at: 0 }),
        ];
        for (input, expected) in cases {
            assert_eq!(
                ExtensionOffer::parse_list(input),
                Err(*expected),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn display_round_trips() {
        let value = b"permessage-deflate; client_max_window_bits; server_max_window_bits=10";
        let parsed = ExtensionOffer::parse_list(value).unwrap();
        assert_eq!(parsed[0].to_string().as_bytes(), value);
        assert_eq!(parsed[0].param("CLIENT_MAX_WINDOW_BITS"), Some(None));
        assert_eq!(parsed[0].param("missing"), None);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = ExtensionOffer::parse_list(&input);
        }

        #[test]
        fn display_reparses(input in "[a-z;=, \"]{0,32}") {
            if let Ok(parsed) = ExtensionOffer::parse_list(input.as_bytes()) {
                let joined: Vec<String> = parsed.iter().map(ToString::to_string).collect();
                let again = ExtensionOffer::parse_list(joined.join(", ").as_bytes()).unwrap();
                proptest::prop_assert_eq!(again, parsed);
            }
        }
    }
}
