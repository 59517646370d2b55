//! DataLoaders for nested relations, made per request so their cache never crosses callers.
//! A page of people primes each relation its query asks for in one statement (see
//! [`prime_for_page`]), so a page costs a constant number of statements whatever its size.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::{Context, Lookahead};
use turnout_domain::auth::{Can, Permission, Principal, Scope, perm};
use turnout_domain::db::Db;
use uuid::Uuid;

use crate::error::to_gql;

/// One relation of people, batched: `fetch` loads the values of many people in one query,
/// under the permission `P` the relation needs.
pub struct ByPerson<T, P: Permission = perm::PeopleRead> {
    db: Db,
    scope: Can<P>,
    /// True when the caller may see restricted custom fields.
    restricted: bool,
    fetch: Fetch<T, P>,
}

type Fetch<T, P> =
    fn(
        Db,
        Can<P>,
        bool,
        Vec<Uuid>,
    )
        -> futures::future::BoxFuture<'static, turnout_domain::DomainResult<HashMap<Uuid, Vec<T>>>>;

impl<T: Clone + Send + Sync + 'static, P: Permission> Loader<Uuid> for ByPerson<T, P> {
    type Value = Vec<T>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        (self.fetch)(
            self.db.clone(),
            self.scope.clone(),
            self.restricted,
            keys.to_vec(),
        )
        .await
        .map_err(to_gql)
    }
}

pub type PersonLoader<T, P = perm::PeopleRead> = DataLoader<ByPerson<T, P>, HashMapCache>;

/// The loaders of one request.
pub struct RequestLoaders {
    pub tags: PersonLoader<turnout_entity::tags::Model>,
    pub notes: PersonLoader<turnout_entity::notes::Model>,
    pub tasks: PersonLoader<turnout_entity::tasks::Model>,
    pub custom_fields: PersonLoader<turnout_domain::custom_fields::PersonValue>,
    pub ladder_history: PersonLoader<turnout_entity::ladder_changes::Model>,
    /// `None` unless the caller holds `organizing:read`.
    pub organizing: Option<OrganizingLoaders>,
}

/// The organizing relations of people, for callers holding `organizing:read`.
pub struct OrganizingLoaders {
    pub employments: PersonLoader<turnout_entity::employments::Model, perm::OrganizingRead>,
    pub standings: PersonLoader<turnout_entity::campaign_people::Model, perm::OrganizingRead>,
    pub relationships: PersonLoader<turnout_entity::relationships::Model, perm::OrganizingRead>,
    pub one_on_ones: PersonLoader<OneOnOneRow, perm::OrganizingRead>,
}

/// A one-on-one with its note, as the loader caches it.
pub type OneOnOneRow = std::sync::Arc<turnout_domain::organizing::one_on_ones::OneOnOne>;

fn loader<T: Clone + Send + Sync + 'static, P: Permission>(
    db: &Db,
    scope: &Can<P>,
    restricted: bool,
    fetch: Fetch<T, P>,
) -> PersonLoader<T, P> {
    // A per-request cache: it lets a page prime the relations of all its people.
    DataLoader::with_cache(
        ByPerson {
            db: db.clone(),
            scope: scope.clone(),
            restricted,
            fetch,
        },
        tokio::spawn,
        HashMapCache::default(),
    )
}

/// The loaders for a request by `principal`, as schema request data.
pub fn request_loaders(db: &Db, principal: &Principal) -> Option<RequestLoaders> {
    let scope = principal.can::<perm::PeopleRead>().ok()?;
    let restricted = principal.has(Scope::PeopleRestricted);
    Some(RequestLoaders {
        tags: loader(db, &scope, restricted, |db, scope, _, ids| {
            Box::pin(async move { turnout_domain::people::tags_of(&db, &scope, &ids).await })
        }),
        notes: loader(db, &scope, restricted, |db, scope, _, ids| {
            Box::pin(async move { turnout_domain::notes::of_people(&db, &scope, &ids).await })
        }),
        tasks: loader(db, &scope, restricted, |db, scope, _, ids| {
            Box::pin(async move { turnout_domain::tasks::of_people(&db, &scope, &ids).await })
        }),
        custom_fields: loader(db, &scope, restricted, |db, scope, restricted, ids| {
            Box::pin(async move {
                let access = turnout_domain::custom_fields::RestrictedAccess(restricted);
                turnout_domain::custom_fields::values_of(&db, &scope, access, &ids).await
            })
        }),
        ladder_history: loader(db, &scope, restricted, |db, scope, _, ids| {
            Box::pin(async move { turnout_domain::ladder::history_of(&db, &scope, &ids).await })
        }),
        organizing: principal
            .can::<perm::OrganizingRead>()
            .ok()
            .map(|scope| organizing_loaders(db, &scope)),
    })
}

fn organizing_loaders(db: &Db, scope: &Can<perm::OrganizingRead>) -> OrganizingLoaders {
    use turnout_domain::organizing::{employment, one_on_ones, relationships, standing};
    OrganizingLoaders {
        employments: loader(db, scope, false, |db, scope, _, ids| {
            Box::pin(async move { employment::of_people(&db, &scope, &ids).await })
        }),
        standings: loader(db, scope, false, |db, scope, _, ids| {
            Box::pin(async move { standing::of_people(&db, &scope, &ids).await })
        }),
        relationships: loader(db, scope, false, |db, scope, _, ids| {
            Box::pin(async move { relationships::of_people(&db, &scope, &ids).await })
        }),
        one_on_ones: loader(db, scope, false, |db, scope, _, ids| {
            Box::pin(async move {
                Ok(one_on_ones::of_people(&db, &scope, &ids)
                    .await?
                    .into_iter()
                    .map(|(k, v)| (k, v.into_iter().map(std::sync::Arc::new).collect()))
                    .collect())
            })
        }),
    }
}

/// The request's organizing loaders, or `FORBIDDEN` without `organizing:read`.
pub(crate) fn organizing_loaders_of<'a>(
    ctx: &Context<'a>,
) -> async_graphql::Result<&'a OrganizingLoaders> {
    loaders(ctx)?.organizing.as_ref().ok_or_else(|| {
        to_gql(turnout_domain::DomainError::Forbidden(
            "reading organizing data needs the `organizing:read` scope".into(),
        ))
    })
}

/// The request's loaders, or `FORBIDDEN` when the caller may not read people.
pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a RequestLoaders> {
    ctx.data_opt::<RequestLoaders>().ok_or_else(|| {
        to_gql(turnout_domain::DomainError::Forbidden(
            "reading this needs `people:read`".into(),
        ))
    })
}

/// Loads a relation of a whole page in one query and hands it to the request's loader, so a
/// page's nested fields never depend on the loader's batching window (which, on a busy
/// machine, can close before every person of the page has asked).
async fn prime<T: Clone + Send + Sync + 'static>(
    loader: &PersonLoader<T>,
    ids: &[Uuid],
) -> async_graphql::Result<()> {
    let mut by_person = loader.loader().load(ids).await?;
    loader
        .feed_many(
            ids.iter()
                .map(|id| (*id, by_person.remove(id).unwrap_or_default())),
        )
        .await;
    Ok(())
}

/// Primes, for the people `ids` of a page, each relation that `node` (the person selection)
/// asks for.
pub(crate) async fn prime_for_page(
    ctx: &Context<'_>,
    node: &Lookahead<'_>,
    ids: &[Uuid],
) -> async_graphql::Result<()> {
    let Some(loaders) = ctx.data_opt::<RequestLoaders>() else {
        return Ok(());
    };
    if ids.is_empty() {
        return Ok(());
    }
    if node.field("tags").exists() {
        prime(&loaders.tags, ids).await?;
    }
    if node.field("notes").exists() {
        prime(&loaders.notes, ids).await?;
    }
    if node.field("tasks").exists() {
        prime(&loaders.tasks, ids).await?;
    }
    if node.field("customFields").exists() {
        prime(&loaders.custom_fields, ids).await?;
    }
    if node.field("ladderHistory").exists() {
        prime(&loaders.ladder_history, ids).await?;
    }
    Ok(())
}
