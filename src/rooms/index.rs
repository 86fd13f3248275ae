//! The map of rooms and the operations on it: joining, leaving, evicting, publishing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use tokio::sync::Notify;

use super::backplane::{Backplane, LocalRooms};
use bytes::Bytes;

use super::entry::{MemberId, MemberShared, Outbound, Presence, Refused, joined_frames};
use super::published::{Published, Relay};
use super::room::Room;
use super::stats::Counters;
use crate::prepared::PreparedMessage;

/// Every room by name. The map's lock is held only to find, add or remove a room; a room's own
/// lock only to read or change its members, or to publish. The two are never held together.
#[derive(Debug)]
pub(crate) struct Index {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
    next_id: AtomicU64,
    pub(crate) capacity: usize,
    pub(crate) counters: Counters,
    pub(crate) backplane: OnceLock<Box<dyn Backplane>>,
    dirty: Arc<Dirty>,
}

/// What was published since the last flushing pass, in the order it was published, and the
/// task that writes it: woken by the first publish after a pass, it runs once the publishing
/// task yields, so that everything published meanwhile goes to each member's socket in one
/// write. Publishing touches no member: it appends the message to the last batch if that is
/// the same room's with the same members, else starts a batch; the pass then goes through the
/// members once per batch.
#[derive(Debug, Default)]
struct Dirty {
    pending: Mutex<Pending>,
    wake: Notify,
    /// A pass is under way (in the flushing task, or in a publish that found too much pending):
    /// another waits for it to end, so that a member is written by one pass at a time, in order.
    passing: AtomicBool,
    /// The flushing task is running.
    running: AtomicBool,
    /// The registry is gone: the task ends.
    closed: AtomicBool,
}

#[derive(Debug, Default)]
struct Pending {
    batches: Vec<Batch>,
    /// Messages in `batches`.
    messages: usize,
}

/// Messages for the same members, in the order they were published.
#[derive(Debug)]
enum Batch {
    /// Published to a room while its membership stayed the same (`generation`).
    Room {
        room: Arc<Room>,
        generation: u64,
        members: Arc<[Arc<MemberShared>]>,
        messages: Vec<Arc<PreparedMessage>>,
        /// The messages' frames one after another, made by the first member that writes them
        /// as they are: encoded once for the whole room.
        joined: OnceLock<Bytes>,
    },
    /// Sent to one member ([`Member::send`](super::Member::send), `close`).
    One(Arc<MemberShared>, Outbound),
}

impl Dirty {
    /// Starts a pass, unless one is under way.
    fn begin_pass(&self) -> Option<Passing<'_>> {
        (!self.passing.swap(true, Ordering::Acquire)).then_some(Passing(self))
    }

    fn pending(&self) -> MutexGuard<'_, Pending> {
        // Each update is one push or swap: a panic cannot leave it torn.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
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

/// On a multi-thread runtime, a pass over more members than this is split into tasks of about
/// this many each, so that the writes spread over the worker threads.
const PASS_SHARE: usize = 256;

/// The flushing task: each time it is woken, writes what is pending in one pass.
async fn flush_loop(running: Running, index: Weak<Index>) {
    let dirty = &running.0;
    let spread = tokio::runtime::Handle::current().runtime_flavor()
        == tokio::runtime::RuntimeFlavor::MultiThread;
    loop {
        dirty.wake.notified().await;
        if dirty.closed.load(Ordering::Acquire) {
            return;
        }
        let Some(index) = index.upgrade() else {
            return;
        };
        let Some(_passing) = dirty.begin_pass() else {
            // A publish is passing now; it wakes this task again if more is pending after it.
            continue;
        };
        let Pending { batches, .. } = std::mem::take(&mut *dirty.pending());
        // Every direct write polls a socket, and tokio allows a task 128 such polls before it
        // must yield: past that, each write would find its socket `Pending` and hand a member
        // that could have been written now to its writer task (waking it, and the member's
        // reader, for nothing). The pass is bounded by what it holds, and ends.
        tokio::task::coop::unconstrained(index.pass(batches, spread)).await;
    }
}

/// Holds `Dirty::passing` for one pass: dropping it, at the end of the pass or in a panic,
/// lets the next pass start and wakes the flushing task for what was published meanwhile.
struct Passing<'a>(&'a Dirty);

impl Drop for Passing<'_> {
    fn drop(&mut self) {
        self.0.passing.store(false, Ordering::Release);
        if !self.0.pending().batches.is_empty() {
            self.0.wake.notify_one();
        }
    }
}

/// A member's share of a pass on a multi-thread runtime: its deliveries, in order.
type Share = Vec<(Arc<MemberShared>, usize)>;

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
    pub(crate) fn start_flushing(this: &Arc<Self>) {
        if !this.dirty.running.swap(true, Ordering::AcqRel) {
            tokio::spawn(flush_loop(
                Running(Arc::clone(&this.dirty)),
                Arc::downgrade(this),
            ));
        }
    }

    /// Counts `messages` more pending (the caller has just added them, with the room's lock
    /// held if any, so that publishes to one room are pending in the order of that lock) and
    /// says what to do once the locks are released: wake the flushing task if these are the
    /// first since the last pass, or pass at once if a queue's length is pending.
    fn add_pending(&self, pending: &mut Pending, messages: usize) -> After {
        pending.messages += messages;
        if pending.messages >= self.capacity {
            After::Pass
        } else if pending.batches.len() == 1 && pending.messages == messages {
            After::Wake
        } else {
            After::Nothing
        }
    }

    fn after(&self, after: After) {
        match after {
            After::Nothing => {}
            After::Wake => self.dirty.wake.notify_one(),
            // As much pending as a member may have queued: pass now rather than let it grow
            // while the publishing task does not yield. If a pass is under way already, its end
            // wakes the flushing task.
            After::Pass => {
                if let Some(_passing) = self.dirty.begin_pass() {
                    let Pending { batches, .. } = std::mem::take(&mut *self.dirty.pending());
                    self.pass_now(batches);
                } else {
                    self.dirty.wake.notify_one();
                }
            }
        }
    }

    /// Writes `batches`, spread over tasks on a multi-thread runtime when there are many
    /// members, else in place.
    async fn pass(self: &Arc<Self>, batches: Vec<Batch>, spread: bool) {
        // Members counted once per batch they are in: one room's pass is split by its size.
        let members: usize = batches.iter().map(|batch| batch.members().len()).sum();
        if !spread || members <= PASS_SHARE {
            self.pass_now(batches);
            return;
        }
        // A member is in one share only, and a share delivers in order: each member still gets
        // its messages in the order they were published.
        let shares_count = members.div_ceil(PASS_SHARE);
        let mut shares: Vec<Share> = (0..shares_count).map(|_| Vec::new()).collect();
        for (i, batch) in batches.iter().enumerate() {
            for member in batch.members() {
                let share = usize::try_from(member.id.0 % shares_count as u64).unwrap_or(0);
                shares[share].push((Arc::clone(member), i));
            }
        }
        let batches = Arc::new(batches);
        let mut tasks = Vec::with_capacity(shares_count);
        for share in shares.into_iter().filter(|share| !share.is_empty()) {
            let (index, batches) = (Arc::clone(self), Arc::clone(&batches));
            // Unconstrained, as the flushing task's own pass (see `flush_loop`).
            tasks.push(tokio::spawn(tokio::task::coop::unconstrained(async move {
                let mut refused = Vec::new();
                for (member, i) in share {
                    if let Err(why) = batches[i].deliver_to(&member) {
                        refused.push((member, why));
                    }
                }
                index.refused(refused);
            })));
        }
        for task in tasks {
            // A share that panicked has lost its members' messages; the others are written.
            let _ = task.await;
        }
    }

    /// Writes `batches` in this thread.
    fn pass_now(&self, batches: Vec<Batch>) {
        let mut refused = Vec::new();
        for batch in &batches {
            for member in batch.members() {
                if let Err(why) = batch.deliver_to(member) {
                    refused.push((Arc::clone(member), why));
                }
            }
        }
        self.refused(refused);
    }

    /// Members a pass could not deliver to: evicted if their queue was full, else (their
    /// connection gone) out of their rooms.
    fn refused(&self, refused: Vec<(Arc<MemberShared>, Refused)>) {
        for (member, why) in refused {
            match why {
                Refused::Full => {
                    self.evict(&member);
                }
                // Its connection is gone: the task reading it drops the member soon; until then
                // it need not be offered more.
                Refused::Gone => self.leave_all(&member),
            }
        }
    }

    /// Queues `outbound` for `member` alone, after what is pending for it.
    pub(crate) fn send_to(&self, member: &Arc<MemberShared>, outbound: Outbound) {
        let after = {
            let mut pending = self.dirty.pending();
            pending
                .batches
                .push(Batch::One(Arc::clone(member), outbound));
            self.add_pending(&mut pending, 1)
        };
        self.after(after);
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
        let (delivered, after) = {
            let mut members = room.lock();
            let delivered = members.by_id.len();
            if delivered == 0 {
                (0, After::Nothing)
            } else {
                let message = Arc::new(message.clone());
                let mut pending = self.dirty.pending();
                match pending.batches.last_mut() {
                    Some(Batch::Room {
                        room: last,
                        generation,
                        messages,
                        ..
                    }) if Arc::ptr_eq(last, &room) && *generation == members.generation => {
                        messages.push(message);
                    }
                    _ => {
                        // Listing the members (after a join or leave) is done outside the
                        // registry-wide lock; the room's lock keeps this room's order.
                        drop(pending);
                        let batch = Batch::Room {
                            room: Arc::clone(&room),
                            generation: members.generation,
                            members: members.listed(),
                            messages: vec![message],
                            joined: OnceLock::new(),
                        };
                        pending = self.dirty.pending();
                        pending.batches.push(batch);
                    }
                }
                (delivered, self.add_pending(&mut pending, 1))
            }
        };
        self.counters.publish(delivered);
        self.after(after);
        Published {
            relay: Relay::Local,
            delivered,
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

/// What a publish does once it has let go of the locks.
enum After {
    Nothing,
    /// Wake the flushing task: this is the first publish since the last pass.
    Wake,
    /// Pass now: as much is pending as a member may queue.
    Pass,
}

impl Batch {
    fn members(&self) -> &[Arc<MemberShared>] {
        match self {
            Batch::Room { members, .. } => members,
            Batch::One(member, _) => std::slice::from_ref(member),
        }
    }

    /// Delivers this batch to `member` (one of its members), the outbound of a `One` cloned.
    fn deliver_to(&self, member: &MemberShared) -> Result<(), Refused> {
        match self {
            Batch::Room {
                messages, joined, ..
            } => member.deliver(messages, &|| {
                joined.get_or_init(|| joined_frames(messages)).clone()
            }),
            Batch::One(_, outbound) => member.deliver_outbound(outbound.clone()),
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
