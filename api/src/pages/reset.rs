//! "Forgot your password?": `/reset` asks for an email address and sends a reset link;
//! `/reset/<token>` (the link in that email) sets a new password. Both run on the same domain
//! service as `requestPasswordReset` and `resetPassword`.
//!
//! `/reset` answers the same whether or not the address has an account, takes a form token
//! like every other form, and shares the sign-in budget per client. On `/reset/<token>` the
//! token in the path is the credential (as on `/invite/<token>`), so its POST takes no form
//! token; misses count against the client's guessing budget.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, OriginalUri, Path, Query as QueryString, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use turnout_domain::DomainError;
use turnout_domain::links::paths;
use turnout_domain::password_reset;

use super::{Kind, Query, View, client_ip, field, guarded};
use crate::http::AppState;

/// Reset links share one guessing budget per client.
const GUARD: &str = "reset-link";

#[derive(Serialize)]
struct AskPage {
    action: &'static str,
    csrf: String,
    email: String,
    errors: HashMap<String, String>,
}

fn ask_form(
    view: &View<'_>,
    status: StatusCode,
    email: String,
    errors: HashMap<String, String>,
) -> Response {
    let t = view.texts();
    let shell = view.shell(None, t.reset_title, None);
    let page = AskPage {
        action: paths::PASSWORD_RESET,
        csrf: view.token(paths::PASSWORD_RESET),
        email,
        errors,
    };
    view.render(status, Kind::Private, "reset_ask.html", shell, page)
}

/// `GET /reset`: the email form.
pub(super) async fn ask(
    State(state): State<AppState>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
) -> Response {
    let view = View::new(&state, paths::PASSWORD_RESET.to_owned(), &query, &headers);
    ask_form(&view, StatusCode::OK, String::new(), HashMap::new())
}

/// `POST /reset`: sends the link, if the address has an account.
pub(super) async fn send(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    Form(body): Form<Query>,
) -> Response {
    let view = View::new(&state, paths::PASSWORD_RESET.to_owned(), &query, &headers);
    if let Some(refused) = view.refuse_bad_token(paths::PASSWORD_RESET, &body) {
        return refused;
    }
    if let Err(wait) = state.limiter.check_login(Some(peer.ip())) {
        return view.error(DomainError::RateLimited { retry_after: wait });
    }
    let email = field(&body, "email").unwrap_or_default();
    let ctx = client_ip(peer);
    let sent = password_reset::request(&state.db, &state.pages.links, &ctx, &email);
    match sent.await {
        Ok(()) => {
            let t = view.texts();
            view.message(
                StatusCode::OK,
                t.reset_sent_title,
                &t.reset_sent_body.replace("{email}", &email),
            )
        }
        Err(DomainError::Validation(invalid)) => {
            let errors = super::field_errors(view.lang(), &invalid);
            ask_form(&view, StatusCode::UNPROCESSABLE_ENTITY, email, errors)
        }
        Err(err) => view.error(err),
    }
}

#[derive(Serialize)]
struct SetPage {
    intro: String,
    action: String,
    errors: HashMap<String, String>,
}

fn set_form(
    view: &View<'_>,
    status: StatusCode,
    token: &str,
    email: &str,
    errors: HashMap<String, String>,
) -> Response {
    let t = view.texts();
    let shell = view.shell(None, t.reset_title, None);
    let page = SetPage {
        intro: t.reset_set_intro.replace("{email}", email),
        action: paths::password_reset(token),
        errors,
    };
    view.render(status, Kind::Private, "reset_set.html", shell, page)
}

/// `GET /reset/<token>`: the new-password form, while the link works.
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
        password_reset::email_of(&state.db, &token),
    )
    .await
    {
        Ok(email) => set_form(&view, StatusCode::OK, &token, &email, HashMap::new()),
        Err(err) => view.error(err),
    }
}

/// `POST /reset/<token>`: the new password.
pub(super) async fn set(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    Form(body): Form<Query>,
) -> Response {
    let view = View::new(&state, paths::password_reset(&token), &query, &headers);
    let email = match guarded(
        &state,
        GUARD,
        peer,
        password_reset::email_of(&state.db, &token),
    )
    .await
    {
        Ok(email) => email,
        Err(err) => return view.error(err),
    };
    let password = body.get("password").cloned().unwrap_or_default();
    let ctx = client_ip(peer);
    match password_reset::reset(&state.db, &ctx, &token, &password).await {
        Ok(()) => {
            let t = view.texts();
            view.message(
                StatusCode::OK,
                t.reset_done_title,
                &t.reset_done_body.replace("{email}", &email),
            )
        }
        Err(DomainError::Validation(invalid)) => {
            let errors = super::field_errors(view.lang(), &invalid);
            set_form(
                &view,
                StatusCode::UNPROCESSABLE_ENTITY,
                &token,
                &email,
                errors,
            )
        }
        Err(err) => view.error(err),
    }
}
