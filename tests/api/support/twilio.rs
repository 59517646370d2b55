//! Twilio's Messages API on loopback: takes form posts with basic auth, answers with a sid,
//! keeps what it received. The status it answers with can be changed to act out failures.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::json;

pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
pub const AUTH_TOKEN: &str = "test-auth-token";

#[derive(Clone, Debug)]
pub struct Sms {
    pub account: String,
    /// `user:password` of the basic auth header.
    pub auth: String,
    pub form: HashMap<String, String>,
    pub sid: String,
}

#[derive(Clone, Default)]
struct Shared {
    received: Arc<Mutex<Vec<Sms>>>,
    /// 0: answer 201 with a sid; anything else: answer with that status.
    fail_with: Arc<AtomicU16>,
    counter: Arc<AtomicUsize>,
}

pub struct FakeTwilio {
    pub base_url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

/// The API, verifying Twilio's webhooks with the fake's auth token.
pub fn webhook_api() -> turnout_api::ApiConfig {
    turnout_api::ApiConfig {
        twilio: turnout_api::TwilioWebhookConfig {
            auth_token: Some(AUTH_TOKEN.into()),
            public_base_url: None,
        },
        ..crate::harness::unlimited()
    }
}

impl FakeTwilio {
    /// Workers' messaging that texts through this fake from `from`, at once (no quiet hours,
    /// no rate), on top of `base` (for email).
    pub fn messaging(
        &self,
        from: &str,
        base: turnout_workers::messaging::MessagingConfig,
    ) -> turnout_workers::messaging::MessagingConfig {
        turnout_workers::messaging::MessagingConfig {
            sms_provider: turnout_workers::messaging::TextProvider::Twilio,
            twilio_base_url: self.base_url.clone(),
            twilio_account_sid: Some(ACCOUNT_SID.into()),
            twilio_auth_token: Some(AUTH_TOKEN.into()),
            twilio_sms_from: Some(from.into()),
            quiet_hours: "off".into(),
            sms_per_second: 0,
            ..base
        }
    }

    pub async fn start() -> Self {
        let shared = Shared::default();
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{sid}/Messages.json",
                post(create_message),
            )
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self {
            base_url: format!("http://{addr}"),
            shared,
            task,
        }
    }

    pub fn received(&self) -> Vec<Sms> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Answer every request with `status` (0: succeed again).
    pub fn fail_with(&self, status: u16) {
        self.shared.fail_with.store(status, Ordering::SeqCst);
    }
}

impl Drop for FakeTwilio {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn create_message(
    State(shared): State<Shared>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> axum::response::Response {
    let fail = shared.fail_with.load(Ordering::SeqCst);
    if fail != 0 {
        let status = StatusCode::from_u16(fail).unwrap();
        return (
            status,
            Json(json!({ "code": 21211, "message": "fake failure", "status": fail })),
        )
            .into_response();
    }
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .map(|b| String::from_utf8(b).unwrap())
        .unwrap_or_default();
    let n = shared.counter.fetch_add(1, Ordering::SeqCst);
    let sid = format!("SM{n:032}");
    shared.received.lock().unwrap().push(Sms {
        account,
        auth,
        form: form.clone(),
        sid: sid.clone(),
    });
    (
        StatusCode::CREATED,
        Json(json!({
            "sid": sid,
            "status": "queued",
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
        })),
    )
        .into_response()
}
