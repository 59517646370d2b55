//! `SeaORM` Entity, written in the style of sea-orm-codegen 2.0

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An SMS or WhatsApp message a person sent to the organization.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "inbound_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub person_id: Uuid,
    pub channel: String,
    pub from_address: String,
    pub to_address: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub provider_id: Option<String>,
    pub received_at: DateTimeUtc,
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
