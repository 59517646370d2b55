//! `GET /export/people.csv`: the organization's active people matching a filter (query
//! parameters, or a saved segment), as CSV streamed in pages of 1000, authenticated by the
//! same bearer credential as `/graphql` and needing `people:read`.
//!
//! Parameters (all optional, repeatable where plural): `segment` (a segment's global ID),
//! `search`, `tag` (any of), `tagAll`, `tagNone`, `ladderStage`, `zip`, `language`, `chapterId`,
//! `assessmentMin`, `assessmentMax`, `smsConsent`, `emailConsent`, `whatsappConsent`
//! (`true`/`false`), `createdAfter`, `createdBefore` (RFC 3339), `referredBy` (a person's global
//! ID), `sort` (`CREATED_AT_ASC`, `CREATED_AT_DESC`, `LAST_NAME_ASC`, `LAST_NAME_DESC`).
//!
//! With `organizing:read` as well: `worksiteId`, `unitId` (UUIDs) select who works there now;
//! `include=employment` adds the columns `worksite`, `unit`, `job_title` and `shift`; and
//! `campaign` (a UUID) adds those and the person's standing in the campaign
//! (`campaign_level`, `campaign_level_label`, `card_signed_on`, `petition_signed_on`,
//! `leader`), with `campaignLevel`, `signed` and `leader` to select by it.
//!
//! Every export is recorded in the audit log (`people.export`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use turnout_domain::auth::{Can, perm};
use turnout_domain::db::Db;
use turnout_domain::organizing::csv::{ExportSource, export_columns};
use turnout_domain::people::{self, CampaignCriteria, PersonCursor, PersonFilter, PersonSort};
use turnout_domain::people_csv;

use crate::error::ClientError;
use crate::http::{AppState, authenticate, bearer_token, error_response};
use crate::ids::{NodeType, decode_id_of};

const BATCH: u64 = 1000;

fn bad(message: String) -> Response {
    error_response(StatusCode::BAD_REQUEST, "VALIDATION", &message)
}

/// The organizing columns an export asked for.
#[derive(Default)]
struct Columns {
    employment: bool,
    campaign: Option<uuid::Uuid>,
}

impl Columns {
    fn wanted(&self) -> bool {
        self.employment || self.campaign.is_some()
    }
}

fn parse_filter(
    params: &[(String, String)],
) -> Result<(PersonFilter, PersonSort, Columns), String> {
    if params
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err("parameters may not contain the NUL character".into());
    }
    let mut f = PersonFilter::default();
    let mut sort = PersonSort::CreatedAsc;
    let mut columns = Columns::default();
    let mut standing = CampaignCriteria::default();
    let uuid =
        |k: &str, v: &str| uuid::Uuid::parse_str(v).map_err(|_| format!("`{k}` is not a UUID"));
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
            "chapterId" => f.chapter_ids.push(uuid(k, v)?),
            "worksiteId" => f.worksite_ids.push(uuid(k, v)?),
            "unitId" => f.unit_ids.push(uuid(k, v)?),
            "campaign" => columns.campaign = Some(uuid(k, v)?),
            "campaignLevel" => standing.levels.extend(small(k, v)?),
            "signed" => standing.signed = boolean(k, v)?,
            "leader" => standing.leader = boolean(k, v)?,
            "include" => match v.as_str() {
                "employment" => columns.employment = true,
                _ => return Err("`include` takes `employment`".into()),
            },
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
    match columns.campaign {
        Some(campaign_id) => {
            f.campaign = Some(CampaignCriteria {
                campaign_id,
                ..standing
            })
        }
        None if standing != CampaignCriteria::default() => {
            return Err("`campaignLevel`, `signed` and `leader` need `campaign`".into());
        }
        None => {}
    }
    Ok((f, sort, columns))
}

struct Cursor {
    db: Db,
    scope: Can<perm::PeopleRead>,
    filter: PersonFilter,
    sort: PersonSort,
    after: Option<PersonCursor>,
    done: bool,
    organizing: Option<(Can<perm::OrganizingRead>, Arc<ExportSource>)>,
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
    let extra = match &c.organizing {
        Some((scope, source)) => source.cells(&c.db, scope, &ids).await.map(Some),
        None => Ok(None),
    };
    let rows = match (people::tags_of(&c.db, &c.scope, &ids).await, extra) {
        (Ok(tags), Ok(extra)) => people_csv::export_rows(&page.items, &tags, extra.as_ref()),
        (Err(err), _) | (_, Err(err)) => Err(err),
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
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
    let (filter, sort, columns) = match parse_filter(&params) {
        Ok(f) => f,
        Err(message) => return bad(message),
    };
    // Check the filter (and find its segment) before the first byte goes out.
    if let Err(err) = people::condition(&state.db, &scope, &filter).await {
        return ClientError::from(err).into_response();
    }
    let organizing = if columns.wanted() {
        let loaded = match principal.can::<perm::OrganizingRead>() {
            Ok(org) => ExportSource::load(&state.db, &org, columns.campaign)
                .await
                .map(|source| (org, Arc::new(source))),
            Err(err) => Err(err),
        };
        match loaded {
            Ok(o) => Some(o),
            Err(err) => return ClientError::from(err).into_response(),
        }
    } else {
        None
    };
    let ctx = turnout_domain::audit::RequestContext {
        client_ip: Some(peer.ip().to_string()),
    };
    if let Err(err) = people_csv::record_export(&state.db, &scope, &ctx, organizing.is_some()).await
    {
        return ClientError::from(err).into_response();
    }
    let extra = organizing
        .as_ref()
        .map(|(_, source)| export_columns(source.with_campaign()))
        .unwrap_or_default();
    let header_line = match people_csv::export_header(&extra) {
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
            organizing,
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
