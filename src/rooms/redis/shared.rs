//! What the backplane's handle and its connection task share.

use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard, OnceLock};

use redis::aio::MultiplexedConnection;
use tokio::sync::{Notify, mpsc, watch};

use super::config::RedisConfig;
use crate::prepared::PreparedMessage;
use crate::rooms::backplane::Local;

/// A message waiting to be published to Redis: its room and itself.
pub(crate) type Outgoing = (String, PreparedMessage);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: RedisConfig,
    /// This process's name in presence entries: random, so a restarted process is a new node.
    pub(crate) node: String,
    /// Whether Redis is reachable and every local room subscribed.
    pub(crate) up: watch::Sender<bool>,
    /// Local membership changed since the last synchronisation.
    pub(crate) changed: Notify,
    /// Changes announced so far, and the count of them written to Redis: `synced` catches up
    /// with `requested` after each synchronisation.
    pub(crate) requested: AtomicU64,
    pub(crate) synced: watch::Sender<u64>,
    pub(crate) outbox: mpsc::Sender<Outgoing>,
    pub(crate) reconnects: AtomicU64,
    /// The command connection while up, for presence queries.
    pub(crate) commands: Mutex<Option<MultiplexedConnection>>,
    pub(crate) local: OnceLock<Local>,
}

impl Shared {
    pub(crate) fn commands(&self) -> MutexGuard<'_, Option<MultiplexedConnection>> {
        self.commands.lock().unwrap_or_else(|e| e.into_inner())
    }
}
