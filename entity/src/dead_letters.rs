//! `SeaORM` Entity (hand-written after the pipeline migration)

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "dead_letters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Option<Uuid>,
    pub queue: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub job: Json,
    #[sea_orm(column_type = "Text")]
    pub error: String,
    pub attempts: i32,
    pub failed_at: DateTimeUtc,
    pub retry_requested_at: Option<DateTimeUtc>,
    pub retried_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
