//! Rooms: publish a message to everyone in a room, encoded once (feature `rooms`).
//!
//! A [`Rooms`] registry holds named rooms of [`Member`]s. [`Rooms::attach`] turns the writing
//! half of a split [`WebSocket`](crate::tokio::WebSocket) into a member with a bounded queue.
//! [`Rooms::publish`] shares one [`PreparedMessage`](crate::PreparedMessage) with every member
//! of the room; nothing is encoded or copied per member.
//!
//! # Writing: one pass, a task only for a socket that would block
//!
//! Publishing touches no member: the message joins what is pending since the last flushing pass,
//! together with the room's members at that moment (shared by every message published while
//! nobody joins or leaves). The first publish after a pass wakes the registry's flushing task,
//! which runs once the publishing task yields: everything published meanwhile is then written
//! in one pass, the frames of a room's pending messages joined once for all its members and
//! written to each member's socket directly, in one `write` per member. Only a member whose
//! socket would block (or whose connection another task holds at that moment) is handed to its
//! own writer task, which waits for the socket, writes whatever has piled up meanwhile, and
//! hands the member back to the pass once its queue is empty. No task is woken per member per
//! message. A publisher that does not yield does not pile up messages: the publish that finds
//! a queue's length ([`Rooms::with_queue_capacity`]) pending makes the pass itself. On a
//! multi-thread runtime, a pass over more than 256 members is split into tasks of about 256,
//! each member in one of them, so that the writes spread over the worker threads. Under
//! permessage-deflate the message is compressed once for all the members that negotiated the
//! same no-context-takeover parameters (see
//! [compressed once for many](crate::prepared#compressed-once-for-many)).
//!
//! # Delivery and members that fall behind
//!
//! Every member of a room gets every message published to the room while it is a member (the
//! members a message goes to are those the room has when [`publish`](Rooms::publish) is
//! called), and a member gets everything sent to it, by any room or by [`Member::send`], in the
//! order of those calls (they are serialised: two publishers never interleave differently for
//! different members).
//! A member whose queue is full when a message reaches it cannot keep up: it is **evicted**:
//! it leaves every room, [`RoomStats::evicted`] counts it, its writer drops what is still
//! queued and, after what it had already handed to the connection, sends a Close frame with
//! [`EVICTED_CODE`] and [`EVICTED_REASON`] (giving up after 5 s on a peer that does not read),
//! and [`Member::evicted`] resolves so that the task reading from the connection can stop.
//! Memory per member is thus bounded by the queue's capacity in shared frames.
//!
//! # Locks
//!
//! No lock is held across an `.await`; publishing locks only the room published to (and, for
//! a push, the registry's list of what is pending), so a publish to a room of 10,000 members
//! does not hold up publishing to, joining or leaving other rooms. A member's queue is locked
//! while the flushing pass writes it to the socket (one non-blocking `write`).
//!
//! # Example
//!
//! ```no_run
//! use rfc6455::PreparedMessage;
//! use rfc6455::rooms::Rooms;
//! use rfc6455::tokio::WebSocket;
//!
//! # async fn run() -> Result<(), rfc6455::Error> {
//! let rooms = Rooms::new();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     let rooms = rooms.clone();
//!     tokio::spawn(async move {
//!         let (mut reader, writer) = WebSocket::accept(stream).await?.into_split();
//!         let member = rooms.attach(writer, "anonymous");
//!         member.join("lobby");
//!         loop {
//!             tokio::select! {
//!                 message = reader.recv() => match message?.as_text() {
//!                     Some(text) => { rooms.publish("lobby", &PreparedMessage::text(text)); }
//!                     None => {}
//!                 },
//!                 () = member.evicted() => break,
//!             }
//!         }
//!         // Dropping the member leaves every room it is in.
//!         Ok::<(), rfc6455::Error>(())
//!     });
//! }
//! # }
//! ```
#![forbid(unsafe_code)]

mod backplane;
mod entry;
mod index;
mod member;
mod published;
#[cfg(feature = "redis")]
pub mod redis;
mod registry;
mod room;
mod stats;

pub use backplane::{Backplane, Local};
pub use entry::{MemberId, Presence};
pub use member::{EVICTED_CODE, EVICTED_REASON, Member};
pub use published::{Published, Relay};
pub use registry::{DEFAULT_QUEUE_CAPACITY, Rooms};
pub use stats::RoomStats;
