//! The inbox through the real server: texts from a person land in their conversation (once,
//! however often Twilio retries the webhook) with a `message.received` event; staff read it,
//! reply through the real delivery pipeline, assign it and mark it read; a STOP blocks the
//! next reply.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use turnout_entity::domain_events;
use turnout_workers::messaging::MessagingConfig;

use crate::harness::{TestApp, data, error_code};
use crate::messaging::{FROM_NUMBER, post_signed};
use crate::people_crud::create;
use crate::pipeline::{eventually, fast};
use crate::support::twilio::{self, FakeTwilio, webhook_api};

const ANA: &str = "+12025550171";
const CONVERSATION: &str = "query($p: ID!) { conversation(personId: $p) {
    person { firstName } unreadCount assignedUserId
    messages { direction channel body status error } } }";
const SEND: &str = "mutation($i: SendMessageInput!) { sendMessage(input: $i) {
    direction channel body status error } }";

async fn text_in(app: &TestApp, from: &str, sid: &str, body: &str) {
    let status = post_signed(
        app,
        "/webhooks/twilio/inbound",
        &[
            ("MessageSid", sid),
            ("AccountSid", twilio::ACCOUNT_SID),
            ("From", from),
            ("To", FROM_NUMBER),
            ("Body", body),
        ],
        twilio::AUTH_TOKEN,
    )
    .await;
    assert_eq!(status, 200);
}

async fn conversation(app: &TestApp, person: &str) -> Value {
    data(&app.gql(CONVERSATION, json!({ "p": person })).await)["conversation"].clone()
}

#[tokio::test]
async fn texts_become_a_conversation_staff_reply_to_assign_and_read() {
    let tw = FakeTwilio::start().await;
    let messaging = tw.messaging(FROM_NUMBER, MessagingConfig::default());
    let app = TestApp::spawn_full_with_messaging(webhook_api(), fast(), messaging).await;
    let ana = create(
        &app,
        json!({ "firstName": "Ana", "phone": ANA, "smsConsent": true, "whatsappConsent": true }),
    )
    .await;
    assert!(
        conversation(&app, &ana).await.is_null(),
        "none before her first text"
    );

    // Her text arrives; Twilio retries the webhook, and it is still one message.
    text_in(&app, ANA, "SM0001", "Yes! Count me in for Saturday").await;
    text_in(&app, ANA, "SM0001", "Yes! Count me in for Saturday").await;
    let c = conversation(&app, &ana).await;
    assert_eq!(c["unreadCount"], 1, "{c}");
    assert_eq!(
        c["messages"],
        json!([{ "direction": "INBOUND", "channel": "SMS", "body": "Yes! Count me in for Saturday",
            "status": null, "error": null }])
    );
    let body = app
        .gql(
            "{ conversations(filter: { unread: true }) { edges { node { person { firstName } unreadCount } } }
               inboxUnread { conversations messages } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&body)["conversations"]["edges"],
        json!([{ "node": { "person": { "firstName": "Ana" }, "unreadCount": 1 } }])
    );
    assert_eq!(
        data(&body)["inboxUnread"],
        json!({ "conversations": 1, "messages": 1 })
    );
    // Automations, webhooks and the live feed hear of it.
    let received = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq("message.received"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].payload["body"], "Yes! Count me in for Saturday");
    assert!(received[0].payload["keyword"].is_null());

    // A reply goes out through the pipeline and marks the conversation read.
    let body = app
        .gql(
            SEND,
            json!({ "i": { "personId": ana, "channel": "SMS", "body": "Great, see you there!",
                "idempotencyKey": "reply-1" } }),
        )
        .await;
    assert_eq!(data(&body)["sendMessage"]["status"], "queued", "{body}");
    // The same key sends once.
    let again = app
        .gql(
            SEND,
            json!({ "i": { "personId": ana, "channel": "SMS", "body": "Great, see you there!",
                "idempotencyKey": "reply-1" } }),
        )
        .await;
    data(&again);
    let texts = eventually("the reply", || async {
        let texts = tw.received();
        (!texts.is_empty()).then_some(texts)
    })
    .await;
    assert_eq!(texts[0].form["To"], ANA);
    assert!(texts[0].form["Body"].starts_with("Great, see you there!"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(tw.received().len(), 1, "sent once");
    let c = eventually("the reply sent", || async {
        let c = conversation(&app, &ana).await;
        (c["messages"][1]["status"] == "sent").then_some(c)
    })
    .await;
    assert_eq!(c["unreadCount"], 0);
    assert_eq!(c["messages"][1]["direction"], "OUTBOUND");

    // She texted by SMS, never on WhatsApp: a WhatsApp reply is refused now, saying why.
    let body = app
        .gql(
            SEND,
            json!({ "i": { "personId": ana, "channel": "WHATSAPP", "body": "Hola" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert!(body.to_string().contains("24 hours"), "{body}");

    // She replies STOP: it is in the conversation, and the next reply is blocked, not sent.
    text_in(&app, ANA, "SM0003", "STOP").await;
    let body = app
        .gql(
            SEND,
            json!({ "i": { "personId": ana, "channel": "SMS", "body": "Sorry to see you go" } }),
        )
        .await;
    assert_eq!(
        data(&body)["sendMessage"],
        json!({ "direction": "OUTBOUND", "channel": "SMS", "body": "Sorry to see you go",
            "status": "blocked", "error": "no SMS consent" })
    );
    let c = conversation(&app, &ana).await;
    let bodies: Vec<&str> = c["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "Yes! Count me in for Saturday",
            "Great, see you there!",
            "STOP",
            "Sorry to see you go"
        ]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(tw.received().len(), 1, "nothing after STOP");

    // Assigned to a member, it is found by that member's filter; a stranger is NOT_FOUND.
    let body = app.gql("{ members { userId } }", json!({})).await;
    let owner = data(&body)["members"][0]["userId"].clone();
    let assign = "mutation($p: ID!, $u: ID) { assignConversation(personId: $p, userId: $u) { assignedUserId } }";
    let body = app.gql(assign, json!({ "p": ana, "u": owner })).await;
    assert_eq!(data(&body)["assignConversation"]["assignedUserId"], owner);
    let body = app
        .gql(
            "query($u: ID!) { conversations(filter: { assignedUserId: $u }) { edges { node { unreadCount } } totalCount }
               unassigned: conversations(filter: { unassigned: true }) { totalCount } }",
            json!({ "u": owner }),
        )
        .await;
    assert_eq!(
        data(&body)["conversations"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(data(&body)["conversations"]["totalCount"], 1);
    assert_eq!(data(&body)["unassigned"]["totalCount"], 0);
    let body = app
        .gql(
            assign,
            json!({ "p": ana, "u": uuid::Uuid::now_v7().to_string() }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app
        .gql(
            "mutation($p: ID!) { markConversationRead(personId: $p) { unreadCount readAt } }",
            json!({ "p": ana }),
        )
        .await;
    assert_eq!(data(&body)["markConversationRead"]["unreadCount"], 0);

    // The inbox needs MESSAGES_SEND, and another organization finds no such person.
    let reader = app.key_with(&["PEOPLE_READ"]).await;
    let (_, body) = app
        .gql_as(Some(&reader), "{ inboxUnread { messages } }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, other) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(Some(&other), CONVERSATION, json!({ "p": ana }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    // Nor can it text her, and nothing is queued for her by it.
    let (_, body) = app
        .gql_as(
            Some(&other),
            SEND,
            json!({ "i": { "personId": ana, "channel": "SMS", "body": "Hi from elsewhere" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        tw.received().len(),
        1,
        "nothing sent for another organization"
    );
}

#[tokio::test]
async fn a_texted_c_confirms_the_shift_the_reminder_was_for() {
    let app = TestApp::spawn_with(webhook_api()).await;
    let ana = create(
        &app,
        json!({ "firstName": "Ana", "phone": ANA, "smsConsent": true }),
    )
    .await;
    let (_, shift, _) =
        crate::events::create_event(&app, crate::events::event_input("PUBLIC", Some(10))).await;
    let body = app
        .gql(
            "mutation($s: ID!, $p: ID!) { createRsvp(shiftId: $s, personId: $p) { id status } }",
            json!({ "s": shift, "p": ana }),
        )
        .await;
    let rsvp = data(&body)["createRsvp"]["id"].clone();
    let status = || async {
        let body = app
            .gql(
                "query($p: ID!) { person(id: $p) { rsvps { id status } } }",
                json!({ "p": ana }),
            )
            .await;
        data(&body)["person"]["rsvps"][0]["status"].clone()
    };
    assert_eq!(status().await, "SIGNED_UP");

    // Something else is only a message; "c" confirms her shift tomorrow.
    text_in(&app, ANA, "SM0101", "can I bring a friend?").await;
    assert_eq!(status().await, "SIGNED_UP");
    text_in(&app, ANA, "SM0102", " c ").await;
    assert_eq!(status().await, "CONFIRMED");
    let confirmed = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq("rsvp.confirmed"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(confirmed.len(), 1, "{rsvp}");
    // Both texts are in her conversation.
    let c = conversation(&app, &ana).await;
    assert_eq!(c["messages"].as_array().unwrap().len(), 2, "{c}");
}

#[tokio::test]
async fn a_phone_only_volunteer_rsvps_on_the_page_and_is_confirmed_by_text() {
    let tw = FakeTwilio::start().await;
    let messaging = tw.messaging(FROM_NUMBER, MessagingConfig::default());
    let app = TestApp::spawn_full_with_messaging(webhook_api(), fast(), messaging).await;
    let (event, shift, _, _) = crate::pages::two_shift_event(&app, 10).await;
    let page = crate::pages::get(&app, &format!("/e/{event}")).await;
    assert!(page.html.contains("name=\"sms_consent\""), "{}", page.html);
    let action = format!("/e/{event}/rsvp");

    // Texts need a phone: the box ticked without one is refused next to it, nothing is booked.
    let refused = crate::pages::post(
        &app,
        &action,
        &[
            ("csrf", &page.token_for(&action)),
            ("shift", &shift),
            ("first_name", "Pat"),
            ("email", "pat@example.org"),
            ("sms_consent", "1"),
        ],
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(refused.html.contains("class=\"error\""), "{}", refused.html);

    let page = crate::pages::get(&app, &format!("/e/{event}")).await;
    let booked = crate::pages::post(
        &app,
        &action,
        &[
            ("csrf", &page.token_for(&action)),
            ("shift", &shift),
            ("first_name", "Pat"),
            ("phone", "(202) 555-0181"),
            ("sms_consent", "1"),
        ],
    )
    .await;
    assert_eq!(booked.status, 303, "{}", booked.html);
    let rsvp_page = booked.location.unwrap();
    let token = rsvp_page
        .trim_start_matches("/r/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let texts = eventually("the confirmation by text", || async {
        let texts = tw.received();
        (!texts.is_empty()).then_some(texts)
    })
    .await;
    assert_eq!(texts[0].form["To"], "+12025550181");
    assert!(
        texts[0].form["Body"].contains("you're signed up")
            && texts[0].form["Body"].contains(&token),
        "{:?}",
        texts[0].form
    );
}

/// Someone new texting in becomes a person, with consent to the channel they wrote on, and a
/// conversation staff can answer; a stranger's STOP creates nobody; and once two organizations
/// share the deployment's number, nobody can tell whose a stranger's text is, so it is dropped.
#[tokio::test]
async fn a_stranger_who_texts_in_becomes_a_person_where_it_is_clear_whose() {
    use turnout_entity::people;
    let tw = FakeTwilio::start().await;
    let messaging = tw.messaging(FROM_NUMBER, MessagingConfig::default());
    let app = TestApp::spawn_full_with_messaging(webhook_api(), fast(), messaging).await;
    let by_phone = |phone: &'static str| {
        let db = app.db.clone();
        async move {
            people::Entity::find()
                .filter(people::Column::Phone.eq(phone))
                .all(db.conn())
                .await
                .unwrap()
        }
    };

    text_in(
        &app,
        "+12025550199",
        "SMnew1",
        "Hi, I saw your flyer. How do I help?",
    )
    .await;
    let found = by_phone("+12025550199").await;
    assert_eq!(found.len(), 1);
    let newcomer = &found[0];
    assert_eq!(newcomer.organization_id, app.org_id);
    assert_eq!(newcomer.source.as_deref(), Some("inbound:sms"));
    assert!(newcomer.sms_consent);
    assert_eq!(newcomer.sms_consent_source.as_deref(), Some("inbound:sms"));
    let created = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq("person.created"))
        .filter(domain_events::Column::SubjectId.eq(newcomer.id))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(created.len(), 1);
    let person = crate::merge::global_id(newcomer.id);
    let c = conversation(&app, &person).await;
    assert_eq!(c["unreadCount"], 1, "{c}");
    assert_eq!(
        c["messages"][0]["body"],
        "Hi, I saw your flyer. How do I help?"
    );
    // Staff answer, and it goes.
    let body = app
        .gql(
            SEND,
            json!({ "i": { "personId": person, "channel": "SMS", "body": "Welcome! Saturday 10am?" } }),
        )
        .await;
    assert_eq!(data(&body)["sendMessage"]["status"], "queued", "{body}");
    eventually("the answer", || async {
        tw.received()
            .into_iter()
            .find(|t| t.form["To"] == "+12025550199")
    })
    .await;

    // A stranger's STOP is not a sign-up.
    text_in(&app, "+12025550198", "SMnew2", "STOP").await;
    assert!(by_phone("+12025550198").await.is_empty());

    // Someone who texts a chapter's own number is that chapter's.
    let body = app
        .gql(
            "mutation { createChapter(name: \"North\") { id } }",
            json!({}),
        )
        .await;
    let north = data(&body)["createChapter"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    data(
        &app.gql(
            "mutation($id: ID!) { setChapterSenders(id: $id, input: { smsFrom: \"+12025550131\" }) { id } }",
            json!({ "id": north }),
        )
        .await,
    );
    let status = post_signed(
        &app,
        "/webhooks/twilio/inbound",
        &[
            ("MessageSid", "SMnew4"),
            ("AccountSid", twilio::ACCOUNT_SID),
            ("From", "+12025550196"),
            ("To", "+12025550131"),
            ("Body", "Is there a North meeting?"),
        ],
        twilio::AUTH_TOKEN,
    )
    .await;
    assert_eq!(status, 200);
    let found = by_phone("+12025550196").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].chapter_id.map(|c| c.to_string()), Some(north));

    // Two organizations on the deployment's number: whose is a stranger's text? Nobody's.
    app.second_org("second-form").await;
    text_in(&app, "+12025550197", "SMnew3", "hello?").await;
    assert!(by_phone("+12025550197").await.is_empty());
}
