//! What goes wrong with the Redis backplane, and whose fault it is.

use std::time::Duration;

/// A failure of the Redis backplane.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisBackplaneError {
    /// The URL given to [`RedisConfig::new`](super::RedisConfig::new) is not a Redis URL: the
    /// caller's fault.
    #[error("not a Redis URL (the caller's): {0}")]
    Url(#[source] redis::RedisError),
    /// Redis refused a command or the connection to it failed: the server's or the network's.
    #[error("Redis failed (the server or the network): {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis did not answer in time: the server's or the network's.
    #[error("Redis did not answer within {0:?} (the server or the network)")]
    Timeout(Duration),
    /// Redis closed the subscription connection: the server's or the network's.
    #[error("Redis closed the connection (the server or the network)")]
    ConnectionLost,
    /// The backplane is between connections to Redis and cannot answer a query now.
    #[error("not connected to Redis at present; the backplane is reconnecting")]
    Disconnected,
}
