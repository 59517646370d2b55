//! `GET /metrics`: refused without the operator's token, and with it the counters move with
//! real traffic (GraphQL operations and their error codes, HTTP routes, jobs, messages) while
//! the job queues and the database pool are read at the scrape.

use serde_json::json;

use crate::events::{create_event, event_input};
use crate::harness::{METRICS_TOKEN, TestApp, data, error_code};
use crate::pipeline::{eventually, fast};
use crate::support::smtp::SmtpServer;

async fn scrape(app: &TestApp) -> String {
    let res = app
        .client
        .get(format!("{}/metrics", app.base))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    res.text().await.unwrap()
}

/// The sum of `name`'s samples whose labels include all of `labels` (0 when there are none).
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, sample) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))))
            .then(|| sample.parse::<f64>().unwrap())
        })
        .sum()
}

#[tokio::test]
async fn metrics_need_the_token_and_count_real_traffic() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_messaging(fast(), smtp.messaging()).await;

    // No token, or a wrong one: refused, and nothing of the body is a metric.
    for key in [None, Some("guess"), Some(&app.key[..])] {
        let mut req = app.client.get(format!("{}/metrics", app.base));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{key:?}");
        assert!(!res.text().await.unwrap().contains("turnout_"));
    }

    let before = scrape(&app).await;
    let mutations = |t: &str| {
        value(
            t,
            "turnout_graphql_requests_total",
            &[("operation", "mutation")],
        )
    };
    let queries = |t: &str| {
        value(
            t,
            "turnout_graphql_requests_total",
            &[("operation", "query")],
        )
    };
    let invalid = |t: &str| value(t, "turnout_graphql_errors_total", &[("code", "VALIDATION")]);
    let unauthenticated = |t: &str| {
        value(
            t,
            "turnout_graphql_errors_total",
            &[("code", "UNAUTHENTICATED")],
        )
    };
    let graphql_ok = |t: &str| {
        value(
            t,
            "turnout_http_requests_total",
            &[("route", "/graphql"), ("method", "POST"), ("status", "200")],
        )
    };
    let emails_sent = |t: &str| {
        value(
            t,
            "turnout_messages_total",
            &[("channel", "email"), ("status", "sent")],
        )
    };
    let dispatched = |t: &str| {
        value(
            t,
            "turnout_jobs_total",
            &[("queue", "turnout.dispatch"), ("outcome", "done")],
        )
    };

    // Traffic: 3 queries, an event with a public RSVP (mutations), an invalid mutation and a
    // request with a bad key.
    for _ in 0..3 {
        data(
            &app.gql("{ people(first: 1) { totalCount } }", json!({}))
                .await,
        );
    }
    let (_, shift, _) = create_event(&app, event_input("PUBLIC", Some(10))).await;
    data(
        &app.public(
            r#"mutation($s: ID!, $i: PublicRsvpInput!) { rsvp(shiftId: $s, input: $i) { status } }"#,
            json!({ "s": shift, "i": { "firstName": "Fay", "email": "fay@example.org" } }),
        )
        .await,
    );
    let bad = app
        .gql(
            r#"mutation { createPerson(input: { firstName: "X", email: "not-an-email" }) { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&bad), Some("VALIDATION"));
    let (status, _) = app
        .gql_as(
            Some("tn_not_a_real_key"),
            "{ people(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 401);

    // The confirmation email goes out through the workers.
    eventually("the confirmation email", || async {
        smtp.mails().into_iter().next()
    })
    .await;
    let after = eventually("the send counted", || {
        let app = &app;
        async move {
            let text = scrape(app).await;
            (emails_sent(&text) >= 1.0 && dispatched(&text) >= 1.0).then_some(text)
        }
    })
    .await;

    assert_eq!(queries(&after) - queries(&before), 3.0);
    // createEvent, the RSVP and the refused createPerson (the event helper may make more).
    assert!(mutations(&after) - mutations(&before) >= 3.0, "{after}");
    assert_eq!(invalid(&after) - invalid(&before), 1.0);
    assert_eq!(unauthenticated(&after) - unauthenticated(&before), 1.0);
    assert!(graphql_ok(&after) - graphql_ok(&before) >= 6.0);
    assert_eq!(emails_sent(&after) - emails_sent(&before), 1.0);
    assert!(
        value(
            &after,
            "turnout_http_requests_total",
            &[("route", "/graphql"), ("status", "401")]
        ) >= 1.0
    );

    // Latency histograms with buckets, queues read at the scrape, and the pool.
    assert!(after.contains("turnout_graphql_request_duration_seconds_bucket{"));
    assert!(after.contains("# HELP turnout_jobs_total"));
    for queue in ["turnout.dispatch", "turnout.webhooks", "turnout.messages"] {
        assert!(
            after.contains(&format!(
                "turnout_queue_jobs{{queue=\"{queue}\",state=\"due\"}}"
            )),
            "{queue} in {after}"
        );
    }
    assert_eq!(value(&after, "turnout_queue_up", &[]), 1.0);
    assert_eq!(value(&after, "turnout_db_pool_max_connections", &[]), 16.0);
    // The traffic above opened connections, but under a loaded suite the workers may hold every
    // one of them at the scrape, so the pool is checked as a whole: some open, none above max.
    let open = value(&after, "turnout_db_pool_connections", &[("state", "idle")])
        + value(
            &after,
            "turnout_db_pool_connections",
            &[("state", "in_use")],
        );
    assert!(
        (1.0..=16.0).contains(&open),
        "{open} open connections in {after}"
    );
    // No person's data is in it.
    assert!(!after.contains("fay@example.org"));
}
