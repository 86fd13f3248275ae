//! The chat's rooms: names, presence and broadcasts on top of [`rfc6455::rooms`], in this
//! process alone or, with `--redis`, across every chat process sharing that Redis.
//!
//! Each broadcast is encoded once and published to the room; every member has a bounded queue
//! of [`OUTBOX_CAPACITY`] frames drained by its own writer task, and one whose queue is full is
//! evicted (closed with 1008) and goes offline for the others. Names are unique per room as far
//! as presence shows: two processes admitting the same name at the same instant is possible.

use std::time::Duration;

use rfc6455::PreparedMessage;
use rfc6455::rooms::redis::{RedisBackplane, RedisBackplaneError, RedisConfig};
use rfc6455::rooms::{Member, Rooms};
use rfc6455::tokio::WebSocketWriter;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::protocol;

/// Frames a connection may have queued before it counts as slow and is dropped.
pub(crate) const OUTBOX_CAPACITY: usize = 64;

/// How long a join or leave waits for Redis to list it before announcing it anyway (with the
/// members Redis knew).
const SYNC_WAIT: Duration = Duration::from_secs(1);

/// Every room, here or across processes.
#[derive(Debug, Clone)]
pub(crate) struct ChatRooms {
    rooms: Rooms,
    backplane: Option<RedisBackplane>,
}

impl ChatRooms {
    /// Rooms in this process only.
    pub(crate) fn local() -> Self {
        Self {
            rooms: Rooms::with_queue_capacity(OUTBOX_CAPACITY),
            backplane: None,
        }
    }

    /// Rooms shared by every chat process using the Redis at `url`.
    pub(crate) fn with_redis(url: &str) -> Result<Self, RedisBackplaneError> {
        let backplane = RedisBackplane::new(RedisConfig::new(url)?.prefix("chat:"));
        Ok(Self {
            rooms: Rooms::with_backplane(OUTBOX_CAPACITY, backplane.clone()),
            backplane: Some(backplane),
        })
    }

    /// A connection's writer as a member, in no room yet.
    pub(crate) fn attach<S>(&self, writer: WebSocketWriter<S>) -> Member
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        self.rooms.attach(writer, "")
    }

    /// Who is in `room`: on every process while Redis answers, else in this one.
    pub(crate) async fn names(&self, room: &str) -> Vec<String> {
        if let Some(backplane) = &self.backplane {
            if let Ok(members) = backplane.presence(room).await {
                return members.into_iter().map(|member| member.name).collect();
            }
        }
        self.rooms
            .presence(room)
            .into_iter()
            .map(|member| member.name.to_string())
            .collect()
    }

    /// Whether someone in `room` is called `name`.
    pub(crate) async fn name_taken(&self, room: &str, name: &str) -> bool {
        self.names(room).await.iter().any(|taken| taken == name)
    }

    /// Puts `member` in `room` as `name` and tells the room, the newcomer included.
    pub(crate) async fn join(&self, member: &Member, room: &str, name: &str) {
        member.set_name(name);
        member.join(room);
        self.announce(room, name, true).await;
    }

    /// Takes `member` out of `room` and tells the others that `name` left.
    pub(crate) async fn leave(&self, member: &Member, room: &str, name: &str) {
        member.leave(room);
        self.announce(room, name, false).await;
    }

    async fn announce(&self, room: &str, name: &str, online: bool) {
        if let Some(backplane) = &self.backplane {
            let _ = tokio::time::timeout(SYNC_WAIT, backplane.synced()).await;
        }
        let names = self.names(room).await;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.publish(room, &protocol::presence(room, name, online, &names));
    }

    /// `text` from `name` to everyone in `room`, `name` included.
    pub(crate) fn say(&self, room: &str, name: &str, text: &str) {
        self.publish(room, &protocol::message(room, name, text));
    }

    /// `name` is typing in `room` (the page ignores its own).
    pub(crate) fn typing(&self, room: &str, name: &str) {
        self.publish(room, &protocol::typing(room, name));
    }

    fn publish(&self, room: &str, message: &PreparedMessage) {
        // While Redis is down the room's members here still hear it; the others cannot.
        self.rooms.publish(room, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rfc6455::tokio::WebSocket;
    use rfc6455::{Config, Connection, Message, Role};
    use tokio::io::DuplexStream;

    fn member(rooms: &ChatRooms) -> (Member, WebSocket<DuplexStream>) {
        let (server, client) = tokio::io::duplex(1 << 20);
        let server =
            WebSocket::from_connection(server, Connection::new(Role::Server, Config::default()));
        let client =
            WebSocket::from_connection(client, Connection::new(Role::Client, Config::default()));
        (rooms.attach(server.into_split().1), client)
    }

    async fn json(ws: &mut WebSocket<DuplexStream>) -> serde_json::Value {
        match ws.recv().await.unwrap() {
            Message::Text(text) => serde_json::from_str(text.as_str()).unwrap(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn presence_lists_members_and_messages_reach_everyone() {
        let rooms = ChatRooms::local();
        let (ann, mut ann_ws) = member(&rooms);
        let (bob, mut bob_ws) = member(&rooms);
        rooms.join(&ann, "r", "ann").await;
        assert!(rooms.name_taken("r", "ann").await);
        rooms.join(&bob, "r", "bob").await;
        assert_eq!(
            json(&mut ann_ws).await["payload"]["members"],
            serde_json::json!(["ann"])
        );
        let bob_joined = json(&mut ann_ws).await;
        assert_eq!(bob_joined, json(&mut bob_ws).await);
        assert_eq!(
            bob_joined["payload"]["members"],
            serde_json::json!(["ann", "bob"])
        );

        rooms.say("r", "ann", "hi");
        for ws in [&mut ann_ws, &mut bob_ws] {
            let message = json(ws).await;
            assert_eq!(message["payload"]["from"], "ann");
            assert_eq!(message["payload"]["text"], "hi");
        }
        rooms.leave(&bob, "r", "bob").await;
        let left = json(&mut ann_ws).await;
        assert_eq!(left["payload"]["status"], "offline");
        assert_eq!(left["payload"]["members"], serde_json::json!(["ann"]));
    }

    #[tokio::test]
    async fn a_member_with_a_full_outbox_is_evicted_and_the_others_see_it_leave() {
        let rooms = ChatRooms::local();
        let (ann, mut ann_ws) = member(&rooms);
        rooms.join(&ann, "r", "ann").await;
        // A client that reads nothing, over a pipe too small for what the room says.
        let (server, _client) = tokio::io::duplex(64);
        let server =
            WebSocket::from_connection(server, Connection::new(Role::Server, Config::default()));
        let slow = rooms.attach(server.into_split().1);
        rooms.join(&slow, "r", "slow").await;
        let mut said = 0;
        while !slow.is_evicted() {
            assert!(said < 10 * OUTBOX_CAPACITY, "never evicted");
            rooms.say("r", "ann", &"x".repeat(1000));
            said += 1;
            // Ann reads as the room talks.
            let _ = json(&mut ann_ws).await;
            tokio::task::yield_now().await;
        }
        slow.evicted().await;
        rooms.leave(&slow, "r", "slow").await;
        let mut last = json(&mut ann_ws).await;
        while last["type"] != "presence" {
            last = json(&mut ann_ws).await;
        }
        assert_eq!(last["payload"]["name"], "slow");
        assert_eq!(last["payload"]["status"], "offline");
        assert_eq!(last["payload"]["members"], serde_json::json!(["ann"]));
    }
}
