//! The bodies of the `rfc6455` fuzz targets, and the input encodings they share with the seed
//! generator (`src/bin/make_corpus.rs`).
//!
//! Each `fuzz_targets/*.rs` file is a one-line wrapper around a `check` function here, so that the
//! same checks can replay the committed seeds and regressions under plain `cargo test` (stable,
//! no sanitizer) and so that the seed generator can prove every seed it writes passes.
//!
//! Every check asserts invariants of the public API, not just the absence of a panic. A panic or
//! an `assert!` failure is a finding.

pub mod close_payload;
pub mod connection;
pub mod extended_connect;
pub mod frame_header;
pub mod handshake;
pub mod inflate;
pub mod mask;
/// The reference decoder, shared with the crate's integration tests.
#[path = "../../tests/support/model.rs"]
pub mod model;

/// Whether `RFC6455_FUZZ_TRACE` is set: the harnesses then print each step to stderr, to make a
/// crash's input readable (`RFC6455_FUZZ_TRACE=1 cargo fuzz run <target> <crash-file>`).
pub fn tracing() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("RFC6455_FUZZ_TRACE").is_some())
}

/// `eprintln!` when tracing.
#[macro_export]
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::tracing() {
            eprintln!($($arg)*);
        }
    };
}

/// Reads a fuzz input front to back. Past the end every read yields zeros, so that every byte
/// string is a valid input and libFuzzer's mutations never fall off a cliff.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// The next byte, or 0.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, little-endian, or what is left of them.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// The next eight bytes, little-endian, or what is left of them.
    pub fn u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        for b in &mut bytes {
            *b = self.u8();
        }
        u64::from_le_bytes(bytes)
    }

    /// Up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        taken
    }

    /// Everything left.
    pub fn rest(self) -> &'a [u8] {
        self.data
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// The first position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Splits `data` into chunks of `size` bytes (0 means one chunk). Always yields at least one
/// (possibly empty) chunk, so that a receive with no bytes is exercised too.
pub fn chunks(data: &[u8], size: usize) -> Vec<&[u8]> {
    if size == 0 || data.is_empty() {
        return vec![data];
    }
    data.chunks(size).collect()
}

/// The limit on a handshake head selected by a control byte: values below 128 keep the default
/// (8 KiB), others pick a small limit (24..=3072 bytes) that fuzz inputs can actually reach.
pub fn head_limit(selector: u8) -> Option<usize> {
    (selector >= 128).then(|| usize::from(selector - 127) * 24)
}

/// Strips spaces and tabs from both ends (RFC 7230 `OWS`), independently of the crate's helper.
pub fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}
pub mod corpus;
