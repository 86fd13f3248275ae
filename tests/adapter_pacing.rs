//! The adapters' loops under any pacing of their transport: reads that return any number of
//! bytes and sometimes wait first (tokio: `Pending`; blocking: `Interrupted`), writes that take
//! any part of what they are given and sometimes wait first. The batched echo loop (the
//! README's, and the blocking adapter's `feed` example) must echo every message once, in order,
//! and end with the closing handshake; when the peer breaks the protocol, the echoes of the
//! messages before the violation and the Close that says why must all be written by the time the
//! error reaches the application, which drops the WebSocket on it.
#![cfg(feature = "std")]

mod support;

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use rfc6455::frame::OpCode;
use rfc6455::{CloseCode, Config, Connection, Error, ProtocolError, Role};
use support::{client_frame, close_payload, frames};

/// How one read or one write goes: at most this many bytes, after waiting once if `wait`.
#[derive(Debug, Clone, Copy)]
struct Step {
    most: usize,
    wait: bool,
}

/// A transport driven by a script; the input ends (EOF) once all of it was read.
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
    fn new(input: Vec<u8>, reads: Vec<Step>, writes: Vec<Step>) -> (Self, Arc<Mutex<Vec<u8>>>) {
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
        (stream, written)
    }

    /// The next read's step, or `None` once the input is all read (EOF). `Some(None)`: this
    /// call waits; the next call for the same step goes ahead.
    fn next_read(&mut self) -> Option<Option<Step>> {
        if self.read == self.input.len() {
            return None;
        }
        let step = self.reads[self.read_steps % self.reads.len()];
        if step.wait && !self.read_waited {
            self.read_waited = true;
            return Some(None);
        }
        self.read_waited = false;
        self.read_steps += 1;
        Some(Some(step))
    }

    /// Takes at most `most` bytes of input into `buf`; returns how many.
    fn take_input(&mut self, most: usize, buf: &mut [u8]) -> usize {
        let n = most.min(self.input.len() - self.read).min(buf.len());
        buf[..n].copy_from_slice(&self.input[self.read..self.read + n]);
        self.read += n;
        n
    }

    /// The next write's step; `None`: this call waits, the next goes ahead.
    fn next_write(&mut self) -> Option<Step> {
        let step = self.writes[self.write_steps % self.writes.len()];
        if step.wait && !self.write_waited {
            self.write_waited = true;
            return None;
        }
        self.write_waited = false;
        self.write_steps += 1;
        Some(step)
    }

    /// Records at most `most` bytes of `buf` as written; returns how many.
    fn take_output(&mut self, most: usize, buf: &[u8]) -> usize {
        let n = most.min(buf.len());
        self.written.lock().unwrap().extend_from_slice(&buf[..n]);
        n
    }
}

/// Waiting is an `Interrupted` error, which a blocking reader or writer retries.
impl Read for Paced {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.next_read() {
            None => Ok(0),
            Some(None) => Err(io::ErrorKind::Interrupted.into()),
            Some(Some(step)) => Ok(self.take_input(step.most, buf)),
        }
    }
}

impl Write for Paced {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.next_write() {
            None => Err(io::ErrorKind::Interrupted.into()),
            Some(step) => Ok(self.take_output(step.most, buf)),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Waiting wakes the task at once, as a socket that becomes ready would.
#[cfg(feature = "tokio")]
mod tokio_io {
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    use super::Paced;

    impl AsyncRead for Paced {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            match self.next_read() {
                None => {}
                Some(None) => {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Some(Some(step)) => {
                    let n = self.take_input(step.most, buf.initialize_unfilled());
                    buf.advance(n);
                }
            }
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Paced {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            match self.next_write() {
                None => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                Some(step) => Poll::Ready(Ok(self.take_output(step.most, buf))),
            }
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
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

/// How an echo loop ended, and every byte the server wrote.
type Outcome = (Result<(), Error>, Vec<u8>);

/// Runs the README's batched echo loop (tokio) over `input` paced by `reads` and `writes`.
#[cfg(feature = "tokio")]
fn tokio_echo(input: Vec<u8>, reads: Vec<Step>, writes: Vec<Step>) -> Outcome {
    use futures_util::StreamExt;
    use std::time::Duration;

    let (stream, written) = Paced::new(input, reads, writes);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let result = runtime.block_on(async {
        let serve = async {
            let conn = Connection::new(Role::Server, Config::default());
            let mut ws = rfc6455::tokio::WebSocket::from_connection(stream, conn);
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

/// Runs the blocking adapter's batched echo loop (its `feed` example) over the same script.
fn blocking_echo(input: Vec<u8>, reads: Vec<Step>, writes: Vec<Step>) -> Outcome {
    let (stream, written) = Paced::new(input, reads, writes);
    let conn = Connection::new(Role::Server, Config::default());
    let mut ws = rfc6455::blocking::WebSocket::from_connection(stream, conn);
    let result = loop {
        match ws.recv() {
            Ok(message) if message.is_text() || message.is_binary() => {
                if let Err(error) = ws.feed(message) {
                    break Err(error);
                }
            }
            Ok(_) => {}
            Err(Error::Closed) => break Ok(()),
            Err(error) => break Err(error),
        }
    };
    drop(ws);
    let written = written.lock().unwrap().clone();
    (result, written)
}

/// Every adapter's loop over the same script.
fn echo_everywhere(
    input: Vec<u8>,
    reads: Vec<Step>,
    writes: Vec<Step>,
) -> Vec<(&'static str, Outcome)> {
    vec![
        #[cfg(feature = "tokio")]
        (
            "tokio",
            tokio_echo(input.clone(), reads.clone(), writes.clone()),
        ),
        ("blocking", blocking_echo(input, reads, writes)),
    ]
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
        let mut expected: Vec<_> = messages.iter().map(Data::echo).collect();
        expected.push((OpCode::Close, CloseCode::NORMAL.0.to_be_bytes().to_vec()));
        for (adapter, (result, written)) in echo_everywhere(input, reads, writes) {
            prop_assert!(result.is_ok(), "{adapter}: {result:?}");
            prop_assert_eq!(frames(&written), expected.clone(), "{}", adapter);
        }
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
        let mut expected: Vec<_> = before.iter().map(Data::echo).collect();
        expected.push((OpCode::Close, CloseCode::PROTOCOL_ERROR.0.to_be_bytes().to_vec()));
        for (adapter, (result, written)) in echo_everywhere(input, reads, writes) {
            prop_assert!(
                matches!(result, Err(Error::Protocol(ProtocolError::ReservedOpcode(3)))),
                "{adapter}: {result:?}"
            );
            prop_assert_eq!(frames(&written), expected.clone(), "{}", adapter);
        }
    }
}
