//! The CRM data model: tenants and identity, people and what is known about them, events and
//! shifts, forms, messaging, the domain-event outbox, plugins and automations, webhooks, audit.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::builder::{OnDelete, TableDef, bare_table, create_all, drop_all, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn created(t: TableDef) -> TableDef {
    t.col(timestamp_with_time_zone("created_at"))
}

fn created_updated(t: TableDef) -> TableDef {
    created(t).col(timestamp_with_time_zone("updated_at"))
}

fn tables() -> Vec<TableDef> {
    use OnDelete::{Cascade, Restrict, SetNull};
    vec![
        // --- tenants and identity ---
        created(
            table("organizations")
                .col(string("name"))
                .col(string("slug"))
                .unique(&["slug"]),
        ),
        created(
            table("chapters")
                .tenant()
                .col(string("name"))
                .col(string("slug"))
                .unique(&["organization_id", "slug"]),
        ),
        created(
            table("users")
                .col(string("email"))
                .col(string("name"))
                .col(string_null("password_hash"))
                .col(timestamp_with_time_zone_null("disabled_at"))
                .unique(&["email"]),
        ),
        created(
            table("memberships")
                .tenant()
                .fk("user_id", "users", false, Cascade)
                .col(string("role"))
                .unique(&["organization_id", "user_id"]),
        ),
        // A membership limited to chapters sees only those chapters; no rows means all chapters.
        bare_table("membership_chapters")
            .fk("membership_id", "memberships", false, Cascade)
            .fk("chapter_id", "chapters", false, Cascade)
            .primary_key(&["membership_id", "chapter_id"]),
        created(
            table("api_keys")
                .tenant()
                .col(string("name"))
                .col(string("prefix"))
                .col(string("secret_hash"))
                .col(json_binary("scopes"))
                .fk("created_by_user_id", "users", true, SetNull)
                .col(timestamp_with_time_zone_null("expires_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .unique(&["prefix"]),
        ),
        // --- people ---
        created_updated(
            table("people")
                .tenant()
                .fk("chapter_id", "chapters", true, SetNull)
                .col(string_null("first_name"))
                .col(string_null("last_name"))
                .col(string_null("email"))
                .col(string_null("phone"))
                .col(string_null("address_line1"))
                .col(string_null("address_line2"))
                .col(string_null("city"))
                .col(string_null("region"))
                .col(string_null("zip"))
                .col(string_null("country"))
                .col(string_null("preferred_language"))
                .col(string_null("time_zone"))
                .col(string_null("ladder_stage"))
                .col(small_integer_null("assessment"))
                .fk("point_person_user_id", "users", true, SetNull)
                .col(string("referral_code"))
                .fk("referred_by_person_id", "people", true, SetNull)
                .col(string_null("source"))
                .col(string_null("utm_source"))
                .col(string_null("utm_medium"))
                .col(string_null("utm_campaign"))
                .col(string_null("utm_term"))
                .col(string_null("utm_content"))
                .col(boolean("sms_consent").default(false))
                .col(timestamp_with_time_zone_null("sms_consent_at"))
                .col(string_null("sms_consent_source"))
                .col(boolean("email_consent").default(false))
                .col(timestamp_with_time_zone_null("email_consent_at"))
                .col(string_null("email_consent_source"))
                .col(boolean("whatsapp_consent").default(false))
                .col(timestamp_with_time_zone_null("whatsapp_consent_at"))
                .col(string_null("whatsapp_consent_source"))
                .col(timestamp_with_time_zone_null("archived_at"))
                // NULLs never collide in a unique index, on both backends: "where present".
                .unique(&["organization_id", "email"])
                .unique(&["organization_id", "phone"])
                .unique(&["organization_id", "referral_code"])
                .index(&["organization_id", "last_name", "first_name"])
                .index(&["organization_id", "zip"])
                .index(&["organization_id", "ladder_stage"])
                .index(&["organization_id", "created_at"]),
        ),
        created(
            table("custom_fields")
                .tenant()
                .col(string("key"))
                .col(string("label"))
                .col(string("field_type"))
                .col(json_binary("options"))
                .col(boolean("restricted").default(false))
                .unique(&["organization_id", "key"]),
        ),
        bare_table("custom_field_values")
            .tenant()
            .fk("person_id", "people", false, Cascade)
            .fk("custom_field_id", "custom_fields", false, Cascade)
            .col(json_binary("value"))
            .col(timestamp_with_time_zone("updated_at"))
            .primary_key(&["person_id", "custom_field_id"]),
        created(
            table("tags")
                .tenant()
                .col(string("name"))
                .unique(&["organization_id", "name"]),
        ),
        created(
            bare_table("taggings")
                .tenant()
                .fk("person_id", "people", false, Cascade)
                .fk("tag_id", "tags", false, Cascade)
                .primary_key(&["person_id", "tag_id"]),
        ),
        created(
            table("notes")
                .tenant()
                .fk("person_id", "people", false, Cascade)
                .fk("author_user_id", "users", true, SetNull)
                .col(string("kind"))
                .col(string_null("outcome"))
                .col(text("body"))
                .col(timestamp_with_time_zone("occurred_at")),
        ),
        created_updated(
            table("tasks")
                .tenant()
                .fk("person_id", "people", true, Cascade)
                .fk("assignee_user_id", "users", true, SetNull)
                .fk("created_by_user_id", "users", true, SetNull)
                .col(string("title"))
                .col(text_null("description"))
                .col(timestamp_with_time_zone_null("due_at"))
                .col(string("status"))
                .col(timestamp_with_time_zone_null("completed_at"))
                .index(&["organization_id", "status", "due_at"]),
        ),
        // --- events ---
        created_updated(
            table("events")
                .tenant()
                .fk("chapter_id", "chapters", true, SetNull)
                .col(string("title"))
                .col(text_null("description"))
                .col(string("time_zone"))
                .col(string_null("location"))
                .col(string_null("virtual_url"))
                .col(string("visibility"))
                .col(string("status"))
                .col(json_binary("reminder_offsets_minutes"))
                .index(&["organization_id", "status"]),
        ),
        created_updated(
            table("shifts")
                .tenant()
                .fk("event_id", "events", false, Cascade)
                .col(timestamp_with_time_zone("starts_at"))
                .col(timestamp_with_time_zone("ends_at"))
                .col(integer_null("capacity"))
                .col(string("host_token_hash"))
                .col(integer("sequence").default(0))
                .col(timestamp_with_time_zone_null("cancelled_at"))
                .unique(&["host_token_hash"])
                .index(&["starts_at"])
                .index(&["ends_at"]),
        ),
        created_updated(
            table("rsvps")
                .tenant()
                .fk("shift_id", "shifts", false, Cascade)
                .fk("person_id", "people", false, Cascade)
                .col(string("status"))
                .col(timestamp_with_time_zone_null("checked_in_at"))
                .fk("referrer_person_id", "people", true, SetNull)
                .col(string_null("utm_source"))
                .col(string_null("utm_medium"))
                .col(string_null("utm_campaign"))
                .col(string("public_token"))
                .unique(&["shift_id", "person_id"])
                .unique(&["public_token"])
                .index(&["shift_id", "status"]),
        ),
        // --- forms ---
        created_updated(
            table("forms")
                .tenant()
                .fk("chapter_id", "chapters", true, SetNull)
                .col(string("slug"))
                .col(string("title"))
                .col(json_binary("fields"))
                .col(json_binary("default_tags"))
                .col(text_null("consent_text"))
                .fk("event_id", "events", true, SetNull)
                .fk("shift_id", "shifts", true, SetNull)
                .col(timestamp_with_time_zone_null("archived_at"))
                // Public sign-up addresses a form by slug alone, so slugs are global.
                .unique(&["slug"]),
        ),
        created(
            table("form_submissions")
                .tenant()
                .fk("form_id", "forms", false, Cascade)
                .fk("person_id", "people", false, Cascade)
                .col(json_binary("payload"))
                .fk("referrer_person_id", "people", true, SetNull)
                .col(string_null("utm_source"))
                .col(string_null("utm_medium"))
                .col(string_null("utm_campaign"))
                .col(string_null("utm_term"))
                .col(string_null("utm_content"))
                .col(string_null("client_ip")),
        ),
        // --- messaging ---
        created_updated(
            table("messages")
                .tenant()
                .fk("person_id", "people", true, SetNull)
                .col(string("channel"))
                .col(string_null("template"))
                .col(string_null("language"))
                .col(string_null("subject"))
                .col(text("body"))
                .col(string("to_address"))
                .col(string("status"))
                .col(string_null("provider"))
                .col(string_null("provider_id"))
                .col(text_null("error"))
                .col(integer("attempts").default(0))
                .col(string_null("idempotency_key"))
                .col(timestamp_with_time_zone_null("send_after"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .unique(&["idempotency_key"])
                .index(&["status", "send_after"])
                .index(&["provider_id"]),
        ),
        // --- the transactional outbox ---
        table("domain_events")
            .tenant()
            .col(string("kind"))
            .col(string("subject_type"))
            .col(uuid("subject_id"))
            .col(json_binary("payload"))
            .col(timestamp_with_time_zone("occurred_at"))
            .fk("causation_id", "domain_events", true, SetNull)
            .col(integer("depth").default(0))
            .col(timestamp_with_time_zone_null("dispatched_at"))
            .index(&["dispatched_at"])
            .index(&["organization_id", "kind", "occurred_at"])
            .index(&["subject_id"]),
        // --- plugins and automations ---
        created(
            table("plugins")
                .tenant()
                .col(string("name"))
                .unique(&["organization_id", "name"]),
        ),
        created(
            table("plugin_versions")
                .tenant()
                .fk("plugin_id", "plugins", false, Cascade)
                .col(string("version"))
                .col(blob("component"))
                .col(string("sha256"))
                .col(string("contract_version"))
                .col(json_binary("manifest"))
                .unique(&["plugin_id", "version"])
                .index(&["sha256"]),
        ),
        created_updated(
            table("automations")
                .tenant()
                .col(string("name"))
                .fk("plugin_version_id", "plugin_versions", false, Restrict)
                .col(json_binary("trigger_kinds"))
                .col(json_binary_null("filter"))
                .col(json_binary("config"))
                .col(json_binary("granted_capabilities"))
                .col(boolean("enabled").default(true))
                .index(&["organization_id", "enabled"]),
        ),
        table("automation_runs")
            .tenant()
            .fk("automation_id", "automations", false, Cascade)
            .fk("event_id", "domain_events", true, SetNull)
            .col(string("status"))
            .col(json_binary("effects"))
            .col(json_binary("logs"))
            .col(big_integer("fuel_used").default(0))
            .col(big_integer("duration_us").default(0))
            .col(text_null("error"))
            .col(timestamp_with_time_zone("started_at"))
            .col(timestamp_with_time_zone_null("finished_at"))
            // The idempotency key of a run: one run per (automation, event).
            .unique(&["automation_id", "event_id"])
            .index(&["organization_id", "status", "started_at"]),
        // --- webhooks ---
        created_updated(
            table("webhook_endpoints")
                .tenant()
                .col(string("url"))
                .col(string("secret"))
                .col(json_binary("event_kinds"))
                .col(boolean("enabled").default(true))
                .col(integer("consecutive_failures").default(0))
                .col(timestamp_with_time_zone_null("disabled_at")),
        ),
        created(
            table("webhook_deliveries")
                .tenant()
                .fk("endpoint_id", "webhook_endpoints", false, Cascade)
                .fk("event_id", "domain_events", true, SetNull)
                .col(integer("attempts").default(0))
                .col(string("status"))
                .col(integer_null("response_code"))
                .col(text_null("response_body"))
                .col(text_null("error"))
                .col(timestamp_with_time_zone_null("next_attempt_at"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .index(&["status", "next_attempt_at"]),
        ),
        // --- audit ---
        table("audit_log")
            .tenant()
            .fk("actor_user_id", "users", true, SetNull)
            .fk("actor_api_key_id", "api_keys", true, SetNull)
            .col(string("action"))
            .col(string("object_type"))
            .col(uuid_null("object_id"))
            .col(json_binary("changes"))
            .col(string_null("client_ip"))
            .col(timestamp_with_time_zone("occurred_at"))
            .index(&["organization_id", "occurred_at"]),
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
