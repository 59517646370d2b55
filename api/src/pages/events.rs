//! `/events` (an organization's upcoming public events) and `/e/<event>` (one event, its
//! shifts with the seats left, and an RSVP form per shift, through the same service as the
//! public `rsvp` mutation).

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, OriginalUri, Path, Query as QueryString, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use turnout_domain::DomainError;
use turnout_domain::events::listing::{self, PublicEvent, PublicEventFilter};
use turnout_domain::events::{self, EventStatus};
use turnout_domain::links::paths;
use turnout_domain::signup::ContactInput;
use turnout_entity::{events as event_row, shifts as shift_row};
use uuid::Uuid;

use super::{Kind, Query, View, client_ip, field};
use crate::http::AppState;

/// An event in a list.
#[derive(Serialize)]
pub(super) struct EventCard {
    url: String,
    title: String,
    when: String,
    location: Option<String>,
    online: bool,
}

fn zone(event: &event_row::Model) -> chrono_tz::Tz {
    event.time_zone.parse().unwrap_or(chrono_tz::UTC)
}

pub(super) fn cards(view: &View<'_>, items: &[PublicEvent]) -> Vec<EventCard> {
    items
        .iter()
        .map(|item| EventCard {
            url: paths::event(item.event.id),
            title: item.event.title.clone(),
            when: view.lang().day(item.next_starts_at, zone(&item.event)),
            location: item.event.location.clone(),
            online: item.event.virtual_url.is_some(),
        })
        .collect()
}

#[derive(Serialize)]
struct ListPage {
    events: Vec<EventCard>,
    chapters: Vec<(String, String, bool)>,
    org: String,
    next_url: Option<String>,
}

/// `GET /events?org=<slug>&chapter=<id>&after=<cursor>`.
pub(super) async fn list(
    State(state): State<AppState>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let view = View::new(&state, uri.path().to_owned(), &query, &headers);
    let org = match turnout_domain::organization::public_by_slug(
        &state.db,
        query.get("org").map(String::as_str),
    )
    .await
    {
        Ok(org) => org,
        Err(err) => return view.error(err),
    };
    view.adopt_language(&org);
    let chapter_id = field(&query, "chapter").and_then(|c| c.parse::<Uuid>().ok());
    let after = field(&query, "after")
        .and_then(|c| crate::ids::decode_public_event_cursor("after", &c).ok());
    let filter = PublicEventFilter {
        chapter_id,
        ..Default::default()
    };
    let listed = listing::list_public_of(&state.db, org.id, &filter, Some(20), after).await;
    let chapters = turnout_domain::organization::chapters::public_names(&state.db, org.id).await;
    let (page, chapters) = match (listed, chapters) {
        (Ok(page), Ok(chapters)) => (page, chapters),
        (Err(err), _) | (_, Err(err)) => return view.error(err),
    };
    let next_url = page
        .has_next_page
        .then(|| page.items.last())
        .flatten()
        .map(|last| {
            let mut url = format!(
                "{}?org={}&after={}",
                paths::EVENTS,
                org.slug,
                crate::ids::encode_public_event_cursor(&last.cursor())
            );
            if let Some(c) = chapter_id {
                url.push_str(&format!("&chapter={c}"));
            }
            url
        });
    let list = ListPage {
        events: cards(&view, &page.items),
        chapters: chapters
            .into_iter()
            .map(|(id, name)| (id.to_string(), name, Some(id) == chapter_id))
            .collect(),
        org: org.slug.clone(),
        next_url,
    };
    let t = view.texts();
    let shell = view.shell(Some(&org), t.events_title, None);
    view.render(StatusCode::OK, Kind::Private, "events.html", shell, list)
}

#[derive(Serialize)]
pub(super) struct ShiftView {
    pub(super) id: String,
    pub(super) when: String,
    seats_left: Option<u64>,
    pub(super) full: bool,
    cancelled: bool,
}

#[derive(Serialize)]
struct EventPage {
    title: String,
    description: Option<String>,
    location: Option<String>,
    virtual_url: Option<String>,
    cancelled: bool,
    shifts: Vec<ShiftView>,
    action: String,
    csrf: String,
    contact_fields: Vec<super::ContactField>,
    values: Query,
    errors: HashMap<String, String>,
    /// The shift whose form was sent with errors.
    failed_shift: Option<String>,
}

pub(super) fn shift_views(
    view: &View<'_>,
    event: &event_row::Model,
    shifts: &[shift_row::Model],
    taken: &HashMap<Uuid, u64>,
) -> Vec<ShiftView> {
    let tz = zone(event);
    shifts
        .iter()
        .map(|s| {
            let seats_left = s.capacity.map(|cap| {
                u64::try_from(cap)
                    .unwrap_or(0)
                    .saturating_sub(taken.get(&s.id).copied().unwrap_or(0))
            });
            ShiftView {
                id: s.id.to_string(),
                when: view.lang().when(s.starts_at, s.ends_at, tz),
                seats_left,
                full: seats_left == Some(0),
                cancelled: s.cancelled_at.is_some(),
            }
        })
        .collect()
}

/// The event, its upcoming shifts and their seats taken: three statements.
async fn load(
    state: &AppState,
    id: Uuid,
) -> turnout_domain::DomainResult<(event_row::Model, Vec<shift_row::Model>, HashMap<Uuid, u64>)> {
    let event = events::get_event(&state.db, None, id).await?;
    let now = chrono::Utc::now();
    let shifts: Vec<_> = events::shifts_of_event(&state.db, &event)
        .await?
        .into_iter()
        .filter(|s| s.ends_at >= now)
        .collect();
    let ids: Vec<Uuid> = shifts.iter().map(|s| s.id).collect();
    let taken = events::rsvps::seats_taken(&state.db, &ids).await?;
    Ok((event, shifts, taken))
}

async fn render_event(
    state: &AppState,
    view: &View<'_>,
    status: StatusCode,
    id: Uuid,
    values: Query,
    errors: HashMap<String, String>,
) -> Response {
    let (event, shifts, taken) = match load(state, id).await {
        Ok(found) => found,
        Err(err) => return view.error(err),
    };
    let org = match turnout_domain::organization::public(&state.db, event.organization_id).await {
        Ok(org) => org,
        Err(err) => return view.error(err),
    };
    view.adopt_language(&org);
    let action = format!("{}/rsvp", paths::event(event.id));
    let page = EventPage {
        title: event.title.clone(),
        description: event.description.clone(),
        location: event.location.clone(),
        virtual_url: event.virtual_url.clone(),
        cancelled: event.status == EventStatus::Cancelled.as_str(),
        shifts: shift_views(view, &event, &shifts, &taken),
        csrf: view.token(&action),
        action,
        contact_fields: super::contact_fields(view.texts()),
        failed_shift: (!errors.is_empty())
            .then(|| values.get("shift").cloned())
            .flatten(),
        values,
        errors,
    };
    let shell = view.shell(Some(&org), &event.title, None);
    view.render(status, Kind::Private, "event.html", shell, page)
}

/// An event's id in a page URL: its UUID, or the global ID the API gives out.
fn event_id(raw: &str) -> Option<Uuid> {
    raw.parse().ok().or_else(|| {
        let id = async_graphql::ID(raw.to_owned());
        crate::ids::decode_id_of("event", crate::ids::NodeType::Event, &id).ok()
    })
}

/// `GET /e/<event id>`.
pub(super) async fn show(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let view = View::new(&state, uri.path().to_owned(), &query, &headers);
    let Some(id) = event_id(&raw) else {
        return view.not_found();
    };
    render_event(
        &state,
        &view,
        StatusCode::OK,
        id,
        Query::new(),
        HashMap::new(),
    )
    .await
}

/// `POST /e/<event id>/rsvp`: RSVPs the person to the chosen shift (found or created exactly
/// as the public `rsvp` does), then to their RSVP's own page.
pub(super) async fn rsvp(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(raw): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Form(body): Form<Query>,
) -> Response {
    let event_path = uri.path().trim_end_matches("/rsvp").to_owned();
    let view = View::new(&state, event_path, &query, &headers);
    if let Some(refused) = view.refuse_bad_token(uri.path(), &body) {
        return refused;
    }
    let Some(id) = event_id(&raw) else {
        return view.not_found();
    };
    let Some(shift_id) = field(&body, "shift").and_then(|s| s.parse::<Uuid>().ok()) else {
        return view.not_found();
    };
    if let Err(wait) = state
        .limiter
        .check_signup(Some(peer.ip()), &format!("event:{id}"))
    {
        return view.error(DomainError::RateLimited { retry_after: wait });
    }
    // The shift must belong to this event: a form cannot book another event's shift.
    match events::get_shift(&state.db, None, shift_id).await {
        Ok(shift) if shift.event_id == id => {}
        Ok(_) => return view.not_found(),
        Err(err) => return view.error(err),
    }
    let contact = ContactInput {
        first_name: field(&body, "first_name"),
        last_name: field(&body, "last_name"),
        email: field(&body, "email"),
        phone: field(&body, "phone"),
        referral_code: field(&body, "ref").or_else(|| field(&query, "ref")),
        sms_consent: field(&body, "sms_consent").is_some(),
        whatsapp_consent: false,
    };
    match events::rsvps::create_public(&state.db, &client_ip(peer), shift_id, &contact).await {
        Ok(outcome) => view.see_other(&paths::rsvp(&outcome.rsvp.public_token)),
        Err(DomainError::Validation(invalid)) => {
            let errors = super::field_errors(view.lang(), &invalid);
            render_event(
                &state,
                &view,
                StatusCode::UNPROCESSABLE_ENTITY,
                id,
                body,
                errors,
            )
            .await
        }
        Err(err) => view.error(err),
    }
}
