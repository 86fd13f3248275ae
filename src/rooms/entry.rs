//! What the rooms hold of a member: its id and name, its queue, its eviction flag and the rooms
//! it is in.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, watch};

use crate::prepared::PreparedMessage;

/// Identifies a member for the life of its `Rooms` registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId(pub(crate) u64);

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Who is in a room: a member's id and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// The member.
    pub id: MemberId,
    /// The name given to `Rooms::attach`, or the latest `Member::set_name`.
    pub name: Arc<str>,
}

/// What the registry and the rooms hold of a member.
#[derive(Debug)]
pub(crate) struct MemberShared {
    pub(crate) id: MemberId,
    pub(crate) name: Mutex<Arc<str>>,
    pub(crate) queue: mpsc::Sender<Outbound>,
    pub(crate) evicted: watch::Sender<bool>,
    /// The rooms this member is in, for leaving them all at once.
    pub(crate) rooms: Mutex<BTreeSet<String>>,
}

/// What a member's writer is given to write.
#[derive(Debug)]
pub(crate) enum Outbound {
    Message(PreparedMessage),
    /// The closing handshake, after which the writer stops.
    Close(crate::close::CloseCode, String),
}

/// Why a message could not be queued for a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The queue is full: the member falls behind.
    Full,
    /// The writer has stopped (the connection failed or was closed).
    Gone,
}

impl MemberShared {
    pub(crate) fn push(&self, message: &PreparedMessage) -> Result<(), Refused> {
        self.push_outbound(Outbound::Message(message.clone()))
    }

    pub(crate) fn push_outbound(&self, outbound: Outbound) -> Result<(), Refused> {
        match self.queue.try_send(outbound) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => Err(Refused::Full),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Refused::Gone),
        }
    }

    /// Marks the member evicted; true the first time only.
    pub(crate) fn mark_evicted(&self) -> bool {
        self.evicted
            .send_if_modified(|evicted| !std::mem::replace(evicted, true))
    }

    pub(crate) fn is_evicted(&self) -> bool {
        *self.evicted.borrow()
    }

    pub(crate) fn rooms(&self) -> MutexGuard<'_, BTreeSet<String>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn name(&self) -> Arc<str> {
        Arc::clone(&self.name.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn set_name(&self, name: &str) {
        *self.name.lock().unwrap_or_else(|e| e.into_inner()) = Arc::from(name);
    }

    pub(crate) fn presence(&self) -> Presence {
        Presence {
            id: self.id,
            name: self.name(),
        }
    }
}
