//! Receiving, [RFC 6455 §5.2–§5.5](https://www.rfc-editor.org/rfc/rfc6455#section-5.2): frame
//! headers checked against the role, extensions and limits before any payload is buffered;
//! payloads unmasked and text validated as they arrive; fragments assembled (§5.4); control
//! frames answered (§5.5); the connection failed on the first violation (§7.1.7).
#![forbid(unsafe_code)]

use bytes::{Buf, BytesMut};

use super::phase::{Event, Phase};
use super::{Connection, DataKind, Role};
use crate::close::{CloseCode, CloseFrame};
use crate::error::{ConnectionError, ProtocolError};
use crate::frame::{FrameHeader, OpCode, Parse};
use crate::mask::apply_mask;
use crate::message::Message;
use crate::utf8::Utf8Bytes;

/// The frame whose payload is arriving: its header, and how much of its payload has already been
/// unmasked (and, for text, validated) in place at the front of the receive buffer.
#[derive(Debug)]
pub(super) struct IncomingFrame {
    header: FrameHeader,
    processed: usize,
    is_text: bool,
}

impl IncomingFrame {
    /// The payload's length. Lossless: `accept_header` bounded it by `max_frame_size`, a
    /// `usize`.
    fn len(&self) -> usize {
        self.header.payload_len as usize
    }
}

/// A fragmented message being assembled.
#[derive(Debug)]
pub(super) struct Assembly {
    kind: DataKind,
    /// The message is compressed (RSV1 on its first frame, permessage-deflate).
    compressed: bool,
    data: BytesMut,
    size: u64,
    fragments: usize,
}

impl Connection {
    /// Hands over bytes read from the transport. Bytes that arrive after the peer's Close frame or
    /// after the connection failed are discarded.
    pub fn handle_input(&mut self, data: &[u8]) {
        if self.phase.reads_input() {
            self.recv.extend_from_slice(data);
        }
    }

    /// The receive buffer, for reading from the transport without an intermediate copy (e.g.
    /// `socket.read_buf(conn.input_buffer())`). Appending here is the same as calling
    /// [`handle_input`](Self::handle_input). Once the peer's Close has arrived, or the connection failed,
    /// what is appended here is dropped by the next call that decodes.
    ///
    /// A driver that keeps many idle connections may take the buffer out when it is empty
    /// (`std::mem::take`) and hand it to another connection: an idle connection then holds no
    /// receive buffer.
    pub fn input_buffer(&mut self) -> &mut BytesMut {
        &mut self.recv
    }

    /// Tells the connection that the transport's read side has ended. Bytes already received are
    /// still decoded; then [`poll_recv`](Self::poll_recv) reports
    /// [`ConnectionError::TransportEnded`] unless the closing handshake had finished.
    pub fn handle_eof(&mut self) {
        self.input_ended = true;
        if !self.phase.reads_input() {
            self.transition(Event::InputEnded);
        }
    }

    /// Whether a whole frame (or a protocol error) is already buffered, so that
    /// [`poll_recv`](Self::poll_recv) can make progress without reading the transport.
    ///
    /// Adapters use it to cork writes: while this is true the application is still working through
    /// input that arrived together, so its replies are queued and written in one batch when it
    /// turns false. A partial frame does not count: waiting for the rest of it must not hold back
    /// replies.
    pub fn has_pending_input(&self) -> bool {
        if !self.phase.reads_input() {
            return false;
        }
        match &self.frame {
            Some(frame) => self.recv.len() >= frame.len(),
            None => match FrameHeader::parse(&self.recv) {
                Ok(Parse::Complete(header, header_len)) => {
                    (self.recv.len() - header_len) as u64 >= header.payload_len
                }
                Ok(Parse::Incomplete { .. }) => false,
                Err(_) => true,
            },
        }
    }

    /// How many more bytes the frame being received needs, once its header has been decoded;
    /// zero otherwise. A driver can size its next read with it, so that a large payload lands
    /// in one buffer instead of a growing one that is copied at every doubling. The length was
    /// checked against [`Config::max_frame_size`](crate::Config::max_frame_size) when the header arrived, and reserving memory
    /// commits none until bytes are written to it.
    ///
    /// # Example
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// // The header of a masked 70,000-byte binary frame, and 4 bytes of its payload.
    /// server.handle_input(b"\x82\xff\x00\x00\x00\x00\x00\x01\x11\x70\x00\x00\x00\x00abcd");
    /// assert_eq!(server.poll_recv()?, None);
    /// assert_eq!(server.frame_bytes_missing(), 70_000 - 4);
    /// # Ok::<(), rfc6455::ConnectionError>(())
    /// ```
    #[must_use]
    pub fn frame_bytes_missing(&self) -> usize {
        match &self.frame {
            Some(frame) if self.phase.reads_input() => frame.len().saturating_sub(self.recv.len()),
            _ => 0,
        }
    }

    /// The next message, control frame or Close from the peer; `Ok(None)` when more bytes are
    /// needed (or after the connection closed).
    ///
    /// A received Ping is answered with a Pong and a received Close with a Close before this
    /// returns (see [`Config::auto_pong`](crate::Config::auto_pong)). When the connection ends
    /// other than by the closing handshake, the error says why, once; later calls return
    /// `Ok(None)`: on a protocol violation the connection has queued a Close frame with the
    /// error's [`close_code`](ConnectionError::close_code) and stopped decoding; a timer's error
    /// (from [`handle_timeout`](Self::handle_timeout)) and the end of the transport
    /// ([`handle_eof`](Self::handle_eof)) are reported here too.
    pub fn poll_recv(&mut self) -> Result<Option<Message>, ConnectionError> {
        if let Some(error) = self.timers.as_mut().and_then(|timers| timers.error.take()) {
            return Err(error);
        }
        if !self.phase.reads_input() {
            // Bytes a driver read into `input_buffer` after the peer's Close or a failure (a
            // lingering read, say) are discarded here, so the buffer cannot grow.
            self.recv.clear();
            return Ok(None);
        }
        match self.decode() {
            Ok(Some(message)) => Ok(Some(message)),
            Ok(None) if self.input_ended => {
                self.transition(Event::InputEnded);
                Err(ConnectionError::TransportEnded)
            }
            Ok(None) => Ok(None),
            Err(error) => Err(self.fail(error).into()),
        }
    }

    fn decode(&mut self) -> Result<Option<Message>, ProtocolError> {
        loop {
            if self.frame.is_none() {
                let (header, header_len) = match FrameHeader::parse(&self.recv)? {
                    Parse::Complete(header, len) => (header, len),
                    Parse::Incomplete { .. } => return Ok(None),
                };
                let frame = self.accept_header(header)?;
                // The common case, a whole unfragmented message already buffered, in one step.
                let whole = header_len as u64 + header.payload_len;
                if header.fin
                    && !header.rsv1
                    && matches!(header.opcode, OpCode::Text | OpCode::Binary)
                    && self.recv.len() as u64 >= whole
                {
                    return self.take_whole_message(header, header_len).map(Some);
                }
                self.recv.advance(header_len);
                self.note_consumed(header_len);
                self.frame = Some(frame);
            }
            let Some(frame) = self.frame.as_mut() else {
                return Ok(None);
            };
            // Unmask (and validate) what has arrived of the payload, so a bad byte in a text
            // frame fails the connection when it arrives rather than when the frame ends.
            let available = self.recv.len().min(frame.len());
            if available > frame.processed {
                let fresh = &mut self.recv[frame.processed..available];
                if let Some(key) = frame.header.mask {
                    apply_mask(fresh, key, frame.processed);
                }
                if frame.is_text {
                    self.utf8
                        .feed(fresh)
                        .map_err(|_| ProtocolError::InvalidUtf8)?;
                }
                frame.processed = available;
            }
            if frame.processed < frame.len() {
                return Ok(None);
            }
            let header = frame.header;
            let len = frame.len();
            self.frame = None;
            let payload = self.recv.split_to(len);
            self.note_consumed(len);
            if let Some(message) = self.complete_frame(header, payload)? {
                return Ok(Some(message));
            }
        }
    }

    /// Takes a final, uncompressed data frame that is wholly buffered (its header accepted by
    /// `accept_header`, so no fragmented message is being assembled) as the message it is.
    fn take_whole_message(
        &mut self,
        header: FrameHeader,
        header_len: usize,
    ) -> Result<Message, ProtocolError> {
        let len = header_len + header.payload_len as usize;
        let mut frame = self.recv.split_to(len);
        self.note_consumed(len);
        let payload = &mut frame[header_len..];
        if let Some(key) = header.mask {
            apply_mask(payload, key, 0);
        }
        if header.opcode == OpCode::Text && std::str::from_utf8(payload).is_err() {
            return Err(ProtocolError::InvalidUtf8);
        }
        // Skipping the header on the frozen bytes is a pointer bump; on the buffer it would
        // also update the buffer's bookkeeping.
        let mut payload = frame.freeze();
        payload.advance(header_len);
        Ok(if header.opcode == OpCode::Text {
            Message::Text(Utf8Bytes::from_validated(payload))
        } else {
            Message::Binary(payload)
        })
    }

    /// Checks a header against the role, extensions, limits and fragmentation state before any of
    /// its payload is buffered.
    fn accept_header(&mut self, header: FrameHeader) -> Result<IncomingFrame, ProtocolError> {
        // §5.2: "If a nonzero value is received and none of the negotiated extensions defines the
        // meaning of such a nonzero value, the receiving endpoint MUST _Fail the WebSocket
        // Connection_."
        // RFC 7692 §6: permessage-deflate gives RSV1 a meaning on the first frame of a data
        // message only.
        let compressed = header.rsv1
            && self.is_compressed()
            && matches!(header.opcode, OpCode::Text | OpCode::Binary);
        if (header.rsv1 && !compressed) || header.rsv2 || header.rsv3 {
            return Err(ProtocolError::ReservedBits);
        }
        // §5.1: a server MUST close on an unmasked frame; a client MUST close on a masked one.
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        if header.payload_len > self.config.max_frame_size as u64 {
            return Err(ProtocolError::FrameTooLarge {
                size: header.payload_len,
                max: self.config.max_frame_size,
            });
        }
        let max_message = self.config.max_message_size as u64;
        let is_text = match (header.opcode, &mut self.assembly) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Continuation, Some(assembly)) => {
                let size = assembly.size + header.payload_len;
                if size > max_message {
                    return Err(ProtocolError::MessageTooLarge {
                        size,
                        max: self.config.max_message_size,
                    });
                }
                if assembly.fragments >= self.config.max_fragments {
                    return Err(ProtocolError::TooManyFragments {
                        max: self.config.max_fragments,
                    });
                }
                assembly.size = size;
                assembly.fragments += 1;
                // Compressed text is validated after inflating, not on the wire.
                assembly.kind == DataKind::Text && !assembly.compressed
            }
            // §5.4: fragments of one message are not interleaved with another message's.
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation);
            }
            (OpCode::Text | OpCode::Binary, None) => {
                if header.payload_len > max_message {
                    return Err(ProtocolError::MessageTooLarge {
                        size: header.payload_len,
                        max: self.config.max_message_size,
                    });
                }
                let kind = if header.opcode == OpCode::Text {
                    DataKind::Text
                } else {
                    DataKind::Binary
                };
                // A compressed message is always assembled: its frames are inflated into it.
                if !header.fin || compressed {
                    self.assembly = Some(Box::new(Assembly {
                        kind,
                        compressed,
                        data: BytesMut::new(),
                        size: header.payload_len,
                        fragments: 1,
                    }));
                }
                kind == DataKind::Text && !compressed
            }
            (OpCode::Close | OpCode::Ping | OpCode::Pong, _) => false,
        };
        Ok(IncomingFrame {
            header,
            processed: 0,
            is_text,
        })
    }

    /// Acts on a frame whose payload is complete, unmasked and (for text) validated so far.
    fn complete_frame(
        &mut self,
        header: FrameHeader,
        payload: BytesMut,
    ) -> Result<Option<Message>, ProtocolError> {
        match header.opcode {
            OpCode::Text | OpCode::Binary if header.fin && !header.rsv1 => {
                if header.opcode == OpCode::Text {
                    self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                    return Ok(Some(Message::Text(Utf8Bytes::from_validated(
                        payload.freeze(),
                    ))));
                }
                Ok(Some(Message::Binary(payload.freeze())))
            }
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                let Some(assembly) = self.assembly.as_mut() else {
                    return Ok(None);
                };
                if assembly.compressed {
                    #[cfg(feature = "deflate")]
                    if let Some(deflate) = self.deflate.as_mut() {
                        let before = assembly.data.len();
                        let max = self.config.max_message_size;
                        deflate.decompress(&payload, header.fin, &mut assembly.data, max)?;
                        if assembly.kind == DataKind::Text {
                            self.utf8
                                .feed(&assembly.data[before..])
                                .map_err(|_| ProtocolError::InvalidUtf8)?;
                        }
                    }
                } else if assembly.data.is_empty() {
                    // The first fragment's buffer becomes the message buffer: no copy.
                    assembly.data = payload;
                } else {
                    assembly.data.extend_from_slice(&payload);
                }
                if !header.fin {
                    return Ok(None);
                }
                let Some(Assembly { kind, data, .. }) =
                    self.assembly.take().map(|assembly| *assembly)
                else {
                    return Ok(None);
                };
                match kind {
                    DataKind::Text => {
                        self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
                        Ok(Some(Message::Text(Utf8Bytes::from_validated(
                            data.freeze(),
                        ))))
                    }
                    DataKind::Binary => Ok(Some(Message::Binary(data.freeze()))),
                }
            }
            OpCode::Ping => {
                let payload = payload.freeze();
                // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
                // response, unless it already received a Close frame."
                if self.config.auto_pong && self.phase == Phase::Open {
                    self.queue_frame(OpCode::Pong, true, &payload);
                }
                Ok(Some(Message::Ping(payload)))
            }
            OpCode::Pong => {
                if let (Some(timers), Some(now)) = (self.timers.as_mut(), self.now) {
                    if let Some((id, sent)) = timers.ping_in_flight {
                        if payload[..] == id.to_be_bytes() {
                            timers.last_rtt = Some(now.saturating_duration_since(sent));
                            timers.ping_in_flight = None;
                        }
                    }
                }
                Ok(Some(Message::Pong(payload.freeze())))
            }
            OpCode::Close => {
                let frame = CloseFrame::parse(&payload)?;
                if self.phase == Phase::Open {
                    // §5.5.1: "If an endpoint receives a Close frame and did not previously send a
                    // Close frame, the endpoint MUST send a Close frame in response."
                    let code = frame.as_ref().map_or(CloseCode::NORMAL, |f| f.code);
                    self.queue_close(Some(code), "");
                }
                self.transition(Event::CloseReceived);
                Ok(Some(Message::Close(frame)))
            }
        }
    }

    /// Fails the connection (§7.1.7): queues a Close with the error's code unless one was sent,
    /// stops decoding, and hands the error back for the caller to return.
    fn fail(&mut self, error: ProtocolError) -> ProtocolError {
        if self.phase == Phase::Open {
            self.queue_close(Some(error.close_code()), "");
        }
        self.transition(Event::Failed);
        error
    }
}
