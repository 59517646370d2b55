//! The public pages through the real server, as a browser without JavaScript uses them: plain
//! GETs and form POSTs. (The same flows in a real browser are in `browser_pages`.)

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use turnout_api::{ApiConfig, RateLimitConfig, TrustedProxies};
use turnout_entity::{form_submissions, messages, people, rsvps};

use crate::events::{create_event, event_input};
use crate::harness::{TestApp, data, unlimited};

/// A page fetched with redirects left to the caller.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn get(app: &TestApp, path: &str) -> Page {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}{path}", app.base)
    };
    into_page(client().get(url).send().await.unwrap()).await
}

pub async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Page {
    post_with(app, path, form, &[]).await
}

async fn post_with(
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Page {
    let mut req = client().post(format!("{}{path}", app.base)).form(form);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    into_page(req.send().await.unwrap()).await
}

async fn into_page(resp: reqwest::Response) -> Page {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let location = headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    Page {
        status,
        location,
        headers,
        html: resp.text().await.unwrap(),
    }
}

/// The HTML-escaped attribute value as the browser reads it.
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

impl Page {
    /// The form token of the (first) form posting to a path starting with `action`.
    pub fn token_for(&self, action: &str) -> String {
        let html = unescape(&self.html);
        let at = html
            .find(&format!("action=\"{action}"))
            .unwrap_or_else(|| panic!("no form posting to {action} in:\n{}", self.html));
        let rest = &html[at..];
        let start = rest.find("name=\"csrf\" value=\"").expect("a form token") + 19;
        rest[start..start + rest[start..].find('"').unwrap()].to_owned()
    }

    /// The value of the first hidden or other input named `name`.
    pub fn input_value(&self, name: &str) -> String {
        let html = unescape(&self.html);
        let at = html
            .find(&format!("name=\"{name}\" value=\""))
            .unwrap_or_else(|| panic!("no input {name} in:\n{}", self.html));
        let start = at + name.len() + 15;
        html[start..start + html[start..].find('"').unwrap()].to_owned()
    }

    pub fn text(&self) -> String {
        unescape(&self.html)
    }
}

pub async fn uuid_of(global: &str) -> String {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(global)
        .unwrap();
    String::from_utf8(raw)
        .unwrap()
        .split_once(':')
        .unwrap()
        .1
        .to_owned()
}

/// A public event with two shifts, the first with `capacity` seats: (event uuid, first
/// shift uuid, second shift uuid, first shift's host token).
pub async fn two_shift_event(app: &TestApp, capacity: i32) -> (String, String, String, String) {
    let mut input = event_input("PUBLIC", Some(capacity));
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    input["shifts"].as_array_mut().unwrap().push(json!({
        "startsAt": start.to_rfc3339(),
        "endsAt": (start + chrono::Duration::hours(2)).to_rfc3339(),
        "capacity": null,
    }));
    let body = app
        .gql(
            "mutation($i: CreateEventInput!) { createEvent(input: $i) { event { id } hostLinks { hostToken shift { id } } } }",
            json!({ "i": input }),
        )
        .await;
    let payload = &data(&body)["createEvent"];
    (
        uuid_of(payload["event"]["id"].as_str().unwrap()).await,
        uuid_of(payload["hostLinks"][0]["shift"]["id"].as_str().unwrap()).await,
        uuid_of(payload["hostLinks"][1]["shift"]["id"].as_str().unwrap()).await,
        payload["hostLinks"][0]["hostToken"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

/// RSVPs through the event page; returns the RSVP page's path.
pub async fn rsvp_on_page(
    app: &TestApp,
    event: &str,
    shift: &str,
    first: &str,
    email: &str,
) -> String {
    let page = get(app, &format!("/e/{event}")).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let action = format!("/e/{event}/rsvp");
    let token = page.token_for(&action);
    let resp = post(
        app,
        &action,
        &[
            ("csrf", &token),
            ("shift", shift),
            ("first_name", first),
            ("email", email),
        ],
    )
    .await;
    assert_eq!(resp.status, 303, "{}", resp.html);
    let location = resp.location.unwrap();
    assert!(location.starts_with("/r/"), "{location}");
    location.split('?').next().unwrap().to_owned()
}

/// The link to the RSVP page in the confirmation the workers queued for `email` (waiting up
/// to 20 s for it): absolute, on the server's public base URL.
pub async fn confirmation_link(app: &TestApp, email: &str) -> String {
    let person = people::Entity::find()
        .filter(people::Column::Email.eq(email))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let message = loop {
        let found = messages::Entity::find()
            .filter(messages::Column::PersonId.eq(person.id))
            .filter(messages::Column::Template.eq("rsvp_confirmation"))
            .one(app.db.conn())
            .await
            .unwrap();
        if let Some(m) = found {
            break m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no confirmation queued"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let prefix = format!("{}/r/", app.base);
    let at = message
        .body
        .find(&prefix)
        .expect("the RSVP link in the body");
    message.body[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

#[tokio::test]
async fn a_sign_up_page_keeps_values_marks_every_error_and_carries_the_referral_and_utm() {
    let app = TestApp::spawn().await;
    let body = app
        .public(
            "mutation { signUp(form: \"volunteer\", input: { firstName: \"Rita\", email: \"rita@example.org\" }) { referralCode } }",
            json!({}),
        )
        .await;
    let referrer_code = data(&body)["signUp"]["referralCode"]
        .as_str()
        .unwrap()
        .to_owned();

    let path = format!("/f/volunteer?ref={referrer_code}&utm_source=tiktok&utm_campaign=viral");
    let page = get(&app, &path).await;
    assert_eq!(page.status, 200);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert!(page.text().contains("Volunteer with us"));
    assert_eq!(page.input_value("ref"), referrer_code);
    assert_eq!(page.input_value("utm_source"), "tiktok");
    let token = page.token_for("/f/volunteer");
    let people_before = app.count(people::Entity).await;

    // A missing first name and a bad email: both marked at once, what was typed kept.
    let form = |first: &'static str, email: &'static str| {
        vec![
            ("csrf", token.clone()),
            ("ref", referrer_code.clone()),
            ("utm_source", "tiktok".to_owned()),
            ("utm_campaign", "viral".to_owned()),
            ("first_name", first.to_owned()),
            ("email", email.to_owned()),
            ("email_consent", "1".to_owned()),
        ]
    };
    let bad = form("", "not-an-email");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = post(&app, "/f/volunteer", &bad).await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    let text = refused.text();
    assert!(text.contains("This field is required."), "{text}");
    assert!(
        text.contains("This does not look like an email address."),
        "{text}"
    );
    assert!(text.contains("value=\"not-an-email\""), "the email is kept");
    assert!(text.contains("name=\"email_consent\" value=\"1\" checked"));
    assert_eq!(
        app.count(people::Entity).await,
        people_before,
        "nothing stored"
    );

    let good = form("Ada", "ada@example.org");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = post(&app, "/f/volunteer", &good).await;
    assert_eq!(done.status, 303, "{}", done.html);
    let thanks = done.location.unwrap();
    assert!(thanks.starts_with("/f/volunteer/thanks?code="), "{thanks}");

    let ada = people::Entity::find()
        .filter(people::Column::Email.eq("ada@example.org"))
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("Ada signed up");
    let rita = people::Entity::find()
        .filter(people::Column::Email.eq("rita@example.org"))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.referred_by_person_id, Some(rita.id), "referral credit");
    assert!(ada.email_consent);
    assert_eq!(ada.preferred_language.as_deref(), Some("en"));
    let submission = form_submissions::Entity::find()
        .filter(form_submissions::Column::PersonId.eq(ada.id))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(submission.utm_source.as_deref(), Some("tiktok"));
    assert_eq!(submission.utm_campaign.as_deref(), Some("viral"));

    // The thank-you page gives Ada her own share link.
    let page = get(&app, &thanks).await;
    assert_eq!(page.status, 200);
    let share = format!("{}/f/volunteer?ref={}", app.base, ada.referral_code);
    assert!(page.text().contains(&share), "{}", page.html);
}

#[tokio::test]
async fn pages_speak_spanish_when_asked_and_unknown_links_are_404() {
    let app = TestApp::spawn().await;
    let es = client()
        .get(format!("{}/f/volunteer", app.base))
        .header("accept-language", "es-MX,es;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(es.headers()["content-language"], "es");
    let html = es.text().await.unwrap();
    assert!(
        html.contains("<html lang=\"es\">") && html.contains("Inscribirme"),
        "{html}"
    );
    // `?lang=` wins over the header.
    let page = get(&app, "/f/volunteer?lang=en").await;
    assert!(page.html.contains("Sign up"));
    for path in [
        "/f/no-such-form",
        "/r/not-a-token",
        "/host/nope",
        "/e/not-an-id",
        "/e/01900000-0000-7000-8000-000000000001",
    ] {
        let page = get(&app, path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.text().contains("Page not found"), "{path}");
    }
}

#[tokio::test]
async fn a_post_without_its_form_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (event, shift, _, host) = two_shift_event(&app, 5).await;
    let rsvp_page = rsvp_on_page(&app, &event, &shift, "Ada", "ada@example.org").await;
    let page = get(&app, &rsvp_page).await;
    let cancel = format!("{rsvp_page}/cancel");
    let good_cancel_token = page.token_for(&cancel);
    let people_before = app.count(people::Entity).await;
    let rsvps_before = app.count(rsvps::Entity).await;

    let sign_up = [("first_name", "Eve"), ("email", "eve@example.org")];
    let host_check_in = format!("/host/{host}/check-in");
    let attempts: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/f/volunteer".into(), sign_up.to_vec()),
        (
            "/f/volunteer".into(),
            [&sign_up[..], &[("csrf", "1999999999.forged")]].concat(),
        ),
        (
            format!("/e/{event}/rsvp"),
            vec![
                ("shift", shift.as_str()),
                ("first_name", "Eve"),
                ("email", "eve@example.org"),
            ],
        ),
        (cancel.clone(), vec![]),
        // A token issued for another form does not open this one.
        (host_check_in, vec![("csrf", good_cancel_token.as_str())]),
    ];
    for (path, form) in attempts {
        let resp = post(&app, &path, &form).await;
        assert_eq!(resp.status, 403, "{path}: {}", resp.html);
        assert!(resp.text().contains("Reload the page"), "{path}");
    }
    assert_eq!(app.count(people::Entity).await, people_before);
    assert_eq!(app.count(rsvps::Entity).await, rsvps_before);
    let still = get(&app, &rsvp_page).await;
    assert!(still.html.contains("data-status=\"signed_up\""));
    // With its token the same cancel works.
    let resp = post(&app, &cancel, &[("csrf", &good_cancel_token)]).await;
    assert_eq!(resp.status, 303);
    assert!(
        get(&app, &rsvp_page)
            .await
            .html
            .contains("data-status=\"cancelled\"")
    );
}

#[tokio::test]
async fn hostile_names_and_titles_render_as_text() {
    let app = TestApp::spawn().await;
    let mut input = event_input("PUBLIC", None);
    input["title"] = json!("<img src=x onerror=alert(1)>");
    let (event_gid, shift_gid, host) = create_event(&app, input).await;
    let (event, shift) = (uuid_of(&event_gid).await, uuid_of(&shift_gid).await);
    let rsvp = rsvp_on_page(
        &app,
        &event,
        &shift,
        "<script>alert(1)</script>",
        "x@example.org",
    )
    .await;
    for path in [
        format!("/e/{event}"),
        rsvp,
        format!("/host/{host}"),
        "/events".into(),
    ] {
        let page = get(&app, &path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            !page.html.contains("<script>alert"),
            "{path}: {}",
            page.html
        );
        assert!(!page.html.contains("<img src=x"), "{path}");
        assert!(
            page.html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{path}"
        );
        // No inline script at all: every script is a file of ours.
        assert!(
            !page.html.contains("<script>") && !page.html.contains("<script >"),
            "{path}"
        );
    }
    let host_page = get(&app, &format!("/host/{host}")).await;
    assert!(
        host_page
            .html
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
    );
}

#[tokio::test]
async fn a_volunteer_confirms_and_moves_to_another_shift_and_a_host_checks_in() {
    let app = TestApp::spawn().await;
    let (event, first, second, host) = two_shift_event(&app, 3).await;
    let rsvp = rsvp_on_page(&app, &event, &first, "Ada", "ada@example.org").await;
    let page = get(&app, &rsvp).await;
    let confirm = format!("{rsvp}/confirm");
    let resp = post(&app, &confirm, &[("csrf", &page.token_for(&confirm))]).await;
    assert_eq!(resp.status, 303);
    let page = get(&app, &rsvp).await;
    assert!(
        page.html.contains("data-status=\"confirmed\""),
        "{}",
        page.html
    );

    // A move only goes to another shift of the same event: not another event's, not an
    // unknown one, not another organization's. Each refusal leaves the RSVP as it was.
    let mv = format!("{rsvp}/move");
    let (_, other_event_shift, _) = create_event(&app, event_input("PUBLIC", None)).await;
    let other_event_shift = uuid_of(&other_event_shift).await;
    let (_, other_key) = app.second_org("theirs").await;
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            "mutation($i: CreateEventInput!) { createEvent(input: $i) { hostLinks { shift { id } } } }",
            json!({ "i": event_input("PUBLIC", None) }),
        )
        .await;
    let other_org_shift = uuid_of(
        data(&body)["createEvent"]["hostLinks"][0]["shift"]["id"]
            .as_str()
            .unwrap(),
    )
    .await;
    let t = page.token_for(&mv);
    for (shift, status) in [
        (other_event_shift.as_str(), 422),
        ("01900000-0000-7000-8000-00000000abcd", 404),
        (other_org_shift.as_str(), 404),
    ] {
        let resp = post(&app, &mv, &[("csrf", &t), ("shift", shift)]).await;
        assert_eq!(resp.status, status, "{shift}: {}", resp.html);
        let still = get(&app, &rsvp).await;
        assert!(still.html.contains("data-status=\"confirmed\""), "{shift}");
    }

    // Moving: the old RSVP is cancelled, a new one (with its own link) holds the other shift.
    let resp = post(
        &app,
        &mv,
        &[("csrf", &page.token_for(&mv)), ("shift", &second)],
    )
    .await;
    assert_eq!(resp.status, 303, "{}", resp.html);
    let moved = resp.location.unwrap().split('?').next().unwrap().to_owned();
    assert_ne!(moved, rsvp);
    assert!(
        get(&app, &rsvp)
            .await
            .html
            .contains("data-status=\"cancelled\"")
    );
    let moved_page = get(&app, &moved).await;
    assert!(moved_page.html.contains("data-status=\"signed_up\""));

    // Back on the first shift two people come; the host checks one in, undoes it, checks in
    // both, and adds a walk-in.
    rsvp_on_page(&app, &event, &first, "Bo", "bo@example.org").await;
    rsvp_on_page(&app, &event, &first, "Cy", "cy@example.org").await;
    let host_path = format!("/host/{host}");
    let page = get(&app, &host_path).await;
    assert!(
        page.html.contains("id=\"count-expected\">2<"),
        "{}",
        page.html
    );
    let rows: Vec<String> = page
        .html
        .match_indices("data-rsvp=\"")
        .map(|(i, _)| page.html[i + 11..i + 47].to_owned())
        .collect();
    assert_eq!(rows.len(), 2);
    let check_in = format!("{host_path}/check-in");
    let undo = format!("{host_path}/undo");
    let t = page.token_for(&check_in);
    assert_eq!(
        post(&app, &check_in, &[("csrf", &t), ("rsvp", &rows[0])])
            .await
            .status,
        303
    );
    let page = get(&app, &host_path).await;
    assert!(page.html.contains("id=\"count-checked-in\">1<"));
    let u = page.token_for(&undo);
    assert_eq!(
        post(&app, &undo, &[("csrf", &u), ("rsvp", &rows[0])])
            .await
            .status,
        303
    );
    assert!(
        get(&app, &host_path)
            .await
            .html
            .contains("id=\"count-checked-in\">0<")
    );
    for row in &rows {
        assert_eq!(
            post(&app, &check_in, &[("csrf", &t), ("rsvp", row)])
                .await
                .status,
            303
        );
    }
    let walk_in = format!("{host_path}/walk-in");
    let w = page.token_for(&walk_in);
    // A walk-in without a first name is refused next to the field, the rest kept.
    let refused = post(
        &app,
        &walk_in,
        &[("csrf", &w), ("email", "dee@example.org")],
    )
    .await;
    assert_eq!(refused.status, 422);
    assert!(refused.text().contains("This field is required."));
    assert!(refused.text().contains("value=\"dee@example.org\""));
    let resp = post(
        &app,
        &walk_in,
        &[
            ("csrf", &w),
            ("first_name", "Dee"),
            ("email", "dee@example.org"),
        ],
    )
    .await;
    assert_eq!(resp.status, 303, "{}", resp.html);
    let page = get(&app, &format!("{host_path}/roster")).await;
    assert!(
        page.html.contains("id=\"count-expected\">2<"),
        "{}",
        page.html
    );
    assert!(page.html.contains("id=\"count-checked-in\">3<"));
    assert!(page.html.contains("id=\"count-walk-ins\">1<"));
    // Search without JavaScript.
    let found = get(&app, &format!("{host_path}?q=de")).await;
    assert!(found.html.contains(">Dee<") && !found.html.contains(">Bo<"));
}

#[tokio::test]
async fn the_rsvp_link_in_the_confirmation_opens_the_page_and_cancelling_promotes_the_waitlist() {
    let app = TestApp::spawn_with_workers(Default::default()).await;
    let (event, shift, _, _) = two_shift_event(&app, 1).await;
    rsvp_on_page(&app, &event, &shift, "Ada", "ada@example.org").await;
    let bo_page = rsvp_on_page(&app, &event, &shift, "Bo", "bo@example.org").await;
    assert!(
        get(&app, &bo_page)
            .await
            .html
            .contains("data-status=\"waitlisted\"")
    );

    // The confirmation queued for Ada carries her RSVP page as an absolute link.
    let link = confirmation_link(&app, "ada@example.org").await;
    let page = get(&app, &link).await;
    assert_eq!(page.status, 200, "{link}");
    assert!(page.html.contains("data-status=\"signed_up\""));
    let cancel = format!("{}/cancel", link.trim_start_matches(&app.base));
    let resp = post(&app, &cancel, &[("csrf", &page.token_for(&cancel))]).await;
    assert_eq!(resp.status, 303);
    assert!(
        get(&app, &link)
            .await
            .html
            .contains("data-status=\"cancelled\"")
    );
    // Bo had the waitlist's first place: he has the seat now, and his page says so.
    assert!(
        get(&app, &bo_page)
            .await
            .html
            .contains("data-status=\"signed_up\"")
    );
}

async fn sign_up_from(app: &TestApp, forwarded: &str) -> Page {
    let page = get(app, "/f/volunteer").await;
    let token = page.token_for("/f/volunteer");
    let email = format!("{}@example.org", forwarded.replace(['.', ':'], "-"));
    post_with(
        app,
        "/f/volunteer",
        &[("csrf", &token), ("first_name", "Pat"), ("email", &email)],
        &[("x-forwarded-for", &format!("198.51.100.77, {forwarded}"))],
    )
    .await
}

fn one_sign_up_per_ip(trusted: &str) -> ApiConfig {
    ApiConfig {
        rate_limits: RateLimitConfig {
            signups_per_ip_per_minute: 1,
            ..unlimited().rate_limits
        },
        trusted_proxies: TrustedProxies::parse(trusted).unwrap(),
        ..unlimited()
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_counts_and_otherwise_the_header_is_ignored() {
    // The test client is the proxy (127.0.0.1).
    let app = TestApp::spawn_with(one_sign_up_per_ip("127.0.0.1")).await;
    assert_eq!(sign_up_from(&app, "203.0.113.1").await.status, 303);
    assert_eq!(
        sign_up_from(&app, "203.0.113.2").await.status,
        303,
        "its own budget"
    );
    let again = sign_up_from(&app, "203.0.113.1").await;
    assert_eq!(again.status, 429);
    assert!(again.headers.contains_key("retry-after"));
    let ips: Vec<Option<String>> = form_submissions::Entity::find()
        .order_by_asc(form_submissions::Column::CreatedAt)
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.client_ip)
        .collect();
    assert_eq!(
        ips,
        vec![
            Some("203.0.113.1".to_owned()),
            Some("203.0.113.2".to_owned())
        ],
        "the nearest untrusted hop, not the first (client-written) entry"
    );
    drop(app);

    // No proxy trusted: the header is anyone's to write, so it is ignored.
    let app = TestApp::spawn_with(one_sign_up_per_ip("")).await;
    assert_eq!(sign_up_from(&app, "203.0.113.1").await.status, 303);
    assert_eq!(sign_up_from(&app, "203.0.113.2").await.status, 429);
    let submission = form_submissions::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(submission.client_ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn a_bot_filling_the_honeypot_is_thanked_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let page = get(&app, "/f/volunteer").await;
    let token = page.token_for("/f/volunteer");
    let before = app.count(people::Entity).await;
    let resp = post(
        &app,
        "/f/volunteer",
        &[
            ("csrf", &token),
            ("first_name", "Bot"),
            ("email", "bot@example.org"),
            ("website", "http://spam.example"),
        ],
    )
    .await;
    assert_eq!(resp.status, 303);
    assert_eq!(app.count(people::Entity).await, before);
}

#[test]
fn production_refuses_to_start_without_a_public_base_url_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db?mode=rwc", dir.path().display());
    let serve = |extra: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_turnout"));
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", &url)
            .env("TURNOUT_ENV", "production")
            .env(
                "TURNOUT_JWT_KEYS",
                "k1:MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
            )
            .env_remove("TURNOUT_PUBLIC_BASE_URL");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    };
    let out = serve(&[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("TURNOUT_PUBLIC_BASE_URL is required in production"),
        "{err}"
    );
    let out = serve(&[("TURNOUT_PUBLIC_BASE_URL", "https://act.example.org/crm")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("must be an origin only"), "{err}");
    let out = serve(&[("TURNOUT_TRUSTED_PROXIES", "10.0.0.0/40")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an IP address or a CIDR"));
}

#[tokio::test]
async fn a_form_shows_its_description_and_its_own_labels_and_help() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            "mutation($i: CreateFormInput!) { createForm(input: $i) { slug description fields { key label help } } }",
            json!({ "i": {
                "slug": "card-drive",
                "title": "Sign your union card",
                "description": "Warehouse 12: <b>together</b> we win.",
                "fields": [
                    { "key": "FIRST_NAME", "required": true, "label": "Your name" },
                    { "key": "PHONE", "required": true, "help": "We text you the meeting place." },
                ],
            }}),
        )
        .await;
    assert_eq!(
        data(&body)["createForm"]["fields"][1]["help"],
        "We text you the meeting place."
    );
    let page = get(&app, "/f/card-drive").await;
    let text = page.text();
    assert!(
        text.contains("Warehouse 12: <b>together</b> we win."),
        "escaped, shown as text"
    );
    assert!(!page.html.contains("<b>together"), "never markup");
    assert!(text.contains(">Your name <span class=\"req\">"), "{text}");
    assert!(text.contains("We text you the meeting place."));
    assert!(
        !text.contains("With the country code"),
        "the form's own help replaces ours"
    );
    // Only a phone is asked: the consent boxes are for texts and WhatsApp.
    assert!(text.contains("name=\"sms_consent\"") && !text.contains("name=\"email_consent\""));

    let (_, body) = app
        .gql_as(
            Some(&app.key),
            "mutation($i: CreateFormInput!) { createForm(input: $i) { slug } }",
            json!({ "i": {
                "slug": "too-long",
                "title": "x",
                "fields": [{ "key": "EMAIL", "required": true, "label": "x".repeat(101) }],
            }}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.fields[0].label",
        "{body}"
    );
}
