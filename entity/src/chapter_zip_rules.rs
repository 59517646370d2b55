//! `SeaORM` Entity, written in the style of sea-orm-codegen 2.0

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// A zip-code prefix that places new people in a chapter; one chapter per prefix in an
/// organization.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "chapter_zip_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub chapter_id: Uuid,
    /// Upper case, without spaces or dashes.
    pub prefix: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "crate::chapters::Entity",
        from = "Column::ChapterId",
        to = "crate::chapters::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Chapters,
}

impl Related<crate::chapters::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Chapters.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
