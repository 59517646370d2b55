//! RSVPs: by staff, by the public, and check-in through a shift's host link.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::DomainError;
use turnout_domain::auth::perm;
use turnout_domain::events::rsvps::{self, HostView};
use turnout_domain::signup::ContactInput;

use super::audit::request_context;
use super::context::{can, db, links};
use super::event::{Rsvp, RsvpStatus, Shift, rsvp_status};
use super::signup::ClientIp;
use crate::error::{GqlResult, to_gql};
use crate::ids::{NodeType, decode_id_of, global_id};
use crate::rate_limit::RateLimiter;

/// Who is RSVPing or walking in. A first name and an email or a phone are needed; the person
/// is matched against people already known exactly as a sign-up is.
#[derive(InputObject)]
pub struct PublicRsvpInput {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: Option<String>,
    /// An email address; matched case-insensitively.
    pub email: Option<String>,
    /// A phone number, international or US national.
    pub phone: Option<String>,
    /// The referral code from the link the person followed (`?ref=`).
    pub referral_code: Option<String>,
    /// They agree to texts (the confirmation and reminders by SMS); needs `phone`. Consent
    /// is only ever given here: unticked, it leaves what the person said before.
    #[graphql(default)]
    pub sms_consent: bool,
    /// They agree to WhatsApp messages; needs `phone`.
    #[graphql(default)]
    pub whatsapp_consent: bool,
}

impl From<PublicRsvpInput> for ContactInput {
    fn from(i: PublicRsvpInput) -> Self {
        ContactInput {
            first_name: Some(i.first_name),
            last_name: i.last_name,
            email: i.email,
            phone: i.phone,
            referral_code: i.referral_code,
            sms_consent: i.sms_consent,
            whatsapp_consent: i.whatsapp_consent,
        }
    }
}

/// The answer to a public RSVP. It does not say whether the person was already known.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PublicRsvpPayload {
    #[graphql(skip)]
    pub shift_id: uuid::Uuid,
    /// Signed up, or waitlisted when the shift is full.
    pub status: RsvpStatus,
    /// The RSVP's own token: it cancels the RSVP (`cancelRsvpByToken`) and names its invite.
    pub token: String,
    /// The calendar invite (`<TURNOUT_PUBLIC_BASE_URL>/ics/<token>.ics`).
    pub ics_url: String,
    /// The RSVP's own page (`<TURNOUT_PUBLIC_BASE_URL>/r/<token>`): confirm, cancel, change.
    pub page_url: String,
    /// The person's own referral code, to share (`?ref=`).
    pub referral_code: String,
}

#[async_graphql::ComplexObject]
impl PublicRsvpPayload {
    /// The shift as it stands after this RSVP (`seatsLeft`), so a client cache updates the
    /// shift it shows.
    async fn shift(&self, ctx: &Context<'_>) -> async_graphql::Result<Shift> {
        Ok(Shift(
            turnout_domain::events::get_shift(db(ctx), None, self.shift_id)
                .await
                .gql()?,
        ))
    }
}

/// One person on a shift's roster, as its host sees it: a name and a status, no contact
/// details.
#[derive(SimpleObject)]
pub struct HostRosterEntry {
    /// The RSVP's global ID, the entry's identity in a client cache.
    pub id: ID,
    /// The RSVP's global ID (for `hostCheckIn`); the same as `id`.
    pub rsvp_id: ID,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Where the RSVP stands.
    pub status: RsvpStatus,
    /// When the person was checked in.
    pub checked_in_at: Option<DateTime<Utc>>,
}

impl HostRosterEntry {
    fn of(
        r: turnout_entity::rsvps::Model,
        p: turnout_entity::people::Model,
    ) -> async_graphql::Result<Self> {
        let id = global_id(NodeType::Rsvp, r.id);
        Ok(Self {
            rsvp_id: id.clone(),
            id,
            first_name: p.first_name,
            last_name: p.last_name,
            status: rsvp_status(&r.status)?,
            checked_in_at: r.checked_in_at,
        })
    }
}

/// A shift as its host sees it through the host link.
#[derive(SimpleObject)]
pub struct HostShift {
    /// The event's name.
    pub event_title: String,
    /// The event's IANA time zone.
    pub time_zone: String,
    /// Where it happens.
    pub location: Option<String>,
    /// When the shift starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    pub ends_at: DateTime<Utc>,
    /// Most people with a seat; null is unlimited.
    pub capacity: Option<i32>,
    /// When the shift was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Everyone coming or come (cancelled RSVPs left out), oldest first.
    pub roster: Vec<HostRosterEntry>,
}

impl HostShift {
    fn from_view(view: HostView) -> async_graphql::Result<Self> {
        let roster = view
            .roster
            .into_iter()
            .map(|(r, p)| HostRosterEntry::of(r, p))
            .collect::<async_graphql::Result<Vec<_>>>()?;
        Ok(Self {
            event_title: view.event.title,
            time_zone: view.event.time_zone,
            location: view.event.location,
            starts_at: view.shift.starts_at,
            ends_at: view.shift.ends_at,
            capacity: view.shift.capacity,
            cancelled_at: view.shift.cancelled_at,
            roster,
        })
    }
}

/// A checked-in RSVP, as the host sees it.
#[derive(SimpleObject)]
pub struct HostCheckInPayload {
    /// The RSVP's global ID.
    pub rsvp_id: ID,
    /// Attended.
    pub status: RsvpStatus,
    /// When the person was checked in.
    pub checked_in_at: Option<DateTime<Utc>>,
    /// The RSVP as the roster shows it (same `id`), so a client cache updates the roster.
    pub entry: HostRosterEntry,
}

impl HostCheckInPayload {
    fn from_outcome(o: rsvps::PublicRsvp) -> async_graphql::Result<Self> {
        Ok(Self {
            rsvp_id: global_id(NodeType::Rsvp, o.rsvp.id),
            status: rsvp_status(&o.rsvp.status)?,
            checked_in_at: o.rsvp.checked_in_at,
            entry: HostRosterEntry::of(o.rsvp, o.person)?,
        })
    }
}

/// One public request from this client against the public per-IP budget.
fn rate_limit(ctx: &Context<'_>, bucket: &str) -> async_graphql::Result<()> {
    let client_ip = ctx.data_opt::<ClientIp>().and_then(|ip| ip.0);
    if let Some(Err(wait)) = ctx
        .data_opt::<Arc<RateLimiter>>()
        .map(|l| l.check_signup(client_ip, bucket))
    {
        return Err(to_gql(DomainError::RateLimited { retry_after: wait }));
    }
    Ok(())
}

/// Reading a shift through its host link.
#[derive(Default)]
pub struct HostQuery;

#[Object]
impl HostQuery {
    /// Public, with the shift's host token: the shift and its roster.
    async fn host_shift(
        &self,
        ctx: &Context<'_>,
        host_token: String,
    ) -> async_graphql::Result<HostShift> {
        let gate = HostTokenGate::open(ctx)?;
        let view = HostTokenGate::record(gate, rsvps::host_view(db(ctx), &host_token).await)?;
        HostShift::from_view(view)
    }
}

/// RSVPs by staff (`events:write`), by the public, and through host links.
#[derive(Default)]
pub struct RsvpsMutation;

#[Object]
impl RsvpsMutation {
    /// RSVP a person to a shift: signed up, or waitlisted when the shift is full. An RSVP
    /// already active is returned as it is; a cancelled one is reactivated.
    async fn create_rsvp(
        &self,
        ctx: &Context<'_>,
        shift_id: ID,
        person_id: ID,
    ) -> async_graphql::Result<Rsvp> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let shift = decode_id_of("shiftId", NodeType::Shift, &shift_id)?;
        let person = decode_id_of("personId", NodeType::Person, &person_id)?;
        Ok(Rsvp::from(
            rsvps::create(db(ctx), &scope, &request_context(ctx), shift, person)
                .await
                .gql()?,
        ))
    }

    /// Cancel an RSVP; a seat it held goes to the oldest waitlisted RSVP.
    async fn cancel_rsvp(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Rsvp> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let uuid = decode_id_of("id", NodeType::Rsvp, &id)?;
        Ok(Rsvp::from(
            rsvps::cancel(db(ctx), &scope, &request_context(ctx), uuid)
                .await
                .gql()?,
        ))
    }

    /// Mark a signed-up RSVP as confirmed.
    async fn confirm_rsvp(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Rsvp> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let uuid = decode_id_of("id", NodeType::Rsvp, &id)?;
        Ok(Rsvp::from(
            rsvps::confirm(db(ctx), &scope, &request_context(ctx), uuid)
                .await
                .gql()?,
        ))
    }

    /// Check a person in: attended, now.
    async fn check_in_rsvp(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Rsvp> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let uuid = decode_id_of("id", NodeType::Rsvp, &id)?;
        Ok(Rsvp::from(
            rsvps::check_in(db(ctx), &scope, &request_context(ctx), uuid)
                .await
                .gql()?,
        ))
    }

    /// Mark a person as not having come.
    async fn mark_rsvp_no_show(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Rsvp> {
        let scope = can::<perm::EventsWrite>(ctx)?;
        let uuid = decode_id_of("id", NodeType::Rsvp, &id)?;
        Ok(Rsvp::from(
            rsvps::mark_no_show(db(ctx), &scope, &request_context(ctx), uuid)
                .await
                .gql()?,
        ))
    }

    /// Public: RSVP to a shift of a public event. The person is found (same email, else
    /// phone) or created, exactly as a sign-up would; a referral code credits its owner.
    async fn rsvp(
        &self,
        ctx: &Context<'_>,
        shift_id: ID,
        input: PublicRsvpInput,
    ) -> async_graphql::Result<PublicRsvpPayload> {
        let shift = decode_id_of("shiftId", NodeType::Shift, &shift_id)?;
        rate_limit(ctx, &format!("rsvp:{shift}"))?;
        let outcome = rsvps::create_public(db(ctx), &request_context(ctx), shift, &input.into())
            .await
            .gql()?;
        Ok(PublicRsvpPayload {
            shift_id: outcome.rsvp.shift_id,
            status: rsvp_status(&outcome.rsvp.status)?,
            ics_url: links(ctx).ics(&outcome.rsvp.public_token),
            page_url: links(ctx).rsvp(&outcome.rsvp.public_token),
            token: outcome.rsvp.public_token,
            referral_code: outcome.person.referral_code,
        })
    }

    /// Public: cancel an RSVP with its token (from `rsvp` or the invite's link).
    async fn cancel_rsvp_by_token(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> async_graphql::Result<RsvpStatus> {
        rate_limit(ctx, "rsvp-cancel")?;
        let rsvp = rsvps::cancel_by_token(db(ctx), &request_context(ctx), &token)
            .await
            .gql()?;
        rsvp_status(&rsvp.status)
    }

    /// Public, with the shift's host token: check in an RSVP of that shift.
    async fn host_check_in(
        &self,
        ctx: &Context<'_>,
        host_token: String,
        rsvp_id: ID,
    ) -> async_graphql::Result<HostCheckInPayload> {
        let uuid = decode_id_of("rsvpId", NodeType::Rsvp, &rsvp_id)?;
        let gate = HostTokenGate::open(ctx)?;
        let outcome = HostTokenGate::record(
            gate,
            rsvps::host_check_in(db(ctx), &request_context(ctx), &host_token, uuid).await,
        )?;
        HostCheckInPayload::from_outcome(outcome)
    }

    /// Public, with the shift's host token: add someone who walked in (found or created like
    /// a sign-up) and check them in.
    async fn host_add_walk_in(
        &self,
        ctx: &Context<'_>,
        host_token: String,
        input: PublicRsvpInput,
    ) -> async_graphql::Result<HostCheckInPayload> {
        let gate = HostTokenGate::open(ctx)?;
        let outcome = HostTokenGate::record(
            gate,
            rsvps::host_walk_in(db(ctx), &request_context(ctx), &host_token, &input.into()).await,
        )?;
        HostCheckInPayload::from_outcome(outcome)
    }
}

/// Host links are credentials: unknown host tokens from one client slow it down
/// ([`crate::rate_limit::TokenGuard`]).
struct HostTokenGate<'a>(Option<crate::rate_limit::TokenGuard<'a>>);

impl<'a> HostTokenGate<'a> {
    fn open(ctx: &Context<'a>) -> async_graphql::Result<Self> {
        let limiter = ctx.data_opt::<Arc<RateLimiter>>();
        let ip = ctx.data_opt::<ClientIp>().and_then(|ip| ip.0);
        let (Some(limiter), Some(ip)) = (limiter, ip) else {
            return Ok(Self(None));
        };
        limiter
            .token_guard("host-link", ip)
            .map(|guard| Self(Some(guard)))
            .map_err(|wait| to_gql(DomainError::RateLimited { retry_after: wait }))
    }

    fn record<T>(gate: Self, result: turnout_domain::DomainResult<T>) -> async_graphql::Result<T> {
        if let Some(guard) = gate.0 {
            guard.record(&result);
        }
        result.gql()
    }
}
