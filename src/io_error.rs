//! The adapters' error: the core's errors, the handshake's, and the transport's I/O.
#![forbid(unsafe_code)]

use crate::error::{ConnectionError, ProtocolError, SendError, Timeout};
use crate::handshake::{BuildError, ClientHandshakeError, HandshakeError, UrlError};

/// Everything that can go wrong in the blocking and async adapters.
///
/// Each variant names whose fault it is, so a caller can tell a socket failure from a peer's
/// protocol violation (already answered with a Close frame), a timer that gave up on the peer, or
/// its own misuse. `Display` says everything; no variant repeats itself through
/// [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed. A `WouldBlock` from a non-blocking stream leaves the connection
    /// intact: retry when the stream is ready.
    #[error("I/O error: {0}")]
    Io(std::io::Error),
    /// The peer violated the protocol; the Close frame with [`ProtocolError::close_code`] has been
    /// sent.
    #[error("the peer broke the protocol: {0}")]
    Protocol(ProtocolError),
    /// A timer of ours gave up on the peer (see [`Timeout`]).
    #[error("{0}")]
    Timeout(Timeout),
    /// The transport ended before the closing handshake (close code 1006).
    #[error("the transport ended without a closing handshake")]
    TransportEnded,
    /// The application asked for something the protocol does not allow.
    #[error("send error: {0}")]
    Send(SendError),
    /// A client's opening handshake was invalid; the error response has been sent.
    #[error("bad handshake request: {0}")]
    Handshake(HandshakeError),
    /// The server's handshake response was invalid or refused the upgrade.
    #[error("handshake failed: {0}")]
    ClientHandshake(ClientHandshakeError),
    /// The URL could not be used for a WebSocket connection.
    #[error("bad URL: {0}")]
    Url(UrlError),
    /// A handshake message could not be built from what the application supplied.
    #[error("bad handshake parameters: {0}")]
    Build(BuildError),
    /// The application rejected the request; the rejection response has been sent.
    #[error("request rejected with status {0}")]
    Rejected(u16),
    /// The connection is closed: the closing handshake finished or the transport ended. Not a
    /// failure; it ends the stream of messages.
    #[error("the connection is closed")]
    Closed,
}

impl From<ConnectionError> for Error {
    fn from(error: ConnectionError) -> Self {
        match error {
            ConnectionError::Protocol(error) => Error::Protocol(error),
            ConnectionError::Timeout(timeout) => Error::Timeout(timeout),
            ConnectionError::TransportEnded => Error::TransportEnded,
        }
    }
}

/// `From` for each wrapped error, without making it the `source` (its text is in `Display`).
macro_rules! wraps {
    ($($variant:ident($error:ty)),* $(,)?) => {
        $(impl From<$error> for Error {
            fn from(error: $error) -> Self {
                Error::$variant(error)
            }
        })*
    };
}

wraps!(
    Io(std::io::Error),
    Protocol(ProtocolError),
    Timeout(Timeout),
    Send(SendError),
    Handshake(HandshakeError),
    ClientHandshake(ClientHandshakeError),
    Url(UrlError),
    Build(BuildError),
);
