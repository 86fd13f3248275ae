//! The adapters' writes, counted at the stream: `send` has written its frame when it returns,
//! whatever input is pending; `feed` batches, so the echoes of messages that arrived together go
//! out in one `write`.

mod support;

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use rfc6455::{Config, Connection, Message, Role};
use support::*;

/// Sizes of the writes a stream saw, shared with the test.
type Writes = Arc<Mutex<Vec<usize>>>;

/// `count` masked binary frames of `size` bytes each, in one buffer, and the server frames that
/// echo them.
fn frames(count: usize, size: usize) -> (Vec<u8>, Vec<u8>) {
    let mut input = Vec::new();
    let mut echo = Vec::new();
    for i in 0..count {
        let payload: Vec<u8> = (0..size).map(|j| (i * 31 + j) as u8).collect();
        input.extend(client_frame(0x82, &payload));
        echo.extend(frame(0x82, &payload, None));
    }
    (input, echo)
}

mod blocking {
    use super::*;
    use rfc6455::blocking::WebSocket;

    /// Reads from a fixed input (then reports the end of the stream); records every write.
    struct Recording {
        input: io::Cursor<Vec<u8>>,
        output: Vec<u8>,
        writes: Writes,
    }

    impl Read for Recording {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Recording {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.writes.lock().unwrap().push(buf.len());
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn server(input: Vec<u8>) -> (WebSocket<Recording>, Writes) {
        let writes = Writes::default();
        let stream = Recording {
            input: io::Cursor::new(input),
            output: Vec::new(),
            writes: Arc::clone(&writes),
        };
        let conn = Connection::new(Role::Server, Config::default());
        (WebSocket::from_connection(stream, conn), writes)
    }

    #[test]
    fn echoes_of_messages_that_arrived_together_are_written_in_one_write() {
        let (input, echo) = frames(100, 20);
        let (mut ws, writes) = server(input);
        // The batched loop.
        for _ in 0..100 {
            let message = ws.recv().unwrap();
            ws.feed(message).unwrap();
        }
        // The next read finds no frame: it writes the batch before it reads (here, the end).
        assert!(matches!(ws.recv(), Err(rfc6455::Error::TransportEnded)));
        assert_eq!(*writes.lock().unwrap(), vec![echo.len()]);
        assert_eq!(ws.get_ref().output, echo);
    }

    #[test]
    fn a_send_with_no_input_pending_is_written_at_once() {
        let (mut ws, writes) = server(Vec::new());
        ws.send(Message::text("now")).unwrap();
        assert_eq!(*writes.lock().unwrap(), vec![5]);
        assert_eq!(ws.get_ref().output, b"\x81\x03now");
    }

    #[test]
    fn a_send_is_written_when_it_returns_even_with_input_pending() {
        let (input, echo) = frames(2, 20);
        let (mut ws, writes) = server(input);
        let first = ws.recv().unwrap();
        ws.send(first).unwrap();
        assert_eq!(*writes.lock().unwrap(), vec![22]);
        assert_eq!(ws.get_ref().output, echo[..22]);
    }

    #[test]
    fn a_fed_reply_goes_out_on_flush() {
        let (input, _) = frames(2, 20);
        let (mut ws, writes) = server(input);
        let first = ws.recv().unwrap();
        ws.feed(first).unwrap();
        assert!(writes.lock().unwrap().is_empty(), "fed, not written");
        ws.flush().unwrap();
        assert_eq!(*writes.lock().unwrap(), vec![22]);
    }
}

#[cfg(feature = "tokio")]
mod tokio_adapter {
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use rfc6455::tokio::WebSocket;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};

    /// A duplex stream that records the size of every write.
    struct Recording {
        inner: DuplexStream,
        writes: Writes,
    }

    impl AsyncRead for Recording {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Recording {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let result = Pin::new(&mut self.inner).poll_write(cx, buf);
            if let Poll::Ready(Ok(n)) = result {
                self.writes.lock().unwrap().push(n);
            }
            result
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.inner).poll_shutdown(cx)
        }
    }

    /// A server over a recording stream, and the client's end of the pipe.
    fn server() -> (WebSocket<Recording>, DuplexStream, Writes) {
        let (client, inner) = tokio::io::duplex(4 << 20);
        let writes = Writes::default();
        let stream = Recording {
            inner,
            writes: Arc::clone(&writes),
        };
        let conn = Connection::new(Role::Server, Config::default());
        (WebSocket::from_connection(stream, conn), client, writes)
    }

    #[tokio::test]
    async fn echoes_of_messages_that_arrived_together_are_written_in_one_write() {
        let (mut ws, mut client, writes) = server();
        let (input, echo) = frames(100, 20);
        client.write_all(&input).await.unwrap();
        // The batched loop, through `Stream` and `Sink` (`SinkExt::feed` queues).
        for _ in 0..100 {
            let message = ws.next().await.unwrap().unwrap();
            SinkExt::feed(&mut ws, message).await.unwrap();
        }
        // Nothing is left to read: the next `next()` would wait, so it writes the batch first.
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), ws.next()).await;
        assert!(waited.is_err());
        assert_eq!(*writes.lock().unwrap(), vec![echo.len()]);
        let mut received = vec![0; echo.len()];
        client.read_exact(&mut received).await.unwrap();
        assert_eq!(received, echo);
    }

    #[tokio::test]
    async fn input_larger_than_one_read_is_echoed_in_one_write_per_read() {
        let (mut ws, mut client, writes) = server();
        // 26,000 bytes of input: two reads of at most 16 KiB.
        let (input, echo) = frames(1000, 20);
        client.write_all(&input).await.unwrap();
        for _ in 0..1000 {
            let message = ws.recv().await.unwrap();
            ws.feed(message).await.unwrap();
        }
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), ws.recv()).await;
        assert!(waited.is_err());
        let writes = writes.lock().unwrap().clone();
        assert_eq!(writes.iter().sum::<usize>(), echo.len());
        assert!(writes.len() <= 2, "{writes:?}");
    }

    #[tokio::test]
    async fn a_send_with_no_input_pending_is_written_at_once() {
        let (mut ws, mut client, writes) = server();
        ws.send_text("now").await.unwrap();
        assert_eq!(*writes.lock().unwrap(), vec![5]);
        let mut received = [0; 5];
        client.read_exact(&mut received).await.unwrap();
        assert_eq!(&received, b"\x81\x03now");
    }

    #[tokio::test]
    async fn a_send_is_written_when_it_returns_even_with_input_pending() {
        let (mut ws, mut client, writes) = server();
        let (input, echo) = frames(3, 20);
        client.write_all(&input).await.unwrap();
        let first = ws.recv().await.unwrap();
        ws.send(first).await.unwrap();
        assert_eq!(
            *writes.lock().unwrap(),
            vec![22],
            "two frames pending, written anyway"
        );
        // The `futures` contract: `SinkExt::send` is feed then flush, and flush writes.
        let second = ws.recv().await.unwrap();
        SinkExt::send(&mut ws, second).await.unwrap();
        assert_eq!(*writes.lock().unwrap(), vec![22, 22]);
        let mut received = vec![0; 44];
        client.read_exact(&mut received).await.unwrap();
        assert_eq!(received, echo[..44]);
    }

    /// The trap a corking `send` set: a reply queued behind pending input waited for the
    /// handler's next `recv`, here 2 s of other work away.
    #[tokio::test(start_paused = true)]
    async fn a_reply_sent_before_slow_work_reaches_the_peer_before_the_work_ends() {
        let (mut ws, mut client, _writes) = server();
        let (input, echo) = frames(2, 20);
        client.write_all(&input).await.unwrap();
        let handler = tokio::spawn(async move {
            let first = ws.recv().await.unwrap();
            ws.send(first).await.unwrap();
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            ws
        });
        let start = tokio::time::Instant::now();
        let mut received = [0; 22];
        client.read_exact(&mut received).await.unwrap();
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(received[..], echo[..22]);
        drop(handler.await.unwrap());
    }

    #[tokio::test]
    async fn a_fed_reply_goes_out_on_flush() {
        let (mut ws, mut client, writes) = server();
        let (input, _) = frames(3, 20);
        client.write_all(&input).await.unwrap();
        let first = ws.recv().await.unwrap();
        ws.feed(first).await.unwrap();
        assert!(writes.lock().unwrap().is_empty(), "fed, not written");
        ws.flush().await.unwrap();
        assert_eq!(*writes.lock().unwrap(), vec![22]);
    }

    #[tokio::test]
    async fn a_recv_that_would_wait_writes_the_fed_replies_first() {
        let (mut ws, mut client, writes) = server();
        let (input, _) = frames(2, 20);
        client.write_all(&input).await.unwrap();
        let first = ws.recv().await.unwrap();
        ws.feed(first).await.unwrap();
        let _second = ws.recv().await.unwrap();
        assert!(writes.lock().unwrap().is_empty());
        // Nothing more arrives: before waiting for input, recv writes what is queued.
        let waited = tokio::time::timeout(std::time::Duration::from_millis(20), ws.recv()).await;
        assert!(waited.is_err(), "no input, so recv waits");
        assert_eq!(*writes.lock().unwrap(), vec![22]);
        let mut received = [0; 22];
        client.read_exact(&mut received).await.unwrap();
    }

    #[tokio::test]
    async fn a_fed_backlog_goes_out_in_one_write_on_flush() {
        let (ws, mut client, writes) = server();
        let (_reader, mut writer) = ws.into_split();
        let messages: Vec<rfc6455::PreparedMessage> = (0..10)
            .map(|i| rfc6455::PreparedMessage::text(&format!("message {i}")))
            .collect();
        for message in &messages {
            writer.feed_prepared(message).await.unwrap();
        }
        assert!(writes.lock().unwrap().is_empty(), "fed, not written");
        writer.flush().await.unwrap();
        let expected: Vec<u8> = messages.iter().flat_map(|m| m.frame().to_vec()).collect();
        assert_eq!(*writes.lock().unwrap(), vec![expected.len()]);
        let mut received = vec![0; expected.len()];
        client.read_exact(&mut received).await.unwrap();
        assert_eq!(received, expected);
    }
}
