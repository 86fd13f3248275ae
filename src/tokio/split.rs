//! Splitting a WebSocket into a reader and a writer for different tasks: both halves share the
//! connection behind a lock, and one waker that wakes both, since either half may write.
#![forbid(unsafe_code)]

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

#[cfg(feature = "rooms")]
use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};

use super::WebSocket;
use super::driver::Inner;
use crate::close::CloseCode;
use crate::io_error::Error;
use crate::message::Message;
use crate::prepared::PreparedMessage;

impl<S> WebSocket<S> {
    /// Splits into a reader and a writer that can be used from different tasks. Pings are still
    /// answered while only the reader is polled.
    ///
    /// The name and the order are tokio's (`TcpStream::into_split`): reader first. The
    /// `futures` `StreamExt::split` also works on a `WebSocket`, and returns `(sink, stream)`.
    ///
    /// ```no_run
    /// # async fn run(ws: rfc6455::tokio::WebSocket<tokio::net::TcpStream>) -> Result<(), rfc6455::Error> {
    /// use rfc6455::Message;
    ///
    /// let (mut reader, mut writer) = ws.into_split();
    /// tokio::spawn(async move {
    ///     let _ = writer.send(Message::text("hello")).await;
    /// });
    /// while let Ok(message) = reader.recv().await {
    ///     println!("{message:?}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn into_split(self) -> (WebSocketReader<S>, WebSocketWriter<S>) {
        let shared = Arc::new(Shared {
            inner: Mutex::new(self.inner),
            wakers: Arc::new(WakerPair::default()),
        });
        (
            WebSocketReader {
                shared: Arc::clone(&shared),
            },
            WebSocketWriter { shared },
        )
    }
}

/// The two halves of a split WebSocket share the connection and the stream.
#[derive(Debug)]
struct Shared<S> {
    inner: Mutex<Inner<S>>,
    wakers: Arc<WakerPair>,
}

/// Both halves may write (the reader writes pongs and the close echo), but a stream keeps one
/// waker per direction. Every poll therefore registers a waker that wakes both halves, so
/// neither half's wake-up is lost to the other's registration.
#[derive(Debug, Default)]
struct WakerPair {
    slots: Mutex<[Option<Waker>; 2]>,
}

impl Wake for WakerPair {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let wakers = std::mem::take(&mut *self.slots.lock().unwrap_or_else(|e| e.into_inner()));
        for waker in wakers.into_iter().flatten() {
            waker.wake();
        }
    }
}

const READER: usize = 0;
const WRITER: usize = 1;

impl<S> Shared<S> {
    /// Locks the connection and returns a waker for both halves, with `half`'s waker registered.
    fn enter(&self, half: usize, cx: &Context<'_>) -> (MutexGuard<'_, Inner<S>>, Waker) {
        {
            let mut slots = self.wakers.slots.lock().unwrap_or_else(|e| e.into_inner());
            match &mut slots[half] {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
        }
        let waker = Waker::from(Arc::clone(&self.wakers));
        (self.inner.lock().unwrap_or_else(|e| e.into_inner()), waker)
    }
}

/// The reading half of a split [`WebSocket`]: a [`Stream`] of messages.
#[derive(Debug)]
pub struct WebSocketReader<S> {
    shared: Arc<Shared<S>>,
}

/// The writing half of a split [`WebSocket`]: a [`Sink`] of messages.
#[derive(Debug)]
pub struct WebSocketWriter<S> {
    shared: Arc<Shared<S>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketReader<S> {
    /// The next message; [`Error::Closed`] once the connection has closed. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Message, Error> {
        poll_fn(|cx| self.poll_message(cx))
            .await
            .unwrap_or(Err(Error::Closed))
    }

    fn poll_message(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        let (mut inner, waker) = self.shared.enter(READER, cx);
        inner.poll_next_message(&mut Context::from_waker(&waker))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketReader<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_message(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketWriter<S> {
    /// Sends a message: when this returns, it has been written to the stream and the stream
    /// flushed, with anything queued before it.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        self.with(|inner| inner.conn.send(message).map_err(Error::from))?;
        self.flush().await
    }

    /// Queues a message without writing it (first writing what is queued if [`CORK_LIMIT`]
    /// bytes already are); the queue goes out on [`flush`](Self::flush), with the next
    /// [`send`](Self::send), or when the reader must wait for the socket.
    ///
    /// [`CORK_LIMIT`]: crate::config::CORK_LIMIT
    pub async fn feed(&mut self, message: Message) -> Result<(), Error> {
        poll_fn(|cx| self.poll(cx, Inner::poll_ready)).await?;
        self.with(|inner| inner.conn.send(message).map_err(Error::from))
    }

    /// Sends a message encoded once for many connections (see [`PreparedMessage`]) and writes
    /// it.
    pub async fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        self.with(|inner| inner.conn.send_prepared(message).map_err(Error::from))?;
        self.flush().await
    }

    /// Queues a prepared message without writing it, like [`feed`](Self::feed) (first writing
    /// what is queued if [`CORK_LIMIT`](crate::config::CORK_LIMIT) bytes already are). Follow a batch with [`flush`](Self::flush): a backlog
    /// then goes out in one `write` instead of one per message.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(
    /// #     mut writer: rfc6455::tokio::WebSocketWriter<tokio::net::TcpStream>,
    /// #     mut outbox: tokio::sync::mpsc::Receiver<rfc6455::PreparedMessage>,
    /// # ) -> Result<(), rfc6455::Error> {
    /// while let Some(message) = outbox.recv().await {
    ///     writer.feed_prepared(&message).await?;
    ///     // Everything else already waiting joins the same write.
    ///     while let Ok(message) = outbox.try_recv() {
    ///         writer.feed_prepared(&message).await?;
    ///     }
    ///     writer.flush().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn feed_prepared(&mut self, message: &PreparedMessage) -> Result<(), Error> {
        poll_fn(|cx| self.poll(cx, Inner::poll_ready)).await?;
        self.with(|inner| inner.conn.send_prepared(message).map_err(Error::from))
    }

    /// Queues prepared messages under one lock, without writing them or waiting for room: the
    /// caller bounds the batch (the rooms' member queue does) and flushes after it.
    #[cfg(feature = "rooms")]
    pub(crate) fn queue_prepared(
        &self,
        messages: impl IntoIterator<Item = Arc<PreparedMessage>>,
    ) -> Result<(), Error> {
        self.with(|inner| {
            for message in messages {
                inner.conn.send_prepared(&message)?;
            }
            Ok(())
        })
    }

    /// Another handle on the same writing half, for a task that writes to the connection only
    /// when nobody else holds it (see [`try_send_prepared`](Self::try_send_prepared)).
    #[cfg(feature = "rooms")]
    pub(crate) fn handle(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Hands `messages` to the connection and writes what it has queued, without waiting: not
    /// for the connection's lock (if the reader or another writer holds it, none of `messages`
    /// is taken and the answer is [`TrySend::Busy`]), nor for the socket (what it does
    /// not take now stays queued in the connection, [`TrySend::Pending`], for the next
    /// [`flush`](Self::flush)). A socket that becomes writable wakes whichever half is waiting
    /// on it, as any write of this half does.
    ///
    /// `joined` gives the messages' prepared frames one after another, encoded once for every
    /// connection they are sent to: where this connection sends them unchanged and has nothing
    /// queued, those bytes go to the socket as they are, and only what it does not take is
    /// queued (by reference).
    #[cfg(feature = "rooms")]
    pub(crate) fn try_send_prepared(
        &self,
        messages: &[Arc<PreparedMessage>],
        joined: &dyn Fn() -> Bytes,
    ) -> TrySend {
        let mut inner = match self.shared.inner.try_lock() {
            Ok(inner) => inner,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return TrySend::Busy,
        };
        // Not this task's waker: the writable socket wakes both halves' registered wakers.
        let waker = Waker::from(Arc::clone(&self.shared.wakers));
        let mut cx = Context::from_waker(&waker);
        match inner.conn.sends_prepared_frames_unchanged(messages) {
            Err(_) => return TrySend::Failed,
            Ok(true) => {
                let frames = joined();
                let written = if inner.conn.pending_transmit() == 0 {
                    match Pin::new(&mut inner.stream).poll_write(&mut cx, &frames) {
                        Poll::Ready(Ok(n)) => n,
                        Poll::Ready(Err(_)) => return TrySend::Failed,
                        Poll::Pending => 0,
                    }
                } else {
                    0
                };
                if written < frames.len() {
                    inner.conn.queue_encoded_frames(frames.slice(written..));
                }
            }
            Ok(false) => {
                for message in messages {
                    if inner.conn.send_prepared(message).is_err() {
                        return TrySend::Failed;
                    }
                }
            }
        }
        match inner.poll_write_out(&mut cx) {
            Poll::Ready(Ok(())) => TrySend::Written,
            Poll::Ready(Err(_)) => TrySend::Failed,
            Poll::Pending => TrySend::Pending,
        }
    }

    /// Starts the closing handshake and writes the Close frame; the reader sees the end.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.with(|inner| inner.conn.close(code, reason).map_err(Error::from))?;
        self.flush().await
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll(cx, Inner::poll_write_out)).await
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner<S>) -> T) -> T {
        f(&mut self.shared.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn poll(
        &self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Inner<S>, &mut Context<'_>) -> Poll<Result<(), Error>>,
    ) -> Poll<Result<(), Error>> {
        let (mut inner, waker) = self.shared.enter(WRITER, cx);
        f(&mut inner, &mut Context::from_waker(&waker))
    }
}

/// What [`WebSocketWriter::try_send_prepared`] did.
#[cfg(feature = "rooms")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrySend {
    /// Everything is written to the socket.
    Written,
    /// Queued in the connection; the socket took part of it or none: a `flush` writes the rest.
    Pending,
    /// Another task holds the connection: nothing was taken.
    Busy,
    /// The connection refused a message (it is closing) or the socket failed.
    Failed,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketWriter<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll(cx, Inner::poll_ready)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.with(|inner| inner.conn.send(message).map_err(Error::from))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll(cx, Inner::poll_write_out)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll(cx, Inner::poll_close)
    }
}

#[cfg(all(test, feature = "rooms"))]
mod tests {
    use tokio::io::{AsyncReadExt, DuplexStream};

    use super::*;
    use crate::{Config, Connection, Role};

    fn server_writer(
        buffer: usize,
    ) -> (
        WebSocketReader<DuplexStream>,
        WebSocketWriter<DuplexStream>,
        DuplexStream,
    ) {
        let (ours, theirs) = tokio::io::duplex(buffer);
        let conn = Connection::new(Role::Server, Config::default());
        let (reader, writer) = WebSocket::from_connection(ours, conn).into_split();
        (reader, writer, theirs)
    }

    #[tokio::test]
    async fn try_send_prepared_writes_at_once_leaves_the_rest_to_flush_and_takes_nothing_while_busy()
     {
        // The peer's pipe holds 64 bytes; one frame is 42.
        let (_reader, mut writer, mut peer) = server_writer(64);
        let message = Arc::new(PreparedMessage::binary(&[7u8; 40]));

        let one = std::slice::from_ref(&message);
        let joined = || message.shared_frame();
        assert_eq!(writer.try_send_prepared(one, &joined), TrySend::Written);

        // The reader half holds the connection: nothing is taken.
        {
            let _held = writer.shared.inner.lock().unwrap();
            assert_eq!(writer.try_send_prepared(one, &joined), TrySend::Busy);
        }
        assert_eq!(
            writer.shared.inner.lock().unwrap().conn.pending_transmit(),
            0,
            "the message is left to the caller"
        );

        // 22 bytes of room: the frame is queued, part of it written, the rest left to `flush`.
        assert_eq!(writer.try_send_prepared(one, &joined), TrySend::Pending);
        assert!(
            writer.shared.inner.lock().unwrap().conn.pending_transmit() > 0,
            "the connection took it and holds what the socket did not"
        );
        let read = async {
            let mut bytes = vec![0u8; 84];
            peer.read_exact(&mut bytes).await.unwrap();
            bytes
        };
        let (flushed, bytes) = tokio::join!(writer.flush(), read);
        flushed.unwrap();
        let frame = [&[0x82, 40][..], &[7u8; 40]].concat();
        assert_eq!(
            bytes,
            [frame.clone(), frame].concat(),
            "both frames, whole and in order"
        );

        // A closing connection refuses more.
        writer.close(CloseCode::NORMAL, "").await.unwrap();
        assert_eq!(writer.try_send_prepared(one, &joined), TrySend::Failed);
    }
}
