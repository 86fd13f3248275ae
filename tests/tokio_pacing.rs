//! The tokio adapter's loop under any pacing of its transport: reads that return any number of
//! bytes and sometimes wait first, writes that take any part of what they are given and
//! sometimes wait first. The README's batched echo loop must echo every message once, in order,
//! and end with the closing handshake; when the peer breaks the protocol, the echoes of the
//! messages before the violation and the Close that says why must all be written by the time the
//! error reaches the application, which drops the WebSocket on it.
#![cfg(feature = "tokio")]

mod support;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt;
use proptest::prelude::*;
use rfc6455::frame::OpCode;
use rfc6455::tokio::WebSocket;
use rfc6455::{CloseCode, Config, Connection, Error, ProtocolError, Role};
use support::{client_frame, close_payload, frames};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How one read or one write goes: at most this many bytes, after waiting once if `wait`.
#[derive(Debug, Clone, Copy)]
struct Step {
    most: usize,
    wait: bool,
}

/// A transport driven by a script. Waiting wakes the task at once, as a socket that becomes
/// ready would; the input ends (EOF) once all of it was read.
struct Paced {
    input: Vec<u8>,
    read: usize,
    reads: Vec<Step>,
    read_steps: usize,
    read_waited: bool,
    writes: Vec<Step>,
    write_steps: usize,
    write_waited: bool,
    written: Arc<Mutex<Vec<u8>>>,
}

impl Paced {
    /// Whether this step waits first; the next call for the same step goes ahead.
    fn waits(step: Step, waited: &mut bool, cx: &mut Context<'_>) -> bool {
        if step.wait && !*waited {
            *waited = true;
            cx.waker().wake_by_ref();
            return true;
        }
        *waited = false;
        false
    }
}

impl AsyncRead for Paced {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.read == this.input.len() {
            return Poll::Ready(Ok(()));
        }
        let step = this.reads[this.read_steps % this.reads.len()];
        if Self::waits(step, &mut this.read_waited, cx) {
            return Poll::Pending;
        }
        this.read_steps += 1;
        let n = step
            .most
            .min(this.input.len() - this.read)
            .min(buf.remaining());
        buf.put_slice(&this.input[this.read..this.read + n]);
        this.read += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Paced {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let step = this.writes[this.write_steps % this.writes.len()];
        if Self::waits(step, &mut this.write_waited, cx) {
            return Poll::Pending;
        }
        this.write_steps += 1;
        let n = step.most.min(buf.len());
        this.written.lock().unwrap().extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A data message as the client sends it: text (valid UTF-8) or binary.
#[derive(Debug, Clone)]
enum Data {
    Text(String),
    Binary(Vec<u8>),
}

impl Data {
    fn frame(&self) -> Vec<u8> {
        match self {
            Data::Text(text) => client_frame(0x81, text.as_bytes()),
            Data::Binary(bytes) => client_frame(0x82, bytes),
        }
    }

    /// The echo, as (opcode, payload).
    fn echo(&self) -> (OpCode, Vec<u8>) {
        match self {
            Data::Text(text) => (OpCode::Text, text.as_bytes().to_vec()),
            Data::Binary(bytes) => (OpCode::Binary, bytes.clone()),
        }
    }
}

fn data() -> impl Strategy<Value = Data> {
    prop_oneof![
        4 => "\\PC{0,80}".prop_map(Data::Text),
        4 => proptest::collection::vec(any::<u8>(), 0..300).prop_map(Data::Binary),
        // Large enough to be echoed by reference and read with a size hint.
        1 => proptest::collection::vec(any::<u8>(), 16_000..40_000).prop_map(Data::Binary),
    ]
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = (1usize..6000, any::<bool>()).prop_map(|(most, wait)| Step { most, wait });
    proptest::collection::vec(step, 1..8)
}

/// Runs the README's batched echo loop over `input` paced by `reads` and `writes`; returns how
/// the loop ended and every byte the server wrote.
fn echo(input: Vec<u8>, reads: Vec<Step>, writes: Vec<Step>) -> (Result<(), Error>, Vec<u8>) {
    let written = Arc::new(Mutex::new(Vec::new()));
    let stream = Paced {
        input,
        read: 0,
        reads,
        read_steps: 0,
        read_waited: false,
        writes,
        write_steps: 0,
        write_waited: false,
        written: Arc::clone(&written),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let result = runtime.block_on(async {
        let serve = async {
            let conn = Connection::new(Role::Server, Config::default());
            let mut ws = WebSocket::from_connection(stream, conn);
            while let Some(message) = ws.next().await {
                let message = message?;
                if message.is_text() || message.is_binary() {
                    ws.feed(message).await?;
                }
            }
            Ok(())
        };
        // Paused time: a loop that waited forever would run the clock to this at once.
        tokio::time::timeout(Duration::from_secs(600), serve)
            .await
            .expect("the loop ends")
    });
    let written = written.lock().unwrap().clone();
    (result, written)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_message_is_echoed_once_in_order_then_the_close(
        messages in proptest::collection::vec(data(), 0..12),
        reads in steps(),
        writes in steps(),
    ) {
        let mut input: Vec<u8> = messages.iter().flat_map(Data::frame).collect();
        input.extend(client_frame(0x88, &close_payload(CloseCode::NORMAL, "bye")));
        let (result, written) = echo(input, reads, writes);
        prop_assert!(result.is_ok(), "{result:?}");
        let mut expected: Vec<_> = messages.iter().map(Data::echo).collect();
        expected.push((OpCode::Close, CloseCode::NORMAL.0.to_be_bytes().to_vec()));
        prop_assert_eq!(frames(&written), expected);
    }

    #[test]
    fn a_violation_comes_after_the_echoes_before_it_and_the_close_are_written(
        before in proptest::collection::vec(data(), 0..8),
        after in proptest::collection::vec(data(), 0..3),
        reads in steps(),
        writes in steps(),
    ) {
        let mut input: Vec<u8> = before.iter().flat_map(Data::frame).collect();
        // A frame with the reserved opcode 0x3: RFC 6455 §5.2, fail the connection (1002).
        input.extend(client_frame(0x83, b""));
        input.extend(after.iter().flat_map(Data::frame));
        let (result, written) = echo(input, reads, writes);
        prop_assert!(
            matches!(result, Err(Error::Protocol(ProtocolError::ReservedOpcode(3)))),
            "{result:?}"
        );
        let mut expected: Vec<_> = before.iter().map(Data::echo).collect();
        expected.push((OpCode::Close, CloseCode::PROTOCOL_ERROR.0.to_be_bytes().to_vec()));
        prop_assert_eq!(frames(&written), expected);
    }
}
