//! `GET /graphql/ws`: GraphQL over WebSocket (the graphql-ws protocol, subprotocol
//! `graphql-transport-ws`; the legacy `graphql-ws` subprotocol is accepted too), for the
//! live feed. The caller authenticates in the `connection_init` payload with
//! `{"Authorization": "Bearer <API key or access token>"}`, the same credentials as
//! `POST /graphql`; without a valid one the server closes the socket (code 1002) before any
//! operation runs. Only subscriptions run here; queries and mutations go to `POST /graphql`,
//! where per-request rate limits and loaders apply.

use std::net::SocketAddr;
use std::sync::Arc;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Data, ErrorExtensions, Executor, Pos, Request};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::response::Response;
use futures::StreamExt;
use futures::stream::BoxStream;
use turnout_domain::{DomainError, auth};

use super::{AppState, authenticate, parse_bearer};
use crate::error::ClientError;
use crate::graphql::{ClientIp, DocumentLimits, LiveCredential, RequestAuth, TurnoutSchema, admit};
use crate::rate_limit::retry_after_secs;

pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = SubscriptionsOnly {
        schema: state.schemas.authenticated.clone(),
        limits: state.schemas.document_limits,
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| connection_init(state, peer, payload))
                .serve()
        })
}

/// Authenticates the connection. An error closes the socket with its message as the reason
/// (`CODE: message`, kept under the 123 bytes a close frame allows).
async fn connection_init(
    state: AppState,
    peer: SocketAddr,
    payload: serde_json::Value,
) -> async_graphql::Result<Data> {
    let refused =
        |code: &str, message: &str| async_graphql::Error::new(format!("{code}: {message}"));
    let value = payload
        .as_object()
        .and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .map(|(_, v)| v)
        })
        .and_then(|v| v.as_str());
    let Some(value) = value else {
        return Err(refused(
            "UNAUTHENTICATED",
            "send {\"Authorization\": \"Bearer <token>\"} in connection_init",
        ));
    };
    let token = parse_bearer(value).map_err(|m| refused("UNAUTHENTICATED", m))?;
    let principal = authenticate(&state, token).await.map_err(|err| {
        let err = ClientError::from(err);
        refused(err.code, &truncate(&err.message))
    })?;
    let (auth::Actor::User(id) | auth::Actor::ApiKey(id)) = principal.actor();
    if let Err(wait) = state.limiter.check_credential(id) {
        let secs = retry_after_secs(wait).max(1);
        return Err(refused(
            "RATE_LIMITED",
            &format!("too many requests; retry after {secs} s"),
        ));
    }
    let org_id = principal.org_id();
    let original = principal.clone();
    let token = token.to_owned();
    let recheck = state.clone();
    let credential = LiveCredential {
        recheck_every: state.live_recheck,
        current: Arc::new(move || {
            let (state, token, original) = (recheck.clone(), token.clone(), original.clone());
            Box::pin(async move {
                match authenticate(&state, &token).await {
                    Ok(p) if p.org_id() == org_id => Some(p),
                    Ok(_) => None,
                    // A database hiccup does not end anyone's feed.
                    Err(DomainError::Internal(cause)) => {
                        tracing::warn!(%cause, "live feed: re-checking a credential failed");
                        Some(original)
                    }
                    Err(_) => None,
                }
            })
        }),
    };
    let mut data = Data::default();
    data.insert(credential);
    data.insert(RequestAuth(Some(principal)));
    data.insert(ClientIp(Some(peer.ip())));
    data.insert(state.limiter.clone());
    data.insert(state.jwt.clone());
    Ok(data)
}

/// At most 90 bytes, on a character boundary.
fn truncate(message: &str) -> String {
    let mut end = message.len().min(90);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end].to_owned()
}

/// The schema as served over WebSocket: subscriptions only.
#[derive(Clone)]
struct SubscriptionsOnly {
    schema: TurnoutSchema,
    limits: DocumentLimits,
}

impl SubscriptionsOnly {
    fn refused() -> async_graphql::Response {
        let err = async_graphql::Error::new(
            "only subscriptions run over WebSocket; send queries and mutations to POST /graphql",
        )
        .extend_with(|_, e| e.set("code", "VALIDATION"));
        async_graphql::Response::from_errors(vec![err.into_server_error(Pos::default())])
    }
}

impl Executor for SubscriptionsOnly {
    fn execute(&self, _request: Request) -> impl Future<Output = async_graphql::Response> + Send {
        std::future::ready(Self::refused())
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let operation_name = request.operation_name.clone();
        // Before the parser (recursive) and validation (which expands fragments) run.
        if let Err(err) = admit(&mut request, self.limits) {
            let response = async_graphql::Response::from_errors(vec![err]);
            return futures::stream::once(std::future::ready(response)).boxed();
        }
        if let Ok(doc) = request.parsed_query()
            && is_query_or_mutation(doc, operation_name.as_deref())
        {
            return futures::stream::once(std::future::ready(Self::refused())).boxed();
        }
        Executor::execute_stream(&self.schema, request, session_data)
            .map(|mut response| {
                crate::error::ensure_codes(&mut response.errors);
                response
            })
            .boxed()
    }
}

/// True when the document's operation is a query or a mutation. A document that names no
/// operation it holds is left to the schema, which refuses it.
fn is_query_or_mutation(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    crate::graphql::operation(doc, operation_name)
        .is_some_and(|op| op.ty != OperationType::Subscription)
}
