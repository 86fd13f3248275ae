//! Calibration echo server with no WebSocket library: the ceiling for the others.
//!
//! ```text
//! cargo run --release --bin echo_raw -- 127.0.0.1:9001
//! ```
//!
//! Hand-written handshake, then per wakeup: one read into a buffer (at least 64 KiB free); every complete frame in it
//! gets its header rewritten to the server form (mask bit cleared, same length) and its payload
//! unmasked into an output buffer; one write of all of it. A partial frame stays in the buffer
//! for the next read. Data frames (text, binary, continuation) are echoed frame by frame with
//! no UTF-8 check and no message assembly, pings are answered, pongs dropped, a close is
//! echoed and ends the connection. tokio `current_thread` runtime.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Free space ensured in the input buffer before each read.
const MIN_READ: usize = 64 * 1024;
/// Frames longer than this are refused, like the 64 MiB message limit of the other servers.
const MAX_FRAME: usize = 64 << 20;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    rfc6455_bench_peers::run_server("echo_raw", false, serve).await
}

async fn serve(mut stream: TcpStream) -> io::Result<()> {
    // Bytes received and not yet echoed. Reads go to its spare capacity, which is neither
    // zeroed nor touched before data arrives: an idle connection keeps no resident buffer.
    let mut input = rfc6455_bench_peers::accept(&mut stream).await?;
    let mut output = Vec::new();
    loop {
        // Every complete frame of `input`, rewritten into `output`.
        let mut pos = 0;
        let mut needed = 0;
        let mut closing = false;
        while !closing {
            let Some(header) = parse_header(&input[pos..])? else {
                break;
            };
            let end = pos + header.len + header.payload_len;
            if end > input.len() {
                needed = end - pos;
                break;
            }
            let frame = &input[pos..end];
            match header.opcode {
                0x0..=0x2 => echo_frame(&mut output, header.first, frame, &header),
                0x8 => {
                    echo_frame(&mut output, header.first, frame, &header);
                    closing = true;
                }
                0x9 => echo_frame(&mut output, (header.first & 0xf0) | 0xa, frame, &header),
                _ => {}
            }
            pos = end;
        }
        if !output.is_empty() {
            stream.write_all(&output).await?;
            output.clear();
        }
        if closing {
            return Ok(());
        }
        input.drain(..pos);
        input.reserve(needed.saturating_sub(input.len()).max(MIN_READ));
        if stream.read_buf(&mut input).await? == 0 {
            return Ok(());
        }
    }
}

/// A client frame's header.
struct Header {
    /// FIN, RSV and opcode byte.
    first: u8,
    opcode: u8,
    /// Header length in bytes: 6, 8 or 14.
    len: usize,
    payload_len: usize,
    key: [u8; 4],
}

/// Parses the header at the start of `buf`, or `None` if it is not all there yet.
fn parse_header(buf: &[u8]) -> io::Result<Option<Header>> {
    if buf.len() < 2 {
        return Ok(None);
    }
    if buf[1] & 0x80 == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "unmasked client frame",
        ));
    }
    let (length_bytes, payload_len) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (2, u16::from_be_bytes([buf[2], buf[3]]) as usize),
        127 if buf.len() >= 10 => {
            let mut be = [0u8; 8];
            be.copy_from_slice(&buf[2..10]);
            (
                8,
                usize::try_from(u64::from_be_bytes(be)).unwrap_or(usize::MAX),
            )
        }
        126 | 127 => return Ok(None),
        short => (0, usize::from(short)),
    };
    if payload_len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let len = 2 + length_bytes + 4;
    if buf.len() < len {
        return Ok(None);
    }
    let mut key = [0u8; 4];
    key.copy_from_slice(&buf[len - 4..len]);
    Ok(Some(Header {
        first: buf[0],
        opcode: buf[0] & 0x0f,
        len,
        payload_len,
        key,
    }))
}

/// Appends the server form of the client frame `frame`: first byte `first`, the client's
/// length bytes without the mask bit, then the payload unmasked.
fn echo_frame(output: &mut Vec<u8>, first: u8, frame: &[u8], header: &Header) {
    output.push(first);
    output.push(frame[1] & 0x7f);
    output.extend_from_slice(&frame[2..header.len - 4]);
    let start = output.len();
    output.extend_from_slice(&frame[header.len..]);
    unmask(&mut output[start..], header.key);
}

/// XORs `data` with the repeated `key`, eight bytes at a time.
fn unmask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    // The remainder starts at a multiple of 8, so the key lines up again at index 0.
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}
