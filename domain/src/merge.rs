//! Duplicates and merges. The finder groups people with the same email (case-insensitive), the
//! same phone, or the same first and last name and postal code. A merge moves everything of the
//! removed person onto the kept one, fills the kept person's empty fields, records the merge,
//! deletes the removed person and emits `person.merged`, all in one transaction.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use turnout_entity::{
    custom_field_values, form_submissions, ladder_changes, messages, notes, people, person_merges,
    rsvps, taggings, tasks,
};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::outbox;
use crate::people::visible;
use crate::person_write::find_in;

/// Why people were grouped as possible duplicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicateReason {
    Email,
    Phone,
    NameAndZip,
}

#[derive(Clone, Debug)]
pub struct DuplicateGroup {
    pub reason: DuplicateReason,
    pub people: Vec<people::Model>,
}

fn lower(col: people::Column) -> SimpleExpr {
    Func::lower(Expr::col((people::Entity, col))).into()
}

/// Groups of active people who may be the same person, at most `limit` groups per reason.
pub async fn duplicates(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    limit: u64,
) -> DomainResult<Vec<DuplicateGroup>> {
    let base = || visible(scope).add(people::Column::ArchivedAt.is_null());
    let mut groups = Vec::new();
    // Same email, ignoring case; same phone.
    for (reason, key) in [
        (DuplicateReason::Email, lower(people::Column::Email)),
        (
            DuplicateReason::Phone,
            Expr::col((people::Entity, people::Column::Phone)),
        ),
    ] {
        let keys: Vec<String> = people::Entity::find()
            .select_only()
            .expr_as(key.clone(), "k")
            .filter(base().add(key.clone().is_not_null()))
            .group_by(key.clone())
            .having(Expr::col(people::Column::Id).count().gt(1))
            .order_by(key.clone(), sea_orm::Order::Asc)
            .limit(limit)
            .into_tuple()
            .all(db.conn())
            .await?;
        if keys.is_empty() {
            continue;
        }
        let rows = people::Entity::find()
            .filter(base().add(key.clone().is_in(keys.clone())))
            .order_by_asc(people::Column::Id)
            .all(db.conn())
            .await?;
        let mut by_key: HashMap<String, Vec<people::Model>> = HashMap::new();
        for p in rows {
            let k = match reason {
                DuplicateReason::Email => p.email.as_deref().map(str::to_lowercase),
                _ => p.phone.clone(),
            };
            if let Some(k) = k {
                by_key.entry(k).or_default().push(p);
            }
        }
        for k in keys {
            if let Some(people) = by_key.remove(&k) {
                groups.push(DuplicateGroup { reason, people });
            }
        }
    }
    // Same first name, last name (ignoring case) and zip.
    let (first, last) = (
        lower(people::Column::FirstName),
        lower(people::Column::LastName),
    );
    let zip: SimpleExpr = Expr::col((people::Entity, people::Column::Zip));
    let keys: Vec<(String, String, String)> = people::Entity::find()
        .select_only()
        .expr_as(first.clone(), "f")
        .expr_as(last.clone(), "l")
        .expr_as(zip.clone(), "z")
        .filter(
            base()
                .add(first.clone().is_not_null())
                .add(last.clone().is_not_null())
                .add(zip.clone().is_not_null()),
        )
        .group_by(first.clone())
        .group_by(last.clone())
        .group_by(zip.clone())
        .having(Expr::col(people::Column::Id).count().gt(1))
        .order_by(last.clone(), sea_orm::Order::Asc)
        .order_by(first.clone(), sea_orm::Order::Asc)
        .limit(limit)
        .into_tuple()
        .all(db.conn())
        .await?;
    for (f, l, z) in keys {
        let people = people::Entity::find()
            .filter(
                base()
                    .add(first.clone().eq(f))
                    .add(last.clone().eq(l))
                    .add(zip.clone().eq(z)),
            )
            .order_by_asc(people::Column::Id)
            .all(db.conn())
            .await?;
        if people.len() > 1 {
            groups.push(DuplicateGroup {
                reason: DuplicateReason::NameAndZip,
                people,
            });
        }
    }
    Ok(groups)
}

/// How good an RSVP is, to keep the better of two for the same shift.
fn rsvp_rank(r: &rsvps::Model) -> u8 {
    if r.checked_in_at.is_some() {
        return 10;
    }
    match r.status.as_str() {
        "attended" => 9,
        "confirmed" => 8,
        "waitlisted" => 6,
        "no_show" => 4,
        "cancelled" => 2,
        _ => 5,
    }
}

async fn move_column<C: ConnectionTrait, E: EntityTrait>(
    conn: &C,
    col: E::Column,
    org_id: Uuid,
    org_col: E::Column,
    from: Uuid,
    to: Uuid,
) -> DomainResult<u64>
where
    E::Column: ColumnTrait,
{
    Ok(E::update_many()
        .col_expr(col, Expr::value(to))
        .filter(org_col.eq(org_id))
        .filter(col.eq(from))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Merges `remove_id` into `keep_id` and returns the kept person.
pub async fn merge(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    keep_id: Uuid,
    remove_id: Uuid,
) -> DomainResult<people::Model> {
    if keep_id == remove_id {
        return Err(DomainError::validation(
            "removeId",
            "cannot merge a person with themselves",
        ));
    }
    let tx = db.begin_write().await?;
    let keep = find_in(&tx, scope, keep_id).await?;
    let remove = find_in(&tx, scope, remove_id).await?;
    let org = scope.org_id();
    let mut moved: HashMap<&str, u64> = HashMap::new();

    // Tags: copy what the kept person lacks; the rest goes with the removed person.
    let copy = Query::select()
        .column(taggings::Column::OrganizationId)
        .expr(Expr::val(keep_id))
        .column(taggings::Column::TagId)
        .column(taggings::Column::CreatedAt)
        .from(taggings::Entity)
        .and_where(Expr::col(taggings::Column::PersonId).eq(remove_id))
        .to_owned();
    moved.insert(
        "taggings",
        crate::tags::insert_taggings_from(&tx, copy).await?,
    );

    moved.insert("rsvps", merge_rsvps(&tx, org, keep_id, remove_id).await?);
    moved.insert(
        "notes",
        move_column::<_, notes::Entity>(
            &tx,
            notes::Column::PersonId,
            org,
            notes::Column::OrganizationId,
            remove_id,
            keep_id,
        )
        .await?,
    );
    moved.insert(
        "tasks",
        move_column::<_, tasks::Entity>(
            &tx,
            tasks::Column::PersonId,
            org,
            tasks::Column::OrganizationId,
            remove_id,
            keep_id,
        )
        .await?,
    );
    moved.insert(
        "form_submissions",
        move_column::<_, form_submissions::Entity>(
            &tx,
            form_submissions::Column::PersonId,
            org,
            form_submissions::Column::OrganizationId,
            remove_id,
            keep_id,
        )
        .await?,
    );
    move_column::<_, form_submissions::Entity>(
        &tx,
        form_submissions::Column::ReferrerPersonId,
        org,
        form_submissions::Column::OrganizationId,
        remove_id,
        keep_id,
    )
    .await?;
    move_column::<_, rsvps::Entity>(
        &tx,
        rsvps::Column::ReferrerPersonId,
        org,
        rsvps::Column::OrganizationId,
        remove_id,
        keep_id,
    )
    .await?;
    moved.insert(
        "messages",
        move_column::<_, messages::Entity>(
            &tx,
            messages::Column::PersonId,
            org,
            messages::Column::OrganizationId,
            remove_id,
            keep_id,
        )
        .await?,
    );
    moved.insert(
        "inbound_messages",
        crate::messaging::inbox::merge(&tx, org, keep_id, remove_id).await?,
    );
    move_column::<_, ladder_changes::Entity>(
        &tx,
        ladder_changes::Column::PersonId,
        org,
        ladder_changes::Column::OrganizationId,
        remove_id,
        keep_id,
    )
    .await?;
    move_column::<_, person_merges::Entity>(
        &tx,
        person_merges::Column::KeptPersonId,
        org,
        person_merges::Column::OrganizationId,
        remove_id,
        keep_id,
    )
    .await?;
    // People the removed person referred are now the kept person's referrals.
    moved.insert(
        "referrals",
        people::Entity::update_many()
            .col_expr(people::Column::ReferredByPersonId, Expr::value(keep_id))
            .filter(people::Column::OrganizationId.eq(org))
            .filter(people::Column::ReferredByPersonId.eq(remove_id))
            .filter(people::Column::Id.ne(keep_id))
            .exec(&tx)
            .await?
            .rows_affected,
    );
    // Custom field values the kept person has none of.
    let kept_fields = Query::select()
        .column(custom_field_values::Column::CustomFieldId)
        .from(custom_field_values::Entity)
        .and_where(Expr::col(custom_field_values::Column::PersonId).eq(keep_id))
        .to_owned();
    moved.insert(
        "custom_field_values",
        custom_field_values::Entity::update_many()
            .col_expr(custom_field_values::Column::PersonId, Expr::value(keep_id))
            .filter(custom_field_values::Column::PersonId.eq(remove_id))
            .filter(custom_field_values::Column::CustomFieldId.not_in_subquery(kept_fields))
            .exec(&tx)
            .await?
            .rows_affected,
    );

    // The removed person goes (what was not moved goes with them), then the kept person takes
    // the fields they lacked (email and phone are unique, hence this order).
    let snapshot = serde_json::to_value(&remove).map_err(DomainError::internal)?;
    people::Entity::delete_by_id(remove_id).exec(&tx).await?;
    let kept = fill_from(&tx, keep, &remove).await?;

    let (user, key) = scope.actor_ids();
    person_merges::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org),
        kept_person_id: Set(keep_id),
        removed_person_id: Set(remove_id),
        removed_snapshot: Set(snapshot),
        moved: Set(json!(moved)),
        actor_user_id: Set(user),
        actor_api_key_id: Set(key),
        merged_at: Set(Utc::now()),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "person.merge",
        "person",
        Some(keep_id),
        &["merged_person_id"],
    )
    .await?;
    outbox::record(
        &tx,
        scope,
        outbox::DomainEvent::PersonMerged {
            person_id: keep_id,
            removed_person_id: remove_id,
            moved: json!(moved),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(kept)
}

/// Moves the removed person's RSVPs; for a shift both have, the better RSVP is kept.
async fn merge_rsvps(
    tx: &DatabaseTransaction,
    org: Uuid,
    keep_id: Uuid,
    remove_id: Uuid,
) -> DomainResult<u64> {
    let rows = rsvps::Entity::find()
        .filter(rsvps::Column::OrganizationId.eq(org))
        .filter(rsvps::Column::PersonId.is_in([keep_id, remove_id]))
        .all(tx)
        .await?;
    let kept: HashMap<Uuid, &rsvps::Model> = rows
        .iter()
        .filter(|r| r.person_id == keep_id)
        .map(|r| (r.shift_id, r))
        .collect();
    let mut to_move = Vec::new();
    let mut to_drop = Vec::new();
    for r in rows.iter().filter(|r| r.person_id == remove_id) {
        match kept.get(&r.shift_id) {
            None => to_move.push(r.id),
            Some(k) if rsvp_rank(r) > rsvp_rank(k) => {
                to_drop.push(k.id);
                to_move.push(r.id);
            }
            // The kept person's RSVP is as good: the removed one goes with its person.
            Some(_) => {}
        }
    }
    if !to_drop.is_empty() {
        rsvps::Entity::delete_many()
            .filter(rsvps::Column::Id.is_in(to_drop))
            .exec(tx)
            .await?;
    }
    if to_move.is_empty() {
        return Ok(0);
    }
    Ok(rsvps::Entity::update_many()
        .col_expr(rsvps::Column::PersonId, Expr::value(keep_id))
        .col_expr(rsvps::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(rsvps::Column::Id.is_in(to_move))
        .exec(tx)
        .await?
        .rows_affected)
}

/// The kept person with each empty field taken from the removed one; consent to a channel
/// comes along when the kept person ends up with the removed person's address on it.
async fn fill_from(
    tx: &DatabaseTransaction,
    keep: people::Model,
    remove: &people::Model,
) -> DomainResult<people::Model> {
    let mut m = keep.clone().into_active_model();
    let fill = |kept: &Option<String>, removed: &Option<String>| {
        if kept.is_none() {
            removed.clone()
        } else {
            kept.clone()
        }
    };
    m.first_name = Set(fill(&keep.first_name, &remove.first_name));
    m.last_name = Set(fill(&keep.last_name, &remove.last_name));
    let email = fill(&keep.email, &remove.email);
    let phone = fill(&keep.phone, &remove.phone);
    m.address_line1 = Set(fill(&keep.address_line1, &remove.address_line1));
    m.address_line2 = Set(fill(&keep.address_line2, &remove.address_line2));
    m.city = Set(fill(&keep.city, &remove.city));
    m.region = Set(fill(&keep.region, &remove.region));
    m.zip = Set(fill(&keep.zip, &remove.zip));
    m.country = Set(fill(&keep.country, &remove.country));
    m.preferred_language = Set(fill(&keep.preferred_language, &remove.preferred_language));
    m.time_zone = Set(fill(&keep.time_zone, &remove.time_zone));
    m.ladder_stage = Set(fill(&keep.ladder_stage, &remove.ladder_stage));
    m.source = Set(fill(&keep.source, &remove.source));
    m.assessment = Set(keep.assessment.or(remove.assessment));
    m.chapter_id = Set(keep.chapter_id.or(remove.chapter_id));
    m.point_person_user_id = Set(keep.point_person_user_id.or(remove.point_person_user_id));
    // The window belongs to the number that wrote to us: the later one when both records have
    // the kept number, else that number's own.
    m.whatsapp_window_ends_at = Set(if phone == keep.phone && phone == remove.phone {
        Ord::max(keep.whatsapp_window_ends_at, remove.whatsapp_window_ends_at)
    } else if phone == keep.phone {
        keep.whatsapp_window_ends_at
    } else {
        remove.whatsapp_window_ends_at
    });
    m.point_person_assigned_at = Set(if keep.point_person_user_id.is_some() {
        keep.point_person_assigned_at
    } else {
        remove.point_person_assigned_at
    });
    let referrer = keep
        .referred_by_person_id
        .filter(|r| *r != remove.id)
        .or(remove.referred_by_person_id)
        .filter(|r| *r != keep.id && *r != remove.id);
    m.referred_by_person_id = Set(referrer);
    let same_phone = phone.is_some() && phone == remove.phone;
    if same_phone && !keep.sms_consent && remove.sms_consent {
        m.sms_consent = Set(true);
        m.sms_consent_at = Set(remove.sms_consent_at);
        m.sms_consent_source = Set(remove.sms_consent_source.clone());
    }
    if same_phone && !keep.whatsapp_consent && remove.whatsapp_consent {
        m.whatsapp_consent = Set(true);
        m.whatsapp_consent_at = Set(remove.whatsapp_consent_at);
        m.whatsapp_consent_source = Set(remove.whatsapp_consent_source.clone());
    }
    if email.is_some() && email == remove.email && !keep.email_consent && remove.email_consent {
        m.email_consent = Set(true);
        m.email_consent_at = Set(remove.email_consent_at);
        m.email_consent_source = Set(remove.email_consent_source.clone());
    }
    m.email = Set(email);
    m.phone = Set(phone);
    m.updated_at = Set(Utc::now());
    Ok(m.update(tx).await?)
}
