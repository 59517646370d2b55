//! CSV import and export of people.
//!
//! An import maps the file's columns to person fields, validates every row (a bad row is
//! reported with its line and does not stop the others), matches existing people by email then
//! phone, and — unless it is a dry run — creates, updates or skips them by the dedupe policy in
//! one transaction with chunked multi-row INSERTs. Every import, dry or not, leaves an
//! `import_jobs` row with its counts. A file that is not UTF-8 or not well-formed CSV is refused
//! whole with a `VALIDATION` error on `csv`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use turnout_entity::{import_jobs, ladder_changes, people, taggings};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{Can, OrgScope, Scope, perm, random_code};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::ladder;
use crate::organization::chapter_rules::ZipRules;
use crate::organizing::csv as org_csv;
use crate::outbox::{self, DomainEvent};
use crate::people_tags::valid_names;
use crate::person_write::{ladder_stage, language_tag};
use crate::tags;
use crate::values::{Email, Phone, optional_text};

/// The most data rows one file may hold.
pub const MAX_ROWS: usize = 200_000;
/// Row errors kept in the report and the job (the count covers them all).
pub const MAX_REPORTED_ERRORS: usize = 1_000;
/// Rows per multi-row INSERT: people have 38 columns, so 500 rows bind 19,000 values (under
/// SQLite's 32,766 and PostgreSQL's 65,535).
const INSERT_CHUNK: usize = 500;
/// Values per `IN (…)` list when matching existing people.
const MATCH_CHUNK: usize = 500;

/// A person field a column can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImportField {
    FirstName,
    LastName,
    Email,
    Phone,
    AddressLine1,
    AddressLine2,
    City,
    Region,
    Zip,
    Country,
    PreferredLanguage,
    LadderStage,
    Assessment,
    SmsConsent,
    EmailConsent,
    WhatsappConsent,
    Source,
    /// The employer of the row's worksite (needed only when two employers' worksites share a
    /// name). This and the fields below need `organizing:write`.
    Employer,
    /// The worksite's name: the person works there now.
    Worksite,
    /// A unit of that worksite, by name.
    Unit,
    JobTitle,
    Shift,
    /// The employment's start, `YYYY-MM-DD`.
    StartedOn,
    /// The level (1–5) in the import's campaign.
    CampaignLevel,
    /// The day a union card was signed, `YYYY-MM-DD`.
    CardSignedOn,
    /// The day the petition was signed, `YYYY-MM-DD`.
    PetitionSignedOn,
}

/// What to do with a row that matches an existing person (by email, else phone).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dedupe {
    /// Fill the person's fields from the row's non-empty cells.
    Update,
    /// Leave the person as they are.
    Skip,
    /// Every row must be a new person; a match is a row error (emails and phones are unique).
    Create,
}

impl Dedupe {
    fn as_str(self) -> &'static str {
        match self {
            Dedupe::Update => "update",
            Dedupe::Skip => "skip",
            Dedupe::Create => "create",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// (column header, field) pairs; columns not named are ignored.
    pub mapping: Vec<(String, ImportField)>,
    pub dedupe: Dedupe,
    /// Tags for every created or updated person.
    pub tags: Vec<String>,
    pub dry_run: bool,
    /// The organizing campaign that `CampaignLevel`, `CardSignedOn` and `PetitionSignedOn`
    /// record a standing in.
    pub campaign_id: Option<Uuid>,
}

/// A row that could not be imported. `line` is the file's line number (the header is line 1).
#[derive(Clone, Debug, Serialize)]
pub struct RowError {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct ImportReport {
    pub job_id: Uuid,
    pub dry_run: bool,
    pub total_rows: usize,
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
    pub error_count: usize,
    /// The first [`MAX_REPORTED_ERRORS`] row errors.
    pub errors: Vec<RowError>,
}

/// The text of an uploaded file: UTF-8 (a byte-order mark is dropped), or a clear error.
pub fn decode_text(bytes: &[u8]) -> DomainResult<&str> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        DomainError::validation(
            "csv",
            format!(
                "is not UTF-8 text (invalid byte at offset {}); save the file as CSV UTF-8",
                e.valid_up_to()
            ),
        )
    })?;
    if text.contains('\u{FFFD}') {
        return Err(DomainError::validation(
            "csv",
            "contains U+FFFD replacement characters: the file was probably not UTF-8 when it \
             was read; save it as CSV UTF-8 and upload it as it is (or base64)",
        ));
    }
    Ok(text)
}

#[derive(Clone, Debug, Default)]
struct Row {
    line: u64,
    text: HashMap<ImportField, String>,
    email: Option<String>,
    phone: Option<String>,
    ladder_stage: Option<String>,
    assessment: Option<i16>,
    sms: Option<bool>,
    email_consent: Option<bool>,
    whatsapp: Option<bool>,
    organizing: org_csv::Cells,
    place: Option<org_csv::Place>,
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "x" => Some(true),
        "false" | "no" | "n" | "0" | "" => Some(false),
        _ => None,
    }
}

fn text_limit(field: ImportField) -> usize {
    match field {
        ImportField::Zip => 20,
        ImportField::AddressLine1
        | ImportField::AddressLine2
        | ImportField::Source
        | ImportField::Employer
        | ImportField::Worksite
        | ImportField::Unit
        | ImportField::JobTitle => 200,
        _ => 100,
    }
}

/// Validates one record; `Err` is the row's error.
/// One row; a phone without a country code is read as `region`'s (the organization's).
fn parse_row(
    line: u64,
    record: &csv::StringRecord,
    columns: &[(usize, String, ImportField)],
    region: &str,
) -> Result<Row, RowError> {
    let mut row = Row {
        line,
        ..Row::default()
    };
    for (index, column, field) in columns {
        let raw = record.get(*index).unwrap_or("").trim();
        let err = |message: String| RowError {
            line,
            column: Some(column.clone()),
            message,
        };
        let msg = |e: DomainError| match e {
            DomainError::Validation(invalid) => invalid.first().message.clone(),
            other => other.to_string(),
        };
        if raw.is_empty() {
            continue;
        }
        match field {
            ImportField::Email => {
                row.email = Some(
                    Email::parse(column, raw)
                        .map_err(|e| err(msg(e)))?
                        .as_str()
                        .to_owned(),
                );
            }
            ImportField::Phone => {
                row.phone = Some(
                    Phone::parse(column, raw, region)
                        .map_err(|e| err(msg(e)))?
                        .as_str()
                        .to_owned(),
                );
            }
            ImportField::PreferredLanguage => {
                let tag = language_tag(column, raw).map_err(|e| err(msg(e)))?;
                row.text.insert(*field, tag);
            }
            ImportField::LadderStage => {
                row.ladder_stage = Some(ladder_stage(column, raw).map_err(|e| err(msg(e)))?);
            }
            ImportField::Assessment => {
                let a = raw
                    .parse::<i16>()
                    .ok()
                    .filter(|a| (1..=5).contains(a))
                    .ok_or_else(|| err("must be a whole number from 1 to 5".into()))?;
                row.assessment = Some(a);
            }
            ImportField::SmsConsent | ImportField::EmailConsent | ImportField::WhatsappConsent => {
                let v = parse_bool(raw)
                    .ok_or_else(|| err("must be yes/no, true/false or 1/0".into()))?;
                match field {
                    ImportField::SmsConsent => row.sms = Some(v),
                    ImportField::EmailConsent => row.email_consent = Some(v),
                    _ => row.whatsapp = Some(v),
                }
            }
            ImportField::StartedOn | ImportField::CardSignedOn | ImportField::PetitionSignedOn => {
                let day = org_csv::date(raw).map_err(err)?;
                let o = &mut row.organizing;
                match field {
                    ImportField::StartedOn => o.started_on = Some(day),
                    ImportField::CardSignedOn => o.card_signed_on = Some(day),
                    _ => o.petition_signed_on = Some(day),
                }
            }
            ImportField::CampaignLevel => {
                let level = raw
                    .parse::<i16>()
                    .ok()
                    .filter(|a| (1..=5).contains(a))
                    .ok_or_else(|| err("must be a whole number from 1 to 5".into()))?;
                row.organizing.level = Some(level);
            }
            _ => {
                let v = optional_text(column, Some(raw), text_limit(*field))
                    .map_err(|e| err(msg(e)))?;
                let o = &mut row.organizing;
                match field {
                    ImportField::Employer => o.employer = v,
                    ImportField::Worksite => o.worksite = v,
                    ImportField::Unit => o.unit = v,
                    ImportField::JobTitle => o.job_title = v,
                    ImportField::Shift => o.shift = v,
                    _ => {
                        if let Some(v) = v {
                            row.text.insert(*field, v);
                        }
                    }
                }
            }
        }
    }
    let row_err = |message: &str| RowError {
        line,
        column: None,
        message: message.to_owned(),
    };
    if row.email.is_none() && row.phone.is_none() {
        return Err(row_err("needs an email or a phone number"));
    }
    if (row.sms == Some(true) || row.whatsapp == Some(true)) && row.phone.is_none() {
        return Err(row_err("consent to texts needs a phone number"));
    }
    if row.email_consent == Some(true) && row.email.is_none() {
        return Err(row_err("consent to email needs an email address"));
    }
    Ok(row)
}

fn text(row: &Row, field: ImportField) -> Option<String> {
    row.text.get(&field).cloned()
}

fn new_person(
    org_id: Uuid,
    row: &Row,
    chapter: Option<Uuid>,
    now: DateTime<Utc>,
) -> people::ActiveModel {
    let consent = |v: Option<bool>| {
        if v == Some(true) {
            (true, Some(now), Some("import".to_owned()))
        } else {
            (false, None, None)
        }
    };
    let (sms, sms_at, sms_src) = consent(row.sms);
    let (em, em_at, em_src) = consent(row.email_consent);
    let (wa, wa_at, wa_src) = consent(row.whatsapp);
    people::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org_id),
        chapter_id: Set(chapter),
        first_name: Set(text(row, ImportField::FirstName)),
        last_name: Set(text(row, ImportField::LastName)),
        email: Set(row.email.clone()),
        phone: Set(row.phone.clone()),
        address_line1: Set(text(row, ImportField::AddressLine1)),
        address_line2: Set(text(row, ImportField::AddressLine2)),
        city: Set(text(row, ImportField::City)),
        region: Set(text(row, ImportField::Region)),
        zip: Set(text(row, ImportField::Zip)),
        country: Set(text(row, ImportField::Country)),
        preferred_language: Set(text(row, ImportField::PreferredLanguage)),
        time_zone: Set(None),
        ladder_stage: Set(row.ladder_stage.clone()),
        assessment: Set(row.assessment),
        point_person_user_id: Set(None),
        point_person_assigned_at: Set(None),
        // Longer than a sign-up's code: a 100,000-row import must not collide.
        referral_code: Set(random_code(12)),
        referred_by_person_id: Set(None),
        source: Set(text(row, ImportField::Source).or_else(|| Some("import".to_owned()))),
        utm_source: Set(None),
        utm_medium: Set(None),
        utm_campaign: Set(None),
        utm_term: Set(None),
        utm_content: Set(None),
        sms_consent: Set(sms),
        sms_consent_at: Set(sms_at),
        sms_consent_source: Set(sms_src),
        email_consent: Set(em),
        email_consent_at: Set(em_at),
        email_consent_source: Set(em_src),
        whatsapp_consent: Set(wa),
        whatsapp_consent_at: Set(wa_at),
        whatsapp_consent_source: Set(wa_src),
        whatsapp_window_ends_at: Set(None),
        archived_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The update a row makes to an existing person: its non-empty cells (empty cells never clear).
fn apply_row(person: &people::Model, row: &Row, now: DateTime<Utc>) -> people::ActiveModel {
    use sea_orm::IntoActiveModel;
    let mut m = person.clone().into_active_model();
    let set = |field: ImportField| text(row, field);
    if let Some(v) = set(ImportField::FirstName) {
        m.first_name = Set(Some(v));
    }
    if let Some(v) = set(ImportField::LastName) {
        m.last_name = Set(Some(v));
    }
    if let Some(v) = &row.email {
        m.email = Set(Some(v.clone()));
    }
    if let Some(v) = &row.phone {
        m.phone = Set(Some(v.clone()));
    }
    for (field, slot) in [
        (ImportField::AddressLine1, &mut m.address_line1),
        (ImportField::AddressLine2, &mut m.address_line2),
        (ImportField::City, &mut m.city),
        (ImportField::Region, &mut m.region),
        (ImportField::Zip, &mut m.zip),
        (ImportField::Country, &mut m.country),
        (ImportField::PreferredLanguage, &mut m.preferred_language),
        (ImportField::Source, &mut m.source),
    ] {
        if let Some(v) = set(field) {
            *slot = Set(Some(v));
        }
    }
    if let Some(v) = &row.ladder_stage {
        m.ladder_stage = Set(Some(v.clone()));
    }
    if let Some(v) = row.assessment {
        m.assessment = Set(Some(v));
    }
    let source = Some("import".to_owned());
    if let Some(v) = row.sms.filter(|v| *v != person.sms_consent) {
        m.sms_consent = Set(v);
        m.sms_consent_at = Set(v.then_some(now));
        m.sms_consent_source = Set(v.then(|| source.clone()).flatten());
    }
    if let Some(v) = row.email_consent.filter(|v| *v != person.email_consent) {
        m.email_consent = Set(v);
        m.email_consent_at = Set(v.then_some(now));
        m.email_consent_source = Set(v.then(|| source.clone()).flatten());
    }
    if let Some(v) = row.whatsapp.filter(|v| *v != person.whatsapp_consent) {
        m.whatsapp_consent = Set(v);
        m.whatsapp_consent_at = Set(v.then_some(now));
        m.whatsapp_consent_source = Set(v.then(|| source.clone()).flatten());
    }
    m.updated_at = Set(now);
    m
}

/// Existing people of the organization with one of `values` in `col`, chunked.
async fn existing_by(
    db: &Db,
    scope: &OrgScope,
    col: people::Column,
    values: Vec<String>,
) -> DomainResult<HashMap<String, people::Model>> {
    let mut out = HashMap::new();
    for chunk in values.chunks(MATCH_CHUNK) {
        let rows = people::Entity::find()
            .filter(people::Column::OrganizationId.eq(scope.org_id()))
            .filter(col.is_in(chunk.iter().cloned()))
            .all(db.conn())
            .await?;
        for p in rows {
            let key = match col {
                people::Column::Email => p.email.clone(),
                _ => p.phone.clone(),
            };
            if let Some(k) = key {
                out.insert(k, p);
            }
        }
    }
    Ok(out)
}

/// Imports people from CSV `bytes`.
pub async fn import(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    bytes: &[u8],
    options: &ImportOptions,
) -> DomainResult<ImportReport> {
    if scope.chapters().is_some() {
        return Err(DomainError::Forbidden(
            "importing people needs a credential for the whole organization".into(),
        ));
    }
    let tag_names = if options.tags.is_empty() {
        Vec::new()
    } else {
        valid_names("tags", &options.tags)?
    };
    let text = decode_text(bytes)?;
    let region = crate::organization::settings::phone_region(db, scope.org_id()).await?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let malformed = |e: csv::Error| {
        let at = e
            .position()
            .map(|p| format!(" at line {}", p.line()))
            .unwrap_or_default();
        let what = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("a row has {len} fields where the header has {expected_len}"),
            _ => "it is not well-formed CSV".to_owned(),
        };
        DomainError::validation("csv", format!("malformed CSV{at}: {what}"))
    };
    let headers = reader.headers().map_err(malformed)?.clone();
    if headers.is_empty() || headers.iter().all(|h| h.trim().is_empty()) {
        return Err(DomainError::validation("csv", "has no header row"));
    }
    let mut columns = Vec::new();
    for (i, (column, field)) in options.mapping.iter().enumerate() {
        let index = headers
            .iter()
            .position(|h| h.trim() == column.trim())
            .ok_or_else(|| {
                DomainError::validation(
                    format!("mapping[{i}].column"),
                    format!("the file has no column `{column}`"),
                )
            })?;
        if columns.iter().any(|(_, _, f)| f == field) {
            return Err(DomainError::validation(
                format!("mapping[{i}].field"),
                "is mapped twice",
            ));
        }
        columns.push((index, column.trim().to_owned(), *field));
    }
    if !columns
        .iter()
        .any(|(_, _, f)| matches!(f, ImportField::Email | ImportField::Phone))
    {
        return Err(DomainError::validation(
            "mapping",
            "must map a column to EMAIL or PHONE",
        ));
    }
    let organizing = columns.iter().any(|(_, _, f)| org_csv::is_organizing(*f));
    if organizing && !scope.holds(Scope::OrganizingWrite) {
        return Err(DomainError::Forbidden(
            "importing workplaces, campaign levels or signatures needs the `organizing:write` \
             scope"
                .into(),
        ));
    }
    if columns.iter().any(|(_, _, f)| org_csv::needs_campaign(*f)) && options.campaign_id.is_none()
    {
        return Err(DomainError::validation(
            "campaignId",
            "is needed to import CAMPAIGN_LEVEL, CARD_SIGNED_ON or PETITION_SIGNED_ON",
        ));
    }
    let workplaces = if organizing {
        Some(org_csv::Workplaces::load(db.conn(), scope, options.campaign_id).await?)
    } else {
        None
    };
    let header_of = |field: ImportField| {
        columns
            .iter()
            .find(|(_, _, f)| *f == field)
            .map(|(_, header, _)| header.clone())
    };

    // Parse and validate every row; a bad row is reported, the others go on.
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen_email: HashMap<String, u64> = HashMap::new();
    let mut seen_phone: HashMap<String, u64> = HashMap::new();
    let mut total_rows = 0;
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        total_rows += 1;
        if total_rows > MAX_ROWS {
            return Err(DomainError::validation(
                "csv",
                format!("has more than {MAX_ROWS} rows; split the file"),
            ));
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let mut row = match parse_row(line, &record, &columns, &region) {
            Ok(row) => row,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(workplaces) = &workplaces {
            match workplaces.place(&row.organizing) {
                Ok(place) => row.place = place,
                Err((field, message)) => {
                    errors.push(RowError {
                        line,
                        column: header_of(field),
                        message,
                    });
                    continue;
                }
            }
        }
        let dup = row
            .email
            .as_ref()
            .and_then(|e| seen_email.get(e))
            .or_else(|| row.phone.as_ref().and_then(|p| seen_phone.get(p)));
        if let Some(first) = dup {
            errors.push(RowError {
                line,
                column: None,
                message: format!("the same person as line {first} of this file"),
            });
            continue;
        }
        if let Some(e) = &row.email {
            seen_email.insert(e.clone(), line);
        }
        if let Some(p) = &row.phone {
            seen_phone.insert(p.clone(), line);
        }
        rows.push(row);
    }

    // Match existing people, by email then phone.
    let by_email = existing_by(
        db,
        scope,
        people::Column::Email,
        seen_email.into_keys().collect(),
    )
    .await?;
    let by_phone = existing_by(
        db,
        scope,
        people::Column::Phone,
        seen_phone.into_keys().collect(),
    )
    .await?;
    let now = Utc::now();
    let mut creates = Vec::new();
    let mut updates: Vec<(people::Model, Row)> = Vec::new();
    let mut skipped = 0;
    for row in rows {
        let email_match = row.email.as_ref().and_then(|e| by_email.get(e));
        let phone_match = row.phone.as_ref().and_then(|p| by_phone.get(p));
        if let (Some(a), Some(b)) = (email_match, phone_match)
            && a.id != b.id
        {
            errors.push(RowError {
                line: row.line,
                column: None,
                message: "its email and its phone belong to two different people".into(),
            });
            continue;
        }
        match (email_match.or(phone_match), options.dedupe) {
            (None, _) => creates.push(row),
            (Some(_), Dedupe::Skip) => skipped += 1,
            (Some(existing), Dedupe::Update) => updates.push((existing.clone(), row)),
            (Some(_), Dedupe::Create) => errors.push(RowError {
                line: row.line,
                column: None,
                message: "matches a person already in the CRM (same email or phone); import \
                          with dedupe UPDATE or SKIP"
                    .into(),
            }),
        }
    }
    // An update may not take another person's email or phone.
    updates.retain(|(person, row)| {
        let clash = row
            .phone
            .as_ref()
            .and_then(|p| by_phone.get(p))
            .is_some_and(|other| other.id != person.id)
            || row
                .email
                .as_ref()
                .and_then(|e| by_email.get(e))
                .is_some_and(|other| other.id != person.id);
        if clash {
            errors.push(RowError {
                line: row.line,
                column: None,
                message: "its email and its phone belong to two different people".into(),
            });
        }
        !clash
    });

    errors.sort_by_key(|e| e.line);
    let error_count = errors.len();
    errors.truncate(MAX_REPORTED_ERRORS);
    let mut report = ImportReport {
        job_id: Uuid::now_v7(),
        dry_run: options.dry_run,
        total_rows,
        created: creates.len(),
        updated: updates.len(),
        skipped,
        error_count,
        errors,
    };

    let tx = db.begin_write().await?;
    if !options.dry_run {
        let touched = write(&tx, scope, &creates, &updates, &tag_names, now).await?;
        if let Some(workplaces) = &workplaces {
            // `write` returns the people in the order of creates, then updates.
            let rows = creates.iter().chain(updates.iter().map(|(_, row)| row));
            let placed: Vec<org_csv::Placed> = touched
                .iter()
                .zip(rows)
                .filter_map(|(person_id, row)| {
                    row.place.map(|place| org_csv::Placed {
                        person_id: *person_id,
                        place,
                        cells: &row.organizing,
                    })
                })
                .collect();
            org_csv::write(&tx, scope, workplaces, &placed, now).await?;
        }
    }
    let (user, key) = scope.actor_ids();
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    import_jobs::ActiveModel {
        id: Set(report.job_id),
        organization_id: Set(scope.org_id()),
        status: Set(if options.dry_run { "dry_run" } else { "done" }.to_owned()),
        dry_run: Set(options.dry_run),
        dedupe: Set(options.dedupe.as_str().to_owned()),
        total_rows: Set(count(total_rows)),
        created_count: Set(count(report.created)),
        updated_count: Set(count(report.updated)),
        skipped_count: Set(count(report.skipped)),
        error_count: Set(count(error_count)),
        errors: Set(serde_json::to_value(&report.errors).map_err(DomainError::internal)?),
        actor_user_id: Set(user),
        actor_api_key_id: Set(key),
        created_at: Set(now),
        finished_at: Set(Some(Utc::now())),
    }
    .insert(&tx)
    .await?;
    if !options.dry_run {
        let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let completed = DomainEvent::ImportCompleted {
            import_id: report.job_id,
            created: as_u64(report.created),
            updated: as_u64(report.updated),
            skipped: as_u64(report.skipped),
            failed: as_u64(error_count),
        };
        outbox::record(&tx, scope, completed).await?;
    }
    audit::record(
        &tx,
        scope,
        ctx,
        if options.dry_run {
            "people.import_dry_run"
        } else {
            "people.import"
        },
        "import_job",
        Some(report.job_id),
        if organizing {
            &["people", "employments", "campaign_standings"]
        } else {
            &["people"]
        },
    )
    .await?;
    tx.commit().await?;
    report.errors.shrink_to_fit();
    Ok(report)
}

async fn write(
    tx: &sea_orm::DatabaseTransaction,
    scope: &OrgScope,
    creates: &[Row],
    updates: &[(people::Model, Row)],
    tag_names: &[String],
    now: DateTime<Utc>,
) -> DomainResult<Vec<Uuid>> {
    let org = scope.org_id();
    let (user, key) = scope.actor_ids();
    let mut touched: Vec<Uuid> = Vec::with_capacity(creates.len() + updates.len());
    let mut history = Vec::new();
    let change = |person_id: Uuid, field: &str, from: Option<String>, to: Option<String>| {
        ladder_changes::ActiveModel {
            id: Set(Uuid::now_v7()),
            organization_id: Set(org),
            person_id: Set(person_id),
            field: Set(field.to_owned()),
            from_value: Set(from),
            to_value: Set(to),
            actor_user_id: Set(user),
            actor_api_key_id: Set(key),
            changed_at: Set(now),
        }
    };
    // People without a chapter are placed by their zip code, as sign-ups are.
    let zip_rules = ZipRules::of_organization(tx, org).await?;
    let zip_of = |row: &Row| text(row, ImportField::Zip);
    for chunk in creates.chunks(INSERT_CHUNK) {
        let models: Vec<people::ActiveModel> = chunk
            .iter()
            .map(|row| {
                let chapter = zip_rules.chapter_for(zip_of(row).as_deref());
                new_person(org, row, chapter, now)
            })
            .collect();
        for (m, row) in models.iter().zip(chunk) {
            let id = *m.id.as_ref();
            touched.push(id);
            if row.ladder_stage.is_some() {
                history.push(change(
                    id,
                    ladder::LADDER_STAGE,
                    None,
                    row.ladder_stage.clone(),
                ));
            }
            if let Some(a) = row.assessment {
                history.push(change(id, ladder::ASSESSMENT, None, Some(a.to_string())));
            }
        }
        people::Entity::insert_many(models)
            .exec_without_returning(tx)
            .await?;
    }
    for (person, row) in updates {
        let mut m = apply_row(person, row, now);
        if person.chapter_id.is_none() {
            // The file's zip replaces the one on file, so it is the one that places.
            let zip = zip_of(row).or_else(|| person.zip.clone());
            if let Some(chapter) = zip_rules.chapter_for(zip.as_deref()) {
                m.chapter_id = Set(Some(chapter));
            }
        }
        if row.ladder_stage.is_some() && row.ladder_stage != person.ladder_stage {
            history.push(change(
                person.id,
                ladder::LADDER_STAGE,
                person.ladder_stage.clone(),
                row.ladder_stage.clone(),
            ));
        }
        if row.assessment.is_some() && row.assessment != person.assessment {
            history.push(change(
                person.id,
                ladder::ASSESSMENT,
                person.assessment.map(|a| a.to_string()),
                row.assessment.map(|a| a.to_string()),
            ));
        }
        m.update(tx).await?;
        touched.push(person.id);
    }
    for chunk in history.chunks(INSERT_CHUNK * 3) {
        ladder_changes::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(tx)
            .await?;
    }
    if !tag_names.is_empty() {
        let tag_rows = tags::ensure(tx, scope, tag_names).await?;
        let pairs: Vec<taggings::ActiveModel> = touched
            .iter()
            .flat_map(|person_id| {
                tag_rows.iter().map(move |t| taggings::ActiveModel {
                    organization_id: Set(org),
                    person_id: Set(*person_id),
                    tag_id: Set(t.id),
                    created_at: Set(now),
                })
            })
            .collect();
        for chunk in pairs.chunks(INSERT_CHUNK * 4) {
            taggings::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([taggings::Column::PersonId, taggings::Column::TagId])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(tx)
                .await?;
        }
    }
    Ok(touched)
}

/// Records an export in the audit log (it reads people in bulk, and with `organizing` their
/// workplaces and standing).
pub async fn record_export(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    ctx: &RequestContext,
    organizing: bool,
) -> DomainResult<()> {
    audit::record(
        db.conn(),
        scope,
        ctx,
        "people.export",
        "person",
        None,
        if organizing {
            &["people", "employments", "campaign_standings"]
        } else {
            &["people"]
        },
    )
    .await
}

/// The columns of an export, in order.
pub const EXPORT_COLUMNS: [&str; 20] = [
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "zip",
    "country",
    "preferred_language",
    "ladder_stage",
    "assessment",
    "sms_consent",
    "email_consent",
    "whatsapp_consent",
    "tags",
    "source",
    "created_at",
];

/// A cell safe to open in a spreadsheet: text starting with `=`, `+`, `-` or `@` would be
/// read as a formula, so it gets a leading `'`.
fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// The CSV header line of an export, with `extra` columns after the person's.
pub fn export_header(extra: &[&str]) -> DomainResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(EXPORT_COLUMNS.iter().chain(extra))
        .map_err(|e| DomainError::internal(format!("csv: {e}")))?;
    w.into_inner()
        .map_err(|e| DomainError::internal(format!("csv: {e}")))
}

/// CSV lines for a batch of people, with their tags and, when given, each person's cells of
/// the extra columns.
pub fn export_rows(
    people: &[people::Model],
    tags: &HashMap<Uuid, Vec<turnout_entity::tags::Model>>,
    extra: Option<&HashMap<Uuid, Vec<String>>>,
) -> DomainResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let opt = |v: &Option<String>| cell(v.as_deref().unwrap_or(""));
    for p in people {
        let tag_list = tags
            .get(&p.id)
            .map(|ts| {
                ts.iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(";")
            })
            .unwrap_or_default();
        let more = extra
            .and_then(|cells| cells.get(&p.id))
            .into_iter()
            .flatten()
            .map(|c| cell(c));
        let person = [
            p.id.to_string(),
            opt(&p.first_name),
            opt(&p.last_name),
            opt(&p.email),
            // E.164 numbers start with `+`; they are not formulas and stay as they are.
            p.phone.clone().unwrap_or_default(),
            opt(&p.address_line1),
            opt(&p.address_line2),
            opt(&p.city),
            opt(&p.region),
            opt(&p.zip),
            opt(&p.country),
            opt(&p.preferred_language),
            opt(&p.ladder_stage),
            p.assessment.map(|a| a.to_string()).unwrap_or_default(),
            p.sms_consent.to_string(),
            p.email_consent.to_string(),
            p.whatsapp_consent.to_string(),
            cell(&tag_list),
            opt(&p.source),
            p.created_at.to_rfc3339(),
        ];
        w.write_record(person.into_iter().chain(more))
            .map_err(|e| DomainError::internal(format!("csv: {e}")))?;
    }
    w.into_inner()
        .map_err(|e| DomainError::internal(format!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_must_be_utf8() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFa,b").unwrap(), "a,b");
        assert!(decode_text(b"name\nJos\xE9\n").is_err());
        assert!(decode_text("Jos\u{FFFD}".as_bytes()).is_err());
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("Ada"), "Ada");
    }
}
