//! `SeaORM` Entity: a change of a person's ladder stage or assessment.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "ladder_changes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub person_id: Uuid,
    /// `ladder_stage` or `assessment`.
    pub field: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key_id: Option<Uuid>,
    pub changed_at: DateTimeUtc,
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
