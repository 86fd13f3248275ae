//! A member: one connection's writer, fed by a bounded queue, and the rooms it is in.
//!
//! What is published to a member is written straight to its socket by the registry's flushing
//! pass (see `Index::pass`); its writer task, woken only when that would block, drains
//! the queue while the socket is slow and hands it back once the queue is empty.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use super::entry::{Direct, DirectWrite, MemberId, MemberShared, Outbound, Outbox};
use super::index::Index;
use crate::close::CloseCode;
use crate::prepared::PreparedMessage;
use crate::tokio::{TrySend, WebSocketWriter};

/// The close code sent to a member evicted for falling behind: 1008, policy violation (the
/// policy being that a member reads as fast as its rooms talk).
pub const EVICTED_CODE: CloseCode = CloseCode::POLICY_VIOLATION;

/// The close reason sent to a member evicted for falling behind.
pub const EVICTED_REASON: &str = "too slow: fell behind its rooms";

/// How long a writer tries to deliver its Close frame, or what was queued for a member that was
/// dropped, before giving up on a peer that does not read.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection attached to a [`Rooms`](super::Rooms) registry (see
/// [`Rooms::attach`](super::Rooms::attach)): it joins and leaves
/// rooms, and is sent what is published to them. Dropping it leaves every room; its writer task
/// then ends once it has written what was queued, or after 5 s if the peer does not read.
#[derive(Debug)]
pub struct Member {
    shared: Arc<MemberShared>,
    index: Arc<Index>,
}

impl Member {
    pub(crate) fn attach<S>(
        index: Arc<Index>,
        id: MemberId,
        name: Arc<str>,
        writer: WebSocketWriter<S>,
    ) -> Self
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let outbox = Arc::new(Outbox::new(index.capacity));
        let (evicted, on_evicted) = watch::channel(false);
        let direct = Direct(Box::new(writer.handle()));
        Index::start_flushing(&index);
        tokio::spawn(write_loop(writer, Arc::clone(&outbox), on_evicted));
        let shared = Arc::new(MemberShared {
            id,
            name: Mutex::new(name),
            outbox,
            direct,
            evicted,
            rooms: Mutex::default(),
        });
        Self { shared, index }
    }

    /// This member's id.
    #[must_use]
    pub fn id(&self) -> MemberId {
        self.shared.id
    }

    /// Its name, as presence reports it.
    #[must_use]
    pub fn name(&self) -> Arc<str> {
        self.shared.name()
    }

    /// Renames it: presence reports the new name from now on, in every room it is in.
    pub fn set_name(&self, name: &str) {
        self.shared.set_name(name);
        self.index.renamed();
    }

    /// Joins `room`; false if already in it, or if evicted (an evicted member joins nothing).
    pub fn join(&self, room: &str) -> bool {
        self.index.join(&self.shared, room)
    }

    /// Leaves `room`; false if not in it.
    pub fn leave(&self, room: &str) -> bool {
        self.index.leave(&self.shared, room)
    }

    /// The rooms this member is in, sorted by name.
    #[must_use]
    pub fn rooms(&self) -> Vec<String> {
        self.shared.rooms().iter().cloned().collect()
    }

    /// Queues a message for this member alone (a reply, an error), after what was published
    /// to its rooms before, under the same policy as [`Rooms::publish`](super::Rooms::publish):
    /// false if the member was evicted or its writer has stopped. A member whose queue turns out
    /// full when the message is written is evicted then.
    pub fn send(&self, message: &PreparedMessage) -> bool {
        if self.shared.is_gone() {
            return false;
        }
        self.index
            .send_to(&self.shared, Outbound::Message(Arc::new(message.clone())));
        true
    }

    /// Queues the closing handshake after what is already queued or published to its rooms:
    /// the writer sends a Close frame with `code` and `reason` and stops. The member stays in
    /// its rooms until dropped, but nothing more is written. False if the member was evicted
    /// or its writer has stopped already; a member whose queue turns out full is evicted
    /// instead (and closed with [`EVICTED_CODE`]).
    pub fn close(&self, code: CloseCode, reason: &str) -> bool {
        if self.shared.is_gone() {
            return false;
        }
        self.index
            .send_to(&self.shared, Outbound::Close(code, reason.to_owned()));
        true
    }

    /// Whether this member was evicted for falling behind.
    #[must_use]
    pub fn is_evicted(&self) -> bool {
        self.shared.is_evicted()
    }

    /// Resolves once this member is evicted for falling behind (never, if it keeps up): the
    /// connection's reading task selects on it to stop.
    pub async fn evicted(&self) {
        let mut evicted = self.shared.evicted.subscribe();
        // The sender lives as long as `self`, so this only returns once evicted.
        let _ = evicted.wait_for(|evicted| *evicted).await;
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.index.leave_all(&self.shared);
    }
}

impl<S> DirectWrite for WebSocketWriter<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    fn try_send(&self, messages: &[Arc<PreparedMessage>], joined: &dyn Fn() -> Bytes) -> TrySend {
        self.try_send_prepared(messages, joined)
    }
}

/// Marks the outbox gone when the writer task ends, however it ends: nothing more is queued.
struct Gone(Arc<Outbox>);

impl Drop for Gone {
    fn drop(&mut self) {
        self.0.lock().gone = true;
    }
}

/// Writes what the flushing pass handed over, until the member is dropped (then what is still
/// queued, for at most [`CLOSE_TIMEOUT`] more), the connection fails, a Close is written, or the
/// member is evicted.
async fn write_loop<S>(
    mut writer: WebSocketWriter<S>,
    outbox: Arc<Outbox>,
    mut evicted: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _gone = Gone(Arc::clone(&outbox));
    let ended = {
        let pump = pump(&mut writer, &outbox);
        tokio::pin!(pump);
        tokio::select! {
            biased;
            evicted_now = async { evicted.wait_for(|evicted| *evicted).await.is_ok() } => {
                Some(evicted_now)
            }
            () = &mut pump => None,
        }
    };
    match ended {
        Some(true) => {
            // Evicted: the queue was dropped and the connection taken from the flushing pass.
            // The Close frame goes after what was already handed to the connection, so the
            // member learns why it was dropped from a peer that reads at all; one that does not
            // read must not hold the task forever.
            let close = writer.close(EVICTED_CODE, EVICTED_REASON);
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, close).await;
        }
        Some(false) => {
            // The member was dropped: finish what was queued, unless the peer stopped reading.
            outbox.lock().writer_owns = true;
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, drain(&mut writer, &outbox)).await;
        }
        None => {}
    }
}

/// Waits to be handed the connection, drains the queue, hands it back; until a Close is
/// written or the connection fails.
async fn pump<S>(writer: &mut WebSocketWriter<S>, outbox: &Outbox)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        outbox.wake.notified().await;
        if !drain(writer, outbox).await {
            return;
        }
    }
}

/// While this task owns the connection: writes what the connection holds, then everything
/// queued meanwhile (in one `write`), until the queue is empty, when the connection goes back
/// to the flushing pass (true). False once a Close is written or the connection failed.
async fn drain<S>(writer: &mut WebSocketWriter<S>, outbox: &Outbox) -> bool
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut batch = Vec::new();
    loop {
        // A wake-up left over from an earlier hand-over finds the flushing pass the owner.
        if !outbox.lock().writer_owns {
            return true;
        }
        if writer.flush().await.is_err() {
            return false;
        }
        let close = {
            let mut state = outbox.lock();
            if state.queue.is_empty() {
                state.writer_owns = false;
                return true;
            }
            let mut close = None;
            while let Some(outbound) = state.queue.pop_front() {
                match outbound {
                    Outbound::Message(message) => batch.push(message),
                    Outbound::Close(code, reason) => {
                        close = Some((code, reason));
                        state.queue.clear();
                        break;
                    }
                }
            }
            close
        };
        // Still the owner: nobody else hands messages to the connection in between.
        if writer.queue_prepared(batch.drain(..)).is_err() {
            return false;
        }
        if let Some((code, reason)) = close {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, writer.close(code, &reason)).await;
            return false;
        }
    }
}
