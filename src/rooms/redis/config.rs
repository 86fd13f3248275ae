//! What a Redis backplane connects to and how it behaves.

use std::time::Duration;

use super::error::RedisBackplaneError;

/// The settings of a [`RedisBackplane`](super::RedisBackplane).
///
/// ```
/// use std::time::Duration;
/// use rfc6455::rooms::redis::RedisConfig;
///
/// let config = RedisConfig::new("redis://127.0.0.1:6379")?
///     .prefix("chat:")
///     .presence_ttl(Duration::from_secs(15));
/// # Ok::<(), rfc6455::rooms::redis::RedisBackplaneError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RedisConfig {
    pub(crate) client: redis::Client,
    pub(crate) prefix: String,
    pub(crate) presence_ttl: Duration,
    pub(crate) backoff_min: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) queue_capacity: usize,
    pub(crate) command_timeout: Duration,
}

impl RedisConfig {
    /// Settings for the Redis at `url` (`redis://host:port[/db]`), with the defaults below.
    ///
    /// # Errors
    ///
    /// [`RedisBackplaneError::Url`] if `url` is not a Redis URL.
    pub fn new(url: &str) -> Result<Self, RedisBackplaneError> {
        Ok(Self {
            client: redis::Client::open(url).map_err(RedisBackplaneError::Url)?,
            prefix: "rfc6455:".to_owned(),
            presence_ttl: Duration::from_secs(10),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            queue_capacity: 4096,
            command_timeout: Duration::from_secs(2),
        })
    }

    /// What every channel and key name starts with (default `rfc6455:`): applications sharing
    /// one Redis keep apart by choosing different prefixes.
    #[must_use]
    pub fn prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.prefix);
        self
    }

    /// How long a process's presence entries outlive its last refresh (default 10 s); entries
    /// are refreshed every third of it, so a process that dies leaves every room's presence
    /// within this time.
    #[must_use]
    pub fn presence_ttl(mut self, ttl: Duration) -> Self {
        self.presence_ttl = ttl.max(Duration::from_millis(30));
        self
    }

    /// The reconnection delays (default 100 ms doubling up to 5 s), each drawn uniformly below
    /// its ceiling.
    #[must_use]
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff_min = min;
        self.backoff_max = max;
        self
    }

    /// Messages that may wait to be sent to Redis (default 4096); past it a publish is
    /// [`Relay::Refused`](crate::rooms::Relay::Refused).
    #[must_use]
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// How long connecting or a command may take before Redis counts as unreachable (default
    /// 2 s).
    #[must_use]
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }
}
