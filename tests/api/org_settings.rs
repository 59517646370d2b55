//! An organization's settings: its phone region (read by every path that takes a phone), and
//! how its public pages look and who may frame them.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use turnout_entity::people;

use crate::harness::{TestApp, data, error_code};
use crate::pages::get;

const UPDATE: &str = "mutation($i: OrganizationSettingsInput!) {
    updateOrganizationSettings(input: $i) { phoneRegion brandColor logo frameAncestors }
}";

/// A 1×1 PNG.
const LOGO: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

#[tokio::test]
async fn settings_refuse_every_bad_field_at_once_and_need_admin() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            "{ organization { settings { phoneRegion brandColor logo frameAncestors } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&body)["organization"]["settings"],
        json!({ "phoneRegion": "US", "brandColor": null, "logo": null, "frameAncestors": [] })
    );
    let (_, body) = app
        .gql_as(
            Some(&app.key),
            UPDATE,
            json!({ "i": {
                "phoneRegion": "XX",
                "brandColor": "#ffff00",
                "logo": "https://cdn.example.org/logo.png",
                "frameAncestors": ["*"],
            }}),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec![
            "input.phoneRegion",
            "input.brandColor",
            "input.logo",
            "input.frameAncestors.0"
        ]
    );
    // Nothing of the refused change was saved.
    let body = app
        .gql("{ organization { settings { phoneRegion } } }", json!({}))
        .await;
    assert_eq!(data(&body)["organization"]["settings"]["phoneRegion"], "US");

    let reader = app.key_with(&["PEOPLE_READ"]).await;
    let (_, body) = app
        .gql_as(
            Some(&reader),
            UPDATE,
            json!({ "i": { "phoneRegion": "IE" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");

    let body = app
        .gql(
            UPDATE,
            json!({ "i": {
                "phoneRegion": "ie",
                "brandColor": "#7A1F5C",
                "logo": LOGO,
                "frameAncestors": ["https://Campaign.example.org/"],
            }}),
        )
        .await;
    assert_eq!(
        data(&body)["updateOrganizationSettings"],
        json!({
            "phoneRegion": "IE",
            "brandColor": "#7a1f5c",
            "logo": LOGO,
            "frameAncestors": ["https://campaign.example.org"],
        })
    );
    // null clears an optional setting; a field left out stays.
    let body = app.gql(UPDATE, json!({ "i": { "logo": null } })).await;
    assert_eq!(
        data(&body)["updateOrganizationSettings"]["logo"],
        json!(null)
    );
    assert_eq!(
        data(&body)["updateOrganizationSettings"]["brandColor"],
        "#7a1f5c"
    );
}

#[tokio::test]
async fn numbers_without_a_country_code_are_read_in_the_organizations_region() {
    let app = TestApp::spawn().await;
    let sign_up = "mutation($p: String!, $e: String!) {
        signUp(form: \"volunteer\", input: { firstName: \"Aoife\", email: $e, phone: $p }) { referralCode }
    }";
    // An Irish mobile typed nationally is not a US number.
    let (_, body) = app
        .gql_as(
            None,
            sign_up,
            json!({ "p": "087 123 4567", "e": "aoife@example.org" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    data(
        &app.gql(UPDATE, json!({ "i": { "phoneRegion": "IE" } }))
            .await,
    );
    let body = app
        .public(
            sign_up,
            json!({ "p": "087 123 4567", "e": "aoife@example.org" }),
        )
        .await;
    data(&body);
    let aoife = people::Entity::find()
        .filter(people::Column::Email.eq("aoife@example.org"))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(aoife.phone.as_deref(), Some("+353871234567"));
    // Staff edits read it the same way; an international number is kept as given.
    let body = app
        .gql(
            "mutation { createPerson(input: { firstName: \"Seán\", phone: \"01 234 5678\" }) { phone } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["createPerson"]["phone"], "+35312345678");
    let body = app
        .gql(
            "mutation { createPerson(input: { firstName: \"Ann\", phone: \"+1 202 555 0143\" }) { phone } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["createPerson"]["phone"], "+12025550143");
}

#[tokio::test]
async fn the_pages_wear_the_organizations_colour_and_logo_and_admit_its_embedders() {
    let app = TestApp::spawn().await;
    data(
        &app.gql(
            UPDATE,
            json!({ "i": {
                "brandColor": "#7a1f5c",
                "logo": LOGO,
                "frameAncestors": ["https://campaign.example.org"],
            }}),
        )
        .await,
    );
    let page = get(&app, "/f/volunteer").await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.ends_with("frame-ancestors 'self' https://campaign.example.org"),
        "{csp}"
    );
    let html = page.text();
    assert!(
        html.contains(&format!("<img class=\"logo\" src=\"{LOGO}\"")),
        "{html}"
    );
    let theme = format!("/assets/theme/{}.css?c=7a1f5c", app.org_id);
    assert!(html.contains(&theme), "{html}");
    let css = get(&app, &theme).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.html.trim(), ":root { --accent: #7a1f5c; }");
    // Only the sign-up forms may be framed.
    let events = get(&app, "/events").await;
    assert!(
        events.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .ends_with("frame-ancestors 'none'")
    );
    assert_eq!(get(&app, "/assets/theme/not-an-org.css").await.status, 404);
}

const LOCALE: &str = "mutation($i: OrganizationSettingsInput!) {
    updateOrganizationSettings(input: $i) { timeZone defaultLanguage }
}";

#[tokio::test]
async fn the_time_zone_and_language_are_checked_and_used_by_events_pages_and_messages() {
    use crate::events::{CREATE_EVENT, event_input};
    use crate::pipeline::{eventually, fast};
    use crate::support::smtp::SmtpServer;

    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_messaging(fast(), smtp.messaging()).await;
    let body = app
        .gql(
            "{ organization { settings { timeZone defaultLanguage } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&body)["organization"]["settings"],
        json!({ "timeZone": null, "defaultLanguage": "en" })
    );
    // An event without a zone needs the organization's, which is not set yet.
    let mut zoneless = event_input("PUBLIC", Some(10));
    zoneless.as_object_mut().unwrap().remove("timeZone");
    let body = app.gql(CREATE_EVENT, json!({ "i": zoneless })).await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.timeZone");

    // Both bad values are reported at once, and nothing is saved.
    let body = app
        .gql(
            LOCALE,
            json!({ "i": { "timeZone": "Mars/Olympus", "defaultLanguage": "spanish" } }),
        )
        .await;
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["input.timeZone", "input.defaultLanguage"],
        "{body}"
    );
    let body = app
        .gql(
            LOCALE,
            json!({ "i": { "timeZone": "Europe/Dublin", "defaultLanguage": "ES" } }),
        )
        .await;
    assert_eq!(
        data(&body)["updateOrganizationSettings"],
        json!({ "timeZone": "Europe/Dublin", "defaultLanguage": "es" })
    );

    // Now a zoneless event is in Dublin time.
    let body = app.gql(CREATE_EVENT, json!({ "i": zoneless })).await;
    let created = &data(&body)["createEvent"];
    assert_eq!(created["event"]["timeZone"], "Europe/Dublin");
    let shift = created["hostLinks"][0]["shift"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A browser that names no language Turnout has reads the pages in Spanish; one that asks
    // for English, or `?lang=en`, does not.
    let page = get(&app, "/f/volunteer").await;
    assert!(page.html.contains("<html lang=\"es\""), "{}", page.html);
    let page = get(&app, "/f/volunteer?lang=en").await;
    assert!(page.html.contains("<html lang=\"en\""));
    let english = crate::pages::client()
        .get(format!("{}/f/volunteer", app.base))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("<html lang=\"en\""));

    // A volunteer without a language of their own gets the Spanish confirmation.
    let body = app
        .public(
            r#"mutation($s: ID!, $i: PublicRsvpInput!) { rsvp(shiftId: $s, input: $i) { status } }"#,
            json!({ "s": shift, "i": { "firstName": "Fay", "email": "fay@example.org" } }),
        )
        .await;
    data(&body);
    let sent = eventually("the confirmation", || async {
        turnout_entity::messages::Entity::find()
            .one(app.db.conn())
            .await
            .unwrap()
    })
    .await;
    assert_eq!(sent.language.as_deref(), Some("es"), "{sent:?}");
    let mail = eventually("the email", || async { smtp.mails().into_iter().next() }).await;
    assert_eq!(mail.to, ["fay@example.org"]);
}
