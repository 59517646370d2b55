//! DataLoaders for nested relations, made per request so their cache never crosses callers.

use std::collections::HashMap;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use turnout_domain::auth::{OrgScope, Principal, Scope};
use turnout_domain::db::Db;
use turnout_domain::people;
use uuid::Uuid;

use super::tag::Tag;
use crate::error::to_gql;

/// The tags of people, batched into one query per page.
pub struct TagsByPerson {
    db: Db,
    scope: OrgScope,
}

impl Loader<Uuid> for TagsByPerson {
    type Value = Vec<Tag>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let by_person = people::tags_of(&self.db, &self.scope, keys)
            .await
            .map_err(to_gql)?;
        Ok(by_person
            .into_iter()
            .map(|(id, tags)| (id, tags.into_iter().map(Tag).collect()))
            .collect())
    }
}

/// The loaders for a request by `principal`, as schema request data.
pub fn request_loaders(
    db: &Db,
    principal: &Principal,
) -> Option<DataLoader<TagsByPerson, HashMapCache>> {
    let scope = principal.scope(Scope::PeopleRead).ok()?;
    // A per-request cache: it lets a page prime the tags of all its people (`prime_tags`).
    Some(DataLoader::with_cache(
        TagsByPerson {
            db: db.clone(),
            scope,
        },
        tokio::spawn,
        HashMapCache::default(),
    ))
}

/// Loads the tags of a whole page in one query and hands them to the request's loader, so a
/// page's `Person.tags` never depends on the loader's batching window (which, on a busy
/// machine, can close before every person of the page has asked).
pub(crate) async fn prime_tags(ctx: &Context<'_>, ids: &[Uuid]) -> async_graphql::Result<()> {
    let Some(loader) = ctx.data_opt::<DataLoader<TagsByPerson, HashMapCache>>() else {
        return Ok(());
    };
    let mut by_person = loader.loader().load(ids).await?;
    loader
        .feed_many(
            ids.iter()
                .map(|id| (*id, by_person.remove(id).unwrap_or_default())),
        )
        .await;
    Ok(())
}
