//! permessage-deflate negotiation,
//! [RFC 7692 §5](https://www.rfc-editor.org/rfc/rfc7692#section-5) and
//! [§7.1](https://www.rfc-editor.org/rfc/rfc7692#section-7.1) (feature `deflate`): a server picks
//! the first offer it can accept, a client checks the server's answer against its offer.
//!
//! The offers and the answer arrive as parsed `Sec-WebSocket-Extensions` elements
//! ([`ExtensionOffer`]); what comes out are the [`DeflateParams`] the codec in
//! [`deflate`](crate::deflate) runs with. See "Window sizes" there for why an 8-bit window is
//! declined.

use super::extension::ExtensionOffer;
use crate::deflate::{DeflateConfig, DeflateParams, EXTENSION_NAME};

/// The parameters of one offer or response, each seen at most once.
#[derive(Debug, Default)]
struct Parsed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: the parameter without a value (allowed in a client's offer only).
    client_max_window_bits: Option<Option<u8>>,
}

/// Why an offer or response was unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeflateNegotiationError {
    /// A parameter RFC 7692 does not define.
    #[error("unknown permessage-deflate parameter {0:?}")]
    UnknownParameter(String),
    /// A parameter given twice (§7.1: "MUST NOT ... more than one").
    #[error("duplicate permessage-deflate parameter {0:?}")]
    DuplicateParameter(String),
    /// A value missing, present where none is allowed, or outside 8–15.
    #[error("invalid value for permessage-deflate parameter {0:?}")]
    InvalidValue(String),
    /// The server limited the client to a window zlib cannot compress with (8 bits).
    #[error("the server asked for an 8-bit client window, which zlib cannot produce")]
    UnsupportedWindow,
    /// The server's response exceeds what the client offered (a larger window than offered).
    #[error("the server's response does not match the offer")]
    ResponseNotOffered,
    /// The response accepted permessage-deflate more than once.
    #[error("permessage-deflate accepted twice")]
    Duplicate,
}

fn parse(offer: &ExtensionOffer, is_offer: bool) -> Result<Parsed, DeflateNegotiationError> {
    let mut parsed = Parsed::default();
    for (name, value) in &offer.params {
        let duplicate = || DeflateNegotiationError::DuplicateParameter(name.clone());
        let invalid = || DeflateNegotiationError::InvalidValue(name.clone());
        match name.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" | "client_no_context_takeover" => {
                if value.is_some() {
                    return Err(invalid());
                }
                let flag = if name.eq_ignore_ascii_case("server_no_context_takeover") {
                    &mut parsed.server_no_context_takeover
                } else {
                    &mut parsed.client_no_context_takeover
                };
                if std::mem::replace(flag, true) {
                    return Err(duplicate());
                }
            }
            "server_max_window_bits" => {
                let bits = value.as_deref().and_then(window_bits).ok_or_else(invalid)?;
                if parsed.server_max_window_bits.replace(bits).is_some() {
                    return Err(duplicate());
                }
            }
            "client_max_window_bits" => {
                // RFC 7692 §7.1.2.2: in an offer the value may be omitted; in a response it is
                // required.
                let bits = match value {
                    None if is_offer => None,
                    None => return Err(invalid()),
                    Some(v) => Some(window_bits(v).ok_or_else(invalid)?),
                };
                if parsed.client_max_window_bits.replace(bits).is_some() {
                    return Err(duplicate());
                }
            }
            _ => return Err(DeflateNegotiationError::UnknownParameter(name.clone())),
        }
    }
    Ok(parsed)
}

/// RFC 7692 §7.1.2: "a decimal integer value without leading zeroes between 8 to 15".
fn window_bits(value: &str) -> Option<u8> {
    match value {
        "8" | "9" | "10" | "11" | "12" | "13" | "14" | "15" => value.parse().ok(),
        _ => None,
    }
}

/// Server side: picks the first permessage-deflate offer it can accept (RFC 7692 §5.1), or
/// `None` to decline the extension. Malformed offers are declined, not failed.
///
/// # Example
///
/// ```
/// use rfc6455::deflate::DeflateConfig;
/// use rfc6455::handshake::deflate::negotiate;
/// use rfc6455::handshake::ExtensionOffer;
///
/// let offers = ExtensionOffer::parse_list(
///     b"permessage-deflate; server_max_window_bits=8, permessage-deflate; client_max_window_bits",
/// )?;
/// // The first offer asks for an 8-bit window zlib cannot produce; the second is taken, and by
/// // default answered with no context takeover both ways.
/// let params = negotiate(&offers, &DeflateConfig::default()).expect("accepted");
/// assert_eq!(
///     params.response(),
///     "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn negotiate(offers: &[ExtensionOffer], config: &DeflateConfig) -> Option<DeflateParams> {
    offers
        .iter()
        .filter(|offer| offer.name.eq_ignore_ascii_case(EXTENSION_NAME))
        .find_map(|offer| {
            let parsed = parse(offer, true).ok()?;
            let own_limit = config.server_max_window_bits.clamp(9, 15);
            let server_window = match parsed.server_max_window_bits {
                Some(8) => return None,
                Some(bits) => bits.min(own_limit),
                None => own_limit,
            };
            let client_limit = config.client_max_window_bits.clamp(9, 15);
            let (client_window, client_in_response) = match parsed.client_max_window_bits {
                // We may only limit the client if it said it supports the parameter.
                Some(offered) => {
                    let bits = offered.unwrap_or(15).min(client_limit);
                    (bits, bits < 15 || offered.is_some())
                }
                None => (15, false),
            };
            Some(DeflateParams {
                server_no_context_takeover: parsed.server_no_context_takeover
                    || config.server_no_context_takeover,
                client_no_context_takeover: parsed.client_no_context_takeover
                    || config.client_no_context_takeover,
                server_max_window_bits: server_window,
                client_max_window_bits: client_window,
                client_window_in_response: client_in_response,
                server_window_in_response: parsed.server_max_window_bits.is_some()
                    || server_window < 15,
            })
        })
}

/// Client side: checks the server's answer to [`DeflateConfig::offer`]. `Ok(None)`: the server
/// declined compression. An `Err` must fail the connection (RFC 7692 §5.1).
pub fn accept_response(
    accepted: &[ExtensionOffer],
    config: &DeflateConfig,
) -> Result<Option<DeflateParams>, DeflateNegotiationError> {
    let mut ours = accepted
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case(EXTENSION_NAME));
    let Some(response) = ours.next() else {
        return Ok(None);
    };
    if ours.next().is_some() {
        return Err(DeflateNegotiationError::Duplicate);
    }
    let parsed = parse(response, false)?;
    // The server may not exceed the window we asked it to stay within.
    let server_window = parsed.server_max_window_bits.unwrap_or(15);
    if config.server_max_window_bits < 15 && server_window > config.server_max_window_bits.max(9) {
        return Err(DeflateNegotiationError::ResponseNotOffered);
    }
    // We offered server_no_context_takeover: a server that accepts the offer MUST echo it.
    if config.server_no_context_takeover && !parsed.server_no_context_takeover {
        return Err(DeflateNegotiationError::ResponseNotOffered);
    }
    let client_window = match parsed.client_max_window_bits.flatten() {
        Some(8) => return Err(DeflateNegotiationError::UnsupportedWindow),
        Some(bits)
            if config.client_max_window_bits < 15
                && bits > config.client_max_window_bits.max(9) =>
        {
            return Err(DeflateNegotiationError::ResponseNotOffered);
        }
        Some(bits) => bits,
        None => config.client_max_window_bits.clamp(9, 15),
    };
    Ok(Some(DeflateParams {
        server_no_context_takeover: parsed.server_no_context_takeover,
        // Offering it was a promise (RFC 7692 §7.1.1.2), so we keep it even if not echoed.
        client_no_context_takeover: parsed.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: server_window,
        client_max_window_bits: client_window,
        client_window_in_response: parsed.client_max_window_bits.is_some(),
        server_window_in_response: parsed.server_max_window_bits.is_some(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offers(header: &str) -> Vec<ExtensionOffer> {
        ExtensionOffer::parse_list(header.as_bytes()).unwrap()
    }

    #[test]
    fn server_takes_the_first_acceptable_offer() {
        // By default a server answers any offer with no context takeover both ways, which
        // RFC 7692 §7.1.1.1 and §7.1.1.2 let it add even when the client did not ask.
        let params = negotiate(&offers("permessage-deflate"), &DeflateConfig::default()).unwrap();
        assert_eq!(
            params.response(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        let config = DeflateConfig::context_takeover().max_window_bits(15);
        let params = negotiate(&offers("permessage-deflate"), &config).unwrap();
        assert_eq!(params.response(), "permessage-deflate");
        let params = negotiate(
            &offers("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=10; server_no_context_takeover"),
            &config,
        )
        .unwrap();
        assert_eq!(
            params.response(),
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"
        );
        assert_eq!(
            (params.server_max_window_bits, params.client_max_window_bits),
            (15, 10)
        );
        let params = negotiate(
            &offers("permessage-deflate; server_max_window_bits=9"),
            &config,
        )
        .unwrap();
        assert_eq!(
            params.response(),
            "permessage-deflate; server_max_window_bits=9"
        );
    }

    #[test]
    fn server_declines_malformed_duplicated_or_out_of_range_offers() {
        let config = DeflateConfig::default();
        for bad in [
            "permessage-deflate; foo",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=09",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=8",
        ] {
            assert_eq!(negotiate(&offers(bad), &config), None, "{bad}");
            // With a good fallback offer after it, the fallback is taken.
            let with_fallback = format!("{bad}, permessage-deflate");
            assert!(
                negotiate(&offers(&with_fallback), &config).is_some(),
                "{with_fallback}"
            );
        }
    }

    #[test]
    fn server_config_imposes_its_own_limits() {
        let config = DeflateConfig::low_memory().max_window_bits(10);
        let params = negotiate(
            &offers("permessage-deflate; client_max_window_bits"),
            &config,
        )
        .unwrap();
        assert_eq!(
            params.response(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=10"
        );
    }

    #[test]
    fn client_checks_the_response() {
        // A client that asked for server_no_context_takeover needs it echoed (RFC 7692 §7.1.1.1).
        assert_eq!(
            accept_response(&offers("permessage-deflate"), &DeflateConfig::default()),
            Err(DeflateNegotiationError::ResponseNotOffered)
        );
        let config = DeflateConfig::context_takeover().max_window_bits(15);
        assert_eq!(accept_response(&[], &config), Ok(None));
        let params = accept_response(
            &offers("permessage-deflate; server_max_window_bits=10"),
            &config,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (params.server_max_window_bits, params.client_max_window_bits),
            (10, 15)
        );
        assert_eq!(
            accept_response(
                &offers("permessage-deflate; client_max_window_bits=8"),
                &config
            ),
            Err(DeflateNegotiationError::UnsupportedWindow)
        );
        assert_eq!(
            accept_response(
                &offers("permessage-deflate; client_max_window_bits"),
                &config
            ),
            Err(DeflateNegotiationError::InvalidValue(
                "client_max_window_bits".into()
            ))
        );
        assert_eq!(
            accept_response(&offers("permessage-deflate, permessage-deflate"), &config),
            Err(DeflateNegotiationError::Duplicate)
        );
        let strict = DeflateConfig {
            server_no_context_takeover: true,
            server_max_window_bits: 10,
            ..config
        };
        assert_eq!(
            accept_response(
                &offers(
                    "permessage-deflate; server_no_context_takeover; server_max_window_bits=12"
                ),
                &strict
            ),
            Err(DeflateNegotiationError::ResponseNotOffered)
        );
        assert_eq!(
            accept_response(&offers("permessage-deflate"), &strict),
            Err(DeflateNegotiationError::ResponseNotOffered)
        );
    }
}
