use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use turnout_entity::{domain_events, form_submissions, people, taggings};

use crate::harness::{TestApp, data, error_code};

const SIGN_UP: &str = "mutation($form: String!, $input: SignUpInput!) {
    signUp(form: $form, input: $input) { submissionId referralCode }
}";

async fn sign_up(app: &TestApp, input: Value) -> Value {
    app.public(SIGN_UP, json!({ "form": "volunteer", "input": input }))
        .await
}

#[tokio::test]
async fn sign_up_creates_the_person_with_tags_consent_attribution_and_an_event() {
    let app = TestApp::spawn().await;
    let body = sign_up(
        &app,
        json!({
            "firstName": "Ada", "lastName": "Lovelace", "email": " Ada@Example.ORG ",
            "phone": "(202) 555-0143", "zip": "10001", "smsConsent": true,
            "utm": { "source": "tiktok", "campaign": "viral" }
        }),
    )
    .await;
    let payload = &data(&body)["signUp"];
    assert_eq!(payload["referralCode"].as_str().unwrap().len(), 8);

    let person = people::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("a person");
    assert_eq!(person.organization_id, app.org_id);
    assert_eq!(person.email.as_deref(), Some("ada@example.org"));
    assert_eq!(person.phone.as_deref(), Some("+12025550143"));
    assert!(person.sms_consent);
    assert!(person.sms_consent_at.is_some());
    assert_eq!(person.sms_consent_source.as_deref(), Some("form:volunteer"));
    assert!(!person.email_consent);
    assert_eq!(person.utm_source.as_deref(), Some("tiktok"));
    assert_eq!(person.utm_campaign.as_deref(), Some("viral"));
    assert_eq!(
        app.count(taggings::Entity).await,
        1,
        "the form's default tag"
    );

    let events = domain_events::Entity::find()
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "person.signed_up");
    assert_eq!(events[0].subject_id, person.id);
    assert_eq!(events[0].payload["created"], json!(true));
    assert!(events[0].dispatched_at.is_none());
    let submission = form_submissions::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(submission.person_id, person.id);
    assert_eq!(submission.utm_source.as_deref(), Some("tiktok"));
    assert_eq!(submission.client_ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn a_returning_person_is_matched_by_email_then_phone_and_updated() {
    let app = TestApp::spawn().await;
    data(
        &sign_up(
            &app,
            json!({ "firstName": "Ada", "email": "ada@example.org" }),
        )
        .await,
    );
    // Same email in another case: the same person, with the phone and zip (empty) added.
    data(
        &sign_up(&app, json!({ "firstName": "Ada", "email": "ADA@example.org", "phone": "+1 202 555 0143", "zip": "10001" }))
            .await,
    );
    // A text-in form that asks only for a phone, written differently: still the same person.
    data(
        &app.gql(
            "mutation { createForm(input: { slug: \"text-in\", title: \"Text in\", fields: [{key: FIRST_NAME, required: true}, {key: PHONE, required: true}] }) { slug } }",
            json!({}),
        )
        .await,
    );
    data(
        &app.public(SIGN_UP, json!({ "form": "text-in", "input": { "firstName": "Augusta", "phone": "202-555-0143" } }))
            .await,
    );
    let all = people::Entity::find().all(app.db.conn()).await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    // Public input fills what is empty and replaces nothing: still Ada.
    assert_eq!(all[0].first_name.as_deref(), Some("Ada"));
    assert_eq!(all[0].zip.as_deref(), Some("10001"));
    assert_eq!(all[0].phone.as_deref(), Some("+12025550143"));
    assert_eq!(app.count(form_submissions::Entity).await, 3);
    assert_eq!(
        app.count(taggings::Entity).await,
        1,
        "the tag is applied once"
    );
    let created: Vec<_> = domain_events::Entity::find()
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.payload["created"].clone())
        .collect();
    assert_eq!(created, vec![json!(true), json!(false), json!(false)]);
}

#[tokio::test]
async fn fifty_concurrent_sign_ups_with_one_email_make_one_person() {
    let app = TestApp::spawn().await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let client = app.client.clone();
        let url = format!("{}/graphql", app.base);
        tasks.push(tokio::spawn(async move {
            let input = json!({ "firstName": format!("Ada {i}"), "email": "ada@example.org" });
            let resp = client
                .post(url)
                .json(&json!({ "query": SIGN_UP, "variables": { "form": "volunteer", "input": input } }))
                .send()
                .await
                .unwrap();
            resp.json::<Value>().await.unwrap()
        }));
    }
    for task in tasks {
        let body = task.await.unwrap();
        data(&body);
    }
    assert_eq!(app.count(people::Entity).await, 1);
    assert_eq!(app.count(form_submissions::Entity).await, 50);
    assert_eq!(app.count(domain_events::Entity).await, 50);
    assert_eq!(app.count(taggings::Entity).await, 1);
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_named_and_nothing_written() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(5000);
    let cases = [
        (
            json!({ "firstName": "Ada", "email": "not-an-email" }),
            "input.email",
        ),
        (
            json!({ "firstName": "Ada", "email": "ada@example.org", "phone": "12345" }),
            "input.phone",
        ),
        (json!({ "email": "ada@example.org" }), "input.firstName"),
        (json!({ "firstName": "Ada" }), "input.email"),
        (
            json!({ "firstName": long, "email": "ada@example.org" }),
            "input.firstName",
        ),
        (
            json!({ "firstName": "Ada", "email": "ada@example.org", "smsConsent": true }),
            "input.smsConsent",
        ),
        (
            json!({ "firstName": "Ada", "email": "ada@example.org", "preferredLanguage": "en_US!" }),
            "input.preferredLanguage",
        ),
    ];
    for (input, field) in cases {
        let body = sign_up(&app, input.clone()).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{input} → {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"],
            json!(field),
            "{input} → {body}"
        );
    }
    let body = app
        .public(SIGN_UP, json!({ "form": "no-such-form", "input": { "firstName": "Ada", "email": "ada@example.org" } }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    assert_eq!(app.count(people::Entity).await, 0);
    assert_eq!(app.count(form_submissions::Entity).await, 0);
    assert_eq!(app.count(domain_events::Entity).await, 0);
}

#[tokio::test]
async fn a_referral_code_credits_the_referrer_once() {
    let app = TestApp::spawn().await;
    let body = sign_up(
        &app,
        json!({ "firstName": "Ada", "email": "ada@example.org" }),
    )
    .await;
    let code = data(&body)["signUp"]["referralCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let ada = people::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    sign_up(&app, json!({ "firstName": "Grace", "email": "grace@example.org", "referralCode": code.to_uppercase() }))
        .await;
    let grace = people::Entity::find()
        .filter(people::Column::Email.eq("grace@example.org"))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grace.referred_by_person_id, Some(ada.id));
    // Ada using her own code does not make her her own referrer.
    sign_up(
        &app,
        json!({ "firstName": "Ada", "email": "ada@example.org", "referralCode": code }),
    )
    .await;
    let ada = people::Entity::find_by_id(ada.id)
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.referred_by_person_id, None);
    // Grace signing up again with the code credits nobody twice: one `person.referred`, about
    // Grace, naming Ada.
    sign_up(
        &app,
        json!({ "firstName": "Grace", "email": "grace@example.org", "referralCode": code }),
    )
    .await;
    let referred = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq("person.referred"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(referred.len(), 1, "{referred:?}");
    assert_eq!(referred[0].subject_id, grace.id);
    assert_eq!(referred[0].payload["person_id"], json!(grace.id));
    assert_eq!(referred[0].payload["referrer_person_id"], json!(ada.id));
}

#[tokio::test]
async fn sign_ups_land_in_the_forms_organization_only() {
    let app = TestApp::spawn().await;
    let (other_org, _) = app.second_org("union-join").await;
    app.public(SIGN_UP, json!({ "form": "union-join", "input": { "firstName": "Ada", "email": "ada@example.org" } }))
        .await;
    sign_up(
        &app,
        json!({ "firstName": "Ada", "email": "ada@example.org" }),
    )
    .await;
    let all = people::Entity::find().all(app.db.conn()).await.unwrap();
    assert_eq!(all.len(), 2, "one person per organization");
    assert_eq!(
        all.iter()
            .filter(|p| p.organization_id == other_org)
            .count(),
        1
    );
    assert_eq!(
        all.iter()
            .filter(|p| p.organization_id == app.org_id)
            .count(),
        1
    );
}

/// Issue 17, item 5: anyone may submit the public form with a volunteer's email. That changes
/// nothing they recorded (name, phone, address) and cannot switch SMS back on after a STOP, by
/// email or by the phone dedupe falls back to; the submission is still recorded.
#[tokio::test]
async fn an_anonymous_sign_up_never_overwrites_a_person_or_undoes_a_stop() {
    let app = TestApp::spawn().await;
    data(
        &sign_up(
            &app,
            json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org",
                    "phone": "+1 202 555 0143", "smsConsent": true }),
        )
        .await,
    );
    // Ada replies STOP (as the Twilio webhook records it).
    let ada = people::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    let mut stopped: people::ActiveModel = ada.clone().into();
    stopped.sms_consent = sea_orm::Set(false);
    stopped.sms_consent_source = sea_orm::Set(Some("inbound:sms:STOP".into()));
    sea_orm::ActiveModelTrait::update(stopped, app.db.conn())
        .await
        .unwrap();

    // Someone else, knowing her email, tries to take her reminders over.
    data(
        &sign_up(
            &app,
            json!({ "firstName": "Mallory", "lastName": "X", "email": "ada@example.org",
                    "phone": "+1 202 555 0199", "zip": "99999", "smsConsent": true }),
        )
        .await,
    );
    // And with a new email and her (stopped) phone, which dedupe matches.
    data(
        &sign_up(
            &app,
            json!({ "firstName": "Mallory", "email": "mallory@example.org",
                    "phone": "202-555-0143", "smsConsent": true }),
        )
        .await,
    );
    let all = people::Entity::find().all(app.db.conn()).await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    let now = &all[0];
    assert_eq!(now.first_name.as_deref(), Some("Ada"));
    assert_eq!(now.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(now.email.as_deref(), Some("ada@example.org"));
    assert_eq!(now.phone.as_deref(), Some("+12025550143"));
    assert!(!now.sms_consent, "a form cannot undo a STOP");
    assert_eq!(now.sms_consent_source.as_deref(), Some("inbound:sms:STOP"));
    // Only what was empty was filled in (the zip), and every submission is kept.
    assert_eq!(now.zip.as_deref(), Some("99999"));
    assert_eq!(app.count(form_submissions::Entity).await, 3);
}
