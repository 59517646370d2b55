//! The GraphQL schema: thin resolvers that authenticate, call one domain service, convert.

mod api_keys;
mod context;
mod form;
mod identity;
mod loaders;
mod node;
mod person;
mod signup;
mod tag;

use async_graphql::{EmptySubscription, MergedObject, Schema};

pub use context::RequestAuth;
pub use loaders::request_loaders;
pub use signup::ClientIp;

/// The query root, merged from the features' query objects.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    person::PeopleQuery,
    form::FormsQuery,
    node::NodeQuery,
    identity::IdentityQuery,
    api_keys::ApiKeysQuery,
);

/// The mutation root, merged from the features' mutation objects.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    signup::SignUpMutation,
    form::FormsMutation,
    api_keys::ApiKeysMutation,
    api_keys::RevokeApiKeyMutation,
    identity::IdentityMutation,
);

pub type TurnoutSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Limits on what one request may ask for.
#[derive(Clone, Copy, Debug)]
pub struct QueryLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 5_000,
        }
    }
}

/// Builds the schema. Per-request data (the caller, the loaders) is added by the HTTP layer.
pub fn build_schema(db: turnout_domain::db::Db, limits: QueryLimits) -> TurnoutSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .data(db)
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .finish()
    .sdl()
}
