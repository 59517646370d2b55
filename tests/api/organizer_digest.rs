//! The point people's daily digest: after 07:00 in the organization's zone, once a day, each
//! member with news about *their* people gets one email (people newly assigned to them, their
//! tasks due, no-shows among their people). Nothing goes before 07:00, twice a day, on a day
//! with no news, or while the organization has it off.

use chrono::{Duration, Timelike, Utc};
use serde_json::json;
use turnout_domain::digest;

use crate::events::{create_event, event_input};
use crate::harness::{TestApp, data};
use crate::pipeline::{eventually, fast};
use crate::support::smtp::SmtpServer;

#[tokio::test]
async fn point_people_get_one_digest_a_day_about_their_own_people() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_messaging(fast(), smtp.messaging()).await;
    let body = app.gql("{ members { userId } }", json!({})).await;
    let owner = data(&body)["members"][0]["userId"].clone();
    let person = |name: &str, point_person: serde_json::Value| {
        let app = &app;
        let input = json!({ "firstName": name, "email": format!("{}@example.org", name.to_lowercase()), "pointPersonUserId": point_person });
        async move { crate::people_crud::create(app, input).await }
    };
    let ada = person("Ada", owner.clone()).await;
    let cy = person("Cy", owner.clone()).await;
    // Nobody's: in no digest.
    let dee = person("Dee", serde_json::Value::Null).await;
    let due = Utc::now() + Duration::hours(2);
    for (title, about) in [("Call Ada back", &ada), ("Welcome Dee", &dee)] {
        let assignee = if about == &dee {
            serde_json::Value::Null
        } else {
            owner.clone()
        };
        data(
            &app.gql(
                "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }",
                json!({ "i": { "title": title, "personId": about, "assigneeUserId": assignee, "dueAt": due.to_rfc3339() } }),
            )
            .await,
        );
    }
    // Cy and Dee miss a shift (staff mark them).
    let (_, shift, _) = create_event(&app, event_input("PUBLIC", Some(10))).await;
    for p in [&cy, &dee] {
        let body = app
            .gql(
                "mutation($s: ID!, $p: ID!) { createRsvp(shiftId: $s, personId: $p) { id } }",
                json!({ "s": shift, "p": p }),
            )
            .await;
        data(
            &app.gql(
                "mutation($id: ID!) { markRsvpNoShow(id: $id) { status } }",
                json!({ "id": data(&body)["createRsvp"]["id"] }),
            )
            .await,
        );
    }

    // The organization's zone puts this moment at midday, whenever the test runs.
    let t0 = Utc::now();
    let offset = 12 - i64::from(t0.hour());
    let zone = match offset {
        0 => "UTC".to_owned(),
        n if n > 0 => format!("Etc/GMT-{n}"),
        n => format!("Etc/GMT+{}", -n),
    };
    let minutes = |m: i64| t0 + Duration::minutes(m);
    // Off by default.
    assert_eq!(digest::send_due(&app.db, minutes(1)).await.unwrap(), 0);
    let body = app
        .gql(
            "mutation($z: String) { updateOrganizationSettings(input: { organizerDigest: true, timeZone: $z }) { organizerDigest } }",
            json!({ "z": zone }),
        )
        .await;
    assert_eq!(
        data(&body)["updateOrganizationSettings"]["organizerDigest"],
        true
    );
    let confirmations = smtp.mails().len();
    // About 06:00 there: not yet.
    assert_eq!(
        digest::send_due(&app.db, minutes(-6 * 60)).await.unwrap(),
        0,
        "not before 07:00"
    );
    assert_eq!(digest::send_due(&app.db, minutes(1)).await.unwrap(), 1);
    assert_eq!(
        digest::send_due(&app.db, minutes(2)).await.unwrap(),
        0,
        "once a day"
    );

    let mail = eventually("the digest", || async {
        smtp.mails()
            .into_iter()
            .skip(confirmations)
            .find(|m| m.data.contains("digest"))
    })
    .await;
    assert_eq!(mail.to, ["owner@example.org"]);
    let text = mail.data.replace("=\r\n", "").replace("\r\n", "\n");
    assert!(text.contains("New people assigned to you (2):"), "{text}");
    assert!(text.contains("- Ada") && text.contains("- Cy"), "{text}");
    assert!(
        text.contains("Your tasks due (1):\n- Call Ada back ("),
        "{text}"
    );
    assert!(
        text.contains("No-shows (1):\n- Cy, at Saturday canvass"),
        "{text}"
    );
    assert!(!text.contains("Dee"), "not theirs: {text}");

    // About 08:00 tomorrow there: the task is still open (overdue, so listed); the people and
    // the no-shows were in the last digest.
    assert_eq!(
        digest::send_due(&app.db, minutes(20 * 60)).await.unwrap(),
        1
    );
    let second = eventually("the second digest", || async {
        let digests: Vec<_> = smtp
            .mails()
            .into_iter()
            .filter(|m| m.data.contains("Subject: Your"))
            .collect();
        (digests.len() == 2).then(|| digests[1].clone())
    })
    .await;
    let text = second.data.replace("=\r\n", "").replace("\r\n", "\n");
    assert!(text.contains("Your tasks due (1):"), "{text}");
    assert!(!text.contains("New people assigned"), "{text}");
    assert!(!text.contains("No-shows"), "{text}");

    // Switched off again, nothing goes.
    data(
        &app.gql(
            "mutation { updateOrganizationSettings(input: { organizerDigest: false }) { organizerDigest } }",
            json!({}),
        )
        .await,
    );
    assert_eq!(
        digest::send_due(&app.db, minutes(44 * 60)).await.unwrap(),
        0
    );
}
