use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use turnout_domain::auth::Scope;
use turnout_domain::bootstrap;

use super::context::{db, principal};
use crate::error::GqlResult;

/// A permission an API key can hold.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ApiScope {
    #[graphql(name = "PEOPLE_READ")]
    PeopleRead,
    #[graphql(name = "PEOPLE_WRITE")]
    PeopleWrite,
    #[graphql(name = "EVENTS_READ")]
    EventsRead,
    #[graphql(name = "EVENTS_WRITE")]
    EventsWrite,
    #[graphql(name = "FORMS_WRITE")]
    FormsWrite,
    #[graphql(name = "AUTOMATIONS_WRITE")]
    AutomationsWrite,
    #[graphql(name = "WEBHOOKS_WRITE")]
    WebhooksWrite,
    /// Everything, including managing keys.
    #[graphql(name = "ADMIN")]
    Admin,
}

impl From<ApiScope> for Scope {
    fn from(s: ApiScope) -> Self {
        match s {
            ApiScope::PeopleRead => Scope::PeopleRead,
            ApiScope::PeopleWrite => Scope::PeopleWrite,
            ApiScope::EventsRead => Scope::EventsRead,
            ApiScope::EventsWrite => Scope::EventsWrite,
            ApiScope::FormsWrite => Scope::FormsWrite,
            ApiScope::AutomationsWrite => Scope::AutomationsWrite,
            ApiScope::WebhooksWrite => Scope::WebhooksWrite,
            ApiScope::Admin => Scope::Admin,
        }
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
    /// Create an API key in the caller's organization. Needs `admin`.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        name: String,
        scopes: Vec<ApiScope>,
    ) -> async_graphql::Result<CreatedApiKey> {
        let scopes: Vec<Scope> = scopes.into_iter().map(Scope::from).collect();
        let key = bootstrap::issue_api_key(db(ctx), principal(ctx)?, &name, &scopes)
            .await
            .gql()?;
        Ok(CreatedApiKey {
            id: ID(key.id.to_string()),
            token: key.token,
        })
    }
}
