//! Union organizing: workplaces (employers, worksites, nested units), each person's employment
//! with its history, organizing campaigns with their 1–5 assessment scale, each person's
//! standing in a campaign (current assessment, card and petition, leader) with every assessment
//! kept, typed relationships between people, and one-on-ones (a note with its organizing
//! detail).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::builder::{OnDelete, TableDef, bare_table, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn tables() -> Vec<TableDef> {
    use OnDelete::{Cascade, Restrict, SetNull};
    vec![
        table("employers")
            .tenant()
            .col(string("name"))
            .col(timestamp_with_time_zone("created_at"))
            .unique(&["organization_id", "name"]),
        table("worksites")
            .tenant()
            .fk("employer_id", "employers", false, Restrict)
            .col(string("name"))
            .col(text_null("address"))
            .col(timestamp_with_time_zone("created_at"))
            .unique(&["employer_id", "name"]),
        // A department, shift, floor or bargaining unit; units nest within one worksite.
        table("units")
            .tenant()
            .fk("worksite_id", "worksites", false, Restrict)
            .fk("parent_unit_id", "units", true, Restrict)
            .col(string("name"))
            .col(string("kind"))
            .col(timestamp_with_time_zone("created_at"))
            .unique(&["worksite_id", "name"]),
        // Current while `ended_on` is null; ended rows are the history.
        table("employments")
            .tenant()
            .fk("person_id", "people", false, Cascade)
            .fk("worksite_id", "worksites", false, Restrict)
            .fk("unit_id", "units", true, SetNull)
            .col(string_null("job_title"))
            .col(string_null("shift"))
            .col(date_null("started_on"))
            .col(date_null("ended_on"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at")),
        table("organizing_campaigns")
            .tenant()
            .col(string("name"))
            .col(integer("goal_percent"))
            // Five `{level, label, color}` entries, level 1 to 5.
            .col(json_binary("scale"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(timestamp_with_time_zone_null("archived_at"))
            .unique(&["organization_id", "name"]),
        // What a campaign covers: a whole worksite, or one unit and the units within it.
        table("campaign_targets")
            .tenant()
            .fk("campaign_id", "organizing_campaigns", false, Cascade)
            .fk("worksite_id", "worksites", true, Cascade)
            .fk("unit_id", "units", true, Cascade),
        // A person's standing in a campaign now; `assessments` keeps every change.
        bare_table("campaign_people")
            .tenant()
            .fk("campaign_id", "organizing_campaigns", false, Cascade)
            .fk("person_id", "people", false, Cascade)
            .col(small_integer_null("level"))
            .col(timestamp_with_time_zone_null("assessed_at"))
            .col(date_null("card_signed_on"))
            .col(date_null("petition_signed_on"))
            .col(boolean("leader").default(false))
            .col(timestamp_with_time_zone("updated_at"))
            .primary_key(&["campaign_id", "person_id"]),
        table("assessments")
            .tenant()
            .fk("campaign_id", "organizing_campaigns", false, Cascade)
            .fk("person_id", "people", false, Cascade)
            .col(small_integer("level"))
            .col(text_null("note"))
            .fk("assessed_by_user_id", "users", true, SetNull)
            .col(uuid_null("assessed_by_api_key_id"))
            .col(timestamp_with_time_zone("assessed_at"))
            .index(&["campaign_id", "assessed_at"]),
        // Directed: `from` is the social leader of / organizer of / recruited by … `to`.
        table("relationships")
            .tenant()
            .fk("from_person_id", "people", false, Cascade)
            .fk("to_person_id", "people", false, Cascade)
            .col(string("kind"))
            .col(text_null("note"))
            .fk("created_by_user_id", "users", true, SetNull)
            .col(timestamp_with_time_zone("created_at"))
            .unique(&["from_person_id", "to_person_id", "kind"]),
        // The organizing detail of a `one_on_one` note.
        table("one_on_ones")
            .tenant()
            .fk("note_id", "notes", false, Cascade)
            .fk("person_id", "people", false, Cascade)
            .fk("organizer_user_id", "users", true, SetNull)
            .fk("organizer_person_id", "people", true, SetNull)
            .fk("campaign_id", "organizing_campaigns", true, SetNull)
            .col(text_null("issue"))
            .col(small_integer_null("assessment_after"))
            .col(text_null("next_step"))
            .col(timestamp_with_time_zone("occurred_at"))
            .unique(&["note_id"]),
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
