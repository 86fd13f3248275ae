//! The core's errors, split by whose fault they are.
//!
//! [`ConnectionError`] ends a connection: the peer broke the protocol ([`ProtocolError`], with the
//! close code that failed the connection, RFC 6455 §7.1.7), one of our timers gave up on the peer
//! ([`Timeout`]), or the transport ended without a closing handshake. [`SendError`]: the local
//! application asked for something the protocol does not allow; nothing is sent to the peer.
#![forbid(unsafe_code)]

use crate::close::CloseCode;

/// The peer violated RFC 6455 or a configured limit; the connection has been failed.
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
}

impl ProtocolError {
    /// The close code sent to the peer for this error: 1007 for invalid text or compressed data,
    /// 1009 for a limit, 1002 for the rest.
    pub fn close_code(&self) -> CloseCode {
        match self {
            ProtocolError::InvalidUtf8 | ProtocolError::InvalidCompressedData => {
                CloseCode::INVALID_PAYLOAD
            }
            ProtocolError::FrameTooLarge { .. }
            | ProtocolError::MessageTooLarge { .. }
            | ProtocolError::TooManyFragments { .. } => CloseCode::MESSAGE_TOO_BIG,
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
}

/// Why a connection ended other than by a completed closing handshake. Returned once by
/// [`Connection::poll_recv`](crate::Connection::poll_recv); the connection is then closing or
/// closed, and [`Connection::transport`](crate::Connection::transport) says what to do with the
/// transport.
///
/// Each variant says whose fault it is: the peer's ([`Protocol`](Self::Protocol)), a timer of
/// ours that gave up on the peer ([`Timeout`](Self::Timeout)), or the transport's
/// ([`TransportEnded`](Self::TransportEnded)). The application's own mistakes are
/// [`SendError`]s and never end the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The peer broke the protocol; a Close frame with
    /// [`ProtocolError::close_code`] was queued.
    #[error("the peer broke the protocol: {0}")]
    Protocol(ProtocolError),
    /// A timer of ours gave up waiting for the peer.
    #[error("{0}")]
    Timeout(Timeout),
    /// The transport ended before the closing handshake (reported as code 1006, never sent).
    #[error("the transport ended without a closing handshake")]
    TransportEnded,
}

impl ConnectionError {
    /// The close code this error stands for: the one sent to the peer, or 1006 (never sent) where
    /// nothing could be sent.
    ///
    /// ```
    /// use rfc6455::{CloseCode, ConnectionError, ProtocolError, Timeout};
    ///
    /// assert_eq!(ConnectionError::Protocol(ProtocolError::InvalidUtf8).close_code(), CloseCode::INVALID_PAYLOAD);
    /// assert_eq!(ConnectionError::Timeout(Timeout::Keepalive).close_code(), CloseCode::INTERNAL_ERROR);
    /// assert_eq!(ConnectionError::TransportEnded.close_code(), CloseCode::ABNORMAL_CLOSURE);
    /// ```
    pub fn close_code(&self) -> CloseCode {
        match self {
            ConnectionError::Protocol(error) => error.close_code(),
            ConnectionError::Timeout(timeout) => timeout.close_code(),
            ConnectionError::TransportEnded => CloseCode::ABNORMAL_CLOSURE,
        }
    }
}

impl From<ProtocolError> for ConnectionError {
    fn from(error: ProtocolError) -> Self {
        ConnectionError::Protocol(error)
    }
}

impl From<Timeout> for ConnectionError {
    fn from(timeout: Timeout) -> Self {
        ConnectionError::Timeout(timeout)
    }
}

/// Which of the connection's timers ([`Config`](crate::Config)) gave up on the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Timeout {
    /// No frame arrived within `pong_timeout` of a keepalive Ping; Close 1011 was sent, with
    /// that reason.
    #[error("no answer to a keepalive ping")]
    Keepalive,
    /// No frame arrived for `idle_timeout`; Close 1001 was sent, with that reason.
    #[error("connection idle for too long")]
    Idle,
    /// The peer did not finish the closing handshake (or, for a client, end the transport)
    /// within `close_timeout`. Nothing more is sent (1006).
    #[error("the peer did not finish the closing handshake in time")]
    Close,
}

impl Timeout {
    /// The close code sent for this timeout: 1011 for keepalive, 1001 for idle, 1006 (nothing
    /// sent) for the close timer.
    pub fn close_code(self) -> CloseCode {
        match self {
            Timeout::Keepalive => CloseCode::INTERNAL_ERROR,
            Timeout::Idle => CloseCode::GOING_AWAY,
            Timeout::Close => CloseCode::ABNORMAL_CLOSURE,
        }
    }

    /// The reason sent with the Close frame, so that the peer can show why it was dropped.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Timeout::Keepalive => "keepalive timeout",
            Timeout::Idle => "idle timeout",
            Timeout::Close => "",
        }
    }
}
