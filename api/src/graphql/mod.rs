//! The GraphQL schema: thin resolvers that authenticate, call one domain service, convert.

mod context;
mod form;
mod loaders;
mod mutation;
mod node;
mod person;
mod query;
mod tag;

use async_graphql::{EmptySubscription, Schema};

pub use context::RequestAuth;
pub use loaders::request_loaders;
pub use mutation::{ClientIp, MutationRoot};
pub use query::QueryRoot;

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
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .data(db)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .finish()
        .sdl()
}
