//! What the rooms hold of a member: its id and name, its outbox, its eviction flag and the rooms
//! it is in.

use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, watch};

use crate::prepared::PreparedMessage;
use crate::tokio::TrySend;

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
    pub(crate) outbox: Arc<Outbox>,
    /// The member's connection, written by the registry's flushing pass while the writer task
    /// does not own it.
    pub(crate) direct: Direct,
    pub(crate) evicted: watch::Sender<bool>,
    /// The rooms this member is in, for leaving them all at once.
    pub(crate) rooms: Mutex<BTreeSet<String>>,
}

/// Writes to a member's connection without waiting (implemented by the writing half of a
/// split connection, whatever its stream).
pub(crate) trait DirectWrite: Send + Sync {
    /// See `WebSocketWriter::try_send_prepared`.
    fn try_send(&self, messages: &mut dyn Iterator<Item = Arc<PreparedMessage>>) -> TrySend;
}

/// A member's connection, for the flushing pass.
pub(crate) struct Direct(pub(crate) Box<dyn DirectWrite>);

impl fmt::Debug for Direct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Direct")
    }
}

/// What a member's writer is given to write.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// One allocation per publish, shared by every member's queue: one reference count to
    /// update per member, where a `PreparedMessage` clone updates two.
    Message(Arc<PreparedMessage>),
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

/// What waits to be written to a member, and who writes it.
///
/// Two writers take turns, never both at once: the registry's flushing pass, which writes every
/// member with something queued in one pass, straight to its socket, and the member's writer
/// task, which owns the connection from the moment a direct write would block (or a Close is
/// queued, or the member is evicted or dropped) until it has drained the queue. Whoever owns it
/// takes messages from the queue and hands them to the connection without releasing the
/// ownership in between, so messages reach the connection in the order they were queued.
#[derive(Debug)]
pub(crate) struct Outbox {
    state: Mutex<OutboxState>,
    capacity: usize,
    /// Wakes the writer task when the connection is handed to it.
    pub(crate) wake: Notify,
}

#[derive(Debug, Default)]
pub(crate) struct OutboxState {
    pub(crate) queue: VecDeque<Outbound>,
    /// The writer task owns the connection: the flushing pass leaves the member alone, and
    /// what is published is only queued; the task hands it back once the queue is empty.
    pub(crate) writer_owns: bool,
    /// The member is in the registry's list of members to flush.
    dirty: bool,
    /// The writer task has stopped, or the member was evicted: nothing more is queued.
    pub(crate) gone: bool,
}

impl Outbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::default(),
            capacity,
            wake: Notify::new(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, OutboxState> {
        // Every update is a few field writes or one queue operation: no torn state to fear.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `outbound`; `Ok(true)` if the member must be added to the list of members to
    /// flush (it was not in it, and its writer task does not own the connection).
    fn push(&self, outbound: Outbound) -> Result<bool, Refused> {
        let mut state = self.lock();
        if state.gone {
            return Err(Refused::Gone);
        }
        if state.queue.len() >= self.capacity {
            return Err(Refused::Full);
        }
        let close = matches!(outbound, Outbound::Close(..));
        state.queue.push_back(outbound);
        if state.writer_owns {
            return Ok(false);
        }
        if close {
            // The closing handshake waits for the socket: the writer task's job.
            state.writer_owns = true;
            drop(state);
            self.wake.notify_one();
            return Ok(false);
        }
        Ok(!std::mem::replace(&mut state.dirty, true))
    }

    /// Hands the connection to the writer task and wakes it (the state being locked by the
    /// caller, as `state`).
    fn hand_over(&self, mut state: MutexGuard<'_, OutboxState>) {
        state.writer_owns = true;
        drop(state);
        self.wake.notify_one();
    }
}

impl MemberShared {
    /// Queues `message`; `Ok(true)` if the member must be added to the list to flush.
    pub(crate) fn push(&self, message: &Arc<PreparedMessage>) -> Result<bool, Refused> {
        self.outbox.push(Outbound::Message(Arc::clone(message)))
    }

    pub(crate) fn push_outbound(&self, outbound: Outbound) -> Result<bool, Refused> {
        self.outbox.push(outbound)
    }

    /// The flushing pass: writes what is queued straight to the socket, unless the writer task
    /// owns the connection. Whatever the socket does not take at once, or a connection another
    /// task holds right now, is handed to the writer task.
    pub(crate) fn flush(&self) {
        let mut state = self.outbox.lock();
        state.dirty = false;
        if state.writer_owns || state.gone || state.queue.is_empty() {
            return;
        }
        let queue = &mut state.queue;
        // Taken from the queue only as the connection accepts them (none if it is busy).
        let mut messages = std::iter::from_fn(|| {
            if !matches!(queue.front(), Some(Outbound::Message(_))) {
                return None;
            }
            match queue.pop_front() {
                Some(Outbound::Message(message)) => Some(message),
                _ => None,
            }
        });
        let sent = self.direct.0.try_send(&mut messages);
        if sent != TrySend::Written || !state.queue.is_empty() {
            self.outbox.hand_over(state);
        }
    }

    /// Marks the member evicted, dropping what is queued for it (and refusing what comes) and
    /// taking the connection from the flushing pass; true the first time only.
    pub(crate) fn mark_evicted(&self) -> bool {
        if !self
            .evicted
            .send_if_modified(|evicted| !std::mem::replace(evicted, true))
        {
            return false;
        }
        let mut state = self.outbox.lock();
        state.queue.clear();
        state.writer_owns = true;
        state.gone = true;
        true
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
