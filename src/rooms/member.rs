//! A member: one connection's writer, fed by a bounded queue, and the rooms it is in.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};

use super::entry::{MemberId, MemberShared, Outbound, Refused};
use super::index::Index;
use crate::close::CloseCode;
use crate::prepared::PreparedMessage;
use crate::tokio::WebSocketWriter;

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
        let (queue, outbox) = mpsc::channel(index.capacity);
        let (evicted, on_evicted) = watch::channel(false);
        tokio::spawn(write_loop(writer, outbox, on_evicted));
        let shared = Arc::new(MemberShared {
            id,
            name: Mutex::new(name),
            queue,
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

    /// Queues a message for this member alone (a reply, an error), under the same policy as
    /// [`Rooms::publish`](super::Rooms::publish): false if it was refused, the member then being evicted if its queue
    /// was full.
    pub fn send(&self, message: &PreparedMessage) -> bool {
        match self.shared.push(message) {
            Ok(()) => true,
            Err(Refused::Full) => {
                self.index.evict(&self.shared);
                false
            }
            Err(Refused::Gone) => false,
        }
    }

    /// Queues the closing handshake after what is already queued: the writer sends a Close
    /// frame with `code` and `reason` and stops. The member stays in its rooms until dropped,
    /// but nothing more is written. False if the writer has stopped already; a member whose
    /// queue is full is evicted instead (and closed with [`EVICTED_CODE`]).
    pub fn close(&self, code: CloseCode, reason: &str) -> bool {
        match self
            .shared
            .push_outbound(Outbound::Close(code, reason.to_owned()))
        {
            Ok(()) => true,
            Err(Refused::Full) => {
                self.index.evict(&self.shared);
                false
            }
            Err(Refused::Gone) => false,
        }
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

/// Writes what is queued for a member, everything already waiting in one `write`, until the
/// member is dropped (then for at most [`CLOSE_TIMEOUT`] more), the connection fails, a Close is
/// written, or the member is evicted.
async fn write_loop<S>(
    mut writer: WebSocketWriter<S>,
    mut outbox: mpsc::Receiver<Outbound>,
    mut evicted: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let was_evicted = {
        let pump = pump(&mut writer, &mut outbox);
        tokio::pin!(pump);
        tokio::select! {
            biased;
            evicted_now = async { evicted.wait_for(|evicted| *evicted).await.is_ok() } => {
                if !evicted_now {
                    // The member was dropped: finish what was queued, unless the peer stopped
                    // reading.
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, pump).await;
                }
                evicted_now
            }
            () = &mut pump => false,
        }
    };
    if was_evicted {
        // The Close frame goes after what the writer had already taken from the queue, so the
        // member learns why it was dropped from a peer that reads at all; one that does not
        // read must not hold the task forever.
        let close = writer.close(EVICTED_CODE, EVICTED_REASON);
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, close).await;
    }
}

/// Writes the queue until it ends, a Close is written or the connection fails. Everything
/// already waiting is handed to the connection under one lock and written in one `write`.
async fn pump<S>(writer: &mut WebSocketWriter<S>, outbox: &mut mpsc::Receiver<Outbound>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut batch = Vec::new();
    while outbox.recv_many(&mut batch, usize::MAX).await > 0 {
        let close = match batch.iter().position(|o| matches!(o, Outbound::Close(..))) {
            Some(at) => batch.drain(at..).next(),
            None => None,
        };
        let messages = batch.drain(..).filter_map(|outbound| match outbound {
            Outbound::Message(message) => Some(message),
            Outbound::Close(..) => None,
        });
        if writer.queue_prepared(messages).is_err() {
            return;
        }
        if let Some(Outbound::Close(code, reason)) = close {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, writer.close(code, &reason)).await;
            return;
        }
        if writer.flush().await.is_err() {
            return;
        }
    }
}
