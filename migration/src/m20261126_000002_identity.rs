//! Sessions and invitations: refresh tokens (opaque, stored hashed, rotated in families) and
//! one-time invitation tokens.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::builder::{OnDelete, TableDef, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tables() -> Vec<TableDef> {
    use OnDelete::{Cascade, SetNull};
    vec![
        // A refresh token is used once: its use marks it rotated and issues the next one in the
        // same family. A rotated token presented again revokes the whole family.
        table("refresh_tokens")
            .tenant()
            .fk("user_id", "users", false, Cascade)
            .col(uuid("family_id"))
            .col(string("token_hash"))
            .col(timestamp_with_time_zone("expires_at"))
            .col(timestamp_with_time_zone_null("rotated_at"))
            .col(timestamp_with_time_zone_null("revoked_at"))
            .col(timestamp_with_time_zone("created_at"))
            .unique(&["token_hash"])
            .index(&["family_id"]),
        // An invitation to join an organization with a role (and maybe only some chapters).
        table("invitations")
            .tenant()
            .col(string("email"))
            .col(string("role"))
            .col(json_binary("chapter_ids"))
            .col(string("token_hash"))
            .fk("invited_by_user_id", "users", true, SetNull)
            .col(timestamp_with_time_zone("expires_at"))
            .col(timestamp_with_time_zone_null("accepted_at"))
            .col(timestamp_with_time_zone("created_at"))
            .unique(&["token_hash"])
            .index(&["organization_id", "email"]),
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
