//! Accumulating an HTTP head up to its terminating empty line (RFC 7230 §3).

use bytes::{Bytes, BytesMut};

/// The head exceeded its limit before its terminating empty line arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeadTooLarge {
    /// The limit in force.
    pub(crate) limit: usize,
}

/// Collects the bytes of a request or response head until `\r\n\r\n`.
///
/// Each arriving chunk is scanned once (plus three bytes of the previous one, where a terminator
/// may have started), so feeding a head one byte at a time costs linear, not quadratic, time. The
/// head never grows past `limit` bytes: the part of a chunk beyond the limit is not copied.
/// Bytes after the terminator belong to the WebSocket stream (or to a refusal's body) and are kept
/// in `leftover`, including any that arrive after the head is complete.
#[derive(Debug)]
pub(crate) struct HeadReader {
    /// The head so far.
    buf: BytesMut,
    /// How much of `buf` has been searched for the terminator.
    scanned: usize,
    /// The largest head accepted, terminator included.
    limit: usize,
    /// Bytes after the terminator.
    leftover: BytesMut,
    /// Whether the terminator has been found and the head handed out.
    done: bool,
}

/// The end of an HTTP head: the CRLF closing the last field and the empty line.
const TERMINATOR: &[u8; 4] = b"\r\n\r\n";

impl HeadReader {
    /// A reader that refuses heads longer than `limit` bytes, terminator included.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            scanned: 0,
            limit,
            leftover: BytesMut::new(),
            done: false,
        }
    }

    /// Changes the limit; meant for before the first byte arrives.
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// The limit in force.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Adds `data`; returns the complete head (terminator included) the first time the terminator
    /// is seen, `Ok(None)` while more is needed or once the head has been handed out.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<Option<Bytes>, HeadTooLarge> {
        if self.done {
            self.leftover.extend_from_slice(data);
            return Ok(None);
        }
        // Copy no more than the limit allows; a terminator beyond it could not make the head
        // acceptable, and the peer must not make us buffer an unbounded chunk.
        let room = self.limit.saturating_sub(self.buf.len());
        let (now, later) = data.split_at(data.len().min(room));
        self.buf.extend_from_slice(now);

        // The terminator may straddle the previous chunk and this one: start three bytes back.
        let from = self.scanned.saturating_sub(TERMINATOR.len() - 1);
        let found = self
            .buf
            .get(from..)
            .unwrap_or_default()
            .windows(TERMINATOR.len())
            .position(|window| window == TERMINATOR);
        if let Some(position) = found {
            let end = from + position + TERMINATOR.len();
            self.leftover = self.buf.split_off(end);
            self.leftover.extend_from_slice(later);
            self.done = true;
            return Ok(Some(std::mem::take(&mut self.buf).freeze()));
        }
        self.scanned = self.buf.len();
        // A head that fills the limit without a terminator cannot end within it.
        if self.buf.len() >= self.limit {
            return Err(HeadTooLarge { limit: self.limit });
        }
        Ok(None)
    }

    /// The bytes received after the head so far.
    pub(crate) fn leftover(&self) -> &[u8] {
        &self.leftover
    }

    /// The bytes received after the head, leaving none behind.
    pub(crate) fn take_leftover(&mut self) -> BytesMut {
        std::mem::take(&mut self.leftover)
    }
}

/// A [`HeadReader`] that remembers how the head was judged: the handshake state both roles share.
///
/// [`push`](Self::push) hands out the complete head once; the caller validates it and reports the
/// verdict to [`settle`](Self::settle). A failure (the head too large, or refused) is returned
/// again by every later call; after success, further bytes only add to the leftover.
#[derive(Debug)]
pub(crate) struct HeadExchange<E> {
    reader: HeadReader,
    failed: Option<E>,
}

impl<E: Clone> HeadExchange<E> {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            reader: HeadReader::new(limit),
            failed: None,
        }
    }

    pub(crate) fn reader(&mut self) -> &mut HeadReader {
        &mut self.reader
    }

    pub(crate) fn limit(&self) -> usize {
        self.reader.limit()
    }

    /// Adds `data`; returns the complete head the first time it is there, `Ok(None)` otherwise,
    /// or the failure, `too_large` making one of a head over the limit.
    pub(crate) fn push(
        &mut self,
        data: &[u8],
        too_large: impl FnOnce(usize) -> E,
    ) -> Result<Option<Bytes>, E> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        self.reader
            .push(data)
            .map_err(|error| self.fail(too_large(error.limit)))
    }

    /// Records the verdict on the head `push` handed out.
    pub(crate) fn settle<T>(&mut self, verdict: Result<T, E>) -> Result<Option<T>, E> {
        verdict.map(Some).map_err(|error| self.fail(error))
    }

    fn fail(&mut self, error: E) -> E {
        self.failed = Some(error.clone());
        error
    }
}

/// A `'static` description of an httparse error, for error variants that must not borrow.
pub(crate) fn httparse_reason(error: httparse::Error) -> &'static str {
    match error {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status code",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid HTTP version",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";

    #[test]
    fn whole_head_with_leftover() {
        let mut reader = HeadReader::new(1024);
        let mut input = HEAD.to_vec();
        input.extend_from_slice(b"\x81\x00rest");
        let head = reader.push(&input).unwrap().unwrap();
        assert_eq!(&head[..], HEAD);
        assert_eq!(&reader.take_leftover()[..], b"\x81\x00rest");
        assert!(reader.take_leftover().is_empty());
    }

    #[test]
    fn one_byte_at_a_time() {
        let mut reader = HeadReader::new(1024);
        let mut input = HEAD.to_vec();
        input.extend_from_slice(b"after");
        let mut head = None;
        for byte in input.chunks(1) {
            if let Some(h) = reader.push(byte).unwrap() {
                assert!(head.is_none(), "head handed out twice");
                head = Some(h);
            }
        }
        assert_eq!(&head.unwrap()[..], HEAD);
        assert_eq!(&reader.take_leftover()[..], b"after");
    }

    #[test]
    fn terminator_straddles_chunks() {
        for split in 0..=HEAD.len() {
            let mut reader = HeadReader::new(1024);
            let (a, b) = HEAD.split_at(split);
            let first = reader.push(a).unwrap();
            let head = first.or_else(|| reader.push(b).unwrap()).unwrap();
            assert_eq!(&head[..], HEAD, "split at {split}");
        }
    }

    #[test]
    fn limit_includes_terminator() {
        let mut exact = HeadReader::new(HEAD.len());
        assert!(exact.push(HEAD).unwrap().is_some());
        let mut short = HeadReader::new(HEAD.len() - 1);
        assert_eq!(
            short.push(HEAD),
            Err(HeadTooLarge {
                limit: HEAD.len() - 1
            })
        );
    }

    #[test]
    fn limit_in_small_chunks_without_terminator() {
        let mut reader = HeadReader::new(100);
        let mut fed = 0;
        let error = loop {
            match reader.push(b"X-Long: aaa\r\n") {
                Ok(None) => fed += 13,
                Ok(Some(_)) => panic!("no terminator was sent"),
                Err(e) => break e,
            }
        };
        assert_eq!(error, HeadTooLarge { limit: 100 });
        assert!(fed < 100);
        assert!(reader.buf.len() <= 100);
    }

    #[test]
    fn huge_chunk_is_not_copied_past_the_limit() {
        let mut reader = HeadReader::new(64);
        let chunk = vec![b'a'; 1 << 20];
        assert!(reader.push(&chunk).is_err());
        assert!(reader.buf.len() <= 64);
    }

    #[test]
    fn bytes_after_completion_are_leftover() {
        let mut reader = HeadReader::new(1024);
        assert!(reader.push(HEAD).unwrap().is_some());
        assert_eq!(reader.push(b"more").unwrap(), None);
        assert_eq!(&reader.take_leftover()[..], b"more");
    }
}
