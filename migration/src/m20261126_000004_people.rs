//! The people side of organizing: the history of ladder stage and assessment changes, merges of
//! duplicate people, saved segments (named filters) and CSV import jobs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::builder::{OnDelete, TableDef, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tables() -> Vec<TableDef> {
    use OnDelete::{Cascade, SetNull};
    vec![
        // One row per change of a person's ladder stage or assessment: who, when, from, to.
        table("ladder_changes")
            .tenant()
            .fk("person_id", "people", false, Cascade)
            .col(string("field"))
            .col(string_null("from_value"))
            .col(string_null("to_value"))
            .fk("actor_user_id", "users", true, SetNull)
            .fk("actor_api_key_id", "api_keys", true, SetNull)
            .col(timestamp_with_time_zone("changed_at"))
            .index(&["person_id", "changed_at"]),
        // A merge of two people: the kept one, the removed one's id and its last state.
        table("person_merges")
            .tenant()
            .fk("kept_person_id", "people", false, Cascade)
            .col(uuid("removed_person_id"))
            .col(json_binary("removed_snapshot"))
            .col(json_binary("moved"))
            .fk("actor_user_id", "users", true, SetNull)
            .fk("actor_api_key_id", "api_keys", true, SetNull)
            .col(timestamp_with_time_zone("merged_at"))
            .index(&["removed_person_id"]),
        // A named, stored people filter.
        table("segments")
            .tenant()
            .col(string("name"))
            .col(json_binary("filter"))
            .fk("created_by_user_id", "users", true, SetNull)
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .unique(&["organization_id", "name"]),
        // A CSV import of people and what it did (or, for a dry run, would do).
        table("import_jobs")
            .tenant()
            .col(string("status"))
            .col(boolean("dry_run"))
            .col(string("dedupe"))
            .col(integer("total_rows"))
            .col(integer("created_count"))
            .col(integer("updated_count"))
            .col(integer("skipped_count"))
            .col(integer("error_count"))
            .col(json_binary("errors"))
            .fk("actor_user_id", "users", true, SetNull)
            .fk("actor_api_key_id", "api_keys", true, SetNull)
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone_null("finished_at"))
            .index(&["organization_id", "created_at"]),
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
