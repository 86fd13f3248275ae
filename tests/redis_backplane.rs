//! The Redis backplane against a real `redis-server` (Debian's package), one per test on a free
//! port: two nodes (each a `Rooms` with its own backplane and connections, as two server
//! processes have) exchange messages and presence, survive Redis restarting, and see a node that
//! dies leave presence.
#![cfg(feature = "redis")]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rfc6455::rooms::redis::{RedisBackplane, RedisConfig};
use rfc6455::rooms::{DEFAULT_QUEUE_CAPACITY, Member, Relay, Rooms};
use rfc6455::tokio::WebSocket;
use rfc6455::{Config, Connection, Message, PreparedMessage, Role};
use tokio::io::DuplexStream;

/// A `redis-server` of this test's own, stopped when dropped.
struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    fn start() -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Self { port, child: None };
        server.restart();
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts the server (again, on the same port) and returns once it answers PING.
    fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server not found: install Debian's redis-server package (.ci/run does)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers_ping() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) else {
            return false;
        };
        let mut reply = [0; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// Kills the server at once, as a crash would.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One server process's worth: its rooms and its backplane.
struct Node {
    rooms: Rooms,
    backplane: RedisBackplane,
}

fn node(redis: &RedisServer, presence_ttl: Duration) -> Node {
    let config = RedisConfig::new(&redis.url())
        .unwrap()
        .presence_ttl(presence_ttl)
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .command_timeout(Duration::from_secs(1));
    let backplane = RedisBackplane::new(config);
    // Room for every message a test publishes before its clients read: the eviction of slow
    // members is tests/rooms.rs's subject, not these tests'.
    let rooms = Rooms::with_backplane(4 * DEFAULT_QUEUE_CAPACITY, backplane.clone());
    Node { rooms, backplane }
}

/// A member of `rooms` and the client end of its connection, over an in-memory stream.
fn member(rooms: &Rooms, name: &str) -> (Member, WebSocket<DuplexStream>) {
    let (server, client) = tokio::io::duplex(1 << 20);
    let server =
        WebSocket::from_connection(server, Connection::new(Role::Server, Config::default()));
    let client =
        WebSocket::from_connection(client, Connection::new(Role::Client, Config::default()));
    let (_reader, writer) = server.into_split();
    (rooms.attach(writer, name), client)
}

async fn next_text(ws: &mut WebSocket<DuplexStream>) -> String {
    let message = tokio::time::timeout(Duration::from_secs(10), ws.recv())
        .await
        .expect("no message within 10 s")
        .unwrap();
    match message {
        Message::Text(text) => text.as_str().to_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

async fn names(backplane: &RedisBackplane, room: &str) -> Vec<String> {
    let mut names: Vec<String> = backplane
        .presence(room)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_on_two_nodes_get_every_message_once_in_order_and_see_each_other() {
    let redis = RedisServer::start();
    let a = node(&redis, Duration::from_secs(10));
    let b = node(&redis, Duration::from_secs(10));
    let (ann, mut ann_ws) = member(&a.rooms, "ann");
    let (bob, mut bob_ws) = member(&b.rooms, "bob");
    let (cy, mut cy_ws) = member(&b.rooms, "cy");
    ann.join("red");
    bob.join("red");
    cy.join("blue");
    a.backplane.synced().await;
    b.backplane.synced().await;

    assert_eq!(names(&a.backplane, "red").await, ["ann", "bob"]);
    assert_eq!(names(&b.backplane, "red").await, ["ann", "bob"]);
    assert_eq!(names(&a.backplane, "blue").await, ["cy"]);
    let red = a.backplane.presence("red").await.unwrap();
    let nodes: Vec<&str> = red.iter().map(|p| p.node.as_str()).collect();
    assert!(nodes.contains(&a.backplane.node()) && nodes.contains(&b.backplane.node()));

    // Both nodes publish at once; each member must see each publisher's sequence whole.
    const COUNT: usize = 300;
    let publish = |rooms: Rooms, tag: &'static str| {
        tokio::spawn(async move {
            for i in 0..COUNT {
                let relay = rooms
                    .publish("red", &PreparedMessage::text(&format!("{tag} {i}")))
                    .relay;
                assert_eq!(relay, Relay::Relayed);
                if i % 16 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let (from_a, from_b) = (publish(a.rooms.clone(), "a"), publish(b.rooms.clone(), "b"));
    from_a.await.unwrap();
    from_b.await.unwrap();

    for ws in [&mut ann_ws, &mut bob_ws] {
        let mut next = [0usize; 2];
        for _ in 0..2 * COUNT {
            let text = next_text(ws).await;
            let (tag, i) = text.split_once(' ').unwrap();
            let slot = usize::from(tag == "b");
            assert_eq!(
                i.parse::<usize>().unwrap(),
                next[slot],
                "{tag}: lost, doubled or reordered"
            );
            next[slot] += 1;
        }
    }
    // Nothing more came: the next message either sees is the last one published.
    a.rooms.publish("red", &PreparedMessage::text("end"));
    assert_eq!(next_text(&mut ann_ws).await, "end");
    assert_eq!(next_text(&mut bob_ws).await, "end");
    // The other room heard none of it.
    b.rooms.publish("blue", &PreparedMessage::text("blue end"));
    assert_eq!(next_text(&mut cy_ws).await, "blue end");

    // Leaving shows in the other node's presence.
    bob.leave("red");
    b.backplane.synced().await;
    assert_eq!(names(&a.backplane, "red").await, ["ann"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_messages_reach_local_members_only_and_flow_again_after() {
    let mut redis = RedisServer::start();
    let a = node(&redis, Duration::from_secs(10));
    let b = node(&redis, Duration::from_secs(10));
    let (ann, mut ann_ws) = member(&a.rooms, "ann");
    let (bob, mut bob_ws) = member(&b.rooms, "bob");
    ann.join("red");
    bob.join("red");
    a.backplane.synced().await;
    b.backplane.synced().await;
    assert_eq!(
        a.rooms
            .publish("red", &PreparedMessage::text("before"))
            .relay,
        Relay::Relayed
    );
    assert_eq!(next_text(&mut bob_ws).await, "before");
    assert_eq!(next_text(&mut ann_ws).await, "before");

    redis.kill();
    a.backplane.disconnected().await;
    b.backplane.disconnected().await;
    for i in 0..10 {
        let published = a
            .rooms
            .publish("red", &PreparedMessage::text(&format!("during {i}")));
        assert_eq!(
            (published.relay, published.delivered),
            (Relay::LocalOnly, 1)
        );
    }
    assert!(
        a.backplane.presence("red").await.is_err(),
        "no presence without Redis"
    );
    // A join during the outage is written once Redis is back.
    let (cy, mut cy_ws) = member(&b.rooms, "cy");
    cy.join("red");
    for i in 0..10 {
        assert_eq!(next_text(&mut ann_ws).await, format!("during {i}"));
    }
    assert_eq!(a.rooms.stats().local_only, 10);

    redis.restart();
    a.backplane.connected().await;
    b.backplane.connected().await;
    b.backplane.synced().await;
    assert!(a.backplane.reconnects() >= 1 && b.backplane.reconnects() >= 1);
    assert_eq!(names(&a.backplane, "red").await, ["ann", "bob", "cy"]);
    assert_eq!(
        a.rooms
            .publish("red", &PreparedMessage::text("after"))
            .relay,
        Relay::Relayed
    );
    // The outage's messages never reached the other node: its members' next is "after".
    assert_eq!(next_text(&mut bob_ws).await, "after");
    assert_eq!(next_text(&mut cy_ws).await, "after");
    assert_eq!(next_text(&mut ann_ws).await, "after");
}

#[test]
fn a_node_that_dies_leaves_the_others_presence_within_the_ttl() {
    const TTL: Duration = Duration::from_millis(900);
    let redis = RedisServer::start();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    };
    let (rt_a, rt_b) = (runtime(), runtime());
    let a = rt_a.block_on(async { node(&redis, TTL) });
    let (ann, _ann_ws) = rt_a.block_on(async { member(&a.rooms, "ann") });
    ann.join("red");
    let b = rt_b.block_on(async { node(&redis, TTL) });
    let (bob, _bob_ws) = rt_b.block_on(async { member(&b.rooms, "bob") });
    bob.join("red");
    rt_b.block_on(b.backplane.synced());
    rt_a.block_on(a.backplane.synced());
    assert_eq!(rt_a.block_on(names(&a.backplane, "red")), ["ann", "bob"]);

    // Node B dies: its tasks and connections end with no clean-up, as when a process is killed.
    rt_b.shutdown_background();
    let died = Instant::now();
    rt_a.block_on(async {
        // Still listed right after (its entries expire rather than being removed)...
        assert_eq!(names(&a.backplane, "red").await, ["ann", "bob"]);
        // ...and gone once they expire: at most one TTL after B's last refresh.
        while names(&a.backplane, "red").await != ["ann"] {
            assert!(
                died.elapsed() < TTL * 2,
                "B still present {:?} after it died",
                died.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    // B's objects outlive its runtime here; dropping them must not need it.
    drop((bob, b));
}
