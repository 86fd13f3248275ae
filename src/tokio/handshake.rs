//! The opening handshake over an async stream, RFC 6455 §4: the server side with a defence
//! against clients that trickle their request, and the client side.
#![forbid(unsafe_code)]

use std::future::Future;
use std::io;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::WebSocket;
use crate::config::Config;
use crate::handshake::offer_extensions;
use crate::handshake::{
    Accept, ClientHandshake, ClientRequest, Reject, ServerHandshake, UpgradeRequest,
    UpgradeResponse,
};
use crate::io_error::Error;

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Performs the server side of the opening handshake with [`Config::default`] (a
    /// keepalive Ping after 20 s of silence), accepting any valid request without a subprotocol.
    pub fn accept(stream: S) -> impl Future<Output = Result<Self, Error>> {
        Self::accept_with(stream, Config::default(), |_| Ok(Accept::default()))
    }

    /// Performs the server side of the opening handshake; `decide` sees the validated request and
    /// accepts it (choosing a subprotocol, adding headers) or rejects it with a status.
    ///
    /// An invalid request is answered with the matching error status (400, 405, 426, 431) and
    /// returned as [`Error::Handshake`]; a rejection as [`Error::Rejected`].
    pub fn accept_with<F>(
        stream: S,
        config: impl Into<Arc<Config>>,
        decide: F,
    ) -> impl Future<Output = Result<Self, Error>>
    where
        F: FnOnce(&UpgradeRequest) -> Result<Accept, Reject>,
    {
        // On the heap, and boxed at once (this is not an `async fn`): a task keeps the size of its
        // future's largest state for its whole life, and the handshake's state, arguments
        // included, is larger than the open connection's.
        Box::pin(Self::server_handshake(stream, config.into(), decide))
    }

    async fn server_handshake<F>(
        mut stream: S,
        config: Arc<Config>,
        decide: F,
    ) -> Result<Self, Error>
    where
        F: FnOnce(&UpgradeRequest) -> Result<Accept, Reject>,
    {
        let mut handshake = ServerHandshake::new();
        // On the heap, not in the future: the task keeps its future's size for its whole life.
        let mut buf = vec![0u8; 4096];
        let read_request = async {
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
                }
                match handshake.handle_input(&buf[..n]) {
                    Ok(Some(request)) => return Ok(request),
                    Ok(None) => {}
                    Err(error) => {
                        let _ = write_all_flush(&mut stream, &error.response_bytes()).await;
                        return Err(Error::from(error));
                    }
                }
            }
        };
        // A peer that trickles its request (slowloris) is dropped after the handshake timeout.
        let request = match config.handshake_timeout {
            Some(limit) => tokio::time::timeout(limit, read_request)
                .await
                .map_err(|_| {
                    io::Error::new(io::ErrorKind::TimedOut, "opening handshake timed out")
                })??,
            None => read_request.await?,
        };
        let accept = match decide(&request) {
            Ok(accept) => accept,
            Err(reject) => {
                write_all_flush(&mut stream, &reject.to_bytes()?).await?;
                return Err(Error::Rejected(reject.status()));
            }
        };
        let conn = handshake.accept(&request, accept, config)?;
        let mut ws = Self::from_connection(stream, conn);
        // The 101 response is the connection's first output.
        ws.flush().await?;
        Ok(ws)
    }

    /// Performs the client side of the opening handshake over a connected stream (plain TCP, or
    /// a TLS stream), returning the socket and the server's response.
    pub async fn client(
        mut stream: S,
        request: &ClientRequest,
        config: impl Into<Arc<Config>>,
    ) -> Result<(Self, UpgradeResponse), Error> {
        let config = config.into();
        let request = offer_extensions(request, &config);
        let mut handshake = ClientHandshake::new(&request)?;
        write_all_flush(&mut stream, handshake.request_bytes()).await?;
        // On the heap, not in the future: the task keeps its future's size for its whole life.
        let mut buf = vec![0u8; 4096];
        let response = loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into());
            }
            match handshake.handle_input(&buf[..n]) {
                Ok(Some(response)) => break response,
                Ok(None) => {}
                Err(mut refusal) => {
                    // The body of a refusal often says why ("bad token"): read the rest of it,
                    // bounded. A failing read ends it; the refusal is the error to report.
                    while refusal.refusal_body_missing() > 0 {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => refusal.extend_refusal_body(&buf[..n]),
                        }
                    }
                    return Err(refusal.into());
                }
            }
        };
        let conn = handshake.connect(&response, config)?;
        Ok((Self::from_connection(stream, conn), response))
    }
}

async fn write_all_flush<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}
