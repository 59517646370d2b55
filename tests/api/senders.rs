//! Sending identities, end to end: an organization's From address and numbers, a chapter's
//! (and its region's) for its people, the deployment's when none is set; and a STOP to an
//! organization's own number stops that organization's texts only.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use turnout_entity::people;

use crate::harness::{TestApp, data, error_code};
use crate::messaging::{FROM_NUMBER, post_signed};
use crate::people_crud::create;
use crate::pipeline::{eventually, fast};
use crate::support::smtp::SmtpServer;
use crate::support::twilio::{self, FakeTwilio, webhook_api};

const SETTINGS: &str = "mutation($i: OrganizationSettingsInput!) {
    updateOrganizationSettings(input: $i) { senders { emailFrom smsFrom whatsappFrom } } }";
const CHAPTER_SENDERS: &str = "mutation($id: ID!, $i: MessageSendersInput!) {
    setChapterSenders(id: $id, input: $i) { id senders { emailFrom smsFrom whatsappFrom } } }";
const ORG_NUMBER: &str = "+12025550101";
const REGION_NUMBER: &str = "+12025550111";

async fn chapter(app: &TestApp, name: &str, parent: Option<&str>) -> String {
    let body = app
        .gql(
            "mutation ($n: String!, $p: ID) { createChapter(name: $n, parentId: $p) { id } }",
            json!({ "n": name, "p": parent }),
        )
        .await;
    data(&body)["createChapter"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Sends a broadcast on `channel` to everyone tagged `members` and waits until it is out.
async fn broadcast(app: &TestApp, channel: &str) {
    let mut content = json!({ "language": "en", "body": "Hi {{ person.first_name }}" });
    if channel == "EMAIL" {
        content["subject"] = json!("News");
    }
    let body = app
        .gql(
            "mutation($i: CreateBroadcastInput!) { createBroadcast(input: $i) { id } }",
            json!({ "i": { "name": format!("{channel} news"), "channel": channel,
                "audience": { "tagsAny": ["members"] }, "contents": [content] } }),
        )
        .await;
    let id = data(&body)["createBroadcast"]["id"].clone();
    data(
        &app.gql(
            "mutation($id: ID!) { sendBroadcast(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await,
    );
}

async fn stop(app: &TestApp, from: &str, to: &str) {
    let status = post_signed(
        app,
        "/webhooks/twilio/inbound",
        &[
            (
                "MessageSid",
                &format!("SM{}", uuid::Uuid::now_v7().simple()),
            ),
            ("AccountSid", twilio::ACCOUNT_SID),
            ("From", from),
            ("To", to),
            ("Body", "STOP"),
        ],
        twilio::AUTH_TOKEN,
    )
    .await;
    assert_eq!(status, 200);
}

async fn sms_consent(app: &TestApp, org: uuid::Uuid, phone: &str) -> bool {
    people::Entity::find()
        .filter(people::Column::OrganizationId.eq(org))
        .filter(people::Column::Phone.eq(phone))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap()
        .sms_consent
}

#[tokio::test]
async fn messages_come_from_the_chapter_region_or_organization_that_sets_a_sender() {
    let smtp = SmtpServer::start().await;
    let tw = FakeTwilio::start().await;
    let messaging = tw.messaging(FROM_NUMBER, smtp.messaging());
    let app = TestApp::spawn_full_with_messaging(webhook_api(), fast(), messaging).await;

    // Every refused sender is named at once, and nothing is saved.
    let body = app
        .gql(
            SETTINGS,
            json!({ "i": { "emailFrom": "Evil\r\nBcc: x@example.org <a@example.org>", "smsFrom": "12" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["input.emailFrom", "input.smsFrom"], "{body}");
    let body = app
        .gql(
            "{ organization { settings { senders { emailFrom smsFrom } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&body)["organization"]["settings"]["senders"],
        json!({ "emailFrom": null, "smsFrom": null })
    );

    // The organization's own, with a national number read in its region.
    let body = app
        .gql(
            SETTINGS,
            json!({ "i": { "emailFrom": "Campaign HQ <HQ@example.org>", "smsFrom": "(202) 555-0101" } }),
        )
        .await;
    assert_eq!(
        data(&body)["updateOrganizationSettings"]["senders"],
        json!({ "emailFrom": "Campaign HQ <hq@example.org>", "smsFrom": ORG_NUMBER, "whatsappFrom": null })
    );
    // A region texts from its own number; a chapter inside it mails from its own address.
    let region = chapter(&app, "New York City", None).await;
    let brooklyn = chapter(&app, "Brooklyn", Some(&region)).await;
    let queens = chapter(&app, "Queens", None).await;
    let body = app
        .gql(
            CHAPTER_SENDERS,
            json!({ "id": region, "i": { "smsFrom": REGION_NUMBER } }),
        )
        .await;
    assert_eq!(
        data(&body)["setChapterSenders"]["senders"]["smsFrom"],
        REGION_NUMBER
    );
    data(
        &app.gql(
            CHAPTER_SENDERS,
            json!({ "id": brooklyn, "i": { "emailFrom": "Brooklyn <bk@example.org>" } }),
        )
        .await,
    );
    let body = app
        .gql(
            CHAPTER_SENDERS,
            json!({ "id": queens, "i": { "smsFrom": "not a number" } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.smsFrom",
        "{body}"
    );

    let people: [(&str, &str, Option<&String>); 3] = [
        ("Ana", "+12025550161", Some(&brooklyn)),
        ("Ben", "+12025550162", Some(&queens)),
        ("Cy", "+12025550163", None),
    ];
    for (name, phone, chapter) in people {
        let id = create(
            &app,
            json!({ "firstName": name, "phone": phone, "smsConsent": true,
                "email": format!("{}@example.org", name.to_lowercase()), "emailConsent": true,
                "chapterId": chapter }),
        )
        .await;
        data(
            &app.gql(
                "mutation($p: ID!) { addTags(personId: $p, tags: [\"members\"]) { id } }",
                json!({ "p": id }),
            )
            .await,
        );
    }

    broadcast(&app, "SMS").await;
    broadcast(&app, "EMAIL").await;
    let texts = eventually("three texts", || async {
        let texts = tw.received();
        (texts.len() == 3).then_some(texts)
    })
    .await;
    let from_of = |to: &str| -> String {
        texts
            .iter()
            .find(|t| t.form["To"] == to)
            .unwrap_or_else(|| panic!("no text to {to}: {texts:?}"))
            .form["From"]
            .clone()
    };
    assert_eq!(from_of("+12025550161"), REGION_NUMBER, "Ana: her region's");
    assert_eq!(
        from_of("+12025550162"),
        ORG_NUMBER,
        "Ben: the organization's"
    );
    assert_eq!(
        from_of("+12025550163"),
        ORG_NUMBER,
        "Cy: the organization's"
    );
    let mails = eventually("three emails", || async {
        let mails = smtp.mails();
        (mails.len() == 3).then_some(mails)
    })
    .await;
    let mail_to = |to: &str| -> Value {
        let mail = mails
            .iter()
            .find(|m| m.to == [to])
            .unwrap_or_else(|| panic!("no mail to {to}"));
        let header = mail
            .data
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("from:"))
            .unwrap_or_default()
            .to_owned();
        json!([mail.from, header])
    };
    assert_eq!(
        mail_to("ana@example.org"),
        json!(["bk@example.org", "From: Brooklyn <bk@example.org>"])
    );
    assert_eq!(
        mail_to("ben@example.org"),
        json!(["hq@example.org", "From: \"Campaign HQ\" <hq@example.org>"])
    );

    // Ben also belongs to another organization, which texts from the deployment's number. His
    // STOP to this organization's number ends this organization's texts only; a STOP to the
    // deployment's number reaches the other.
    let (other_org, other) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(
            Some(&other),
            "mutation { createPerson(input: { firstName: \"Ben\", phone: \"+12025550162\", smsConsent: true }) { id } }",
            json!({}),
        )
        .await;
    data(&body);
    stop(&app, "+12025550162", ORG_NUMBER).await;
    assert!(!sms_consent(&app, app.org_id, "+12025550162").await);
    assert!(sms_consent(&app, other_org, "+12025550162").await);
    stop(&app, "+12025550162", FROM_NUMBER).await;
    assert!(!sms_consent(&app, other_org, "+12025550162").await);

    // Cleared, the organization's number gives way to the deployment's.
    let body = app.gql(SETTINGS, json!({ "i": { "smsFrom": null } })).await;
    assert!(data(&body)["updateOrganizationSettings"]["senders"]["smsFrom"].is_null());
    let audited = turnout_entity::audit_log::Entity::find()
        .filter(turnout_entity::audit_log::Column::Action.eq("chapter.senders"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(audited.len(), 2, "the refused change is not audited");
}
