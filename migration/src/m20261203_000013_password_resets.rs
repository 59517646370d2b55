//! Password resets: a one-time, short-lived token per request, stored hashed, emailed as a
//! link to `/reset/<token>`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::builder::{OnDelete, TableDef, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tables() -> Vec<TableDef> {
    vec![
        table("password_resets")
            .fk("user_id", "users", false, OnDelete::Cascade)
            .col(string("token_hash"))
            .col(timestamp_with_time_zone("expires_at"))
            .col(timestamp_with_time_zone_null("used_at"))
            .col(timestamp_with_time_zone("created_at"))
            .unique(&["token_hash"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_all(manager, tables()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, tables()).await
    }
}
