//! permessage-deflate compression and inflation,
//! [RFC 7692 §7.2](https://www.rfc-editor.org/rfc/rfc7692#section-7.2), for one connection: each
//! direction is its own DEFLATE stream, configured by the parameters both sides agreed on.
//!
//! The codec knows nothing of roles: the connection tells it which agreed stream it sends and
//! which it receives.

use bytes::BytesMut;
use flate2::{Compress, Decompress, FlushCompress, FlushDecompress, Status};

use super::params::{DeflateConfig, Stream};
use super::pool;
use crate::error::ProtocolError;

/// RFC 7692 §7.2.1: the four bytes a sync flush ends with, removed on send and restored on
/// receive.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Output is produced in chunks of this size, so the size limit is checked while inflating.
const INFLATE_CHUNK: usize = 16 * 1024;

/// A connection's compression state.
pub(crate) struct Deflate {
    level: u32,
    pub(crate) threshold: usize,
    /// What we compress: our window and whether our compressor restarts every message.
    send: Stream,
    /// What the peer compresses: its window (at least 9: see "Window sizes" in
    /// [`deflate`](super)) and whether it restarts every message.
    receive: Stream,
    /// Taken at the start of a message. Kept between messages when its context is taken over;
    /// otherwise given back to this thread's [`pool`] when the message ends, so an idle
    /// connection holds none.
    compressor: Option<Box<Compress>>,
    decompressor: Option<Box<Decompress>>,
    /// Compressed output of the message being sent.
    scratch: Vec<u8>,
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate")
            .field("send", &self.send)
            .field("receive", &self.receive)
            .finish_non_exhaustive()
    }
}

impl Deflate {
    /// The state for a connection that compresses `send` and inflates `handle_input`.
    pub(crate) fn new(send: Stream, receive: Stream, config: Option<&DeflateConfig>) -> Self {
        let defaults = DeflateConfig::default();
        let config = config.unwrap_or(&defaults);
        // zlib cannot use an 8-bit window (see the module docs of `deflate`); 9 inflates it too.
        let clamp = |stream: Stream| Stream {
            window_bits: stream.window_bits.clamp(9, 15),
            ..stream
        };
        Self {
            level: config.level,
            threshold: config.threshold,
            send: clamp(send),
            receive: clamp(receive),
            compressor: None,
            decompressor: None,
            scratch: Vec::new(),
        }
    }

    /// Compresses one message (or one fragment of it; `is_final` ends the message) and returns
    /// the bytes to send, without the sync-flush tail.
    pub(crate) fn compress(&mut self, payload: &[u8], is_final: bool) -> &[u8] {
        let (level, window) = (self.level, self.send.window_bits);
        let compressor = self
            .compressor
            .get_or_insert_with(|| pool::take_compressor(level, window));
        flush_into(compressor, payload, is_final, &mut self.scratch);
        if is_final && self.send.no_context_takeover {
            if let Some(compressor) = self.compressor.take() {
                pool::give_compressor(level, window, compressor);
            }
        }
        &self.scratch
    }

    /// The compression every message this connection sends would get from a fresh stream, as
    /// `(level, window bits)`: `Some` when the send direction has no context takeover, so that
    /// a whole message compressed once with [`compress_alone`] is byte for byte what this
    /// connection would send, and can be shared with every connection that has the same pair.
    /// `None` with context takeover: each message depends on this connection's history.
    pub(crate) fn shared_compression(&self) -> Option<(u32, u8)> {
        self.send
            .no_context_takeover
            .then_some((self.level, self.send.window_bits))
    }

    /// The window to inflate with. With context takeover, the peer's: the connection keeps its
    /// decompressor, sized to what the peer may refer back to. Without, always 15 bits: the
    /// decompressor is pooled and reset after every message, and flate2 re-creates the state of
    /// one with a smaller window on reset, so a pooled one would be allocated anew for every
    /// message (interleaved with the connections' small allocations, that fragmented the heap
    /// by about 19 KB of resident memory per connection with 12-bit windows). A 15-bit window
    /// inflates a stream made with any smaller one, and one pooled decompressor then serves
    /// peers of every window.
    fn inflate_window(&self) -> u8 {
        if self.receive.no_context_takeover {
            15
        } else {
            self.receive.window_bits
        }
    }

    /// Inflates one frame of a compressed message into `out`, never letting `out` grow past `max`
    /// bytes. `is_final` appends the tail the sender removed and ends the message.
    pub(crate) fn decompress(
        &mut self,
        payload: &[u8],
        is_final: bool,
        out: &mut BytesMut,
        max: usize,
    ) -> Result<(), ProtocolError> {
        let window = self.inflate_window();
        let decompressor = self
            .decompressor
            .get_or_insert_with(|| pool::take_decompressor(window));
        let mut chunk = [0u8; INFLATE_CHUNK];
        for input in [payload, if is_final { &TAIL[..] } else { &[][..] }] {
            let mut consumed = 0;
            loop {
                let before_in = decompressor.total_in();
                let before_out = decompressor.total_out();
                let status = decompressor
                    .decompress(&input[consumed..], &mut chunk, FlushDecompress::Sync)
                    .map_err(|_| ProtocolError::InvalidCompressedData)?;
                consumed += (decompressor.total_in() - before_in) as usize;
                let produced = (decompressor.total_out() - before_out) as usize;
                if out.len() + produced > max {
                    return Err(ProtocolError::MessageTooLarge {
                        size: (out.len() + produced) as u64,
                        max,
                    });
                }
                out.extend_from_slice(&chunk[..produced]);
                if status == Status::StreamEnd {
                    // RFC 7692 §7.2.3.4: a message may end with a final block (BFINAL). It ends
                    // the deflate stream; what follows it in the message (padding, the tail) is
                    // ignored, and the next message starts a fresh stream.
                    if let Some(decompressor) = self.decompressor.take() {
                        pool::give_decompressor(window, decompressor);
                    }
                    return Ok(());
                }
                // Done with this input once it is consumed and the output did not fill the chunk.
                if consumed == input.len() && produced < chunk.len() {
                    break;
                }
                if produced == 0 && (decompressor.total_in() - before_in) == 0 {
                    // No progress on non-empty input: the stream is stuck.
                    return Err(ProtocolError::InvalidCompressedData);
                }
            }
        }
        if is_final && self.receive.no_context_takeover {
            if let Some(decompressor) = self.decompressor.take() {
                pool::give_decompressor(window, decompressor);
            }
        }
        Ok(())
    }
}

/// Compresses a whole message on a fresh stream at `level` with a `window_bits` window (9 to
/// 15), with a compressor borrowed from this thread's pool, and returns the payload of its
/// compressed frame: what a connection whose send direction has no context takeover sends for
/// it (see [`Deflate::shared_compression`]).
pub(crate) fn compress_alone(level: u32, window_bits: u8, payload: &[u8]) -> Vec<u8> {
    let mut compressor = pool::take_compressor(level, window_bits);
    let mut out = Vec::new();
    flush_into(&mut compressor, payload, true, &mut out);
    pool::give_compressor(level, window_bits, compressor);
    out
}

/// Compresses `payload` with a sync flush into `out` (cleared first). `is_final` ends the
/// message: the tail is removed, and an empty message becomes an empty stored block.
fn flush_into(compressor: &mut Compress, payload: &[u8], is_final: bool, out: &mut Vec<u8>) {
    out.clear();
    out.reserve(payload.len() / 2 + 64);
    let start_in = compressor.total_in();
    loop {
        let consumed = (compressor.total_in() - start_in) as usize;
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(64));
        }
        // Errors are impossible for a well-formed stream we drive ourselves; stop on one.
        let Ok(_) = compressor.compress_vec(&payload[consumed..], out, FlushCompress::Sync) else {
            break;
        };
        let done = (compressor.total_in() - start_in) as usize == payload.len();
        // A sync flush is complete once all input is consumed and the output did not fill.
        if done && out.len() < out.capacity() {
            break;
        }
    }
    // RFC 7692 §7.2.1: the tail is removed from the end of the message only; inside a
    // fragmented message the flush marker is part of the stream.
    if is_final && out.ends_with(&TAIL) {
        out.truncate(out.len() - TAIL.len());
    }
    if is_final && out.is_empty() {
        // An empty message compresses to an empty stored block (RFC 7692 §7.2.3.6).
        out.push(0x00);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(no_context_takeover: bool) -> Stream {
        stream_with(15, no_context_takeover)
    }

    fn stream_with(window_bits: u8, no_context_takeover: bool) -> Stream {
        Stream {
            window_bits,
            no_context_takeover,
        }
    }

    /// A client's and a server's codec, each compressing the stream the other inflates.
    fn pair(client: Stream, server: Stream) -> (Deflate, Deflate) {
        (
            Deflate::new(client, server, None),
            Deflate::new(server, client, None),
        )
    }

    fn default_pair() -> (Deflate, Deflate) {
        pair(stream(false), stream(false))
    }

    #[test]
    fn messages_round_trip_with_and_without_context_takeover() {
        for config in [DeflateConfig::default(), DeflateConfig::low_memory()] {
            let (mut client, mut server) = pair(
                stream(config.client_no_context_takeover),
                stream(config.server_no_context_takeover),
            );
            for message in [
                &b"hello hello hello hello"[..],
                b"",
                &[7u8; 100_000],
                b"hello hello",
            ] {
                let compressed = client.compress(message, true).to_vec();
                assert!(!compressed.ends_with(&TAIL));
                let mut out = BytesMut::new();
                server
                    .decompress(&compressed, true, &mut out, usize::MAX)
                    .unwrap();
                assert_eq!(&out[..], message);
            }
            assert_eq!(
                client.compressor.is_none(),
                config.client_no_context_takeover
            );
            assert_eq!(
                server.decompressor.is_none(),
                config.client_no_context_takeover
            );
        }
    }

    #[test]
    fn without_context_takeover_state_is_pooled_per_thread_and_reset_between_messages() {
        let (mut client, mut server) = pair(stream(true), stream(true));
        let message = b"hello hello hello hello hello";
        let first = client.compress(message, true).to_vec();
        let mut out = BytesMut::new();
        server.decompress(&first, true, &mut out, 1000).unwrap();
        assert_eq!(&out[..], message);
        // Both the compressor and the decompressor went back to this thread's pool.
        assert!(client.compressor.is_none() && server.decompressor.is_none());
        assert_eq!(pool::idle(), (1, 1));
        // The next message borrows the same ones, reset: it compresses to the same bytes, where a
        // stream that kept its context would refer back to the first message.
        let second = client.compress(message, true).to_vec();
        assert_eq!(second, first);
        let mut out = BytesMut::new();
        server.decompress(&second, true, &mut out, 1000).unwrap();
        assert_eq!(&out[..], message);
        assert_eq!(pool::idle(), (1, 1));
        // Many connections on one thread share them, and the pool stays bounded.
        let mut others: Vec<_> = (0..10).map(|_| pair(stream(true), stream(true))).collect();
        for (client, _) in &mut others {
            assert!(!client.compress(message, false).is_empty());
        }
        for (client, _) in &mut others {
            client.compress(b"", true);
        }
        assert_eq!(pool::idle().0, pool::CAPACITY);
    }

    #[test]
    fn a_message_compressed_alone_is_what_a_connection_without_context_takeover_sends() {
        let message = b"{\"type\":\"message\",\"text\":\"hello\"} ".repeat(40);
        for window in [9, 12, 15] {
            let send = Stream {
                window_bits: window,
                no_context_takeover: true,
            };
            let config = DeflateConfig::default().level(6);
            let mut client = Deflate::new(send, send, Some(&config));
            let mut server = Deflate::new(send, send, None);
            assert_eq!(client.shared_compression(), Some((6, window)));
            let alone = compress_alone(6, window, &message);
            for _ in 0..2 {
                assert_eq!(client.compress(&message, true), &alone[..]);
            }
            let mut out = BytesMut::new();
            server.decompress(&alone, true, &mut out, 1 << 20).unwrap();
            assert_eq!(&out[..], &message[..]);
        }
        assert_eq!(compress_alone(1, 15, b""), [0x00]);
        // With context takeover the next message depends on the last: nothing to share.
        let (client, _) = default_pair();
        assert_eq!(client.shared_compression(), None);
    }

    #[test]
    fn one_pooled_decompressor_inflates_peers_of_every_window() {
        let message = b"hello hello hello hello hello ".repeat(100);
        let mut inflaters = 0;
        for window in [9, 12, 15] {
            let stream = stream_with(window, true);
            let (mut client, mut server) = pair(stream, stream);
            let compressed = client.compress(&message, true).to_vec();
            let mut out = BytesMut::new();
            server
                .decompress(&compressed, true, &mut out, 1 << 20)
                .unwrap();
            assert_eq!(&out[..], &message[..]);
            inflaters = inflaters.max(pool::idle().1);
        }
        assert_eq!(inflaters, 1, "the same 15-bit decompressor every time");
    }

    #[test]
    fn rfc_7692_section_7_2_3_examples() {
        let (_, mut server) = default_pair();
        // §7.2.3.1: "Hello" compressed in one frame.
        let mut out = BytesMut::new();
        server
            .decompress(
                &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
                true,
                &mut out,
                100,
            )
            .unwrap();
        assert_eq!(&out[..], b"Hello");
        // §7.2.3.2: the same again, referencing the previous message (context takeover).
        let mut out = BytesMut::new();
        server
            .decompress(&[0xf2, 0x00, 0x11, 0x00, 0x00], true, &mut out, 100)
            .unwrap();
        assert_eq!(&out[..], b"Hello");
        // §7.2.3.3: no compression (a stored block), and the message split over two frames.
        let (_, mut server) = default_pair();
        let mut out = BytesMut::new();
        server
            .decompress(
                &[0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65],
                false,
                &mut out,
                100,
            )
            .unwrap();
        server
            .decompress(&[0x6c, 0x6c, 0x6f, 0x00], true, &mut out, 100)
            .unwrap();
        assert_eq!(&out[..], b"Hello");
        // §7.2.3.4: a final block (BFINAL set) is allowed too.
        let (_, mut server) = default_pair();
        let mut out = BytesMut::new();
        server
            .decompress(
                &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
                true,
                &mut out,
                100,
            )
            .unwrap();
        assert_eq!(&out[..], b"Hello");
    }

    #[test]
    fn a_small_bomb_stops_at_the_limit_without_holding_more() {
        let mut client = Deflate::new(
            stream(false),
            stream(false),
            Some(&DeflateConfig::default().level(9)),
        );
        let mut server = Deflate::new(stream(false), stream(false), None);
        // 10 MiB of zeros in a few KiB.
        let bomb = client.compress(&vec![0u8; 10 << 20], true).to_vec();
        assert!(bomb.len() < 16 * 1024, "{}", bomb.len());
        let mut out = BytesMut::new();
        let limit = 1 << 20;
        let error = server.decompress(&bomb, true, &mut out, limit).unwrap_err();
        assert!(matches!(error, ProtocolError::MessageTooLarge { max, .. } if max == limit));
        assert!(out.len() <= limit);
        assert!(out.capacity() <= 2 * limit, "capacity {}", out.capacity());
    }

    #[test]
    fn garbage_is_invalid_compressed_data() {
        let (_, mut server) = default_pair();
        let mut out = BytesMut::new();
        assert_eq!(
            server.decompress(&[0xff, 0xff, 0xff, 0xff], true, &mut out, 1000),
            Err(ProtocolError::InvalidCompressedData)
        );
    }
}
