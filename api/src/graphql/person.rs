use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::{DataLoader, HashMapCache};
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::auth::Scope;
use turnout_domain::people::{self, PageRequest, PersonFilter};
use turnout_entity::people as person_row;

use super::context::{db, org_scope};
use super::loaders::TagsByPerson;
use super::tag::Tag;
use crate::error::{GqlResult, to_gql};
use crate::ids::{NodeType, decode_cursor, decode_id_of, encode_cursor, global_id};

/// Someone the organization knows: a volunteer, a member, a supporter.
pub struct Person(pub person_row::Model);

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
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Tag>> {
        let loader = ctx
            .data_opt::<DataLoader<TagsByPerson, HashMapCache>>()
            .ok_or_else(|| {
                to_gql(turnout_domain::DomainError::Forbidden(
                    "reading tags needs `people:read`".into(),
                ))
            })?;
        Ok(loader.load_one(self.0.id).await?.unwrap_or_default())
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
    ) -> async_graphql::Result<Connection<String, Person>> {
        super::person_events::referrals(ctx, self.0.id, first, after).await
    }

    /// The person's RSVPs, oldest first. Needs `events:read`.
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
#[derive(InputObject, Default)]
pub struct PeopleFilter {
    /// People carrying at least one of these tags (by name).
    pub tags_any: Option<Vec<String>>,
    /// A case-insensitive piece of the first name, last name or email.
    pub search: Option<String>,
}

/// Reading people.
#[derive(Default)]
pub struct PeopleQuery;

#[Object]
impl PeopleQuery {
    /// The organization's active people, oldest first, as a Relay connection.
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
    ) -> async_graphql::Result<Connection<String, Person>> {
        let scope = org_scope(ctx, Scope::PeopleRead)?;
        let after = after
            .as_deref()
            .map(|c| decode_cursor("after", c))
            .transpose()?;
        let page = PageRequest::new(first, after).gql()?;
        let filter = filter.unwrap_or_default();
        let filter = PersonFilter {
            tags_any: filter.tags_any.unwrap_or_default(),
            search: filter.search,
        };
        let result = people::list(db(ctx), &scope, &filter, page).await.gql()?;
        if ctx
            .look_ahead()
            .field("edges")
            .field("node")
            .field("tags")
            .exists()
        {
            let ids: Vec<_> = result.items.iter().map(|p| p.id).collect();
            super::loaders::prime_tags(ctx, &ids).await?;
        }
        let mut connection = Connection::new(after.is_some(), result.has_next_page);
        connection.edges.extend(
            result
                .items
                .into_iter()
                .map(|p| Edge::new(encode_cursor(p.id), Person(p))),
        );
        Ok(connection)
    }

    /// One person of the organization, by global ID.
    async fn person(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Person> {
        let scope = org_scope(ctx, Scope::PeopleRead)?;
        let uuid = decode_id_of("id", NodeType::Person, &id)?;
        Ok(Person(people::get(db(ctx), &scope, uuid).await.gql()?))
    }
}
