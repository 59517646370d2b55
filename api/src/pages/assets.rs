//! The pages' stylesheet and script, embedded in the binary: no CDN, nothing third-party.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Appended to asset URLs so a new release is fetched at once despite long caching.
pub(super) const VERSION: &str = env!("CARGO_PKG_VERSION");

const ASSETS: &[(&str, &str, &str)] = &[
    (
        "pages.css",
        "text/css; charset=utf-8",
        include_str!("assets/pages.css"),
    ),
    (
        "host.js",
        "text/javascript; charset=utf-8",
        include_str!("assets/host.js"),
    ),
];

/// The URL of an organization's colours; the colour is in it, so a change is fetched at once
/// while an unchanged theme stays cached.
pub(super) fn theme_path(org_id: uuid::Uuid, color: &str) -> String {
    format!(
        "/assets/theme/{org_id}.css?c={}",
        color.trim_start_matches('#')
    )
}

/// `GET /assets/theme/<organization id>.css`: the organization's accent colour over the
/// stylesheet's own. The colour was checked (`#rrggbb`) when it was saved.
pub(super) async fn theme(
    State(state): State<crate::http::AppState>,
    Path(file): Path<String>,
) -> Response {
    let Some(id) = file
        .strip_suffix(".css")
        .and_then(|id| id.parse::<uuid::Uuid>().ok())
    else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let color = match turnout_domain::organization::public(&state.db, id).await {
        Ok(org) => org.brand_color,
        Err(_) => None,
    };
    let Some(color) = color else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!(":root {{ --accent: {color}; }}\n"),
    )
        .into_response()
}

/// `GET /assets/<file>`.
pub(super) async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, ..)| *name == file) {
        Some((_, content_type, body)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=86400"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
