//! `SeaORM` Entity: a CSV import of people.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "import_jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub status: String,
    pub dry_run: bool,
    pub dedupe: String,
    pub total_rows: i32,
    pub created_count: i32,
    pub updated_count: i32,
    pub skipped_count: i32,
    pub error_count: i32,
    #[sea_orm(column_type = "JsonBinary")]
    pub errors: Json,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
