//! Importing people from CSV.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use base64::Engine as _;
use turnout_domain::auth::perm;
use turnout_domain::people_csv::{self, Dedupe, ImportField, ImportOptions, ImportReport};

use super::audit::request_context;
use super::context::{can, db};
use crate::error::{GqlResult, invalid};
use crate::ids::parse_uuid;

/// A person field a CSV column can fill.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum PersonField {
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// Email (validated, lowercased).
    Email,
    /// Phone (validated, stored as E.164; US national numbers accepted).
    Phone,
    /// Street address, first line.
    AddressLine1,
    /// Street address, second line.
    AddressLine2,
    /// City.
    City,
    /// State, province or region.
    Region,
    /// Postal code.
    Zip,
    /// Country.
    Country,
    /// BCP 47 language tag.
    PreferredLanguage,
    /// Ladder stage.
    LadderStage,
    /// Assessment, 1–5.
    Assessment,
    /// Consent to texts: yes/no, true/false, 1/0.
    SmsConsent,
    /// Consent to email.
    EmailConsent,
    /// Consent to WhatsApp.
    WhatsappConsent,
    /// Where the person came from (default `import`).
    Source,
    /// The employer of the row's worksite, needed only when two employers have worksites of
    /// the same name. This and the fields below need `organizing:write`.
    Employer,
    /// The name of an existing worksite (any case): the person works there now. A current
    /// employment there is kept (and updated), otherwise one is added.
    Worksite,
    /// The name of a unit of that worksite.
    Unit,
    /// The job title.
    JobTitle,
    /// The shift worked.
    Shift,
    /// The employment's start, `YYYY-MM-DD`.
    StartedOn,
    /// The level, 1–5, in the import's `campaignId` (kept in the assessment history).
    CampaignLevel,
    /// The day a union card was signed in the campaign, `YYYY-MM-DD`.
    CardSignedOn,
    /// The day the campaign's petition was signed, `YYYY-MM-DD`.
    PetitionSignedOn,
}

impl From<PersonField> for ImportField {
    fn from(f: PersonField) -> Self {
        match f {
            PersonField::FirstName => ImportField::FirstName,
            PersonField::LastName => ImportField::LastName,
            PersonField::Email => ImportField::Email,
            PersonField::Phone => ImportField::Phone,
            PersonField::AddressLine1 => ImportField::AddressLine1,
            PersonField::AddressLine2 => ImportField::AddressLine2,
            PersonField::City => ImportField::City,
            PersonField::Region => ImportField::Region,
            PersonField::Zip => ImportField::Zip,
            PersonField::Country => ImportField::Country,
            PersonField::PreferredLanguage => ImportField::PreferredLanguage,
            PersonField::LadderStage => ImportField::LadderStage,
            PersonField::Assessment => ImportField::Assessment,
            PersonField::SmsConsent => ImportField::SmsConsent,
            PersonField::EmailConsent => ImportField::EmailConsent,
            PersonField::WhatsappConsent => ImportField::WhatsappConsent,
            PersonField::Source => ImportField::Source,
            PersonField::Employer => ImportField::Employer,
            PersonField::Worksite => ImportField::Worksite,
            PersonField::Unit => ImportField::Unit,
            PersonField::JobTitle => ImportField::JobTitle,
            PersonField::Shift => ImportField::Shift,
            PersonField::StartedOn => ImportField::StartedOn,
            PersonField::CampaignLevel => ImportField::CampaignLevel,
            PersonField::CardSignedOn => ImportField::CardSignedOn,
            PersonField::PetitionSignedOn => ImportField::PetitionSignedOn,
        }
    }
}

/// What to do with a row that matches a person already in the CRM (same email, else phone).
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum DedupePolicy {
    /// Fill the person's fields from the row's non-empty cells.
    #[default]
    Update,
    /// Leave the person as they are (counted as skipped).
    Skip,
    /// Only create: a matching row is a row error.
    Create,
}

/// One column of the file and the person field it fills.
#[derive(InputObject)]
pub struct ColumnMapping {
    /// The column's header, as in the file's first line.
    pub column: String,
    /// The field it fills.
    pub field: PersonField,
}

/// A CSV import. Give the file as `csv` (text) or `csvBase64` (the file's bytes, so a file
/// that is not UTF-8 is caught and reported); the request body limit applies.
#[derive(InputObject)]
pub struct ImportPeopleInput {
    /// The file as text; the first line is the header.
    pub csv: Option<String>,
    /// The file's bytes, base64; must be UTF-8 text.
    pub csv_base64: Option<String>,
    /// Which column fills which field; must include EMAIL or PHONE. Other columns are ignored.
    pub mapping: Vec<ColumnMapping>,
    /// What to do with rows matching existing people.
    #[graphql(default)]
    pub dedupe: DedupePolicy,
    /// Tags for every created or updated person.
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Check and count without writing people (the import job is still recorded).
    #[graphql(default)]
    pub dry_run: bool,
    /// The organizing campaign (a UUID) that `CAMPAIGN_LEVEL`, `CARD_SIGNED_ON` and
    /// `PETITION_SIGNED_ON` record a standing in; each row's worksite or unit must be one it
    /// covers.
    pub campaign_id: Option<ID>,
}

/// A row that was not imported.
#[derive(SimpleObject)]
pub struct ImportRowError {
    /// The line in the file (the header is line 1).
    pub line: u64,
    /// The column at fault, if one.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// What an import did (or, for a dry run, would do).
#[derive(SimpleObject)]
pub struct ImportPeopleResult {
    /// The recorded import job (its UUID).
    pub job_id: ID,
    /// True when nothing was written but the job.
    pub dry_run: bool,
    /// Data rows in the file.
    pub total_rows: u64,
    /// People created.
    pub created: u64,
    /// Existing people updated.
    pub updated: u64,
    /// Rows matching existing people, left alone (`SKIP`).
    pub skipped: u64,
    /// Rows not imported.
    pub error_count: u64,
    /// The first 1000 row errors, by line.
    pub errors: Vec<ImportRowError>,
}

impl From<ImportReport> for ImportPeopleResult {
    fn from(r: ImportReport) -> Self {
        Self {
            job_id: ID(r.job_id.to_string()),
            dry_run: r.dry_run,
            total_rows: r.total_rows as u64,
            created: r.created as u64,
            updated: r.updated as u64,
            skipped: r.skipped as u64,
            error_count: r.error_count as u64,
            errors: r
                .errors
                .into_iter()
                .map(|e| ImportRowError {
                    line: e.line,
                    column: e.column,
                    message: e.message,
                })
                .collect(),
        }
    }
}

/// Importing people. Needs `people:write`.
#[derive(Default)]
pub struct PeopleCsvMutation;

#[Object]
impl PeopleCsvMutation {
    /// Import people from a CSV file, in one transaction. Bad rows are reported and skipped;
    /// a file that is not UTF-8 or not well-formed CSV is refused whole (`VALIDATION` on `csv`).
    async fn import_people(
        &self,
        ctx: &Context<'_>,
        input: ImportPeopleInput,
    ) -> async_graphql::Result<ImportPeopleResult> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let bytes = match (input.csv, input.csv_base64) {
            (Some(text), None) => text.into_bytes(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| invalid("input.csvBase64", "is not base64"))?,
            _ => {
                return Err(invalid(
                    "input.csv",
                    "give exactly one of `csv` and `csvBase64`",
                ));
            }
        };
        let options = ImportOptions {
            mapping: input
                .mapping
                .into_iter()
                .map(|m| (m.column, m.field.into()))
                .collect(),
            dedupe: match input.dedupe {
                DedupePolicy::Update => Dedupe::Update,
                DedupePolicy::Skip => Dedupe::Skip,
                DedupePolicy::Create => Dedupe::Create,
            },
            tags: input.tags,
            dry_run: input.dry_run,
            campaign_id: input
                .campaign_id
                .map(|id| parse_uuid("input.campaignId", &id))
                .transpose()?,
        };
        Ok(
            people_csv::import(db(ctx), &scope, &request_context(ctx), &bytes, &options)
                .await
                .gql()?
                .into(),
        )
    }
}
