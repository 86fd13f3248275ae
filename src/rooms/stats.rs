//! Counters of what a [`Rooms`](super::Rooms) registry did, for metrics and tests.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a [`Rooms`](super::Rooms) registry has done since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoomStats {
    /// Messages delivered to this process's members: calls to
    /// [`publish`](super::Rooms::publish) without a backplane, and messages that came back
    /// from the backplane.
    pub published: u64,
    /// Messages queued for a member, summed over members.
    pub delivered: u64,
    /// Members evicted because their queue was full.
    pub evicted: u64,
    /// Messages delivered to this process's members only, the backplane being down.
    pub local_only: u64,
    /// Messages refused, the backplane's queue to its broker being full.
    pub refused: u64,
}

/// The live counters; relaxed, since each is read on its own.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    published: AtomicU64,
    delivered: AtomicU64,
    evicted: AtomicU64,
    local_only: AtomicU64,
    refused: AtomicU64,
}

impl Counters {
    pub(crate) fn publish(&self, delivered: usize) {
        self.published.fetch_add(1, Ordering::Relaxed);
        self.delivered
            .fetch_add(delivered as u64, Ordering::Relaxed);
    }

    pub(crate) fn evict(&self) {
        self.evicted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn local_only(&self) {
        self.local_only.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> RoomStats {
        RoomStats {
            published: self.published.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            evicted: self.evicted.load(Ordering::Relaxed),
            local_only: self.local_only.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }
}
