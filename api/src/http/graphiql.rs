//! GraphiQL, served entirely from the binary (no CDN), so a deployment without internet
//! access or behind a strict Content-Security-Policy still has it. The bundle is built from
//! `tools/graphiql/` (pinned npm packages) into `api/assets/graphiql/`; see its README.
//!
//! Also the SDL, for codegen and IDEs that read a schema file by URL.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, caller, error_response};

const PAGE: &str = include_str!("../../assets/graphiql/index.html");
const SCRIPT: &[u8] = include_bytes!("../../assets/graphiql/graphiql.js");
const STYLE: &[u8] = include_bytes!("../../assets/graphiql/graphiql.css");

/// What the page may load: only itself. GraphiQL's UI sets inline styles, and talks to
/// `/graphql` and `/graphql/ws` on this host.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `GET /graphql`: the GraphiQL page.
pub(super) async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        PAGE,
    )
        .into_response()
}

/// `GET /graphql/assets/<file>`: the page's script and stylesheet.
pub(super) async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "graphiql.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "graphiql.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // The names are not versioned: an hour, then a conditional reload after an upgrade.
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// `GET /graphql/schema.graphql`: the SDL, for authenticated callers only, as introspection
/// is (the anonymous API does not describe itself).
pub(super) async fn sdl(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    match caller(&state, peer, &headers).await {
        Err(refused) => refused,
        Ok(None) => error_response(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "send `Authorization: Bearer <API key>` to read the schema",
        ),
        Ok(Some(_)) => {
            let mut response = state.schemas.authenticated.sdl().into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
    }
}
