//! `POST /plugins`: install a plugin component sent as the raw request body, for components
//! larger than a GraphQL request may be. Base64 inside JSON would make a 12 MB component a
//! 16 MB request, and `TURNOUT_MAX_BODY_BYTES` guards every GraphQL request; this route has its
//! own limit, the plugin host's largest component (`TURNOUT_PLUGIN_MAX_BYTES`).
//!
//! Authenticated by the same bearer credential as `/graphql`, it needs `automations:manage`,
//! takes `?name=` (default: the plugin's own name) and answers with the JSON of
//! `installPlugin`'s payload.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use turnout_domain::audit::RequestContext;
use turnout_domain::auth::perm;

use crate::error::ClientError;
use crate::http::{AppState, caller, error_response, has_media_type};

/// The query string of `POST /plugins`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UploadParams {
    name: Option<String>,
}

pub(crate) async fn upload(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let Ok(params) = serde_urlencoded::from_str::<UploadParams>(query.as_deref().unwrap_or(""))
    else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "VALIDATION",
            "the query string takes only `name` (the name to install under)",
        );
    };
    // A browser form cannot send this media type without a preflight, so no other site can
    // make a signed-in browser install a plugin (CSRF).
    if !has_media_type(&headers, "application/wasm") {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "VALIDATION",
            "POST /plugins takes the component (.wasm) as the body, with \
             `Content-Type: application/wasm`",
        );
    }
    let principal = match caller(&state, peer, &headers).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return error_response(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "send `Authorization: Bearer <token>`",
            );
        }
        Err(response) => return response,
    };
    let scope = match principal.can::<perm::AutomationsManage>() {
        Ok(s) => s,
        Err(err) => return ClientError::from(err).into_response(),
    };
    let Some(runner) = &state.runner else {
        return ClientError::from(turnout_domain::DomainError::internal(
            "no plugin host is configured for the API",
        ))
        .into_response();
    };
    let request = RequestContext {
        client_ip: Some(peer.ip().to_string()),
    };
    match crate::graphql::plugins::install(
        &state.db,
        runner.host(),
        &scope,
        &request,
        params.name.as_deref(),
        body.to_vec(),
    )
    .await
    {
        Ok(payload) => (StatusCode::OK, Json(payload)).into_response(),
        Err(err) => ClientError::from(err).into_response(),
    }
}
