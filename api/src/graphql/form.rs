use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::DomainError;
use turnout_domain::auth::perm;
use turnout_domain::forms::{self, FieldKey, NewForm};

use super::context::{can, db, principal};
use crate::error::{GqlResult, to_gql};
use crate::ids::{NodeType, global_id};

/// A public sign-up page.
pub struct Form(pub forms::Form);

/// A person field a form can ask for.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum FormFieldKey {
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

impl From<FieldKey> for FormFieldKey {
    fn from(key: FieldKey) -> Self {
        match key {
            FieldKey::FirstName => Self::FirstName,
            FieldKey::LastName => Self::LastName,
            FieldKey::Email => Self::Email,
            FieldKey::Phone => Self::Phone,
            FieldKey::Zip => Self::Zip,
            FieldKey::AddressLine1 => Self::AddressLine1,
            FieldKey::AddressLine2 => Self::AddressLine2,
            FieldKey::City => Self::City,
            FieldKey::Region => Self::Region,
            FieldKey::PreferredLanguage => Self::PreferredLanguage,
        }
    }
}

impl From<FormFieldKey> for FieldKey {
    fn from(key: FormFieldKey) -> Self {
        match key {
            FormFieldKey::FirstName => Self::FirstName,
            FormFieldKey::LastName => Self::LastName,
            FormFieldKey::Email => Self::Email,
            FormFieldKey::Phone => Self::Phone,
            FormFieldKey::Zip => Self::Zip,
            FormFieldKey::AddressLine1 => Self::AddressLine1,
            FormFieldKey::AddressLine2 => Self::AddressLine2,
            FormFieldKey::City => Self::City,
            FormFieldKey::Region => Self::Region,
            FormFieldKey::PreferredLanguage => Self::PreferredLanguage,
        }
    }
}

/// A field on a form, and whether the form requires it.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "FormFieldInput")]
pub struct FormField {
    /// Which person field.
    pub key: FormFieldKey,
    /// True when a sign-up without it is refused.
    pub required: bool,
    /// The label the sign-up page shows instead of its own (at most 100 characters).
    pub label: Option<String>,
    /// Help shown under the field on the sign-up page (at most 300 characters).
    pub help: Option<String>,
}

#[Object]
impl Form {
    /// The global ID of this form.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Form, self.0.row.id)
    }

    /// The public address of the form; `signUp(form:)` takes it.
    async fn slug(&self) -> &str {
        &self.0.row.slug
    }

    /// The chapter whose form it is (a UUID); null: the whole organization's.
    async fn chapter_id(&self) -> Option<ID> {
        self.0.row.chapter_id.map(|id| ID(id.to_string()))
    }

    /// The heading shown on the sign-up page.
    async fn title(&self) -> &str {
        &self.0.row.title
    }

    /// The fields the page asks for, in order.
    async fn fields(&self) -> Vec<FormField> {
        self.0
            .fields
            .iter()
            .map(|f| FormField {
                key: f.key.into(),
                required: f.required,
                label: f.label.clone(),
                help: f.help.clone(),
            })
            .collect()
    }

    /// The paragraph shown under the title.
    async fn description(&self) -> Option<&str> {
        self.0.row.description.as_deref()
    }

    /// Consent wording shown next to the consent boxes.
    async fn consent_text(&self) -> Option<&str> {
        self.0.row.consent_text.as_deref()
    }

    /// Tags every person who signs up through this form gets. Staff only.
    async fn default_tags(&self, ctx: &Context<'_>) -> async_graphql::Result<&[String]> {
        if principal(ctx)?.org_id() != self.0.row.organization_id {
            return Err(to_gql(DomainError::Forbidden(
                "this form belongs to another organization".into(),
            )));
        }
        Ok(&self.0.default_tags)
    }

    /// When the form was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
}

/// Fields of a new sign-up form.
#[derive(InputObject)]
pub struct CreateFormInput {
    /// Public address: 2–64 lowercase letters, digits and dashes; unique across Turnout.
    pub slug: String,
    pub title: String,
    /// A paragraph the sign-up page shows under the title (at most 2000 characters).
    pub description: Option<String>,
    /// The fields asked, in order. Must include an email or a phone.
    pub fields: Vec<FormField>,
    /// Tags every sign-up through this form gets.
    #[graphql(default)]
    pub default_tags: Vec<String>,
    /// Consent wording shown next to the consent boxes.
    pub consent_text: Option<String>,
    /// The chapter whose form it is (a UUID): people who sign up through it without a chapter
    /// join it, before any zip-code rule.
    pub chapter_id: Option<ID>,
}

/// Reading forms.
#[derive(Default)]
pub struct FormsQuery;

#[Object]
impl FormsQuery {
    /// The organization's sign-up forms.
    async fn forms(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Form>> {
        let scope = can::<perm::PeopleRead>(ctx)?;
        Ok(forms::list(db(ctx), &scope)
            .await
            .gql()?
            .into_iter()
            .map(Form)
            .collect())
    }

    /// A sign-up form by its public slug. Public: a sign-up page reads its fields here.
    async fn form(&self, ctx: &Context<'_>, slug: String) -> async_graphql::Result<Form> {
        Ok(Form(forms::by_slug(db(ctx), &slug).await.gql()?))
    }
}

/// Managing forms.
#[derive(Default)]
pub struct FormsMutation;

#[Object]
impl FormsMutation {
    /// Create a public sign-up form. Needs `forms:write`.
    async fn create_form(
        &self,
        ctx: &Context<'_>,
        input: CreateFormInput,
    ) -> async_graphql::Result<Form> {
        let scope = can::<perm::FormsWrite>(ctx)?;
        let chapter_id = input
            .chapter_id
            .as_ref()
            .map(|id| crate::ids::parse_uuid("input.chapterId", id))
            .transpose()?;
        let new = NewForm {
            chapter_id,
            slug: input.slug,
            title: input.title,
            description: input.description,
            fields: input
                .fields
                .into_iter()
                .map(|f| forms::FormField {
                    key: f.key.into(),
                    required: f.required,
                    label: f.label,
                    help: f.help,
                })
                .collect(),
            default_tags: input.default_tags,
            consent_text: input.consent_text,
        };
        Ok(Form(
            forms::create(db(ctx), &scope, &super::audit::request_context(ctx), new)
                .await
                .gql()?,
        ))
    }
}
