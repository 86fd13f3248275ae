//! Errors, split by whose fault they are.
//!
//! [`ProtocolError`]: the peer broke the protocol; each carries the close code the connection sent
//! to fail the connection (RFC 6455 §7.1.7). [`SendError`]: the local application asked for
//! something the protocol does not allow; nothing is sent to the peer.
#![forbid(unsafe_code)]

use crate::close::CloseCode;

/// The peer violated RFC 6455, a configured limit or a timeout; the connection has been failed.
///
/// By the time the application sees one, the connection has queued a Close frame with
/// [`close_code`](Self::close_code) and stopped reading. Close reasons sent to the peer never carry
/// these details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A frame used an opcode RFC 6455 reserves (3–7, 0xB–0xF).
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// RSV1, RSV2 or RSV3 was set without an extension that defines it.
    #[error("reserved bits set without a negotiated extension")]
    ReservedBits,
    /// A client sent an unmasked frame (§5.1: the server MUST close the connection).
    #[error("client frame not masked")]
    UnmaskedFrame,
    /// A server sent a masked frame (§5.1: the client MUST close the connection).
    #[error("server frame masked")]
    MaskedFrame,
    /// The payload length was encoded in a longer form than needed (§5.2: "the minimal number of
    /// bytes MUST be used").
    #[error("payload length not minimally encoded")]
    NonMinimalLength,
    /// A 64-bit payload length had its most significant bit set.
    #[error("payload length has the most significant bit set")]
    LengthOverflow,
    /// A control frame had FIN clear (§5.5: control frames MUST NOT be fragmented).
    #[error("fragmented control frame")]
    FragmentedControlFrame,
    /// A control frame carried more than 125 bytes.
    #[error("control frame payload of {0} bytes exceeds 125")]
    ControlFrameTooLong(u64),
    /// A continuation frame arrived with no fragmented message in progress.
    #[error("continuation frame without a message to continue")]
    UnexpectedContinuation,
    /// A new text or binary frame arrived while a fragmented message was in progress.
    #[error("new data frame inside a fragmented message")]
    ExpectedContinuation,
    /// A text message or close reason was not valid UTF-8.
    #[error("invalid UTF-8 in text")]
    InvalidUtf8,
    /// A Close frame had a 1-byte payload.
    #[error("close frame payload of 1 byte")]
    InvalidClosePayload,
    /// A Close frame carried a code that may not be sent (§7.4).
    #[error("invalid close code {0}")]
    InvalidCloseCode(u16),
    /// A frame's declared payload exceeded `max_frame_size`.
    #[error("frame of {size} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// Declared payload length.
        size: u64,
        /// Configured limit.
        max: usize,
    },
    /// A message's size would exceed `max_message_size`.
    #[error("message of at least {size} bytes exceeds the limit of {max}")]
    MessageTooLarge {
        /// Size the message would reach with the declared frame.
        size: u64,
        /// Configured limit.
        max: usize,
    },
    /// A message was split into more than `max_fragments` frames.
    #[error("message split into more than {max} fragments")]
    TooManyFragments {
        /// Configured limit.
        max: usize,
    },
    /// A compressed message could not be inflated (permessage-deflate).
    #[error("invalid compressed data")]
    InvalidCompressedData,
    /// The transport ended without a closing handshake (reported as code 1006, never sent).
    #[error("connection closed without a close frame")]
    UnexpectedEof,
    /// No frame arrived within `pong_timeout` of a keepalive ping.
    #[error("no answer to a keepalive ping")]
    PongTimeout,
    /// No frame arrived for `idle_timeout`.
    #[error("connection idle for too long")]
    IdleTimeout,
    /// The peer did not finish the closing handshake (or, for a client, end the transport) within
    /// `close_timeout`. Reported as 1006: nothing more is sent.
    #[error("the peer did not finish the closing handshake in time")]
    CloseTimeout,
}

impl ProtocolError {
    /// The close code sent to the peer for this error: 1002, 1007 or 1009 for violations, 1011 for
    /// an unanswered ping, 1001 for an idle timeout; 1006 for
    /// [`UnexpectedEof`](Self::UnexpectedEof) and [`CloseTimeout`](Self::CloseTimeout), where
    /// nothing is sent.
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::InvalidCompressedData => {
                CloseCode::INVALID_PAYLOAD
            }
            ProtocolError::FrameTooLarge { .. }
            | ProtocolError::MessageTooLarge { .. }
            | ProtocolError::TooManyFragments { .. } => CloseCode::MESSAGE_TOO_BIG,
            ProtocolError::UnexpectedEof | ProtocolError::CloseTimeout => {
                CloseCode::ABNORMAL_CLOSURE
            }
            ProtocolError::PongTimeout => CloseCode::INTERNAL_ERROR,
            ProtocolError::IdleTimeout => CloseCode::GOING_AWAY,
            ProtocolError::ReservedOpcode(_)
            | ProtocolError::ReservedBits
            | ProtocolError::UnmaskedFrame
            | ProtocolError::MaskedFrame
            | ProtocolError::NonMinimalLength
            | ProtocolError::LengthOverflow
            | ProtocolError::FragmentedControlFrame
            | ProtocolError::ControlFrameTooLong(_)
            | ProtocolError::UnexpectedContinuation
            | ProtocolError::ExpectedContinuation
            | ProtocolError::InvalidClosePayload
            | ProtocolError::InvalidCloseCode(_) => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// The application asked the connection to send something it may not; nothing was queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// A Close frame was already sent (or the connection failed): §5.5.1 forbids more data.
    #[error("the connection is closing or closed")]
    Closed,
    /// The close code may not be sent on the wire (§7.4), e.g. 1005 or 1006.
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(CloseCode),
    /// A close reason longer than 123 bytes.
    #[error("close reason of {0} bytes exceeds 123")]
    CloseReasonTooLong(usize),
    /// A ping or pong payload longer than 125 bytes.
    #[error("control frame payload of {0} bytes exceeds 125")]
    ControlPayloadTooLong(usize),
    /// A whole message was sent while a fragmented one was still unfinished.
    #[error("a fragmented message is in progress")]
    FragmentedMessageInProgress,
    /// A fragment of a different type than the message it continues.
    #[error("fragment type does not match the message in progress")]
    FragmentTypeMismatch,
    /// The send buffer is at its high-water mark ([`Config::max_send_buffer`]): write out
    /// [`bytes_to_send`](crate::Connection::bytes_to_send) and try again.
    ///
    /// [`Config::max_send_buffer`]: crate::Config::max_send_buffer
    #[error("send buffer full: {buffered} bytes queued, limit {limit}")]
    BufferFull {
        /// Bytes waiting to be written.
        buffered: usize,
        /// The configured high-water mark.
        limit: usize,
    },
}

/// Everything that can go wrong in the blocking and async adapters.
///
/// Each variant wraps the error of one layer, so a caller can tell a socket failure from a peer's
/// protocol violation (already answered with a Close frame) or its own misuse.
#[cfg(feature = "std")]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed. A `WouldBlock` from a non-blocking stream leaves the connection
    /// intact: retry when the stream is ready.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer violated the protocol; the Close frame with
    /// [`ProtocolError::close_code`] has been sent.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// The application asked for something the protocol does not allow.
    #[error("send error: {0}")]
    Send(#[from] SendError),
    /// A client's opening handshake was invalid; the error response has been sent.
    #[error("bad handshake request: {0}")]
    Handshake(#[from] crate::handshake::HandshakeError),
    /// The server's handshake response was invalid or refused the upgrade.
    #[error("handshake failed: {0}")]
    ClientHandshake(#[from] crate::handshake::ClientHandshakeError),
    /// The URL could not be used for a WebSocket connection.
    #[error("bad URL: {0}")]
    Url(#[from] crate::handshake::UrlError),
    /// A handshake message could not be built from what the application supplied.
    #[error("bad handshake parameters: {0}")]
    Build(#[from] crate::handshake::BuildError),
    /// The application rejected the request; the rejection response has been sent.
    #[error("request rejected with status {0}")]
    Rejected(u16),
    /// The connection is closed: the closing handshake finished or the transport ended. Not a
    /// failure; it ends the stream of messages.
    #[error("the connection is closed")]
    Closed,
}
