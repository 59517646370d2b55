//! Broadcasts: one message to a whole segment, per language, now or scheduled; previewed,
//! paused, resumed and cancelled, with its progress. Needs `messages:send` (and `people:read`
//! for the audience).

use std::collections::HashMap;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::auth::perm;
use turnout_domain::messaging::broadcasts::{self, BroadcastInput, Content};
use turnout_entity::broadcasts as entity;

use super::audit::request_context;
use super::context::{can, db, links};
use super::messaging::MessageChannel;
use super::person::PeopleFilter;
use crate::error::GqlResult;
use crate::ids::parse_uuid;

/// What a broadcast says in one language.
#[derive(InputObject, SimpleObject, Clone)]
#[graphql(input_name = "BroadcastContentInput")]
pub struct BroadcastContent {
    /// A language tag (`en`, `es`). People get the content of their preferred language (or its
    /// primary subtag); everyone else gets the first content.
    pub language: String,
    /// The email subject (email only; required there).
    pub subject: Option<String>,
    /// The message, a template: `{{ person.first_name }}`, `{{ org.name }}`. An email gets an
    /// unsubscribe line added.
    pub body: String,
    /// WhatsApp only: the approved Twilio Content template (`HX…`) sent to people outside
    /// their 24-hour window (free text reaches only those who wrote to us in the last day;
    /// without it the others are blocked).
    pub whatsapp_content_sid: Option<String>,
    /// The MiniJinja source of each of the approved template's variables, `{{1}}` first
    /// (`{{ person.first_name }}`).
    #[graphql(default)]
    pub whatsapp_variables: Vec<String>,
}

/// A new broadcast (a draft until `sendBroadcast`).
#[derive(InputObject)]
pub struct CreateBroadcastInput {
    /// 1–200 characters, for staff.
    pub name: String,
    pub channel: MessageChannel,
    /// Who gets it: a filter, or `{ segmentId }`. Only people with an address and consent
    /// for the channel are sent it; the others are counted as blocked.
    pub audience: PeopleFilter,
    /// One per language; the first serves languages not listed.
    pub contents: Vec<BroadcastContent>,
    /// When to send; omitted, `sendBroadcast` sends at once.
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// A broadcast's messages by state.
#[derive(SimpleObject, Default)]
pub struct BroadcastProgress {
    /// Waiting for delivery (held while the broadcast is paused).
    pub queued: u64,
    /// Handed to the provider, or being handed.
    pub sent: u64,
    pub delivered: u64,
    /// Refused by the provider or the carrier, or interrupted.
    pub failed: u64,
    /// Not sent: no address or no consent for the channel, or consent withdrawn (STOP,
    /// unsubscribe) before sending.
    pub blocked: u64,
    /// Dropped when the broadcast was cancelled.
    pub cancelled: u64,
}

/// Who a broadcast reaches now, and what the first of them gets.
#[derive(SimpleObject)]
pub struct BroadcastPreview {
    /// People matching the audience.
    pub audience_count: u64,
    /// Those with an address and consent for the channel.
    pub reachable_count: u64,
    /// The message of the first reachable person (null when nobody is reachable).
    pub sample: Option<BroadcastSample>,
}

#[derive(SimpleObject)]
pub struct BroadcastSample {
    /// The person (a UUID).
    pub person_id: ID,
    pub language: String,
    pub subject: Option<String>,
    pub body: String,
}

/// A broadcast, with its progress when the list read it for every broadcast at once.
pub struct Broadcast(entity::Model, Option<HashMap<String, u64>>);

/// A message to a whole audience.
#[Object]
impl Broadcast {
    /// The broadcast's id (a UUID).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.name
    }

    async fn channel(&self) -> MessageChannel {
        match self.0.channel.as_str() {
            "sms" => MessageChannel::Sms,
            "whatsapp" => MessageChannel::Whatsapp,
            _ => MessageChannel::Email,
        }
    }

    /// `DRAFT`, `SCHEDULED`, `QUEUING`, `SENT` (every message queued) or `CANCELLED`.
    async fn status(&self) -> String {
        self.0.status.to_uppercase()
    }

    /// True while delivery of its queued messages is held.
    async fn paused(&self) -> bool {
        self.0.paused
    }

    async fn scheduled_at(&self) -> Option<DateTime<Utc>> {
        self.0.scheduled_at
    }

    /// When every message was queued.
    async fn queued_at(&self) -> Option<DateTime<Utc>> {
        self.0.queued_at
    }

    /// Messages written once queuing finished (queued and blocked).
    async fn recipients(&self) -> i32 {
        self.0.recipients
    }

    async fn contents(&self) -> async_graphql::Result<Vec<BroadcastContent>> {
        Ok(broadcasts::contents_of(&self.0)
            .gql()?
            .into_iter()
            .map(|c| BroadcastContent {
                language: c.language,
                subject: c.subject,
                body: c.body,
                whatsapp_content_sid: c.whatsapp_content_sid,
                whatsapp_variables: c.whatsapp_variables,
            })
            .collect())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Its messages by state, read now (poll it while it sends).
    async fn progress(&self, ctx: &Context<'_>) -> async_graphql::Result<BroadcastProgress> {
        let counts = match &self.1 {
            Some(counts) => counts.clone(),
            None => {
                let scope = can::<perm::MessagesSend>(ctx)?;
                broadcasts::progress(db(ctx), &scope, &[self.0.id])
                    .await
                    .gql()?
                    .remove(&self.0.id)
                    .unwrap_or_default()
            }
        };
        let n = |states: &[&str]| states.iter().filter_map(|s| counts.get(*s)).sum();
        Ok(BroadcastProgress {
            queued: n(&["queued"]),
            sent: n(&["sending", "sent", "unknown"]),
            delivered: n(&["delivered"]),
            failed: n(&["failed", "undelivered"]),
            blocked: n(&["blocked"]),
            cancelled: n(&["cancelled"]),
        })
    }

    /// Who it would reach now, and a rendered sample.
    async fn preview(&self, ctx: &Context<'_>) -> async_graphql::Result<BroadcastPreview> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let p = broadcasts::preview(db(ctx), &scope, self.0.id, links(ctx))
            .await
            .gql()?;
        Ok(BroadcastPreview {
            audience_count: p.audience,
            reachable_count: p.reachable,
            sample: p.sample.map(|s| BroadcastSample {
                person_id: ID(s.person_id.to_string()),
                language: s.language,
                subject: s.subject,
                body: s.body,
            }),
        })
    }
}

#[derive(Default)]
pub struct BroadcastsQuery;

#[Object]
impl BroadcastsQuery {
    /// The organization's broadcasts, newest first (the latest 500).
    async fn broadcasts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Broadcast>> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let rows = broadcasts::list(db(ctx), &scope).await.gql()?;
        // Every listed broadcast's progress in one statement, when it is asked for.
        let mut progress = if ctx.look_ahead().field("progress").exists() {
            let ids: Vec<_> = rows.iter().map(|b| b.id).collect();
            Some(broadcasts::progress(db(ctx), &scope, &ids).await.gql()?)
        } else {
            None
        };
        Ok(rows
            .into_iter()
            .map(|b| {
                let counts = progress
                    .as_mut()
                    .map(|p| p.remove(&b.id).unwrap_or_default());
                Broadcast(b, counts)
            })
            .collect())
    }

    /// One broadcast.
    async fn broadcast(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The broadcast (a UUID).")] id: ID,
    ) -> async_graphql::Result<Broadcast> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let id = parse_uuid("id", &id)?;
        Ok(Broadcast(
            broadcasts::get(db(ctx), &scope, id).await.gql()?,
            None,
        ))
    }
}

#[derive(Default)]
pub struct BroadcastsMutation;

#[Object]
impl BroadcastsMutation {
    /// Write a broadcast (a draft: nothing is sent until `sendBroadcast`).
    async fn create_broadcast(
        &self,
        ctx: &Context<'_>,
        input: CreateBroadcastInput,
    ) -> async_graphql::Result<Broadcast> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let input = BroadcastInput {
            name: input.name,
            channel: input.channel.into(),
            audience: input.audience.into_domain()?,
            contents: input
                .contents
                .into_iter()
                .map(|c| Content {
                    language: c.language,
                    subject: c.subject,
                    body: c.body,
                    whatsapp_content_sid: c.whatsapp_content_sid,
                    whatsapp_variables: c.whatsapp_variables,
                })
                .collect(),
            scheduled_at: input.scheduled_at,
        };
        Ok(Broadcast(
            broadcasts::create(db(ctx), &scope, &request_context(ctx), input)
                .await
                .gql()?,
            None,
        ))
    }

    /// Send a draft: at once, or at its `scheduledAt`. Its messages are queued by the workers
    /// (watch `progress`); each person gets it once.
    async fn send_broadcast(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The broadcast (a UUID).")] id: ID,
    ) -> async_graphql::Result<Broadcast> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let id = parse_uuid("id", &id)?;
        Ok(Broadcast(
            broadcasts::send(db(ctx), &scope, &request_context(ctx), id)
                .await
                .gql()?,
            None,
        ))
    }

    /// Hold the delivery of a broadcast's queued messages.
    async fn pause_broadcast(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The broadcast (a UUID).")] id: ID,
    ) -> async_graphql::Result<Broadcast> {
        paused(ctx, id, true).await
    }

    /// Release a paused broadcast.
    async fn resume_broadcast(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The broadcast (a UUID).")] id: ID,
    ) -> async_graphql::Result<Broadcast> {
        paused(ctx, id, false).await
    }

    /// Cancel a broadcast: what is not sent yet never will be.
    async fn cancel_broadcast(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The broadcast (a UUID).")] id: ID,
    ) -> async_graphql::Result<Broadcast> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let id = parse_uuid("id", &id)?;
        Ok(Broadcast(
            broadcasts::cancel(db(ctx), &scope, &request_context(ctx), id)
                .await
                .gql()?,
            None,
        ))
    }
}

async fn paused(ctx: &Context<'_>, id: ID, paused: bool) -> async_graphql::Result<Broadcast> {
    let scope = can::<perm::MessagesSend>(ctx)?;
    let id = parse_uuid("id", &id)?;
    Ok(Broadcast(
        broadcasts::set_paused(db(ctx), &scope, &request_context(ctx), id, paused)
            .await
            .gql()?,
        None,
    ))
}
