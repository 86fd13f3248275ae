//! A member: one connection's writer, fed by a bounded queue, and the rooms it is in.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};

use super::entry::{MemberId, MemberShared, Refused};
use super::index::Index;
use crate::close::CloseCode;
use crate::prepared::PreparedMessage;
use crate::tokio::WebSocketWriter;

/// The close code sent to a member evicted for falling behind: 1008, policy violation (the
/// policy being that a member reads as fast as its rooms talk).
pub const EVICTED_CODE: CloseCode = CloseCode::POLICY_VIOLATION;

/// The close reason sent to a member evicted for falling behind.
pub const EVICTED_REASON: &str = "too slow: fell behind its rooms";

/// How long an evicted member's writer tries to deliver its Close frame before giving up on a
/// peer that does not read.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection attached to a [`Rooms`](super::Rooms) registry (see
/// [`Rooms::attach`](super::Rooms::attach)): it joins and leaves
/// rooms, and is sent what is published to them. Dropping it leaves every room; its writer task
/// then ends once it has written what was queued.
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
            name,
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

    /// The name it was attached with.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.shared.name
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
/// queue's senders are gone, the connection fails, or the member is evicted.
async fn write_loop<S>(
    mut writer: WebSocketWriter<S>,
    mut outbox: mpsc::Receiver<PreparedMessage>,
    mut evicted: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let pump = async {
        while let Some(message) = outbox.recv().await {
            writer.feed_prepared(&message).await?;
            while let Ok(message) = outbox.try_recv() {
                writer.feed_prepared(&message).await?;
            }
            writer.flush().await?;
        }
        Ok::<(), crate::io_error::Error>(())
    };
    let was_evicted = tokio::select! {
        biased;
        // An error means the member was dropped: the pump then ends once the queue is drained.
        Ok(_) = evicted.wait_for(|evicted| *evicted) => true,
        _ = pump => false,
    };
    if was_evicted {
        // The Close frame goes after what was queued, so the member learns why it was dropped
        // from a peer that reads at all; one that does not read must not hold the task forever.
        let _ =
            tokio::time::timeout(CLOSE_TIMEOUT, writer.close(EVICTED_CODE, EVICTED_REASON)).await;
    }
}
