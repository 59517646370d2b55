//! The HTTP surface: `/graphql` (POST for operations, GET for GraphiQL and its assets, served
//! from the binary), `/graphql/schema.graphql`, `/graphql/ws` (subscriptions), `/healthz`,
//! `/readyz`, `/export/people.csv`, with CORS for the origins the operator lists.

mod cors;
mod graphiql;
mod persisted;
mod proxies;
mod request_metrics;
mod ws;

pub use cors::CorsOrigins;
pub use persisted::PersistedQueryConfig;
pub use proxies::TrustedProxies;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use turnout_domain::auth;
use turnout_domain::db::Db;
use turnout_plugin_host::{AutomationRunner, PluginHost};

use crate::error::ClientError;
use crate::graphql::{self, ClientIp, QueryLimits, RequestAuth, Schemas};
use crate::jwt::JwtConfig;
use crate::rate_limit::{RateLimitConfig, RateLimiter, retry_after_secs};

/// Limits of the HTTP layer; see the README for how to change them.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Largest request body accepted (bytes); larger gets HTTP 413.
    pub max_body_bytes: usize,
    /// Longest a request may run; longer gets HTTP 408.
    pub request_timeout: Duration,
    pub query_limits: QueryLimits,
    /// Access-token signing keys and settings.
    pub jwt: JwtConfig,
    pub rate_limits: RateLimitConfig,
    /// The plugin host that validates uploaded plugins and runs dry runs and replays (shared
    /// with the workers). `None`: the plugin features answer INTERNAL.
    pub plugin_host: Option<Arc<PluginHost>>,
    /// Twilio's inbound-message and delivery-receipt webhooks.
    pub twilio: crate::inbound::TwilioWebhookConfig,
    /// How stale a live subscription's credential check may get: at its first event after
    /// this long, the subscription re-authenticates (a revoked key or removed membership ends
    /// it).
    pub live_recheck: Duration,
    /// Where webhook URLs may point (the SSRF guard): public addresses and the operator's
    /// allow-list. The workers dial with the same policy.
    pub outbound: turnout_domain::outbound::OutboundPolicy,
    /// The browser origins allowed to call the API (`TURNOUT_CORS_ORIGINS`); empty: none.
    pub cors_origins: CorsOrigins,
    /// Registered operations (`TURNOUT_PERSISTED_QUERIES`), and whether only they may run.
    pub persisted_queries: PersistedQueryConfig,
    /// The origin of every absolute link (`TURNOUT_PUBLIC_BASE_URL`; in development `serve`
    /// sets the listen address).
    pub public_links: turnout_domain::links::PublicLinks,
    /// Proxies whose forwarding headers name the client (`TURNOUT_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// The public pages' settings (who may frame the sign-up form).
    pub pages: crate::pages::PagesConfig,
    /// The deployment operator's key (`TURNOUT_OPERATOR_KEY`): it administers organizations
    /// over `/graphql` (`operatorOrganizations` …). `None`: there is no operator access.
    pub operator_key: Option<turnout_domain::organization::operator::OperatorKey>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(30),
            query_limits: QueryLimits::default(),
            jwt: JwtConfig::default(),
            rate_limits: RateLimitConfig::default(),
            plugin_host: None,
            twilio: Default::default(),
            live_recheck: crate::live::DEFAULT_RECHECK,
            outbound: Default::default(),
            cors_origins: CorsOrigins::default(),
            persisted_queries: PersistedQueryConfig::default(),
            public_links: Default::default(),
            trusted_proxies: TrustedProxies::default(),
            pages: Default::default(),
            operator_key: None,
        }
    }
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) db: Db,
    jwt: JwtConfig,
    schemas: Schemas,
    pub(crate) limiter: Arc<RateLimiter>,
    pub(crate) runner: Option<Arc<AutomationRunner>>,
    live_recheck: Duration,
    outbound: turnout_domain::outbound::OutboundPolicy,
    persisted: persisted::PersistedQueries,
    pub(crate) pages: Arc<crate::pages::Pages>,
    operator_key: Option<turnout_domain::organization::operator::OperatorKey>,
}

/// The whole HTTP application. Serve it with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router(db: Db, config: ApiConfig) -> Router {
    let links = config.public_links;
    let pages = crate::pages::Pages::new(links.clone(), *config.jwt.page_key(), &config.pages);
    let schemas = graphql::build_schemas(db.clone(), config.query_limits, links);
    schemas.live.start();
    // Other processes' revocations reach this one's credential cache (PostgreSQL).
    turnout_domain::credential_cache::watch(&db);
    let cors = config.cors_origins.layer();
    // The plugin host's largest component bounds its own upload route; every other route has
    // the general request body limit.
    let plugin_max_bytes = config
        .plugin_host
        .as_ref()
        .map_or(0, |host| host.limits().max_component_bytes);
    // Compiling a large component (a Python one is ~18 MB) can outlast the request timeout,
    // so the upload route has a longer one of its own.
    let uploads = with_body_limit(
        Router::new().route("/plugins", post(crate::plugin_upload::upload)),
        BodyLimit {
            bytes: plugin_max_bytes,
            variable: "TURNOUT_PLUGIN_MAX_BYTES",
            hint: "",
        },
    )
    .layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        config.request_timeout.max(PLUGIN_UPLOAD_TIMEOUT),
    ));
    let routes = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/assets/{file}", get(graphiql::asset))
        .route("/graphql/schema.graphql", get(graphiql::sdl))
        .route("/graphql/ws", get(ws::graphql_ws))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/ics/{file}", get(ics))
        .merge(crate::inbound::routes(db.clone(), config.twilio))
        .route("/export/people.csv", get(crate::export::export_people))
        .merge(crate::pages::routes());
    let routes = routes.layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        config.request_timeout,
    ));
    let router = with_body_limit(
        routes,
        BodyLimit {
            bytes: config.max_body_bytes,
            variable: "TURNOUT_MAX_BODY_BYTES",
            hint: "; a plugin component goes to `POST /plugins` as the raw body, which has \
                   its own limit (TURNOUT_PLUGIN_MAX_BYTES)",
        },
    )
    .merge(uploads)
    .with_state(AppState {
        jwt: config.jwt,
        schemas,
        limiter: RateLimiter::new(config.rate_limits),
        runner: config
            .plugin_host
            .map(|host| Arc::new(AutomationRunner::new(db.clone(), host))),
        db,
        live_recheck: config.live_recheck,
        outbound: config.outbound,
        persisted: persisted::PersistedQueries::new(config.persisted_queries),
        pages: Arc::new(pages),
        operator_key: config.operator_key,
    })
    .layer(axum::middleware::from_fn_with_state(
        config.trusted_proxies,
        proxies::client_address,
    ))
    // axum's own 2 MB default would cap the limits; the tower-http layers are the limits.
    .layer(axum::extract::DefaultBodyLimit::disable())
    .layer(axum::middleware::from_fn(request_metrics::record_request))
    .layer(TraceLayer::new_for_http());
    // Outermost, so preflights are answered before the body limit or a route sees them.
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The longest `POST /plugins` may take (it compiles the component); at least the request
/// timeout.
const PLUGIN_UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// A request body limit and how to explain it.
#[derive(Clone, Copy)]
struct BodyLimit {
    bytes: usize,
    /// The setting that raises it.
    variable: &'static str,
    /// More advice for the routes it guards.
    hint: &'static str,
}

/// `router` under the limit, with a 413 that names it and the setting that raises it
/// (tower-http's own says only "length limit exceeded").
fn with_body_limit<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    limit: BodyLimit,
) -> Router<S> {
    router.layer(RequestBodyLimitLayer::new(limit.bytes)).layer(
        axum::middleware::map_response_with_state(limit, explain_too_large),
    )
}

async fn explain_too_large(State(limit): State<BodyLimit>, response: Response) -> Response {
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        &format!(
            "the request body is larger than {} bytes, this server's limit ({} raises it){}",
            limit.bytes, limit.variable, limit.hint
        ),
    )
}

/// Only `/healthz` and `/readyz`: what a worker-only process serves, for its orchestrator.
pub fn health_router(db: Db) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|State(db): State<Db>| async move { ready(&db).await }),
        )
        .with_state(db)
}

async fn readyz(State(state): State<AppState>) -> Response {
    ready(&state.db).await
}

async fn ready(db: &Db) -> Response {
    match db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(%err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// `GET /ics/<token>.ics`: an RSVP's calendar invite (RFC 5545). Unknown tokens are 404.
async fn ics(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(token) = file.strip_suffix(".ics") else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    match turnout_domain::events::rsvps::ics_by_token(&state.db, token).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(err) => {
            let err = ClientError::from(err);
            (err.status(), err.message).into_response()
        }
    }
}

/// A GraphQL-shaped error response for failures before execution.
pub(crate) fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

/// Whether the request's `Content-Type` is `media` (parameters such as `charset` aside).
pub(crate) fn has_media_type(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(media))
}

async fn graphql_post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Only JSON bodies: a form post from another site cannot be a GraphQL request (CSRF).
    if !has_media_type(&headers, "application/json") {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "VALIDATION",
            "POST /graphql takes a JSON body with `Content-Type: application/json`",
        );
    }
    // One operation per request: a JSON array (a batch) does not parse as a request.
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "VALIDATION",
                "the body must be one GraphQL request object: {\"query\": \"…\", \"variables\": {…}}",
            );
        }
    };
    execute(&state, peer, &headers, request, Via::Post).await
}

/// `GET /graphql`: with `query` (or a persisted query's `extensions`) in the URL, runs a query,
/// so a CDN can cache public reads; without, serves GraphiQL. Never a mutation.
async fn graphql_get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Params {
        query: Option<String>,
        operation_name: Option<String>,
        variables: Option<String>,
        extensions: Option<String>,
    }
    let bad = |message: &str| error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", message);
    let Ok(params) = serde_urlencoded::from_str::<Params>(raw.as_deref().unwrap_or("")) else {
        return bad("the query string is not valid");
    };
    if params.query.is_none() && params.extensions.is_none() {
        return graphiql::page().await;
    }
    let mut request = async_graphql::Request::new(params.query.unwrap_or_default());
    request.operation_name = params.operation_name;
    if let Some(vars) = params.variables.filter(|v| !v.is_empty()) {
        match serde_json::from_str(&vars) {
            Ok(v) => request.variables = v,
            Err(_) => return bad("`variables` must be a JSON object"),
        }
    }
    if let Some(ext) = params.extensions.filter(|e| !e.is_empty()) {
        match serde_json::from_str(&ext) {
            Ok(e) => request.extensions = e,
            Err(_) => return bad("`extensions` must be a JSON object"),
        }
    }
    execute(&state, peer, &headers, request, Via::Get).await
}

/// How a request arrived: a GET runs queries only, and its answer may be cached.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Post,
    Get,
}

/// Authenticates, admits and runs one GraphQL request.
async fn execute(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    mut request: async_graphql::Request,
    via: Via,
) -> Response {
    // Counted in `/metrics` when this function returns, however it does.
    let mut observed = request_metrics::GraphqlRequest::start();
    if let Err(err) = state.persisted.resolve(&mut request) {
        observed.errors(std::slice::from_ref(&err));
        return Json(async_graphql::Response::from_errors(vec![err])).into_response();
    }
    // The operator key is not a credential of any organization: the request runs with no
    // principal, and only the operator fields answer it.
    let operator = state.operator_key.as_ref().and_then(|key| {
        bearer_token(headers)
            .ok()
            .flatten()
            .and_then(|token| key.verify(token))
    });
    let principal = match operator {
        Some(_) => None,
        None => match caller(state, peer, headers).await {
            Ok(p) => p,
            Err(refused) => {
                observed.refused(match refused.status() {
                    StatusCode::UNAUTHORIZED => "UNAUTHENTICATED",
                    StatusCode::TOO_MANY_REQUESTS => "RATE_LIMITED",
                    StatusCode::FORBIDDEN => "FORBIDDEN",
                    _ => "INTERNAL",
                });
                return refused;
            }
        },
    };
    let mut request = request
        .data(ClientIp(Some(peer.ip())))
        .data(state.limiter.clone())
        .data(state.jwt.clone())
        .data(state.outbound.clone());
    if let Some(runner) = &state.runner {
        request = request.data(runner.clone());
    }
    if let Some(loader) = principal
        .as_ref()
        .and_then(|p| graphql::request_loaders(&state.db, p))
    {
        request = request.data(loader);
    }
    request = request.data(graphql::event_loader(&state.db, principal.as_ref()));
    let authenticated = principal.is_some() || operator.is_some();
    if let Some(operator) = operator {
        request = request.data(operator);
    }
    let mut request = request.data(RequestAuth(principal));
    // Before the parser (recursive) and validation (which expands fragments) run.
    if let Err(err) = graphql::admit(&mut request, state.schemas.document_limits) {
        observed.errors(std::slice::from_ref(&err));
        return Json(async_graphql::Response::from_errors(vec![err])).into_response();
    }
    if let Some(ty) = operation_type(&mut request) {
        observed.operation_type(ty);
    }
    if via == Via::Get && !runs_a_query(&mut request) {
        observed.refused("BAD_REQUEST");
        return error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_REQUEST",
            "GET runs queries only; send mutations with POST",
        );
    }
    let schema = match state.schemas.for_request(authenticated, &mut request) {
        Ok(schema) => schema,
        Err(err) => {
            observed.errors(std::slice::from_ref(&err));
            return Json(async_graphql::Response::from_errors(vec![err])).into_response();
        }
    };
    let mut response = schema.execute(request).await;
    crate::error::ensure_codes(&mut response.errors);
    observed.errors(&response.errors);
    // A public mutation refused by its rate limit makes the whole answer a 429.
    let retry_after = response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref())
        .filter(|ext| matches!(ext.get("code"), Some(async_graphql::Value::String(c)) if c == "RATE_LIMITED"))
        .filter_map(|ext| match ext.get("retryAfter") {
            Some(async_graphql::Value::Number(n)) => n.as_u64(),
            _ => None,
        })
        .max();
    let cacheable = via == Via::Get && !authenticated && response.errors.is_empty();
    let mut resp = match retry_after {
        Some(secs) => {
            let mut resp = (StatusCode::TOO_MANY_REQUESTS, Json(response)).into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, secs.max(1).into());
            resp
        }
        None => Json(response).into_response(),
    };
    if via == Via::Get {
        // Public reads may sit in a shared cache for a minute; anything a credential saw, or
        // an error, may not.
        let cache = if cacheable {
            "public, max-age=60"
        } else {
            "private, no-store"
        };
        let h = resp.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static(cache),
        );
        h.insert(
            header::VARY,
            axum::http::HeaderValue::from_static("Authorization"),
        );
    }
    resp
}

/// The type of the operation the request runs, once its document has parsed.
fn operation_type(
    request: &mut async_graphql::Request,
) -> Option<async_graphql::parser::types::OperationType> {
    let name = request.operation_name.clone();
    let doc = request.parsed_query().ok()?;
    graphql::operation(doc, name.as_deref()).map(|op| op.ty)
}

/// True when the request's operation is a query (a document naming no operation it holds is
/// left to the schema, which refuses it).
fn runs_a_query(request: &mut async_graphql::Request) -> bool {
    let name = request.operation_name.clone();
    match request.parsed_query() {
        Ok(doc) => graphql::operation(doc, name.as_deref())
            .is_none_or(|op| op.ty == async_graphql::parser::types::OperationType::Query),
        Err(_) => true,
    }
}

/// HTTP 429 with `Retry-After` and a GraphQL-shaped `RATE_LIMITED` error.
pub(crate) fn rate_limited(retry_after: u64) -> Response {
    let retry_after = retry_after.max(1);
    let body = json!({ "errors": [{
        "message": format!("too many requests; retry after {retry_after} s"),
        "extensions": { "code": "RATE_LIMITED", "retryAfter": retry_after }
    }] });
    let mut resp = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, retry_after.into());
    resp
}

/// The caller a request's `Authorization` header proves, `None` without one; or the response
/// refusing it (a bad credential, or a rate limit). Guessing keys or tokens from one address
/// slows down (backoff per IP), and a valid credential clears it.
pub(crate) async fn caller(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Option<auth::Principal>, Response> {
    let token = match bearer_token(headers) {
        Ok(None) => return Ok(None),
        Ok(Some(token)) => token,
        Err(message) => {
            return Err(error_response(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                message,
            ));
        }
    };
    let key = format!("bearer@{}", peer.ip());
    if let Err(wait) = state.limiter.check_backoff(&key) {
        return Err(rate_limited(retry_after_secs(wait)));
    }
    let result = authenticate(state, token).await;
    match &result {
        Ok(_) => state.limiter.record_attempt(&key, true),
        Err(turnout_domain::DomainError::Unauthenticated(_)) => {
            state.limiter.record_attempt(&key, false)
        }
        Err(_) => {}
    }
    let principal = result.map_err(|err| ClientError::from(err).into_response())?;
    let (auth::Actor::User(id) | auth::Actor::ApiKey(id)) = principal.actor();
    if let Err(wait) = state.limiter.check_credential(id) {
        return Err(rate_limited(retry_after_secs(wait)));
    }
    Ok(Some(principal))
}

/// API keys (`tn_…`) are looked up; anything else must be a valid access token (JWT) whose
/// user still holds a membership in its organization.
pub(crate) async fn authenticate(
    state: &AppState,
    token: &str,
) -> turnout_domain::DomainResult<auth::Principal> {
    if token.starts_with("tn_") {
        return auth::authenticate(&state.db, token).await;
    }
    let (user_id, org_id) = state.jwt.verify(token).map_err(|_| {
        turnout_domain::DomainError::Unauthenticated("the bearer token is not valid".into())
    })?;
    auth::principal_for_user(&state.db, user_id, org_id).await
}

pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, &'static str> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "the Authorization header is not valid text")?;
    parse_bearer(value).map(Some)
}

/// The token of a `Bearer <token>` credential.
fn parse_bearer(value: &str) -> Result<&str, &'static str> {
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err("the Authorization header must be `Bearer <token>`"),
    }
}
