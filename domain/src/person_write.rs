//! Writing people by staff and integrators: create, partial update, archive and unarchive.
//! Every write validates its whole input first, then runs in one transaction with its audit
//! record; ladder stage and assessment changes also write their history.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, Set,
};
use turnout_entity::{memberships, people};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::auth::{OrgScope, random_code};
use crate::db::{Db, is_unique_violation};
use crate::error::{DomainError, DomainResult, Problems, Reason};
use crate::ladder;
use crate::outbox::{self, DomainEvent};
use crate::people::{get, visible};
use crate::values::{Email, Phone, optional_text};

/// One field of a partial update: leave it, clear it, or set it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    /// `None` → keep, `Some(None)` → clear, `Some(Some(v))` → set.
    pub fn from_option(value: Option<Option<T>>) -> Self {
        match value {
            None => Patch::Keep,
            Some(None) => Patch::Clear,
            Some(Some(v)) => Patch::Set(v),
        }
    }

    fn is_keep(&self) -> bool {
        matches!(self, Patch::Keep)
    }
}

/// The fields of a person that staff may set. For a create, `Keep` means "not given".
#[derive(Clone, Debug, Default)]
pub struct PersonPatch {
    pub first_name: Patch<String>,
    pub last_name: Patch<String>,
    pub email: Patch<String>,
    pub phone: Patch<String>,
    pub address_line1: Patch<String>,
    pub address_line2: Patch<String>,
    pub city: Patch<String>,
    pub region: Patch<String>,
    pub zip: Patch<String>,
    pub country: Patch<String>,
    pub preferred_language: Patch<String>,
    pub time_zone: Patch<String>,
    pub chapter_id: Patch<Uuid>,
    pub ladder_stage: Patch<String>,
    pub assessment: Patch<i16>,
    pub point_person_user_id: Patch<Uuid>,
    pub referred_by_person_id: Patch<Uuid>,
    pub source: Patch<String>,
    pub sms_consent: Option<bool>,
    pub email_consent: Option<bool>,
    pub whatsapp_consent: Option<bool>,
}

/// A patch whose values are parsed and bounded (references are checked in the transaction).
#[derive(Clone, Debug, Default)]
struct ValidPatch {
    text: Vec<(people::Column, &'static str, Patch<String>)>,
    chapter_id: Patch<Uuid>,
    ladder_stage: Patch<String>,
    assessment: Patch<i16>,
    point_person_user_id: Patch<Uuid>,
    referred_by_person_id: Patch<Uuid>,
    sms_consent: Option<bool>,
    email_consent: Option<bool>,
    whatsapp_consent: Option<bool>,
}

fn text_patch(field: &str, patch: &Patch<String>, max: usize) -> DomainResult<Patch<String>> {
    Ok(match patch {
        Patch::Keep => Patch::Keep,
        Patch::Clear => Patch::Clear,
        Patch::Set(raw) => match optional_text(field, Some(raw), max)? {
            Some(v) => Patch::Set(v),
            None => Patch::Clear,
        },
    })
}

fn map_patch<T>(
    patch: Patch<String>,
    f: impl FnOnce(String) -> DomainResult<T>,
) -> DomainResult<Patch<T>> {
    Ok(match patch {
        Patch::Keep => Patch::Keep,
        Patch::Clear => Patch::Clear,
        Patch::Set(v) => Patch::Set(f(v)?),
    })
}

/// `ES-mx` → `es-MX`, after checking the common BCP 47 shapes (`es`, `en-US`, `zh-Hant`).
pub(crate) fn language_tag(field: &str, raw: &str) -> DomainResult<String> {
    let ok = raw.split('-').all(|part| {
        (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if !ok {
        return Err(DomainError::validation(
            field,
            "is not a language tag such as `en` or `es-MX`",
        ));
    }
    Ok(raw
        .split('-')
        .enumerate()
        .map(|(i, part)| match (i, part.len()) {
            (0, _) => part.to_ascii_lowercase(),
            (_, 2) => part.to_ascii_uppercase(),
            (_, 4) => part[..1].to_ascii_uppercase() + &part[1..].to_ascii_lowercase(),
            _ => part.to_ascii_lowercase(),
        })
        .collect::<Vec<_>>()
        .join("-"))
}

/// A ladder stage: a short lowercase word or phrase (`supporter`, `volunteer`, `leader`).
pub(crate) fn ladder_stage(field: &str, raw: &str) -> DomainResult<String> {
    let stage = raw.trim().to_lowercase();
    if stage.is_empty()
        || stage.chars().count() > 50
        || !stage
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' '))
    {
        return Err(DomainError::validation(
            field,
            "must be 1–50 letters, digits, spaces, `-` or `_`",
        ));
    }
    Ok(stage)
}

/// The patch's value, or `Keep` with its refusals recorded (the patch is refused anyway).
fn checked<T>(problems: &mut Problems, patch: DomainResult<Patch<T>>) -> DomainResult<Patch<T>> {
    Ok(problems.take(patch)?.unwrap_or(Patch::Keep))
}

/// Checks every field of the patch, and reports every refusal at once.
/// Validates a change; a phone without a country code is read as `region`'s.
fn validate(input: &PersonPatch, region: &str) -> DomainResult<ValidPatch> {
    use people::Column as C;
    let mut p = Problems::new();
    let email = text_patch("input.email", &input.email, 254).and_then(|patch| {
        map_patch(patch, |v| {
            Ok(Email::parse("input.email", &v)?.as_str().to_owned())
        })
    });
    let email = checked(&mut p, email)?;
    let phone = text_patch("input.phone", &input.phone, 32).and_then(|patch| {
        map_patch(patch, |v| {
            Ok(Phone::parse("input.phone", &v, region)?.as_str().to_owned())
        })
    });
    let phone = checked(&mut p, phone)?;
    let language = text_patch("input.preferredLanguage", &input.preferred_language, 35)
        .and_then(|patch| map_patch(patch, |v| language_tag("input.preferredLanguage", &v)));
    let language = checked(&mut p, language)?;
    let time_zone = text_patch("input.timeZone", &input.time_zone, 64).and_then(|patch| {
        map_patch(patch, |v| {
            if v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
            {
                Ok(v)
            } else {
                Err(DomainError::validation(
                    "input.timeZone",
                    "is not an IANA time zone such as `America/New_York`",
                ))
            }
        })
    });
    let time_zone = checked(&mut p, time_zone)?;
    let ladder = text_patch("input.ladderStage", &input.ladder_stage, 50)
        .and_then(|patch| map_patch(patch, |v| ladder_stage("input.ladderStage", &v)));
    let ladder = checked(&mut p, ladder)?;
    if let Patch::Set(a) = input.assessment
        && !(1..=5).contains(&a)
    {
        p.add(
            "input.assessment",
            Reason::Invalid,
            "must be between 1 and 5",
        );
    }
    let mut text = |field: &str, patch: &Patch<String>, max: usize| {
        checked(&mut p, text_patch(field, patch, max))
    };
    let text = vec![
        (
            C::FirstName,
            "first_name",
            text("input.firstName", &input.first_name, 100)?,
        ),
        (
            C::LastName,
            "last_name",
            text("input.lastName", &input.last_name, 100)?,
        ),
        (C::Email, "email", email),
        (C::Phone, "phone", phone),
        (
            C::AddressLine1,
            "address_line1",
            text("input.addressLine1", &input.address_line1, 200)?,
        ),
        (
            C::AddressLine2,
            "address_line2",
            text("input.addressLine2", &input.address_line2, 200)?,
        ),
        (C::City, "city", text("input.city", &input.city, 100)?),
        (
            C::Region,
            "region",
            text("input.region", &input.region, 100)?,
        ),
        (C::Zip, "zip", text("input.zip", &input.zip, 20)?),
        (
            C::Country,
            "country",
            text("input.country", &input.country, 100)?,
        ),
        (C::PreferredLanguage, "preferred_language", language),
        (C::TimeZone, "time_zone", time_zone),
        (
            C::Source,
            "source",
            text("input.source", &input.source, 200)?,
        ),
    ];
    p.finish()?;
    Ok(ValidPatch {
        text,
        chapter_id: input.chapter_id.clone(),
        ladder_stage: ladder,
        assessment: input.assessment.clone(),
        point_person_user_id: input.point_person_user_id.clone(),
        referred_by_person_id: input.referred_by_person_id.clone(),
        sms_consent: input.sms_consent,
        email_consent: input.email_consent,
        whatsapp_consent: input.whatsapp_consent,
    })
}

fn set_text(model: &mut people::ActiveModel, col: people::Column, value: Option<String>) {
    use people::Column as C;
    match col {
        C::FirstName => model.first_name = Set(value),
        C::LastName => model.last_name = Set(value),
        C::Email => model.email = Set(value),
        C::Phone => model.phone = Set(value),
        C::AddressLine1 => model.address_line1 = Set(value),
        C::AddressLine2 => model.address_line2 = Set(value),
        C::City => model.city = Set(value),
        C::Region => model.region = Set(value),
        C::Zip => model.zip = Set(value),
        C::Country => model.country = Set(value),
        C::PreferredLanguage => model.preferred_language = Set(value),
        C::TimeZone => model.time_zone = Set(value),
        C::Source => model.source = Set(value),
        _ => {}
    }
}

/// Checks the references a patch sets: the chapter (and that a chapter-limited caller keeps
/// the person inside its chapters), the point person (a member) and the referrer.
async fn check_references(
    tx: &DatabaseTransaction,
    scope: &OrgScope,
    patch: &ValidPatch,
    person_id: Uuid,
    current_chapter: Option<Uuid>,
) -> DomainResult<()> {
    let chapter = match &patch.chapter_id {
        Patch::Keep => current_chapter,
        Patch::Clear => None,
        Patch::Set(id) if Some(*id) == current_chapter => Some(*id),
        Patch::Set(id) => {
            crate::organization::chapters::open_chapter(tx, scope.org_id(), *id, "input.chapterId")
                .await?;
            Some(*id)
        }
    };
    if let Some(allowed) = scope.chapters()
        && !chapter.is_some_and(|c| allowed.contains(&c))
    {
        return Err(DomainError::validation(
            "input.chapterId",
            "must be one of the chapters you work in",
        ));
    }
    if let Patch::Set(user_id) = patch.point_person_user_id {
        memberships::Entity::find()
            .filter(memberships::Column::OrganizationId.eq(scope.org_id()))
            .filter(memberships::Column::UserId.eq(user_id))
            .one(tx)
            .await?
            .ok_or(DomainError::not_found("user"))?;
    }
    if let Patch::Set(referrer) = patch.referred_by_person_id {
        if referrer == person_id {
            return Err(DomainError::validation(
                "input.referredById",
                "a person cannot refer themselves",
            ));
        }
        people::Entity::find_by_id(referrer)
            .filter(people::Column::OrganizationId.eq(scope.org_id()))
            .one(tx)
            .await?
            .ok_or(DomainError::not_found("person"))?;
    }
    Ok(())
}

/// Applies a valid patch to `model`; returns the names of the fields it touched.
fn apply(
    model: &mut people::ActiveModel,
    patch: &ValidPatch,
    now: DateTime<Utc>,
) -> Vec<&'static str> {
    let mut fields = Vec::new();
    for (col, name, value) in &patch.text {
        match value {
            Patch::Keep => continue,
            Patch::Clear => set_text(model, *col, None),
            Patch::Set(v) => set_text(model, *col, Some(v.clone())),
        }
        fields.push(*name);
    }
    let opt = |p: &Patch<Uuid>| match p {
        Patch::Set(v) => Some(*v),
        _ => None,
    };
    if !patch.chapter_id.is_keep() {
        model.chapter_id = Set(opt(&patch.chapter_id));
        fields.push("chapter_id");
    }
    if !patch.point_person_user_id.is_keep() {
        let point_person = opt(&patch.point_person_user_id);
        // A new point person's digest lists this person as newly theirs; re-saving the same one
        // doesn't.
        if model.point_person_user_id.try_as_ref() != Some(&point_person) {
            model.point_person_assigned_at = Set(point_person.map(|_| now));
        }
        model.point_person_user_id = Set(point_person);
        fields.push("point_person_user_id");
    }
    if !patch.referred_by_person_id.is_keep() {
        model.referred_by_person_id = Set(opt(&patch.referred_by_person_id));
        fields.push("referred_by_person_id");
    }
    match &patch.ladder_stage {
        Patch::Keep => {}
        Patch::Clear => {
            model.ladder_stage = Set(None);
            fields.push("ladder_stage");
        }
        Patch::Set(v) => {
            model.ladder_stage = Set(Some(v.clone()));
            fields.push("ladder_stage");
        }
    }
    match patch.assessment {
        Patch::Keep => {}
        Patch::Clear => {
            model.assessment = Set(None);
            fields.push("assessment");
        }
        Patch::Set(v) => {
            model.assessment = Set(Some(v));
            fields.push("assessment");
        }
    }
    let source = Some("staff".to_owned());
    if let Some(v) = patch.sms_consent {
        model.sms_consent = Set(v);
        model.sms_consent_at = Set(v.then_some(now));
        model.sms_consent_source = Set(if v { source.clone() } else { None });
        fields.push("sms_consent");
    }
    if let Some(v) = patch.email_consent {
        model.email_consent = Set(v);
        model.email_consent_at = Set(v.then_some(now));
        model.email_consent_source = Set(if v { source.clone() } else { None });
        fields.push("email_consent");
    }
    if let Some(v) = patch.whatsapp_consent {
        model.whatsapp_consent = Set(v);
        model.whatsapp_consent_at = Set(v.then_some(now));
        model.whatsapp_consent_source = Set(if v { source } else { None });
        fields.push("whatsapp_consent");
    }
    fields
}

/// Consent to a channel needs an address on it; a person needs an email or a phone.
fn check_contact(person: &people::Model) -> DomainResult<()> {
    if person.email.is_none() && person.phone.is_none() {
        return Err(DomainError::validation(
            "input.email",
            "a person needs an email or a phone number",
        ));
    }
    if person.sms_consent && person.phone.is_none() {
        return Err(DomainError::validation(
            "input.smsConsent",
            "needs a phone number",
        ));
    }
    if person.whatsapp_consent && person.phone.is_none() {
        return Err(DomainError::validation(
            "input.whatsappConsent",
            "needs a phone number",
        ));
    }
    if person.email_consent && person.email.is_none() {
        return Err(DomainError::validation(
            "input.emailConsent",
            "needs an email address",
        ));
    }
    Ok(())
}

/// Another person of the organization already using this email or phone.
async fn check_unique<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    person: &people::Model,
) -> DomainResult<()> {
    for (col, value, field, what) in [
        (people::Column::Email, &person.email, "input.email", "email"),
        (
            people::Column::Phone,
            &person.phone,
            "input.phone",
            "phone number",
        ),
    ] {
        let Some(value) = value else { continue };
        let taken = people::Entity::find()
            .filter(people::Column::OrganizationId.eq(scope.org_id()))
            .filter(col.eq(value.as_str()))
            .filter(people::Column::Id.ne(person.id))
            .one(conn)
            .await?;
        if taken.is_some() {
            return Err(DomainError::taken(
                field,
                format!("another person already has this {what}"),
            ));
        }
    }
    Ok(())
}

fn unique_conflict(err: sea_orm::DbErr) -> DomainError {
    if is_unique_violation(&err) {
        DomainError::Conflict("another person already has this email or phone number".into())
    } else {
        err.into()
    }
}

/// Creates a person.
pub async fn create(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    input: &PersonPatch,
) -> DomainResult<people::Model> {
    let region = crate::organization::settings::phone_region(db, scope.org_id()).await?;
    let patch = validate(input, &region)?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let mut model = blank(scope.org_id(), id, now);
    let fields = apply(&mut model, &patch, now);
    let preview = people::Model {
        id,
        ..active_to_model(&model)?
    };
    check_contact(&preview)?;
    let tx = db.begin_write().await?;
    check_references(&tx, scope, &patch, id, None).await?;
    check_unique(&tx, scope, &preview).await?;
    let person = model.insert(&tx).await.map_err(unique_conflict)?;
    ladder::record_changes(&tx, scope, None, &person, now).await?;
    let created = DomainEvent::PersonCreated {
        person_id: id,
        fields: fields.iter().map(|f| f.to_string()).collect(),
    };
    outbox::record(&tx, scope, created).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "person.create",
        "person",
        Some(id),
        &fields,
    )
    .await?;
    tx.commit().await?;
    Ok(person)
}

/// A new person of organization `org_id` with nothing known yet: every column set, so each
/// way in (staff, an inbound text) fills in what it knows.
pub(crate) fn blank(org_id: Uuid, id: Uuid, now: DateTime<Utc>) -> people::ActiveModel {
    people::ActiveModel {
        id: Set(id),
        organization_id: Set(org_id),
        chapter_id: Set(None),
        first_name: Set(None),
        last_name: Set(None),
        email: Set(None),
        phone: Set(None),
        address_line1: Set(None),
        address_line2: Set(None),
        city: Set(None),
        region: Set(None),
        zip: Set(None),
        country: Set(None),
        preferred_language: Set(None),
        time_zone: Set(None),
        ladder_stage: Set(None),
        assessment: Set(None),
        point_person_user_id: Set(None),
        point_person_assigned_at: Set(None),
        referral_code: Set(random_code(8)),
        referred_by_person_id: Set(None),
        source: Set(None),
        utm_source: Set(None),
        utm_medium: Set(None),
        utm_campaign: Set(None),
        utm_term: Set(None),
        utm_content: Set(None),
        sms_consent: Set(false),
        sms_consent_at: Set(None),
        sms_consent_source: Set(None),
        email_consent: Set(false),
        email_consent_at: Set(None),
        email_consent_source: Set(None),
        whatsapp_consent: Set(false),
        whatsapp_consent_at: Set(None),
        whatsapp_consent_source: Set(None),
        whatsapp_window_ends_at: Set(None),
        archived_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

fn active_to_model(model: &people::ActiveModel) -> DomainResult<people::Model> {
    use sea_orm::TryIntoModel;
    model
        .clone()
        .try_into_model()
        .map_err(|e| DomainError::internal(format!("person model: {e}")))
}

/// Changes the fields `input` names; the others stay as they are.
pub async fn update(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    id: Uuid,
    input: &PersonPatch,
) -> DomainResult<people::Model> {
    let region = crate::organization::settings::phone_region(db, scope.org_id()).await?;
    let patch = validate(input, &region)?;
    let now = Utc::now();
    let tx = db.begin_write().await?;
    let before = find_in(&tx, scope, id).await?;
    check_references(&tx, scope, &patch, id, before.chapter_id).await?;
    let mut model = before.clone().into_active_model();
    let fields = apply(&mut model, &patch, now);
    if fields.is_empty() {
        return Ok(before);
    }
    model.updated_at = Set(now);
    let preview = active_to_model(&model)?;
    check_contact(&preview)?;
    check_unique(&tx, scope, &preview).await?;
    let person = model.update(&tx).await.map_err(unique_conflict)?;
    ladder::record_changes(&tx, scope, Some(&before), &person, now).await?;
    let updated = DomainEvent::PersonUpdated {
        person_id: id,
        fields: fields.iter().map(|f| f.to_string()).collect(),
    };
    outbox::record(&tx, scope, updated).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "person.update",
        "person",
        Some(id),
        &fields,
    )
    .await?;
    tx.commit().await?;
    Ok(person)
}

/// Archives (`archived = true`) or restores a person. Archived people leave lists and
/// exports but keep their history; doing it twice changes nothing.
pub async fn set_archived(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    id: Uuid,
    archived: bool,
) -> DomainResult<people::Model> {
    let tx = db.begin_write().await?;
    let before = find_in(&tx, scope, id).await?;
    if before.archived_at.is_some() == archived {
        return Ok(before);
    }
    let now = Utc::now();
    let mut model = before.into_active_model();
    model.archived_at = Set(archived.then_some(now));
    model.updated_at = Set(now);
    let person = model.update(&tx).await?;
    let (action, event) = if archived {
        (
            "person.archive",
            DomainEvent::PersonArchived { person_id: id },
        )
    } else {
        (
            "person.unarchive",
            DomainEvent::PersonRestored { person_id: id },
        )
    };
    outbox::record(&tx, scope, event).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        action,
        "person",
        Some(id),
        &["archived_at"],
    )
    .await?;
    tx.commit().await?;
    Ok(person)
}

/// A person of the scope, read inside a transaction.
pub(crate) async fn find_in<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    id: Uuid,
) -> DomainResult<people::Model> {
    people::Entity::find_by_id(id)
        .filter(visible(scope))
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("person"))
}

/// Re-reads a person (for callers that changed related rows only).
pub async fn reload(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    id: Uuid,
) -> DomainResult<people::Model> {
    get(db, &Can::vouched(scope), id).await
}
