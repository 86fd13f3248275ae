//! The map of rooms and the operations on it: joining, leaving, evicting, publishing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tokio::sync::Notify;

use super::backplane::{Backplane, LocalRooms};
use super::entry::{MemberId, MemberShared, Presence, Refused};
use super::published::{Published, Relay};
use super::room::Room;
use super::stats::Counters;
use crate::prepared::PreparedMessage;

/// Every room by name. The map's lock is held only to find, add or remove a room; a room's own
/// lock only to read or change its members. The two are never held together.
#[derive(Debug)]
pub(crate) struct Index {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
    next_id: AtomicU64,
    pub(crate) capacity: usize,
    pub(crate) counters: Counters,
    pub(crate) backplane: OnceLock<Box<dyn Backplane>>,
    dirty: Arc<Dirty>,
}

/// The members with messages queued since the last flushing pass, and the task that writes
/// them: woken by the first publish of a batch, it runs once the publishing task yields, so
/// that everything published meanwhile goes to each member's socket in one write.
#[derive(Debug, Default)]
struct Dirty {
    members: Mutex<Vec<Arc<MemberShared>>>,
    wake: Notify,
    /// The flushing task is running.
    running: AtomicBool,
    /// The registry is gone: the task ends.
    closed: AtomicBool,
}

impl Dirty {
    fn members(&self) -> MutexGuard<'_, Vec<Arc<MemberShared>>> {
        // Each update is one push, append or swap: a panic cannot leave it torn.
        self.members.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Clears `Dirty::running` when the flushing task ends, so that the next member attached (on
/// a runtime that is still running) starts another.
struct Running(Arc<Dirty>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.store(false, Ordering::Release);
    }
}

/// On a multi-thread runtime, a pass over more members than this is split into tasks of this
/// many members each, so that the writes spread over the worker threads.
const PASS_SHARE: usize = 256;

/// The flushing task: each time it is woken, writes every member in the list in one pass.
async fn flush_loop(running: Running) {
    let dirty = &running.0;
    let spread = tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread;
    let mut batch = Vec::new();
    loop {
        dirty.wake.notified().await;
        if dirty.closed.load(Ordering::Acquire) {
            return;
        }
        std::mem::swap(&mut *dirty.members(), &mut batch);
        if spread && batch.len() > PASS_SHARE {
            // Each member is in one share; a member in two passes at once (this one and the
            // next) is written by one at a time, under its outbox's lock, in order.
            while batch.len() > PASS_SHARE {
                let share = batch.split_off(batch.len() - PASS_SHARE);
                tokio::spawn(async move { pass(share).await });
            }
        }
        pass_in_place(&mut batch).await;
    }
}

async fn pass(mut members: Vec<Arc<MemberShared>>) {
    pass_in_place(&mut members).await;
}

/// Writes each of `members` directly (see `MemberShared::flush`), leaving the vector empty.
async fn pass_in_place(members: &mut Vec<Arc<MemberShared>>) {
    // Every direct write polls a socket, and tokio allows a task 128 such polls before it must
    // yield: past that, each write would find its socket `Pending` and hand a member that could
    // have been written now to its writer task (waking it, and the member's reader, for
    // nothing). The pass is bounded by the members it holds, and ends.
    tokio::task::coop::unconstrained(async {
        for member in members.drain(..) {
            member.flush();
        }
    })
    .await;
}

impl Index {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            rooms: Mutex::default(),
            next_id: AtomicU64::new(1),
            capacity: capacity.max(1),
            counters: Counters::default(),
            backplane: OnceLock::new(),
            dirty: Arc::default(),
        }
    }

    /// Spawns the flushing task unless it runs (so this must be called within a tokio
    /// runtime, as attaching a member is).
    pub(crate) fn start_flushing(&self) {
        if !self.dirty.running.swap(true, Ordering::AcqRel) {
            tokio::spawn(flush_loop(Running(Arc::clone(&self.dirty))));
        }
    }

    /// Adds members with newly queued messages to the next flushing pass, waking the task if
    /// they are the first since the last one.
    pub(crate) fn flush_later(&self, mut members: Vec<Arc<MemberShared>>) {
        if members.is_empty() {
            return;
        }
        let mut list = self.dirty.members();
        let first = list.is_empty();
        list.append(&mut members);
        drop(list);
        if first {
            self.dirty.wake.notify_one();
        }
    }

    pub(crate) fn next_id(&self) -> MemberId {
        MemberId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn publish(&self, room: &str, message: &PreparedMessage) -> Published {
        let relay = match self.backplane.get() {
            None => Relay::Local,
            Some(backplane) => backplane.publish(room, message),
        };
        match relay {
            Relay::Local => self.deliver(room, message),
            Relay::Relayed => Published {
                relay,
                ..Published::default()
            },
            Relay::LocalOnly => self.deliver_local_only(room, message),
            Relay::Refused => {
                self.counters.refused();
                Published {
                    relay,
                    ..Published::default()
                }
            }
        }
    }

    /// Queues `message` for this process's members of `room` alone, the backplane being down.
    pub(crate) fn deliver_local_only(&self, room: &str, message: &PreparedMessage) -> Published {
        self.counters.local_only();
        Published {
            relay: Relay::LocalOnly,
            ..self.deliver(room, message)
        }
    }

    /// Queues `message` for this process's members of `room`.
    pub(crate) fn deliver(&self, room: &str, message: &PreparedMessage) -> Published {
        let Some(room) = self.room(room) else {
            self.counters.publish(0);
            return Published::default();
        };
        let message = Arc::new(message.clone());
        let mut refused = Vec::new();
        let mut to_flush = Vec::new();
        let mut delivered = 0;
        {
            let members = room.lock();
            for (_, member) in members.by_id.values() {
                match member.push(&message) {
                    Ok(flush) => {
                        delivered += 1;
                        if flush {
                            to_flush.push(Arc::clone(member));
                        }
                    }
                    Err(why) => refused.push((Arc::clone(member), why)),
                }
            }
        }
        self.flush_later(to_flush);
        self.counters.publish(delivered);
        let mut evicted = 0;
        for (member, why) in refused {
            match why {
                Refused::Full => {
                    if self.evict(&member) {
                        evicted += 1;
                    }
                }
                // Its connection is gone: the task reading it drops the member soon; until then
                // it need not be offered more.
                Refused::Gone => self.leave_all(&member),
            }
        }
        Published {
            relay: Relay::Local,
            delivered,
            evicted,
        }
    }

    /// A member's name changed: presence elsewhere must follow.
    pub(crate) fn renamed(&self) {
        self.changed();
    }

    fn changed(&self) {
        if let Some(backplane) = self.backplane.get() {
            backplane.changed();
        }
    }

    /// Who is in `room`, in the order they joined.
    pub(crate) fn presence(&self, room: &str) -> Vec<Presence> {
        let Some(room) = self.room(room) else {
            return Vec::new();
        };
        let members = room.lock();
        members
            .in_join_order()
            .into_iter()
            .map(|member| member.presence())
            .collect()
    }

    /// How many members `room` has.
    pub(crate) fn len(&self, room: &str) -> usize {
        self.room(room).map_or(0, |room| room.lock().by_id.len())
    }

    /// Whether `member` is in `room`.
    pub(crate) fn contains(&self, room: &str, member: MemberId) -> bool {
        self.room(room)
            .is_some_and(|room| room.lock().by_id.contains_key(&member))
    }

    /// The rooms that have members, sorted by name.
    pub(crate) fn rooms(&self) -> Vec<String> {
        let mut names: Vec<String> = self.map().keys().cloned().collect();
        names.sort_unstable();
        names
    }

    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Room>>> {
        // Each update of the map is a single insert or remove: a panic cannot leave it torn.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn room(&self, name: &str) -> Option<Arc<Room>> {
        self.map().get(name).cloned()
    }

    pub(crate) fn join(&self, member: &Arc<MemberShared>, name: &str) -> bool {
        if member.is_evicted() {
            return false;
        }
        loop {
            let room = Arc::clone(self.map().entry(name.to_owned()).or_default());
            let mut members = room.lock();
            if members.closed {
                // Its last member just left and it is on its way out of the map: take it out
                // now (if nobody has yet) and make a new one.
                drop(members);
                self.remove_if_same(name, &room);
                continue;
            }
            if !members.insert(member) {
                return false;
            }
            drop(members);
            member.rooms().insert(name.to_owned());
            // An eviction that raced this join has already emptied the member's rooms; undo.
            if member.is_evicted() {
                self.leave(member, name);
                return false;
            }
            self.changed();
            return true;
        }
    }

    pub(crate) fn leave(&self, member: &Arc<MemberShared>, name: &str) -> bool {
        member.rooms().remove(name);
        let Some(room) = self.room(name) else {
            return false;
        };
        let mut members = room.lock();
        if !members.remove(member.id) {
            return false;
        }
        if members.by_id.is_empty() {
            members.closed = true;
            drop(members);
            self.remove_if_same(name, &room);
        }
        self.changed();
        true
    }

    pub(crate) fn leave_all(&self, member: &Arc<MemberShared>) {
        let names = std::mem::take(&mut *member.rooms());
        for name in names {
            self.leave(member, &name);
        }
    }

    /// Evicts a member that fell behind; true if this call did (it is counted once).
    pub(crate) fn evict(&self, member: &Arc<MemberShared>) -> bool {
        if !member.mark_evicted() {
            return false;
        }
        self.counters.evict();
        self.leave_all(member);
        true
    }

    fn remove_if_same(&self, name: &str, room: &Arc<Room>) {
        let mut rooms = self.map();
        if rooms
            .get(name)
            .is_some_and(|current| Arc::ptr_eq(current, room))
        {
            rooms.remove(name);
        }
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        self.dirty.closed.store(true, Ordering::Release);
        self.dirty.wake.notify_one();
    }
}

impl LocalRooms for Index {
    fn deliver(&self, room: &str, message: &PreparedMessage) -> Published {
        Index::deliver(self, room, message)
    }

    fn deliver_local_only(&self, room: &str, message: &PreparedMessage) -> Published {
        Index::deliver_local_only(self, room, message)
    }

    fn rooms(&self) -> Vec<String> {
        Index::rooms(self)
    }

    fn presence(&self, room: &str) -> Vec<Presence> {
        Index::presence(self, room)
    }
}
