use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::auth::{Can, perm};
use turnout_domain::people::{self, PageRequest, PersonFilter, PersonSort};
use turnout_entity::people as person_row;

use super::context::{can, db};
use super::custom_field::CustomFieldValue;
use super::loaders::loaders;
use super::note_task::{LadderChange, Note, Task};
use super::tag::Tag;
use crate::error::GqlResult;
use crate::ids::{NodeType, decode_id_of, decode_person_cursor, encode_person_cursor, global_id};

/// Someone the organization knows: a volunteer, a member, a supporter. Shared, because a
/// roster's DataLoader hands the same row to every RSVP of that person: cloning a wide row per
/// RSVP was the largest cost of a roster (BENCHMARKS.md, Q3).
pub struct Person(pub Arc<person_row::Model>);

impl From<person_row::Model> for Person {
    fn from(row: person_row::Model) -> Self {
        Self(Arc::new(row))
    }
}

/// Whether a person agreed to be contacted on a channel, when, and through what.
#[derive(SimpleObject)]
pub struct Consent {
    /// True when the person agreed to be contacted on this channel.
    pub granted: bool,
    /// When the consent was given.
    pub granted_at: Option<DateTime<Utc>>,
    /// Where the consent was given, e.g. `form:volunteer`.
    pub source: Option<String>,
}

/// Campaign attribution from the link a person arrived through (first touch).
#[derive(SimpleObject)]
pub struct Utm {
    /// `utm_source`
    pub source: Option<String>,
    /// `utm_medium`
    pub medium: Option<String>,
    /// `utm_campaign`
    pub campaign: Option<String>,
    /// `utm_term`
    pub term: Option<String>,
    /// `utm_content`
    pub content: Option<String>,
}

#[Object]
impl Person {
    /// The global ID of this person.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Person, self.0.id)
    }

    /// Given name.
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }

    /// Family name.
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }

    /// Email address, lowercased. Unique within the organization.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// Phone number in E.164 form (`+12025550143`). Unique within the organization.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }

    /// Street address, first line.
    async fn address_line1(&self) -> Option<&str> {
        self.0.address_line1.as_deref()
    }

    /// Street address, second line.
    async fn address_line2(&self) -> Option<&str> {
        self.0.address_line2.as_deref()
    }

    /// City.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }

    /// State, province or region.
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }

    /// Postal code.
    async fn zip(&self) -> Option<&str> {
        self.0.zip.as_deref()
    }

    /// Preferred language as a BCP 47 tag (`en`, `es-MX`).
    async fn preferred_language(&self) -> Option<&str> {
        self.0.preferred_language.as_deref()
    }

    /// IANA time zone (`America/New_York`).
    async fn time_zone(&self) -> Option<&str> {
        self.0.time_zone.as_deref()
    }

    /// Stage on the organization's ladder of engagement.
    async fn ladder_stage(&self) -> Option<&str> {
        self.0.ladder_stage.as_deref()
    }

    /// An organizer's assessment of the person's commitment, 1 (low) to 5 (high).
    async fn assessment(&self) -> Option<i16> {
        self.0.assessment
    }

    /// The person's own referral code; links carrying it credit them with sign-ups.
    async fn referral_code(&self) -> &str {
        &self.0.referral_code
    }

    /// How the person first arrived, e.g. `form:volunteer`.
    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }

    /// Attribution of the person's first arrival.
    async fn utm(&self) -> Utm {
        Utm {
            source: self.0.utm_source.clone(),
            medium: self.0.utm_medium.clone(),
            campaign: self.0.utm_campaign.clone(),
            term: self.0.utm_term.clone(),
            content: self.0.utm_content.clone(),
        }
    }

    /// Consent to text messages.
    async fn sms_consent(&self) -> Consent {
        Consent {
            granted: self.0.sms_consent,
            granted_at: self.0.sms_consent_at,
            source: self.0.sms_consent_source.clone(),
        }
    }

    /// Consent to email.
    async fn email_consent(&self) -> Consent {
        Consent {
            granted: self.0.email_consent,
            granted_at: self.0.email_consent_at,
            source: self.0.email_consent_source.clone(),
        }
    }

    /// Until when free text may go to them on WhatsApp: a day after their last WhatsApp
    /// message to us. Outside it (null or past) only a template with an approved WhatsApp
    /// twin (`whatsappContentSid`) reaches them.
    async fn whatsapp_window_ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.whatsapp_window_ends_at
    }

    /// Consent to WhatsApp messages.
    async fn whatsapp_consent(&self) -> Consent {
        Consent {
            granted: self.0.whatsapp_consent,
            granted_at: self.0.whatsapp_consent_at,
            source: self.0.whatsapp_consent_source.clone(),
        }
    }

    /// The global ID of the person who referred this one, if any.
    async fn referred_by_id(&self) -> Option<ID> {
        self.0
            .referred_by_person_id
            .map(|id| global_id(NodeType::Person, id))
    }

    /// The person's tags, by name.
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Tag>> {
        let tags = loaders(ctx)?.tags.load_one(self.0.id).await?;
        Ok(tags.unwrap_or_default().into_iter().map(Tag).collect())
    }

    /// Notes on contacts with the person, newest first.
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn notes(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Note>> {
        let rows = loaders(ctx)?.notes.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Note).collect())
    }

    /// The person's jobs, current first (needs `organizing:read`).
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn employments(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::organizing::Employment>> {
        super::organizing::employments_of(ctx, self.0.id).await
    }

    /// The person's standing in each organizing campaign (needs `organizing:read`).
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn campaign_standings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::organizing::CampaignStanding>> {
        super::organizing::standings_of(ctx, self.0.id).await
    }

    /// The person's relationships, both ways (needs `organizing:read`); `connections` gives
    /// the other people with their standing.
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn relationships(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::organizing::Relationship>> {
        super::organizing::relationships_of(ctx, self.0.id).await
    }

    /// One-on-ones with the person, newest first (needs `organizing:read`).
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn one_on_ones(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<super::organizing::OneOnOne>> {
        super::organizing::one_on_ones_of(ctx, self.0.id).await
    }

    /// Tasks about the person, open first, then by due time.
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn tasks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Task>> {
        let rows = loaders(ctx)?.tasks.load_one(self.0.id).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Task).collect())
    }

    /// The person's custom field values, by key. Restricted fields are left out unless the
    /// caller holds `people:restricted`.
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn custom_fields(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<CustomFieldValue>> {
        let rows = loaders(ctx)?.custom_fields.load_one(self.0.id).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(CustomFieldValue::from)
            .collect())
    }

    /// Every change of the person's ladder stage and assessment, oldest first.
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn ladder_history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<LadderChange>> {
        let rows = loaders(ctx)?.ladder_history.load_one(self.0.id).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(LadderChange::from)
            .collect())
    }

    /// The organizer responsible for this person (a user's UUID).
    async fn point_person_user_id(&self) -> Option<ID> {
        self.0.point_person_user_id.map(|id| ID(id.to_string()))
    }

    /// The chapter the person belongs to (its UUID).
    async fn chapter_id(&self) -> Option<ID> {
        self.0.chapter_id.map(|id| ID(id.to_string()))
    }

    /// Country.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }

    /// The query string that credits this person on any sign-up or RSVP link
    /// (`ref=<referralCode>`).
    async fn referral_query_string(&self) -> String {
        format!("ref={}", self.0.referral_code)
    }

    /// How many people arrived through this person's referral code.
    async fn referral_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        super::person_events::referral_count(ctx, self.0.id).await
    }

    /// The people who arrived through this person's referral code, oldest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity + 1")]
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many people to return (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return people after this cursor (an `endCursor`).")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<super::person_events::ReferralConnection> {
        super::person_events::referrals(ctx, self.0.id, first, after).await
    }

    /// The person's RSVPs, oldest first. Needs `events:read`.
    #[graphql(complexity = "crate::graphql::limits::UNPAGINATED_LIST_COST * child_complexity")]
    async fn rsvps(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<super::event::Rsvp>> {
        super::person_events::rsvps(ctx, self.0.id).await
    }

    /// When the person was first added.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the person's record last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// When the person was archived; archived people are left out of lists.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
}

/// Filters on people; all given conditions must hold.
#[derive(InputObject, Default, Clone)]
pub struct PeopleFilter {
    /// People carrying at least one of these tags (by name).
    pub tags_any: Option<Vec<String>>,
    /// People carrying every one of these tags.
    pub tags_all: Option<Vec<String>>,
    /// People carrying none of these tags.
    pub tags_none: Option<Vec<String>>,
    /// People at one of these ladder stages.
    pub ladder_stages: Option<Vec<String>>,
    /// Assessment at least this (1–5).
    pub assessment_min: Option<i16>,
    /// Assessment at most this (1–5).
    pub assessment_max: Option<i16>,
    /// People in one of these chapters (UUIDs).
    pub chapter_ids: Option<Vec<ID>>,
    /// People with one of these postal codes.
    pub zips: Option<Vec<String>>,
    /// Preferred language is one of these (`es` also matches `es-MX`).
    pub languages: Option<Vec<String>>,
    /// Whether the person consented to text messages.
    pub sms_consent: Option<bool>,
    /// Whether the person consented to email.
    pub email_consent: Option<bool>,
    /// Whether the person consented to WhatsApp messages.
    pub whatsapp_consent: Option<bool>,
    /// Created at or after this instant.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// A case-insensitive piece of the first name, last name or email.
    pub search: Option<String>,
    /// People referred by this person (global ID).
    pub referred_by_id: Option<ID>,
    /// Also the conditions of this saved segment (global ID).
    pub segment_id: Option<ID>,
    /// People with a current job at one of these worksites (UUIDs). This and the organizing
    /// criteria below need `organizing:read`.
    pub worksite_ids: Option<Vec<ID>>,
    /// People with a current job in one of these units (UUIDs; not the units within them).
    pub unit_ids: Option<Vec<ID>>,
    /// People by their standing in one organizing campaign.
    pub campaign: Option<CampaignFilter>,
    /// People someone is the social leader or organizer of (`true`), or nobody is (`false`).
    pub has_leader: Option<bool>,
    /// People with a relationship, either way, to this person (global ID).
    pub connections_of_id: Option<ID>,
}

/// Criteria on people's standing in one organizing campaign; they compose with AND.
#[derive(InputObject, Clone)]
pub struct CampaignFilter {
    /// The campaign (a UUID).
    pub campaign_id: ID,
    /// Currently assessed at one of these levels (1–5).
    pub levels: Option<Vec<i16>>,
    /// Signed a card (`true`) or not (`false`).
    pub signed: Option<bool>,
    /// A leader in the campaign (`true`) or not.
    pub leader: Option<bool>,
}

impl PeopleFilter {
    /// The domain filter, with IDs decoded.
    pub fn into_domain(self) -> async_graphql::Result<PersonFilter> {
        let chapter_ids = self
            .chapter_ids
            .unwrap_or_default()
            .iter()
            .map(|id| crate::ids::parse_uuid("filter.chapterIds", id))
            .collect::<async_graphql::Result<Vec<_>>>()?;
        Ok(PersonFilter {
            tags_any: self.tags_any.unwrap_or_default(),
            tags_all: self.tags_all.unwrap_or_default(),
            tags_none: self.tags_none.unwrap_or_default(),
            ladder_stages: self.ladder_stages.unwrap_or_default(),
            assessment_min: self.assessment_min,
            assessment_max: self.assessment_max,
            chapter_ids,
            zips: self.zips.unwrap_or_default(),
            languages: self.languages.unwrap_or_default(),
            sms_consent: self.sms_consent,
            email_consent: self.email_consent,
            whatsapp_consent: self.whatsapp_consent,
            created_after: self.created_after,
            created_before: self.created_before,
            search: self.search,
            referred_by: self
                .referred_by_id
                .as_ref()
                .map(|id| decode_id_of("filter.referredById", NodeType::Person, id))
                .transpose()?,
            segment_id: self
                .segment_id
                .as_ref()
                .map(|id| decode_id_of("filter.segmentId", NodeType::Segment, id))
                .transpose()?,
            worksite_ids: self
                .worksite_ids
                .unwrap_or_default()
                .iter()
                .map(|id| crate::ids::parse_uuid("filter.worksiteIds", id))
                .collect::<async_graphql::Result<Vec<_>>>()?,
            unit_ids: self
                .unit_ids
                .unwrap_or_default()
                .iter()
                .map(|id| crate::ids::parse_uuid("filter.unitIds", id))
                .collect::<async_graphql::Result<Vec<_>>>()?,
            campaign: self
                .campaign
                .map(|c| {
                    Ok::<_, async_graphql::Error>(turnout_domain::people::CampaignCriteria {
                        campaign_id: crate::ids::parse_uuid(
                            "filter.campaign.campaignId",
                            &c.campaign_id,
                        )?,
                        levels: c.levels.unwrap_or_default(),
                        signed: c.signed,
                        leader: c.leader,
                    })
                })
                .transpose()?,
            has_leader: self.has_leader,
            connections_of: self
                .connections_of_id
                .as_ref()
                .map(|id| decode_id_of("filter.connectionsOfId", NodeType::Person, id))
                .transpose()?,
        })
    }
}

/// The orders people can be listed in; ties are broken by id, so pages never overlap.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeopleSort {
    /// Oldest first (the default).
    #[default]
    CreatedAtAsc,
    /// Newest first.
    CreatedAtDesc,
    /// By last name A–Z (people without one first).
    LastNameAsc,
    /// By last name Z–A (people without one last).
    LastNameDesc,
}

impl From<PeopleSort> for PersonSort {
    fn from(s: PeopleSort) -> Self {
        match s {
            PeopleSort::CreatedAtAsc => PersonSort::CreatedAsc,
            PeopleSort::CreatedAtDesc => PersonSort::CreatedDesc,
            PeopleSort::LastNameAsc => PersonSort::LastNameAsc,
            PeopleSort::LastNameDesc => PersonSort::LastNameDesc,
        }
    }
}

/// Totals of a people connection.
pub struct PeopleTotals {
    scope: Can<perm::PeopleRead>,
    filter: PersonFilter,
}

#[Object]
impl PeopleTotals {
    /// How many people match the filter (all pages). Costs one `COUNT` query; ask only when
    /// needed.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        people::count(db(ctx), &self.scope, &self.filter)
            .await
            .gql()
    }
}

/// A page of people, with the total count of the filter.
pub type PeopleConnection = Connection<String, Person, PeopleTotals>;

/// Reading people.
#[derive(Default)]
pub struct PeopleQuery;

#[Object]
impl PeopleQuery {
    /// The organization's active people, oldest first unless `sort` says otherwise, as a Relay
    /// connection. A cursor belongs to the sort order it came from.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity + 1")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many people to return (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return people after this cursor (an `endCursor`).")] after: Option<
            String,
        >,
        filter: Option<PeopleFilter>,
        #[graphql(desc = "The order; default oldest first.")] sort: Option<PeopleSort>,
    ) -> async_graphql::Result<PeopleConnection> {
        let scope = can::<perm::PeopleRead>(ctx)?;
        let sort: PersonSort = sort.unwrap_or_default().into();
        let after = after
            .as_deref()
            .map(|c| decode_person_cursor("after", c))
            .transpose()?;
        let page = PageRequest::new(first, None).gql()?;
        let filter = filter.unwrap_or_default().into_domain()?;
        let result = people::list(db(ctx), &scope, &filter, sort, page.first, after.as_ref())
            .await
            .gql()?;
        let ids: Vec<_> = result.items.iter().map(|p| p.id).collect();
        super::loaders::prime_for_page(ctx, &ctx.look_ahead().field("edges").field("node"), &ids)
            .await?;
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            result.has_next_page,
            PeopleTotals { scope, filter },
        );
        connection.edges.extend(
            result
                .items
                .into_iter()
                .map(|p| Edge::new(encode_person_cursor(&sort.cursor_of(&p)), Person::from(p))),
        );
        Ok(connection)
    }

    /// One person of the organization, by global ID.
    async fn person(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Person> {
        let scope = can::<perm::PeopleRead>(ctx)?;
        let uuid = decode_id_of("id", NodeType::Person, &id)?;
        Ok(Person::from(
            people::get(db(ctx), &scope, uuid).await.gql()?,
        ))
    }
}
