use serde_json::{Value, json};
use turnout_api::{ApiConfig, RateLimitConfig};
use turnout_entity::people;

use crate::harness::{TestApp, data, error_code, unlimited};

const SIGN_UP: &str = "mutation($form: String!, $input: SignUpInput!) { signUp(form: $form, input: $input) { submissionId } }";

async fn app(limits: RateLimitConfig) -> TestApp {
    TestApp::spawn_with(ApiConfig {
        rate_limits: limits,
        ..unlimited()
    })
    .await
}

/// Posts a sign-up; returns status, `Retry-After` and body.
async fn sign_up(app: &TestApp, form: &str, n: usize) -> (u16, Option<u64>, Value) {
    let input = json!({ "firstName": "P", "email": format!("p{n}@example.org") });
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": SIGN_UP, "variables": { "form": form, "input": input } }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (status, retry, resp.json().await.unwrap())
}

#[tokio::test]
async fn public_sign_ups_are_limited_per_client_ip() {
    let app = app(RateLimitConfig {
        signups_per_ip_per_minute: 3,
        ..unlimited().rate_limits
    })
    .await;
    for n in 0..3 {
        let (status, _, body) = sign_up(&app, "volunteer", n).await;
        assert_eq!(status, 200);
        data(&body);
    }
    let (status, retry, body) = sign_up(&app, "volunteer", 3).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(error_code(&body), Some("RATE_LIMITED"));
    let retry = retry.expect("Retry-After");
    assert!(
        (1..=20).contains(&retry),
        "refill of one of 3/min is ~20 s: {retry}"
    );
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], json!(retry));
    assert_eq!(
        app.count(people::Entity).await,
        3,
        "the refused sign-up wrote nothing"
    );
}

#[tokio::test]
async fn public_sign_ups_are_limited_per_form() {
    let app = app(RateLimitConfig {
        signups_per_form_per_minute: 2,
        ..unlimited().rate_limits
    })
    .await;
    app.second_org("other-form").await;
    assert_eq!(sign_up(&app, "volunteer", 0).await.0, 200);
    assert_eq!(sign_up(&app, "volunteer", 1).await.0, 200);
    assert_eq!(sign_up(&app, "volunteer", 2).await.0, 429);
    let (status, _, body) = sign_up(&app, "other-form", 3).await;
    assert_eq!(status, 200, "another form has its own budget: {body}");
}

#[tokio::test]
async fn each_credential_has_its_own_budget() {
    let app = app(RateLimitConfig {
        requests_per_credential_per_minute: 3,
        ..unlimited().rate_limits
    })
    .await;
    let second = app.key_with(&["PEOPLE_READ"]).await;
    let query = "{ people { edges { cursor } } }";
    for _ in 0..2 {
        let (status, body) = app.gql_as(Some(&app.key), query, json!({})).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = app.gql_as(Some(&app.key), query, json!({})).await;
    assert_eq!(status, 429);
    assert_eq!(error_code(&body), Some("RATE_LIMITED"));
    let (status, body) = app.gql_as(Some(&second), query, json!({})).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn credential_attempts_are_limited_per_client_ip() {
    let app = app(RateLimitConfig {
        logins_per_ip_per_minute: 2,
        ..unlimited().rate_limits
    })
    .await;
    let login = "mutation { login(email: \"owner@example.org\", password: \"wrong password 1\") { accessToken } }";
    for _ in 0..2 {
        let (status, body) = app.gql_as(None, login, json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    }
    let (status, body) = app.gql_as(None, login, json!({})).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(error_code(&body), Some("RATE_LIMITED"));
    // Refresh attempts spend the same budget.
    let (status, _) = app
        .gql_as(
            None,
            "mutation { refresh(refreshToken: \"guess\") { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 429);
}

/// Issue 17, item 9: 60 guesses at one account from 6 addresses (127.0.0.2–7, all loopback)
/// stay within each address's budget, and used to be checked every one. Failures now slow the
/// account down (backoff), whatever address they come from; once the wait is over the account
/// is tried again, so the real user is slowed, never locked out.
#[tokio::test]
async fn guesses_at_one_account_from_many_addresses_slow_down() {
    let app = app(RateLimitConfig {
        logins_per_ip_per_minute: 10,
        ..unlimited().rate_limits
    })
    .await;
    let login = json!({ "query": "mutation { login(email: \"Owner@example.org\", password: \"wrong password 1\") { accessToken } }" });
    let clients: Vec<reqwest::Client> = (2..8)
        .map(|last| {
            reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, last]))
                .build()
                .unwrap()
        })
        .collect();
    let (mut checked, mut slowed, mut retry_after) = (0, 0, 0);
    for round in 0..10 {
        for client in &clients {
            let resp = client
                .post(format!("{}/graphql", app.base))
                .json(&login)
                .send()
                .await
                .unwrap();
            let body: Value = resp.json().await.unwrap();
            match error_code(&body) {
                Some("UNAUTHENTICATED") => checked += 1,
                Some("RATE_LIMITED") => {
                    slowed += 1;
                    retry_after = body["errors"][0]["extensions"]["retryAfter"]
                        .as_u64()
                        .unwrap_or(1);
                }
                other => panic!("round {round}: {other:?} {body}"),
            }
        }
    }
    assert_eq!(checked + slowed, 60);
    assert!(checked <= 7, "{checked} of 60 guesses were checked");
    // After the wait, the account is tried again (the real user is not locked out).
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    let (_, body) = app
        .gql_as(None, login["query"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

/// Unknown API keys from one address slow down too, and a valid key clears the count.
#[tokio::test]
async fn unknown_api_keys_from_one_address_slow_down() {
    let app = app(RateLimitConfig {
        logins_per_ip_per_minute: 10,
        ..unlimited().rate_limits
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let (status, _) = app
            .gql_as(
                Some(&format!("tn_guess{i}_secret")),
                "{ __typename }",
                json!({}),
            )
            .await;
        statuses.push(status);
    }
    assert_eq!(&statuses[..5], [401; 5], "{statuses:?}");
    assert_eq!(statuses[5], 429, "{statuses:?}");
}
