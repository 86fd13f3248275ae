//! The header fields of a parsed request or response head (RFC 7230 §3.2).

use std::fmt;
use std::ops::Range;

use bytes::Bytes;

use super::lists_contain_token;

/// The header fields of a handshake request or response, in the order received.
///
/// Names are matched ignoring ASCII case (RFC 7230 §3.2: "Each header field consists of a
/// case-insensitive field name"). A field may appear several times; [`get`](Self::get) returns the
/// first value and [`get_all`](Self::get_all) every one. Values are raw bytes with surrounding
/// whitespace removed: HTTP allows non-UTF-8 bytes in values.
///
/// The fields share one buffer with the head they were parsed from; nothing is copied per field.
///
/// ```
/// use rfc6455::handshake::ServerHandshake;
///
/// let mut server = ServerHandshake::new();
/// let request = server
///     .handle_input(
///         b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\
///           Connection: keep-alive\r\nConnection: Upgrade\r\n\
///           Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///           Sec-WebSocket-Version: 13\r\n\r\n",
///     )?
///     .expect("a complete request");
/// let headers = request.headers();
/// assert_eq!(headers.get("HOST"), Some(&b"a"[..]));
/// assert_eq!(headers.get_all("connection").count(), 2);
/// assert!(headers.contains_token("Connection", "upgrade"));
/// assert_eq!(headers.iter().next(), Some(("Host", &b"a"[..])));
/// # Ok::<(), rfc6455::handshake::HandshakeError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    /// The whole head the fields were parsed from.
    head: Bytes,
    /// Where each field's name and value sit in `head`.
    fields: Vec<(Range<usize>, Range<usize>)>,
}

impl Headers {
    /// Records where httparse found each field in `head`, which it parsed.
    pub(crate) fn from_parsed(head: Bytes, parsed: &[httparse::Header<'_>]) -> Self {
        let fields = parsed
            .iter()
            .map(|field| (span(&head, field.name.as_bytes()), span(&head, field.value)))
            .collect();
        Self { head, fields }
    }

    /// The text of `range` in the head, or `""` if it is out of bounds or not UTF-8 (neither can
    /// happen for ranges this type produced, but the head is peer input and must not panic).
    pub(crate) fn text(&self, range: &Range<usize>) -> &str {
        std::str::from_utf8(self.bytes(range)).unwrap_or_default()
    }

    /// The bytes of `range` in the head, or nothing if it is out of bounds.
    pub(crate) fn bytes(&self, range: &Range<usize>) -> &[u8] {
        self.head.get(range.clone()).unwrap_or_default()
    }

    /// The ranges of every value of the field `name`.
    pub(crate) fn value_spans<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a Range<usize>> + use<'a, 'n> {
        self.fields
            .iter()
            .filter(move |(n, _)| self.bytes(n).eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The first value of the field `name` (any case), if present.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.get_all(name).next()
    }

    /// Every value of the field `name` (any case), in the order received.
    pub fn get_all<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        self.value_spans(name).map(|v| self.bytes(v))
    }

    /// Whether the field `name` (any case) is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether any value of the field `name` is a comma list holding `token`, both ignoring ASCII
    /// case: `Connection: keep-alive, Upgrade` contains `upgrade`.
    pub fn contains_token(&self, name: &str, token: &str) -> bool {
        lists_contain_token(self.get_all(name), token)
    }

    /// Every field as `(name, value)`, in the order received, names as sent.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields
            .iter()
            .map(|(n, v)| (self.text(n), self.bytes(v)))
    }

    /// The number of fields, repeated names counted each time.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(name, value)| (name, String::from_utf8_lossy(value))),
            )
            .finish()
    }
}

/// Where `part`, a subslice of `whole`, sits in `whole`.
///
/// httparse hands back subslices of the buffer it parsed; their offsets let the fields share that
/// buffer instead of being copied out one by one.
pub(crate) fn span(whole: &[u8], part: &[u8]) -> Range<usize> {
    let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    // A slice that is not inside `whole` maps to an empty range rather than to someone else's
    // bytes; httparse never returns one, but a wrong offset must not become a panic.
    if start > whole.len() || part.len() > whole.len() - start {
        return 0..0;
    }
    start..start + part.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(head: &'static [u8]) -> Headers {
        let mut storage = [httparse::EMPTY_HEADER; 8];
        let mut request = httparse::Request::new(&mut storage);
        request.parse(head).unwrap();
        Headers::from_parsed(Bytes::from_static(head), request.headers)
    }

    #[test]
    fn lookup_ignores_case_and_keeps_order() {
        let headers = parse(b"GET / HTTP/1.1\r\nX-A: 1\r\nx-b: 2\r\nX-a: 3 \r\n\r\n");
        assert_eq!(headers.len(), 3);
        assert_eq!(headers.get("x-a"), Some(&b"1"[..]));
        assert_eq!(headers.get_all("X-A").collect::<Vec<_>>(), [b"1", b"3"]);
        assert_eq!(headers.get("missing"), None);
        assert!(headers.contains("X-B"));
        let names: Vec<&str> = headers.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["X-A", "x-b", "X-a"]);
        assert_eq!(
            format!("{headers:?}"),
            r#"{"X-A": "1", "x-b": "2", "X-a": "3"}"#
        );
    }

    #[test]
    fn non_utf8_values_are_bytes() {
        let headers = parse(b"GET / HTTP/1.1\r\nX: \xff\xfe\r\n\r\n");
        assert_eq!(headers.get("x"), Some(&b"\xff\xfe"[..]));
    }

    #[test]
    fn span_of_foreign_slice_is_empty() {
        let whole = [0u8; 4];
        let other = [0u8; 4];
        assert_eq!(span(&whole, &whole[1..3]), 1..3);
        assert_eq!(span(&whole, &other), 0..0);
    }
}
