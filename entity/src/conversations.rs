//! `SeaORM` Entity, written in the style of sea-orm-codegen 2.0

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A person's conversation with the organization: one per person, made by their first reply.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub person_id: Uuid,
    pub assigned_user_id: Option<Uuid>,
    /// Replies since a member last read it.
    pub unread_count: i32,
    pub last_message_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "crate::people::Entity",
        from = "Column::PersonId",
        to = "crate::people::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    People,
}

impl Related<crate::people::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::People.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
