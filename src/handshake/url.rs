//! WebSocket URIs (RFC 6455 §3).
//!
//! ```text
//! ws-URI = "ws:" "//" host [ ":" port ] path [ "?" query ]
//! wss-URI = "wss:" "//" host [ ":" port ] path [ "?" query ]
//! ```

use std::net::Ipv6Addr;

use super::UrlError;

/// The parts of a `ws://` or `wss://` URL a client handshake needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WsUrl {
    /// `wss`: the transport must be TLS.
    pub(crate) secure: bool,
    /// The host, without the brackets of an IPv6 literal.
    pub(crate) host: String,
    /// Whether `host` is an IPv6 literal, which needs brackets in the `Host` header.
    pub(crate) ipv6: bool,
    /// The port, the scheme's default if the URL has none.
    pub(crate) port: u16,
    /// Path and query: what goes in the request line.
    pub(crate) resource: String,
}

impl WsUrl {
    /// Parses `url`; the scheme is matched ignoring case (RFC 3986 §3.1).
    pub(crate) fn parse(url: &str) -> Result<Self, UrlError> {
        let (scheme, rest) = url.split_once("://").ok_or(UrlError::UnsupportedScheme)?;
        let secure = if scheme.eq_ignore_ascii_case("wss") {
            true
        } else if scheme.eq_ignore_ascii_case("ws") {
            false
        } else {
            return Err(UrlError::UnsupportedScheme);
        };
        // RFC 6455 §3: "Fragment identifiers are meaningless in the context of WebSocket URIs and
        // MUST NOT be used on these URIs."
        if rest.contains('#') {
            return Err(UrlError::Fragment);
        }
        // The resource goes verbatim into the request line and the host into a header: a space,
        // CR or LF would split them.
        if !rest.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UrlError::InvalidCharacter);
        }
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        // RFC 3986 §3.3, §3.4: path and query are pchar, "/" and "?"; the rest (`"<>\^`{|}`,
        // brackets) must be percent-encoded, and HTTP parsers refuse them in a request line.
        if !tail.bytes().all(is_resource_char) {
            return Err(UrlError::InvalidCharacter);
        }
        if authority.contains('@') {
            return Err(UrlError::UserInfo);
        }
        let (host, ipv6, port) = split_authority(authority)?;
        let default_port = if secure { 443 } else { 80 };
        let port = match port {
            None => default_port,
            Some(port) => parse_port(port)?,
        };
        // RFC 6455 §3: "The "resource-name" [...] is "/" if the path component is empty", followed
        // by "?" and the query component when it is not empty.
        let resource = if tail.starts_with('/') {
            tail.to_owned()
        } else {
            format!("/{tail}")
        };
        Ok(Self {
            secure,
            host: host.to_owned(),
            ipv6,
            port,
            resource,
        })
    }

    /// The `Host` header value.
    ///
    /// RFC 6455 §4.1: "The request MUST contain a |Host| header field whose value contains /host/
    /// plus optionally ":" followed by /port/ (when not using the default port)."
    pub(crate) fn host_header(&self) -> String {
        let default_port = if self.secure { 443 } else { 80 };
        let host = if self.ipv6 {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The URL back, normalised: lowercase scheme, port only when not the default.
    pub(crate) fn to_url(&self) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.host_header(), self.resource)
    }
}

/// Splits `host[:port]` or `[v6]:port`; returns the host, whether it is IPv6, and the port text.
fn split_authority(authority: &str) -> Result<(&str, bool, Option<&str>), UrlError> {
    if authority.is_empty() {
        return Err(UrlError::MissingHost);
    }
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (literal, after) = bracketed.split_once(']').ok_or(UrlError::InvalidHost)?;
        // Zone identifiers (`%25eth0`) and IPvFuture are not accepted: a Host header cannot
        // usefully carry them to the server.
        if literal.parse::<Ipv6Addr>().is_err() {
            return Err(UrlError::InvalidHost);
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(UrlError::InvalidHost)?),
        };
        return Ok((literal, true, port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    if host.is_empty() {
        return Err(UrlError::MissingHost);
    }
    // A domain name or IPv4 address. Percent-encoded and other exotic reg-name characters are
    // refused: they are not resolvable names, and a non-ASCII name must arrive in its
    // A-label (punycode) form.
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        return Err(UrlError::InvalidHost);
    }
    Ok((host, false, port))
}

/// Whether `b` may appear unencoded in a path or query (RFC 3986 `pchar`, `/`, `?`).
fn is_resource_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
                | b'?'
        )
}

/// A port: one to five digits, 1–65535. `str::parse` alone would accept a leading `+`.
fn parse_port(port: &str) -> Result<u16, UrlError> {
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::InvalidPort);
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(UrlError::InvalidPort),
        Ok(port) => Ok(port),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(url, secure, host, port, resource, Host header)`
    const VALID: &[(&str, bool, &str, u16, &str, &str)] = &[
        (
            "ws://example.com",
            false,
            "example.com",
            80,
            "/",
            "example.com",
        ),
        (
            "ws://example.com/",
            false,
            "example.com",
            80,
            "/",
            "example.com",
        ),
        (
            "wss://example.com",
            true,
            "example.com",
            443,
            "/",
            "example.com",
        ),
        (
            "WS://Example.COM/Chat",
            false,
            "Example.COM",
            80,
            "/Chat",
            "Example.COM",
        ),
        ("WsS://a/", true, "a", 443, "/", "a"),
        ("ws://a:80/", false, "a", 80, "/", "a"),
        ("ws://a:443/", false, "a", 443, "/", "a:443"),
        ("wss://a:443/", true, "a", 443, "/", "a"),
        ("wss://a:80/", true, "a", 80, "/", "a:80"),
        (
            "ws://a:8080/x/y?q=1&r",
            false,
            "a",
            8080,
            "/x/y?q=1&r",
            "a:8080",
        ),
        ("ws://a?q", false, "a", 80, "/?q", "a"),
        ("ws://a/?", false, "a", 80, "/?", "a"),
        (
            "ws://127.0.0.1:9001",
            false,
            "127.0.0.1",
            9001,
            "/",
            "127.0.0.1:9001",
        ),
        ("ws://[::1]", false, "::1", 80, "/", "[::1]"),
        ("ws://[::1]:9001/p", false, "::1", 9001, "/p", "[::1]:9001"),
        (
            "wss://[2001:db8::7]:443",
            true,
            "2001:db8::7",
            443,
            "/",
            "[2001:db8::7]",
        ),
        ("ws://a/%20b", false, "a", 80, "/%20b", "a"),
        ("ws://a:0065535", false, "a", 65535, "/", "a:65535"),
    ];

    const INVALID: &[(&str, UrlError)] = &[
        ("http://example.com/", UrlError::UnsupportedScheme),
        ("https://example.com/", UrlError::UnsupportedScheme),
        ("example.com", UrlError::UnsupportedScheme),
        ("ws:example.com", UrlError::UnsupportedScheme),
        ("", UrlError::UnsupportedScheme),
        ("wsx://a", UrlError::UnsupportedScheme),
        ("ws://a/#frag", UrlError::Fragment),
        ("ws://a#", UrlError::Fragment),
        ("ws://", UrlError::MissingHost),
        ("ws:///path", UrlError::MissingHost),
        ("ws://:80/", UrlError::MissingHost),
        ("ws://user:pw@a/", UrlError::UserInfo),
        ("ws://a b/", UrlError::InvalidCharacter),
        ("ws://a/b c", UrlError::InvalidCharacter),
        ("ws://a/{x}", UrlError::InvalidCharacter),
        ("ws://a/?q=\"", UrlError::InvalidCharacter),
        ("ws://a/[", UrlError::InvalidCharacter),
        ("ws://a/\r\nX: y", UrlError::InvalidCharacter),
        ("ws://é/", UrlError::InvalidCharacter),
        ("ws://a%20b/", UrlError::InvalidHost),
        ("ws://[::1/", UrlError::InvalidHost),
        ("ws://[nope]/", UrlError::InvalidHost),
        ("ws://[::1]x/", UrlError::InvalidHost),
        ("ws://[fe80::1%25eth0]/", UrlError::InvalidHost),
        ("ws://::1/", UrlError::MissingHost),
        ("ws://a:/", UrlError::InvalidPort),
        ("ws://a:0/", UrlError::InvalidPort),
        ("ws://a:65536/", UrlError::InvalidPort),
        ("ws://a:+80/", UrlError::InvalidPort),
        ("ws://a:8x/", UrlError::InvalidPort),
        ("ws://a:1:2/", UrlError::InvalidPort),
        ("ws://[::1]:/", UrlError::InvalidPort),
    ];

    #[test]
    fn valid_urls() {
        for &(url, secure, host, port, resource, host_header) in VALID {
            let parsed = WsUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(parsed.secure, secure, "{url}");
            assert_eq!(parsed.host, host, "{url}");
            assert_eq!(parsed.port, port, "{url}");
            assert_eq!(parsed.resource, resource, "{url}");
            assert_eq!(parsed.host_header(), host_header, "{url}");
        }
    }

    #[test]
    fn invalid_urls() {
        for &(url, error) in INVALID {
            assert_eq!(WsUrl::parse(url), Err(error), "{url}");
        }
    }

    #[test]
    fn normalised_url() {
        let url = WsUrl::parse("WSS://[::1]:443/a?b").unwrap();
        assert_eq!(url.to_url(), "wss://[::1]/a?b");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(url in "\\PC{0,40}") {
            let _ = WsUrl::parse(&url);
        }
    }
}
