//! Fan-out calibration server: no WebSocket library. The same shape as `fanout_rooms` (one room,
//! every binary message from any connection sent to every connection, a writer task and a
//! bounded queue of 1024 frames per member, a member whose queue is full dropped) with the
//! least work that shape allows: the handshake and client frames read by hand, the server frame
//! built once and shared (`Bytes`), each writer copying whatever frames are waiting into one
//! buffer and writing it in one call.
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
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

type Room = Arc<Mutex<Vec<(u64, mpsc::Sender<Bytes>)>>>;

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
    let (tx, rx) = mpsc::channel(1024);
    room.lock().unwrap().push((id, tx));
    let task = tokio::spawn(write_loop(writer, rx));
    let result = async {
        loop {
            while let Some(frame) = next_frame(&mut input)? {
                room.lock()
                    .unwrap()
                    .retain(|(_, member)| member.try_send(frame.clone()).is_ok());
            }
            input.reserve(64 * 1024);
            if reader.read_buf(&mut input).await? == 0 {
                return Ok(());
            }
        }
    }
    .await;
    room.lock().unwrap().retain(|(member, _)| *member != id);
    task.abort();
    result
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

async fn write_loop(mut writer: OwnedWriteHalf, mut rx: mpsc::Receiver<Bytes>) -> io::Result<()> {
    let mut out = Vec::new();
    while let Some(frame) = rx.recv().await {
        out.extend_from_slice(&frame);
        while let Ok(frame) = rx.try_recv() {
            out.extend_from_slice(&frame);
        }
        writer.write_all(&out).await?;
        out.clear();
    }
    Ok(())
}
