//! Issue 14: broadcasts through the real server and workers, to a local SMTP sink. A
//! broadcast to a segment reaches each consenting person once, in their language, with an
//! unsubscribe link (and RFC 8058 headers) that works; pausing holds delivery, cancelling
//! drops what is left; a text broadcast, to a fake Twilio, carries its opt-out and loses to a
//! STOP that arrives while it waits; bad input is reported at once.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use turnout_entity::{domain_events, messages};
use turnout_workers::messaging::MessagingConfig;

use crate::harness::{TestApp, data, error_code};
use crate::merge::raw_id;
use crate::messaging::{FROM_NUMBER, PHONE, inbound};
use crate::people_crud::create;
use crate::pipeline::{eventually, fast};
use crate::support::smtp::SmtpServer;
use crate::support::twilio::{FakeTwilio, webhook_api};

const CREATE: &str = "mutation($i: CreateBroadcastInput!) { createBroadcast(input: $i) {
    id status paused channel } }";
const SEND: &str = "mutation($id: ID!) { sendBroadcast(id: $id) { status } }";
const STATE: &str = "query($id: ID!) { broadcast(id: $id) { status paused recipients
    progress { queued sent delivered failed blocked cancelled } } }";

async fn app_with_smtp() -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    (
        TestApp::spawn_with_messaging(fast(), smtp.messaging()).await,
        smtp,
    )
}

/// Members: Ana (Spanish), Ben and Cy (no email consent) by email, Dee by phone only; Eve is
/// not a member.
async fn members(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for (name, email, consent, language, tag) in [
        ("Ana", Some("ana@example.org"), true, "es", "members"),
        ("Ben", Some("ben@example.org"), true, "en", "members"),
        ("Cy", Some("cy@example.org"), false, "en", "members"),
        ("Dee", None, false, "en", "members"),
        ("Eve", Some("eve@example.org"), true, "en", "others"),
    ] {
        let mut input =
            json!({ "firstName": name, "emailConsent": consent, "preferredLanguage": language });
        match email {
            Some(e) => input["email"] = json!(e),
            None => input["phone"] = json!("+12025550123"),
        }
        let id = create(app, input).await;
        let body = app
            .gql(
                "mutation($p: ID!, $t: [String!]!) { addTags(personId: $p, tags: $t) { id } }",
                json!({ "p": id, "t": [tag] }),
            )
            .await;
        data(&body);
        ids.push(id);
    }
    ids
}

fn rally() -> Value {
    json!({ "name": "Saturday rally", "channel": "EMAIL", "audience": { "tagsAny": ["members"] },
        "contents": [
            { "language": "en", "subject": "Rally on Saturday", "body": "Hi {{ person.first_name }}, rally at noon. {{ org.name }}" },
            { "language": "es", "subject": "Mitin el sábado", "body": "Hola {{ person.first_name }}, mitin al mediodía." }
        ] })
}

async fn state(app: &TestApp, id: &str) -> Value {
    data(&app.gql(STATE, json!({ "id": id })).await)["broadcast"].clone()
}

#[tokio::test]
async fn an_email_broadcast_reaches_each_consenting_member_once_and_its_link_unsubscribes() {
    let (app, smtp) = app_with_smtp().await;
    let people = members(&app).await;

    // Refused input is reported all at once, and nothing is created.
    let body = app
        .gql(
            CREATE,
            json!({ "i": { "name": " ", "channel": "EMAIL", "audience": {},
                "contents": [{ "language": "en", "body": "Hi {{ person.first_name" }] } }),
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
        [
            "input.name",
            "input.contents[0].subject",
            "input.contents[0].body"
        ],
        "{body}"
    );
    // A key that may read people but not send is refused.
    let reader = app.key_with(&["PEOPLE_READ"]).await;
    let (_, body) = app
        .gql_as(Some(&reader), CREATE, json!({ "i": rally() }))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        app.count(turnout_entity::broadcasts::Entity).await,
        0,
        "nothing created"
    );

    let body = app.gql(CREATE, json!({ "i": rally() })).await;
    let b = data(&body)["createBroadcast"].clone();
    assert_eq!(
        (&b["status"], &b["channel"]),
        (&json!("DRAFT"), &json!("EMAIL"))
    );
    let id = b["id"].as_str().unwrap().to_owned();

    // The preview: four members, two reachable (Cy gave no email consent, Dee has no email);
    // the sample is the first reachable, Ana, in Spanish.
    let body = app
        .gql(
            "query($id: ID!) { broadcast(id: $id) { preview { audienceCount reachableCount
                sample { language subject body } } } }",
            json!({ "id": id }),
        )
        .await;
    let preview = &data(&body)["broadcast"]["preview"];
    assert_eq!(
        (&preview["audienceCount"], &preview["reachableCount"]),
        (&json!(4), &json!(2)),
        "{preview}"
    );
    assert_eq!(preview["sample"]["language"], json!("es"));
    assert_eq!(preview["sample"]["subject"], json!("Mitin el sábado"));
    assert!(
        preview["sample"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Hola Ana, mitin al mediodía."),
        "{preview}"
    );
    assert!(smtp.mails().is_empty(), "a draft sends nothing");

    let body = app.gql(SEND, json!({ "id": id })).await;
    assert_eq!(data(&body)["sendBroadcast"]["status"], json!("QUEUING"));
    let mails = eventually("two broadcast emails", || async {
        let m = smtp.mails();
        (m.len() >= 2).then_some(m)
    })
    .await;
    let mut to: Vec<&str> = mails.iter().map(|m| m.to[0].as_str()).collect();
    to.sort();
    assert_eq!(to, ["ana@example.org", "ben@example.org"]);
    let ben_mail = mails.iter().find(|m| m.to[0] == "ben@example.org").unwrap();
    assert!(
        ben_mail.data.contains("List-Unsubscribe: <http"),
        "{}",
        ben_mail.data
    );
    assert!(
        ben_mail
            .data
            .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{}",
        ben_mail.data
    );
    assert!(
        ben_mail.data.contains("Hi Ben, rally at noon."),
        "{}",
        ben_mail.data
    );

    // Every message is accounted for, and `broadcast.sent` says so.
    let done = eventually("the broadcast sent and delivered", || async {
        let s = state(&app, &id).await;
        (s["status"] == json!("SENT") && s["progress"]["sent"] == json!(2)).then_some(s)
    })
    .await;
    assert_eq!(done["recipients"], json!(4));
    assert_eq!(
        done["progress"],
        json!({ "queued": 0, "sent": 2, "delivered": 0, "failed": 0, "blocked": 2, "cancelled": 0 })
    );
    let sent = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq("broadcast.sent"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (&sent[0].payload["queued"], &sent[0].payload["blocked"]),
        (&json!(2), &json!(2))
    );
    // Sending it again is refused, and nobody gets a second copy.
    let body = app.gql(SEND, json!({ "id": id })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.mails().len(), 2);

    // Ben's link: the page asks, a one-click POST unsubscribes, and it is recorded.
    let ben = raw_id(&people[1]);
    let token = messages::Entity::find()
        .filter(messages::Column::PersonId.eq(ben))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap()
        .public_token
        .expect("an unsubscribe token");
    let url = format!("{}/u/{token}", app.base);
    assert!(
        ben_mail.data.contains(&format!("/u/{token}")),
        "{}",
        ben_mail.data
    );
    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("b***@example.org"), "{html}");
    assert!(html.contains("<form method=\"post\""), "{html}");
    let done = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let body = app
        .gql(
            "query($id: ID!) { person(id: $id) { emailConsent { granted source } } }",
            json!({ "id": people[1] }),
        )
        .await;
    assert_eq!(
        data(&body)["person"]["emailConsent"],
        json!({ "granted": false, "source": "unsubscribe_link" })
    );
    let again = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again.contains("already unsubscribed"), "{again}");
    let missing = app
        .client
        .get(format!("{}/u/not-a-token", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The next broadcast to the members reaches Ana alone.
    let body = app.gql(CREATE, json!({ "i": rally() })).await;
    let second = data(&body)["createBroadcast"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    data(&app.gql(SEND, json!({ "id": second })).await);
    eventually("the second broadcast to Ana", || async {
        (smtp.mails().len() >= 3).then_some(())
    })
    .await;
    let s = eventually("the second broadcast sent", || async {
        let s = state(&app, &second).await;
        (s["status"] == json!("SENT")).then_some(s)
    })
    .await;
    assert_eq!(s["progress"]["blocked"], json!(3), "{s}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 3);
    assert_eq!(mails[2].to, ["ana@example.org"]);
}

#[tokio::test]
async fn a_scheduled_broadcast_waits_a_paused_one_holds_and_a_cancelled_one_drops_the_rest() {
    let (app, smtp) = app_with_smtp().await;
    members(&app).await;
    let later = (Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let mut input = rally();
    input["scheduledAt"] = json!(later);
    let id = data(&app.gql(CREATE, json!({ "i": input.clone() })).await)["createBroadcast"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = app.gql(SEND, json!({ "id": id })).await;
    assert_eq!(data(&body)["sendBroadcast"]["status"], json!("SCHEDULED"));
    // A draft can't be paused; a scheduled one can.
    let body = app
        .gql(
            "mutation($id: ID!) { pauseBroadcast(id: $id) { paused } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&body)["pauseBroadcast"]["paused"], json!(true));

    // Its time comes (the scheduler's tick, as the cron runs it): queued, but held.
    let started = turnout_domain::messaging::broadcasts::start_due(
        &app.db,
        Utc::now() + chrono::Duration::days(2),
    )
    .await
    .unwrap();
    assert_eq!(started, 1);
    let s = eventually("the paused broadcast queued", || async {
        let s = state(&app, &id).await;
        (s["status"] == json!("SENT")).then_some(s)
    })
    .await;
    assert_eq!(s["progress"]["queued"], json!(2), "{s}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(smtp.mails().is_empty(), "held while paused");

    // Resumed, it goes out.
    let body = app
        .gql(
            "mutation($id: ID!) { resumeBroadcast(id: $id) { paused } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&body)["resumeBroadcast"]["paused"], json!(false));
    eventually("the resumed broadcast's emails", || async {
        (smtp.mails().len() >= 2).then_some(())
    })
    .await;

    // Another, paused after it is queued and then cancelled: nothing of it is sent.
    let input = rally();
    let other = data(&app.gql(CREATE, json!({ "i": input })).await)["createBroadcast"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut scheduled = rally();
    scheduled["scheduledAt"] = json!(later);
    let other_scheduled =
        data(&app.gql(CREATE, json!({ "i": scheduled })).await)["createBroadcast"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    data(&app.gql(SEND, json!({ "id": other_scheduled })).await);
    data(
        &app.gql(
            "mutation($id: ID!) { pauseBroadcast(id: $id) { paused } }",
            json!({ "id": other_scheduled }),
        )
        .await,
    );
    turnout_domain::messaging::broadcasts::start_due(
        &app.db,
        Utc::now() + chrono::Duration::days(2),
    )
    .await
    .unwrap();
    eventually("the second one queued", || async {
        let s = state(&app, &other_scheduled).await;
        (s["status"] == json!("SENT")).then_some(())
    })
    .await;
    let body = app
        .gql(
            "mutation($id: ID!) { cancelBroadcast(id: $id) { status } }",
            json!({ "id": other_scheduled }),
        )
        .await;
    assert_eq!(data(&body)["cancelBroadcast"]["status"], json!("CANCELLED"));
    let s = state(&app, &other_scheduled).await;
    assert_eq!(s["progress"]["cancelled"], json!(2), "{s}");
    assert_eq!(s["progress"]["queued"], json!(0), "{s}");
    // Resuming a cancelled broadcast is refused; cancelling a draft is allowed.
    let body = app
        .gql(
            "mutation($id: ID!) { resumeBroadcast(id: $id) { paused } }",
            json!({ "id": other_scheduled }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let body = app
        .gql(
            "mutation($id: ID!) { cancelBroadcast(id: $id) { status } }",
            json!({ "id": other }),
        )
        .await;
    assert_eq!(data(&body)["cancelBroadcast"]["status"], json!("CANCELLED"));
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        smtp.mails().len(),
        2,
        "nothing of the cancelled ones went out"
    );

    // Two sends of one draft at once: one wins, the other is a conflict, and it starts once.
    let mut input = rally();
    input["audience"] = json!({ "tagsAny": ["nobody"] });
    let twice = data(&app.gql(CREATE, json!({ "i": input })).await)["createBroadcast"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (a, b) = tokio::join!(
        app.gql(SEND, json!({ "id": twice })),
        app.gql(SEND, json!({ "id": twice }))
    );
    let mut codes = [error_code(&a), error_code(&b)];
    codes.sort();
    assert_eq!(codes, [None, Some("CONFLICT")], "{a} {b}");
    let starts = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq("broadcast.started"))
        .filter(domain_events::Column::SubjectId.eq(uuid::Uuid::parse_str(&twice).unwrap()))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(starts.len(), 1);

    // A scheduled time in the past is refused.
    let mut past = rally();
    past["scheduledAt"] = json!((Utc::now() - chrono::Duration::hours(1)).to_rfc3339());
    let body = app.gql(CREATE, json!({ "i": past })).await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        json!("input.scheduledAt"),
        "{body}"
    );
}

#[tokio::test]
async fn a_text_broadcast_carries_its_opt_out_and_a_stop_while_it_waits_wins() {
    let tw = FakeTwilio::start().await;
    let messaging = tw.messaging(FROM_NUMBER, MessagingConfig::default());
    let app = TestApp::spawn_full_with_messaging(webhook_api(), fast(), messaging).await;
    // Ana texts from PHONE (the number the inbound helper replies from); Cy gave no consent.
    for (name, phone, consent) in [
        ("Ana", PHONE, true),
        ("Ben", "+12025550177", true),
        ("Cy", "+12025550188", false),
    ] {
        let id = create(
            &app,
            json!({ "firstName": name, "phone": phone, "smsConsent": consent }),
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
    let later = (Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let body = app
        .gql(
            CREATE,
            json!({ "i": { "name": "Rally text", "channel": "SMS", "audience": { "tagsAny": ["members"] },
                "contents": [{ "language": "en", "body": "Hi {{ person.first_name }}, rally Saturday." }],
                "scheduledAt": later } }),
        )
        .await;
    let id = data(&body)["createBroadcast"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    data(&app.gql(SEND, json!({ "id": id })).await);
    data(
        &app.gql(
            "mutation($id: ID!) { pauseBroadcast(id: $id) { paused } }",
            json!({ "id": id }),
        )
        .await,
    );
    turnout_domain::messaging::broadcasts::start_due(
        &app.db,
        Utc::now() + chrono::Duration::days(2),
    )
    .await
    .unwrap();
    let s = eventually("the text broadcast queued", || async {
        let s = state(&app, &id).await;
        (s["status"] == json!("SENT")).then_some(s)
    })
    .await;
    assert_eq!(
        (&s["progress"]["queued"], &s["progress"]["blocked"]),
        (&json!(2), &json!(1)),
        "{s}"
    );

    // Ana replies STOP while her message waits: it is never sent.
    assert_eq!(inbound(&app, "STOP").await, 200);
    data(
        &app.gql(
            "mutation($id: ID!) { resumeBroadcast(id: $id) { paused } }",
            json!({ "id": id }),
        )
        .await,
    );
    eventually("Ben's text", || async {
        (!tw.received().is_empty()).then_some(())
    })
    .await;
    let s = eventually("every message settled", || async {
        let s = state(&app, &id).await;
        (s["progress"]["queued"] == json!(0)).then_some(s)
    })
    .await;
    assert_eq!(
        (&s["progress"]["sent"], &s["progress"]["blocked"]),
        (&json!(1), &json!(2)),
        "{s}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let texts = tw.received();
    assert_eq!(texts.len(), 1, "only Ben is texted");
    assert_eq!(texts[0].form["To"], "+12025550177");
    assert!(
        texts[0].form["Body"].starts_with("Hi Ben, rally Saturday."),
        "{:?}",
        texts[0].form
    );
    assert!(
        texts[0].form["Body"].contains("Reply STOP to opt out"),
        "{:?}",
        texts[0].form
    );
}

/// WhatsApp broadcasts honour the 24-hour window: free text to whoever wrote to us in the last
/// day, the approved template (its variables filled in per person) to everyone else, and,
/// without an approved template, a block with the reason rather than a refused send.
#[tokio::test]
async fn a_whatsapp_broadcast_sends_free_text_inside_the_window_and_the_approved_template_outside()
{
    use turnout_workers::messaging::TextProvider;
    let tw = FakeTwilio::start().await;
    let messaging = MessagingConfig {
        whatsapp_provider: TextProvider::Twilio,
        twilio_whatsapp_from: Some(FROM_NUMBER.into()),
        whatsapp_per_second: 0,
        ..tw.messaging(FROM_NUMBER, MessagingConfig::default())
    };
    let app = TestApp::spawn_full_with_messaging(webhook_api(), fast(), messaging).await;
    for (name, phone) in [("Ana", PHONE), ("Ben", "+12025550177")] {
        let id = create(
            &app,
            json!({ "firstName": name, "phone": phone, "whatsappConsent": true }),
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
    // Ana writes to us on WhatsApp; Ben never has.
    let from = format!("whatsapp:{PHONE}");
    let to = format!("whatsapp:{FROM_NUMBER}");
    let status = crate::messaging::post_signed(
        &app,
        "/webhooks/twilio/inbound",
        &[
            ("MessageSid", "SMwa0001"),
            ("From", from.as_str()),
            ("To", to.as_str()),
            ("Body", "Hola, what's on this week?"),
        ],
        crate::support::twilio::AUTH_TOKEN,
    )
    .await;
    assert_eq!(status, 200);

    let sid = "HXabcdefabcdefabcdefabcdefabcdefab";
    let broadcast = |name: &str, approved: bool| {
        let mut content =
            json!({ "language": "en", "body": "Hi {{ person.first_name }}, rally Saturday!" });
        if approved {
            content["whatsappContentSid"] = json!(sid);
            content["whatsappVariables"] = json!(["{{ person.first_name }}"]);
        }
        json!({ "i": { "name": name, "channel": "WHATSAPP", "audience": { "tagsAny": ["members"] },
            "contents": [content] } })
    };
    // A malformed SID is refused with the content it belongs to.
    let mut bad = broadcast("Bad", true);
    bad["i"]["contents"][0]["whatsappContentSid"] = json!("HX12");
    let body = app.gql(CREATE, bad).await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert!(
        body.to_string().contains("contents[0].whatsappContentSid"),
        "{body}"
    );
    // So is a variable no person can fill in (a broadcast has no event), before it is sent.
    let mut bad = broadcast("Bad", true);
    bad["i"]["contents"][0]["whatsappVariables"] = json!(["{{ event.title }}"]);
    let body = app.gql(CREATE, bad).await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert!(
        body.to_string().contains("contents[0].whatsappVariables"),
        "{body}"
    );

    let body = app.gql(CREATE, broadcast("Rally", true)).await;
    let id = data(&body)["createBroadcast"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    data(&app.gql(SEND, json!({ "id": id })).await);
    let sent = eventually("both WhatsApp messages", || async {
        let sent = tw.received();
        (sent.len() == 2).then_some(sent)
    })
    .await;
    let to_ana = sent.iter().find(|s| s.form["To"] == from).unwrap();
    let to_ben = sent
        .iter()
        .find(|s| s.form["To"] == "whatsapp:+12025550177")
        .unwrap();
    assert_eq!(to_ana.form["Body"], "Hi Ana, rally Saturday!");
    assert!(!to_ana.form.contains_key("ContentSid"));
    assert_eq!(to_ben.form["ContentSid"], sid);
    assert_eq!(to_ben.form["ContentVariables"], r#"{"1":"Ben"}"#);
    assert!(!to_ben.form.contains_key("Body"));

    // Without an approved template, Ben's is blocked with the reason; Ana's goes.
    let body = app.gql(CREATE, broadcast("Rally again", false)).await;
    let again = data(&body)["createBroadcast"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    data(&app.gql(SEND, json!({ "id": again })).await);
    let s = eventually("the second broadcast settled", || async {
        let s = state(&app, &again).await;
        (s["progress"]["sent"] == json!(1) && s["progress"]["blocked"] == json!(1)).then_some(s)
    })
    .await;
    assert_eq!(tw.received().len(), 3, "{s}");
    let blocked = messages::Entity::find()
        .filter(messages::Column::Status.eq("blocked"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(blocked.len(), 1);
    assert_eq!(
        blocked[0].error.as_deref(),
        Some(turnout_domain::messaging::whatsapp::WINDOW_CLOSED)
    );
}
