//! `/r/<token>`: an RSVP's own page, the link in every confirmation and reminder. It shows
//! where the RSVP stands and offers the calendar invite, confirm, cancel (which promotes the
//! waitlist) and a move to another shift of the same event.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, OriginalUri, Path, Query as QueryString, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use turnout_domain::events::EventStatus;
use turnout_domain::events::rsvps::{self, RsvpStatus};
use turnout_domain::links::paths;
use uuid::Uuid;

use super::{Kind, Query, View, client_ip, field, guarded};
use crate::http::AppState;

/// Links of this kind share one guessing budget per client.
const GUARD: &str = "rsvp-link";

#[derive(Serialize)]
struct Action {
    action: String,
    csrf: String,
    label: &'static str,
}

#[derive(Serialize)]
struct MoveTarget {
    shift: String,
    when: String,
    full: bool,
}

#[derive(Serialize)]
struct RsvpPage {
    status: &'static str,
    status_text: &'static str,
    event_title: String,
    event_url: String,
    when: String,
    location: Option<String>,
    ics_url: String,
    waitlisted: bool,
    actions: Vec<Action>,
    move_action: Option<Action>,
    move_targets: Vec<MoveTarget>,
}

/// `GET /r/<token>`.
pub(super) async fn show(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let view = View::new(&state, uri.path().to_owned(), &query, &headers);
    let rsvp = match guarded(
        &state,
        GUARD,
        peer,
        rsvps::by_public_token(&state.db, &token),
    )
    .await
    {
        Ok(rsvp) => rsvp,
        Err(err) => return view.error(err),
    };
    match page(&state, &view, &token, rsvp).await {
        Ok(response) => response,
        Err(err) => view.error(err),
    }
}

async fn page(
    state: &AppState,
    view: &View<'_>,
    token: &str,
    rsvp: turnout_entity::rsvps::Model,
) -> turnout_domain::DomainResult<Response> {
    // The RSVP's own event, even when it is no longer public: the link is the credential.
    let (event, shifts) = rsvps::event_and_shifts(&state.db, &rsvp).await?;
    let org = turnout_domain::organization::public(&state.db, rsvp.organization_id).await?;
    view.adopt_language(&org);
    let t = view.texts();
    let status = RsvpStatus::parse(&rsvp.status).unwrap_or(RsvpStatus::Cancelled);
    let (status_text, seated) = match status {
        RsvpStatus::SignedUp => (t.status_signed_up, true),
        RsvpStatus::Confirmed => (t.status_confirmed, true),
        RsvpStatus::Waitlisted => (t.status_waitlisted, true),
        RsvpStatus::Cancelled => (t.status_cancelled, false),
        RsvpStatus::Attended => (t.status_attended, false),
        RsvpStatus::NoShow => (t.status_no_show, false),
    };
    let tz = event.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let own = shifts.iter().find(|s| s.id == rsvp.shift_id);
    let when = own.map_or_else(String::new, |s| {
        view.lang().when(s.starts_at, s.ends_at, tz)
    });
    let open = event.status == EventStatus::Active.as_str()
        && own.is_some_and(|s| s.cancelled_at.is_none() && s.ends_at > chrono::Utc::now());
    let action = |name: &str, label: &'static str| {
        let path = format!("{}/{name}", paths::rsvp(token));
        Action {
            csrf: view.token(&path),
            action: path,
            label,
        }
    };
    let mut actions = Vec::new();
    if open && status == RsvpStatus::SignedUp {
        actions.push(action("confirm", t.confirm));
    }
    if open && seated {
        actions.push(action("cancel", t.cancel_rsvp));
    }
    if open && status == RsvpStatus::Cancelled {
        actions.push(action("rebook", t.rsvp_again));
    }
    let now = chrono::Utc::now();
    let others: Vec<_> = shifts
        .iter()
        .filter(|s| s.id != rsvp.shift_id && s.cancelled_at.is_none() && s.ends_at > now)
        .cloned()
        .collect();
    let (move_action, move_targets) = if open && seated && !others.is_empty() {
        let ids: Vec<Uuid> = others.iter().map(|s| s.id).collect();
        let taken = rsvps::seats_taken(&state.db, &ids).await?;
        let targets = super::events::shift_views(view, &event, &others, &taken)
            .into_iter()
            .map(|s| MoveTarget {
                shift: s.id,
                when: s.when,
                full: s.full,
            })
            .collect();
        (Some(action("move", t.move_here)), targets)
    } else {
        (None, Vec::new())
    };
    let page = RsvpPage {
        status: status.as_str(),
        status_text,
        event_title: event.title.clone(),
        event_url: paths::event(event.id),
        when,
        location: event.location.clone(),
        ics_url: paths::ics(token),
        waitlisted: status == RsvpStatus::Waitlisted,
        actions,
        move_action,
        move_targets,
    };
    let shell = view.shell(Some(&org), t.rsvp_title, None);
    Ok(view.render(StatusCode::OK, Kind::Private, "rsvp.html", shell, page))
}

/// `POST /r/<token>/{confirm,cancel,rebook,move}`, then back to the RSVP's page (a move goes
/// to the new RSVP's page).
pub(super) async fn act(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((token, action)): Path<(String, String)>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Form(body): Form<Query>,
) -> Response {
    let view = View::new(&state, paths::rsvp(&token), &query, &headers);
    if let Some(refused) = view.refuse_bad_token(uri.path(), &body) {
        return refused;
    }
    let ctx = client_ip(peer);
    let db = &state.db;
    let result = match action.as_str() {
        "confirm" => {
            guarded(
                &state,
                GUARD,
                peer,
                rsvps::confirm_by_token(db, &ctx, &token),
            )
            .await
        }
        "cancel" => {
            guarded(
                &state,
                GUARD,
                peer,
                rsvps::cancel_by_token(db, &ctx, &token),
            )
            .await
        }
        "rebook" => {
            guarded(
                &state,
                GUARD,
                peer,
                rsvps::rebook_by_token(db, &ctx, &token),
            )
            .await
        }
        "move" => {
            let Some(to) = field(&body, "shift").and_then(|s| s.parse::<Uuid>().ok()) else {
                return view.not_found();
            };
            guarded(
                &state,
                GUARD,
                peer,
                rsvps::change_shift_by_token(db, &ctx, &token, to),
            )
            .await
        }
        _ => return view.not_found(),
    };
    match result {
        Ok(rsvp) => view.see_other(&paths::rsvp(&rsvp.public_token)),
        Err(err) => view.error(err),
    }
}
