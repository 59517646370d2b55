//! Chapters nest (a region and the chapters in it: `parent_id`) and can be archived; zip-code
//! rules place new people in a chapter (`chapter_zip_rules`, one chapter per prefix in an
//! organization, the longest matching prefix wins).
//!
//! A member can be disabled in one organization (`memberships.disabled_at`): they keep their
//! role, chapters and assignments but cannot sign in to it until enabled again. The account
//! itself (`users.disabled_at`) is the deployment's, not an organization's, to disable.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::builder::{OnDelete, TableDef, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Chapters {
    Table,
    ParentId,
    ArchivedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    DisabledAt,
}

fn tables() -> Vec<TableDef> {
    vec![
        table("chapter_zip_rules")
            .tenant()
            .fk("chapter_id", "chapters", false, OnDelete::Cascade)
            // Upper case, without spaces or dashes: `K1A 0B1` and `k1a0b1` are one code.
            .col(string("prefix"))
            .col(timestamp_with_time_zone("created_at"))
            .unique(&["organization_id", "prefix"]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE. Chapters are never deleted, so the parent
        // needs no constraint of its own; the domain refuses cycles and other organizations'.
        for column in [
            uuid_null(Chapters::ParentId),
            timestamp_with_time_zone_null(Chapters::ArchivedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Chapters::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Memberships::Table)
                    .add_column(timestamp_with_time_zone_null(Memberships::DisabledAt))
                    .to_owned(),
            )
            .await?;
        create_all(manager, tables()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_all(manager, tables()).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Memberships::Table)
                    .drop_column(Memberships::DisabledAt)
                    .to_owned(),
            )
            .await?;
        for column in [Chapters::ArchivedAt, Chapters::ParentId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Chapters::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
