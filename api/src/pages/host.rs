//! `/host/<token>`: a shift's check-in page for its host, on a phone at the door. The roster
//! with search, one tap to check in (and to undo), a walk-in form, and the counts. It works as
//! plain forms; `host.js` adds live updates (the roster is fetched again every 1.5 s, so two
//! hosts on one link see each other's check-ins) and checks in without reloading.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, OriginalUri, Path, Query as QueryString, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use turnout_domain::DomainError;
use turnout_domain::events::rsvps::{self, HostView, RsvpStatus};
use turnout_domain::links::paths;
use turnout_domain::signup::ContactInput;
use uuid::Uuid;

use super::{Kind, Query, View, client_ip, field, guarded};
use crate::http::AppState;

/// Host links share one guessing budget per client with the GraphQL host operations.
const GUARD: &str = "host-link";

#[derive(Serialize)]
struct Entry {
    rsvp: String,
    name: String,
    status: &'static str,
    checked_in: bool,
    walk_in: bool,
    /// Lower-case name, for the search box.
    search: String,
}

#[derive(Serialize)]
struct Roster {
    entries: Vec<Entry>,
    expected: usize,
    checked_in: usize,
    walk_ins: usize,
    check_in: String,
    undo: String,
    csrf_check_in: String,
    csrf_undo: String,
    query: String,
}

#[derive(Serialize)]
struct HostPage {
    event_title: String,
    when: String,
    location: Option<String>,
    roster: Roster,
    walk_in_action: String,
    csrf_walk_in: String,
    roster_url: String,
    contact_fields: Vec<super::ContactField>,
    values: Query,
    errors: HashMap<String, String>,
}

fn roster(view: &View<'_>, token: &str, host: &HostView, query: &str) -> Roster {
    let needle = query.trim().to_lowercase();
    let mut entries: Vec<Entry> = host
        .roster
        .iter()
        .map(|(rsvp, person)| {
            let name = [person.first_name.as_deref(), person.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let status = RsvpStatus::parse(&rsvp.status).unwrap_or(RsvpStatus::SignedUp);
            Entry {
                rsvp: rsvp.id.to_string(),
                search: name.to_lowercase(),
                name,
                status: status.as_str(),
                checked_in: status == RsvpStatus::Attended,
                walk_in: rsvp.walk_in,
            }
        })
        .collect();
    entries.sort_by(|a, b| a.search.cmp(&b.search));
    let expected = entries
        .iter()
        .filter(|e| e.status != RsvpStatus::Waitlisted.as_str() && !e.walk_in)
        .count();
    let checked_in = entries.iter().filter(|e| e.checked_in).count();
    let walk_ins = entries.iter().filter(|e| e.walk_in).count();
    let shown = entries
        .into_iter()
        .filter(|e| needle.is_empty() || e.search.contains(&needle))
        .collect();
    let check_in = format!("{}/check-in", paths::host(token));
    let undo = format!("{}/undo", paths::host(token));
    Roster {
        entries: shown,
        expected,
        checked_in,
        walk_ins,
        csrf_check_in: view.token(&check_in),
        csrf_undo: view.token(&undo),
        check_in,
        undo,
        query: query.to_owned(),
    }
}

async fn load(
    state: &AppState,
    peer: SocketAddr,
    token: &str,
) -> turnout_domain::DomainResult<(HostView, turnout_entity::organizations::Model)> {
    let host = guarded(state, GUARD, peer, rsvps::host_view(&state.db, token)).await?;
    let org = turnout_domain::organization::public(&state.db, host.shift.organization_id).await?;
    Ok((host, org))
}

async fn render_page(
    state: &AppState,
    view: &View<'_>,
    peer: SocketAddr,
    token: &str,
    status: StatusCode,
    values: Query,
    errors: HashMap<String, String>,
) -> Response {
    let (host, org) = match load(state, peer, token).await {
        Ok(found) => found,
        Err(err) => return view.error(err),
    };
    view.adopt_language(&org);
    let tz = host.event.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let walk_in_action = format!("{}/walk-in", paths::host(token));
    let q = values.get("q").cloned().unwrap_or_default();
    let page = HostPage {
        event_title: host.event.title.clone(),
        when: view
            .lang()
            .when(host.shift.starts_at, host.shift.ends_at, tz),
        location: host.event.location.clone(),
        roster: roster(view, token, &host, &q),
        csrf_walk_in: view.token(&walk_in_action),
        walk_in_action,
        roster_url: format!("{}/roster", paths::host(token)),
        contact_fields: super::contact_fields(view.texts()),
        values,
        errors,
    };
    let t = view.texts();
    let shell = view.shell(Some(&org), t.host_title, Some("host.js"));
    view.render(status, Kind::Private, "host.html", shell, page)
}

/// `GET /host/<token>?q=<search>`.
pub(super) async fn show(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let view = View::new(&state, uri.path().to_owned(), &query, &headers);
    render_page(
        &state,
        &view,
        peer,
        &token,
        StatusCode::OK,
        query,
        HashMap::new(),
    )
    .await
}

/// `GET /host/<token>/roster`: the roster alone, as HTML, for `host.js` to swap in.
pub(super) async fn roster_fragment(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
) -> Response {
    let view = View::new(&state, paths::host(&token), &query, &headers);
    let (host, org) = match load(&state, peer, &token).await {
        Ok(found) => found,
        Err(err) => return view.error(err),
    };
    view.adopt_language(&org);
    let q = query.get("q").cloned().unwrap_or_default();
    let shell = view.shell(Some(&org), "", None);
    view.render(
        StatusCode::OK,
        Kind::Private,
        "roster_fragment.html",
        shell,
        roster(&view, &token, &host, &q),
    )
}

/// `POST /host/<token>/{check-in,undo,walk-in}`, then back to the roster.
pub(super) async fn act(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((token, action)): Path<(String, String)>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Form(body): Form<Query>,
) -> Response {
    let view = View::new(&state, paths::host(&token), &query, &headers);
    if let Some(refused) = view.refuse_bad_token(uri.path(), &body) {
        return refused;
    }
    let ctx = client_ip(peer);
    let db = &state.db;
    let rsvp_id = || field(&body, "rsvp").and_then(|s| s.parse::<Uuid>().ok());
    let result = match action.as_str() {
        "check-in" | "undo" => {
            let Some(id) = rsvp_id() else {
                return view.not_found();
            };
            let run = async {
                if action == "undo" {
                    rsvps::host_undo_check_in(db, &ctx, &token, id).await
                } else {
                    rsvps::host_check_in(db, &ctx, &token, id).await
                }
            };
            guarded(&state, GUARD, peer, run).await.map(|_| ())
        }
        "walk-in" => {
            let contact = ContactInput {
                first_name: field(&body, "first_name"),
                last_name: field(&body, "last_name"),
                email: field(&body, "email"),
                phone: field(&body, "phone"),
                referral_code: None,
                // Consent is the person's to give, on their own RSVP or sign-up, not the host's.
                sms_consent: false,
                whatsapp_consent: false,
            };
            let run = rsvps::host_walk_in(db, &ctx, &token, &contact);
            match guarded(&state, GUARD, peer, run).await {
                Ok(_) => Ok(()),
                Err(DomainError::Validation(invalid)) => {
                    let errors = super::field_errors(view.lang(), &invalid);
                    return render_page(
                        &state,
                        &view,
                        peer,
                        &token,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        body,
                        errors,
                    )
                    .await;
                }
                Err(err) => Err(err),
            }
        }
        _ => return view.not_found(),
    };
    match result {
        Ok(()) => view.see_other(&paths::host(&token)),
        Err(err) => view.error(err),
    }
}
