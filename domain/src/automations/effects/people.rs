//! Effects on people: tags, custom fields, ladder stage and assessment, point person.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    Set,
};
use serde_json::json;
use turnout_entity::{custom_field_values, custom_fields, taggings, tags as tag_rows};
use uuid::Uuid;

use super::{ApplyCtx, bounded, emit, is_member, person_in_org};
use crate::error::{DomainError, DomainResult};
use crate::outbox::DomainEvent;

pub(super) async fn add_tag(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    person_id: Uuid,
    tag: &str,
) -> DomainResult<()> {
    let tag = bounded("tag", tag, 100)?;
    person_in_org(tx, ctx, person_id).await?;
    let added =
        crate::tags::attach_by_name(tx, ctx.scope, person_id, std::slice::from_ref(&tag)).await?;
    // Already tagged: nothing changed, so nothing to announce.
    if added == 0 {
        return Ok(());
    }
    emit(tx, ctx, DomainEvent::PersonTagAdded { person_id, tag }).await?;
    Ok(())
}

pub(super) async fn remove_tag(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    person_id: Uuid,
    tag: &str,
) -> DomainResult<()> {
    let tag = bounded("tag", tag, 100)?;
    person_in_org(tx, ctx, person_id).await?;
    let Some(row) = tag_rows::Entity::find()
        .filter(tag_rows::Column::OrganizationId.eq(ctx.scope.org_id()))
        .filter(tag_rows::Column::Name.eq(&tag))
        .one(tx)
        .await?
    else {
        return Ok(());
    };
    let removed = taggings::Entity::delete_many()
        .filter(taggings::Column::PersonId.eq(person_id))
        .filter(taggings::Column::TagId.eq(row.id))
        .exec(tx)
        .await?
        .rows_affected;
    if removed > 0 {
        emit(tx, ctx, DomainEvent::PersonTagRemoved { person_id, tag }).await?;
    }
    Ok(())
}

pub(super) async fn set_custom_field(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    person_id: Uuid,
    key: &str,
    value: Option<&str>,
) -> DomainResult<()> {
    person_in_org(tx, ctx, person_id).await?;
    let field = custom_fields::Entity::find()
        .filter(custom_fields::Column::OrganizationId.eq(ctx.scope.org_id()))
        .filter(custom_fields::Column::Key.eq(key))
        .one(tx)
        .await?
        .ok_or_else(|| DomainError::validation("key", format!("no custom field `{key}`")))?;
    let existing = custom_field_values::Entity::find()
        .filter(custom_field_values::Column::PersonId.eq(person_id))
        .filter(custom_field_values::Column::CustomFieldId.eq(field.id))
        .one(tx)
        .await?;
    match (value, existing) {
        (None, None) => return Ok(()),
        (None, Some(row)) => {
            custom_field_values::Entity::delete_many()
                .filter(custom_field_values::Column::PersonId.eq(row.person_id))
                .filter(custom_field_values::Column::CustomFieldId.eq(row.custom_field_id))
                .exec(tx)
                .await?;
        }
        (Some(v), Some(row)) => {
            if row.value == json!(v) {
                return Ok(());
            }
            let mut row = row.into_active_model();
            row.value = Set(json!(v));
            row.updated_at = Set(Utc::now());
            row.update(tx).await?;
        }
        (Some(v), None) => {
            custom_field_values::ActiveModel {
                organization_id: Set(ctx.scope.org_id()),
                person_id: Set(person_id),
                custom_field_id: Set(field.id),
                value: Set(json!(v)),
                updated_at: Set(Utc::now()),
            }
            .insert(tx)
            .await?;
        }
    }
    emit(
        tx,
        ctx,
        DomainEvent::PersonCustomFieldSet {
            person_id,
            key: key.to_owned(),
            value: serde_json::json!(value),
        },
    )
    .await?;
    Ok(())
}

pub(super) async fn set_ladder_stage(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    person_id: Uuid,
    stage: &str,
) -> DomainResult<()> {
    let stage = bounded("stage", stage, 100)?;
    let person = person_in_org(tx, ctx, person_id).await?;
    if person.ladder_stage.as_deref() == Some(stage.as_str()) {
        return Ok(());
    }
    let from = person.ladder_stage.clone();
    let mut row = person.into_active_model();
    row.ladder_stage = Set(Some(stage.clone()));
    row.updated_at = Set(Utc::now());
    row.update(tx).await?;
    emit(
        tx,
        ctx,
        DomainEvent::PersonLadderStageChanged {
            person_id,
            from,
            to: Some(stage.to_owned()),
        },
    )
    .await?;
    Ok(())
}

pub(super) async fn set_assessment(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    person_id: Uuid,
    level: u8,
) -> DomainResult<()> {
    if !(1..=5).contains(&level) {
        return Err(DomainError::validation("level", "must be 1 to 5"));
    }
    let person = person_in_org(tx, ctx, person_id).await?;
    if person.assessment == Some(i16::from(level)) {
        return Ok(());
    }
    let mut row = person.into_active_model();
    row.assessment = Set(Some(i16::from(level)));
    row.updated_at = Set(Utc::now());
    row.update(tx).await?;
    emit(
        tx,
        ctx,
        DomainEvent::PersonAssessed {
            person_id,
            level: Some(level.into()),
            campaign_id: None,
            unit_id: None,
            unit_has_leader: None,
        },
    )
    .await?;
    Ok(())
}

pub(super) async fn assign_point_person(
    tx: &DatabaseTransaction,
    ctx: &ApplyCtx<'_>,
    person_id: Uuid,
    user_id: Uuid,
) -> DomainResult<()> {
    let person = person_in_org(tx, ctx, person_id).await?;
    if !is_member(tx, ctx, user_id).await? {
        return Err(DomainError::validation(
            "point_person_id",
            format!("{user_id} is not a user of this organization"),
        ));
    }
    if person.point_person_user_id == Some(user_id) {
        return Ok(());
    }
    let mut row = person.into_active_model();
    let now = Utc::now();
    row.point_person_user_id = Set(Some(user_id));
    row.point_person_assigned_at = Set(Some(now));
    row.updated_at = Set(now);
    row.update(tx).await?;
    emit(
        tx,
        ctx,
        DomainEvent::PersonPointPersonAssigned {
            person_id,
            point_person_user_id: user_id,
        },
    )
    .await?;
    Ok(())
}
