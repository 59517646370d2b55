//! `SeaORM` Entity (hand-written after the organizing migration)

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "assessments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub campaign_id: Uuid,
    pub person_id: Uuid,
    pub level: i16,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub assessed_by_user_id: Option<Uuid>,
    pub assessed_by_api_key_id: Option<Uuid>,
    pub assessed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
