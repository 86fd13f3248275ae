//! The seam between the rooms of one process and a broker that carries messages between
//! processes (Redis, NATS, ...).

use std::fmt;
use std::sync::Weak;

use super::entry::Presence;
use super::published::{Published, Relay};
use crate::prepared::PreparedMessage;

/// A broker that carries what is published to a room to every process with members in it.
///
/// [`Rooms::with_backplane`](super::Rooms::with_backplane) calls [`start`](Self::start) once,
/// with the [`Local`] side it delivers to. From then on the rooms call
/// [`publish`](Self::publish) for every message and [`changed`](Self::changed) whenever their
/// local membership changes; the backplane subscribes to the rooms that have local members
/// ([`Local::rooms`]), delivers what arrives for them with [`Local::deliver`], and may publish
/// presence ([`Local::presence`]) for other processes. Every method is called with no lock held
/// and must not block: do the I/O in a task of the backplane's own.
pub trait Backplane: Send + Sync + fmt::Debug + 'static {
    /// Begins work for these rooms.
    fn start(&self, local: Local);

    /// Local membership changed (a room gained its first or lost its last member, or a member
    /// joined or left): resynchronise subscriptions and presence soon.
    fn changed(&self);

    /// Carries `message` to every process subscribed to `room`, this one included. Returns
    /// [`Relay::Relayed`] when it will, [`Relay::LocalOnly`] when the broker is unreachable
    /// (the rooms then deliver it to local members only) and [`Relay::Refused`] when the
    /// backplane cannot take more now.
    fn publish(&self, room: &str, message: &PreparedMessage) -> Relay;
}

/// What the rooms of this process offer their backplane; a backplane outliving its rooms finds
/// them gone (`None`, empty lists).
#[derive(Clone)]
pub struct Local {
    rooms: Weak<dyn LocalRooms>,
}

impl fmt::Debug for Local {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local")
            .field("alive", &(self.rooms.strong_count() > 0))
            .finish()
    }
}

/// The rooms' side of [`Local`], so that this file need not know the registry's type.
pub(crate) trait LocalRooms: Send + Sync {
    fn deliver(&self, room: &str, message: &PreparedMessage) -> Published;
    fn deliver_local_only(&self, room: &str, message: &PreparedMessage) -> Published;
    fn rooms(&self) -> Vec<String>;
    fn presence(&self, room: &str) -> Vec<Presence>;
}

impl Local {
    pub(crate) fn new(rooms: Weak<dyn LocalRooms>) -> Self {
        Self { rooms }
    }

    /// Queues a message that came from the broker for this process's members of `room`;
    /// `None` once the rooms are gone.
    pub fn deliver(&self, room: &str, message: &PreparedMessage) -> Option<Published> {
        Some(self.rooms.upgrade()?.deliver(room, message))
    }

    /// Queues a message the backplane took but could not carry (the broker went away with it)
    /// for this process's members of `room` only, counting it in
    /// [`RoomStats::local_only`](super::RoomStats::local_only); `None` once the rooms are gone.
    pub fn deliver_local_only(&self, room: &str, message: &PreparedMessage) -> Option<Published> {
        Some(self.rooms.upgrade()?.deliver_local_only(room, message))
    }

    /// The rooms that have members in this process, sorted by name.
    #[must_use]
    pub fn rooms(&self) -> Vec<String> {
        self.rooms
            .upgrade()
            .map_or_else(Vec::new, |rooms| rooms.rooms())
    }

    /// This process's members of `room`, in join order.
    #[must_use]
    pub fn presence(&self, room: &str) -> Vec<Presence> {
        self.rooms
            .upgrade()
            .map_or_else(Vec::new, |rooms| rooms.presence(room))
    }

    /// Whether the rooms still exist.
    #[must_use]
    pub fn is_alive(&self) -> bool {
        self.rooms.strong_count() > 0
    }
}
