//! Rooms over real loopback sockets: who gets what is published, presence, clean-up, and the
//! eviction of a member that falls behind.
#![cfg(feature = "rooms")]

mod support;

use rfc6455::rooms::{
    DEFAULT_QUEUE_CAPACITY, EVICTED_CODE, EVICTED_REASON, Member, Published, Relay, Rooms,
};
use rfc6455::tokio::{WebSocket, WebSocketReader};
use rfc6455::{CloseCode, CloseFrame, Message, PreparedMessage};
use support::{tokio_listener, ws_url};
use tokio::net::TcpStream;

/// A client connected to a member of `rooms`, and the server's reading half of that connection
/// (kept so the connection stays open and pings are answered).
struct Client {
    ws: WebSocket<TcpStream>,
    member: Member,
    _server_reader: WebSocketReader<TcpStream>,
}

async fn client(rooms: &Rooms, name: &str) -> Client {
    let (listener, addr) = tokio_listener().await;
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        WebSocket::accept(stream).await.unwrap().into_split()
    });
    let (ws, _) = rfc6455::tokio::connect(&ws_url(addr)).await.unwrap();
    let (reader, writer) = server.await.unwrap();
    Client {
        ws,
        member: rooms.attach(writer, name),
        _server_reader: reader,
    }
}

async fn next_text(ws: &mut WebSocket<TcpStream>) -> String {
    match ws.recv().await.unwrap() {
        Message::Text(text) => text.as_str().to_owned(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

fn names(rooms: &Rooms, room: &str) -> Vec<String> {
    rooms
        .presence(room)
        .iter()
        .map(|p| p.name.to_string())
        .collect()
}

#[tokio::test]
async fn every_member_gets_each_message_of_its_rooms_once_in_order() {
    let rooms = Rooms::new();
    let mut ann = client(&rooms, "ann").await;
    let mut bob = client(&rooms, "bob").await;
    let mut cat = client(&rooms, "cat").await;
    assert!(ann.member.join("red"));
    assert!(!ann.member.join("red"), "joining twice is refused");
    assert!(ann.member.join("blue"));
    assert!(bob.member.join("red"));
    assert!(cat.member.join("blue"));

    for i in 0..100 {
        let red = rooms.publish("red", &PreparedMessage::text(&format!("red {i}")));
        assert_eq!(
            red,
            Published {
                relay: Relay::Local,
                delivered: 2,
            }
        );
        rooms.publish("blue", &PreparedMessage::text(&format!("blue {i}")));
    }
    assert_eq!(
        rooms.publish("green", &PreparedMessage::text("nobody")),
        Published::default()
    );
    // A last message in every room: whatever a member was wrongly sent arrives before it.
    rooms.publish("red", &PreparedMessage::text("end"));
    rooms.publish("blue", &PreparedMessage::text("end"));

    let mut ann_got = Vec::new();
    let mut ends = 0;
    while ends < 2 {
        let text = next_text(&mut ann.ws).await;
        if text == "end" {
            ends += 1;
        } else {
            ann_got.push(text);
        }
    }
    let ann_red: Vec<_> = ann_got
        .iter()
        .filter(|t| t.starts_with("red"))
        .cloned()
        .collect();
    let ann_blue: Vec<_> = ann_got
        .iter()
        .filter(|t| t.starts_with("blue"))
        .cloned()
        .collect();
    let red: Vec<String> = (0..100).map(|i| format!("red {i}")).collect();
    let blue: Vec<String> = (0..100).map(|i| format!("blue {i}")).collect();
    assert_eq!(ann_red, red);
    assert_eq!(ann_blue, blue);
    assert_eq!(ann_got.len(), 200, "nothing but the two rooms' messages");

    for (client, expected) in [(&mut bob, &red), (&mut cat, &blue)] {
        for text in expected {
            assert_eq!(&next_text(&mut client.ws).await, text);
        }
        assert_eq!(next_text(&mut client.ws).await, "end");
    }
    let stats = rooms.stats();
    assert_eq!(stats.published, 203);
    assert_eq!(stats.delivered, 2 * 101 + 2 * 101);
    assert_eq!(stats.evicted, 0);
}

#[tokio::test]
async fn presence_follows_joins_leaves_and_dropped_members() {
    let rooms = Rooms::new();
    let ann = client(&rooms, "ann").await;
    let bob = client(&rooms, "bob").await;
    let cat = client(&rooms, "cat").await;
    bob.member.join("red");
    ann.member.join("red");
    cat.member.join("red");
    ann.member.join("blue");
    assert_eq!(names(&rooms, "red"), ["bob", "ann", "cat"], "join order");
    assert_eq!(rooms.len("red"), 3);
    assert!(rooms.contains("blue", ann.member.id()));
    assert!(!rooms.contains("blue", bob.member.id()));
    assert_eq!(ann.member.rooms(), ["blue", "red"]);
    assert_eq!(rooms.rooms(), ["blue", "red"]);

    assert!(cat.member.leave("red"));
    assert!(!cat.member.leave("red"), "leaving twice is refused");
    assert_eq!(names(&rooms, "red"), ["bob", "ann"]);

    // A disconnect: the application drops the member, which leaves every room.
    let ann_id = ann.member.id();
    drop(ann);
    assert_eq!(names(&rooms, "red"), ["bob"]);
    assert!(!rooms.contains("red", ann_id));
    assert_eq!(rooms.rooms(), ["red"], "an empty room is removed");
    assert!(names(&rooms, "blue").is_empty());

    // The room can be joined again after it emptied.
    drop(bob);
    assert!(rooms.rooms().is_empty());
    assert!(cat.member.join("red"));
    assert_eq!(names(&rooms, "red"), ["cat"]);
}

#[tokio::test]
async fn a_member_can_be_sent_a_message_of_its_own() {
    let rooms = Rooms::new();
    let mut ann = client(&rooms, "ann").await;
    let bob = client(&rooms, "bob").await;
    ann.member.join("red");
    bob.member.join("red");
    assert!(ann.member.send(&PreparedMessage::text("just for ann")));
    rooms.publish("red", &PreparedMessage::text("for all"));
    assert_eq!(next_text(&mut ann.ws).await, "just for ann");
    assert_eq!(next_text(&mut ann.ws).await, "for all");
}

#[tokio::test]
async fn a_member_that_does_not_read_is_evicted_with_a_close_and_the_others_get_everything() {
    const CAPACITY: usize = 4;
    // Big enough that the loopback socket's buffers fill after a few dozen messages.
    const SIZE: usize = 256 * 1024;
    let rooms = Rooms::with_queue_capacity(CAPACITY);
    let mut fast = client(&rooms, "fast").await;
    let mut slow = client(&rooms, "slow").await;
    fast.member.join("red");
    slow.member.join("red");
    fast.member.join("blue");
    slow.member.join("blue");

    let payload = |i: u32| {
        let mut data = vec![0u8; SIZE];
        data[..4].copy_from_slice(&i.to_be_bytes());
        data
    };
    let mut sent = 0u32;
    let evicted_at = loop {
        assert!(sent < 2_000, "the slow member was never evicted");
        let published = rooms.publish("red", &PreparedMessage::binary(&payload(sent)));
        assert_eq!(
            published.delivered, 2,
            "both are members until the message is written"
        );
        sent += 1;
        // The fast member reads each message before the next is published: it never falls
        // behind, whatever the scheduling. Once it has, the flushing pass has been through
        // both members.
        let message = fast.ws.recv().await.unwrap();
        assert_eq!(message.as_payload(), &payload(sent - 1)[..]);
        if rooms.stats().evicted == 1 {
            break sent;
        }
    };
    assert!(evicted_at > CAPACITY as u32);
    assert_eq!(rooms.stats().evicted, 1);
    assert!(slow.member.is_evicted());
    slow.member.evicted().await;
    assert_eq!(names(&rooms, "red"), ["fast"], "evicted from every room");
    assert_eq!(names(&rooms, "blue"), ["fast"]);
    assert!(slow.member.rooms().is_empty());
    assert!(!slow.member.join("red"), "an evicted member joins nothing");
    assert!(!slow.member.send(&PreparedMessage::text("late")));

    // The slow member, reading at last, finds a prefix of the messages in order, then the
    // Close frame that says why.
    let mut expected = 0u32;
    let close = loop {
        match slow.ws.recv().await.unwrap() {
            Message::Binary(data) => {
                assert_eq!(&data[..], &payload(expected)[..]);
                expected += 1;
            }
            Message::Close(frame) => break frame,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(expected < evicted_at);
    assert_eq!(
        close,
        Some(CloseFrame::new(EVICTED_CODE, EVICTED_REASON).unwrap())
    );

    // Later messages reach the fast member only.
    assert_eq!(
        rooms.publish("red", &PreparedMessage::text("after")),
        Published {
            relay: Relay::Local,
            delivered: 1,
        }
    );
    assert_eq!(next_text(&mut fast.ws).await, "after");
}

#[tokio::test]
async fn close_goes_out_after_what_was_queued_and_a_rename_shows_in_presence() {
    let rooms = Rooms::new();
    let mut ann = client(&rooms, "ann").await;
    ann.member.join("red");
    ann.member.set_name("anne");
    assert_eq!(names(&rooms, "red"), ["anne"]);
    assert_eq!(&*ann.member.name(), "anne");
    rooms.publish("red", &PreparedMessage::text("last words"));
    assert!(ann.member.close(CloseCode::GOING_AWAY, "bye"));
    assert_eq!(next_text(&mut ann.ws).await, "last words");
    assert_eq!(
        ann.ws.recv().await.unwrap(),
        Message::Close(Some(CloseFrame::new(CloseCode::GOING_AWAY, "bye").unwrap()))
    );
}

#[tokio::test]
async fn a_dropped_member_still_gets_what_was_queued_for_it() {
    let rooms = Rooms::new();
    let mut ann = client(&rooms, "ann").await;
    ann.member.join("red");
    for i in 0..10 {
        rooms.publish("red", &PreparedMessage::text(&format!("{i}")));
    }
    drop(ann.member);
    for i in 0..10 {
        assert_eq!(next_text(&mut ann.ws).await, format!("{i}"));
    }
}

/// A broker that is down, or full, as the test says; it records what it was asked to carry.
#[derive(Debug, Default)]
struct FakeBroker {
    answer: std::sync::Mutex<Option<Relay>>,
    carried: std::sync::Mutex<Vec<(String, Vec<u8>)>>,
    changes: std::sync::atomic::AtomicUsize,
    local: std::sync::Mutex<Option<rfc6455::rooms::Local>>,
}

#[derive(Debug, Clone, Default)]
struct Fake(std::sync::Arc<FakeBroker>);

impl rfc6455::rooms::Backplane for Fake {
    fn start(&self, local: rfc6455::rooms::Local) {
        *self.0.local.lock().unwrap() = Some(local);
    }

    fn changed(&self) {
        self.0
            .changes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn publish(&self, room: &str, message: &PreparedMessage) -> Relay {
        let answer = self.0.answer.lock().unwrap().unwrap_or(Relay::Relayed);
        if answer == Relay::Relayed {
            let carried = (room.to_owned(), message.payload().to_vec());
            self.0.carried.lock().unwrap().push(carried);
        }
        answer
    }
}

#[tokio::test]
async fn with_a_backplane_messages_go_through_it_and_outages_are_delivered_locally_and_counted() {
    let broker = Fake::default();
    let rooms = Rooms::with_backplane(DEFAULT_QUEUE_CAPACITY, broker.clone());
    let mut ann = client(&rooms, "ann").await;
    ann.member.join("red");
    assert!(broker.0.changes.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    let local = broker.0.local.lock().unwrap().clone().unwrap();
    assert_eq!(local.rooms(), ["red"]);
    assert_eq!(local.presence("red")[0].name.as_ref(), "ann");

    // Relayed: nothing is delivered until the broker brings it back.
    let published = rooms.publish("red", &PreparedMessage::text("via broker"));
    assert_eq!((published.relay, published.delivered), (Relay::Relayed, 0));
    assert_eq!(
        *broker.0.carried.lock().unwrap(),
        [("red".to_owned(), b"via broker".to_vec())]
    );
    local.deliver("red", &PreparedMessage::text("via broker"));
    assert_eq!(next_text(&mut ann.ws).await, "via broker");

    // Down: local members only, counted.
    *broker.0.answer.lock().unwrap() = Some(Relay::LocalOnly);
    let published = rooms.publish("red", &PreparedMessage::text("outage"));
    assert_eq!(
        (published.relay, published.delivered),
        (Relay::LocalOnly, 1)
    );
    assert_eq!(next_text(&mut ann.ws).await, "outage");

    // Full: refused, counted, delivered nowhere.
    *broker.0.answer.lock().unwrap() = Some(Relay::Refused);
    let published = rooms.publish("red", &PreparedMessage::text("refused"));
    assert_eq!((published.relay, published.delivered), (Relay::Refused, 0));
    *broker.0.answer.lock().unwrap() = Some(Relay::LocalOnly);
    rooms.publish("red", &PreparedMessage::text("next"));
    assert_eq!(
        next_text(&mut ann.ws).await,
        "next",
        "the refused message never came"
    );

    let stats = rooms.stats();
    assert_eq!((stats.local_only, stats.refused), (2, 1));
    drop(rooms);
    drop(ann);
    assert!(
        !local.is_alive(),
        "the backplane outlives its rooms and finds them gone"
    );
    assert!(
        local
            .deliver("red", &PreparedMessage::text("late"))
            .is_none()
    );
}

#[tokio::test]
async fn a_member_whose_socket_fills_gets_everything_in_order_once_it_reads_and_after() {
    // 200 × 64 KiB is more than the loopback socket buffers hold: the direct writes block
    // part-way and the member's writer task takes over, then hands the member back.
    const SIZE: usize = 64 * 1024;
    let rooms = Rooms::with_queue_capacity(1000);
    let mut ann = client(&rooms, "ann").await;
    ann.member.join("red");
    let payload = |i: u32| {
        let mut data = vec![i as u8; SIZE];
        data[..4].copy_from_slice(&i.to_be_bytes());
        data
    };
    for i in 0..200 {
        let published = rooms.publish("red", &PreparedMessage::binary(&payload(i)));
        assert_eq!(published.delivered, 1, "message {i}");
        // Let the flushing pass and the writer run between publishes.
        tokio::task::yield_now().await;
    }
    for i in 0..200 {
        let message = ann.ws.recv().await.unwrap();
        assert_eq!(message.as_payload(), &payload(i)[..], "message {i}");
    }
    // Drained: what comes next is written directly again, still in order.
    for i in 0..10 {
        rooms.publish("red", &PreparedMessage::text(&format!("after {i}")));
    }
    for i in 0..10 {
        assert_eq!(next_text(&mut ann.ws).await, format!("after {i}"));
    }
    assert!(!ann.member.is_evicted());
}

#[tokio::test]
async fn a_burst_published_before_yielding_reaches_each_of_300_members_in_order() {
    // More members than the writes a task may poll before it must yield (128): the flushing
    // pass writes every one of them.
    burst_to_300_members().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_several_threads_a_burst_reaches_each_of_300_members_in_order() {
    // Over 256 members, the pass is split into tasks that may run at once.
    burst_to_300_members().await;
}

async fn burst_to_300_members() {
    let rooms = Rooms::new();
    let mut clients = Vec::new();
    for i in 0..300 {
        let client = client(&rooms, &format!("m{i}")).await;
        client.member.join("red");
        clients.push(client);
    }
    for i in 0..20 {
        let published = rooms.publish("red", &PreparedMessage::text(&format!("{i}")));
        assert_eq!(published.delivered, 300);
    }
    for client in &mut clients {
        for i in 0..20 {
            assert_eq!(next_text(&mut client.ws).await, format!("{i}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn publishers_on_several_threads_give_every_member_the_same_order() {
    const EACH: usize = 300;
    // Room for the whole burst: the members read only once it is published.
    let rooms = Rooms::with_queue_capacity(3 * EACH);
    let mut clients = Vec::new();
    for i in 0..4 {
        let client = client(&rooms, &format!("m{i}")).await;
        client.member.join("red");
        clients.push(client);
    }
    let publishers: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|name| {
            let rooms = rooms.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    rooms.publish("red", &PreparedMessage::text(&format!("{name}{i}")));
                    if i % 7 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.unwrap();
    }
    let mut orders = Vec::new();
    for client in &mut clients {
        let mut got = Vec::new();
        for _ in 0..3 * EACH {
            got.push(next_text(&mut client.ws).await);
        }
        for name in ["a", "b", "c"] {
            let mine: Vec<&String> = got.iter().filter(|m| m.starts_with(name)).collect();
            let expected: Vec<String> = (0..EACH).map(|i| format!("{name}{i}")).collect();
            assert_eq!(
                mine,
                expected.iter().collect::<Vec<_>>(),
                "{name}'s messages in order"
            );
        }
        orders.push(got);
    }
    assert!(
        orders.windows(2).all(|pair| pair[0] == pair[1]),
        "every member got the room's messages in the same order"
    );
}

#[tokio::test]
async fn a_message_goes_to_the_members_of_the_room_when_it_was_published() {
    // Publishes, a join and a leave, all before the flushing pass runs: each message reaches
    // exactly the members the room had when it was published.
    let rooms = Rooms::new();
    let mut ann = client(&rooms, "ann").await;
    let mut bob = client(&rooms, "bob").await;
    ann.member.join("red");
    rooms.publish("red", &PreparedMessage::text("ann only"));
    bob.member.join("red");
    rooms.publish("red", &PreparedMessage::text("both"));
    ann.member.leave("red");
    rooms.publish("red", &PreparedMessage::text("bob only"));
    rooms.publish("red", &PreparedMessage::text("end"));
    ann.member.join("red");
    rooms.publish("red", &PreparedMessage::text("end"));

    let mut ann_got = Vec::new();
    while ann_got.last().is_none_or(|last| last != "end") {
        ann_got.push(next_text(&mut ann.ws).await);
    }
    assert_eq!(ann_got, ["ann only", "both", "end"]);
    for expected in ["both", "bob only", "end", "end"] {
        assert_eq!(next_text(&mut bob.ws).await, expected);
    }
}

#[tokio::test]
async fn a_member_of_several_rooms_gets_their_messages_in_the_order_published() {
    let rooms = Rooms::new();
    let mut ann = client(&rooms, "ann").await;
    ann.member.join("red");
    ann.member.join("blue");
    let mut expected = Vec::new();
    for i in 0..30 {
        let room = if i % 3 == 0 { "blue" } else { "red" };
        let text = format!("{room} {i}");
        rooms.publish(room, &PreparedMessage::text(&text));
        expected.push(text);
        if i == 10 {
            assert!(ann.member.send(&PreparedMessage::text("just for ann")));
            expected.push("just for ann".to_owned());
        }
    }
    for text in expected {
        assert_eq!(next_text(&mut ann.ws).await, text);
    }
}

#[test]
fn a_publisher_that_never_yields_has_its_messages_written_every_queue_length() {
    // The registry lives on a runtime that is not running while the messages are published
    // (from this thread, outside it): its flushing task never gets to run, so what reaches the
    // client was written by the publishes themselves, each time a queue's length was pending.
    const CAPACITY: usize = 8;
    const MESSAGES: usize = 10 * CAPACITY;
    let server = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (mut ws, _) = rfc6455::tokio::connect(&ws_url(addr)).await.unwrap();
            let mut got = Vec::new();
            for _ in 0..MESSAGES {
                got.push(next_text(&mut ws).await);
            }
            got
        })
    });
    let rooms = Rooms::with_queue_capacity(CAPACITY);
    let (_reader, member) = server.block_on(async {
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let (reader, writer) = WebSocket::accept(stream).await.unwrap().into_split();
        let member = rooms.attach(writer, "ann");
        member.join("red");
        (reader, member)
    });
    for i in 0..MESSAGES {
        rooms.publish("red", &PreparedMessage::text(&format!("{i}")));
    }
    let expected: Vec<String> = (0..MESSAGES).map(|i| format!("{i}")).collect();
    assert_eq!(client.join().unwrap(), expected);
    assert!(!member.is_evicted());
}

#[tokio::test]
async fn a_burst_longer_than_the_queue_is_written_as_it_is_published() {
    // A publisher that does not yield for more messages than a member may queue: the pending
    // messages are written by the publish that reaches the queue's capacity, so members that
    // read keep up and nobody is evicted.
    const CAPACITY: usize = 8;
    let rooms = Rooms::with_queue_capacity(CAPACITY);
    let mut ann = client(&rooms, "ann").await;
    let mut bob = client(&rooms, "bob").await;
    ann.member.join("red");
    bob.member.join("red");
    for i in 0..10 * CAPACITY {
        rooms.publish("red", &PreparedMessage::text(&format!("{i}")));
    }
    for client in [&mut ann, &mut bob] {
        for i in 0..10 * CAPACITY {
            assert_eq!(next_text(&mut client.ws).await, format!("{i}"));
        }
    }
    assert_eq!(rooms.stats().evicted, 0);
}
