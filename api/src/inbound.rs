//! Twilio's webhooks: inbound messages (STOP/START replies) and delivery receipts.
//!
//! `POST /webhooks/twilio/inbound` and `POST /webhooks/twilio/status` take Twilio's
//! form-encoded posts. Each must carry a valid `X-Twilio-Signature`: HMAC-SHA1, keyed with the
//! account's auth token, over the full URL Twilio called followed by every POST parameter
//! (sorted by name) as name and value; base64. A missing or wrong signature is refused with
//! 403; without a configured auth token the routes answer 404.
//!
//! The URL is `public_base_url` + the request path when configured (set it when Turnout sits
//! behind a proxy), else `http://<Host header><path>`.
//!
//! Organizations: one deployment texts from its numbers for all its organizations, so an
//! inbound reply applies to every person with the sender's number in any organization.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use turnout_domain::DomainError;
use turnout_domain::db::Db;
use turnout_domain::messaging::{self, Channel};

/// Settings of the Twilio webhooks.
#[derive(Clone, Debug, Default)]
pub struct TwilioWebhookConfig {
    /// The Twilio auth token that signs the webhooks; `None` turns the routes off (404).
    pub auth_token: Option<String>,
    /// The public origin Twilio calls (`https://crm.example.org`), when it differs from what
    /// the Host header says (behind a proxy that terminates TLS).
    pub public_base_url: Option<String>,
}

#[derive(Clone)]
struct InboundState {
    db: Db,
    config: TwilioWebhookConfig,
}

/// The webhook routes, with their own state, for merging into the main router.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(
    db: Db,
    config: TwilioWebhookConfig,
) -> Router<S> {
    Router::new()
        .route("/webhooks/twilio/inbound", post(inbound))
        .route("/webhooks/twilio/status", post(status))
        .with_state(InboundState { db, config })
}

/// Twilio's signature of a request to `url` with form `params`.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(mac(auth_token, url, params).finalize().into_bytes())
}

fn mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Hmac<Sha1> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    // HMAC accepts keys of any length; the error arm cannot happen.
    let mut mac = match Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable_mac(),
    };
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac
}

#[allow(clippy::panic)]
fn unreachable_mac() -> Hmac<Sha1> {
    panic!("HMAC-SHA1 takes keys of any length")
}

/// The verified form parameters of a Twilio webhook, or the response refusing it.
fn verify(
    config: &TwilioWebhookConfig,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Vec<(String, String)>, (StatusCode, &'static str)> {
    let Some(token) = &config.auth_token else {
        return Err((StatusCode::NOT_FOUND, "Twilio webhooks are not configured"));
    };
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| (StatusCode::BAD_REQUEST, "the body must be form-encoded"))?;
    let path = uri.0.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = match &config.public_base_url {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            format!("http://{host}{path}")
        }
    };
    let forbidden = || (StatusCode::FORBIDDEN, "invalid Twilio signature");
    let given = headers
        .get("x-twilio-signature")
        .and_then(|h| h.to_str().ok())
        .and_then(|s| {
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .ok()
        })
        .ok_or_else(forbidden)?;
    mac(token, &url, &params)
        .verify_slice(&given)
        .map_err(|_| {
            tracing::warn!(%url, "Twilio webhook with an invalid signature refused");
            forbidden()
        })?;
    Ok(params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Twilio reads only the status; the text is for whoever looks at its request log.
fn domain_error(err: DomainError) -> Response {
    let err = crate::error::ClientError::from(err);
    (err.status(), err.message).into_response()
}

/// An empty TwiML answer: Turnout sends no reply of its own (Twilio confirms STOP itself).
fn twiml() -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
    )
        .into_response()
}

async fn inbound(
    State(state): State<InboundState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match verify(&state.config, &uri, &headers, &body) {
        Ok(p) => p,
        Err(resp) => return resp.into_response(),
    };
    let (Some(from), Some(text)) = (param(&params, "From"), param(&params, "Body")) else {
        return (StatusCode::BAD_REQUEST, "From and Body are required").into_response();
    };
    let channel = if from.trim().starts_with("whatsapp:") {
        Channel::Whatsapp
    } else {
        Channel::Sms
    };
    let inbound = messaging::InboundText {
        from,
        to: param(&params, "To"),
        body: text,
        channel,
        provider_id: param(&params, "MessageSid"),
    };
    match messaging::handle_inbound(&state.db, inbound).await {
        Ok(_) => twiml(),
        Err(err) => domain_error(err),
    }
}

async fn status(
    State(state): State<InboundState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = match verify(&state.config, &uri, &headers, &body) {
        Ok(p) => p,
        Err(resp) => return resp.into_response(),
    };
    let (Some(sid), Some(status)) = (
        param(&params, "MessageSid"),
        param(&params, "MessageStatus"),
    ) else {
        return (
            StatusCode::BAD_REQUEST,
            "MessageSid and MessageStatus are required",
        )
            .into_response();
    };
    match messaging::record_status(&state.db, sid, status).await {
        Ok(settled) => {
            for channel in settled.channels {
                metrics::counter!("turnout_messages_total", "channel" => channel, "status" => settled.status)
                    .increment(1);
            }
            StatusCode::OK.into_response()
        }
        Err(err) => domain_error(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_twilios_documented_example() {
        // The vector of Twilio's own SDK tests (RequestValidator).
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(
            twilio_signature(
                "12345",
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                &params
            ),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
    }
}
