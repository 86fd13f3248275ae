//! A client that reconnects by itself (feature `tokio`), with exponential backoff and full
//! jitter.
//!
//! RFC 6455 §7.2.3 asks exactly this of clients: "To avoid a flood of reconnection attempts
//! [...] when a server goes down, clients SHOULD use some form of backoff when trying to
//! reconnect. [...] The first reconnect attempt SHOULD be delayed by a random amount of time."
//!
//! [`ReconnectingClient`] holds at most one connection. When it drops (an I/O error, a protocol
//! error, the server's Close or the end of the stream), the next [`recv`](ReconnectingClient::recv)
//! or [`send`](ReconnectingClient::send) reconnects: before attempt *n* (from 0) of a round it
//! sleeps a random time in `[0, min(max, initial × factor^n)]` ("full jitter"), until an attempt
//! succeeds or the round's cap ([`Backoff::max_attempts`], [`Backoff::max_elapsed`]) is reached.
//! After each successful (re)connection the [`on_connect`](ReconnectingClient::on_connect) hook
//! runs, so the application can authenticate, re-subscribe or rejoin before any message flows.
//!
//! Delivery is at most once: a message handed to `send` while the connection is failing may be
//! lost, and messages sent while disconnected are not queued. Re-send what matters from the hook.
//!
//! ```no_run
//! use rfc6455::connector::Connector;
//! use rfc6455::handshake::ClientRequest;
//! use rfc6455::reconnect::{Backoff, ReconnectingClient};
//!
//! # async fn run() -> Result<(), rfc6455::Error> {
//! let request = ClientRequest::new("wss://example.com/feed")?.header("Authorization", "Bearer 0123");
//! let mut client = ReconnectingClient::new(Connector::new(), request)
//!     .backoff(Backoff::default())
//!     .on_connect(|ws| Box::pin(async move { ws.send_text(r#"{"subscribe":"prices"}"#).await }));
//! loop {
//!     let message = client.recv().await?; // Err only once reconnecting gave up
//!     println!("{message:?}");
//! }
//! # }
//! ```
#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use rand_chacha::ChaCha12Rng;
use rand_core::{RngCore, SeedableRng};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::close::CloseCode;
use crate::connector::{Connector, MaybeTlsStream};
use crate::handshake::{ClientRequest, UpgradeResponse};
use crate::io_error::Error;
use crate::message::Message;
use crate::tokio::WebSocket;

/// A boxed, sendable future, as the connect function and the hook return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// When to retry: exponential backoff with full jitter, and when to give up.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use rfc6455::reconnect::Backoff;
///
/// let backoff = Backoff::default()
///     .initial(Duration::from_millis(100))
///     .max(Duration::from_secs(10))
///     .max_attempts(Some(8));
/// // The delay before attempt n is drawn from [0, ceiling(n)].
/// assert_eq!(backoff.ceiling(0), Duration::from_millis(100));
/// assert_eq!(backoff.ceiling(3), Duration::from_millis(800));
/// assert_eq!(backoff.ceiling(20), Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    /// Ceiling of the first delay. Default 1 s.
    pub initial: Duration,
    /// How much the ceiling grows per attempt. Default 2.
    pub factor: f64,
    /// Largest ceiling. Default 30 s.
    pub max: Duration,
    /// Attempts per round (a round starts when a connection drops) before giving up. Default
    /// `None`: never give up.
    pub max_attempts: Option<u32>,
    /// Time per round before giving up: no attempt starts later than this after the round
    /// began. Default `None`.
    pub max_elapsed: Option<Duration>,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            factor: 2.0,
            max: Duration::from_secs(30),
            max_attempts: None,
            max_elapsed: None,
        }
    }
}

impl Backoff {
    /// Sets [`initial`](Self::initial).
    pub fn initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// Sets [`factor`](Self::factor).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Sets [`max`](Self::max).
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// Sets [`max_attempts`](Self::max_attempts).
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets [`max_elapsed`](Self::max_elapsed).
    pub fn max_elapsed(mut self, elapsed: Option<Duration>) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// The largest delay before attempt `attempt` (from 0): `min(max, initial × factor^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exponent = i32::try_from(attempt).unwrap_or(i32::MAX);
        let scaled = self.initial.as_secs_f64() * self.factor.max(1.0).powi(exponent);
        // A NaN or infinite product (a huge exponent) saturates at `max`.
        Duration::try_from_secs_f64(scaled).map_or(self.max, |ceiling| ceiling.min(self.max))
    }

    /// A delay drawn uniformly from `[0, ceiling(attempt)]` with `random` bits.
    fn jittered(&self, attempt: u32, random: u64) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_nanos()).unwrap_or(u64::MAX);
        // Multiply-shift maps 64 random bits onto [0, ceiling] without a division.
        let nanos = (u128::from(random) * (u128::from(ceiling) + 1)) >> 64;
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(ceiling))
    }
}

type ConnectFn<S> =
    Box<dyn FnMut() -> BoxFuture<'static, Result<(WebSocket<S>, UpgradeResponse), Error>> + Send>;
type HookFn<S> =
    Box<dyn for<'a> FnMut(&'a mut WebSocket<S>) -> BoxFuture<'a, Result<(), Error>> + Send>;

/// A WebSocket client that reconnects when its connection drops; see the [module docs](self).
///
/// # Example
///
/// ```no_run
/// use std::time::Duration;
/// use rfc6455::reconnect::{Backoff, ReconnectingClient};
///
/// # async fn run() -> Result<(), rfc6455::Error> {
/// let mut client = ReconnectingClient::connect("ws://127.0.0.1:9001/")?
///     // Give up after a minute without a connection.
///     .backoff(Backoff::default().max_elapsed(Some(Duration::from_secs(60))));
/// client.send_text("hello").await?;
/// while let Ok(message) = client.recv().await {
///     println!("{message:?} (connection #{})", client.connections());
/// }
/// # Ok(()) }
/// ```
pub struct ReconnectingClient<S> {
    connect: ConnectFn<S>,
    hook: Option<HookFn<S>>,
    backoff: Backoff,
    rng: ChaCha12Rng,
    ws: Option<WebSocket<S>>,
    response: Option<UpgradeResponse>,
    /// Set by `close`: the application is done, never reconnect.
    stopped: bool,
    /// A connection has been open before, so the next attempt is a reconnection and waits.
    connected_before: bool,
    connections: u64,
}

impl<S> fmt::Debug for ReconnectingClient<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconnectingClient")
            .field("backoff", &self.backoff)
            .field("connected", &self.ws.is_some())
            .field("stopped", &self.stopped)
            .field("connections", &self.connections)
            .finish_non_exhaustive()
    }
}

impl ReconnectingClient<MaybeTlsStream> {
    /// A client that opens `request` with `connector` (its timeout, configuration and TLS
    /// settings apply to every attempt). Nothing connects until the first `recv` or `send`.
    pub fn new(connector: Connector, request: ClientRequest) -> Self {
        Self::with_connect(move || {
            let connector = connector.clone();
            let request = request.clone();
            async move { connector.connect_request(&request).await }
        })
    }

    /// [`new`](Self::new) with a default [`Connector`] for `url`.
    pub fn connect(url: &str) -> Result<Self, Error> {
        Ok(Self::new(Connector::new(), ClientRequest::new(url)?))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> ReconnectingClient<S> {
    /// A client whose attempts call `connect`: for any stream, or to pick a different server per
    /// attempt.
    ///
    /// ```no_run
    /// use rfc6455::Config;
    /// use rfc6455::handshake::ClientRequest;
    /// use rfc6455::reconnect::ReconnectingClient;
    ///
    /// let mut client = ReconnectingClient::with_connect(|| async {
    ///     let request = ClientRequest::new("ws://127.0.0.1:9001/")?;
    ///     let tcp = tokio::net::TcpStream::connect(("127.0.0.1", 9001)).await?;
    ///     rfc6455::tokio::WebSocket::client(tcp, &request, Config::default()).await
    /// });
    /// ```
    pub fn with_connect<C, F>(mut connect: C) -> Self
    where
        C: FnMut() -> F + Send + 'static,
        F: Future<Output = Result<(WebSocket<S>, UpgradeResponse), Error>> + Send + 'static,
    {
        let mut seed = [0u8; 32];
        // Jitter only spreads clients apart; if the OS has no randomness to give, a fixed seed
        // still yields delays within the bounds.
        let _ = getrandom::fill(&mut seed);
        Self {
            connect: Box::new(move || Box::pin(connect())),
            hook: None,
            backoff: Backoff::default(),
            rng: ChaCha12Rng::from_seed(seed),
            ws: None,
            response: None,
            stopped: false,
            connected_before: false,
            connections: 0,
        }
    }

    /// Sets the backoff.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Seeds the jitter's random generator, so that tests see the same delays every run.
    pub fn jitter_seed(mut self, seed: [u8; 32]) -> Self {
        self.rng = ChaCha12Rng::from_seed(seed);
        self
    }

    /// Runs `hook` on each new connection before it is used, e.g. to subscribe again. An error
    /// from the hook counts as a failed attempt: the connection is dropped and the backoff goes
    /// on.
    ///
    /// ```no_run
    /// # let client = rfc6455::reconnect::ReconnectingClient::connect("ws://127.0.0.1:9001/")?;
    /// let client = client.on_connect(|ws| {
    ///     Box::pin(async move {
    ///         ws.send_text("subscribe prices").await?;
    ///         Ok(())
    ///     })
    /// });
    /// # Ok::<(), rfc6455::Error>(())
    /// ```
    pub fn on_connect<H>(mut self, hook: H) -> Self
    where
        H: for<'a> FnMut(&'a mut WebSocket<S>) -> BoxFuture<'a, Result<(), Error>> + Send + 'static,
    {
        self.hook = Some(Box::new(hook));
        self
    }

    /// The next message, reconnecting first if the connection dropped.
    ///
    /// The server's Close is returned as [`Message::Close`]; the connection then ends and the
    /// next call reconnects. Fails with the last attempt's error when a round of attempts gave
    /// up (a later call starts a new round), and with [`Error::Closed`] after
    /// [`close`](Self::close).
    pub async fn recv(&mut self) -> Result<Message, Error> {
        loop {
            let ws = self.connected().await?;
            match ws.recv().await {
                Ok(message) => return Ok(message),
                Err(error) if self.stopped => {
                    self.ws = None;
                    return Err(error);
                }
                // Dropped: reconnect on the next turn.
                Err(_) => self.ws = None,
            }
        }
    }

    /// Sends a message, connecting first if there is no connection. If sending fails, the
    /// connection is dropped and the error returned: the message may not have arrived.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        let result = self.connected().await?.send(message).await;
        if result.is_err() {
            self.ws = None;
        }
        result
    }

    /// Sends a text message; see [`send`](Self::send).
    pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send(Message::text(text)).await
    }

    /// Starts the closing handshake and stops reconnecting for good; keep calling
    /// [`recv`](Self::recv) until [`Error::Closed`] to finish it.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.stopped = true;
        match &mut self.ws {
            Some(ws) => ws.close(code, reason).await,
            None => Ok(()),
        }
    }

    /// The current connection, if one is open.
    pub fn websocket(&mut self) -> Option<&mut WebSocket<S>> {
        self.ws.as_mut()
    }

    /// The server's response to the last successful handshake.
    pub fn response(&self) -> Option<&UpgradeResponse> {
        self.response.as_ref()
    }

    /// How many connections have been opened (and passed the hook) so far.
    pub fn connections(&self) -> u64 {
        self.connections
    }

    /// The open connection, after connecting if needed.
    async fn connected(&mut self) -> Result<&mut WebSocket<S>, Error> {
        if self.ws.is_none() {
            if self.stopped {
                return Err(Error::Closed);
            }
            self.reconnect().await?;
        }
        // Just set by `reconnect`.
        self.ws.as_mut().ok_or(Error::Closed)
    }

    /// One round of attempts.
    async fn reconnect(&mut self) -> Result<(), Error> {
        let started = tokio::time::Instant::now();
        let mut last_error = None;
        for attempt in 0u32.. {
            if self.backoff.max_attempts.is_some_and(|max| attempt >= max) {
                break;
            }
            // The very first connection goes at once; every later attempt waits, the first one
            // of a round too (§7.2.3), so that clients dropped together come back apart.
            if attempt > 0 || self.connected_before {
                let delay = self.backoff.jittered(attempt, self.rng.next_u64());
                let elapsed = started.elapsed() + delay;
                if self.backoff.max_elapsed.is_some_and(|max| elapsed > max) {
                    break;
                }
                tokio::time::sleep(delay).await;
            }
            match self.attempt().await {
                Ok(()) => return Ok(()),
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            // A cap of zero attempts, or a time cap shorter than the first delay.
            io::Error::new(io::ErrorKind::TimedOut, "the backoff allowed no attempt").into()
        }))
    }

    async fn attempt(&mut self) -> Result<(), Error> {
        let (mut ws, response) = (self.connect)().await?;
        if let Some(hook) = &mut self.hook {
            hook(&mut ws).await?;
        }
        self.ws = Some(ws);
        self.response = Some(response);
        self.connected_before = true;
        self.connections += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_grow_then_saturate() {
        let backoff = Backoff::default();
        let ceilings: Vec<u64> = (0..8).map(|n| backoff.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(30));
        // A factor below 1 would shrink the delays; it is taken as 1.
        assert_eq!(backoff.factor(0.5).ceiling(5), Duration::from_secs(1));
    }

    #[test]
    fn jitter_covers_the_whole_range_and_stays_in_it() {
        let backoff = Backoff::default();
        assert_eq!(backoff.jittered(2, 0), Duration::ZERO);
        assert_eq!(backoff.jittered(2, u64::MAX), Duration::from_secs(4));
        let mut rng = ChaCha12Rng::from_seed([1; 32]);
        for attempt in 0..10 {
            let delay = backoff.jittered(attempt, rng.next_u64());
            assert!(delay <= backoff.ceiling(attempt));
        }
    }
}
