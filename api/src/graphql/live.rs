//! The live feed: `subscription { domainEvents(kinds: …) { … } }` over WebSocket
//! (`/graphql/ws`, graphql-ws protocol), fed by the process's [`LiveHub`].

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::{Context, ErrorExtensions, ID, Json, Object, Subscription};
use chrono::{DateTime, Utc};
use futures::Stream;
use futures::future::BoxFuture;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Duration, Instant};
use turnout_domain::DomainError;
use turnout_domain::auth::{Principal, Scope};
use turnout_domain::outbox;

use super::context::principal;
use crate::error::to_gql;
use crate::ids::{NodeType, global_id};
use crate::live::{LiveEvent, LiveHub};
use uuid::Uuid;

/// A domain event as the live feed delivers it.
pub struct DomainEvent(LiveEvent);

/// Something that happened in your organization, as recorded in its outbox when it
/// committed: the same events automations and webhooks receive.
#[Object]
impl DomainEvent {
    /// The event's id (a UUIDv7, so ids sort by time).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What happened, e.g. `person.signed_up`, `rsvp.created`, `shift.checked_in`.
    async fn kind(&self) -> &str {
        &self.0.kind
    }

    /// The type of thing it happened to: `person`, `rsvp`, `shift`, `event`,
    /// `webhook_endpoint` …
    async fn subject_type(&self) -> &str {
        &self.0.subject_type
    }

    /// The id (a UUID) of the thing it happened to.
    async fn subject_id(&self) -> ID {
        ID(self.0.subject_id.to_string())
    }

    /// The subject's global object ID, to fetch it with `node(id:)`; null when the subject is
    /// not a `Node` type.
    async fn subject_node_id(&self) -> Option<ID> {
        let ty = match self.0.subject_type.as_str() {
            "person" => NodeType::Person,
            "rsvp" => NodeType::Rsvp,
            "shift" => NodeType::Shift,
            "event" => NodeType::Event,
            _ => return None,
        };
        Some(global_id(ty, self.0.subject_id))
    }

    /// The event's details, as stored (the same JSON automations and webhooks receive).
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(self.0.payload.clone())
    }

    /// When it happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// The id (a UUID) of the event that caused this one (an automation's effect, a
    /// scheduled sweep), if any.
    async fn causation_id(&self) -> Option<ID> {
        self.0.causation_id.map(|id| ID(id.to_string()))
    }
}

/// Live subscriptions, served over WebSocket at `/graphql/ws` (graphql-ws protocol).
#[derive(Default)]
pub struct LiveSubscription;

/// Live subscriptions, served over WebSocket at `/graphql/ws` (graphql-ws protocol).
#[Subscription]
impl LiveSubscription {
    /// Your organization's domain events as they commit, oldest first, from the moment you
    /// subscribe (no replay). `kinds` keeps only those kinds (e.g. `["person.signed_up"]`).
    /// Authenticate in the `connection_init` payload:
    /// `{"Authorization": "Bearer <API key or access token>"}`. Events about people need
    /// `people:read`, about events, shifts and RSVPs `events:read`, about messages and
    /// broadcasts `messages:send`, about webhooks `webhooks:write`; a subscriber gets the kinds its scopes allow, and asking for a kind it
    /// may not read is `FORBIDDEN`. Chapter-restricted users cannot subscribe. The
    /// connection's credential is re-checked at the first event 30 s (by default) after the
    /// last check: a revoked key, an expired token or a removed membership ends the
    /// subscription with `UNAUTHENTICATED`. A subscriber
    /// that falls more than a few thousand events behind receives a `LAGGED` error in place
    /// of the events it missed, and the feed goes on.
    async fn domain_events(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<String>>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<DomainEvent>> + use<>> {
        let principal = principal(ctx)?;
        if !principal.has(Scope::PeopleRead) && !principal.has(Scope::EventsRead) {
            return Err(to_gql(DomainError::Forbidden(
                "the live feed needs the `people:read` or `events:read` scope".into(),
            )));
        }
        if principal.chapters().is_some() {
            return Err(to_gql(DomainError::Forbidden(
                "the live feed is organization-wide; chapter-restricted users cannot subscribe"
                    .into(),
            )));
        }
        if let Some(kinds) = &kinds {
            for kind in kinds {
                principal
                    .require(outbox::read_scope(kind))
                    .map_err(to_gql)?;
            }
        }
        let kinds: Option<HashSet<String>> = kinds.map(|k| k.into_iter().collect());
        let hub = ctx.data::<Arc<LiveHub>>()?;
        let feed = Feed {
            rx: hub.subscribe(),
            org_id: principal.org_id(),
            principal: principal.clone(),
            kinds,
            credential: ctx.data_opt::<LiveCredential>().cloned(),
            checked_at: Instant::now(),
            ended: false,
        };
        Ok(futures::stream::unfold(feed, |mut feed| async move {
            let item = feed.next().await?;
            Some((item, feed))
        }))
    }
}

/// Re-authenticates the credential a WebSocket connection opened with: the caller as of now,
/// or `None` when the credential is no longer valid (revoked, expired, membership removed).
#[derive(Clone)]
pub struct LiveCredential {
    /// How stale a check may get: the first event after this long triggers the next one.
    pub recheck_every: Duration,
    #[allow(clippy::type_complexity)]
    pub current: Arc<dyn Fn() -> BoxFuture<'static, Option<Principal>> + Send + Sync>,
}

/// One subscriber's view of the hub.
struct Feed {
    rx: broadcast::Receiver<LiveEvent>,
    org_id: Uuid,
    principal: Principal,
    kinds: Option<HashSet<String>>,
    credential: Option<LiveCredential>,
    checked_at: Instant,
    ended: bool,
}

impl Feed {
    /// The next event this subscriber may see; an error item for a lag or a credential that
    /// is no longer valid (which ends the feed).
    async fn next(&mut self) -> Option<async_graphql::Result<DomainEvent>> {
        if self.ended {
            return None;
        }
        loop {
            let event = match self.rx.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "live feed subscriber fell behind");
                    let err = async_graphql::Error::new(format!(
                        "this subscriber fell behind and missed {missed} events (of all organizations)"
                    ))
                    .extend_with(|_, e| e.set("code", "LAGGED"));
                    return Some(Err(err));
                }
                Err(RecvError::Closed) => return None,
            };
            if event.organization_id != self.org_id
                || self
                    .kinds
                    .as_ref()
                    .is_some_and(|k| !k.contains(&event.kind))
            {
                continue;
            }
            if let Some(credential) = &self.credential
                && self.checked_at.elapsed() >= credential.recheck_every
            {
                match (credential.current)().await {
                    Some(principal) if principal.chapters().is_none() => {
                        self.principal = principal;
                        self.checked_at = Instant::now();
                    }
                    _ => {
                        self.ended = true;
                        return Some(Err(to_gql(DomainError::Unauthenticated(
                            "the credential of this connection is no longer valid".into(),
                        ))));
                    }
                }
            }
            if self
                .principal
                .has(outbox::event_read_scope(&event.kind, &event.payload))
            {
                return Some(Ok(DomainEvent(event)));
            }
        }
    }
}
