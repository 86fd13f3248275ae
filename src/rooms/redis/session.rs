//! The backplane's connection task: connect, subscribe, relay, refresh presence; on any failure
//! reconnect with backoff and start again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use redis::AsyncConnectionConfig;
use redis::aio::{MultiplexedConnection, PubSubSink};
use tokio::sync::mpsc;

use super::backoff::Backoff;
use super::error::RedisBackplaneError;
use super::shared::{Outgoing, Shared};
use super::wire;
use crate::rooms::backplane::Local;

/// Most messages sent to Redis in one pipeline.
const BATCH: usize = 256;

/// Runs until the rooms are gone.
pub(crate) async fn run(shared: Arc<Shared>, mut outbox: mpsc::Receiver<Outgoing>) {
    let Some(local) = shared.local.get().cloned() else {
        return;
    };
    let config = &shared.config;
    let mut backoff = Backoff::new(config.backoff_min, config.backoff_max);
    let mut connected_before = false;
    while local.is_alive() {
        let mut state = Session::default();
        let result = state
            .run(
                &shared,
                &local,
                &mut outbox,
                &mut backoff,
                &mut connected_before,
            )
            .await;
        shared.up.send_replace(false);
        *shared.commands() = None;
        if result.is_ok() {
            return;
        }
        // Publishes queued for the connection that failed: `publish` answers `LocalOnly` from
        // now on, so these are the last to drain.
        while let Ok((room, message)) = outbox.try_recv() {
            local.deliver_local_only(&room, &message);
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// What one connection has told Redis so far.
#[derive(Debug, Default)]
struct Session {
    subscribed: BTreeSet<String>,
    /// Presence entries written, by room.
    present: BTreeMap<String, BTreeSet<String>>,
}

impl Session {
    /// Ok once the rooms are gone; an error when Redis fails.
    async fn run(
        &mut self,
        shared: &Shared,
        local: &Local,
        outbox: &mut mpsc::Receiver<Outgoing>,
        backoff: &mut Backoff,
        connected_before: &mut bool,
    ) -> Result<(), RedisBackplaneError> {
        let config = &shared.config;
        let limit = config.command_timeout;
        let client = &config.client;
        let async_config = AsyncConnectionConfig::new()
            .set_connection_timeout(limit)
            .set_response_timeout(limit);
        let mut conn = within(
            limit,
            client.get_multiplexed_async_connection_with_config(&async_config),
        )
        .await?;
        let (mut sink, mut stream) = within(limit, client.get_async_pubsub()).await?.split();
        // Presence queries may use the connection as soon as it writes presence.
        *shared.commands() = Some(conn.clone());
        let synced = self.sync(shared, local, &mut sink, &mut conn).await?;
        if std::mem::replace(connected_before, true) {
            shared.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        shared.up.send_replace(true);
        // Only now: whoever waited for the sync may publish, and must find the backplane up.
        mark_synced(shared, synced);
        backoff.reset();

        let mut heartbeat = tokio::time::interval(config.presence_ttl / 3);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.tick().await;
        loop {
            if !local.is_alive() {
                return Ok(());
            }
            tokio::select! {
                message = stream.next() => {
                    let message = message.ok_or(RedisBackplaneError::ConnectionLost)?;
                    let room = wire::room_of(&config.prefix, message.get_channel_name());
                    if let (Some(room), Some(decoded)) = (room, wire::decode(message.get_payload_bytes())) {
                        local.deliver(room, &decoded);
                    }
                }
                () = shared.changed.notified() => {
                    let synced = self.sync(shared, local, &mut sink, &mut conn).await?;
                    mark_synced(shared, synced);
                }
                _ = heartbeat.tick() => self.refresh(shared, &mut conn).await?,
                Some(first) = outbox.recv() => {
                    let mut batch = vec![first];
                    while batch.len() < BATCH {
                        match outbox.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    let mut pipe = redis::pipe();
                    for (room, message) in &batch {
                        pipe.publish(wire::channel(&config.prefix, room), wire::encode(message))
                            .ignore();
                    }
                    if let Err(error) = within(limit, pipe.query_async::<()>(&mut conn)).await {
                        // Whether Redis relayed any of them is unknown; this process's members
                        // get them all, as in any outage.
                        for (room, message) in &batch {
                            local.deliver_local_only(room, message);
                        }
                        return Err(error);
                    }
                }
            }
        }
    }

    /// Subscribes to the rooms with local members and unsubscribes from the others; writes
    /// presence entries for members that came and removes those of members that left. Returns
    /// the count of membership changes this covered, for [`mark_synced`].
    async fn sync(
        &mut self,
        shared: &Shared,
        local: &Local,
        sink: &mut PubSubSink,
        conn: &mut MultiplexedConnection,
    ) -> Result<u64, RedisBackplaneError> {
        let config = &shared.config;
        let limit = config.command_timeout;
        // Changes made after this load are synchronised by the next call.
        let target = shared.requested.load(Ordering::Acquire);
        let wanted: BTreeSet<String> = local.rooms().into_iter().collect();
        let join: Vec<String> = wanted
            .difference(&self.subscribed)
            .map(|room| wire::channel(&config.prefix, room))
            .collect();
        let quit: Vec<String> = self
            .subscribed
            .difference(&wanted)
            .map(|room| wire::channel(&config.prefix, room))
            .collect();
        if !join.is_empty() {
            within(limit, sink.subscribe(&join)).await?;
        }
        if !quit.is_empty() {
            within(limit, sink.unsubscribe(&quit)).await?;
        }
        self.subscribed.clone_from(&wanted);

        let expires = expiry(config.presence_ttl);
        let mut pipe = redis::pipe();
        let mut present = BTreeMap::new();
        for room in &wanted {
            let key = wire::presence_key(&config.prefix, room);
            let entries: BTreeSet<String> = local
                .presence(room)
                .iter()
                .map(|p| wire::presence_entry(&shared.node, p.id.0, &p.name))
                .collect();
            let before = self.present.get(room);
            for entry in &entries {
                if before.is_none_or(|before| !before.contains(entry)) {
                    pipe.zadd(&key, entry, expires).ignore();
                }
            }
            pipe.pexpire(&key, ttl_ms(config.presence_ttl)).ignore();
            present.insert(room.clone(), entries);
        }
        for (room, before) in &self.present {
            let key = wire::presence_key(&config.prefix, room);
            for entry in before {
                if present.get(room).is_none_or(|now| !now.contains(entry)) {
                    pipe.zrem(&key, entry).ignore();
                }
            }
        }
        within(limit, pipe.query_async::<()>(conn)).await?;
        self.present = present;
        Ok(target)
    }

    /// Pushes back the expiry of this process's presence entries, and removes the expired
    /// entries of processes that died.
    async fn refresh(
        &mut self,
        shared: &Shared,
        conn: &mut MultiplexedConnection,
    ) -> Result<(), RedisBackplaneError> {
        let config = &shared.config;
        let expires = expiry(config.presence_ttl);
        let mut pipe = redis::pipe();
        for (room, entries) in &self.present {
            let key = wire::presence_key(&config.prefix, room);
            for entry in entries {
                pipe.zadd(&key, entry, expires).ignore();
            }
            pipe.zrembyscore(&key, "-inf", now_ms()).ignore();
            pipe.pexpire(&key, ttl_ms(config.presence_ttl)).ignore();
        }
        // A PING at least, so that an unreachable Redis is noticed while no room has members.
        pipe.cmd("PING").ignore();
        within(config.command_timeout, pipe.query_async::<()>(conn)).await
    }
}

/// Tells `RedisBackplane::synced` waiters that the first `target` membership changes are in
/// Redis.
fn mark_synced(shared: &Shared, target: u64) {
    shared.synced.send_if_modified(|synced| {
        let advanced = target > *synced;
        *synced = (*synced).max(target);
        advanced
    });
}

async fn within<T>(
    limit: Duration,
    future: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, RedisBackplaneError> {
    match tokio::time::timeout(limit, future).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(RedisBackplaneError::Timeout(limit)),
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

fn expiry(ttl: Duration) -> i64 {
    now_ms().saturating_add(ttl_ms(ttl))
}
