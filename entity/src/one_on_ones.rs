//! `SeaORM` Entity (hand-written after the organizing migration)

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "one_on_ones")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub note_id: Uuid,
    pub person_id: Uuid,
    pub organizer_user_id: Option<Uuid>,
    pub organizer_person_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub issue: Option<String>,
    pub assessment_after: Option<i16>,
    #[sea_orm(column_type = "Text", nullable)]
    pub next_step: Option<String>,
    pub occurred_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
