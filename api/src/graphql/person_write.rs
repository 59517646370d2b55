//! Writing people: create, partial update, archive and unarchive.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use turnout_domain::auth::perm;
use turnout_domain::person_write::{self, Patch, PersonPatch};

use super::audit::request_context;
use super::context::{can, db};
use super::person::Person;
use crate::error::GqlResult;
use crate::ids::{NodeType, decode_id_of};

/// A person's fields. On `updatePerson`, a field left out stays as it is and `null` clears it.
#[derive(InputObject, Default)]
pub struct PersonInput {
    /// Given name.
    pub first_name: MaybeUndefined<String>,
    /// Family name.
    pub last_name: MaybeUndefined<String>,
    /// Email address; unique in the organization (a taken one is a `CONFLICT`).
    pub email: MaybeUndefined<String>,
    /// Phone number, international or US national form; stored as E.164. Unique in the
    /// organization.
    pub phone: MaybeUndefined<String>,
    /// Street address, first line.
    pub address_line1: MaybeUndefined<String>,
    /// Street address, second line.
    pub address_line2: MaybeUndefined<String>,
    /// City.
    pub city: MaybeUndefined<String>,
    /// State, province or region.
    pub region: MaybeUndefined<String>,
    /// Postal code.
    pub zip: MaybeUndefined<String>,
    /// Country.
    pub country: MaybeUndefined<String>,
    /// Preferred language, a BCP 47 tag (`en`, `es-MX`).
    pub preferred_language: MaybeUndefined<String>,
    /// IANA time zone (`America/New_York`).
    pub time_zone: MaybeUndefined<String>,
    /// The chapter (its UUID). A caller limited to chapters must name one of theirs.
    pub chapter_id: MaybeUndefined<ID>,
    /// Stage on the ladder of engagement (lowercased); changes are kept in `ladderHistory`.
    pub ladder_stage: MaybeUndefined<String>,
    /// Assessment, 1 (low) to 5 (high); changes are kept in `ladderHistory`.
    pub assessment: MaybeUndefined<i16>,
    /// The organizer responsible for this person (a user's UUID, a member of the organization).
    pub point_person_user_id: MaybeUndefined<ID>,
    /// The person who referred this one (global ID).
    pub referred_by_id: MaybeUndefined<ID>,
    /// How the person arrived, e.g. `event:rally`.
    pub source: MaybeUndefined<String>,
    /// Consent to text messages (needs a phone). Recorded with the time and source `staff`.
    pub sms_consent: Option<bool>,
    /// Consent to email (needs an email).
    pub email_consent: Option<bool>,
    /// Consent to WhatsApp messages (needs a phone).
    pub whatsapp_consent: Option<bool>,
}

fn patch<T>(v: MaybeUndefined<T>) -> Patch<T> {
    match v {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(v) => Patch::Set(v),
    }
}

fn uuid_patch(field: &str, v: MaybeUndefined<ID>) -> async_graphql::Result<Patch<uuid::Uuid>> {
    Ok(match v {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(id) => Patch::Set(crate::ids::parse_uuid(field, &id)?),
    })
}

impl PersonInput {
    fn into_domain(self) -> async_graphql::Result<PersonPatch> {
        Ok(PersonPatch {
            first_name: patch(self.first_name),
            last_name: patch(self.last_name),
            email: patch(self.email),
            phone: patch(self.phone),
            address_line1: patch(self.address_line1),
            address_line2: patch(self.address_line2),
            city: patch(self.city),
            region: patch(self.region),
            zip: patch(self.zip),
            country: patch(self.country),
            preferred_language: patch(self.preferred_language),
            time_zone: patch(self.time_zone),
            chapter_id: uuid_patch("input.chapterId", self.chapter_id)?,
            ladder_stage: patch(self.ladder_stage),
            assessment: patch(self.assessment),
            point_person_user_id: uuid_patch("input.pointPersonUserId", self.point_person_user_id)?,
            referred_by_person_id: match self.referred_by_id {
                MaybeUndefined::Undefined => Patch::Keep,
                MaybeUndefined::Null => Patch::Clear,
                MaybeUndefined::Value(id) => {
                    Patch::Set(decode_id_of("input.referredById", NodeType::Person, &id)?)
                }
            },
            source: patch(self.source),
            sms_consent: self.sms_consent,
            email_consent: self.email_consent,
            whatsapp_consent: self.whatsapp_consent,
        })
    }
}

/// Creating and changing people. Needs `people:write`.
#[derive(Default)]
pub struct PersonWriteMutation;

#[Object]
impl PersonWriteMutation {
    /// Add a person. They need an email or a phone; both are unique in the organization.
    async fn create_person(
        &self,
        ctx: &Context<'_>,
        input: PersonInput,
    ) -> async_graphql::Result<Person> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let input = input.into_domain()?;
        Ok(Person::from(
            person_write::create(db(ctx), &scope, &request_context(ctx), &input)
                .await
                .gql()?,
        ))
    }

    /// Change some of a person's fields: those left out stay, `null` clears.
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's global ID.")] id: ID,
        input: PersonInput,
    ) -> async_graphql::Result<Person> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let id = decode_id_of("id", NodeType::Person, &id)?;
        let input = input.into_domain()?;
        Ok(Person::from(
            person_write::update(db(ctx), &scope, &request_context(ctx), id, &input)
                .await
                .gql()?,
        ))
    }

    /// Archive a person: they leave lists and exports but keep their history.
    async fn archive_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's global ID.")] id: ID,
    ) -> async_graphql::Result<Person> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let id = decode_id_of("id", NodeType::Person, &id)?;
        Ok(Person::from(
            person_write::set_archived(db(ctx), &scope, &request_context(ctx), id, true)
                .await
                .gql()?,
        ))
    }

    /// Bring an archived person back into lists.
    async fn unarchive_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's global ID.")] id: ID,
    ) -> async_graphql::Result<Person> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let id = decode_id_of("id", NodeType::Person, &id)?;
        Ok(Person::from(
            person_write::set_archived(db(ctx), &scope, &request_context(ctx), id, false)
                .await
                .gql()?,
        ))
    }
}
