//! Webhooks for integrators: endpoints subscribe to event kinds; every matching event becomes
//! one delivery per endpoint, signed the Standard Webhooks way (HMAC-SHA256 over
//! `id.timestamp.body`, sent in `webhook-id`, `webhook-timestamp` and `webhook-signature`).
//! The workers send deliveries and record each attempt here; an endpoint that keeps failing is
//! disabled, and that is recorded as an event and in the audit log.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use sha2::Sha256;
use turnout_entity::{domain_events, webhook_deliveries, webhook_endpoints};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::OrgScope;
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::outbound::OutboundPolicy;
use crate::outbox;
use crate::people::{Page, PageRequest};

/// Secrets are shown as `whsec_<base64 of 32 random bytes>`, as Standard Webhooks libraries
/// expect.
const SECRET_PREFIX: &str = "whsec_";
/// The longest response body kept in the delivery log.
const MAX_LOGGED_BODY: usize = 2_000;

/// Delivery statuses.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const RETRYING: &str = "retrying";
    pub const DELIVERED: &str = "delivered";
    pub const FAILED: &str = "failed";
}

pub struct NewEndpoint {
    pub url: String,
    pub event_kinds: Vec<String>,
    pub description: Option<String>,
}

/// Registers an endpoint. The signing secret is returned once and never shown again.
pub async fn create_endpoint(
    db: &Db,
    scope: &Can<perm::WebhooksWrite>,
    ctx: &RequestContext,
    input: NewEndpoint,
    policy: &OutboundPolicy,
) -> DomainResult<(webhook_endpoints::Model, String)> {
    let url = valid_url(&input.url, policy)?;
    let kinds = valid_kinds(&input.event_kinds)?;
    may_name(scope, &kinds)?;
    let description =
        crate::values::optional_text("input.description", input.description.as_deref(), 500)?;
    let secret = new_secret();
    let now = Utc::now();
    let tx = db.begin_write().await?;
    let endpoint = webhook_endpoints::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        url: Set(url),
        secret: Set(secret.clone()),
        event_kinds: Set(serde_json::json!(kinds)),
        enabled: Set(true),
        consecutive_failures: Set(0),
        disabled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        description: Set(description),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "webhook_endpoint.create",
        "webhook_endpoint",
        Some(endpoint.id),
        &["url", "event_kinds", "description"],
    )
    .await?;
    tx.commit().await?;
    Ok((endpoint, secret))
}

pub struct EndpointChanges {
    pub url: Option<String>,
    pub event_kinds: Option<Vec<String>>,
    /// Re-enabling an endpoint clears its failure count.
    pub enabled: Option<bool>,
}

pub async fn update_endpoint(
    db: &Db,
    scope: &Can<perm::WebhooksWrite>,
    ctx: &RequestContext,
    id: Uuid,
    changes: EndpointChanges,
    policy: &OutboundPolicy,
) -> DomainResult<webhook_endpoints::Model> {
    let url = changes
        .url
        .as_deref()
        .map(|u| valid_url(u, policy))
        .transpose()?;
    let kinds = changes
        .event_kinds
        .as_deref()
        .map(valid_kinds)
        .transpose()?;
    if let Some(kinds) = &kinds {
        may_name(scope, kinds)?;
    }
    let tx = db.begin_write().await?;
    let endpoint = find_endpoint(&tx, scope, id).await?;
    let mut fields = Vec::new();
    let mut active: webhook_endpoints::ActiveModel = endpoint.into();
    if let Some(url) = url {
        active.url = Set(url);
        fields.push("url");
    }
    if let Some(kinds) = kinds {
        active.event_kinds = Set(serde_json::json!(kinds));
        fields.push("event_kinds");
    }
    if let Some(enabled) = changes.enabled {
        active.enabled = Set(enabled);
        if enabled {
            active.consecutive_failures = Set(0);
            active.disabled_at = Set(None);
        }
        fields.push("enabled");
    }
    active.updated_at = Set(Utc::now());
    let endpoint = active.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "webhook_endpoint.update",
        "webhook_endpoint",
        Some(id),
        &fields,
    )
    .await?;
    tx.commit().await?;
    Ok(endpoint)
}

pub async fn delete_endpoint(
    db: &Db,
    scope: &Can<perm::WebhooksWrite>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<()> {
    let tx = db.begin_write().await?;
    let endpoint = find_endpoint(&tx, scope, id).await?;
    webhook_endpoints::Entity::delete_by_id(endpoint.id)
        .exec(&tx)
        .await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "webhook_endpoint.delete",
        "webhook_endpoint",
        Some(id),
        &[],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list_endpoints(
    db: &Db,
    scope: &Can<perm::WebhooksWrite>,
) -> DomainResult<Vec<webhook_endpoints::Model>> {
    Ok(webhook_endpoints::Entity::find()
        .filter(webhook_endpoints::Column::OrganizationId.eq(scope.org_id()))
        .order_by_asc(webhook_endpoints::Column::Id)
        .limit(500)
        .all(db.conn())
        .await?)
}

/// An endpoint's delivery log, newest first.
pub async fn list_deliveries(
    db: &Db,
    scope: &Can<perm::WebhooksWrite>,
    endpoint_id: Uuid,
    page: PageRequest,
) -> DomainResult<Page<webhook_deliveries::Model>> {
    find_endpoint(db.conn(), scope, endpoint_id).await?;
    let mut query = webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::EndpointId.eq(endpoint_id))
        .order_by_desc(webhook_deliveries::Column::Id)
        .limit(page.first + 1);
    if let Some(after) = page.after {
        query = query.filter(webhook_deliveries::Column::Id.lt(after));
    }
    let items = query.all(db.conn()).await?;
    Ok(Page::from_overfetch(items, page.first))
}

/// How many deliveries the endpoint has had; `NOT_FOUND` for another organization's.
pub async fn count_deliveries(
    db: &Db,
    scope: &Can<perm::WebhooksWrite>,
    endpoint_id: Uuid,
) -> DomainResult<u64> {
    find_endpoint(db.conn(), scope, endpoint_id).await?;
    Ok(webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::EndpointId.eq(endpoint_id))
        .count(db.conn())
        .await?)
}

/// Sends a past delivery's event again, as a new delivery (with its own id, so a receiver that
/// deduplicates by `webhook-id` does not drop it).
pub async fn replay_delivery(
    db: &Db,
    scope: &Can<perm::WebhooksWrite>,
    ctx: &RequestContext,
    delivery_id: Uuid,
) -> DomainResult<webhook_deliveries::Model> {
    let tx = db.begin_write().await?;
    let original = webhook_deliveries::Entity::find_by_id(delivery_id)
        .filter(webhook_deliveries::Column::OrganizationId.eq(scope.org_id()))
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("webhook delivery"))?;
    let Some(event_id) = original.event_id else {
        return Err(DomainError::Conflict(
            "the event of this delivery no longer exists".into(),
        ));
    };
    let replay = insert_delivery(
        &tx,
        scope.org_id(),
        original.endpoint_id,
        event_id,
        Some(original.id),
    )
    .await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "webhook_delivery.replay",
        "webhook_delivery",
        Some(delivery_id),
        &[],
    )
    .await?;
    tx.commit().await?;
    Ok(replay)
}

async fn find_endpoint<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    id: Uuid,
) -> DomainResult<webhook_endpoints::Model> {
    webhook_endpoints::Entity::find_by_id(id)
        .filter(webhook_endpoints::Column::OrganizationId.eq(scope.org_id()))
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("webhook endpoint"))
}

async fn insert_delivery<C: ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    endpoint_id: Uuid,
    event_id: Uuid,
    replay_of: Option<Uuid>,
) -> DomainResult<webhook_deliveries::Model> {
    Ok(webhook_deliveries::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org_id),
        endpoint_id: Set(endpoint_id),
        event_id: Set(Some(event_id)),
        attempts: Set(0),
        status: Set(status::PENDING.to_owned()),
        response_code: Set(None),
        response_body: Set(None),
        error: Set(None),
        next_attempt_at: Set(None),
        delivered_at: Set(None),
        created_at: Set(Utc::now()),
        replay_of: Set(replay_of),
        enqueued_at: Set(None),
    }
    .insert(conn)
    .await?)
}

// --- the workers' side ---

/// Creates one delivery per enabled endpoint subscribed to the event's kind. Running it again
/// for the same event creates nothing new.
pub async fn fan_out(db: &Db, event: &domain_events::Model) -> DomainResult<usize> {
    let endpoints = webhook_endpoints::Entity::find()
        .filter(webhook_endpoints::Column::OrganizationId.eq(event.organization_id))
        .filter(webhook_endpoints::Column::Enabled.eq(true))
        .all(db.conn())
        .await?;
    let subscribed: Vec<_> = endpoints
        .into_iter()
        .filter(|e| subscribes(&e.event_kinds, &event.kind, &event.payload))
        .collect();
    if subscribed.is_empty() {
        return Ok(0);
    }
    let tx = db.begin_write().await?;
    let existing: Vec<Uuid> = webhook_deliveries::Entity::find()
        .select_only()
        .column(webhook_deliveries::Column::EndpointId)
        .filter(webhook_deliveries::Column::EventId.eq(event.id))
        .filter(webhook_deliveries::Column::ReplayOf.is_null())
        .into_tuple()
        .all(&tx)
        .await?;
    let mut created = 0;
    for endpoint in subscribed.iter().filter(|e| !existing.contains(&e.id)) {
        insert_delivery(&tx, event.organization_id, endpoint.id, event.id, None).await?;
        created += 1;
    }
    tx.commit().await?;
    Ok(created)
}

/// True when an endpoint's kinds (a JSON list) include `kind`, or `*` for an event that is not
/// organizing data (those go only where they are named: [`outbox::is_organizing`]).
fn subscribes(kinds: &serde_json::Value, kind: &str, payload: &serde_json::Value) -> bool {
    let wildcard_ok = !crate::outbox::is_organizing(kind, payload);
    kinds
        .as_array()
        .is_some_and(|list| list.iter().any(|k| (k == "*" && wildcard_ok) || k == kind))
}

/// Deliveries not yet handed to the job queue (new ones and replays), oldest first.
pub async fn to_enqueue<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> DomainResult<Vec<webhook_deliveries::Model>> {
    Ok(webhook_deliveries::Entity::find()
        .filter(webhook_deliveries::Column::EnqueuedAt.is_null())
        .order_by_asc(webhook_deliveries::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

pub async fn mark_enqueued<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> DomainResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    webhook_deliveries::Entity::update_many()
        .col_expr(
            webhook_deliveries::Column::EnqueuedAt,
            Expr::val(Utc::now()),
        )
        .filter(webhook_deliveries::Column::Id.is_in(ids.iter().copied()))
        .exec(conn)
        .await?;
    Ok(())
}

/// What the workers need to send one delivery.
pub struct Outgoing {
    pub delivery_id: Uuid,
    pub url: String,
    pub secret: String,
    pub body: String,
    pub attempts: i32,
}

/// The request to send for a delivery, or `None` when there is nothing to send (already
/// delivered or given up, endpoint disabled or deleted, event gone).
pub async fn outgoing(db: &Db, delivery_id: Uuid) -> DomainResult<Option<Outgoing>> {
    let Some(delivery) = webhook_deliveries::Entity::find_by_id(delivery_id)
        .one(db.conn())
        .await?
    else {
        return Ok(None);
    };
    if delivery.status == status::DELIVERED || delivery.status == status::FAILED {
        return Ok(None);
    }
    let Some(endpoint) = webhook_endpoints::Entity::find_by_id(delivery.endpoint_id)
        .one(db.conn())
        .await?
    else {
        return Ok(None);
    };
    if !endpoint.enabled {
        return Ok(None);
    }
    let Some(event) = (match delivery.event_id {
        Some(id) => outbox::get(db, id).await?,
        None => None,
    }) else {
        return Ok(None);
    };
    let body = serde_json::json!({
        "type": event.kind,
        "timestamp": event.occurred_at,
        "data": {
            "eventId": event.id,
            "subjectType": event.subject_type,
            "subjectId": event.subject_id,
            "payload": event.payload,
        },
    })
    .to_string();
    Ok(Some(Outgoing {
        delivery_id,
        url: endpoint.url,
        secret: endpoint.secret,
        body,
        attempts: delivery.attempts,
    }))
}

/// The outcome of one attempt to send a delivery.
pub enum Attempt {
    /// The receiver answered 2xx.
    Delivered { code: u16, body: String },
    /// A non-2xx answer or no answer; `last` when no attempt will follow.
    Failed {
        code: Option<u16>,
        body: Option<String>,
        error: String,
        next_attempt_at: Option<DateTime<Utc>>,
    },
}

/// Records an attempt. After `disable_after` failed attempts in a row across its deliveries,
/// the endpoint is disabled; that is audited and recorded as a `webhook_endpoint.disabled`
/// event so its owners hear of it. Returns true when the endpoint was disabled now.
pub async fn record_attempt(
    db: &Db,
    delivery_id: Uuid,
    attempt: Attempt,
    disable_after: i32,
) -> DomainResult<bool> {
    let tx = db.begin_write().await?;
    let Some(delivery) = webhook_deliveries::Entity::find_by_id(delivery_id)
        .one(&tx)
        .await?
    else {
        return Ok(false);
    };
    let endpoint_id = delivery.endpoint_id;
    let org_id = delivery.organization_id;
    let mut active: webhook_deliveries::ActiveModel = delivery.into();
    let attempts = active.attempts.as_ref() + 1;
    active.attempts = Set(attempts);
    let succeeded = matches!(attempt, Attempt::Delivered { .. });
    match attempt {
        Attempt::Delivered { code, body } => {
            active.status = Set(status::DELIVERED.to_owned());
            active.response_code = Set(Some(i32::from(code)));
            active.response_body = Set(Some(clip(&body)));
            active.error = Set(None);
            active.next_attempt_at = Set(None);
            active.delivered_at = Set(Some(Utc::now()));
        }
        Attempt::Failed {
            code,
            body,
            error,
            next_attempt_at,
        } => {
            active.status = Set(if next_attempt_at.is_some() {
                status::RETRYING
            } else {
                status::FAILED
            }
            .to_owned());
            active.response_code = Set(code.map(i32::from));
            active.response_body = Set(body.as_deref().map(clip));
            active.error = Set(Some(clip(&error)));
            active.next_attempt_at = Set(next_attempt_at);
        }
    }
    active.update(&tx).await?;
    let mut disabled_now = false;
    if succeeded {
        webhook_endpoints::Entity::update_many()
            .col_expr(webhook_endpoints::Column::ConsecutiveFailures, Expr::val(0))
            .filter(webhook_endpoints::Column::Id.eq(endpoint_id))
            .exec(&tx)
            .await?;
    } else if let Some(endpoint) = webhook_endpoints::Entity::find_by_id(endpoint_id)
        .one(&tx)
        .await?
    {
        let failures = endpoint.consecutive_failures + 1;
        let disable = endpoint.enabled && failures >= disable_after;
        let mut active: webhook_endpoints::ActiveModel = endpoint.into();
        active.consecutive_failures = Set(failures);
        if disable {
            active.enabled = Set(false);
            active.disabled_at = Set(Some(Utc::now()));
        }
        active.update(&tx).await?;
        if disable {
            let scope = OrgScope::system(org_id);
            outbox::record(
                &tx,
                &scope,
                outbox::DomainEvent::WebhookEndpointDisabled {
                    endpoint_id,
                    consecutive_failures: failures,
                },
            )
            .await?;
            audit::record(
                &tx,
                &scope,
                &RequestContext::default(),
                "webhook_endpoint.disable",
                "webhook_endpoint",
                Some(endpoint_id),
                &["enabled"],
            )
            .await?;
            disabled_now = true;
        }
    }
    tx.commit().await?;
    Ok(disabled_now)
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_LOGGED_BODY) {
        Some((at, _)) => s[..at].to_owned(),
        None => s.to_owned(),
    }
}

// --- signing ---

/// The three Standard Webhooks headers for one request.
pub struct Signature {
    pub id: String,
    pub timestamp: i64,
    /// `v1,<base64 HMAC-SHA256>`.
    pub signature: String,
}

/// Signs `body` with an endpoint secret (`whsec_…`) for message `id` at `timestamp`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> DomainResult<Signature> {
    let key = secret_key(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| DomainError::internal("webhook secret has an invalid length"))?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(Signature {
        id: id.to_owned(),
        timestamp,
        signature: format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())),
    })
}

/// Checks a signature header (space-separated `v1,…` entries) the way a receiver would.
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &str, header: &str) -> bool {
    let Ok(key) = secret_key(secret) else {
        return false;
    };
    header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|sig| {
            let Ok(expected) = STANDARD.decode(sig) else {
                return false;
            };
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
                return false;
            };
            mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
            mac.verify_slice(&expected).is_ok()
        })
}

fn secret_key(secret: &str) -> DomainResult<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .map_err(|_| DomainError::internal("webhook secret is not base64"))
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

// --- validation ---

/// An endpoint URL: http(s), at most 2000 characters, and a public address unless the
/// operator allowed its host (the SSRF guard, [`OutboundPolicy`]). Stored as written.
fn valid_url(url: &str, policy: &OutboundPolicy) -> DomainResult<String> {
    let url = url.trim();
    if url.is_empty() || url.len() > 2_000 || url.chars().any(char::is_whitespace) {
        return Err(DomainError::validation(
            "input.url",
            "must be an http:// or https:// URL of at most 2000 characters",
        ));
    }
    policy
        .check_url(url)
        .map_err(|message| DomainError::validation("input.url", message))?;
    Ok(url.to_owned())
}

/// Organizing data leaves Turnout only where someone allowed to read it sent it: naming a kind
/// that may carry it needs `organizing:read` as well as `webhooks:write`.
fn may_name(scope: &Can<perm::WebhooksWrite>, kinds: &[String]) -> DomainResult<()> {
    match kinds
        .iter()
        .find(|k| crate::outbox::may_carry_organizing(k))
    {
        Some(kind) if !scope.holds(crate::auth::Scope::OrganizingRead) => {
            Err(DomainError::Forbidden(format!(
                "`{kind}` carries organizing data: subscribing a webhook to it needs the \
                 `organizing:read` scope"
            )))
        }
        _ => Ok(()),
    }
}

fn valid_kinds(kinds: &[String]) -> DomainResult<Vec<String>> {
    if kinds.is_empty() {
        return Err(DomainError::validation(
            "input.eventKinds",
            "must name at least one event kind, or \"*\" for all",
        ));
    }
    let mut out = Vec::with_capacity(kinds.len());
    for (i, kind) in kinds.iter().enumerate() {
        let kind = kind.trim();
        let well_formed = kind == "*"
            || (kind.len() <= 100
                && kind.contains('.')
                && kind
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'));
        if !well_formed {
            return Err(DomainError::validation(
                format!("input.eventKinds[{i}]"),
                "must be an event kind such as \"person.signed_up\", or \"*\"",
            ));
        }
        if !out.iter().any(|k: &String| k == kind) {
            out.push(kind.to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_round_trips_and_rejects_tampering() {
        let secret = new_secret();
        let sig = sign(&secret, "msg_1", 1_700_000_000, r#"{"a":1}"#).expect("sign");
        assert!(verify(
            &secret,
            "msg_1",
            1_700_000_000,
            r#"{"a":1}"#,
            &sig.signature
        ));
        assert!(!verify(
            &secret,
            "msg_1",
            1_700_000_000,
            r#"{"a":2}"#,
            &sig.signature
        ));
        assert!(!verify(
            &secret,
            "msg_2",
            1_700_000_000,
            r#"{"a":1}"#,
            &sig.signature
        ));
        assert!(!verify(
            &new_secret(),
            "msg_1",
            1_700_000_000,
            r#"{"a":1}"#,
            &sig.signature
        ));
    }

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        // From the Standard Webhooks specification's test vectors.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let sig = sign(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        )
        .expect("sign");
        assert_eq!(
            sig.signature,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn kinds_and_urls_are_validated() {
        assert!(valid_kinds(&[]).is_err());
        assert!(valid_kinds(&["Person Signed Up".into()]).is_err());
        assert_eq!(
            valid_kinds(&[
                "person.signed_up".into(),
                "person.signed_up".into(),
                "*".into()
            ])
            .expect("valid"),
            vec!["person.signed_up".to_owned(), "*".to_owned()]
        );
        let policy = OutboundPolicy::public_only();
        assert!(valid_url("ftp://x", &policy).is_err());
        assert!(valid_url("https://", &policy).is_err());
        assert!(valid_url("https://example.org/hook", &policy).is_ok());
        assert!(valid_url("http://169.254.169.254/", &policy).is_err());
    }

    #[test]
    fn the_wildcard_never_carries_organizing_data_and_a_named_kind_does() {
        let all = serde_json::json!(["*"]);
        let named = serde_json::json!(["person.assessed", "card.signed"]);
        let general = serde_json::json!({ "person_id": "x", "level": 2, "campaign_id": null });
        let campaign = serde_json::json!({ "person_id": "x", "level": 2, "campaign_id": "c" });
        assert!(subscribes(&all, "person.assessed", &general));
        assert!(!subscribes(&all, "person.assessed", &campaign));
        assert!(!subscribes(&all, "card.signed", &campaign));
        assert!(subscribes(&named, "person.assessed", &campaign));
        assert!(subscribes(&named, "card.signed", &campaign));
        assert!(subscribes(&all, "person.created", &serde_json::json!({})));
    }
}
