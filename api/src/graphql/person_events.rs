//! The event side of a person: their RSVPs and referrals (fields of `Person`).

use async_graphql::Context;
use async_graphql::connection::{Connection, Edge};
use turnout_domain::auth::perm;
use turnout_domain::people::PageRequest;
use turnout_domain::referrals;
use uuid::Uuid;

use super::context::{can, db};
use super::event::Rsvp;
use super::event_loaders::{ReferralCount, RsvpsOfPerson, loader};
use super::person::Person;
use crate::error::GqlResult;
use crate::ids::{decode_cursor, encode_cursor};

pub(crate) async fn rsvps(ctx: &Context<'_>, person_id: Uuid) -> async_graphql::Result<Vec<Rsvp>> {
    Ok(loader(ctx)?
        .load_one(RsvpsOfPerson(person_id))
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(Rsvp::new)
        .collect())
}

pub(crate) async fn referral_count(
    ctx: &Context<'_>,
    person_id: Uuid,
) -> async_graphql::Result<i32> {
    let n = loader(ctx)?
        .load_one(ReferralCount(person_id))
        .await?
        .unwrap_or(0);
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

/// The GraphQL name of a person's referrals (people lists have their own `PersonConnection`,
/// with totals).
pub struct ReferralConnectionName;

impl async_graphql::connection::ConnectionNameType for ReferralConnectionName {
    fn type_name<T: async_graphql::OutputType>() -> String {
        "ReferralConnection".to_owned()
    }
}

/// A page of the people someone referred.
pub type ReferralConnection = Connection<
    String,
    Person,
    async_graphql::connection::EmptyFields,
    async_graphql::connection::EmptyFields,
    ReferralConnectionName,
>;

pub(crate) async fn referrals(
    ctx: &Context<'_>,
    person_id: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<ReferralConnection> {
    let scope = can::<perm::PeopleRead>(ctx)?;
    let after = after
        .as_deref()
        .map(|c| decode_cursor("after", c))
        .transpose()?;
    let page = PageRequest::new(first, after).gql()?;
    let result = referrals::list(db(ctx), &scope, person_id, page)
        .await
        .gql()?;
    let mut connection = ReferralConnection::new(after.is_some(), result.has_next_page);
    connection.edges.extend(
        result
            .items
            .into_iter()
            .map(|p| Edge::new(encode_cursor(p.id), Person::from(p))),
    );
    Ok(connection)
}
