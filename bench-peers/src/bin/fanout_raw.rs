//! Fan-out calibration server: no WebSocket library. One room, every binary message from any
//! connection sent to every connection, each frame encoded once, and delivered in one pass:
//! when a read brings the publisher's frames, they are encoded into one buffer, then for every
//! member that buffer is written to its socket directly (`try_write`). Only a member whose
//! socket would block (or took part of it) keeps the rest in a pending buffer of its own, which
//! its writer task drains once the socket is writable; until it has, later frames are appended
//! to that buffer, so every member gets the frames in order. A member whose pending bytes would
//! pass those of [`QUEUE`] frames is dropped.
//!
//! ```text
//! cargo run --release --bin fanout_raw -- 127.0.0.1:9001
//! ```
//!
//! tokio `current_thread` runtime, `TCP_NODELAY`. Serves the load tool only: binary frames up
//! to 64 KiB, final, masked; anything else ends the connection.

use std::io;
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;

/// A member may fall behind by this many frames (of the size being published) before it is
/// dropped, as the other fan-out servers' queues allow.
const QUEUE: usize = 1024;

struct Member {
    id: u64,
    socket: Arc<OwnedWriteHalf>,
    pending: Arc<Mutex<Pending>>,
    /// Wakes the member's writer task when its socket would block.
    blocked: Arc<Notify>,
}

/// What a member's socket has not taken yet.
#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    /// The writer task owns the socket until it has drained `bytes`: the publisher only appends.
    draining: bool,
    /// The socket failed: drop the member.
    failed: bool,
}

type Room = Arc<Mutex<Vec<Member>>>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let room: Room = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    rfc6455_bench_peers::run_server("fanout_raw", false, move |stream| {
        let id = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        serve(stream, room.clone(), id)
    })
    .await
}

async fn serve(mut stream: TcpStream, room: Room, id: u64) -> io::Result<()> {
    let mut input = BytesMut::from(&rfc6455_bench_peers::accept(&mut stream).await?[..]);
    let (mut reader, writer) = stream.into_split();
    let member = Member {
        id,
        socket: Arc::new(writer),
        pending: Arc::default(),
        blocked: Arc::default(),
    };
    let task = tokio::spawn(write_loop(
        Arc::clone(&member.socket),
        Arc::clone(&member.pending),
        Arc::clone(&member.blocked),
    ));
    room.lock().unwrap().push(member);
    let mut batch = Vec::new();
    let result = async {
        loop {
            batch.clear();
            let mut largest = 0;
            while let Some(frame) = next_frame(&mut input)? {
                largest = largest.max(frame.len());
                batch.extend_from_slice(&frame);
            }
            if !batch.is_empty() {
                let limit = QUEUE * largest;
                room.lock()
                    .unwrap()
                    .retain(|member| deliver(member, &batch, limit));
            }
            input.reserve(64 * 1024);
            if reader.read_buf(&mut input).await? == 0 {
                return Ok(());
            }
        }
    }
    .await;
    room.lock().unwrap().retain(|member| member.id != id);
    task.abort();
    result
}

/// Writes `frames` to `member`'s socket, or appends them to what it has pending; false if the
/// member is to be dropped (its socket failed, or it fell `limit` bytes behind).
fn deliver(member: &Member, frames: &[u8], limit: usize) -> bool {
    let mut pending = member.pending.lock().unwrap();
    if pending.failed {
        return false;
    }
    if pending.draining {
        if pending.bytes.len() + frames.len() > limit {
            return false;
        }
        pending.bytes.extend_from_slice(frames);
        return true;
    }
    let written = match member.socket.try_write(frames) {
        Ok(n) => n,
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => 0,
        Err(_) => return false,
    };
    if written < frames.len() {
        pending.bytes.extend_from_slice(&frames[written..]);
        pending.draining = true;
        member.blocked.notify_one();
    }
    true
}

/// The next whole client frame in `input`, unmasked, as the server frame to send.
fn next_frame(input: &mut BytesMut) -> io::Result<Option<Bytes>> {
    if input.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (input[0], input[1]);
    if b0 != 0x82 || b1 & 0x80 == 0 {
        return Err(io::Error::other(
            "only final, masked binary frames are served",
        ));
    }
    let (len, header) = match b1 & 0x7f {
        126 if input.len() >= 4 => (usize::from(u16::from_be_bytes([input[2], input[3]])), 4),
        126 => return Ok(None),
        127 => return Err(io::Error::other("frames over 64 KiB are not served")),
        len => (usize::from(len), 2),
    };
    if input.len() < header + 4 + len {
        return Ok(None);
    }
    let frame = input.split_to(header + 4 + len);
    let mask = [
        frame[header],
        frame[header + 1],
        frame[header + 2],
        frame[header + 3],
    ];
    let mut out = BytesMut::with_capacity(header + len);
    out.put_u8(0x82);
    if header == 2 {
        out.put_u8(len as u8);
    } else {
        out.put_u8(126);
        out.put_u16(len as u16);
    }
    out.extend(
        frame[header + 4..]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4]),
    );
    Ok(Some(out.freeze()))
}

/// Drains a member's pending bytes whenever its socket would block, then hands the socket back
/// to the publishing pass.
async fn write_loop(
    socket: Arc<OwnedWriteHalf>,
    pending: Arc<Mutex<Pending>>,
    blocked: Arc<Notify>,
) {
    loop {
        blocked.notified().await;
        loop {
            if socket.writable().await.is_err() {
                pending.lock().unwrap().failed = true;
                return;
            }
            let mut guard = pending.lock().unwrap();
            match socket.try_write(&guard.bytes) {
                Ok(n) => {
                    guard.bytes.drain(..n);
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(_) => {
                    guard.failed = true;
                    return;
                }
            }
            if guard.bytes.is_empty() {
                guard.draining = false;
                break;
            }
        }
    }
}
