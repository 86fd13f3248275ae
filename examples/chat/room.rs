//! Rooms and their members, behind one mutex.
//!
//! The lock is never held across an `.await`: delivering to a member is a `try_send` on its
//! bounded outbox, so a broadcast costs one encoding (done by the caller, before locking) plus
//! one pointer copy per member. A member whose outbox is full is too slow to keep up: it is
//! removed from the room, the others are told it went offline, and its connection is dropped.
//! Memory per member is therefore bounded by [`OUTBOX_CAPACITY`] queued frames, which are shared
//! with every other member they were sent to.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use rfc6455::{CloseCode, PreparedMessage};
use tokio::sync::{Notify, mpsc};

use crate::protocol;

/// Frames a connection may have queued before it counts as slow and is dropped.
pub(crate) const OUTBOX_CAPACITY: usize = 64;

/// Identifies one connection for the life of the process.
pub(crate) type ConnId = u64;

/// What a connection's writer task sends.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// A frame encoded once, possibly shared with other connections.
    Frame(PreparedMessage),
    /// Start the closing handshake with this code and reason, and stop writing.
    Close(CloseCode, &'static str),
}

/// The sending side of a connection: its bounded queue, and the alarm that drops it when the
/// queue overflows.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    tx: mpsc::Sender<Outbound>,
    kick: Arc<Notify>,
}

impl Outbox {
    /// A new outbox, the queue's receiving end for the writer task, and the alarm the connection
    /// listens to.
    pub(crate) fn new() -> (Self, mpsc::Receiver<Outbound>, Arc<Notify>) {
        let (tx, rx) = mpsc::channel(OUTBOX_CAPACITY);
        let kick = Arc::new(Notify::new());
        let outbox = Self {
            tx,
            kick: Arc::clone(&kick),
        };
        (outbox, rx, kick)
    }

    /// Queues a frame. False when the connection cannot take it: its queue is full (it is then
    /// told to drop itself) or its writer has ended.
    pub(crate) fn push(&self, frame: PreparedMessage) -> bool {
        self.push_outbound(Outbound::Frame(frame))
    }

    /// Queues the closing handshake; a connection too far behind to take it is dropped.
    pub(crate) fn close(&self, code: CloseCode, reason: &'static str) {
        self.push_outbound(Outbound::Close(code, reason));
    }

    fn push_outbound(&self, outbound: Outbound) -> bool {
        match self.tx.try_send(outbound) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.kick.notify_one();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// One member of a room.
#[derive(Debug)]
struct Member {
    conn: ConnId,
    name: String,
    outbox: Outbox,
}

/// A room: its members in the order they joined.
#[derive(Debug, Default)]
struct Room {
    members: Vec<Member>,
}

impl Room {
    fn names(&self) -> Vec<&str> {
        self.members.iter().map(|m| m.name.as_str()).collect()
    }

    fn name_of(&self, conn: ConnId) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.conn == conn)
            .map(|m| m.name.as_str())
    }

    /// Queues `frame` for every member but `except`. Members that cannot take it are removed
    /// and the rest told that they went offline (which may reveal more slow members).
    fn deliver(&mut self, room: &str, frame: PreparedMessage, except: Option<ConnId>) {
        let mut queue = VecDeque::from([(frame, except)]);
        while let Some((frame, except)) = queue.pop_front() {
            let mut gone = Vec::new();
            self.members.retain(|member| {
                if Some(member.conn) == except || member.outbox.push(frame.clone()) {
                    return true;
                }
                gone.push(member.name.clone());
                false
            });
            for name in gone {
                eprintln!("chat: dropped {name:?} from {room:?}: too slow");
                let names = self.names();
                queue.push_back((protocol::presence(room, &name, false, &names), None));
            }
        }
    }
}

/// Why a join was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum JoinError {
    /// Another member of the room has that name.
    NameTaken,
}

/// Every room, by name.
#[derive(Debug, Default)]
pub(crate) struct Rooms {
    rooms: Mutex<HashMap<String, Room>>,
}

impl Rooms {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Room>> {
        // A panic elsewhere while holding the lock leaves the map consistent: keep serving.
        self.rooms
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds `conn` to `room` as `name` and tells every member, the newcomer included, with the
    /// current member list.
    pub(crate) fn join(
        &self,
        conn: ConnId,
        room: &str,
        name: &str,
        outbox: &Outbox,
    ) -> Result<(), JoinError> {
        let mut rooms = self.lock();
        let entry = rooms.entry(room.to_owned()).or_default();
        if entry.members.iter().any(|m| m.name == name) {
            return Err(JoinError::NameTaken);
        }
        entry.members.push(Member {
            conn,
            name: name.to_owned(),
            outbox: outbox.clone(),
        });
        let frame = protocol::presence(room, name, true, &entry.names());
        entry.deliver(room, frame, None);
        if entry.members.is_empty() {
            rooms.remove(room);
        }
        Ok(())
    }

    /// Removes `conn` from `room`, if it is there, and tells the others.
    pub(crate) fn leave(&self, conn: ConnId, room: &str) {
        let mut rooms = self.lock();
        let Some(entry) = rooms.get_mut(room) else {
            return;
        };
        let Some(index) = entry.members.iter().position(|m| m.conn == conn) else {
            return;
        };
        let member = entry.members.remove(index);
        if entry.members.is_empty() {
            rooms.remove(room);
            return;
        }
        let frame = protocol::presence(room, &member.name, false, &entry.names());
        entry.deliver(room, frame, None);
        if entry.members.is_empty() {
            rooms.remove(room);
        }
    }

    /// Sends `text` from `conn` to every member of `room`, `conn` included, encoded once.
    /// False if `conn` is not in the room (it was dropped as too slow).
    pub(crate) fn say(&self, conn: ConnId, room: &str, text: &str) -> bool {
        self.relay(conn, room, None, |name| protocol::message(room, name, text))
    }

    /// Tells the others in `room` that `conn` is typing.
    pub(crate) fn typing(&self, conn: ConnId, room: &str) -> bool {
        self.relay(conn, room, Some(conn), |name| protocol::typing(room, name))
    }

    fn relay(
        &self,
        conn: ConnId,
        room: &str,
        except: Option<ConnId>,
        encode: impl FnOnce(&str) -> PreparedMessage,
    ) -> bool {
        let mut rooms = self.lock();
        let Some(entry) = rooms.get_mut(room) else {
            return false;
        };
        let Some(name) = entry.name_of(conn) else {
            return false;
        };
        let frame = encode(name);
        entry.deliver(room, frame, except);
        if entry.members.is_empty() {
            rooms.remove(room);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn text(outbound: Outbound) -> serde_json::Value {
        match outbound {
            Outbound::Frame(frame) => serde_json::from_slice(frame.payload()).unwrap(),
            Outbound::Close(..) => panic!("expected a frame"),
        }
    }

    #[test]
    fn presence_lists_members_and_messages_reach_everyone() {
        let rooms = Rooms::default();
        let (ann, mut ann_rx, _) = Outbox::new();
        let (bob, mut bob_rx, _) = Outbox::new();
        rooms.join(1, "r", "ann", &ann).unwrap();
        rooms.join(2, "r", "bob", &bob).unwrap();
        assert_eq!(rooms.join(3, "r", "bob", &bob), Err(JoinError::NameTaken));
        let joined = text(ann_rx.try_recv().unwrap());
        assert_eq!(joined["payload"]["members"], serde_json::json!(["ann"]));
        let bob_joined = text(ann_rx.try_recv().unwrap());
        assert_eq!(bob_joined, text(bob_rx.try_recv().unwrap()));
        assert_eq!(
            bob_joined["payload"]["members"],
            serde_json::json!(["ann", "bob"])
        );

        assert!(rooms.say(1, "r", "hi"));
        for rx in [&mut ann_rx, &mut bob_rx] {
            let message = text(rx.try_recv().unwrap());
            assert_eq!(message["payload"]["from"], "ann");
            assert_eq!(message["payload"]["text"], "hi");
        }
        assert!(rooms.typing(2, "r"));
        assert_eq!(text(ann_rx.try_recv().unwrap())["type"], "typing");
        assert!(bob_rx.try_recv().is_err(), "typing goes to the others only");

        rooms.leave(2, "r");
        let left = text(ann_rx.try_recv().unwrap());
        assert_eq!(left["payload"]["status"], "offline");
        assert_eq!(left["payload"]["members"], serde_json::json!(["ann"]));
        assert!(!rooms.say(2, "r", "gone"));
    }

    #[test]
    fn a_member_with_a_full_outbox_is_dropped_and_told_to_go() {
        let rooms = Rooms::default();
        let (ann, mut ann_rx, _) = Outbox::new();
        let (slow, _slow_rx, slow_kick) = Outbox::new();
        rooms.join(1, "r", "ann", &ann).unwrap();
        rooms.join(2, "r", "slow", &slow).unwrap();
        // The join's presence took one slot of the slow member's queue; fill the rest.
        for _ in 0..OUTBOX_CAPACITY - 1 {
            assert!(rooms.say(1, "r", "x"));
            while ann_rx.try_recv().is_ok() {}
        }
        assert!(slow_kick.notified().now_or_never().is_none());
        // The next message does not fit: the slow member is dropped.
        assert!(rooms.say(1, "r", "y"));
        assert!(
            slow_kick.notified().now_or_never().is_some(),
            "the slow connection is told to drop itself"
        );
        let mut last = serde_json::Value::Null;
        while let Ok(outbound) = ann_rx.try_recv() {
            last = text(outbound);
        }
        assert_eq!(last["type"], "presence");
        assert_eq!(last["payload"]["name"], "slow");
        assert_eq!(last["payload"]["status"], "offline");
        assert!(!rooms.say(2, "r", "still here?"));
    }
}
