//! Custom fields: an organization defines its own person fields (text, number, boolean, date,
//! single or multiple choice) and sets their values on people, each value checked against its
//! definition. A `restricted` field (sensitive data) is read and written only by callers with
//! the `people:restricted` scope; other callers do not see it at all.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::Value;
use turnout_entity::{custom_field_values, custom_fields};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::{Db, taken_if_unique};
use crate::error::{DomainError, DomainResult};
use crate::outbox::{self, DomainEvent};
use crate::person_write::find_in;
use crate::values::required_text;

/// Whether the caller holds `people:restricted` (see [`crate::auth::Scope::PeopleRestricted`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestrictedAccess(pub bool);

/// The kinds of value a custom field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Text,
    Number,
    Boolean,
    Date,
    SingleSelect,
    MultiSelect,
}

impl FieldType {
    pub const ALL: [FieldType; 6] = [
        FieldType::Text,
        FieldType::Number,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::SingleSelect,
        FieldType::MultiSelect,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::SingleSelect => "single_select",
            FieldType::MultiSelect => "multi_select",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    fn has_options(self) -> bool {
        matches!(self, FieldType::SingleSelect | FieldType::MultiSelect)
    }
}

/// A field definition with its type and options parsed.
#[derive(Clone, Debug)]
pub struct CustomField {
    pub row: custom_fields::Model,
    pub field_type: FieldType,
    pub options: Vec<String>,
}

impl CustomField {
    fn from_row(row: custom_fields::Model) -> DomainResult<Self> {
        let field_type = FieldType::parse(&row.field_type).ok_or_else(|| {
            DomainError::internal(format!("custom field {} has an unknown type", row.id))
        })?;
        let options = serde_json::from_value(row.options.clone()).map_err(|e| {
            DomainError::internal(format!("custom field {} has bad options: {e}", row.id))
        })?;
        Ok(Self {
            row,
            field_type,
            options,
        })
    }

    /// Checks and normalizes a value for this field. `field` names it in the error.
    pub fn check(&self, field: &str, value: &Value) -> DomainResult<Value> {
        let bad = |msg: &str| DomainError::validation(field, format!("`{}` {msg}", self.row.key));
        match self.field_type {
            FieldType::Text => {
                let s = value.as_str().ok_or_else(|| bad("takes text"))?.trim();
                if s.chars().count() > 2000 {
                    return Err(bad("is longer than 2000 characters"));
                }
                if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                    return Err(bad("contains control characters"));
                }
                Ok(Value::String(s.to_owned()))
            }
            FieldType::Number => match value {
                Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => Ok(value.clone()),
                Value::String(s) => s
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| bad("takes a number")),
                _ => Err(bad("takes a number")),
            },
            FieldType::Boolean => match value {
                Value::Bool(_) => Ok(value.clone()),
                Value::String(s) => match s.trim().to_lowercase().as_str() {
                    "true" | "yes" | "1" => Ok(Value::Bool(true)),
                    "false" | "no" | "0" => Ok(Value::Bool(false)),
                    _ => Err(bad("takes true or false")),
                },
                _ => Err(bad("takes true or false")),
            },
            FieldType::Date => {
                let s = value
                    .as_str()
                    .ok_or_else(|| bad("takes a date (YYYY-MM-DD)"))?
                    .trim();
                let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| bad("takes a date (YYYY-MM-DD)"))?;
                Ok(Value::String(d.format("%Y-%m-%d").to_string()))
            }
            FieldType::SingleSelect => {
                let s = value
                    .as_str()
                    .ok_or_else(|| bad("takes one of its options"))?;
                if !self.options.iter().any(|o| o == s) {
                    return Err(bad(&format!("takes one of: {}", self.options.join(", "))));
                }
                Ok(Value::String(s.to_owned()))
            }
            FieldType::MultiSelect => {
                let items = value
                    .as_array()
                    .ok_or_else(|| bad("takes a list of its options"))?;
                let mut out: Vec<String> = Vec::new();
                for item in items {
                    let s = item
                        .as_str()
                        .ok_or_else(|| bad("takes a list of its options"))?;
                    if !self.options.iter().any(|o| o == s) {
                        return Err(bad(&format!(
                            "takes options among: {}",
                            self.options.join(", ")
                        )));
                    }
                    if !out.iter().any(|o| o == s) {
                        out.push(s.to_owned());
                    }
                }
                Ok(Value::from(out))
            }
        }
    }
}

/// A new field definition.
#[derive(Clone, Debug)]
pub struct NewCustomField {
    pub key: String,
    pub label: String,
    pub field_type: FieldType,
    pub options: Vec<String>,
    pub restricted: bool,
}

fn valid_key(key: &str) -> DomainResult<String> {
    let key = key.trim();
    let ok = (1..=64).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        return Err(DomainError::validation(
            "input.key",
            "must be 1–64 lowercase letters, digits or `_`, starting with a letter",
        ));
    }
    Ok(key.to_owned())
}

/// Defines a field. A taken key is a `CONFLICT`; defining a restricted field needs
/// restricted access.
pub async fn define(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    access: RestrictedAccess,
    ctx: &RequestContext,
    new: NewCustomField,
) -> DomainResult<CustomField> {
    let key = valid_key(&new.key)?;
    let label = required_text("input.label", Some(&new.label), 100)?;
    if new.restricted && !access.0 {
        return Err(DomainError::Forbidden(
            "restricted fields need the `people:restricted` scope".into(),
        ));
    }
    let mut options: Vec<String> = Vec::new();
    if new.field_type.has_options() {
        if new.options.is_empty() || new.options.len() > 100 {
            return Err(DomainError::validation(
                "input.options",
                "a choice field needs 1–100 options",
            ));
        }
        for raw in &new.options {
            let o = required_text("input.options", Some(raw), 100)?;
            if options.contains(&o) {
                return Err(DomainError::validation(
                    "input.options",
                    format!("`{o}` is listed twice"),
                ));
            }
            options.push(o);
        }
    } else if !new.options.is_empty() {
        return Err(DomainError::validation(
            "input.options",
            "only choice fields have options",
        ));
    }
    let tx = db.begin_write().await?;
    let id = Uuid::now_v7();
    let row = custom_fields::ActiveModel {
        id: Set(id),
        organization_id: Set(scope.org_id()),
        key: Set(key),
        label: Set(label),
        field_type: Set(new.field_type.as_str().to_owned()),
        options: Set(Value::from(options.clone())),
        restricted: Set(new.restricted),
        created_at: Set(Utc::now()),
    }
    .insert(&tx)
    .await
    .map_err(|e| {
        taken_if_unique(
            e,
            "input.key",
            "a custom field with this key already exists",
        )
    })?;
    audit::record(
        &tx,
        scope,
        ctx,
        "custom_field.create",
        "custom_field",
        Some(id),
        &["key", "label", "field_type", "options", "restricted"],
    )
    .await?;
    tx.commit().await?;
    Ok(CustomField {
        row,
        field_type: new.field_type,
        options,
    })
}

/// The organization's fields the caller may see, by key.
pub async fn list(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    access: RestrictedAccess,
) -> DomainResult<Vec<CustomField>> {
    let mut q = custom_fields::Entity::find()
        .filter(custom_fields::Column::OrganizationId.eq(scope.org_id()));
    if !access.0 {
        q = q.filter(custom_fields::Column::Restricted.eq(false));
    }
    q.order_by_asc(custom_fields::Column::Key)
        .all(db.conn())
        .await?
        .into_iter()
        .map(CustomField::from_row)
        .collect()
}

/// One field definition; a restricted one is `NOT_FOUND` without restricted access.
pub async fn get(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    access: RestrictedAccess,
    id: Uuid,
) -> DomainResult<CustomField> {
    let row = custom_fields::Entity::find_by_id(id)
        .filter(custom_fields::Column::OrganizationId.eq(scope.org_id()))
        .one(db.conn())
        .await?
        .filter(|f| access.0 || !f.restricted)
        .ok_or(DomainError::not_found("custom field"))?;
    CustomField::from_row(row)
}

/// A value to set: `None` clears it.
#[derive(Clone, Debug)]
pub struct FieldValue {
    pub key: String,
    pub value: Option<Value>,
}

/// Sets (or clears) custom field values on a person. Every value is checked first; one bad
/// value refuses them all. Unknown keys are `VALIDATION`; a restricted field without
/// restricted access is `FORBIDDEN`.
pub async fn set_values(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    access: RestrictedAccess,
    ctx: &RequestContext,
    person_id: Uuid,
    values: &[FieldValue],
) -> DomainResult<()> {
    if values.len() > 100 {
        return Err(DomainError::validation("values", "at most 100 at once"));
    }
    let keys: Vec<String> = values.iter().map(|v| v.key.clone()).collect();
    let fields: HashMap<String, CustomField> = custom_fields::Entity::find()
        .filter(custom_fields::Column::OrganizationId.eq(scope.org_id()))
        .filter(custom_fields::Column::Key.is_in(keys))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|row| CustomField::from_row(row).map(|f| (f.row.key.clone(), f)))
        .collect::<DomainResult<_>>()?;
    let now = Utc::now();
    let mut upserts = Vec::new();
    let mut clears = Vec::new();
    let mut seen = HashSet::new();
    for (i, v) in values.iter().enumerate() {
        let Some(field) = fields.get(&v.key) else {
            return Err(DomainError::validation(
                format!("values[{i}].key"),
                format!("`{}` is not a custom field", v.key),
            ));
        };
        if field.row.restricted && !access.0 {
            return Err(DomainError::Forbidden(
                "restricted fields need the `people:restricted` scope".into(),
            ));
        }
        if !seen.insert(field.row.id) {
            return Err(DomainError::validation(
                format!("values[{i}].key"),
                format!("`{}` is given twice", v.key),
            ));
        }
        match &v.value {
            None | Some(Value::Null) => clears.push(field.row.id),
            Some(value) => {
                let value = field.check(&format!("values.{}", v.key), value)?;
                upserts.push(custom_field_values::ActiveModel {
                    organization_id: Set(scope.org_id()),
                    person_id: Set(person_id),
                    custom_field_id: Set(field.row.id),
                    value: Set(value),
                    updated_at: Set(now),
                });
            }
        }
    }
    let tx = db.begin_write().await?;
    find_in(&tx, scope, person_id).await?;
    if !upserts.is_empty() {
        custom_field_values::Entity::insert_many(upserts)
            .on_conflict(
                OnConflict::columns([
                    custom_field_values::Column::PersonId,
                    custom_field_values::Column::CustomFieldId,
                ])
                .update_columns([
                    custom_field_values::Column::Value,
                    custom_field_values::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&tx)
            .await?;
    }
    if !clears.is_empty() {
        custom_field_values::Entity::delete_many()
            .filter(custom_field_values::Column::PersonId.eq(person_id))
            .filter(custom_field_values::Column::CustomFieldId.is_in(clears))
            .exec(&tx)
            .await?;
    }
    let names: Vec<&str> = values.iter().map(|v| v.key.as_str()).collect();
    let changed = DomainEvent::PersonCustomFieldsChanged {
        person_id,
        keys: names.iter().map(|k| k.to_string()).collect(),
    };
    outbox::record(&tx, scope, changed).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "person.set_custom_fields",
        "person",
        Some(person_id),
        &names,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A value of a person, with its field.
#[derive(Clone, Debug)]
pub struct PersonValue {
    pub field: custom_fields::Model,
    pub value: Value,
}

/// The custom field values of each of `person_ids` the caller may see, in one query.
pub async fn values_of(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    access: RestrictedAccess,
    person_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<PersonValue>>> {
    let mut q = custom_field_values::Entity::find()
        .find_also_related(custom_fields::Entity)
        .filter(custom_field_values::Column::OrganizationId.eq(scope.org_id()))
        .filter(custom_field_values::Column::PersonId.is_in(person_ids.iter().copied()));
    if !access.0 {
        q = q.filter(custom_fields::Column::Restricted.eq(false));
    }
    let rows = q
        .order_by_asc(custom_fields::Column::Key)
        .limit(10_000)
        .all(db.conn())
        .await?;
    let mut by_person: HashMap<Uuid, Vec<PersonValue>> = HashMap::new();
    for (value, field) in rows {
        if let Some(field) = field {
            by_person
                .entry(value.person_id)
                .or_default()
                .push(PersonValue {
                    field,
                    value: value.value,
                });
        }
    }
    Ok(by_person)
}
