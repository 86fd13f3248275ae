//! An axum extractor for WebSocket upgrades (feature `axum`), by axum's own conventions: the
//! server side of [RFC 6455 §4.2](https://www.rfc-editor.org/rfc/rfc6455#section-4.2) in a
//! handler.
//!
//! [`WebSocketUpgrade`] is a [`FromRequestParts`] extractor, so it may stand in any argument
//! position. It validates the handshake before the handler runs (an invalid request is answered
//! with its [`Refusal`]: 400, 405, or 426 with `Sec-WebSocket-Version: 13`); the handler picks
//! a subprotocol ([`protocols`](WebSocketUpgrade::protocols)), sets the
//! [`config`](WebSocketUpgrade::config), checks the request
//! ([`check`](WebSocketUpgrade::check): origin, authentication), and returns
//! [`on_upgrade`](WebSocketUpgrade::on_upgrade)'s `101` response. The callback runs in a task of
//! its own once hyper has sent that response and handed the connection over.
//!
//! With the `http2` feature the extractor accepts an HTTP/2 extended CONNECT (RFC 8441) as well,
//! and the callback gets the same WebSocket type, over the request's stream
//! ([`UpgradeRequest::is_extended_connect`] tells which it was). Such a request's method is
//! `CONNECT`: route the path with `any(handler)` or `get(handler).connect(handler)`, since
//! `get` alone does not match it. `axum::serve` advertises extended CONNECT to HTTP/2 clients.
//!
//! # Example
//!
//! ```no_run
//! use axum::{Router, response::Response, routing::get};
//! use rfc6455::axum::WebSocketUpgrade;
//!
//! async fn echo(upgrade: WebSocketUpgrade) -> Response {
//!     upgrade.protocols(["echo"]).on_upgrade(|mut ws| async move {
//!         while let Ok(message) = ws.recv().await {
//!             if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
//!                 break;
//!             }
//!         }
//!     })
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let app: Router = Router::new().route("/ws", get(echo));
//! axum::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await
//! # }
//! ```
#![forbid(unsafe_code)]

use std::future::Future;
use std::sync::Arc;

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;

use crate::config::Config;
use crate::handshake::{Accept, Reject, UpgradeRequest};
use crate::hyper::{HyperWebSocket, Refusal, accept_validated};

/// A validated WebSocket upgrade request, extracted from an axum request's head.
///
/// The configuration is [`Config::default()`] unless [`config`](Self::config) sets one.
#[must_use = "return `on_upgrade`'s response from the handler, or the client waits for nothing"]
#[derive(Debug)]
pub struct WebSocketUpgrade {
    request: UpgradeRequest,
    on_upgrade: OnUpgrade,
    config: Arc<Config>,
    protocol: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = Refusal;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let mut head = http::Request::new(());
        *head.method_mut() = parts.method.clone();
        *head.uri_mut() = parts.uri.clone();
        *head.version_mut() = parts.version;
        *head.headers_mut() = parts.headers.clone();
        // Over HTTP/2, hyper keeps the extended CONNECT's `:protocol` among the extensions.
        #[cfg(feature = "http2")]
        if let Some(protocol) = parts.extensions.get::<hyper::ext::Protocol>() {
            head.extensions_mut().insert(protocol.clone());
        }
        let request = crate::hyper::validate(&head)?;
        // hyper leaves the connection's upgrade handle in the request's extensions; without it
        // (not a hyper HTTP/1.1 server, or taken already) there is nothing to upgrade.
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or_else(Refusal::not_upgradable)?;
        Ok(Self {
            request,
            on_upgrade,
            config: Arc::new(Config::default()),
            protocol: None,
        })
    }
}

impl WebSocketUpgrade {
    /// The validated request: path, query, headers, `Origin`, offered subprotocols.
    pub fn request(&self) -> &UpgradeRequest {
        &self.request
    }

    /// The connection's configuration (limits, keepalive, compression); one `Arc<Config>` may be
    /// shared by every connection.
    pub fn config(mut self, config: impl Into<Arc<Config>>) -> Self {
        self.config = config.into();
        self
    }

    /// The subprotocols this server speaks, in order of preference: the first one the client
    /// offered is selected (RFC 6455 §4.2.2 `Sec-WebSocket-Protocol`); none if it offered none of
    /// them.
    ///
    /// ```no_run
    /// # fn handler(upgrade: rfc6455::axum::WebSocketUpgrade) {
    /// let upgrade = upgrade.protocols(["v2.chat", "v1.chat"]);
    /// if upgrade.selected_protocol().is_none() {
    ///     // an old client: serve it the old way, or refuse it
    /// }
    /// # }
    /// ```
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let offered = self.request.protocols();
        self.protocol = protocols
            .into_iter()
            .find(|ours| offered.iter().any(|theirs| theirs == ours.as_ref()))
            .map(|ours| ours.as_ref().to_owned());
        self
    }

    /// The subprotocol [`protocols`](Self::protocols) selected, if any.
    pub fn selected_protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Checks the request before upgrading: `check` returns a [`Reject`] (a 403 for a foreign
    /// `Origin`, a 401) to refuse it, and the [`Refusal`] is the handler's response.
    ///
    /// ```no_run
    /// use axum::response::{IntoResponse, Response};
    /// use rfc6455::axum::WebSocketUpgrade;
    /// use rfc6455::handshake::Reject;
    ///
    /// async fn chat(upgrade: WebSocketUpgrade) -> Response {
    ///     let same_origin = |request: &rfc6455::handshake::UpgradeRequest| match request.origin() {
    ///         Some("https://chat.example") => Ok(()),
    ///         _ => Err(Reject::new(403).body("foreign origin")),
    ///     };
    ///     match upgrade.check(same_origin) {
    ///         Ok(upgrade) => upgrade.on_upgrade(|ws| async move { drop(ws) }),
    ///         Err(refusal) => refusal.into_response(),
    ///     }
    /// }
    /// ```
    pub fn check<F>(self, check: F) -> Result<Self, Refusal>
    where
        F: FnOnce(&UpgradeRequest) -> Result<(), Reject>,
    {
        let extended_connect = self.request.is_extended_connect();
        check(&self.request).map_err(|reject| Refusal::rejected(reject, extended_connect))?;
        Ok(self)
    }

    /// Accepts the upgrade: returns the `101 Switching Protocols` response for the handler to
    /// return, and runs `callback` with the WebSocket in a task of its own once hyper has sent
    /// it. If the client goes away before that, `callback` does not run.
    pub fn on_upgrade<F, Fut>(self, callback: F) -> Response
    where
        F: FnOnce(HyperWebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let accept = match self.protocol {
            Some(protocol) => Accept::new().protocol(protocol),
            None => Accept::new(),
        };
        match accept_validated(self.request, self.on_upgrade, self.config, accept) {
            Ok((response, upgrade)) => {
                tokio::spawn(async move {
                    if let Ok(ws) = upgrade.await {
                        callback(ws).await;
                    }
                });
                response.into_response()
            }
            Err(refusal) => refusal.into_response(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        self.into_http_response().into_response()
    }
}

impl IntoResponse for Reject {
    /// The rejection as a response (its status, headers and body), for a handler that refuses
    /// before extracting the upgrade.
    fn into_response(self) -> Response {
        Refusal::rejected(self, false).into_response()
    }
}
