//! What the rooms hold of a member: its id and name, its outbox, its eviction flag and the rooms
//! it is in.

use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
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
    fn try_send(&self, messages: &[Arc<PreparedMessage>], joined: &dyn Fn() -> Bytes) -> TrySend;
}

/// A member's connection, for the flushing pass.
pub(crate) struct Direct(pub(crate) Box<dyn DirectWrite>);

impl fmt::Debug for Direct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Direct")
    }
}

/// What a member's writer is given to write.
#[derive(Debug, Clone)]
pub(crate) enum Outbound {
    /// One allocation per publish, shared by every member's queue: one reference count to
    /// update per member, where a `PreparedMessage` clone updates two.
    Message(Arc<PreparedMessage>),
    /// The closing handshake, after which the writer stops.
    Close(crate::close::CloseCode, String),
}

/// `messages`' prepared frames one after another: what a server writes for them, uncompressed.
pub(crate) fn joined_frames(messages: &[Arc<PreparedMessage>]) -> Bytes {
    match messages {
        [one] => one.shared_frame(),
        _ => {
            let len = messages.iter().map(|message| message.frame().len()).sum();
            let mut joined = Vec::with_capacity(len);
            for message in messages {
                joined.extend_from_slice(message.frame());
            }
            Bytes::from(joined)
        }
    }
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
/// Two writers take turns, never both at once: the registry's flushing pass, which writes what
/// was published since the last pass straight to each member's socket, and the member's writer
/// task, which owns the connection from the moment a direct write would block (or a Close is
/// queued, or the member is evicted or dropped) until it has drained the queue. While the pass
/// owns the connection the queue is empty; while the task owns it, the pass only appends to the
/// queue. Either takes messages from the queue and hands them to the connection without
/// releasing the ownership in between, so messages reach the connection in the order the pass
/// delivered them.
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
    /// The writer task owns the connection: the flushing pass leaves the socket alone and only
    /// queues; the task hands it back once the queue is empty.
    pub(crate) writer_owns: bool,
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

    /// Hands the connection to the writer task and wakes it (the state being locked by the
    /// caller, as `state`).
    fn hand_over(&self, mut state: MutexGuard<'_, OutboxState>) {
        state.writer_owns = true;
        drop(state);
        self.wake.notify_one();
    }
}

impl MemberShared {
    /// The flushing pass: hands `messages` to the member: straight to its socket if the pass
    /// owns the connection (whatever the socket does not take at once stays queued in the
    /// connection, and the writer task is woken to finish it), else after what the writer task
    /// has queued. A connection another task holds at this moment is handed to the writer task
    /// with the messages queued.
    ///
    /// `joined` gives the messages' frames one after another, encoded once for all members.
    pub(crate) fn deliver(
        &self,
        messages: &[Arc<PreparedMessage>],
        joined: &dyn Fn() -> Bytes,
    ) -> Result<(), Refused> {
        let state = self.outbox.lock();
        if state.gone {
            return Err(Refused::Gone);
        }
        if !state.writer_owns {
            match self.direct.0.try_send(messages, joined) {
                TrySend::Written => return Ok(()),
                // The connection took them all; the task writes the rest, or meets the failure
                // and stops.
                TrySend::Pending | TrySend::Failed => {
                    self.outbox.hand_over(state);
                    return Ok(());
                }
                TrySend::Busy => {}
            }
        }
        self.queue(
            state,
            messages
                .iter()
                .map(|message| Outbound::Message(Arc::clone(message))),
            messages.len(),
        )
    }

    /// The flushing pass: queues `outbound` for the writer task (a Close always goes there: it
    /// waits for the socket) or, a message, delivers it as [`deliver`](Self::deliver) does.
    pub(crate) fn deliver_outbound(&self, outbound: Outbound) -> Result<(), Refused> {
        match outbound {
            Outbound::Message(message) => {
                let frame = message.shared_frame();
                self.deliver(std::slice::from_ref(&message), &|| frame.clone())
            }
            close @ Outbound::Close(..) => {
                let state = self.outbox.lock();
                if state.gone {
                    return Err(Refused::Gone);
                }
                self.queue(state, std::iter::once(close), 1)
            }
        }
    }

    /// Appends `count` items to the queue and makes sure the writer task owns the connection;
    /// refused if that would pass the queue's capacity.
    fn queue(
        &self,
        mut state: MutexGuard<'_, OutboxState>,
        outbound: impl Iterator<Item = Outbound>,
        count: usize,
    ) -> Result<(), Refused> {
        if state.queue.len() + count > self.outbox.capacity {
            return Err(Refused::Full);
        }
        state.queue.extend(outbound);
        if !state.writer_owns {
            self.outbox.hand_over(state);
        }
        Ok(())
    }

    /// Whether nothing more can be sent to this member: evicted, or its writer stopped.
    pub(crate) fn is_gone(&self) -> bool {
        self.outbox.lock().gone
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
