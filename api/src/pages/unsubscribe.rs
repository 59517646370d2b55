//! `/u/<token>`: the unsubscribe link of a broadcast email. `GET` asks; `POST` (the page's
//! button, or a mail client's RFC 8058 one-click `List-Unsubscribe=One-Click`) withdraws the
//! person's email consent. The token in the path is the credential, so the POST takes no form
//! token: a mail provider posts it without ever loading the page.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, OriginalUri, Path, Query as QueryString, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use turnout_domain::links::paths;
use turnout_domain::messaging::broadcasts::{self, Unsubscribe};

use super::{Kind, Query, View, client_ip, guarded};
use crate::http::AppState;

/// Unsubscribe links share one guessing budget per client.
const GUARD: &str = "unsubscribe-link";

#[derive(Serialize)]
struct Page {
    text: String,
    /// Where the button posts; none once unsubscribed.
    action: Option<String>,
}

fn say(template: &str, u: &Unsubscribe) -> String {
    template
        .replace("{org}", &u.organization_name)
        .replace("{address}", &u.address)
}

fn answer(view: &View<'_>, u: &Unsubscribe, action: Option<String>, text: &str) -> Response {
    let t = view.texts();
    let shell = view.shell(None, t.unsubscribe_title, None);
    let page = Page {
        text: say(text, u),
        action,
    };
    view.render(
        StatusCode::OK,
        Kind::Private,
        "unsubscribe.html",
        shell,
        page,
    )
}

/// `GET /u/<token>`.
pub(super) async fn show(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let view = View::new(&state, uri.path().to_owned(), &query, &headers);
    let t = view.texts();
    match guarded(
        &state,
        GUARD,
        peer,
        broadcasts::unsubscribe_page(&state.db, &token),
    )
    .await
    {
        Ok(u) if u.already => answer(&view, &u, None, t.already_unsubscribed),
        Ok(u) => answer(
            &view,
            &u,
            Some(paths::unsubscribe(&token)),
            t.unsubscribe_question,
        ),
        Err(err) => view.error(err),
    }
}

/// `POST /u/<token>`.
pub(super) async fn confirm(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
) -> Response {
    let view = View::new(&state, paths::unsubscribe(&token), &query, &headers);
    let t = view.texts();
    match guarded(
        &state,
        GUARD,
        peer,
        broadcasts::unsubscribe(&state.db, &token, &client_ip(peer)),
    )
    .await
    {
        Ok(u) if u.already => answer(&view, &u, None, t.already_unsubscribed),
        Ok(u) => answer(&view, &u, None, t.unsubscribed),
        Err(err) => view.error(err),
    }
}
