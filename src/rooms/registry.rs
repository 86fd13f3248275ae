//! The public face of the rooms: attaching connections, publishing and presence.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::backplane::{Backplane, Local, LocalRooms};
use super::entry::{MemberId, Presence};
use super::index::Index;
use super::member::Member;
use super::published::Published;
use super::stats::RoomStats;
use crate::prepared::PreparedMessage;
use crate::tokio::WebSocketWriter;

/// Messages a member may have queued before it counts as falling behind, unless
/// [`Rooms::with_queue_capacity`] says otherwise.
pub const DEFAULT_QUEUE_CAPACITY: usize = 256;

/// Named rooms of members; cloning shares the registry.
///
/// See the [module documentation](super) for the delivery guarantees and an example.
#[derive(Debug, Clone)]
pub struct Rooms {
    index: Arc<Index>,
}

impl Default for Rooms {
    fn default() -> Self {
        Self::new()
    }
}

impl Rooms {
    /// An empty registry whose members may queue [`DEFAULT_QUEUE_CAPACITY`] messages.
    #[must_use]
    pub fn new() -> Self {
        Self::with_queue_capacity(DEFAULT_QUEUE_CAPACITY)
    }

    /// An empty registry whose members may queue `capacity` messages (at least one) before
    /// they are evicted as falling behind.
    #[must_use]
    pub fn with_queue_capacity(capacity: usize) -> Self {
        Self {
            index: Arc::new(Index::new(capacity)),
        }
    }

    /// An empty registry whose members may queue `capacity` messages, publishing through
    /// `backplane` so that members in other processes get the messages too (see
    /// [`Backplane`]). Must be called within a tokio runtime if the backplane spawns a task.
    #[must_use]
    pub fn with_backplane(capacity: usize, backplane: impl Backplane) -> Self {
        let index = Arc::new(Index::new(capacity));
        let weak: std::sync::Weak<Index> = Arc::downgrade(&index);
        let local: std::sync::Weak<dyn LocalRooms> = weak;
        backplane.start(Local::new(local));
        // The index is new and shared with nobody: the cell is empty.
        let _ = index.backplane.set(Box::new(backplane));
        Self { index }
    }

    /// Makes the writing half of a connection a member, in no room yet, and spawns the task
    /// that writes to it while its socket would block (and, for the first member, the
    /// registry's flushing task; so this must be called within a tokio runtime). `name` is what
    /// [`presence`](Self::presence) reports.
    pub fn attach<S>(&self, writer: WebSocketWriter<S>, name: &str) -> Member
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let id = self.index.next_id();
        Member::attach(Arc::clone(&self.index), id, Arc::from(name), writer)
    }

    /// Queues `message` for every member of `room`; its bytes are shared, not copied. Members
    /// whose queue is full are evicted (see the [module documentation](super)). A room with no
    /// members delivers to none. With a backplane, the message goes through the broker and
    /// reaches every process's members, this one's included, when it comes back; see
    /// [`Published::relay`] for what happened to it.
    pub fn publish(&self, room: &str, message: &PreparedMessage) -> Published {
        self.index.publish(room, message)
    }

    /// Who is in `room`, in the order they joined.
    #[must_use]
    pub fn presence(&self, room: &str) -> Vec<Presence> {
        self.index.presence(room)
    }

    /// How many members `room` has.
    #[must_use]
    pub fn len(&self, room: &str) -> usize {
        self.index.len(room)
    }

    /// Whether `member` is in `room`.
    #[must_use]
    pub fn contains(&self, room: &str, member: MemberId) -> bool {
        self.index.contains(room, member)
    }

    /// The rooms that have members, sorted by name.
    #[must_use]
    pub fn rooms(&self) -> Vec<String> {
        self.index.rooms()
    }

    /// What this registry has done so far.
    #[must_use]
    pub fn stats(&self) -> RoomStats {
        self.index.counters.snapshot()
    }
}
