//! The public sign-up: a person fills a form; they land in the CRM exactly once.
//!
//! The input is validated completely before anything is written. Then one write transaction
//! finds the person (same email, else same phone, within the form's organization) or creates
//! them, applies the form's tags and consent, records referral and UTM, stores the submission
//! and writes `person.signed_up` to the outbox. Two concurrent sign-ups with the same email
//! either queue (SQLite: `BEGIN IMMEDIATE`) or race to insert and the loser, hitting the unique
//! index, retries and finds the winner's row (PostgreSQL). Never a duplicate person.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    Set,
};
use serde::Serialize;
use turnout_entity::{form_submissions, people};
use uuid::Uuid;

use crate::audit;
pub use crate::audit::RequestContext;
use crate::auth::{OrgScope, random_code};
use crate::db::{Db, is_unique_violation};
use crate::error::{DomainError, DomainResult, Problems, Reason};
use crate::forms::{self, FieldKey, Form};
use crate::organization::chapter_rules;
use crate::outbox;
use crate::tags;
use crate::values::{Email, Phone, optional_text};

/// How many times a sign-up that lost an insert race is retried.
const MAX_ATTEMPTS: usize = 5;

/// What the public sends. Every field is optional here; the form decides what is required.
#[derive(Clone, Debug, Default)]
pub struct SignUpInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub zip: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub preferred_language: Option<String>,
    pub sms_consent: bool,
    pub email_consent: bool,
    pub whatsapp_consent: bool,
    /// The referral code of the person who sent this one.
    pub referral_code: Option<String>,
    pub utm: Utm,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub term: Option<String>,
    pub content: Option<String>,
}

#[derive(Clone, Debug)]
pub struct SignUpOutcome {
    pub person: people::Model,
    pub submission_id: Uuid,
    /// False when the sign-up matched a person already in the CRM.
    pub created: bool,
}

/// The input after validation: every value parsed, trimmed and bounded.
#[derive(Clone, Debug, Serialize)]
struct ValidSignUp {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    zip: Option<String>,
    address_line1: Option<String>,
    address_line2: Option<String>,
    city: Option<String>,
    region: Option<String>,
    preferred_language: Option<String>,
    sms_consent: bool,
    email_consent: bool,
    whatsapp_consent: bool,
    referral_code: Option<String>,
    utm: Utm,
}

impl ValidSignUp {
    /// The names of the fields this sign-up gave a value (for the audit log; no values).
    fn present_fields(&self) -> Vec<&'static str> {
        let text = [
            ("first_name", &self.first_name),
            ("last_name", &self.last_name),
            ("email", &self.email),
            ("phone", &self.phone),
            ("zip", &self.zip),
            ("address_line1", &self.address_line1),
            ("address_line2", &self.address_line2),
            ("city", &self.city),
            ("region", &self.region),
            ("preferred_language", &self.preferred_language),
        ];
        let flags = [
            ("sms_consent", self.sms_consent),
            ("email_consent", self.email_consent),
            ("whatsapp_consent", self.whatsapp_consent),
        ];
        text.into_iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k)
            .chain(flags.into_iter().filter(|(_, v)| *v).map(|(k, _)| k))
            .collect()
    }
}

fn validate(form: &Form, input: &SignUpInput, region: &str) -> DomainResult<ValidSignUp> {
    validate_with(|key| form.is_required(key), input, region)
}

/// Who a public caller says they are when they RSVP or walk in: validated exactly like a
/// sign-up whose form asks for a first name (required), a last name, an email and a phone.
#[derive(Clone, Debug, Default)]
pub struct ContactInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The referral code of the person who sent this one.
    pub referral_code: Option<String>,
    /// Consent to texts about this (reminders by SMS); needs a phone.
    pub sms_consent: bool,
    /// Consent to WhatsApp messages; needs a phone.
    pub whatsapp_consent: bool,
}

/// A validated [`ContactInput`], ready for [`upsert_person`].
#[derive(Clone, Debug)]
pub struct ValidContact(ValidSignUp);

impl ValidContact {
    /// The names of the fields given (for the audit log; no values).
    pub(crate) fn present_fields(&self) -> Vec<&'static str> {
        self.0.present_fields()
    }
}

/// Validates a contact as a sign-up would (same parsing, trimming, bounds and field paths);
/// a phone without a country code is read as `region`'s (the organization's).
pub fn validate_contact(input: &ContactInput, region: &str) -> DomainResult<ValidContact> {
    let as_sign_up = SignUpInput {
        first_name: input.first_name.clone(),
        last_name: input.last_name.clone(),
        email: input.email.clone(),
        phone: input.phone.clone(),
        referral_code: input.referral_code.clone(),
        sms_consent: input.sms_consent,
        whatsapp_consent: input.whatsapp_consent,
        ..Default::default()
    };
    validate_with(|key| key == FieldKey::FirstName, &as_sign_up, region).map(ValidContact)
}

fn validate_with(
    is_required: impl Fn(FieldKey) -> bool,
    input: &SignUpInput,
    region: &str,
) -> DomainResult<ValidSignUp> {
    // Every field is checked, and every refusal reported at once, so a form can mark them all.
    let mut problems = Problems::new();
    let text = |problems: &mut Problems,
                key: FieldKey,
                field: &str,
                raw: &Option<String>,
                max: usize|
     -> DomainResult<Option<String>> {
        let value = problems
            .take(optional_text(field, raw.as_deref(), max))?
            .flatten();
        if value.is_none() && is_required(key) && !problems.has(field) {
            problems.add(field, Reason::Required, "is required by this form");
        }
        Ok(value)
    };
    let first_name = text(
        &mut problems,
        FieldKey::FirstName,
        "input.firstName",
        &input.first_name,
        100,
    )?;
    let last_name = text(
        &mut problems,
        FieldKey::LastName,
        "input.lastName",
        &input.last_name,
        100,
    )?;
    let email = match text(
        &mut problems,
        FieldKey::Email,
        "input.email",
        &input.email,
        254,
    )? {
        Some(raw) => problems.take(Email::parse("input.email", &raw))?,
        None => None,
    };
    let phone = match text(
        &mut problems,
        FieldKey::Phone,
        "input.phone",
        &input.phone,
        32,
    )? {
        Some(raw) => problems.take(Phone::parse("input.phone", &raw, region))?,
        None => None,
    };
    if email.is_none()
        && phone.is_none()
        && !problems.has("input.email")
        && !problems.has("input.phone")
    {
        problems.add(
            "input.email",
            Reason::Required,
            "an email or a phone number is required",
        );
    }
    let zip = text(&mut problems, FieldKey::Zip, "input.zip", &input.zip, 20)?;
    let address_line1 = text(
        &mut problems,
        FieldKey::AddressLine1,
        "input.addressLine1",
        &input.address_line1,
        200,
    )?;
    let address_line2 = text(
        &mut problems,
        FieldKey::AddressLine2,
        "input.addressLine2",
        &input.address_line2,
        200,
    )?;
    let city = text(
        &mut problems,
        FieldKey::City,
        "input.city",
        &input.city,
        100,
    )?;
    let region = text(
        &mut problems,
        FieldKey::Region,
        "input.region",
        &input.region,
        100,
    )?;
    let preferred_language = text(
        &mut problems,
        FieldKey::PreferredLanguage,
        "input.preferredLanguage",
        &input.preferred_language,
        35,
    )?;
    if let Some(lang) = &preferred_language {
        // BCP 47 in its common shapes: `es`, `en-US`, `zh-Hant`.
        let ok = lang.split('-').all(|part| {
            (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !ok {
            problems.add(
                "input.preferredLanguage",
                Reason::Invalid,
                "is not a language tag such as `en` or `es-MX`",
            );
        }
    }
    // A consent needs its channel; when the channel itself was refused, that refusal says it.
    let phone_refused = problems.has("input.phone");
    let email_refused = problems.has("input.email");
    if input.sms_consent && phone.is_none() && !phone_refused {
        problems.add("input.smsConsent", Reason::Invalid, "needs a phone number");
    }
    if input.whatsapp_consent && phone.is_none() && !phone_refused {
        problems.add(
            "input.whatsappConsent",
            Reason::Invalid,
            "needs a phone number",
        );
    }
    if input.email_consent && email.is_none() && !email_refused {
        problems.add(
            "input.emailConsent",
            Reason::Invalid,
            "needs an email address",
        );
    }
    let mut optional = |field: &str, raw: &Option<String>, max: usize| {
        problems
            .take(optional_text(field, raw.as_deref(), max))
            .map(Option::flatten)
    };
    let referral_code = optional("input.referralCode", &input.referral_code, 32)?;
    let utm = Utm {
        source: optional("input.utm.source", &input.utm.source, 200)?,
        medium: optional("input.utm.medium", &input.utm.medium, 200)?,
        campaign: optional("input.utm.campaign", &input.utm.campaign, 200)?,
        term: optional("input.utm.term", &input.utm.term, 200)?,
        content: optional("input.utm.content", &input.utm.content, 200)?,
    };
    problems.finish()?;
    Ok(ValidSignUp {
        first_name,
        last_name,
        email: email.map(|e| e.as_str().to_owned()),
        phone: phone.map(|p| p.as_str().to_owned()),
        zip,
        address_line1,
        address_line2,
        city,
        region,
        preferred_language: preferred_language.map(|l| canonical_language_tag(&l)),
        sms_consent: input.sms_consent,
        email_consent: input.email_consent,
        whatsapp_consent: input.whatsapp_consent,
        referral_code: referral_code.map(|c| c.to_lowercase()),
        utm,
    })
}

/// `ES-mx` → `es-MX`: the language lowercase, a region uppercase, a script titlecase.
fn canonical_language_tag(tag: &str) -> String {
    tag.split('-')
        .enumerate()
        .map(|(i, part)| match (i, part.len()) {
            (0, _) => part.to_ascii_lowercase(),
            (_, 2) => part.to_ascii_uppercase(),
            (_, 4) => part[..1].to_ascii_uppercase() + &part[1..].to_ascii_lowercase(),
            _ => part.to_ascii_lowercase(),
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Signs a person up through the form with slug `form_slug`.
pub async fn sign_up(
    db: &Db,
    form_slug: &str,
    input: &SignUpInput,
    ctx: &RequestContext,
) -> DomainResult<SignUpOutcome> {
    // The form and its organization in one statement: placing a person in a chapter may
    // cost one, so reading the region costs none.
    let (form, org) = forms::with_organization(db, form_slug).await?;
    let valid = validate(&form, input, &org.phone_region)?;
    let scope = OrgScope::public(form.row.organization_id);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let tx = db.begin_write().await?;
        match write(&tx, &scope, &form, &valid, ctx).await {
            Ok(outcome) => {
                tx.commit().await?;
                return Ok(outcome);
            }
            Err(WriteError::Db(err)) if is_unique_violation(&err) && attempt < MAX_ATTEMPTS => {
                tracing::debug!(attempt, "sign-up lost an insert race; retrying");
                tx.rollback().await?;
            }
            Err(WriteError::Db(err)) => return Err(err.into()),
            Err(WriteError::Domain(err)) => return Err(err),
        }
    }
}

/// Keeps raw database errors apart so the retry loop can recognise a lost race.
pub(crate) enum WriteError {
    Db(sea_orm::DbErr),
    Domain(DomainError),
}

impl From<sea_orm::DbErr> for WriteError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Db(err)
    }
}

impl From<WriteError> for DomainError {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::Db(err) => err.into(),
            WriteError::Domain(err) => err,
        }
    }
}

impl From<DomainError> for WriteError {
    fn from(err: DomainError) -> Self {
        Self::Domain(err)
    }
}

async fn find_existing(
    tx: &DatabaseTransaction,
    org_id: Uuid,
    valid: &ValidSignUp,
) -> Result<Option<people::Model>, sea_orm::DbErr> {
    let by = |col: people::Column, value: &Option<String>| {
        let value = value.clone();
        async move {
            match value {
                Some(v) => {
                    people::Entity::find()
                        .filter(people::Column::OrganizationId.eq(org_id))
                        .filter(col.eq(v))
                        .one(tx)
                        .await
                }
                None => Ok(None),
            }
        }
    };
    match by(people::Column::Email, &valid.email).await? {
        Some(person) => Ok(Some(person)),
        None => by(people::Column::Phone, &valid.phone).await,
    }
}

/// The person a public caller is: found by email, else phone, within the organization, and
/// updated with what they typed; or created. Returns the person, whether they were created,
/// and the person whose referral code they gave (if it names someone else in the organization).
pub(crate) async fn upsert_person(
    tx: &DatabaseTransaction,
    org_id: Uuid,
    contact: &ValidContact,
    source: &str,
    home_chapter: Option<Uuid>,
) -> Result<Upserted, WriteError> {
    upsert(tx, org_id, &contact.0, source, home_chapter).await
}

/// The person a public caller turned out to be.
pub(crate) struct Upserted {
    pub person: people::Model,
    pub created: bool,
    /// The person whose referral code they gave, if someone else of the organization.
    pub referrer: Option<Uuid>,
    /// Whether they were placed in a chapter just now (see [`chapter_rules::place`]).
    pub placed: bool,
}

impl Upserted {
    /// The fields written, for the audit log.
    pub fn fields(&self, typed: Vec<&'static str>) -> Vec<&'static str> {
        let mut fields = typed;
        if self.placed {
            fields.push("chapter_id");
        }
        fields
    }
}

/// Finds or creates the person; one without a chapter is placed in `home_chapter` (the form's
/// or event's) or by their zip code.
async fn upsert(
    tx: &DatabaseTransaction,
    org_id: Uuid,
    valid: &ValidSignUp,
    consent_source: &str,
    home_chapter: Option<Uuid>,
) -> Result<Upserted, WriteError> {
    let now = Utc::now();
    let existing = find_existing(tx, org_id, valid).await?;
    let chapter = match &existing {
        Some(person) if person.chapter_id.is_some() => None,
        Some(person) => {
            let zip = person.zip.as_deref().or(valid.zip.as_deref());
            chapter_rules::place(tx, org_id, home_chapter, zip).await?
        }
        None => chapter_rules::place(tx, org_id, home_chapter, valid.zip.as_deref()).await?,
    };
    let referrer = match &valid.referral_code {
        Some(code) => people::Entity::find()
            .filter(people::Column::OrganizationId.eq(org_id))
            .filter(people::Column::ReferralCode.eq(code.as_str()))
            .one(tx)
            .await?
            .map(|p| p.id),
        None => None,
    };
    let created = existing.is_none();
    let was_referred = existing.as_ref().and_then(|p| p.referred_by_person_id);
    let person = match existing {
        Some(person) => {
            update_existing(tx, person, valid, referrer, chapter, now, consent_source).await?
        }
        None => insert_new(tx, org_id, valid, referrer, chapter, now, consent_source).await?,
    };
    let referrer = referrer.filter(|r| *r != person.id);
    // Credit goes to the first referrer only: a second sign-up with a code changes nothing.
    if let Some(referrer_id) = referrer
        && was_referred.is_none()
        && person.referred_by_person_id == Some(referrer_id)
    {
        let referred = outbox::DomainEvent::PersonReferred {
            person_id: person.id,
            referrer_person_id: referrer_id,
        };
        outbox::record(tx, &OrgScope::public(org_id), referred).await?;
    }
    Ok(Upserted {
        person,
        created,
        referrer,
        placed: chapter.is_some(),
    })
}

async fn write(
    tx: &DatabaseTransaction,
    scope: &OrgScope,
    form: &Form,
    valid: &ValidSignUp,
    ctx: &RequestContext,
) -> Result<SignUpOutcome, WriteError> {
    let org_id = scope.org_id();
    let now = Utc::now();
    let consent_source = format!("form:{}", form.row.slug);
    let upserted = upsert(tx, org_id, valid, &consent_source, form.row.chapter_id).await?;
    let fields = upserted.fields(valid.present_fields());
    let Upserted {
        person,
        created,
        referrer,
        ..
    } = upserted;

    tags::attach_by_name(tx, scope, person.id, &form.default_tags).await?;

    let submission_id = Uuid::now_v7();
    form_submissions::ActiveModel {
        id: Set(submission_id),
        organization_id: Set(org_id),
        form_id: Set(form.row.id),
        person_id: Set(person.id),
        payload: Set(serde_json::to_value(valid).map_err(DomainError::internal)?),
        referrer_person_id: Set(referrer),
        utm_source: Set(valid.utm.source.clone()),
        utm_medium: Set(valid.utm.medium.clone()),
        utm_campaign: Set(valid.utm.campaign.clone()),
        utm_term: Set(valid.utm.term.clone()),
        utm_content: Set(valid.utm.content.clone()),
        client_ip: Set(ctx.client_ip.clone()),
        created_at: Set(now),
    }
    .insert(tx)
    .await?;

    let action = if created {
        "person.create"
    } else {
        "person.update"
    };
    audit::record_all(
        tx,
        scope,
        ctx,
        &[
            audit::Change::new(action, "person", person.id, &fields),
            audit::Change::new(
                "form_submission.create",
                "form_submission",
                submission_id,
                &["payload"],
            ),
        ],
    )
    .await?;

    outbox::record(
        tx,
        scope,
        outbox::DomainEvent::PersonSignedUp {
            person_id: person.id,
            form_id: form.row.id,
            form_slug: form.row.slug.clone(),
            submission_id,
            created,
            referred_by_person_id: person.referred_by_person_id,
            tags: form.default_tags.clone(),
        },
    )
    .await?;
    Ok(SignUpOutcome {
        person,
        submission_id,
        created,
    })
}

async fn insert_new(
    tx: &DatabaseTransaction,
    org_id: Uuid,
    v: &ValidSignUp,
    referrer: Option<Uuid>,
    chapter: Option<Uuid>,
    now: DateTime<Utc>,
    consent_source: &str,
) -> Result<people::Model, sea_orm::DbErr> {
    let consent = |given: bool| {
        if given {
            (Some(now), Some(consent_source.to_owned()))
        } else {
            (None, None)
        }
    };
    let (sms_at, sms_source) = consent(v.sms_consent);
    let (email_at, email_source) = consent(v.email_consent);
    let (wa_at, wa_source) = consent(v.whatsapp_consent);
    people::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org_id),
        chapter_id: Set(chapter),
        first_name: Set(v.first_name.clone()),
        last_name: Set(v.last_name.clone()),
        email: Set(v.email.clone()),
        phone: Set(v.phone.clone()),
        address_line1: Set(v.address_line1.clone()),
        address_line2: Set(v.address_line2.clone()),
        city: Set(v.city.clone()),
        region: Set(v.region.clone()),
        zip: Set(v.zip.clone()),
        country: Set(None),
        preferred_language: Set(v.preferred_language.clone()),
        time_zone: Set(None),
        ladder_stage: Set(None),
        assessment: Set(None),
        point_person_user_id: Set(None),
        point_person_assigned_at: Set(None),
        referral_code: Set(random_code(8)),
        referred_by_person_id: Set(referrer),
        source: Set(Some(consent_source.to_owned())),
        utm_source: Set(v.utm.source.clone()),
        utm_medium: Set(v.utm.medium.clone()),
        utm_campaign: Set(v.utm.campaign.clone()),
        utm_term: Set(v.utm.term.clone()),
        utm_content: Set(v.utm.content.clone()),
        sms_consent: Set(v.sms_consent),
        sms_consent_at: Set(sms_at),
        sms_consent_source: Set(sms_source),
        email_consent: Set(v.email_consent),
        email_consent_at: Set(email_at),
        email_consent_source: Set(email_source),
        whatsapp_consent: Set(v.whatsapp_consent),
        whatsapp_consent_at: Set(wa_at),
        whatsapp_consent_source: Set(wa_source),
        whatsapp_window_ends_at: Set(None),
        archived_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(tx)
    .await
}

/// A returning person: what they typed now wins over what we had; what they left blank keeps
/// its old value. Consent is only ever granted here, never withdrawn (an unticked box on a
/// later form is not an opt-out; opt-outs arrive as STOP or an explicit update). First-touch
/// attribution: source, UTM and referrer stay as first recorded.
async fn update_existing(
    tx: &DatabaseTransaction,
    person: people::Model,
    v: &ValidSignUp,
    referrer: Option<Uuid>,
    chapter: Option<Uuid>,
    now: DateTime<Utc>,
    consent_source: &str,
) -> Result<people::Model, sea_orm::DbErr> {
    let phone_taken_by_other = match &v.phone {
        Some(phone) if person.phone.as_deref() != Some(phone) => people::Entity::find()
            .filter(people::Column::OrganizationId.eq(person.organization_id))
            .filter(people::Column::Phone.eq(phone.as_str()))
            .filter(people::Column::Id.ne(person.id))
            .one(tx)
            .await?
            .is_some(),
        _ => false,
    };
    // Anyone may submit a public form with anyone's email: what they type only fills fields
    // that are empty, never replaces what the person (or staff) recorded. What differs stays
    // in the submission, for staff to see.
    let mut am = person.clone().into_active_model();
    let fill = |target: &mut sea_orm::ActiveValue<Option<String>>,
                current: &Option<String>,
                value: &Option<String>| {
        if current.is_none() && value.is_some() {
            *target = Set(value.clone());
        }
    };
    fill(&mut am.first_name, &person.first_name, &v.first_name);
    fill(&mut am.last_name, &person.last_name, &v.last_name);
    fill(&mut am.email, &person.email, &v.email);
    if !phone_taken_by_other {
        fill(&mut am.phone, &person.phone, &v.phone);
    }
    fill(&mut am.zip, &person.zip, &v.zip);
    fill(
        &mut am.address_line1,
        &person.address_line1,
        &v.address_line1,
    );
    fill(
        &mut am.address_line2,
        &person.address_line2,
        &v.address_line2,
    );
    fill(&mut am.city, &person.city, &v.city);
    fill(&mut am.region, &person.region, &v.region);
    fill(
        &mut am.preferred_language,
        &person.preferred_language,
        &v.preferred_language,
    );
    // A number that replied STOP stays suppressed until it replies START: a form checkbox
    // (which anyone knowing the email could tick) cannot switch it back on.
    let suppressed = |granted: bool, source: &Option<String>| {
        !granted && source.as_deref().is_some_and(|s| s.starts_with("inbound:"))
    };
    if v.sms_consent
        && !person.sms_consent
        && !suppressed(person.sms_consent, &person.sms_consent_source)
    {
        am.sms_consent = Set(true);
        am.sms_consent_at = Set(Some(now));
        am.sms_consent_source = Set(Some(consent_source.to_owned()));
    }
    if v.email_consent && !person.email_consent {
        am.email_consent = Set(true);
        am.email_consent_at = Set(Some(now));
        am.email_consent_source = Set(Some(consent_source.to_owned()));
    }
    if v.whatsapp_consent
        && !person.whatsapp_consent
        && !suppressed(person.whatsapp_consent, &person.whatsapp_consent_source)
    {
        am.whatsapp_consent = Set(true);
        am.whatsapp_consent_at = Set(Some(now));
        am.whatsapp_consent_source = Set(Some(consent_source.to_owned()));
    }
    if let (None, Some(r)) = (
        person.referred_by_person_id,
        referrer.filter(|r| *r != person.id),
    ) {
        am.referred_by_person_id = Set(Some(r));
    }
    if let Some(chapter) = chapter {
        am.chapter_id = Set(Some(chapter));
    }
    // A returning archived person is active again: they just asked to be involved.
    am.archived_at = Set(None);
    am.updated_at = Set(now);
    am.update(tx).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::FormField;

    fn form(fields: Vec<FormField>) -> Form {
        Form {
            row: turnout_entity::forms::Model {
                id: Uuid::now_v7(),
                organization_id: Uuid::now_v7(),
                chapter_id: None,
                slug: "volunteer".into(),
                title: "Volunteer".into(),
                description: None,
                fields: serde_json::json!([]),
                default_tags: serde_json::json!([]),
                consent_text: None,
                event_id: None,
                shift_id: None,
                archived_at: None,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            fields,
            default_tags: vec![],
        }
    }

    fn field(key: FieldKey, required: bool) -> FormField {
        FormField::new(key, required)
    }

    #[test]
    fn required_fields_are_named() {
        let f = form(vec![
            field(FieldKey::FirstName, true),
            field(FieldKey::Email, true),
        ]);
        let input = SignUpInput {
            email: Some("a@example.org".into()),
            ..Default::default()
        };
        let err = validate(&f, &input, "US").unwrap_err();
        assert!(
            matches!(err, DomainError::Validation(ref i) if i.first().field == "input.firstName")
        );
    }

    #[test]
    fn email_or_phone_is_needed() {
        let f = form(vec![
            field(FieldKey::FirstName, false),
            field(FieldKey::Email, false),
        ]);
        let input = SignUpInput {
            first_name: Some("Ada".into()),
            ..Default::default()
        };
        assert!(validate(&f, &input, "US").is_err());
    }

    #[test]
    fn sms_consent_needs_a_phone() {
        let f = form(vec![field(FieldKey::Email, true)]);
        let input = SignUpInput {
            email: Some("a@example.org".into()),
            sms_consent: true,
            ..Default::default()
        };
        let err = validate(&f, &input, "US").unwrap_err();
        assert!(
            matches!(err, DomainError::Validation(ref i) if i.first().field == "input.smsConsent")
        );
    }

    #[test]
    fn values_are_normalized() {
        let f = form(vec![
            field(FieldKey::Email, true),
            field(FieldKey::Phone, false),
        ]);
        let input = SignUpInput {
            email: Some(" Ada@Example.org ".into()),
            phone: Some("(202) 555-0143".into()),
            preferred_language: Some("ES-mx".into()),
            referral_code: Some("ABCD".into()),
            ..Default::default()
        };
        let v = validate(&f, &input, "US").unwrap();
        assert_eq!(v.email.as_deref(), Some("ada@example.org"));
        assert_eq!(v.phone.as_deref(), Some("+12025550143"));
        assert_eq!(v.preferred_language.as_deref(), Some("es-MX"));
        assert_eq!(v.referral_code.as_deref(), Some("abcd"));
    }
}
