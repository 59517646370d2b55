//! `/f/<form>`: the sign-up page. A plain form POST through `signup::sign_up`, the same service
//! as GraphQL's `signUp` (dedupe, consent, referral credit, rate limits); errors come back next
//! to their fields, all at once, with the values kept.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, OriginalUri, Path, Query as QueryString, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use turnout_domain::DomainError;
use turnout_domain::events::listing::{self, PublicEventFilter};
use turnout_domain::forms::{self, FieldKey, Form as DomainForm};
use turnout_domain::links::paths;
use turnout_domain::signup::{self, SignUpInput, Utm};

use super::{Kind, Query, View, client_ip, field, ticked};
use crate::http::AppState;

/// The hidden field bots fill in and people never see.
const HONEYPOT: &str = "website";
/// The query parameters a link may carry into the submission.
const CARRIED: [&str; 6] = [
    "ref",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
];

#[derive(Serialize)]
struct FieldView {
    name: &'static str,
    label: String,
    input_type: &'static str,
    autocomplete: &'static str,
    required: bool,
    value: String,
    error: Option<String>,
    help: Option<String>,
    /// For the language field: the choices.
    options: Vec<(&'static str, &'static str)>,
}

#[derive(Serialize)]
struct FormPage {
    action: String,
    csrf: String,
    title: String,
    description: Option<String>,
    consent_text: Option<String>,
    fields: Vec<FieldView>,
    consents: Vec<(&'static str, &'static str, bool)>,
    hidden: Vec<(&'static str, String)>,
    has_errors: bool,
    /// Refusals about no field on this form (an email or a phone is needed, say).
    other_errors: Vec<String>,
    honeypot: &'static str,
    embed_snippet: String,
}

/// The name of a person field in the page's form (and, camel-cased, in the domain's errors).
fn name(key: FieldKey) -> &'static str {
    match key {
        FieldKey::FirstName => "first_name",
        FieldKey::LastName => "last_name",
        FieldKey::Email => "email",
        FieldKey::Phone => "phone",
        FieldKey::Zip => "zip",
        FieldKey::AddressLine1 => "address_line1",
        FieldKey::AddressLine2 => "address_line2",
        FieldKey::City => "city",
        FieldKey::Region => "region",
        FieldKey::PreferredLanguage => "preferred_language",
    }
}

fn input_attrs(key: FieldKey) -> (&'static str, &'static str) {
    match key {
        FieldKey::FirstName => ("text", "given-name"),
        FieldKey::LastName => ("text", "family-name"),
        FieldKey::Email => ("email", "email"),
        FieldKey::Phone => ("tel", "tel"),
        FieldKey::Zip => ("text", "postal-code"),
        FieldKey::AddressLine1 => ("text", "address-line1"),
        FieldKey::AddressLine2 => ("text", "address-line2"),
        FieldKey::City => ("text", "address-level2"),
        FieldKey::Region => ("text", "address-level1"),
        FieldKey::PreferredLanguage => ("select", "language"),
    }
}

fn has(form: &DomainForm, key: FieldKey) -> bool {
    form.fields.iter().any(|f| f.key == key)
}

/// The form page: empty, or as submitted with `errors` (domain path → message).
fn render(
    view: &View<'_>,
    status: StatusCode,
    form: &DomainForm,
    org: &turnout_entity::organizations::Model,
    values: &Query,
    errors: &HashMap<String, String>,
) -> Response {
    let t = view.texts();
    let fields = form
        .fields
        .iter()
        .map(|f| {
            let name = name(f.key);
            let (input_type, autocomplete) = input_attrs(f.key);
            let value = match (f.key, values.get(name)) {
                (_, Some(v)) => v.clone(),
                (FieldKey::PreferredLanguage, None) => view.lang().tag().to_owned(),
                _ => String::new(),
            };
            FieldView {
                name,
                label: f
                    .label
                    .clone()
                    .unwrap_or_else(|| view.lang().field_label(f.key).to_owned()),
                input_type,
                autocomplete,
                required: f.required,
                value,
                error: errors.get(name).cloned(),
                help: f
                    .help
                    .clone()
                    .or_else(|| (f.key == FieldKey::Phone).then(|| t.phone_help.to_owned())),
                options: if f.key == FieldKey::PreferredLanguage {
                    super::i18n::Lang::ALL
                        .iter()
                        .map(|l| (l.tag(), l.texts().language_name))
                        .collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    let mut consents = Vec::new();
    if has(form, FieldKey::Email) {
        consents.push((
            "email_consent",
            t.consent_email,
            ticked(values, "email_consent"),
        ));
    }
    if has(form, FieldKey::Phone) {
        consents.push(("sms_consent", t.consent_sms, ticked(values, "sms_consent")));
        consents.push((
            "whatsapp_consent",
            t.consent_whatsapp,
            ticked(values, "whatsapp_consent"),
        ));
    }
    let hidden = CARRIED
        .iter()
        .filter_map(|name| field(values, name).map(|v| (*name, v)))
        .collect();
    let action = paths::form(&form.row.slug);
    let page = FormPage {
        csrf: view.token(&action),
        embed_snippet: format!(
            "<iframe src=\"{}\" title=\"{}\" style=\"width:100%;min-height:720px;border:0\"></iframe>",
            view.pages.links.form(&form.row.slug, None),
            form.row.title.replace('"', "&quot;")
        ),
        action,
        title: form.row.title.clone(),
        description: form.row.description.clone(),
        consent_text: form.row.consent_text.clone(),
        fields,
        consents,
        hidden,
        has_errors: !errors.is_empty(),
        other_errors: errors
            .iter()
            .filter(|(field, _)| !form.fields.iter().any(|f| name(f.key) == field.as_str()))
            .map(|(_, message)| message.clone())
            .collect(),
        honeypot: HONEYPOT,
    };
    let shell = view.shell(Some(org), &form.row.title, None);
    view.render(status, Kind::Embeddable, "form.html", shell, page)
}

/// `GET /f/<slug>`: the empty form, carrying `?ref=` and the UTM parameters.
pub(super) async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let view = View::new(&state, uri.path().to_owned(), &query, &headers);
    let (form, org) = match load(&state, &slug).await {
        Ok(found) => found,
        Err(err) => return view.error(err),
    };
    view.adopt_language(&org);
    render(&view, StatusCode::OK, &form, &org, &query, &HashMap::new())
}

async fn load(
    state: &AppState,
    slug: &str,
) -> turnout_domain::DomainResult<(DomainForm, turnout_entity::organizations::Model)> {
    let form = forms::by_slug(&state.db, slug).await?;
    let org = turnout_domain::organization::public(&state.db, form.row.organization_id).await?;
    Ok((form, org))
}

/// `POST /f/<slug>`: signs the person up; on success, to the thank-you page.
pub(super) async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Form(body): Form<Query>,
) -> Response {
    let view = View::new(&state, uri.path().to_owned(), &query, &headers);
    if let Some(refused) = view.refuse_bad_token(uri.path(), &body) {
        return refused;
    }
    let (form, org) = match load(&state, &slug).await {
        Ok(found) => found,
        Err(err) => return view.error(err),
    };
    view.adopt_language(&org);
    // A bot filled the field no person sees: it is thanked and nothing is stored.
    if field(&body, HONEYPOT).is_some() {
        tracing::info!(form = %slug, "a sign-up filled the honeypot; dropped");
        return view.see_other(&format!("{}/thanks", paths::form(&slug)));
    }
    if let Err(wait) = state.limiter.check_signup(Some(peer.ip()), &slug) {
        return view.error(DomainError::RateLimited { retry_after: wait });
    }
    let input = SignUpInput {
        first_name: field(&body, "first_name"),
        last_name: field(&body, "last_name"),
        email: field(&body, "email"),
        phone: field(&body, "phone"),
        zip: field(&body, "zip"),
        address_line1: field(&body, "address_line1"),
        address_line2: field(&body, "address_line2"),
        city: field(&body, "city"),
        region: field(&body, "region"),
        // Someone who signed up on the Spanish page reads Spanish, unless the form asked.
        preferred_language: field(&body, "preferred_language")
            .or_else(|| Some(view.lang().tag().to_owned())),
        sms_consent: ticked(&body, "sms_consent"),
        email_consent: ticked(&body, "email_consent"),
        whatsapp_consent: ticked(&body, "whatsapp_consent"),
        referral_code: field(&body, "ref"),
        utm: Utm {
            source: field(&body, "utm_source"),
            medium: field(&body, "utm_medium"),
            campaign: field(&body, "utm_campaign"),
            term: field(&body, "utm_term"),
            content: field(&body, "utm_content"),
        },
    };
    match signup::sign_up(&state.db, &slug, &input, &client_ip(peer)).await {
        Ok(outcome) => view.see_other(&format!(
            "{}/thanks?code={}",
            paths::form(&slug),
            outcome.person.referral_code
        )),
        Err(DomainError::Validation(invalid)) => {
            let errors = super::field_errors(view.lang(), &invalid);
            render(
                &view,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                &org,
                &body,
                &errors,
            )
        }
        Err(err) => view.error(err),
    }
}

#[derive(Serialize)]
struct ThanksPage {
    share_url: Option<String>,
    events: Vec<super::events::EventCard>,
    events_url: String,
}

/// `GET /f/<slug>/thanks?code=<referral code>`: thanks, the person's own share link, and the
/// organization's next public events.
pub(super) async fn thanks(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    QueryString(query): QueryString<Query>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let view = View::new(&state, uri.path().to_owned(), &query, &headers);
    let (form, org) = match load(&state, &slug).await {
        Ok(found) => found,
        Err(err) => return view.error(err),
    };
    view.adopt_language(&org);
    let upcoming = listing::list_public_of(
        &state.db,
        org.id,
        &PublicEventFilter::default(),
        Some(5),
        None,
    )
    .await;
    let events = match upcoming {
        Ok(page) => super::events::cards(&view, &page.items),
        Err(err) => return view.error(err),
    };
    // The code is the person's public share code, not a secret; only a well-formed one is
    // echoed into the link.
    let share_url = field(&query, "code")
        .filter(|c| c.len() <= 32 && c.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(|code| state.pages.links.form(&form.row.slug, Some(&code)));
    let page = ThanksPage {
        share_url,
        events,
        events_url: format!("{}?org={}", paths::EVENTS, org.slug),
    };
    let t = view.texts();
    let shell = view.shell(Some(&org), t.thanks_title, None);
    view.render(StatusCode::OK, Kind::Private, "thanks.html", shell, page)
}
