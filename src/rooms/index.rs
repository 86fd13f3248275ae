//! The map of rooms and the operations on it: joining, leaving, evicting, publishing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::entry::{MemberId, MemberShared, Presence, Refused};
use super::room::Room;
use super::stats::Counters;
use crate::prepared::PreparedMessage;

/// What one [`Rooms::publish`](super::Rooms::publish) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Published {
    /// Members the message was queued for.
    pub delivered: usize,
    /// Members evicted by this publish, their queue being full.
    pub evicted: usize,
}

/// Every room by name. The map's lock is held only to find, add or remove a room; a room's own
/// lock only to read or change its members. The two are never held together.
#[derive(Debug)]
pub(crate) struct Index {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
    next_id: AtomicU64,
    pub(crate) capacity: usize,
    pub(crate) counters: Counters,
}

impl Index {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            rooms: Mutex::default(),
            next_id: AtomicU64::new(1),
            capacity: capacity.max(1),
            counters: Counters::default(),
        }
    }

    pub(crate) fn next_id(&self) -> MemberId {
        MemberId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn publish(&self, room: &str, message: &PreparedMessage) -> Published {
        let Some(room) = self.room(room) else {
            self.counters.publish(0);
            return Published::default();
        };
        let mut refused = Vec::new();
        let mut delivered = 0;
        {
            let members = room.lock();
            for (_, member) in members.by_id.values() {
                match member.push(message) {
                    Ok(()) => delivered += 1,
                    Err(why) => refused.push((Arc::clone(member), why)),
                }
            }
        }
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
        Published { delivered, evicted }
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
