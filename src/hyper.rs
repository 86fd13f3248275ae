//! Upgrading the requests of a hyper 1.x server, and so of axum, to WebSockets (feature `hyper`):
//! the server side of [RFC 6455 §4.2](https://www.rfc-editor.org/rfc/rfc6455#section-4.2) when
//! an HTTP server owns the connection.
//!
//! hyper reads the request and writes the response itself, so the handshake splits in two:
//!
//! 1. In the handler, [`upgrade`] (or [`upgrade_with`], to choose a subprotocol or refuse)
//!    validates the request with the core ([`UpgradeRequest::from_http`]) and returns the `101
//!    Switching Protocols` response for the handler to return, with an [`Upgrade`] future.
//!    An invalid request gets a [`Refusal`] instead, whose
//!    [`into_http_response`](Refusal::into_http_response) carries the status RFC 6455 asks for (400, 405,
//!    426 with `Sec-WebSocket-Version: 13`).
//! 2. Once hyper has written the 101, it hands the connection over
//!    ([`hyper::upgrade::on`]) and the [`Upgrade`] future resolves to a
//!    [`tokio::WebSocket`](crate::tokio::WebSocket) over it. Await it in a spawned task: the
//!    handler must return first, or hyper never writes the response.
//!
//! With the `http2` feature the same functions accept an HTTP/2 extended CONNECT (RFC 8441) too,
//! answered with `200` instead of `101`, and the [`Upgrade`] resolves to the same
//! [`HyperWebSocket`] over the request's stream ([`UpgradeRequest::is_extended_connect`] tells
//! which it was). The server must advertise extended CONNECT in its SETTINGS: hyper-util's
//! `auto::Builder` with `.http2().enable_connect_protocol()` (axum's `serve` does it), or
//! hyper's `http2::Builder::enable_connect_protocol`. HTTP/2's flow control is then the
//! transport's backpressure: hyper gives the stream's window back only as the WebSocket reads,
//! so a peer sends at most a window ahead of a slow reader. Without the feature an HTTP/2
//! request gets 400.
//!
//! # Example: an axum handler
//!
//! ```no_run
//! use axum::{Router, extract::Request, response::IntoResponse, routing::get};
//! use rfc6455::Config;
//!
//! async fn ws(mut request: Request) -> impl IntoResponse {
//!     let (response, upgrade) = match rfc6455::hyper::upgrade(&mut request, Config::default()) {
//!         Ok(parts) => parts,
//!         Err(refusal) => return refusal.into_http_response(),
//!     };
//!     tokio::spawn(async move {
//!         let Ok(mut ws) = upgrade.await else { return };
//!         while let Ok(message) = ws.recv().await {
//!             if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
//!                 break;
//!             }
//!         }
//!     });
//!     response
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let app: Router = Router::new().route("/ws", get(ws));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body_util::Full;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;

use crate::config::Config;
use crate::connection::{Connection, Role};
use crate::handshake::{Accept, BuildError, Reject, UpgradeRequest};
use crate::io_error::Error;
use crate::tokio::WebSocket;

/// The body of the responses this module builds: empty for the 101, a short text for a refusal.
/// hyper and axum both take it as it is.
pub type Body = Full<Bytes>;

/// The WebSocket an [`Upgrade`] resolves to: over hyper's upgraded connection.
pub type HyperWebSocket = WebSocket<TokioIo<Upgraded>>;

/// Validates a WebSocket upgrade request and accepts it with no subprotocol.
///
/// Returns the `101` response for the handler to return and the [`Upgrade`] that resolves to the
/// WebSocket once hyper has sent it; or a [`Refusal`] whose response says what was wrong.
/// `request` must come from a hyper server (it carries hyper's upgrade handle); it is borrowed
/// mutably to take that handle.
///
/// # Example
///
/// ```
/// use rfc6455::Config;
///
/// let mut request = http::Request::get("/ws")
///     .header("Host", "example.com")
///     .header("Upgrade", "websocket")
///     .header("Connection", "Upgrade")
///     .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
///     .header("Sec-WebSocket-Version", "13")
///     .body(())?;
/// let (response, _upgrade) = rfc6455::hyper::upgrade(&mut request, Config::default())?;
/// assert_eq!(response.status(), 101);
/// assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
///
/// // A plain GET is not an upgrade: 400.
/// let mut plain = http::Request::get("/ws").header("Host", "example.com").body(())?;
/// let refusal = rfc6455::hyper::upgrade(&mut plain, Config::default()).unwrap_err();
/// assert_eq!(refusal.into_http_response().status(), 400);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn upgrade<B>(
    request: &mut http::Request<B>,
    config: impl Into<Arc<Config>>,
) -> Result<(http::Response<Body>, Upgrade), Refusal> {
    upgrade_with(request, config, |_| Ok(Accept::new()))
}

/// Validates a WebSocket upgrade request, then lets `decide` accept it (choosing a subprotocol,
/// adding headers) or refuse it with a [`Reject`] (a 403 for a foreign `Origin`, a 401, a
/// redirect).
///
/// A request that is not a valid handshake is refused before `decide` runs, with
/// [`Error::Handshake`] and its status; a [`Reject`] gives [`Error::Rejected`] and the response
/// it describes; an [`Accept`] naming a subprotocol the client did not offer is this server's
/// mistake: [`Error::Build`] and a 500.
///
/// # Example
///
/// ```
/// use rfc6455::Config;
/// use rfc6455::handshake::{Accept, Reject};
///
/// let mut request = http::Request::get("/chat")
///     .header("Host", "example.com")
///     .header("Upgrade", "websocket")
///     .header("Connection", "Upgrade")
///     .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
///     .header("Sec-WebSocket-Version", "13")
///     .header("Sec-WebSocket-Protocol", "v2.chat")
///     .header("Origin", "https://evil.example")
///     .body(())?;
/// let refusal = rfc6455::hyper::upgrade_with(&mut request, Config::default(), |request| {
///     if request.origin() != Some("https://example.com") {
///         return Err(Reject::new(403).body("Origin not allowed"));
///     }
///     Ok(Accept::new().protocol("v2.chat"))
/// })
/// .unwrap_err();
/// assert!(matches!(refusal.error(), rfc6455::Error::Rejected(403)));
/// assert_eq!(refusal.into_http_response().status(), 403);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn upgrade_with<B, F>(
    request: &mut http::Request<B>,
    config: impl Into<Arc<Config>>,
    decide: F,
) -> Result<(http::Response<Body>, Upgrade), Refusal>
where
    F: FnOnce(&UpgradeRequest) -> Result<Accept, Reject>,
{
    let validated = validate(request)?;
    let accept = decide(&validated)
        .map_err(|reject| Refusal::rejected(reject, validated.is_extended_connect()))?;
    accept_validated(
        validated,
        hyper::upgrade::on(request),
        config.into(),
        accept,
    )
}

/// Validates `request` as the handshake its HTTP version carries: an HTTP/1.1 upgrade, or (feature
/// `http2`) an HTTP/2 extended CONNECT, whose `:protocol` hyper keeps in the request's
/// extensions.
pub(crate) fn validate<B>(request: &http::Request<B>) -> Result<UpgradeRequest, Refusal> {
    #[cfg(feature = "http2")]
    if request.version() == http::Version::HTTP_2 {
        let protocol = request.extensions().get::<hyper::ext::Protocol>();
        return UpgradeRequest::from_extended_connect(request, protocol.map(|p| p.as_str()))
            .map_err(Refusal::invalid_extended_connect);
    }
    UpgradeRequest::from_http(request).map_err(Refusal::invalid)
}

/// The 101 response for a validated request that the application accepted, and the future that
/// completes the upgrade: shared by [`upgrade_with`] and the axum extractor.
pub(crate) fn accept_validated(
    validated: UpgradeRequest,
    on_upgrade: OnUpgrade,
    config: Arc<Config>,
    accept: Accept,
) -> Result<(http::Response<Body>, Upgrade), Refusal> {
    let (accept, negotiated) = crate::handshake::negotiate(&validated, accept, &config);
    let response = validated
        .accept_http(&accept)
        .map_err(Refusal::internal)?
        .map(|()| Body::default());
    let upgrade = Upgrade {
        on_upgrade,
        config: Some(config),
        negotiated: Some(negotiated),
        request: validated,
    };
    Ok((response, upgrade))
}

/// Whether `request` asks for a WebSocket: its `Upgrade` header names `websocket`, or (feature
/// `http2`) it is a `CONNECT` whose `:protocol` is `websocket`. For routing a path that serves
/// both plain HTTP and WebSockets; [`upgrade`] does the full validation.
///
/// ```
/// let request = http::Request::get("/").header("Upgrade", "WebSocket").body(())?;
/// assert!(rfc6455::hyper::is_upgrade_request(&request));
/// # Ok::<(), http::Error>(())
/// ```
pub fn is_upgrade_request<B>(request: &http::Request<B>) -> bool {
    #[cfg(feature = "http2")]
    if request.method() == http::Method::CONNECT {
        return request
            .extensions()
            .get::<hyper::ext::Protocol>()
            .is_some_and(|protocol| {
                protocol
                    .as_str()
                    .eq_ignore_ascii_case(crate::handshake::WEBSOCKET_PROTOCOL)
            });
    }
    request
        .headers()
        .get_all(http::header::UPGRADE)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&b| b == b','))
        .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"websocket"))
}

/// The second half of an accepted upgrade: resolves to the WebSocket once hyper has sent the 101
/// response and handed the connection over (for an HTTP/2 extended CONNECT: the 200, and the
/// request's stream).
///
/// Fails with [`Error::Io`] if hyper has no connection to hand over: the request did not come
/// from a hyper server, or the client went away before the response was sent.
///
/// # Example
///
/// ```no_run
/// # async fn handler(mut request: http::Request<hyper::body::Incoming>)
/// #     -> http::Response<rfc6455::hyper::Body> {
/// let (response, upgrade) = match rfc6455::hyper::upgrade(&mut request, rfc6455::Config::default()) {
///     Ok(parts) => parts,
///     Err(refusal) => return refusal.into_http_response(),
/// };
/// println!("upgrading {}", upgrade.request().path());
/// // The handler must return the response before the upgrade can complete.
/// tokio::spawn(async move {
///     if let Ok(mut ws) = upgrade.await {
///         let _ = ws.send_text("welcome").await;
///     }
/// });
/// response
/// # }
/// ```
#[must_use = "the WebSocket is only reachable by awaiting the upgrade"]
#[derive(Debug)]
pub struct Upgrade {
    on_upgrade: OnUpgrade,
    /// Taken when the future completes.
    config: Option<Arc<Config>>,
    /// The extensions agreed in the 101 response, switched on in the connection.
    negotiated: Option<crate::handshake::Negotiated>,
    request: UpgradeRequest,
}

impl Upgrade {
    /// The validated request: path, query, headers, offered subprotocols.
    pub fn request(&self) -> &UpgradeRequest {
        &self.request
    }
}

impl Future for Upgrade {
    type Output = Result<HyperWebSocket, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let upgraded = ready!(Pin::new(&mut this.on_upgrade).poll(cx)).map_err(io::Error::other)?;
        let config = this
            .config
            .take()
            .unwrap_or_else(|| Arc::new(Config::default()));
        // hyper keeps any bytes it read past the request inside `Upgraded`, so frames the client
        // sent right behind its handshake are not lost.
        let conn = Connection::new(Role::Server, config);
        let conn = this.negotiated.take().unwrap_or_default().apply(conn);
        Poll::Ready(Ok(WebSocket::from_connection(TokioIo::new(upgraded), conn)))
    }
}

/// A refused upgrade: why ([`error`](Self::error)) and the response that tells the client
/// ([`into_http_response`](Self::into_http_response)).
///
/// # Example
///
/// ```
/// use rfc6455::Error;
/// use rfc6455::handshake::HandshakeError;
///
/// let mut request = http::Request::post("/ws").header("Host", "a").body(())?;
/// let refusal = rfc6455::hyper::upgrade(&mut request, rfc6455::Config::default()).unwrap_err();
/// assert!(matches!(refusal.error(), Error::Handshake(HandshakeError::MethodNotAllowed)));
/// let response = refusal.into_http_response();
/// assert_eq!(response.status(), 405);
/// assert_eq!(response.headers()["allow"], "GET");
/// # Ok::<(), http::Error>(())
/// ```
#[derive(Debug)]
pub struct Refusal {
    /// Boxed: a `Result` carrying it stays small on the happy path.
    inner: Box<(Error, http::Response<Body>)>,
}

impl Refusal {
    /// Why: [`Error::Handshake`] for an invalid request (the client's fault), [`Error::Rejected`]
    /// for a [`Reject`] of the application's `decide`, [`Error::Build`] for an [`Accept`] or
    /// [`Reject`] that could not be written (this server's fault).
    pub fn error(&self) -> &Error {
        &self.inner.0
    }

    /// The HTTP status of the response.
    pub fn status(&self) -> http::StatusCode {
        self.inner.1.status()
    }

    /// The response to send: for an invalid request, the status and headers RFC 6455 asks for
    /// (e.g. 426 with `Sec-WebSocket-Version: 13`) and a fixed text body that echoes nothing of
    /// the request.
    ///
    /// Named apart from axum's `IntoResponse::into_response`, which `Refusal` also implements
    /// (feature `axum`), so that the trait's method is never hidden.
    pub fn into_http_response(self) -> http::Response<Body> {
        self.inner.1
    }

    /// Both parts.
    pub fn into_parts(self) -> (Error, http::Response<Body>) {
        *self.inner
    }

    /// The client's request is not a valid handshake: the status and headers RFC 6455 asks for.
    pub(crate) fn invalid(error: crate::handshake::HandshakeError) -> Self {
        let response = response_from_bytes(&error.response_bytes(), false);
        Self::new(error.into(), response)
    }

    /// The client's extended CONNECT is not a valid handshake: the status and headers RFC 8441
    /// implies, none of them connection-specific.
    #[cfg(feature = "http2")]
    pub(crate) fn invalid_extended_connect(error: crate::handshake::HandshakeError) -> Self {
        let response = error.http_response().map(Body::from);
        Self::new(error.into(), response)
    }

    /// The application refused the request; over HTTP/2 (`extended_connect`) without the
    /// connection-specific fields the HTTP/1.1 refusal carries.
    pub(crate) fn rejected(reject: Reject, extended_connect: bool) -> Self {
        match reject.to_bytes() {
            Ok(bytes) => Self::new(
                Error::Rejected(reject.status()),
                response_from_bytes(&bytes, extended_connect),
            ),
            Err(error) => Self::internal(error),
        }
    }

    /// The HTTP server gave the request no upgrade handle: this server's setup is at fault
    /// (hyper needs `serve_connection(..).with_upgrades()`), answered with a 500.
    #[cfg(feature = "axum")]
    pub(crate) fn not_upgradable() -> Self {
        let error = io::Error::new(
            io::ErrorKind::Unsupported,
            "the HTTP server offers no upgrade for this connection \
             (hyper: serve_connection(..).with_upgrades())",
        );
        let mut response = http::Response::new(Body::from("Internal Server Error"));
        *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        Self::new(error.into(), response)
    }

    fn new(error: Error, response: http::Response<Body>) -> Self {
        Self {
            inner: Box::new((error, response)),
        }
    }

    fn internal(error: BuildError) -> Self {
        let mut response = http::Response::new(Body::from("Internal Server Error"));
        *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        Self::new(error.into(), response)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "upgrade refused with {}: {}",
            self.status(),
            self.error()
        )
    }
}

impl std::error::Error for Refusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.error())
    }
}

/// Turns a complete refusal written by the core (status line, headers, body) into an `http`
/// response, so the rules for which status carries which header stay in one place.
///
/// `Content-Length` is left to hyper, which derives it from the body. For an HTTP/2 response
/// (`http2`) the connection-specific fields are left out too (RFC 9113 §8.2.2).
fn response_from_bytes(bytes: &[u8], http2: bool) -> http::Response<Body> {
    let mut storage = [httparse::EMPTY_HEADER; 16];
    let mut parsed = httparse::Response::new(&mut storage);
    let head_len = match parsed.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        // The core wrote these bytes; a parse failure would be a bug here, answered with a 500.
        _ => 0,
    };
    let status = parsed
        .code
        .filter(|_| head_len > 0)
        .and_then(|code| http::StatusCode::from_u16(code).ok())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let body = bytes
        .get(head_len..)
        .filter(|_| head_len > 0)
        .unwrap_or(b"");
    let mut response = http::Response::new(Body::from(Bytes::copy_from_slice(body)));
    *response.status_mut() = status;
    for header in parsed.headers.iter() {
        if header.name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        let connection_specific = ["connection", "upgrade", "keep-alive", "transfer-encoding"]
            .iter()
            .any(|name| header.name.eq_ignore_ascii_case(name));
        if http2 && connection_specific {
            continue;
        }
        let name = http::HeaderName::from_bytes(header.name.as_bytes());
        let value = http::HeaderValue::from_bytes(header.value);
        if let (Ok(name), Ok(value)) = (name, value) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake() -> http::request::Builder {
        http::Request::get("/ws")
            .header("Host", "example.com")
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
    }

    #[test]
    fn a_wrong_version_gets_426_with_the_version_we_speak() {
        let mut request = handshake()
            .header("Sec-WebSocket-Version", "8")
            .body(())
            .unwrap();
        let refusal = upgrade(&mut request, Config::default()).unwrap_err();
        assert!(matches!(
            refusal.error(),
            Error::Handshake(crate::handshake::HandshakeError::UnsupportedVersion)
        ));
        let response = refusal.into_http_response();
        assert_eq!(response.status(), 426);
        assert_eq!(response.headers()["sec-websocket-version"], "13");
        assert_eq!(response.headers()["upgrade"], "websocket");
        assert!(response.headers().get("content-length").is_none());
    }

    #[test]
    fn a_post_gets_405_with_allow() {
        let mut request = handshake()
            .method("POST")
            .header("Sec-WebSocket-Version", "13")
            .body(())
            .unwrap();
        let response = upgrade(&mut request, Config::default())
            .unwrap_err()
            .into_http_response();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET");
    }

    #[test]
    fn an_unoffered_protocol_is_a_500_not_the_clients_fault() {
        let mut request = handshake()
            .header("Sec-WebSocket-Version", "13")
            .body(())
            .unwrap();
        let refusal = upgrade_with(&mut request, Config::default(), |_| {
            Ok(Accept::new().protocol("x"))
        })
        .unwrap_err();
        assert!(matches!(refusal.error(), Error::Build(_)));
        assert_eq!(refusal.status(), 500);
    }

    #[test]
    fn garbage_bytes_give_a_500() {
        assert_eq!(response_from_bytes(b"not http", false).status(), 500);
    }
}
