//! Sending, [RFC 6455 §5.2–§5.6](https://www.rfc-editor.org/rfc/rfc6455#section-5.2): messages
//! and fragments encoded into the send buffer, masked in the client role (§5.3), compressed when
//! permessage-deflate was negotiated (RFC 7692 §7.2.1), large payloads queued by reference; and
//! the closing handshake's first step (§7.1.2).
#![forbid(unsafe_code)]

use bytes::Bytes;
use rand_core::RngCore;

use super::output::SHARE_THRESHOLD;
use super::phase::{Event, Phase};
use super::{Connection, DataKind, Role};
use crate::close::{CloseCode, CloseFrame};
use crate::error::SendError;
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode};
use crate::mask::apply_mask;
use crate::message::Message;
use crate::prepared::PreparedMessage;

impl Connection {
    /// Queues a message (or control frame) to send.
    ///
    /// `Message::Close` starts the closing handshake like [`close`](Self::close). In the server
    /// role a text or binary payload of 16 KiB or more that is not compressed is queued by
    /// reference, not copied: it then forms its own run of output (see
    /// [`transmit_chunks`](Self::transmit_chunks)), and an echo of a large message reaches the
    /// socket without its payload being copied.
    pub fn send(&mut self, message: Message) -> Result<(), SendError> {
        match message {
            Message::Text(text) => {
                self.check_whole_message()?;
                self.queue_owned(OpCode::Text, text.into_bytes());
                Ok(())
            }
            Message::Binary(data) => {
                self.check_whole_message()?;
                self.queue_owned(OpCode::Binary, data);
                Ok(())
            }
            Message::Ping(data) => self.send_ping(&data),
            Message::Pong(data) => self.send_pong(&data),
            Message::Close(None) => {
                if self.phase != Phase::Open {
                    return Err(SendError::Closed);
                }
                self.queue_close(None, "");
                self.transition(Event::CloseSent);
                Ok(())
            }
            Message::Close(Some(frame)) => self.close(frame.code, &frame.reason),
        }
    }

    /// Queues a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.check_whole_message()?;
        self.queue_data(OpCode::Text, true, text.as_bytes(), true);
        Ok(())
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.check_whole_message()?;
        self.queue_data(OpCode::Binary, true, data, true);
        Ok(())
    }

    /// Queues a message encoded once for many connections (see [`PreparedMessage`]).
    ///
    /// Uncompressed, a server appends the prepared frame's bytes as they are and a client masks
    /// a copy of the payload. Under permessage-deflate a payload that reaches the threshold is
    /// compressed: when this side sends with no context takeover, with the message's shared
    /// compressed frame for this level and window, made once for all such connections (see
    /// [compressed once for many](crate::prepared#compressed-once-for-many)); with context
    /// takeover, by this connection's own compressor.
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        self.check_whole_message()?;
        #[cfg(feature = "deflate")]
        if self.wants_compression(message.payload().len()) {
            self.queue_prepared_compressed(message);
            return Ok(());
        }
        match self.role {
            Role::Server if message.frame().len() >= SHARE_THRESHOLD => {
                self.send.push_shared(message.shared_frame());
            }
            Role::Server => self.send_tail().extend_from_slice(message.frame()),
            Role::Client => self.queue_frame(message.opcode(), true, message.payload()),
        }
        Ok(())
    }

    /// Whether `messages`, sent now, would go out as their prepared frames unchanged (the server
    /// role, none of them compressed), so that frames encoded once for many connections can be
    /// written as they are; an error if no whole message may be sent now.
    #[cfg(feature = "rooms")]
    pub(crate) fn sends_prepared_frames_unchanged(
        &self,
        messages: &[std::sync::Arc<PreparedMessage>],
    ) -> Result<bool, SendError> {
        self.check_whole_message()?;
        Ok(self.role == Role::Server
            && messages
                .iter()
                .all(|message| !self.wants_compression(message.payload().len())))
    }

    /// Queues bytes that are whole frames already, after everything queued (see
    /// [`sends_prepared_frames_unchanged`](Self::sends_prepared_frames_unchanged)).
    #[cfg(feature = "rooms")]
    pub(crate) fn queue_encoded_frames(&mut self, frames: Bytes) {
        self.send.push_shared(frames);
    }

    /// Queues a prepared message compressed: its shared compressed frame when this side has no
    /// context takeover, else compressed by this connection.
    #[cfg(feature = "deflate")]
    fn queue_prepared_compressed(&mut self, message: &PreparedMessage) {
        let shared = self.deflate.as_ref().and_then(|d| d.shared_compression());
        let Some((level, window_bits)) = shared else {
            // Context takeover: the frame depends on this connection's earlier messages.
            self.queue_data(message.opcode(), true, message.payload(), true);
            return;
        };
        let compressed = message.compressed((level, window_bits), |payload| {
            crate::deflate::compress_alone(level, window_bits, payload)
        });
        match self.role {
            Role::Server if compressed.frame().len() >= SHARE_THRESHOLD => {
                self.send.push_shared(compressed.frame().clone());
            }
            Role::Server => self.send_tail().extend_from_slice(compressed.frame()),
            // RFC 7692 §6.1: RSV1 on the (only) frame of a compressed message.
            Role::Client => {
                self.queue_frame_with(message.opcode(), true, true, compressed.payload());
            }
        }
    }

    /// Queues a text or binary message without compressing it, whatever its size (a
    /// per-message opt-out of permessage-deflate, e.g. for data that is already compressed).
    /// Other messages are sent like [`send`](Self::send).
    pub fn send_uncompressed(&mut self, message: Message) -> Result<(), SendError> {
        match &message {
            Message::Text(text) => {
                self.check_whole_message()?;
                self.queue_data(OpCode::Text, true, text.as_bytes(), false);
                Ok(())
            }
            Message::Binary(data) => {
                self.check_whole_message()?;
                self.queue_data(OpCode::Binary, true, data, false);
                Ok(())
            }
            _ => self.send(message),
        }
    }

    /// Queues one fragment of a text message; `is_final` ends the message. Each fragment must be
    /// valid UTF-8 on its own (split at character boundaries). Control frames may be sent between
    /// fragments.
    pub fn send_text_fragment(&mut self, text: &str, is_final: bool) -> Result<(), SendError> {
        self.send_fragment(DataKind::Text, text.as_bytes(), is_final)
    }

    /// Queues one fragment of a binary message; `is_final` ends the message.
    ///
    /// # Example
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Role};
    ///
    /// let mut server = Connection::new(Role::Server, Config::default());
    /// server.send_binary_fragment(b"Hel", false)?;
    /// server.send_binary_fragment(b"lo", true)?;
    /// assert_eq!(server.take_transmit(), &b"\x02\x03Hel\x80\x02lo"[..]);
    /// # Ok::<(), rfc6455::SendError>(())
    /// ```
    pub fn send_binary_fragment(&mut self, data: &[u8], is_final: bool) -> Result<(), SendError> {
        self.send_fragment(DataKind::Binary, data, is_final)
    }

    fn send_fragment(
        &mut self,
        kind: DataKind,
        data: &[u8],
        is_final: bool,
    ) -> Result<(), SendError> {
        self.check_open()?;
        let (opcode, compress) = match self.sending {
            // Whether a streamed message is compressed is decided on its first fragment.
            None => match kind {
                DataKind::Text => (OpCode::Text, self.wants_compression(data.len())),
                DataKind::Binary => (OpCode::Binary, self.wants_compression(data.len())),
            },
            Some((current, compress)) if current == kind => (OpCode::Continuation, compress),
            Some(_) => return Err(SendError::FragmentTypeMismatch),
        };
        self.queue_data(opcode, is_final, data, compress);
        self.sending = if is_final {
            None
        } else {
            Some((kind, compress))
        };
        Ok(())
    }

    /// Queues a Ping with at most 125 bytes of payload.
    pub fn send_ping(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, data)
    }

    /// Queues an unsolicited Pong (a heartbeat the peer need not answer), at most 125 bytes.
    pub fn send_pong(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, data)
    }

    fn send_control(&mut self, opcode: OpCode, data: &[u8]) -> Result<(), SendError> {
        self.check_open()?;
        if data.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlPayloadTooLong(data.len()));
        }
        self.queue_frame(opcode, true, data);
        Ok(())
    }

    /// Starts the closing handshake (§7.1.2) with a code and a reason of at most 123 bytes.
    ///
    /// Messages keep arriving until the peer's Close; after it, [`transport`](Self::transport)
    /// says how to end the transport.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if self.phase != Phase::Open {
            return Err(SendError::Closed);
        }
        let frame = CloseFrame::new(code, reason)?;
        self.queue_close(Some(frame.code), &frame.reason);
        self.transition(Event::CloseSent);
        Ok(())
    }

    /// The state allows sending. The send buffer's size never refuses a send: the application
    /// decides what it queues between writes (a driver that writes everything after each round
    /// of events bounds it by one round), and refusing the echo of the second of two large
    /// messages that arrived together would break the obvious loop. What the size does govern
    /// is reading ([`Transport::PauseReading`](crate::Transport::PauseReading)), which bounds
    /// the replies the core queues by itself.
    fn check_open(&self) -> Result<(), SendError> {
        if self.phase != Phase::Open {
            return Err(SendError::Closed);
        }
        Ok(())
    }

    fn check_whole_message(&self) -> Result<(), SendError> {
        self.check_open()?;
        if self.sending.is_some() {
            return Err(SendError::FragmentedMessageInProgress);
        }
        Ok(())
    }

    pub(super) fn queue_close(&mut self, code: Option<CloseCode>, reason: &str) {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            Some(code) => {
                let reason = &reason.as_bytes()[..reason.len().min(MAX_CONTROL_PAYLOAD - 2)];
                payload[..2].copy_from_slice(&code.0.to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason);
                2 + reason.len()
            }
            None => 0,
        };
        self.queue_frame(OpCode::Close, true, &payload[..len]);
    }

    /// Whether a message (or a streamed message's first fragment) of `len` bytes is compressed.
    fn wants_compression(&self, len: usize) -> bool {
        #[cfg(feature = "deflate")]
        return self
            .deflate
            .as_ref()
            .is_some_and(|deflate| len >= deflate.threshold);
        #[cfg(not(feature = "deflate"))]
        {
            let _ = len;
            false
        }
    }

    /// Queues a data frame, compressing it when permessage-deflate is on and `compress` allows
    /// (for a whole message, if it reaches the threshold; for a fragment, as decided on the first).
    fn queue_data(&mut self, opcode: OpCode, fin: bool, payload: &[u8], compress: bool) {
        let compress = match opcode {
            OpCode::Continuation => compress,
            _ if fin => compress && self.wants_compression(payload.len()),
            _ => compress,
        };
        #[cfg(feature = "deflate")]
        if compress {
            if let Some(mut deflate) = self.deflate.take() {
                let compressed = deflate.compress(payload, fin);
                // RFC 7692 §6.1: RSV1 marks the first frame of a compressed message only.
                self.queue_frame_with(opcode, fin, opcode != OpCode::Continuation, compressed);
                self.deflate = Some(deflate);
                return;
            }
        }
        let _ = compress;
        self.queue_frame(opcode, fin, payload);
    }

    /// Queues a whole message whose payload the caller handed over: a large one goes out by
    /// reference in the server role when it is not compressed (no mask, no copy).
    fn queue_owned(&mut self, opcode: OpCode, payload: Bytes) {
        if self.role == Role::Server
            && payload.len() >= SHARE_THRESHOLD
            && !self.wants_compression(payload.len())
        {
            // A server's header carries no mask: the payload goes out as it is.
            let header = FrameHeader::new(opcode, payload.len() as u64).encode();
            self.send_tail().extend_from_slice(&header);
            self.send.push_shared(payload);
        } else {
            self.queue_data(opcode, true, &payload, true);
        }
    }

    /// Encodes one frame into the send buffer, masking it in the client role.
    pub(super) fn queue_frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) {
        self.queue_frame_with(opcode, fin, false, payload);
    }

    fn queue_frame_with(&mut self, opcode: OpCode, fin: bool, rsv1: bool, payload: &[u8]) {
        let mask = self.masks.as_mut().map(|rng| rng.next_u32().to_ne_bytes());
        let mut header = FrameHeader::new(opcode, payload.len() as u64);
        header.fin = fin;
        header.rsv1 = rsv1;
        header.mask = mask;
        let encoded = header.encode();
        let out = self.send_tail();
        out.reserve(encoded.len() + payload.len());
        out.extend_from_slice(&encoded);
        let start = out.len();
        out.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut out[start..], key, 0);
        }
    }
}
