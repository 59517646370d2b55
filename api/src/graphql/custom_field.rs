//! Custom fields: definitions and values.

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::auth::{Scope, perm};
use turnout_domain::custom_fields::{
    self, CustomField as Field, FieldType, FieldValue, NewCustomField, PersonValue,
    RestrictedAccess,
};

use super::audit::request_context;
use super::context::{can, db, principal};
use super::person::Person;
use crate::error::GqlResult;
use crate::ids::{NodeType, decode_id_of, global_id};

/// The kind of value a custom field holds.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum CustomFieldType {
    /// Free text (up to 2000 characters).
    Text,
    /// A number.
    Number,
    /// True or false.
    Boolean,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// One of the field's options.
    SingleSelect,
    /// Any of the field's options (a list).
    MultiSelect,
}

impl From<CustomFieldType> for FieldType {
    fn from(t: CustomFieldType) -> Self {
        match t {
            CustomFieldType::Text => FieldType::Text,
            CustomFieldType::Number => FieldType::Number,
            CustomFieldType::Boolean => FieldType::Boolean,
            CustomFieldType::Date => FieldType::Date,
            CustomFieldType::SingleSelect => FieldType::SingleSelect,
            CustomFieldType::MultiSelect => FieldType::MultiSelect,
        }
    }
}

impl From<FieldType> for CustomFieldType {
    fn from(t: FieldType) -> Self {
        match t {
            FieldType::Text => CustomFieldType::Text,
            FieldType::Number => CustomFieldType::Number,
            FieldType::Boolean => CustomFieldType::Boolean,
            FieldType::Date => CustomFieldType::Date,
            FieldType::SingleSelect => CustomFieldType::SingleSelect,
            FieldType::MultiSelect => CustomFieldType::MultiSelect,
        }
    }
}

/// A person field the organization defined.
pub struct CustomField(pub Field);

#[Object]
impl CustomField {
    /// The global ID of this field.
    pub async fn id(&self) -> ID {
        global_id(NodeType::CustomField, self.0.row.id)
    }

    /// The stable key values are set by (`union_member`).
    async fn key(&self) -> &str {
        &self.0.row.key
    }

    /// The label shown to staff.
    async fn label(&self) -> &str {
        &self.0.row.label
    }

    /// The kind of value.
    #[graphql(name = "type")]
    async fn field_type(&self) -> CustomFieldType {
        self.0.field_type.into()
    }

    /// The choices of a select field; empty for other types.
    async fn options(&self) -> &[String] {
        &self.0.options
    }

    /// True when only callers with `people:restricted` may read and write it.
    async fn restricted(&self) -> bool {
        self.0.row.restricted
    }

    /// When the field was defined.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
}

/// One custom field value of a person.
#[derive(SimpleObject)]
pub struct CustomFieldValue {
    /// The field's key.
    pub key: String,
    /// The field's label.
    pub label: String,
    /// The field's type.
    #[graphql(name = "type")]
    pub field_type: Option<CustomFieldType>,
    /// The value: a string, number, boolean, `YYYY-MM-DD` date string, or list of options.
    pub value: Json<serde_json::Value>,
}

impl From<PersonValue> for CustomFieldValue {
    fn from(v: PersonValue) -> Self {
        Self {
            field_type: FieldType::parse(&v.field.field_type).map(Into::into),
            key: v.field.key,
            label: v.field.label,
            value: Json(v.value),
        }
    }
}

/// A new custom field.
#[derive(InputObject)]
pub struct CreateCustomFieldInput {
    /// 1–64 lowercase letters, digits or `_`, starting with a letter; unique.
    pub key: String,
    /// The label shown to staff.
    pub label: String,
    /// The kind of value.
    #[graphql(name = "type")]
    pub field_type: CustomFieldType,
    /// The choices (select types only).
    #[graphql(default)]
    pub options: Vec<String>,
    /// Readable and writable only with `people:restricted` (defining one needs it too).
    #[graphql(default)]
    pub restricted: bool,
}

/// A value to set on a person.
#[derive(InputObject)]
pub struct CustomFieldValueInput {
    /// The field's key.
    pub key: String,
    /// The value (JSON): text, number, boolean, `YYYY-MM-DD`, an option, or a list of options.
    /// `null` clears it.
    pub value: Option<Json<serde_json::Value>>,
}

fn access(ctx: &Context<'_>) -> async_graphql::Result<RestrictedAccess> {
    Ok(RestrictedAccess(
        principal(ctx)?.has(Scope::PeopleRestricted),
    ))
}

/// Reading custom field definitions.
#[derive(Default)]
pub struct CustomFieldsQuery;

#[Object]
impl CustomFieldsQuery {
    /// The organization's custom fields, by key (restricted ones only with
    /// `people:restricted`).
    async fn custom_fields(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CustomField>> {
        let scope = can::<perm::PeopleRead>(ctx)?;
        Ok(custom_fields::list(db(ctx), &scope, access(ctx)?)
            .await
            .gql()?
            .into_iter()
            .map(CustomField)
            .collect())
    }
}

/// Defining custom fields and setting their values.
#[derive(Default)]
pub struct CustomFieldsMutation;

#[Object]
impl CustomFieldsMutation {
    /// Define a custom field. Needs `people:write` (and `people:restricted` for a restricted
    /// one).
    async fn create_custom_field(
        &self,
        ctx: &Context<'_>,
        input: CreateCustomFieldInput,
    ) -> async_graphql::Result<CustomField> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let new = NewCustomField {
            key: input.key,
            label: input.label,
            field_type: input.field_type.into(),
            options: input.options,
            restricted: input.restricted,
        };
        Ok(CustomField(
            custom_fields::define(db(ctx), &scope, access(ctx)?, &request_context(ctx), new)
                .await
                .gql()?,
        ))
    }

    /// Set or clear custom field values on a person. Each value is checked against its field
    /// (a bad one is a `VALIDATION` error naming `values.<key>`, and nothing is written).
    async fn set_custom_field_values(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's global ID.")] person_id: ID,
        values: Vec<CustomFieldValueInput>,
    ) -> async_graphql::Result<Person> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let person_id = decode_id_of("personId", NodeType::Person, &person_id)?;
        let values: Vec<FieldValue> = values
            .into_iter()
            .map(|v| FieldValue {
                key: v.key,
                value: v.value.map(|j| j.0),
            })
            .collect();
        let db = db(ctx);
        custom_fields::set_values(
            db,
            &scope,
            access(ctx)?,
            &request_context(ctx),
            person_id,
            &values,
        )
        .await
        .gql()?;
        Ok(Person::from(
            turnout_domain::person_write::reload(db, &scope, person_id)
                .await
                .gql()?,
        ))
    }
}
