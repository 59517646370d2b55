//! `SeaORM` Entity (hand-written after the broadcasts migration)

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "broadcasts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub channel: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub audience: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub contents: Json,
    pub status: String,
    pub paused: bool,
    pub scheduled_at: Option<DateTimeUtc>,
    pub queued_at: Option<DateTimeUtc>,
    pub recipients: i32,
    pub created_by_user_id: Option<Uuid>,
    pub created_by_api_key_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
