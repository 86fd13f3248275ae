//! One room: the members it holds, behind a lock of its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::entry::{MemberId, MemberShared};

/// A room's members by id, each with its place in the join order (for presence).
///
/// `closed` marks a room whose last member left: it is about to be removed from the registry,
/// and a join that finds it makes a new one instead, so that no member is ever added to a room
/// the registry no longer holds.
#[derive(Debug, Default)]
pub(crate) struct Members {
    pub(crate) by_id: HashMap<MemberId, (u64, Arc<MemberShared>)>,
    joins: u64,
    pub(crate) closed: bool,
    /// Counts the changes of membership: messages published under one generation go to the
    /// same members, so they can share one list of them.
    pub(crate) generation: u64,
    /// The members of this generation as one shared list, made by the first publish that needs
    /// it: publishing with no join or leave in between costs no copy of the members.
    listed: Option<Arc<[Arc<MemberShared>]>>,
}

impl Members {
    /// False if the member was already here.
    pub(crate) fn insert(&mut self, member: &Arc<MemberShared>) -> bool {
        if self.by_id.contains_key(&member.id) {
            return false;
        }
        self.joins += 1;
        self.by_id
            .insert(member.id, (self.joins, Arc::clone(member)));
        self.changed();
        true
    }

    /// False if the member was not here.
    pub(crate) fn remove(&mut self, id: MemberId) -> bool {
        let removed = self.by_id.remove(&id).is_some();
        if removed {
            self.changed();
        }
        removed
    }

    fn changed(&mut self) {
        self.generation += 1;
        self.listed = None;
    }

    /// The members now, as a list shared with every publish until the membership changes.
    pub(crate) fn listed(&mut self) -> Arc<[Arc<MemberShared>]> {
        let by_id = &self.by_id;
        Arc::clone(
            self.listed
                .get_or_insert_with(|| by_id.values().map(|(_, m)| Arc::clone(m)).collect()),
        )
    }

    /// The members in the order they joined.
    pub(crate) fn in_join_order(&self) -> Vec<&Arc<MemberShared>> {
        let mut members: Vec<_> = self.by_id.values().collect();
        members.sort_unstable_by_key(|(joined, _)| *joined);
        members.into_iter().map(|(_, member)| member).collect()
    }
}

/// A room. Publishing locks only this (and, for a moment, the list of what the next flushing
/// pass writes), never the registry.
#[derive(Debug, Default)]
pub(crate) struct Room {
    members: Mutex<Members>,
}

impl Room {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Members> {
        // Every update leaves the member set consistent; a panic elsewhere need not stop the room.
        self.members.lock().unwrap_or_else(|e| e.into_inner())
    }
}
