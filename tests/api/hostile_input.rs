//! Hostile documents, sent anonymously through the real server: none of them may take the
//! process down or hold a core (issue 17, items 1 and 2).

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};

use crate::harness::{TestApp, data, error_code};

/// `[[[…1…]]]`, `depth` brackets deep.
fn brackets(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

/// A document whose fragments each spread the next one twice, `levels` deep: 2^levels fields
/// as executed, in under a kilobyte as written.
fn fragment_bomb(levels: usize) -> String {
    let mut query = String::from("query { ...F0 }\n");
    for i in 0..levels {
        query.push_str(&format!(
            "fragment F{i} on Query {{ ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    query.push_str(&format!("fragment F{levels} on Query {{ __typename }}\n"));
    query
}

async fn healthz_within(app: &TestApp, limit: Duration) {
    let started = Instant::now();
    let resp = app
        .client
        .get(format!("{}/healthz", app.base))
        .timeout(limit)
        .send()
        .await
        .expect("healthz answers in time");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        started.elapsed() < limit,
        "healthz took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn deeply_nested_brackets_are_refused_before_parsing() {
    let app = TestApp::spawn().await;
    let signup_input = format!(
        "mutation {{ signUp(form: \"volunteer\", input: {{ firstName: \"A\", email: \"a@example.org\", tags: {} }}) {{ submissionId }} }}",
        brackets(1_800)
    );
    let braces = format!("{}__typename{}", "{ a ".repeat(1_800), "}".repeat(1_800));
    for query in [
        format!("{{ __typename(x: {}) }}", brackets(1_800)),
        format!(
            "{{ __typename(x: {}) }}",
            "{a: ".repeat(1_800) + "1" + &"}".repeat(1_800)
        ),
        signup_input,
        braces,
    ] {
        let (status, body) = app.gql_as(None, &query, json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(error_code(&body), Some("GRAPHQL_PARSE_FAILED"), "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("more than 64 deep"), "{body}");
    }
    // The process is still serving, and a document within the limit still runs.
    healthz_within(&app, Duration::from_secs(1)).await;
    let body = app
        .public(&format!("{{ __typename(x: {}) }}", brackets(10)), json!({}))
        .await;
    // `__typename` takes no argument: validation, not the parser, refuses this one.
    assert_ne!(error_code(&body), Some("GRAPHQL_PARSE_FAILED"), "{body}");
    assert_eq!(
        data(&app.public("{ __typename }", json!({})).await)["__typename"],
        "Query"
    );
}

#[tokio::test]
async fn deeply_nested_variables_are_refused() {
    let app = TestApp::spawn().await;
    // serde_json itself stops at 128; 100 lists get through it and must be refused here.
    let mut value = json!(1);
    for _ in 0..100 {
        value = Value::Array(vec![value]);
    }
    let (status, body) = app
        .gql_as(
            None,
            "query($x: [String]) { __typename }",
            json!({ "x": value }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(&body), Some("GRAPHQL_PARSE_FAILED"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("variables")),
        "{body}"
    );
}

#[tokio::test]
async fn a_document_that_does_not_parse_says_so_with_a_code() {
    let app = TestApp::spawn().await;
    let (status, body) = app.gql_as(None, "{ people(first: ", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(error_code(&body), Some("GRAPHQL_PARSE_FAILED"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragment_bomb_is_refused_and_the_server_stays_responsive() {
    let app = TestApp::spawn().await;
    let bomb = fragment_bomb(22);
    assert!(
        bomb.len() < 1_100,
        "the attack is small: {} bytes",
        bomb.len()
    );
    // Four at once (the attack froze a 2-core server for 57 s); /healthz must keep answering.
    let attacks = join_all((0..4).map(|_| app.gql_as(None, &bomb, json!({}))));
    let (answers, ()) = tokio::join!(attacks, async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        healthz_within(&app, Duration::from_secs(1)).await;
    });
    for (status, body) in answers {
        assert_eq!(status, 200, "{body}");
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("fields once its fragments are expanded"),
            "{body}"
        );
    }
    // The same for an authenticated caller, and a small bomb (2^6 fields) still runs.
    let body = app.gql(&bomb, json!({})).await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let body = app.gql(&fragment_bomb(6), json!({})).await;
    assert_eq!(data(&body)["__typename"], "Query");
}

#[tokio::test]
async fn fragments_that_spread_themselves_are_refused() {
    let app = TestApp::spawn().await;
    let (_, body) = app
        .gql_as(
            None,
            "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
}

/// Issue 17, item 10: a NUL character cannot be stored on PostgreSQL; on both backends it is a
/// `VALIDATION` error before anything reaches the database, wherever the text comes from.
#[tokio::test]
async fn nul_characters_are_refused_at_the_edge_on_both_backends() {
    let app = TestApp::spawn().await;
    let sign_up = "mutation($form: String!, $input: SignUpInput!) {
        signUp(form: $form, input: $input) { submissionId } }";
    let cases = [
        (
            sign_up,
            json!({ "form": "volunteer\u{0}", "input": { "firstName": "A", "email": "a@example.org" } }),
        ),
        (
            sign_up,
            json!({ "form": "volunteer", "input": { "firstName": "A\u{0}", "email": "a@example.org" } }),
        ),
        (
            "query($slug: String!) { form(slug: $slug) { title } }",
            json!({ "slug": "\u{0}" }),
        ),
    ];
    for (query, variables) in cases {
        let (status, body) = app.gql_as(None, query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    }
    // In the document's own literals, escaped.
    let (_, body) = app
        .gql_as(None, r#"{ form(slug: "vol\u0000") { title } }"#, json!({}))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert_eq!(
        app.count(turnout_entity::people::Entity).await,
        0,
        "nothing was written"
    );
    // The calendar route answers 404, not 500.
    let resp = app
        .client
        .get(format!("{}/ics/%00.ics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
}

/// Issue 17, item 11: a directive the server does not know is an error, not ignored.
#[tokio::test]
async fn unknown_directives_are_refused() {
    let app = TestApp::spawn().await;
    let (_, body) = app
        .gql_as(None, "{ __typename @cached(ttl: 60) }", json!({}))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert!(body.to_string().contains("@cached"), "{body}");
    let body = app
        .public(
            r#"query($no: Boolean!) { form(slug: "volunteer") @skip(if: $no) { slug } }"#,
            json!({ "no": false }),
        )
        .await;
    assert_eq!(data(&body)["form"]["slug"], "volunteer");
}
