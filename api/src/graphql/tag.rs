use async_graphql::{ID, Object};
use chrono::{DateTime, Utc};
use turnout_entity::tags;

use crate::ids::{NodeType, global_id};

/// A label on people ("volunteer", "precinct captain"), unique by name in an organization.
#[derive(Clone)]
pub struct Tag(pub tags::Model);

#[Object]
impl Tag {
    /// The global ID of this tag.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Tag, self.0.id)
    }

    /// The tag's name, unique within the organization.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// When the tag was first used.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
