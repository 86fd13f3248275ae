//! One WebSocket connection: this task reads and handles the client's messages; a writer task
//! drains the connection's outbox, where the rooms and this task queue frames encoded once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rfc6455::tokio::{WebSocket, WebSocketReader, WebSocketWriter};
use rfc6455::{CloseCode, Error, Message};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};

use crate::protocol::{self, Incoming, Invalid, Request};
use crate::rate::TokenBucket;
use crate::room::{ConnId, JoinError, Outbound, Outbox, Rooms};

/// How long a connection that is being closed may take to finish the closing handshake.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// How long the writer may take to finish once the connection is over.
const WRITER_GRACE: Duration = Duration::from_secs(5);

/// The per-connection message rate limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Messages per second, on average.
    pub(crate) rate: f64,
    /// Messages allowed in a burst.
    pub(crate) burst: f64,
}

/// What every connection shares.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) rooms: Arc<Rooms>,
    pub(crate) limits: Limits,
    /// Turns true when the server shuts down: every connection then closes with 1001.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Held by every connection, so that shutdown can wait for them to finish.
    pub(crate) alive: mpsc::Sender<()>,
}

/// The member this connection is in a room as.
#[derive(Debug)]
struct Joined {
    room: String,
    name: String,
}

/// How the read loop ended.
enum Ending {
    /// The connection is closed (closing handshake done, or the transport failed).
    Closed,
    /// The client broke a rule of ours: close with this code and reason.
    Close(CloseCode, &'static str),
    /// The connection failed a protocol rule or a limit (message too big, no pong); the core has
    /// queued its Close frame, which reading on sends.
    Failed,
    /// The client cannot keep up with what it is sent: drop it without ceremony.
    TooSlow,
}

/// Serves one upgraded connection until it ends.
pub(crate) async fn run<S>(ws: WebSocket<S>, conn: ConnId, shared: Shared)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Shared {
        rooms,
        limits,
        mut shutdown,
        alive,
    } = shared;
    let (mut reader, writer) = ws.into_split();
    let (outbox, outbox_rx, kick) = Outbox::new();
    let mut writer = tokio::spawn(write_loop(writer, outbox_rx));
    let mut session = Session {
        conn,
        rooms,
        outbox,
        joined: None,
        bucket: TokenBucket::new(limits.rate, limits.burst, Instant::now()),
    };
    let ending = loop {
        let message = tokio::select! {
            message = reader.recv() => message,
            () = kick.notified() => break Ending::TooSlow,
            _ = shutdown.wait_for(|&down| down) => {
                break Ending::Close(CloseCode::GOING_AWAY, "server shutting down");
            }
        };
        match message {
            Ok(Message::Text(text)) => {
                if !session.bucket.try_take(Instant::now()) {
                    break Ending::Close(CloseCode::POLICY_VIOLATION, "rate limit exceeded");
                }
                session.handle(text.as_str());
            }
            Ok(Message::Binary(_)) => {
                if !session.bucket.try_take(Instant::now()) {
                    break Ending::Close(CloseCode::POLICY_VIOLATION, "rate limit exceeded");
                }
                session.refuse(Invalid::new(
                    Value::Null,
                    "unsupported",
                    "binary messages are not supported",
                ));
            }
            // Pings are answered by the connection itself; after a Close, the next read ends.
            Ok(_) => {}
            Err(Error::Closed) => break Ending::Closed,
            // A tab closed without a Close frame is no news.
            Err(Error::TransportEnded) => break Ending::Failed,
            Err(Error::Protocol(error)) => {
                eprintln!("chat: #{conn} failed with {}: {error}", error.close_code());
                break Ending::Failed;
            }
            Err(Error::Timeout(timeout)) => {
                eprintln!("chat: #{conn} dropped: {timeout}");
                break Ending::Failed;
            }
            Err(_) => break Ending::Closed,
        }
    };
    // Out of the room first, so that nothing more is broadcast to a connection on its way out.
    session.leave();
    match ending {
        Ending::Closed => {}
        Ending::TooSlow => {
            eprintln!("chat: #{conn} dropped: too slow to read what it is sent");
            writer.abort();
        }
        Ending::Close(code, reason) => {
            eprintln!("chat: #{conn} closed with {code}: {reason}");
            session.outbox.close(code, reason);
            tokio::select! {
                () = drain(&mut reader) => {}
                () = kick.notified() => writer.abort(),
            }
        }
        Ending::Failed => drain(&mut reader).await,
    }
    // The writer ends once its outbox is gone; one stuck writing to a peer that stopped reading
    // is stopped, which releases the connection.
    drop(session);
    if tokio::time::timeout(WRITER_GRACE, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
    drop(alive);
}

/// Reads on until the connection is over, so that the closing handshake finishes (the core
/// answers the peer's Close and ends the transport), ignoring any message still arriving.
async fn drain<S: AsyncRead + AsyncWrite + Unpin>(reader: &mut WebSocketReader<S>) {
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while reader.recv().await.is_ok() {}
    })
    .await;
}

/// Writes what the outbox receives, until it is closed or the connection fails. Whatever is
/// already waiting in the outbox goes out in one write.
async fn write_loop<S: AsyncRead + AsyncWrite + Unpin>(
    mut writer: WebSocketWriter<S>,
    mut outbox: mpsc::Receiver<Outbound>,
) {
    while let Some(mut outbound) = outbox.recv().await {
        loop {
            match outbound {
                // The same bytes for every member: no encoding here, one copy into the send
                // buffer.
                Outbound::Frame(frame) => {
                    if writer.feed_prepared(&frame).await.is_err() {
                        return;
                    }
                }
                Outbound::Close(code, reason) => {
                    let _ = writer.close(code, reason).await;
                    return;
                }
            }
            match outbox.try_recv() {
                Ok(next) => outbound = next,
                Err(_) => break,
            }
        }
        if writer.flush().await.is_err() {
            return;
        }
    }
}

/// The state of one connection.
struct Session {
    conn: ConnId,
    rooms: Arc<Rooms>,
    outbox: Outbox,
    joined: Option<Joined>,
    bucket: TokenBucket,
}

impl Session {
    /// Handles one text message: acknowledges it or answers with an error.
    fn handle(&mut self, text: &str) {
        let Incoming { id, request } = match protocol::parse(text) {
            Ok(incoming) => incoming,
            Err(invalid) => return self.refuse(invalid),
        };
        let kind = request.kind();
        let result = match request {
            Request::Join { room, name } => self.join(room, name),
            Request::Leave if self.joined.is_some() => {
                self.leave();
                Ok(())
            }
            Request::Leave => Err(not_in_room()),
            Request::Message { text } => {
                self.in_room(|rooms, conn, room| rooms.say(conn, room, &text))
            }
            Request::Typing => self.in_room(|rooms, conn, room| rooms.typing(conn, room)),
        };
        match result {
            Ok(()) => {
                self.outbox.push(protocol::ack(&id, kind));
            }
            Err((code, reason)) => self.refuse(Invalid::new(id, code, reason)),
        }
    }

    fn join(&mut self, room: String, name: String) -> Result<(), (&'static str, String)> {
        if let Some(joined) = &self.joined {
            if joined.room == room && joined.name == name {
                return Ok(());
            }
        }
        // Join the new room before leaving the old one: a refused join changes nothing.
        match self.rooms.join(self.conn, &room, &name, &self.outbox) {
            Ok(()) => {
                self.leave();
                self.joined = Some(Joined { room, name });
                Ok(())
            }
            Err(JoinError::NameTaken) => Err((
                "name_taken",
                format!("the name {name:?} is already taken in this room"),
            )),
        }
    }

    /// Runs `act` on the room this connection is in.
    fn in_room(
        &mut self,
        act: impl FnOnce(&Rooms, ConnId, &str) -> bool,
    ) -> Result<(), (&'static str, String)> {
        let Some(joined) = &self.joined else {
            return Err(not_in_room());
        };
        if act(&self.rooms, self.conn, &joined.room) {
            Ok(())
        } else {
            // Dropped from the room as too slow; the connection is on its way out.
            self.joined = None;
            Err(not_in_room())
        }
    }

    fn leave(&mut self) {
        if let Some(joined) = self.joined.take() {
            self.rooms.leave(self.conn, &joined.room);
        }
    }

    fn refuse(&mut self, invalid: Invalid) {
        self.outbox.push(protocol::error(&invalid));
    }
}

fn not_in_room() -> (&'static str, String) {
    ("not_in_room", "join a room first".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rfc6455::Config;
    use rfc6455::handshake::{Accept, ClientRequest};
    use tokio::io::DuplexStream;

    /// A client connected to a session over an in-memory pipe.
    async fn connect(shared: &Shared, conn: ConnId, config: Config) -> WebSocket<DuplexStream> {
        let (client, server) = tokio::io::duplex(1 << 20);
        let shared = shared.clone();
        tokio::spawn(async move {
            let ws = WebSocket::accept_with(server, config, |_| Ok(Accept::new())).await;
            run(ws.unwrap(), conn, shared).await;
        });
        let request = ClientRequest::new("ws://chat.test/ws").unwrap();
        WebSocket::client(client, &request, Config::default())
            .await
            .unwrap()
            .0
    }

    fn shared(rate: f64, burst: f64) -> (Shared, watch::Sender<bool>, mpsc::Receiver<()>) {
        let (shutdown_tx, shutdown) = watch::channel(false);
        let (alive, alive_rx) = mpsc::channel(1);
        let shared = Shared {
            rooms: Arc::new(Rooms::default()),
            limits: Limits { rate, burst },
            shutdown,
            alive,
        };
        (shared, shutdown_tx, alive_rx)
    }

    async fn recv_json(ws: &mut WebSocket<DuplexStream>) -> Value {
        loop {
            match ws.recv().await.unwrap() {
                Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
                Message::Close(close) => panic!("closed: {close:?}"),
                _ => {}
            }
        }
    }

    #[tokio::test]
    async fn chats_acks_and_refuses_bad_input_without_closing() {
        let (shared, _shutdown, _alive) = shared(20.0, 40.0);
        let mut ann = connect(&shared, 1, Config::default()).await;
        ann.send_text("{nope").await.unwrap();
        let error = recv_json(&mut ann).await;
        assert_eq!(
            (error["type"].as_str(), error["payload"]["code"].as_str()),
            (Some("error"), Some("bad_json"))
        );
        ann.send_text(r#"{"type":"message","id":"m0","payload":{"text":"hi"}}"#)
            .await
            .unwrap();
        let error = recv_json(&mut ann).await;
        assert_eq!(
            (error["id"].as_str(), error["payload"]["code"].as_str()),
            (Some("m0"), Some("not_in_room"))
        );
        ann.send_text(r#"{"type":"join","id":1,"payload":{"room":"r","name":"ann"}}"#)
            .await
            .unwrap();
        let presence = recv_json(&mut ann).await;
        assert_eq!(presence["payload"]["members"], serde_json::json!(["ann"]));
        assert_eq!(recv_json(&mut ann).await["id"], 1);
        ann.send_text(r#"{"type":"message","id":"m1","payload":{"text":"日本語 🎉"}}"#)
            .await
            .unwrap();
        let message = recv_json(&mut ann).await;
        assert_eq!(message["payload"]["text"], "日本語 🎉");
        assert_eq!(message["payload"]["from"], "ann");
        let ack = recv_json(&mut ann).await;
        assert_eq!(
            (ack["type"].as_str(), ack["id"].as_str()),
            (Some("ack"), Some("m1"))
        );
    }

    #[tokio::test]
    async fn a_flood_is_closed_with_1008_and_a_big_message_with_1009() {
        let (shared, _shutdown, _alive) = shared(20.0, 5.0);
        let mut flooder = connect(&shared, 1, Config::default()).await;
        for _ in 0..10 {
            let _ = flooder.send_text(r#"{"type":"typing"}"#).await;
        }
        let close = loop {
            if let Message::Close(close) = flooder.recv().await.unwrap() {
                break close.unwrap();
            }
        };
        assert_eq!(close.code, CloseCode::POLICY_VIOLATION);
        assert_eq!(close.reason, "rate limit exceeded");

        let mut big = connect(&shared, 2, Config::default().max_message_size(1024)).await;
        big.send_text(&"x".repeat(2048)).await.unwrap();
        let close = loop {
            match big.recv().await {
                Ok(Message::Close(close)) => break close.unwrap(),
                Ok(_) => {}
                Err(error) => panic!("{error}"),
            }
        };
        assert_eq!(
            close.code,
            rfc6455::ProtocolError::MessageTooLarge { size: 0, max: 0 }.close_code()
        );
    }

    #[tokio::test]
    async fn shutdown_closes_with_1001_and_waits_for_the_connection() {
        let (shared, shutdown, mut alive) = shared(20.0, 40.0);
        let mut ws = connect(&shared, 1, Config::default()).await;
        drop(shared);
        shutdown.send_replace(true);
        let close = loop {
            if let Message::Close(close) = ws.recv().await.unwrap() {
                break close.unwrap();
            }
        };
        assert_eq!(close.code, CloseCode::GOING_AWAY);
        // The client reads on to see the end; the session then finishes.
        while ws.recv().await.is_ok() {}
        assert!(alive.recv().await.is_none());
    }
}
