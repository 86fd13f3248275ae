//! Redis as the backplane of [`Rooms`](super::Rooms) spread over many processes (feature
//! `redis`).
//!
//! Each process subscribes to the channel of every room that has members in it, and
//! unsubscribes when the last one leaves. A publish goes to Redis, and every subscribed process,
//! the publisher's included, queues what comes back for its own members.
//!
//! # Guarantees
//!
//! - **While Redis is up**, every member of a room, on every process, gets each message
//!   published to the room once, in the order Redis received them, which for one publishing
//!   process is the order of its `publish` calls. A member gets the messages published after
//!   its process's subscription to the room is in place: a room's first local member may miss
//!   what is published in the moment before.
//! - **While Redis is down or unreachable** (connection refused, closed, or a command taking
//!   longer than [`RedisConfig::command_timeout`]), [`Rooms::publish`](super::Rooms::publish)
//!   delivers to this process's members only and says so
//!   ([`Relay::LocalOnly`]), counting the message in
//!   [`RoomStats::local_only`](super::RoomStats::local_only). Nothing is stored for later:
//!   other processes' members never get it, and no queue grows during an outage. Messages
//!   already handed to Redis's connection when it failed are treated the same way. The
//!   backplane reconnects with exponential backoff and full jitter, resubscribes every local
//!   room and rewrites its presence; messages then flow between processes again.
//! - **When Redis cannot keep up**, at most [`RedisConfig::queue_capacity`] messages wait for
//!   it; past that a publish is refused ([`Relay::Refused`], counted in
//!   [`RoomStats::refused`](super::RoomStats::refused)) and goes nowhere.
//! - **Presence** spans processes: [`RedisBackplane::presence`] lists every member of a room on
//!   every process. A process refreshes its entries every third of
//!   [`RedisConfig::presence_ttl`]; one that dies (or loses Redis) drops out of the others'
//!   presence within that time.
//!
//! # Example
//!
//! ```no_run
//! use rfc6455::PreparedMessage;
//! use rfc6455::rooms::redis::{RedisBackplane, RedisConfig};
//! use rfc6455::rooms::{DEFAULT_QUEUE_CAPACITY, Rooms};
//!
//! # async fn run() -> Result<(), rfc6455::rooms::redis::RedisBackplaneError> {
//! let backplane = RedisBackplane::new(RedisConfig::new("redis://127.0.0.1:6379")?);
//! let rooms = Rooms::with_backplane(DEFAULT_QUEUE_CAPACITY, backplane.clone());
//! backplane.connected().await;
//! // Members attach and join as without a backplane; this reaches those of every process.
//! rooms.publish("lobby", &PreparedMessage::text("hello, everyone"));
//! for member in backplane.presence("lobby").await? {
//!     println!("{} on {}", member.name, member.node);
//! }
//! # Ok(()) }
//! ```

mod backoff;
mod config;
mod error;
mod session;
mod shared;
mod wire;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use redis::AsyncCommands;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

pub use config::RedisConfig;
pub use error::RedisBackplaneError;
use shared::{Outgoing, Shared};

use super::backplane::{Backplane, Local};
use super::published::Relay;
use crate::prepared::PreparedMessage;

/// A member of a room on some process, as Redis knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotePresence {
    /// The process's node id ([`RedisBackplane::node`]).
    pub node: String,
    /// The member's id in its process.
    pub id: u64,
    /// The member's name.
    pub name: String,
}

/// Redis pub/sub as the [`Backplane`] of a [`Rooms`](super::Rooms) registry; cloning shares it.
///
/// Give a clone to [`Rooms::with_backplane`](super::Rooms::with_backplane) and keep one for
/// [`presence`](Self::presence) and the connection state. The connection task stops when the
/// rooms and every clone are dropped; presence entries then expire as for a process that died.
#[derive(Debug, Clone)]
pub struct RedisBackplane {
    shared: Arc<Shared>,
    task: Arc<Task>,
}

/// The connection task; dropping the last handle stops it.
#[derive(Debug)]
struct Task {
    handle: Mutex<Option<JoinHandle<()>>>,
    outbox: Mutex<Option<mpsc::Receiver<Outgoing>>>,
}

impl Drop for Task {
    fn drop(&mut self) {
        let handle = self.handle.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(handle) = handle.take() {
            handle.abort();
        }
    }
}

impl RedisBackplane {
    /// A backplane for `config`; it connects once given to
    /// [`Rooms::with_backplane`](super::Rooms::with_backplane).
    #[must_use]
    pub fn new(config: RedisConfig) -> Self {
        let (outbox, receiver) = mpsc::channel(config.queue_capacity);
        let node = format!("{:016x}", getrandom::u64().unwrap_or_else(|_| now_nanos()));
        Self {
            shared: Arc::new(Shared {
                config,
                node,
                up: watch::channel(false).0,
                changed: Notify::new(),
                requested: AtomicU64::new(0),
                synced: watch::channel(0).0,
                outbox,
                reconnects: AtomicU64::new(0),
                commands: Mutex::new(None),
                local: OnceLock::new(),
            }),
            task: Arc::new(Task {
                handle: Mutex::new(None),
                outbox: Mutex::new(Some(receiver)),
            }),
        }
    }

    /// This process's node id in presence entries, random per backplane.
    #[must_use]
    pub fn node(&self) -> &str {
        &self.shared.node
    }

    /// Whether Redis is reachable and every local room subscribed.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        *self.shared.up.borrow()
    }

    /// Resolves once Redis is reachable and every local room subscribed.
    pub async fn connected(&self) {
        self.wait_for(true).await;
    }

    /// Resolves once the connection to Redis is lost.
    pub async fn disconnected(&self) {
        self.wait_for(false).await;
    }

    async fn wait_for(&self, up: bool) {
        let mut state = self.shared.up.subscribe();
        // The sender lives in `self.shared`: waiting cannot fail.
        let _ = state.wait_for(|state| *state == up).await;
    }

    /// Resolves once every join and leave made before the call is in Redis: the process is
    /// subscribed to the rooms it has members in, and presence lists them. Waits through an
    /// outage.
    pub async fn synced(&self) {
        let target = self.shared.requested.load(Ordering::Acquire);
        let mut synced = self.shared.synced.subscribe();
        // The sender lives in `self.shared`: waiting cannot fail.
        let _ = synced.wait_for(|synced| *synced >= target).await;
    }

    /// How many times the backplane connected again after losing Redis.
    #[must_use]
    pub fn reconnects(&self) -> u64 {
        self.shared.reconnects.load(Ordering::Relaxed)
    }

    /// Every member of `room` on every process, by node and then join order within a node.
    ///
    /// # Errors
    ///
    /// [`RedisBackplaneError::Disconnected`] while Redis is down; a Redis failure or timeout.
    pub async fn presence(&self, room: &str) -> Result<Vec<RemotePresence>, RedisBackplaneError> {
        let Some(mut conn) = self.shared.commands().clone() else {
            return Err(RedisBackplaneError::Disconnected);
        };
        let key = wire::presence_key(&self.shared.config.prefix, room);
        let limit = self.shared.config.command_timeout;
        let entries: Vec<String> =
            tokio::time::timeout(limit, conn.zrangebyscore(&key, session::now_ms(), "+inf"))
                .await
                .map_err(|_| RedisBackplaneError::Timeout(limit))??;
        let mut members: Vec<RemotePresence> = entries
            .iter()
            .filter_map(|entry| wire::parse_presence_entry(entry))
            .map(|(node, id, name)| RemotePresence {
                node: node.to_owned(),
                id,
                name: name.to_owned(),
            })
            .collect();
        members.sort_by(|a, b| (&a.node, a.id).cmp(&(&b.node, b.id)));
        Ok(members)
    }
}

impl Backplane for RedisBackplane {
    fn start(&self, local: Local) {
        let receiver = self
            .task
            .outbox
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        // A second start (the backplane given to two registries) has no receiver: it is refused
        // by doing nothing, the first registry keeping the connection.
        let Some(receiver) = receiver else { return };
        if self.shared.local.set(local).is_err() {
            return;
        }
        let handle = tokio::spawn(session::run(Arc::clone(&self.shared), receiver));
        *self.task.handle.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
    }

    fn changed(&self) {
        self.shared.requested.fetch_add(1, Ordering::AcqRel);
        self.shared.changed.notify_one();
    }

    fn publish(&self, room: &str, message: &PreparedMessage) -> Relay {
        if !self.is_connected() {
            return Relay::LocalOnly;
        }
        match self
            .shared
            .outbox
            .try_send((room.to_owned(), message.clone()))
        {
            Ok(()) => Relay::Relayed,
            Err(mpsc::error::TrySendError::Full(_)) => Relay::Refused,
            Err(mpsc::error::TrySendError::Closed(_)) => Relay::LocalOnly,
        }
    }
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishes_past_the_queue_are_refused_and_none_are_taken_while_down() {
        let config = RedisConfig::new("redis://127.0.0.1:1/")
            .unwrap()
            .queue_capacity(2);
        let backplane = RedisBackplane::new(config);
        let message = PreparedMessage::text("x");
        // No connection yet: Redis counts as down.
        assert_eq!(backplane.publish("r", &message), Relay::LocalOnly);
        backplane.shared.up.send_replace(true);
        assert_eq!(backplane.publish("r", &message), Relay::Relayed);
        assert_eq!(backplane.publish("r", &message), Relay::Relayed);
        assert_eq!(backplane.publish("r", &message), Relay::Refused);
    }
}
