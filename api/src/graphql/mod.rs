//! The GraphQL schema: thin resolvers that authenticate, call one domain service, convert.

mod api_keys;
mod audit;
mod automations;
mod broadcasts;
mod context;
mod custom_field;
mod event;
mod event_loaders;
mod form;
mod identity;
mod inbox;
mod limits;
pub use limits::{
    DocumentLimits, admit, asks_for_schema, check_document, check_nesting, is_introspection,
    operation,
};
mod live;
mod loaders;
mod merge;
mod messaging;
mod node;
mod note_task;
mod operator;
mod organization;
mod organizing;
mod people_csv;
mod person;
mod person_events;
mod person_write;
pub(crate) mod plugins;
mod rsvp;
mod segment;
mod signup;
mod tag;
mod webhooks;

use std::sync::Arc;

use async_graphql::{MergedObject, MergedSubscription, Schema};

pub use context::RequestAuth;
pub use event_loaders::{EventDataLoader, event_loader};
pub use live::LiveCredential;
pub use loaders::request_loaders;
pub use signup::ClientIp;

use crate::live::LiveHub;

/// The query root, merged from the features' query objects.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    person::PeopleQuery,
    form::FormsQuery,
    node::NodeQuery,
    identity::IdentityQuery,
    api_keys::ApiKeysQuery,
    audit::AuditQuery,
    webhooks::WebhooksQuery,
    event::EventsQuery,
    rsvp::HostQuery,
    plugins::PluginsQuery,
    automations::AutomationsQuery,
    messaging::MessagingQuery,
    custom_field::CustomFieldsQuery,
    segment::SegmentsQuery,
    note_task::TasksQuery,
    merge::MergeQuery,
    organization::OrganizationQuery,
    operator::OperatorQuery,
    organizing::OrganizingQuery,
    broadcasts::BroadcastsQuery,
    inbox::InboxQuery,
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
    webhooks::WebhooksMutation,
    event::EventsMutation,
    rsvp::RsvpsMutation,
    plugins::PluginsMutation,
    automations::AutomationsMutation,
    messaging::MessagingMutation,
    person_write::PersonWriteMutation,
    custom_field::CustomFieldsMutation,
    segment::SegmentsMutation,
    note_task::NotesTasksMutation,
    merge::MergeMutation,
    people_csv::PeopleCsvMutation,
    organization::OrganizationMutation,
    operator::OperatorMutation,
    organizing::OrganizingMutation,
    broadcasts::BroadcastsMutation,
    inbox::InboxMutation,
);

/// The subscription root, merged from the features' subscription objects. Subscriptions are
/// served over WebSocket at `/graphql/ws` (graphql-ws protocol), authenticated in the
/// `connection_init` payload.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(live::LiveSubscription);

pub type TurnoutSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Limits on what one request may ask for.
#[derive(Clone, Copy, Debug)]
pub struct QueryLimits {
    /// Deepest field nesting.
    pub max_depth: usize,
    /// Highest complexity: each field costs 1, a list field costs its `first` times its
    /// children.
    pub max_complexity: usize,
    /// Most aliased fields in one document.
    pub max_aliases: usize,
    /// Deepest nesting of brackets, braces and parentheses in the query text (and of lists
    /// and objects in the variables), checked before the recursive parser runs.
    pub max_nesting: usize,
    /// Most fields once every fragment is expanded where it is spread, checked before
    /// validation walks them.
    pub max_fields: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 5_000,
            max_aliases: 30,
            max_nesting: 64,
            max_fields: 5_000,
        }
    }
}

/// The schemas a request runs against: anonymous callers get one without introspection and
/// without "did you mean" suggestions, so the public API does not describe itself to scanners.
#[derive(Clone)]
pub struct Schemas {
    pub authenticated: TurnoutSchema,
    pub anonymous: TurnoutSchema,
    /// For authenticated introspection queries only ([`is_introspection`]): the same schema
    /// with a depth limit the standard introspection query fits in.
    pub introspection: TurnoutSchema,
    /// The process's live-feed hub, shared by every subscription.
    pub live: Arc<LiveHub>,
    /// What the entry points check before the schema sees a request ([`admit`]).
    pub document_limits: DocumentLimits,
}

/// The depth an introspection query may reach: graphql-js's `getIntrospectionQuery()` (what
/// GraphiQL, graphql-codegen and IDE plugins send) needs 15, for `ofType` nested nine times.
const INTROSPECTION_DEPTH: usize = 16;

impl Schemas {
    /// The schema a request runs against: anonymous callers get the one without
    /// introspection (and are told so if they ask for the schema, instead of a silent `null`);
    /// an authenticated introspection query gets the deeper depth limit.
    pub fn for_request(
        &self,
        authenticated: bool,
        request: &mut async_graphql::Request,
    ) -> Result<&TurnoutSchema, async_graphql::ServerError> {
        let operation_name = request.operation_name.clone();
        let Ok(doc) = request.parsed_query() else {
            return Ok(if authenticated {
                &self.authenticated
            } else {
                &self.anonymous
            });
        };
        if !authenticated {
            if asks_for_schema(doc, operation_name.as_deref()) {
                let mut err = async_graphql::ServerError::new(
                    "introspection needs a credential: send `Authorization: Bearer <API key>`",
                    None,
                );
                let mut ext = async_graphql::ErrorExtensionValues::default();
                ext.set("code", "GRAPHQL_VALIDATION_FAILED");
                err.extensions = Some(ext);
                return Err(err);
            }
            return Ok(&self.anonymous);
        }
        Ok(if is_introspection(doc, operation_name.as_deref()) {
            &self.introspection
        } else {
            &self.authenticated
        })
    }
}

/// Builds the schemas. Per-request data (the caller, the loaders) is added by the HTTP layer.
/// The schemas of one deployment; `links` is the origin of the absolute URLs fields return
/// (host pages, calendar invites, RSVP pages).
pub fn build_schemas(
    db: turnout_domain::db::Db,
    limits: QueryLimits,
    links: turnout_domain::links::PublicLinks,
) -> Schemas {
    let live = LiveHub::new(db.clone());
    let build = |max_depth: usize| {
        Schema::build(
            QueryRoot::default(),
            MutationRoot::default(),
            SubscriptionRoot::default(),
        )
        .data(db.clone())
        .data(links.clone())
        .data(live.clone())
        .limit_depth(max_depth)
        .limit_complexity(limits.max_complexity)
    };
    Schemas {
        authenticated: build(limits.max_depth).finish(),
        introspection: build(limits.max_depth.max(INTROSPECTION_DEPTH)).finish(),
        anonymous: build(limits.max_depth)
            .disable_introspection()
            .disable_suggestions()
            .finish(),
        live,
        document_limits: DocumentLimits {
            max_nesting: limits.max_nesting,
            max_fields: limits.max_fields,
            max_aliases: limits.max_aliases,
        },
    }
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .finish()
    .sdl()
}
