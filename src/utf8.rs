//! Incremental UTF-8 validation, [RFC 6455 §8.1](https://www.rfc-editor.org/rfc/rfc6455#section-8.1).
//!
//! A text message may arrive in many frames and each frame in many reads, and a code point may be
//! split across any of those boundaries. The validator keeps the bytes of an unfinished code point
//! between calls and fails on the first byte that can no longer start or continue valid UTF-8, so a
//! connection is failed as soon as the bad byte arrives, not when the message ends.
//!
//! [`Utf8Bytes`] is the one place outside `mask` with unsafe code: a single
//! `str::from_utf8_unchecked` in `as_str`, sound because every way in validates (see its
//! `SAFETY` comment). Everything else here stays safe: the crate denies `unsafe_code`, and only
//! that function allows it. Its tests run under Miri (a nightly with the `miri` component):
//! `cargo +nightly miri test --lib -- utf8::tests`.

use bytes::Bytes;
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

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
/// Received text is validated once, as it arrives, so a `Utf8Bytes` from the connection is always
/// valid, and viewing it as a `str` costs nothing. It reads like a `&str`: it derefs to [`str`]
/// (so every `str` method works on it), compares with `str`, `&str` and `String` in either order,
/// formats with `{}`, and hashes and orders like the text it holds, so a
/// `HashMap<Utf8Bytes, _>` can be looked up with a `&str`.
///
/// # Example
///
/// ```
/// use rfc6455::Utf8Bytes;
///
/// let text = Utf8Bytes::from("héllo");
/// assert_eq!(text.as_str(), "héllo");
/// assert_eq!(text.len(), 6);
/// assert!(text.starts_with("hé"));
/// assert_eq!(text, "héllo");
/// assert_eq!("héllo", text);
/// let s: &str = &text;
/// assert_eq!(s.to_uppercase(), "HÉLLO");
/// assert!(Utf8Bytes::try_from(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
// Invariant: the `Bytes` hold valid UTF-8. Every constructor below either takes a `str`/`String`,
// checks with `std::str::from_utf8`, or (`from_validated`) takes bytes the connection validated;
// nothing hands out the inner bytes mutably. `as_str` relies on it.
#[derive(Clone, Default)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// An empty string.
    ///
    /// ```
    /// assert!(rfc6455::Utf8Bytes::new().is_empty());
    /// ```
    pub const fn new() -> Self {
        Self(Bytes::new())
    }

    /// Wraps a static string without copying.
    ///
    /// ```
    /// use rfc6455::Utf8Bytes;
    ///
    /// static GREETING: Utf8Bytes = Utf8Bytes::from_static("hello");
    /// assert_eq!(GREETING, "hello");
    /// ```
    pub const fn from_static(text: &'static str) -> Self {
        Self(Bytes::from_static(text.as_bytes()))
    }

    /// Wraps bytes the caller has already validated (crate-internal: the receive path, which feeds
    /// every byte of a text message to a `Utf8Validator`, after inflating when compressed, and
    /// calls `finish` before handing the message out).
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(
            std::str::from_utf8(&bytes).is_ok(),
            "Utf8Bytes::from_validated: invalid UTF-8"
        );
        Self(bytes)
    }

    /// The text, in O(1): the bytes were validated when this value was made.
    ///
    /// `&*text` and `&text` (where a `&str` is expected) give the same view.
    ///
    /// ```
    /// use rfc6455::Utf8Bytes;
    ///
    /// let text = Utf8Bytes::from(String::from("a€"));
    /// assert_eq!(text.as_str(), "a€");
    /// assert_eq!(text.as_str().chars().count(), 2);
    /// ```
    #[allow(
        unsafe_code,
        reason = "O(1) text access; validated once on receipt (SAFETY below, Miri-tested)"
    )]
    pub fn as_str(&self) -> &str {
        // SAFETY: `self.0` is valid UTF-8: every constructor of `Utf8Bytes` takes a `str` or
        // `String`, checks with `std::str::from_utf8`, or is `from_validated`, whose only callers
        // (src/connection/receive.rs) pass text the connection validated byte by byte (after
        // inflating, for a compressed message) and then `finish`ed; `Bytes` is immutable and no
        // method hands the inner bytes out mutably.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes.
    ///
    /// ```
    /// assert_eq!(rfc6455::Utf8Bytes::from("hi").as_bytes(), b"hi");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    ///
    /// ```
    /// assert_eq!(rfc6455::Utf8Bytes::from("€").len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    ///
    /// ```
    /// assert!(rfc6455::Utf8Bytes::from("").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The underlying shared bytes, without a copy.
    ///
    /// ```
    /// let bytes = rfc6455::Utf8Bytes::from("hi").into_bytes();
    /// assert_eq!(bytes, bytes::Bytes::from_static(b"hi"));
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// `Hash`, `Eq` and `Ord` are those of the text, so a map keyed by `Utf8Bytes` can be searched with
/// a `&str`.
impl Borrow<str> for Utf8Bytes {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for Utf8Bytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, as `Borrow<str>` requires (`Bytes` hashes like `[u8]`, which differs).
        self.as_str().hash(state);
    }
}

impl PartialEq for Utf8Bytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Utf8Bytes {}

impl PartialOrd for Utf8Bytes {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Utf8Bytes {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Display for str`, so width, fill and precision (`{:>8}`, `{:.3}`) apply.
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl From<String> for Utf8Bytes {
    /// Takes over the string's buffer, without a copy.
    fn from(text: String) -> Self {
        Self(Bytes::from(text))
    }
}

impl From<&str> for Utf8Bytes {
    /// Copies the text; use [`Utf8Bytes::from_static`] for a `&'static str` without copying.
    fn from(text: &str) -> Self {
        Self(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl From<&String> for Utf8Bytes {
    /// Copies the text.
    fn from(text: &String) -> Self {
        text.as_str().into()
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = std::str::Utf8Error;

    /// Checks that the bytes are UTF-8, and wraps them without a copy.
    fn try_from(bytes: Bytes) -> Result<Self, Self::Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Self(bytes))
    }
}

impl TryFrom<Vec<u8>> for Utf8Bytes {
    type Error = std::string::FromUtf8Error;

    /// Checks that the bytes are UTF-8, and takes over the buffer without a copy.
    fn try_from(bytes: Vec<u8>) -> Result<Self, Self::Error> {
        Ok(String::from_utf8(bytes)?.into())
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Self {
        text.0
    }
}

/// `Utf8Bytes == T` and `T == Utf8Bytes`, for each text type `T`, comparing the text.
macro_rules! eq_both_ways {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Utf8Bytes {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }

        impl PartialEq<Utf8Bytes> for $other {
            fn eq(&self, other: &Utf8Bytes) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}

eq_both_ways!(str, &str, String);

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

    // Every way into a `Utf8Bytes`, each then read through `as_str` (the unchecked conversion).
    // Small enough for Miri: `cargo +nightly miri test --lib utf8`.
    fn constructed() -> Vec<(&'static str, Utf8Bytes, &'static str)> {
        // The receive path: a frame split off a larger buffer, frozen, sliced; the text ends in
        // the middle of the allocation.
        let mut recv = bytes::BytesMut::from(&b"\x81\x05h\xc3\xa9llo tail"[..]);
        let _header = recv.split_to(2);
        let frame = recv.split_to(6).freeze();
        vec![
            ("new", Utf8Bytes::new(), ""),
            ("default", Utf8Bytes::default(), ""),
            (
                "from_static",
                Utf8Bytes::from_static("st\u{e4}tic"),
                "st\u{e4}tic",
            ),
            (
                "from_validated",
                Utf8Bytes::from_validated(frame),
                "h\u{e9}llo",
            ),
            (
                "from_validated (empty)",
                Utf8Bytes::from_validated(Bytes::new()),
                "",
            ),
            (
                "From<String>",
                Utf8Bytes::from(String::from("\u{1d11e}!")),
                "\u{1d11e}!",
            ),
            ("From<&str>", Utf8Bytes::from("\u{20ac}uro"), "\u{20ac}uro"),
            ("From<&String>", Utf8Bytes::from(&String::from("s")), "s"),
            (
                "TryFrom<Bytes>",
                Utf8Bytes::try_from(Bytes::from(vec![0xf0, 0x9f, 0x98, 0x80])).unwrap(),
                "\u{1f600}",
            ),
            (
                "TryFrom<Bytes> (slice)",
                Utf8Bytes::try_from(Bytes::from_static(b"xx\xc3\xbc").slice(2..)).unwrap(),
                "\u{fc}",
            ),
            (
                "TryFrom<Vec<u8>>",
                Utf8Bytes::try_from(b"\x7f\xdf\xbf".to_vec()).unwrap(),
                "\u{7f}\u{7ff}",
            ),
        ]
    }

    #[test]
    fn every_constructor_reads_back_through_as_str() {
        for (how, text, expected) in constructed() {
            assert_eq!(text.as_str(), expected, "{how}");
            assert_eq!(&*text, expected, "{how}: Deref");
            assert_eq!(AsRef::<str>::as_ref(&text), expected, "{how}: AsRef<str>");
            assert_eq!(Borrow::<str>::borrow(&text), expected, "{how}: Borrow<str>");
            assert_eq!(text.as_bytes(), expected.as_bytes(), "{how}: as_bytes");
            assert_eq!(
                text.chars().rev().collect::<String>(),
                expected.chars().rev().collect::<String>(),
                "{how}: chars"
            );
            assert_eq!(text.to_string(), expected, "{how}: Display");
            assert_eq!(format!("{text:?}"), format!("{expected:?}"), "{how}: Debug");
            // A clone shares the bytes and reads the same.
            let clone = text.clone();
            assert_eq!(clone.as_str(), expected, "{how}: clone");
            assert_eq!(clone.as_ptr(), text.as_ptr(), "{how}: clone shares");
            assert_eq!(text.into_bytes(), expected.as_bytes(), "{how}: into_bytes");
        }
    }

    #[test]
    fn constructors_that_check_refuse_invalid_utf8() {
        assert!(Utf8Bytes::try_from(Bytes::from_static(b"\xff")).is_err());
        // A code point cut in half by slicing.
        assert!(Utf8Bytes::try_from(Bytes::from_static("\u{20ac}".as_bytes()).slice(..2)).is_err());
        assert!(Utf8Bytes::try_from(b"\xed\xa0\x80".to_vec()).is_err());
    }

    #[test]
    // `ua == b.to_owned()` is the point: `PartialEq<String>` both ways.
    #[allow(clippy::cmp_owned)]
    fn hash_eq_and_ord_agree_with_str() {
        use std::collections::hash_map::DefaultHasher;
        fn hash<T: Hash + ?Sized>(value: &T) -> u64 {
            let mut hasher = DefaultHasher::new();
            value.hash(&mut hasher);
            hasher.finish()
        }
        let words = ["", "a", "ab", "b", "\u{e9}", "\u{10ffff}"];
        for a in words {
            let ua = Utf8Bytes::from(a);
            assert_eq!(hash(&ua), hash(a), "{a:?}");
            for b in words {
                let ub = Utf8Bytes::from_static(b);
                assert_eq!(ua.cmp(&ub), a.cmp(b), "{a:?} {b:?}");
                assert_eq!(ua.partial_cmp(&ub), a.partial_cmp(b), "{a:?} {b:?}");
                assert_eq!(ua == ub, a == b, "{a:?} {b:?}");
                assert_eq!(ua == *b, a == b);
                assert_eq!(ua == b, a == b);
                assert_eq!(ua == b.to_owned(), a == b);
                assert_eq!(*b == ua, a == b);
                assert_eq!(b == ua, a == b);
                assert_eq!(b.to_owned() == ua, a == b);
            }
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "invalid UTF-8")]
    fn from_validated_checks_in_debug_builds() {
        let _ = Utf8Bytes::from_validated(Bytes::from_static(b"\xc3"));
    }

    proptest! {
        #[test]
        #[cfg_attr(miri, ignore = "proptest: too slow under Miri")]
        fn chunked_validation_agrees_with_std(data in proptest::collection::vec(any::<u8>(), 0..64), chunk in 1usize..8) {
            let expected = std::str::from_utf8(&data).is_ok();
            prop_assert_eq!(check_chunked(&data, chunk).is_ok(), expected);
        }

        #[test]
        #[cfg_attr(miri, ignore = "proptest: too slow under Miri")]
        fn valid_strings_pass_in_any_chunking(text in "\\PC{0,40}", chunk in 1usize..8) {
            prop_assert_eq!(check_chunked(text.as_bytes(), chunk), Ok(()));
        }
    }
}
