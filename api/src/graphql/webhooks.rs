//! Webhook endpoints, their delivery log and replay; and the dead-letter list of failed jobs.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::auth::{Can, perm};
use turnout_domain::dead_letters;
use turnout_domain::people::PageRequest;
use turnout_domain::webhooks::{self, EndpointChanges, NewEndpoint};
use turnout_entity::{dead_letters as dead_letter_row, webhook_deliveries, webhook_endpoints};

use super::audit::request_context;
use super::context::{can, db};
use crate::error::GqlResult;
use crate::ids::{decode_cursor, encode_cursor};

use crate::ids::parse_uuid;

/// A URL that receives the organization's events, signed the Standard Webhooks way.
#[derive(SimpleObject)]
pub struct WebhookEndpoint {
    /// The endpoint's id.
    pub id: ID,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The event kinds it receives (`*` for all).
    pub event_kinds: Vec<String>,
    /// What the endpoint is for.
    pub description: Option<String>,
    /// False when switched off, by an admin or after repeated failures.
    pub enabled: bool,
    /// Failed attempts in a row; at the limit the endpoint is disabled.
    pub consecutive_failures: i32,
    /// When it was disabled after repeated failures; null if it was not.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<webhook_endpoints::Model> for WebhookEndpoint {
    fn from(row: webhook_endpoints::Model) -> Self {
        Self {
            id: ID(row.id.to_string()),
            event_kinds: serde_json::from_value(row.event_kinds).unwrap_or_default(),
            url: row.url,
            description: row.description,
            enabled: row.enabled,
            consecutive_failures: row.consecutive_failures,
            disabled_at: row.disabled_at,
            created_at: row.created_at,
        }
    }
}

/// A new endpoint and its signing secret, shown this once.
#[derive(SimpleObject)]
pub struct CreatedWebhookEndpoint {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_…`): verify `webhook-signature` with it.
    pub secret: String,
}

/// One event sent (or being sent) to one endpoint.
#[derive(SimpleObject)]
pub struct WebhookDelivery {
    /// The delivery's id; the `webhook-id` header is `msg_` and this id without dashes.
    pub id: ID,
    /// The endpoint it goes to.
    pub endpoint_id: ID,
    /// The domain event it carries.
    pub event_id: Option<ID>,
    /// `pending`, `retrying`, `delivered` or `failed` (after the last attempt).
    pub status: String,
    /// Attempts made so far.
    pub attempts: i32,
    /// The HTTP status of the last answer, if there was one.
    pub response_code: Option<i32>,
    /// The start of the last answer's body.
    pub response_body: Option<String>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// When the next attempt is due, while retrying.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// The delivery this one replays, if it is a replay.
    pub replay_of: Option<ID>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<webhook_deliveries::Model> for WebhookDelivery {
    fn from(row: webhook_deliveries::Model) -> Self {
        Self {
            id: ID(row.id.to_string()),
            endpoint_id: ID(row.endpoint_id.to_string()),
            event_id: row.event_id.map(|id| ID(id.to_string())),
            status: row.status,
            attempts: row.attempts,
            response_code: row.response_code,
            response_body: row.response_body,
            error: row.error,
            next_attempt_at: row.next_attempt_at,
            delivered_at: row.delivered_at,
            replay_of: row.replay_of.map(|id| ID(id.to_string())),
            created_at: row.created_at,
        }
    }
}

/// A background job that failed its last attempt.
#[derive(SimpleObject)]
pub struct DeadLetter {
    /// The dead letter's id.
    pub id: ID,
    /// The queue the job ran on.
    pub queue: String,
    /// The job as queued (JSON).
    pub job: async_graphql::Json<serde_json::Value>,
    /// The error of its last attempt.
    pub error: String,
    /// Attempts made.
    pub attempts: i32,
    /// When it failed for the last time.
    pub failed_at: DateTime<Utc>,
    /// When someone asked for it to be tried again.
    pub retry_requested_at: Option<DateTime<Utc>>,
    /// When it was queued again.
    pub retried_at: Option<DateTime<Utc>>,
}

impl From<dead_letter_row::Model> for DeadLetter {
    fn from(row: dead_letter_row::Model) -> Self {
        Self {
            id: ID(row.id.to_string()),
            queue: row.queue,
            job: async_graphql::Json(row.job),
            error: row.error,
            attempts: row.attempts,
            failed_at: row.failed_at,
            retry_requested_at: row.retry_requested_at,
            retried_at: row.retried_at,
        }
    }
}

/// Reading webhooks and dead letters.
#[derive(Default)]
pub struct WebhooksQuery;

#[Object]
impl WebhooksQuery {
    /// The organization's webhook endpoints. Needs `WEBHOOKS_WRITE`.
    async fn webhook_endpoints(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<WebhookEndpoint>> {
        let rows = webhooks::list_endpoints(db(ctx), &can::<perm::WebhooksWrite>(ctx)?)
            .await
            .gql()?;
        Ok(rows.into_iter().map(WebhookEndpoint::from).collect())
    }

    /// An endpoint's delivery log, newest first. Needs `WEBHOOKS_WRITE`.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] endpoint_id: ID,
        #[graphql(desc = "How many deliveries (at most 100; default 20).")] first: Option<i32>,
        #[graphql(desc = "Deliveries after this cursor (an `endCursor`).")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, WebhookDelivery, DeliveryTotals>> {
        let endpoint_id = parse_uuid("endpointId", &endpoint_id)?;
        let after = after
            .as_deref()
            .map(|c| decode_cursor("after", c))
            .transpose()?;
        let page = PageRequest::new(first, after).gql()?;
        let scope = can::<perm::WebhooksWrite>(ctx)?;
        let result = webhooks::list_deliveries(db(ctx), &scope, endpoint_id, page)
            .await
            .gql()?;
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            result.has_next_page,
            DeliveryTotals { scope, endpoint_id },
        );
        connection.edges.extend(
            result
                .items
                .into_iter()
                .map(|d| Edge::new(encode_cursor(d.id), WebhookDelivery::from(d))),
        );
        Ok(connection)
    }

    /// Background jobs of the organization that failed their last attempt, newest first.
    /// Needs `ADMIN`.
    async fn dead_letters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 100; default 20).")] first: Option<i32>,
        #[graphql(desc = "Dead letters after this cursor (an `endCursor`).")] after: Option<String>,
    ) -> async_graphql::Result<Connection<String, DeadLetter, DeadLetterTotals>> {
        let after = after
            .as_deref()
            .map(|c| decode_cursor("after", c))
            .transpose()?;
        let page = PageRequest::new(first, after).gql()?;
        let scope = can::<perm::Admin>(ctx)?;
        let result = dead_letters::list(db(ctx), &scope, page).await.gql()?;
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            result.has_next_page,
            DeadLetterTotals { scope },
        );
        connection.edges.extend(
            result
                .items
                .into_iter()
                .map(|d| Edge::new(encode_cursor(d.id), DeadLetter::from(d))),
        );
        Ok(connection)
    }
}

/// Totals of an endpoint's deliveries.
pub struct DeliveryTotals {
    scope: Can<perm::WebhooksWrite>,
    endpoint_id: uuid::Uuid,
}

#[Object]
impl DeliveryTotals {
    /// How many deliveries the endpoint has had (all pages). One `COUNT` query.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        webhooks::count_deliveries(db(ctx), &self.scope, self.endpoint_id)
            .await
            .gql()
    }
}

/// Totals of the dead letters.
pub struct DeadLetterTotals {
    scope: Can<perm::Admin>,
}

#[Object]
impl DeadLetterTotals {
    /// How many dead letters there are (all pages). One `COUNT` query.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        dead_letters::count(db(ctx), &self.scope).await.gql()
    }
}

/// Managing webhooks and retrying dead letters.
#[derive(Default)]
pub struct WebhooksMutation;

#[Object]
impl WebhooksMutation {
    /// Register an endpoint for event kinds (`*` for all). The signing secret is returned this
    /// once. Needs `WEBHOOKS_WRITE`.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An http:// or https:// URL.")] url: String,
        #[graphql(desc = "Event kinds such as `person.signed_up`, or `*`.")] event_kinds: Vec<
            String,
        >,
        #[graphql(desc = "What the endpoint is for.")] description: Option<String>,
    ) -> async_graphql::Result<CreatedWebhookEndpoint> {
        let (endpoint, secret) = webhooks::create_endpoint(
            db(ctx),
            &can::<perm::WebhooksWrite>(ctx)?,
            &request_context(ctx),
            NewEndpoint {
                url,
                event_kinds,
                description,
            },
            &outbound_policy(ctx),
        )
        .await
        .gql()?;
        Ok(CreatedWebhookEndpoint {
            endpoint: endpoint.into(),
            secret,
        })
    }

    /// Change an endpoint; enabling it again clears its failure count. Needs `WEBHOOKS_WRITE`.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
        #[graphql(desc = "A new URL.")] url: Option<String>,
        #[graphql(desc = "New event kinds.")] event_kinds: Option<Vec<String>>,
        #[graphql(desc = "Switch it on or off.")] enabled: Option<bool>,
    ) -> async_graphql::Result<WebhookEndpoint> {
        let id = parse_uuid("id", &id)?;
        let endpoint = webhooks::update_endpoint(
            db(ctx),
            &can::<perm::WebhooksWrite>(ctx)?,
            &request_context(ctx),
            id,
            EndpointChanges {
                url,
                event_kinds,
                enabled,
            },
            &outbound_policy(ctx),
        )
        .await
        .gql()?;
        Ok(endpoint.into())
    }

    /// Delete an endpoint and its delivery log. Needs `WEBHOOKS_WRITE`.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
    ) -> async_graphql::Result<bool> {
        let id = parse_uuid("id", &id)?;
        webhooks::delete_endpoint(
            db(ctx),
            &can::<perm::WebhooksWrite>(ctx)?,
            &request_context(ctx),
            id,
        )
        .await
        .gql()?;
        Ok(true)
    }

    /// Send a past delivery's event again, as a new delivery with its own `webhook-id`.
    /// Needs `WEBHOOKS_WRITE`.
    async fn replay_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery to replay.")] id: ID,
    ) -> async_graphql::Result<WebhookDelivery> {
        let id = parse_uuid("id", &id)?;
        let delivery = webhooks::replay_delivery(
            db(ctx),
            &can::<perm::WebhooksWrite>(ctx)?,
            &request_context(ctx),
            id,
        )
        .await
        .gql()?;
        Ok(delivery.into())
    }

    /// Queue a dead job again, from its first attempt. Needs `ADMIN`.
    async fn retry_dead_letter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dead letter's id.")] id: ID,
    ) -> async_graphql::Result<DeadLetter> {
        let id = parse_uuid("id", &id)?;
        let dead = dead_letters::request_retry(
            db(ctx),
            &can::<perm::Admin>(ctx)?,
            &request_context(ctx),
            id,
        )
        .await
        .gql()?;
        Ok(dead.into())
    }
}

/// Where this deployment lets Turnout call (the HTTP layer puts it in every request).
fn outbound_policy(ctx: &Context<'_>) -> turnout_domain::outbound::OutboundPolicy {
    ctx.data_opt::<turnout_domain::outbound::OutboundPolicy>()
        .cloned()
        .unwrap_or_default()
}
