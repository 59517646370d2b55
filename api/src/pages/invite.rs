//! `/invite/<token>`: the link of an invitation email. `GET` shows who is invited into which
//! organization and asks for a name and a password (or, for someone who has a Turnout account
//! already, its current password); `POST` accepts the invitation through the same domain
//! service as `acceptInvitation`. The token in the path is the credential (as on `/u/<token>`),
//! so the POST takes no form token; misses count against the client's guessing budget.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, OriginalUri, Path, Query as QueryString, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use turnout_domain::DomainError;
use turnout_domain::identity::{self, InvitationToAccept};
use turnout_domain::links::paths;

use super::{Kind, Query, View, field, guarded};
use crate::http::AppState;

/// Invitation links share one guessing budget per client.
const GUARD: &str = "invitation-link";

#[derive(Serialize)]
struct Page {
    intro: String,
    has_password: bool,
    action: String,
    name: String,
    errors: HashMap<String, String>,
}

fn form(
    view: &View<'_>,
    status: StatusCode,
    token: &str,
    inv: &InvitationToAccept,
    name: String,
    errors: HashMap<String, String>,
) -> Response {
    view.adopt_language(&inv.organization);
    let t = view.texts();
    let shell = view.shell(Some(&inv.organization), t.invite_title, None);
    let page = Page {
        intro: t
            .invite_intro
            .replace("{org}", &inv.organization.name)
            .replace("{email}", &inv.email)
            .replace("{role}", inv.role.as_str()),
        has_password: inv.has_password,
        action: paths::invitation(token),
        name,
        errors,
    };
    view.render(status, Kind::Private, "invite.html", shell, page)
}

/// `GET /invite/<token>`.
pub(super) async fn show(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let view = View::new(&state, uri.path().to_owned(), &query, &headers);
    match guarded(
        &state,
        GUARD,
        peer,
        identity::invitation_to_accept(&state.db, &token),
    )
    .await
    {
        Ok(inv) => form(
            &view,
            StatusCode::OK,
            &token,
            &inv,
            String::new(),
            HashMap::new(),
        ),
        Err(err) => view.error(err),
    }
}

/// `POST /invite/<token>`: name and password.
pub(super) async fn accept(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    Form(body): Form<Query>,
) -> Response {
    let view = View::new(&state, paths::invitation(&token), &query, &headers);
    let inv = match guarded(
        &state,
        GUARD,
        peer,
        identity::invitation_to_accept(&state.db, &token),
    )
    .await
    {
        Ok(inv) => inv,
        Err(err) => return view.error(err),
    };
    let name = field(&body, "name").unwrap_or_default();
    let password = body.get("password").cloned().unwrap_or_default();
    match identity::accept_invitation(&state.db, &token, &password, &name).await {
        Ok(_session) => {
            view.adopt_language(&inv.organization);
            let t = view.texts();
            view.message_of(
                Some(&inv.organization),
                StatusCode::OK,
                t.invite_done_title,
                &t.invite_done_body
                    .replace("{org}", &inv.organization.name)
                    .replace("{email}", &inv.email),
            )
        }
        Err(DomainError::Validation(invalid)) => {
            let errors = super::field_errors(view.lang(), &invalid);
            form(
                &view,
                StatusCode::UNPROCESSABLE_ENTITY,
                &token,
                &inv,
                name,
                errors,
            )
        }
        // The invitation was valid a moment ago: the existing account's password was wrong.
        Err(DomainError::Unauthenticated(_)) if inv.has_password => {
            let t = view.texts();
            let errors =
                HashMap::from([("password".to_owned(), t.invite_wrong_password.to_owned())]);
            form(
                &view,
                StatusCode::UNPROCESSABLE_ENTITY,
                &token,
                &inv,
                name,
                errors,
            )
        }
        Err(err) => view.error(err),
    }
}
