//! The pages Turnout serves itself, for volunteers and hosts: sign-up (`/f/<form>`), events
//! (`/events`, `/e/<event>`), an RSVP's own page (`/r/<token>`) and host check-in
//! (`/host/<token>`), and for staff accepting an invitation (`/invite/<token>`) or resetting a
//! password (`/reset`). Server-rendered HTML that works without JavaScript, in English and
//! Spanish, on the same domain services as GraphQL, so no rule exists twice.
//!
//! Every page is sent with a strict Content-Security-Policy (only this origin's stylesheet and
//! scripts, no inline script), `Referrer-Policy: no-referrer` (the tokens in these URLs must not
//! leak to other sites), and every form POST carries a signed token ([`csrf`]). Templates are
//! files beside this module, escaped by minijinja for HTML; assets are embedded in the binary.

mod assets;
pub(crate) mod csrf;
mod events;
mod host;
pub mod i18n;
mod invite;
mod reset;
mod rsvp;
mod signup;
mod unsubscribe;

use std::collections::HashMap;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::Environment;
use serde::Serialize;
use turnout_domain::DomainError;
use turnout_domain::links::PublicLinks;

use crate::error::ClientError;
use crate::http::AppState;
use i18n::{Lang, Texts};

/// What the pages need besides the database: their templates, the links they print, the key
/// their form tokens are signed with, and who may frame the sign-up form.
pub(crate) struct Pages {
    templates: Environment<'static>,
    pub(crate) links: PublicLinks,
    pub(crate) tokens: csrf::FormTokens,
    /// `frame-ancestors` of the sign-up form (`TURNOUT_FRAME_ANCESTORS`), for embeds.
    frame_ancestors: String,
}

/// Everything a page's look depends on.
#[derive(Clone, Debug, Default)]
pub struct PagesConfig {
    /// Origins (`https://campaign.example.org`) allowed to show the sign-up form in an iframe;
    /// empty: only Turnout itself.
    pub frame_ancestors: Vec<String>,
}

impl PagesConfig {
    /// Parses a space- or comma-separated list of origins; `*` and anything that is not an
    /// `https://` or `http://` origin is refused.
    pub fn parse_frame_ancestors(spec: &str) -> Result<Vec<String>, String> {
        spec.split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|origin| {
                PublicLinks::parse(origin)
                    .map(|l| l.origin().to_owned())
                    .map_err(|err| format!("frame ancestor {err}"))
            })
            .collect()
    }
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("form.html", include_str!("templates/form.html")),
    ("thanks.html", include_str!("templates/thanks.html")),
    ("events.html", include_str!("templates/events.html")),
    ("event.html", include_str!("templates/event.html")),
    ("rsvp.html", include_str!("templates/rsvp.html")),
    (
        "unsubscribe.html",
        include_str!("templates/unsubscribe.html"),
    ),
    ("host.html", include_str!("templates/host.html")),
    ("roster.html", include_str!("templates/roster.html")),
    (
        "roster_fragment.html",
        include_str!("templates/roster_fragment.html"),
    ),
    ("message.html", include_str!("templates/message.html")),
    ("invite.html", include_str!("templates/invite.html")),
    ("reset_ask.html", include_str!("templates/reset_ask.html")),
    ("reset_set.html", include_str!("templates/reset_set.html")),
    (
        "contact_fields.html",
        include_str!("templates/contact_fields.html"),
    ),
];

impl Pages {
    pub(crate) fn new(links: PublicLinks, page_key: [u8; 32], config: &PagesConfig) -> Self {
        let mut templates = Environment::new();
        // Block tags leave no blank lines behind: fewer bytes to a cheap phone.
        templates.set_trim_blocks(true);
        templates.set_lstrip_blocks(true);
        for (name, source) in TEMPLATES {
            if let Err(err) = templates.add_template(name, source) {
                // The templates are part of the binary; a broken one fails every test.
                unreachable!("page template {name} does not compile: {err}");
            }
        }
        let frame_ancestors = std::iter::once("'self'".to_owned())
            .chain(config.frame_ancestors.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            templates,
            links,
            tokens: csrf::FormTokens::new(page_key),
            frame_ancestors,
        }
    }
}

/// The routes of every page and their assets.
pub(crate) fn routes() -> Router<AppState> {
    use axum::routing::post;
    Router::new()
        .route(
            "/",
            get(|| async { Redirect::to(turnout_domain::links::paths::EVENTS) }),
        )
        .route("/f/{slug}", get(signup::show).post(signup::submit))
        .route("/f/{slug}/thanks", get(signup::thanks))
        .route("/events", get(events::list))
        .route("/e/{event}", get(events::show))
        .route("/e/{event}/rsvp", post(events::rsvp))
        .route("/r/{token}", get(rsvp::show))
        .route(
            "/u/{token}",
            get(unsubscribe::show).post(unsubscribe::confirm),
        )
        .route("/r/{token}/{action}", post(rsvp::act))
        .route("/invite/{token}", get(invite::show).post(invite::accept))
        .route("/reset", get(reset::ask).post(reset::send))
        .route("/reset/{token}", get(reset::show).post(reset::set))
        .route("/host/{token}", get(host::show))
        .route("/host/{token}/roster", get(host::roster_fragment))
        .route("/host/{token}/{action}", post(host::act))
        .route("/assets/{file}", get(assets::serve))
        .route("/assets/theme/{file}", get(assets::theme))
}

/// The frame of every page: language, organization, and the links to the other language.
#[derive(Serialize)]
struct Shell<'a> {
    lang: &'static str,
    t: &'static Texts,
    org_name: &'a str,
    /// The organization's logo, a `data:` URL (so nothing loads from elsewhere).
    logo: Option<&'a str>,
    /// The organization's colours (`/assets/theme/<org>.css`), when it has its own.
    theme: Option<String>,
    /// Who else may frame this organization's sign-up forms.
    #[serde(skip)]
    frame_ancestors: Vec<String>,
    title: &'a str,
    other_languages: Vec<(&'static str, String)>,
    /// A script of ours this page loads (`/assets/<name>`), if any.
    script: Option<&'static str>,
    asset_version: &'static str,
}

/// How a page may be cached and framed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A page with a secret link or a form token: never stored by a cache.
    Private,
    /// The sign-up form: may be framed by the configured embedders.
    Embeddable,
}

/// A rendered page for one request.
pub(crate) struct View<'a> {
    pages: &'a Pages,
    /// The page's language: the one asked for, or once the organization is known and nothing
    /// Turnout has was asked for, the organization's default.
    /// An index into [`Lang::ALL`]; atomic only so that a `&View` may cross an `.await`.
    lang: std::sync::atomic::AtomicUsize,
    /// Whether the visitor asked for `lang` (`?lang=` or `Accept-Language`).
    lang_asked: bool,
    path: String,
    /// The request's query without `lang`, kept in the links to the other language.
    query: String,
}

impl<'a> View<'a> {
    pub(crate) fn new(
        state: &'a AppState,
        path: String,
        query: &Query,
        headers: &HeaderMap,
    ) -> Self {
        let mut kept: Vec<(&String, &String)> =
            query.iter().filter(|(k, _)| *k != "lang").collect();
        kept.sort();
        let asked = Lang::requested(query.get("lang").map(String::as_str), headers);
        Self {
            pages: &state.pages,
            lang: std::sync::atomic::AtomicUsize::new(asked.unwrap_or(Lang::En).index()),
            lang_asked: asked.is_some(),
            path,
            query: serde_urlencoded::to_string(kept).unwrap_or_default(),
        }
    }

    pub(crate) fn lang(&self) -> Lang {
        Lang::ALL[self.lang.load(std::sync::atomic::Ordering::Relaxed) % Lang::ALL.len()]
    }

    /// Speaks `org`'s default language, unless the visitor asked for one Turnout has.
    pub(crate) fn adopt_language(&self, org: &turnout_entity::organizations::Model) {
        if !self.lang_asked
            && let Some(lang) = Lang::from_tag(&org.default_language)
        {
            self.lang
                .store(lang.index(), std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn texts(&self) -> &'static Texts {
        self.lang().texts()
    }

    fn shell<'b>(
        &self,
        org: Option<&'b turnout_entity::organizations::Model>,
        title: &'b str,
        script: Option<&'static str>,
    ) -> Shell<'b> {
        let settings = org.map(turnout_domain::organization::settings::Settings::of);
        Shell {
            lang: self.lang().tag(),
            t: self.texts(),
            org_name: org.map_or("Turnout", |o| o.name.as_str()),
            logo: org.and_then(|o| o.logo_data_url.as_deref()),
            theme: org.and_then(|o| {
                let color = o.brand_color.as_deref()?;
                Some(assets::theme_path(o.id, color))
            }),
            frame_ancestors: settings.map(|s| s.frame_ancestors).unwrap_or_default(),
            title,
            other_languages: Lang::ALL
                .into_iter()
                .filter(|l| *l != self.lang())
                .map(|l| {
                    let sep = if self.query.is_empty() { "" } else { "&" };
                    let href = format!("{}?{}{sep}lang={}", self.path, self.query, l.tag());
                    (l.texts().language_name, href)
                })
                .collect(),
            script,
            asset_version: assets::VERSION,
        }
    }

    /// A form token for a form that posts to `action`.
    fn token(&self, action: &str) -> String {
        self.pages.tokens.issue(action)
    }

    fn render(
        &self,
        status: StatusCode,
        kind: Kind,
        template: &str,
        mut shell: Shell<'_>,
        page: impl Serialize,
    ) -> Response {
        let ancestors = std::mem::take(&mut shell.frame_ancestors);
        let html = self.pages.templates.get_template(template).and_then(|t| {
            t.render(
                minijinja::context! { page => page, ..minijinja::Value::from_serialize(&shell) },
            )
        });
        match html {
            Ok(html) => {
                let mut resp = (status, html).into_response();
                self.headers(resp.headers_mut(), kind, &ancestors);
                resp
            }
            Err(err) => {
                tracing::error!(%err, template, "a page template failed to render");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }

    fn headers(&self, h: &mut HeaderMap, kind: Kind, org_ancestors: &[String]) {
        let frame = match kind {
            Kind::Embeddable => std::iter::once(self.pages.frame_ancestors.as_str())
                .chain(org_ancestors.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
            Kind::Private => "'none'".to_owned(),
        };
        let csp = format!(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {frame}"
        );
        if let Ok(v) = HeaderValue::from_str(&csp) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(self.lang().tag()),
        );
        h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    }

    /// A page that only says something: not found, expired, slow down, a conflict.
    fn message(&self, status: StatusCode, title: &str, body: &str) -> Response {
        self.message_of(None, status, title, body)
    }

    /// A message page in `org`'s look.
    fn message_of(
        &self,
        org: Option<&turnout_entity::organizations::Model>,
        status: StatusCode,
        title: &str,
        body: &str,
    ) -> Response {
        #[derive(Serialize)]
        struct Message<'a> {
            body: &'a str,
        }
        let shell = self.shell(org, title, None);
        self.render(
            status,
            Kind::Private,
            "message.html",
            shell,
            Message { body },
        )
    }

    fn not_found(&self) -> Response {
        let t = self.texts();
        self.message(StatusCode::NOT_FOUND, t.not_found_title, t.not_found_body)
    }

    /// The refusal of a POST to `path` whose form token is missing, forged, expired or issued
    /// for another form; `None` when the token is good.
    fn refuse_bad_token(&self, path: &str, body: &Query) -> Option<Response> {
        let token = body.get(csrf::FIELD).map(String::as_str);
        (!self.pages.tokens.verify(path, token)).then(|| self.expired())
    }

    /// A POST whose form token is missing, forged or expired.
    fn expired(&self) -> Response {
        let t = self.texts();
        self.message(StatusCode::FORBIDDEN, t.expired_title, t.expired_body)
    }

    /// The page for a domain error that is not about a field of the form.
    fn error(&self, err: DomainError) -> Response {
        let t = self.texts();
        let err = ClientError::from(err);
        match err.code {
            "NOT_FOUND" => self.not_found(),
            "SUSPENDED" => self.message(
                StatusCode::SERVICE_UNAVAILABLE,
                t.suspended_title,
                t.suspended_body,
            ),
            "RATE_LIMITED" => {
                let mut resp = self.message(
                    StatusCode::TOO_MANY_REQUESTS,
                    t.slow_down_title,
                    t.slow_down_body,
                );
                let secs = err.retry_after().unwrap_or(60);
                resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
                resp
            }
            "CONFLICT" => self.message(StatusCode::CONFLICT, t.conflict_title, &err.message),
            "VALIDATION" => self.message(
                StatusCode::UNPROCESSABLE_ENTITY,
                t.conflict_title,
                &err.message,
            ),
            _ => self.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                t.error_title,
                t.error_body,
            ),
        }
    }

    /// Where to go after a POST (so a reload does not send it again), keeping the language.
    fn see_other(&self, path: &str) -> Response {
        let sep = if path.contains('?') { '&' } else { '?' };
        Redirect::to(&format!("{path}{sep}lang={}", self.lang().tag())).into_response()
    }
}

/// A field of a public RSVP or walk-in form.
#[derive(Serialize)]
struct ContactField {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    required: bool,
}

/// The fields of `signup::ContactInput`, as the RSVP and walk-in forms ask for them.
fn contact_fields(t: &'static Texts) -> Vec<ContactField> {
    let f = |name, label, kind, autocomplete, required| ContactField {
        name,
        label,
        kind,
        autocomplete,
        required,
    };
    vec![
        f("first_name", t.first_name, "text", "given-name", true),
        f("last_name", t.last_name, "text", "family-name", false),
        f("email", t.email, "email", "email", false),
        f("phone", t.phone, "tel", "tel", false),
    ]
}

/// The refused fields of a form, by the form's own field names (`input.firstName` is
/// `first_name`), in the page's language.
fn field_errors(lang: Lang, invalid: &turnout_domain::error::Invalid) -> HashMap<String, String> {
    let mut errors: HashMap<String, String> = HashMap::new();
    for e in invalid.fields() {
        let path = e.field.rsplit('.').next().unwrap_or(&e.field);
        let mut name = String::with_capacity(path.len() + 2);
        for c in path.chars() {
            if c.is_ascii_uppercase() {
                name.push('_');
            }
            name.push(c.to_ascii_lowercase());
        }
        let message = lang.reason(e.reason, &e.message);
        errors
            .entry(name)
            .and_modify(|m| {
                m.push(' ');
                m.push_str(&message);
            })
            .or_insert(message);
    }
    errors
}

/// A query string or a form body, as text fields.
pub(crate) type Query = HashMap<String, String>;

/// A field of a submitted form, trimmed, `None` when empty.
fn field(form: &Query, name: &str) -> Option<String> {
    form.get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A checkbox: present means ticked.
fn ticked(form: &Query, name: &str) -> bool {
    form.get(name).is_some_and(|v| !v.is_empty())
}

/// The client's address, as the proxies layer resolved it.
fn client_ip(peer: std::net::SocketAddr) -> turnout_domain::audit::RequestContext {
    turnout_domain::audit::RequestContext {
        client_ip: Some(peer.ip().to_string()),
    }
}

/// Shared by the pages that take a secret link: the caller's answer, and whether `state`
/// should count a miss against the client (guessing tokens slows down).
async fn guarded<T>(
    state: &AppState,
    kind: &str,
    peer: std::net::SocketAddr,
    run: impl std::future::Future<Output = turnout_domain::DomainResult<T>>,
) -> turnout_domain::DomainResult<T> {
    let guard = state
        .limiter
        .token_guard(kind, peer.ip())
        .map_err(|wait| DomainError::RateLimited { retry_after: wait })?;
    let result = run.await;
    guard.record(&result);
    result
}
