//! DataLoaders for nested relations, made per request so their cache never crosses callers.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
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
pub fn request_loaders(db: &Db, principal: &Principal) -> Option<DataLoader<TagsByPerson>> {
    let scope = principal.scope(Scope::PeopleRead).ok()?;
    Some(DataLoader::new(
        TagsByPerson {
            db: db.clone(),
            scope,
        },
        tokio::spawn,
    ))
}
