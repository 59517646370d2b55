use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::api_keys;
use turnout_domain::auth::{Scope, perm};
use turnout_entity::api_keys as api_key_row;

use super::context::{can, db};
use crate::error::GqlResult;

/// A permission an API key can hold.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ApiScope {
    #[graphql(name = "PEOPLE_READ")]
    PeopleRead,
    #[graphql(name = "PEOPLE_WRITE")]
    PeopleWrite,
    /// Read and write restricted custom fields.
    #[graphql(name = "PEOPLE_RESTRICTED")]
    PeopleRestricted,
    #[graphql(name = "EVENTS_READ")]
    EventsRead,
    #[graphql(name = "EVENTS_WRITE")]
    EventsWrite,
    #[graphql(name = "FORMS_WRITE")]
    FormsWrite,
    #[graphql(name = "AUTOMATIONS_WRITE")]
    AutomationsWrite,
    /// Install plugins and manage automations and their runs.
    #[graphql(name = "AUTOMATIONS_MANAGE")]
    AutomationsManage,
    #[graphql(name = "WEBHOOKS_WRITE")]
    WebhooksWrite,
    /// Create, list and revoke API keys.
    #[graphql(name = "KEYS_MANAGE")]
    KeysManage,
    /// Invite users into the organization.
    #[graphql(name = "MEMBERS_MANAGE")]
    MembersManage,
    /// Read workplaces, employment, organizing campaigns, assessments, relationships and
    /// one-on-ones (every wall-chart read is audited).
    #[graphql(name = "ORGANIZING_READ")]
    OrganizingRead,
    /// Change workplaces, employment, campaigns, assessments, relationships, one-on-ones.
    #[graphql(name = "ORGANIZING_WRITE")]
    OrganizingWrite,
    /// Create and send broadcasts to segments, and read their progress.
    #[graphql(name = "MESSAGES_SEND")]
    MessagesSend,
    /// Everything, including managing keys.
    #[graphql(name = "ADMIN")]
    Admin,
}

impl From<ApiScope> for Scope {
    fn from(s: ApiScope) -> Self {
        match s {
            ApiScope::PeopleRead => Scope::PeopleRead,
            ApiScope::PeopleWrite => Scope::PeopleWrite,
            ApiScope::PeopleRestricted => Scope::PeopleRestricted,
            ApiScope::EventsRead => Scope::EventsRead,
            ApiScope::EventsWrite => Scope::EventsWrite,
            ApiScope::FormsWrite => Scope::FormsWrite,
            ApiScope::AutomationsWrite => Scope::AutomationsWrite,
            ApiScope::AutomationsManage => Scope::AutomationsManage,
            ApiScope::WebhooksWrite => Scope::WebhooksWrite,
            ApiScope::KeysManage => Scope::KeysManage,
            ApiScope::MembersManage => Scope::MembersManage,
            ApiScope::OrganizingRead => Scope::OrganizingRead,
            ApiScope::OrganizingWrite => Scope::OrganizingWrite,
            ApiScope::MessagesSend => Scope::MessagesSend,
            ApiScope::Admin => Scope::Admin,
        }
    }
}

impl From<Scope> for ApiScope {
    fn from(s: Scope) -> Self {
        match s {
            Scope::PeopleRead => ApiScope::PeopleRead,
            Scope::PeopleWrite => ApiScope::PeopleWrite,
            Scope::PeopleRestricted => ApiScope::PeopleRestricted,
            Scope::EventsRead => ApiScope::EventsRead,
            Scope::EventsWrite => ApiScope::EventsWrite,
            Scope::FormsWrite => ApiScope::FormsWrite,
            Scope::AutomationsWrite => ApiScope::AutomationsWrite,
            Scope::AutomationsManage => ApiScope::AutomationsManage,
            Scope::WebhooksWrite => ApiScope::WebhooksWrite,
            Scope::KeysManage => ApiScope::KeysManage,
            Scope::MembersManage => ApiScope::MembersManage,
            Scope::OrganizingRead => ApiScope::OrganizingRead,
            Scope::OrganizingWrite => ApiScope::OrganizingWrite,
            Scope::MessagesSend => ApiScope::MessagesSend,
            Scope::Admin => ApiScope::Admin,
        }
    }
}

/// An API key as listed: never its secret.
#[derive(SimpleObject)]
pub struct ApiKey {
    /// The key's id (a UUID).
    pub id: ID,
    /// The name given at creation.
    pub name: String,
    /// The recognizable part of the key: the token starts with `tn_<prefix>_`.
    pub prefix: String,
    /// What the key may do.
    pub scopes: Vec<ApiScope>,
    /// When the key was created.
    pub created_at: DateTime<Utc>,
    /// When the key was last used (to the minute); null if never.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When the key stops working; null if never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the key was revoked; null if it was not.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_key_row::Model> for ApiKey {
    fn from(row: api_key_row::Model) -> Self {
        Self {
            id: ID(row.id.to_string()),
            scopes: api_keys::scopes_of(&row)
                .into_iter()
                .map(ApiScope::from)
                .collect(),
            name: row.name,
            prefix: row.prefix,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// Listing API keys.
#[derive(Default)]
pub struct ApiKeysQuery;

#[Object]
impl ApiKeysQuery {
    /// The organization's API keys, newest first, revoked and expired ones included. Needs
    /// `KEYS_MANAGE` (admins and owners).
    async fn api_keys(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiKey>> {
        let keys = api_keys::list(db(ctx), &can::<perm::KeysManage>(ctx)?)
            .await
            .gql()?;
        Ok(keys.into_iter().map(ApiKey::from).collect())
    }
}

/// A new API key. The token is shown this once; Turnout keeps only its hash.
#[derive(SimpleObject)]
pub struct CreatedApiKey {
    /// The key's id.
    pub id: ID,
    /// The whole key, to send as `Authorization: Bearer <token>`.
    pub token: String,
}

/// Managing API keys.
#[derive(Default)]
pub struct ApiKeysMutation;

#[Object]
impl ApiKeysMutation {
    /// Create an API key in the caller's organization. Needs `KEYS_MANAGE` (admins and owners);
    /// a key cannot hold a scope its creator lacks.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A name to recognize the key by.")] name: String,
        #[graphql(desc = "What the key may do.")] scopes: Vec<ApiScope>,
        #[graphql(desc = "When the key stops working (in the future); absent: never.")]
        expires_at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<CreatedApiKey> {
        let scopes: Vec<Scope> = scopes.into_iter().map(Scope::from).collect();
        let key = api_keys::issue(
            db(ctx),
            &can::<perm::KeysManage>(ctx)?,
            &super::audit::request_context(ctx),
            &name,
            &scopes,
            expires_at,
        )
        .await
        .gql()?;
        Ok(CreatedApiKey {
            id: ID(key.id.to_string()),
            token: key.token,
        })
    }
}

/// Revoking API keys.
#[derive(Default)]
pub struct RevokeApiKeyMutation;

#[Object]
impl RevokeApiKeyMutation {
    /// Revoke an API key of the organization; it stops working at once. Needs `KEYS_MANAGE`.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The key's id (as returned by `createApiKey` or `apiKeys`).")] id: ID,
    ) -> async_graphql::Result<ApiKey> {
        let id = crate::ids::parse_uuid("id", &id)?;
        let key = api_keys::revoke(
            db(ctx),
            &can::<perm::KeysManage>(ctx)?,
            &super::audit::request_context(ctx),
            id,
        )
        .await
        .gql()?;
        Ok(ApiKey::from(key))
    }
}
