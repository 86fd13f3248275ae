//! What a publish did, and where the message went.

/// Where [`Rooms::publish`](super::Rooms::publish) sent a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Relay {
    /// There is no backplane: the message was queued for this process's members.
    #[default]
    Local,
    /// Handed to the backplane: every process's members, this one's included, get it when it
    /// comes back from the broker, in the order the broker saw it.
    Relayed,
    /// The backplane is down: the message was queued for this process's members only, and
    /// counted in [`RoomStats::local_only`](super::RoomStats::local_only).
    LocalOnly,
    /// The backplane is up but its queue to the broker is full: the message went nowhere, and
    /// was counted in [`RoomStats::refused`](super::RoomStats::refused). Publish slower or retry.
    Refused,
}

/// What one [`Rooms::publish`](super::Rooms::publish) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Published {
    /// Where the message went.
    pub relay: Relay,
    /// Members of this process the message was queued for by this call (none when
    /// [`Relay::Relayed`]: they get it when it comes back from the broker). A member that turns
    /// out to have fallen behind when the message is written is evicted then (see
    /// [`RoomStats::evicted`](super::RoomStats::evicted) and
    /// [`Member::evicted`](super::Member::evicted)).
    pub delivered: usize,
}
