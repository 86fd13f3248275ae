//! Incremental UTF-8 validation, [RFC 6455 §8.1](https://www.rfc-editor.org/rfc/rfc6455#section-8.1).
//!
//! A text message may arrive in many frames and each frame in many reads, and a code point may be
//! split across any of those boundaries. The validator keeps the bytes of an unfinished code point
//! between calls and fails on the first byte that can no longer start or continue valid UTF-8, so a
//! connection is failed as soon as the bad byte arrives, not when the message ends.
#![forbid(unsafe_code)]

use bytes::Bytes;
use std::fmt;

/// The state of a UTF-8 check that runs across chunk boundaries.
#[derive(Debug, Default, Clone)]
pub(crate) struct Utf8Validator {
    partial: [u8; 4],
    partial_len: u8,
}

/// The input was not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

impl Utf8Validator {
    /// Checks the next chunk of a text stream.
    pub(crate) fn feed(&mut self, mut data: &[u8]) -> Result<(), InvalidUtf8> {
        if self.partial_len > 0 {
            let have = usize::from(self.partial_len);
            let width = sequence_width(self.partial[0]);
            let take = (width - have).min(data.len());
            self.partial[have..have + take].copy_from_slice(&data[..take]);
            let filled = have + take;
            data = &data[take..];
            match std::str::from_utf8(&self.partial[..filled]) {
                Ok(_) => self.partial_len = 0,
                // Still short of a whole code point, and `data` is used up.
                Err(e) if e.error_len().is_none() => {
                    self.partial_len = filled as u8;
                    return Ok(());
                }
                Err(_) => return Err(InvalidUtf8),
            }
        }
        match std::str::from_utf8(data) {
            Ok(_) => Ok(()),
            // The standard library reports "unexpected end" only when the tail is a valid prefix
            // of some code point, so overlong forms, surrogates and values past U+10FFFF fail here
            // on their first impossible byte.
            Err(e) if e.error_len().is_none() => {
                let tail = &data[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// Ends the stream: an unfinished code point at the end is an error.
    pub(crate) fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.partial_len == 0;
        self.partial_len = 0;
        if complete { Ok(()) } else { Err(InvalidUtf8) }
    }
}

/// Length of the sequence a lead byte starts; only called on lead bytes `from_utf8` accepted as
/// the start of an incomplete sequence.
fn sequence_width(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Bytes known to hold valid UTF-8: the payload of a text message, shared without copying.
///
/// Received text is validated as it arrives, so a `Utf8Bytes` from the connection is always valid.
/// # Example
///
/// ```
/// use rfc6455::Utf8Bytes;
///
/// let text = Utf8Bytes::from("héllo");
/// assert_eq!(text.as_str(), "héllo");
/// assert_eq!(text.len(), 6);
/// assert!(Utf8Bytes::try_from(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// An empty string.
    pub const fn new() -> Self {
        Self(Bytes::new())
    }

    /// Wraps a static string without copying.
    pub const fn from_static(text: &'static str) -> Self {
        Self(Bytes::from_static(text.as_bytes()))
    }

    /// Wraps bytes the caller has already validated (crate-internal: the receive path).
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        Self(bytes)
    }

    /// The text.
    ///
    /// The bytes were validated when this value was made; since this crate keeps unchecked code out
    /// of everything but masking, the view is re-checked here, which runs at memory speed for
    /// ASCII. Hold on to the `&str` rather than calling this in a loop.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The underlying shared bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for Utf8Bytes {
    fn from(text: String) -> Self {
        Self(Bytes::from(text))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(text: &str) -> Self {
        Self(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = std::str::Utf8Error;

    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Self(bytes))
    }
}

impl TryFrom<Vec<u8>> for Utf8Bytes {
    type Error = std::string::FromUtf8Error;

    fn try_from(bytes: Vec<u8>) -> Result<Self, Self::Error> {
        Ok(String::from_utf8(bytes)?.into())
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Self {
        text.0
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check_chunked(data: &[u8], chunk: usize) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::default();
        for piece in data.chunks(chunk.max(1)) {
            v.feed(piece)?;
        }
        v.finish()
    }

    #[test]
    fn code_points_split_anywhere_are_accepted() {
        let text = "a€𝄞ü\u{10ffff}z".as_bytes();
        for chunk in 1..=text.len() {
            assert_eq!(check_chunked(text, chunk), Ok(()), "chunk {chunk}");
        }
    }

    #[test]
    fn fails_on_the_first_impossible_byte() {
        // U+110000 in four bytes: F4 90 is already impossible, so feeding just those two fails.
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(b"ok\xf4"), Ok(()));
        assert_eq!(v.feed(b"\x90"), Err(InvalidUtf8));
        // A surrogate (ED A0 80) fails at its second byte.
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(b"\xed"), Ok(()));
        assert_eq!(v.feed(b"\xa0"), Err(InvalidUtf8));
        // An overlong two-byte form fails at once.
        assert_eq!(Utf8Validator::default().feed(b"\xc0"), Err(InvalidUtf8));
    }

    #[test]
    fn an_unfinished_code_point_at_the_end_is_an_error() {
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed("€".as_bytes().split_at(2).0), Ok(()));
        assert_eq!(v.finish(), Err(InvalidUtf8));
        // finish() resets, so the validator can serve the next message.
        assert_eq!(v.feed(b"fine"), Ok(()));
        assert_eq!(v.finish(), Ok(()));
    }

    proptest! {
        #[test]
        fn chunked_validation_agrees_with_std(data in proptest::collection::vec(any::<u8>(), 0..64), chunk in 1usize..8) {
            let expected = std::str::from_utf8(&data).is_ok();
            prop_assert_eq!(check_chunked(&data, chunk).is_ok(), expected);
        }

        #[test]
        fn valid_strings_pass_in_any_chunking(text in "\\PC{0,40}", chunk in 1usize..8) {
            prop_assert_eq!(check_chunked(text.as_bytes(), chunk), Ok(()));
        }
    }
}
