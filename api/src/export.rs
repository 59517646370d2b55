//! `GET /export/people.csv`: the organization's active people matching a filter (query
//! parameters, or a saved segment), as CSV streamed in pages of 1000, authenticated by the
//! same bearer credential as `/graphql` and needing `people:read`.
//!
//! Parameters (all optional, repeatable where plural): `segment` (a segment's global ID),
//! `search`, `tag` (any of), `tagAll`, `tagNone`, `ladderStage`, `zip`, `language`, `chapterId`,
//! `assessmentMin`, `assessmentMax`, `smsConsent`, `emailConsent`, `whatsappConsent`
//! (`true`/`false`), `createdAfter`, `createdBefore` (RFC 3339), `referredBy` (a person's global
//! ID), `sort` (`CREATED_AT_ASC`, `CREATED_AT_DESC`, `LAST_NAME_ASC`, `LAST_NAME_DESC`).

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use turnout_domain::auth::{Can, perm};
use turnout_domain::db::Db;
use turnout_domain::people::{self, PersonCursor, PersonFilter, PersonSort};
use turnout_domain::people_csv;

use crate::error::ClientError;
use crate::http::{AppState, authenticate, bearer_token, error_response};
use crate::ids::{NodeType, decode_id_of};

const BATCH: u64 = 1000;

fn bad(message: String) -> Response {
    error_response(StatusCode::BAD_REQUEST, "VALIDATION", &message)
}

fn parse_filter(params: &[(String, String)]) -> Result<(PersonFilter, PersonSort), String> {
    if params
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err("parameters may not contain the NUL character".into());
    }
    let mut f = PersonFilter::default();
    let mut sort = PersonSort::CreatedAsc;
    let boolean = |k: &str, v: &str| match v {
        "true" => Ok(Some(true)),
        "false" => Ok(Some(false)),
        _ => Err(format!("`{k}` must be true or false")),
    };
    let time = |k: &str, v: &str| {
        chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .map_err(|_| format!("`{k}` must be an RFC 3339 time"))
    };
    let small = |k: &str, v: &str| {
        v.parse::<i16>()
            .map(Some)
            .map_err(|_| format!("`{k}` must be a number"))
    };
    for (k, v) in params {
        let id = |ty| {
            decode_id_of(k, ty, &async_graphql::ID(v.clone()))
                .map_err(|_| format!("`{k}` is not a valid ID"))
        };
        match k.as_str() {
            "segment" => f.segment_id = Some(id(NodeType::Segment)?),
            "referredBy" => f.referred_by = Some(id(NodeType::Person)?),
            "search" => f.search = Some(v.clone()),
            "tag" => f.tags_any.push(v.clone()),
            "tagAll" => f.tags_all.push(v.clone()),
            "tagNone" => f.tags_none.push(v.clone()),
            "ladderStage" => f.ladder_stages.push(v.clone()),
            "zip" => f.zips.push(v.clone()),
            "language" => f.languages.push(v.clone()),
            "chapterId" => f.chapter_ids.push(
                uuid::Uuid::parse_str(v).map_err(|_| "`chapterId` is not a UUID".to_owned())?,
            ),
            "assessmentMin" => f.assessment_min = small(k, v)?,
            "assessmentMax" => f.assessment_max = small(k, v)?,
            "smsConsent" => f.sms_consent = boolean(k, v)?,
            "emailConsent" => f.email_consent = boolean(k, v)?,
            "whatsappConsent" => f.whatsapp_consent = boolean(k, v)?,
            "createdAfter" => f.created_after = time(k, v)?,
            "createdBefore" => f.created_before = time(k, v)?,
            "sort" => {
                sort = match v.as_str() {
                    "CREATED_AT_ASC" => PersonSort::CreatedAsc,
                    "CREATED_AT_DESC" => PersonSort::CreatedDesc,
                    "LAST_NAME_ASC" => PersonSort::LastNameAsc,
                    "LAST_NAME_DESC" => PersonSort::LastNameDesc,
                    _ => return Err("`sort` is not a known order".into()),
                }
            }
            _ => return Err(format!("unknown parameter `{k}`")),
        }
    }
    Ok((f, sort))
}

struct Cursor {
    db: Db,
    scope: Can<perm::PeopleRead>,
    filter: PersonFilter,
    sort: PersonSort,
    after: Option<PersonCursor>,
    done: bool,
}

async fn next_batch(mut c: Cursor) -> Option<(Result<Bytes, std::io::Error>, Cursor)> {
    if c.done {
        return None;
    }
    let page = match people::list(&c.db, &c.scope, &c.filter, c.sort, BATCH, c.after.as_ref()).await
    {
        Ok(page) => page,
        Err(err) => {
            // The status line is gone; cutting the body short tells the client it failed.
            tracing::error!(%err, "export failed");
            return Some((
                Err(std::io::Error::other("export failed")),
                Cursor { done: true, ..c },
            ));
        }
    };
    let ids: Vec<_> = page.items.iter().map(|p| p.id).collect();
    let rows = match people::tags_of(&c.db, &c.scope, &ids).await {
        Ok(tags) => people_csv::export_rows(&page.items, &tags),
        Err(err) => Err(err),
    };
    let bytes = match rows {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::error!(%err, "export failed");
            return Some((
                Err(std::io::Error::other("export failed")),
                Cursor { done: true, ..c },
            ));
        }
    };
    c.after = page.items.last().map(|p| c.sort.cursor_of(p));
    c.done = !page.has_next_page;
    Some((Ok(Bytes::from(bytes)), c))
}

pub(crate) async fn export_people(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let principal = match bearer_token(&headers) {
        Ok(Some(token)) => match authenticate(&state, token).await {
            Ok(p) => p,
            Err(err) => return ClientError::from(err).into_response(),
        },
        Ok(None) => {
            return error_response(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "send `Authorization: Bearer <token>`",
            );
        }
        Err(message) => {
            return error_response(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", message);
        }
    };
    let (turnout_domain::auth::Actor::User(actor) | turnout_domain::auth::Actor::ApiKey(actor)) =
        principal.actor();
    if let Err(wait) = state.limiter.check_credential(actor) {
        return crate::http::rate_limited(crate::rate_limit::retry_after_secs(wait));
    }
    let scope = match principal.can::<perm::PeopleRead>() {
        Ok(s) => s,
        Err(err) => return ClientError::from(err).into_response(),
    };
    let (filter, sort) = match parse_filter(&params) {
        Ok(f) => f,
        Err(message) => return bad(message),
    };
    // Check the filter (and find its segment) before the first byte goes out.
    if let Err(err) = people::condition(&state.db, &scope, &filter).await {
        return ClientError::from(err).into_response();
    }
    let header_line = match people_csv::export_header() {
        Ok(h) => h,
        Err(_) => {
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            );
        }
    };
    let first =
        futures::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(header_line)) });
    let rest = futures::stream::unfold(
        Cursor {
            db: state.db.clone(),
            scope,
            filter,
            sort,
            after: None,
            done: false,
        },
        next_batch,
    );
    let mut response = Body::from_stream(futures::StreamExt::chain(first, rest)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"people.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
