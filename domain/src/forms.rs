//! Forms: the public sign-up pages. A form names the fields it asks for (and which are
//! required), the tags every sign-up gets, and the consent wording shown next to the boxes.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use turnout_entity::forms;
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::OrgScope;
use crate::auth::{Can, perm};
use crate::db::{Db, taken_if_unique};
use crate::error::{DomainError, DomainResult};
use crate::values::{optional_text, required_text};

/// The person fields a form can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKey {
    FirstName,
    LastName,
    Email,
    Phone,
    Zip,
    AddressLine1,
    AddressLine2,
    City,
    Region,
    PreferredLanguage,
}

/// One field a form asks for. `label` and `help` replace the page's own words for it (in
/// every language the page speaks; a form is usually written in one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    pub key: FieldKey,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl FormField {
    /// A field with the page's own label and no help.
    pub fn new(key: FieldKey, required: bool) -> Self {
        Self {
            key,
            required,
            label: None,
            help: None,
        }
    }
}

/// A form as the domain sees it: the stored row with its JSON columns parsed.
#[derive(Clone, Debug)]
pub struct Form {
    pub row: forms::Model,
    pub fields: Vec<FormField>,
    pub default_tags: Vec<String>,
}

impl Form {
    fn from_row(row: forms::Model) -> DomainResult<Self> {
        let fields = serde_json::from_value(row.fields.clone())
            .map_err(|e| DomainError::internal(format!("form {} has bad fields: {e}", row.id)))?;
        let default_tags = serde_json::from_value(row.default_tags.clone())
            .map_err(|e| DomainError::internal(format!("form {} has bad tags: {e}", row.id)))?;
        Ok(Self {
            row,
            fields,
            default_tags,
        })
    }

    pub fn is_required(&self, key: FieldKey) -> bool {
        self.fields.iter().any(|f| f.key == key && f.required)
    }
}

pub struct NewForm {
    /// The chapter whose form it is: people who sign up through it without a chapter join it.
    pub chapter_id: Option<Uuid>,
    pub slug: String,
    pub title: String,
    /// A paragraph under the title.
    pub description: Option<String>,
    pub fields: Vec<FormField>,
    pub default_tags: Vec<String>,
    pub consent_text: Option<String>,
}

/// The live form with `slug`, for the public (archived forms are not found): `SUSPENDED`
/// while its organization is.
pub async fn by_slug(db: &Db, slug: &str) -> DomainResult<Form> {
    Ok(with_organization(db, slug).await?.0)
}

/// [`by_slug`] and the form's organization, in one statement.
pub async fn with_organization(
    db: &Db,
    slug: &str,
) -> DomainResult<(Form, turnout_entity::organizations::Model)> {
    let (row, org) = forms::Entity::find()
        .filter(forms::Column::Slug.eq(slug))
        .filter(forms::Column::ArchivedAt.is_null())
        .find_also_related(turnout_entity::organizations::Entity)
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("form"))?;
    crate::organization::refuse_suspended(org.as_ref())?;
    let org = org.ok_or(DomainError::not_found("organization"))?;
    Ok((Form::from_row(row)?, org))
}

pub async fn get(db: &Db, scope: &Can<perm::PeopleRead>, id: Uuid) -> DomainResult<Form> {
    let row = forms::Entity::find_by_id(id)
        .filter(forms::Column::OrganizationId.eq(scope.org_id()))
        .one(db.conn())
        .await?
        .ok_or(DomainError::not_found("form"))?;
    Form::from_row(row)
}

pub async fn list(db: &Db, scope: &Can<perm::PeopleRead>) -> DomainResult<Vec<Form>> {
    forms::Entity::find()
        .filter(forms::Column::OrganizationId.eq(scope.org_id()))
        .order_by_asc(forms::Column::Slug)
        .all(db.conn())
        .await?
        .into_iter()
        .map(Form::from_row)
        .collect()
}

/// Creates a form; a slug already taken (by any organization) is a `Conflict`.
pub async fn create(
    db: &Db,
    scope: &Can<perm::FormsWrite>,
    ctx: &RequestContext,
    new: NewForm,
) -> DomainResult<Form> {
    let tx = db.begin_write().await?;
    let form = insert(&tx, scope, new).await?;
    let fields = [
        "slug",
        "title",
        "description",
        "fields",
        "default_tags",
        "consent_text",
        "chapter_id",
    ];
    audit::record(
        &tx,
        scope,
        ctx,
        "form.create",
        "form",
        Some(form.row.id),
        &fields,
    )
    .await?;
    tx.commit().await?;
    Ok(form)
}

pub(crate) async fn insert<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    new: NewForm,
) -> DomainResult<Form> {
    let slug = validate_slug("input.slug", &new.slug)?;
    let title = required_text("input.title", Some(&new.title), 200)?;
    let consent_text = optional_text("input.consentText", new.consent_text.as_deref(), 2000)?;
    let description = optional_text("input.description", new.description.as_deref(), 2000)?;
    let mut fields = new.fields.clone();
    for (i, field) in fields.iter_mut().enumerate() {
        field.label = optional_text(
            &format!("input.fields[{i}].label"),
            field.label.as_deref(),
            100,
        )?;
        field.help = optional_text(
            &format!("input.fields[{i}].help"),
            field.help.as_deref(),
            300,
        )?;
    }
    if new.fields.is_empty() {
        return Err(DomainError::validation(
            "input.fields",
            "must ask for at least one field",
        ));
    }
    for (i, field) in new.fields.iter().enumerate() {
        if new.fields[..i].iter().any(|f| f.key == field.key) {
            return Err(DomainError::validation(
                format!("input.fields[{i}]"),
                "is asked twice",
            ));
        }
    }
    if !new
        .fields
        .iter()
        .any(|f| matches!(f.key, FieldKey::Email | FieldKey::Phone))
    {
        return Err(DomainError::validation(
            "input.fields",
            "must ask for an email or a phone",
        ));
    }
    let default_tags = validate_tag_names("input.defaultTags", &new.default_tags)?;
    if let Some(chapter) = new.chapter_id {
        crate::organization::chapters::open_chapter(
            conn,
            scope.org_id(),
            chapter,
            "input.chapterId",
        )
        .await?;
    }
    let now = Utc::now();
    let row = forms::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        chapter_id: Set(new.chapter_id),
        slug: Set(slug),
        title: Set(title),
        description: Set(description),
        fields: Set(serde_json::to_value(&fields).map_err(DomainError::internal)?),
        default_tags: Set(serde_json::json!(default_tags)),
        consent_text: Set(consent_text),
        event_id: Set(None),
        shift_id: Set(None),
        archived_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .map_err(|e| taken_if_unique(e, "input.slug", "a form with this slug already exists"))?;
    Form::from_row(row)
}

/// Slugs appear in public URLs: lowercase letters, digits and dashes.
fn validate_slug(field: &str, raw: &str) -> DomainResult<String> {
    let slug = raw.trim();
    let ok = (2..=64).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(slug.to_owned())
    } else {
        Err(DomainError::validation(
            field,
            "must be 2 to 64 lowercase letters, digits or dashes, not starting or ending with a dash",
        ))
    }
}

/// Tag names: trimmed, 1 to 64 characters, no duplicates, at most 20.
pub(crate) fn validate_tag_names(field: &str, names: &[String]) -> DomainResult<Vec<String>> {
    if names.len() > 20 {
        return Err(DomainError::validation(field, "may name at most 20 tags"));
    }
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let name = required_text(&format!("{field}[{i}]"), Some(name), 64)?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(validate_slug("s", " volunteer ").unwrap(), "volunteer");
        for bad in [
            "",
            "a",
            "Volunteer",
            "vol unteer",
            "-vol",
            "vol-",
            "vol/x",
            &"a".repeat(65),
        ] {
            assert!(validate_slug("s", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn tag_names_are_deduplicated_and_bounded() {
        let names = vec!["a".to_owned(), " a ".to_owned(), "b".to_owned()];
        assert_eq!(validate_tag_names("t", &names).unwrap(), vec!["a", "b"]);
        assert!(validate_tag_names("t", &["".to_owned()]).is_err());
        assert!(validate_tag_names("t", &vec!["x".to_owned(); 21]).is_err());
    }
}
