//! Saved segments and tagging people, one or in bulk.

use async_graphql::{Context, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::auth::perm;
use turnout_domain::people_tags;
use turnout_domain::segments::{self, Segment as SegmentRow};

use super::audit::request_context;
use super::context::{can, db};
use super::person::{PeopleFilter, Person};
use crate::error::GqlResult;
use crate::ids::{NodeType, decode_id_of, global_id};

/// A named, saved people filter. Pass its ID as `filter.segmentId` anywhere a filter is taken.
pub struct Segment(pub SegmentRow);

#[Object]
impl Segment {
    /// The global ID of this segment.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Segment, self.0.row.id)
    }

    /// The segment's name, unique in the organization.
    async fn name(&self) -> &str {
        &self.0.row.name
    }

    /// The stored filter, as JSON (snake_case keys, UUIDs for ids).
    async fn filter(&self) -> Json<serde_json::Value> {
        Json(self.0.row.filter.clone())
    }

    /// When the segment was saved.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
}

/// How many rows a bulk change touched.
#[derive(SimpleObject)]
pub struct BulkResult {
    /// Taggings added or removed (a person already carrying a tag is not counted for it).
    pub count: u64,
}

/// Reading segments.
#[derive(Default)]
pub struct SegmentsQuery;

#[Object]
impl SegmentsQuery {
    /// The organization's saved segments, by name.
    async fn segments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Segment>> {
        let scope = can::<perm::PeopleRead>(ctx)?;
        Ok(segments::list(db(ctx), &scope)
            .await
            .gql()?
            .into_iter()
            .map(Segment)
            .collect())
    }

    /// One segment, by global ID.
    async fn segment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Segment> {
        let scope = can::<perm::PeopleRead>(ctx)?;
        let id = decode_id_of("id", NodeType::Segment, &id)?;
        Ok(Segment(segments::get(db(ctx), &scope, id).await.gql()?))
    }
}

/// Saving segments and tagging. Needs `people:write`.
#[derive(Default)]
pub struct SegmentsMutation;

#[Object]
impl SegmentsMutation {
    /// Save a filter under a name (unique in the organization).
    async fn create_segment(
        &self,
        ctx: &Context<'_>,
        name: String,
        filter: PeopleFilter,
    ) -> async_graphql::Result<Segment> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let filter = filter.into_domain()?;
        Ok(Segment(
            segments::create(db(ctx), &scope, &request_context(ctx), &name, filter)
                .await
                .gql()?,
        ))
    }

    /// Delete a saved segment.
    async fn delete_segment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let id = decode_id_of("id", NodeType::Segment, &id)?;
        segments::delete(db(ctx), &scope, &request_context(ctx), id)
            .await
            .gql()?;
        Ok(true)
    }

    /// Add tags (created when new) to one person.
    async fn add_tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's global ID.")] person_id: ID,
        tags: Vec<String>,
    ) -> async_graphql::Result<Person> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let id = decode_id_of("personId", NodeType::Person, &person_id)?;
        let db = db(ctx);
        people_tags::add(db, &scope, &request_context(ctx), id, &tags)
            .await
            .gql()?;
        Ok(Person::from(
            turnout_domain::person_write::reload(db, &scope, id)
                .await
                .gql()?,
        ))
    }

    /// Remove tags from one person.
    async fn remove_tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's global ID.")] person_id: ID,
        tags: Vec<String>,
    ) -> async_graphql::Result<Person> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let id = decode_id_of("personId", NodeType::Person, &person_id)?;
        let db = db(ctx);
        people_tags::remove(db, &scope, &request_context(ctx), id, &tags)
            .await
            .gql()?;
        Ok(Person::from(
            turnout_domain::person_write::reload(db, &scope, id)
                .await
                .gql()?,
        ))
    }

    /// Add tags to every active person the filter (or its segment) selects, in one
    /// statement per tag.
    async fn tag_people(
        &self,
        ctx: &Context<'_>,
        filter: PeopleFilter,
        tags: Vec<String>,
    ) -> async_graphql::Result<BulkResult> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let filter = filter.into_domain()?;
        let count =
            people_tags::add_by_filter(db(ctx), &scope, &request_context(ctx), &filter, &tags)
                .await
                .gql()?;
        Ok(BulkResult { count })
    }

    /// Remove tags from every active person the filter (or its segment) selects.
    async fn untag_people(
        &self,
        ctx: &Context<'_>,
        filter: PeopleFilter,
        tags: Vec<String>,
    ) -> async_graphql::Result<BulkResult> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let filter = filter.into_domain()?;
        let count =
            people_tags::remove_by_filter(db(ctx), &scope, &request_context(ctx), &filter, &tags)
                .await
                .gql()?;
        Ok(BulkResult { count })
    }
}
