//! Finding duplicate people and merging them.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use turnout_domain::auth::perm;
use turnout_domain::merge::{self, DuplicateReason};

use super::audit::request_context;
use super::context::{can, db};
use super::person::Person;
use crate::error::GqlResult;
use crate::ids::{NodeType, decode_id_of};

/// Why people were grouped as possible duplicates.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateMatch {
    /// The same email, ignoring case.
    Email,
    /// The same phone number.
    Phone,
    /// The same first and last name (ignoring case) and postal code.
    NameAndZip,
}

/// People who may be the same person.
#[derive(SimpleObject)]
pub struct DuplicateGroup {
    /// What they have in common.
    pub reason: DuplicateMatch,
    /// The people, oldest first.
    pub people: Vec<Person>,
}

/// Finding duplicates.
#[derive(Default)]
pub struct MergeQuery;

#[Object]
impl MergeQuery {
    /// Groups of active people who may be the same person (at most `first` groups per reason).
    #[graphql(complexity = "first.clamp(0, 100) as usize * 3 * child_complexity + 1")]
    async fn duplicate_people(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Most groups per reason (at most 100).")] first: i32,
    ) -> async_graphql::Result<Vec<DuplicateGroup>> {
        let scope = can::<perm::PeopleRead>(ctx)?;
        let limit = first.clamp(0, 100) as u64;
        Ok(merge::duplicates(db(ctx), &scope, limit)
            .await
            .gql()?
            .into_iter()
            .map(|g| DuplicateGroup {
                reason: match g.reason {
                    DuplicateReason::Email => DuplicateMatch::Email,
                    DuplicateReason::Phone => DuplicateMatch::Phone,
                    DuplicateReason::NameAndZip => DuplicateMatch::NameAndZip,
                },
                people: g.people.into_iter().map(Person::from).collect(),
            })
            .collect())
    }
}

/// Merging people. Needs `people:write`.
#[derive(Default)]
pub struct MergeMutation;

#[Object]
impl MergeMutation {
    /// Merge `removeId` into `keepId`: tags, RSVPs (for a shift both have, the better one
    /// stays), notes, tasks, form submissions, messages, referrals and the custom field values
    /// the kept person lacks move over; the kept person's empty fields are filled; the removed
    /// person is deleted; the merge is recorded and `person.merged` emitted. One transaction.
    async fn merge_people(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person who stays (global ID).")] keep_id: ID,
        #[graphql(desc = "The person merged into them and removed (global ID).")] remove_id: ID,
    ) -> async_graphql::Result<Person> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let keep = decode_id_of("keepId", NodeType::Person, &keep_id)?;
        let remove = decode_id_of("removeId", NodeType::Person, &remove_id)?;
        Ok(Person::from(
            merge::merge(db(ctx), &scope, &request_context(ctx), keep, remove)
                .await
                .gql()?,
        ))
    }
}
