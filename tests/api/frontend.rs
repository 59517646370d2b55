//! A frontend developer's view of the API: introspection at the default limits, GraphiQL and
//! the SDL from the binary, an `extensions.code` on every error, a nullable `node`, and CORS
//! for the listed origins (checked over HTTP here and from a real browser in `browser_cors`).

use serde_json::{Value, json};
use turnout_api::{ApiConfig, CorsOrigins, QueryLimits};

use crate::harness::{TestApp, data, error_code, unlimited};

/// The exact texts graphql-js 16 `getIntrospectionQuery()` builds: with its defaults (what
/// graphql-codegen and most IDE plugins send) and with every option on (GraphiQL's superset).
const INTROSPECTION_DEFAULT: &str = include_str!("fixtures/introspection-default.graphql");
const INTROSPECTION_ALL_OPTIONS: &str = include_str!("fixtures/introspection-graphiql.graphql");

#[tokio::test]
async fn the_standard_introspection_query_works_at_the_default_limits_with_a_key() {
    let app = TestApp::spawn().await;
    for query in [INTROSPECTION_DEFAULT, INTROSPECTION_ALL_OPTIONS] {
        let (status, body) = app.gql_as(Some(&app.key), query, json!({})).await;
        assert_eq!(status, 200);
        assert!(body.get("errors").is_none(), "{body}");
        let types = body["data"]["__schema"]["types"].as_array().unwrap();
        assert!(types.iter().any(|t| t["name"] == "Person"), "{body}");
        assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");

        // Anonymous callers still get no introspection.
        let (_, body) = app.gql_as(None, query, json!({})).await;
        assert!(body["data"].is_null(), "{body}");
        assert!(error_code(&body).is_some(), "{body}");
    }
    let (_, body) = app
        .gql_as(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    assert_eq!(
        error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );
}

/// `shift → rsvps → shift → …`, 14 fields deep: past the default depth limit of 12.
fn deep_data() -> String {
    let mut query = "id".to_owned();
    for level in (1..13).rev() {
        let field = if level % 2 == 0 { "shift" } else { "rsvps" };
        query = format!("{field} {{ {query} }}");
    }
    format!("{{ shift(id: \"x\") {{ {query} }} }}")
}

#[tokio::test]
async fn the_deeper_introspection_limit_does_not_extend_to_data() {
    // A complexity limit out of the way, so the depth limit is what refuses the lists below.
    let app = TestApp::spawn_with(ApiConfig {
        query_limits: QueryLimits {
            max_complexity: usize::MAX / 2,
            ..QueryLimits::default()
        },
        ..unlimited()
    })
    .await;
    let (_, body) = app.gql_as(Some(&app.key), &deep_data(), json!({})).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_DEEP"), "{body}");
    // A data field beside `__schema` makes it a data query, held to the default depth.
    let mixed = deep_data().replacen('{', "{ __schema { queryType { name } } ", 1);
    let (_, body) = app.gql_as(Some(&app.key), &mixed, json!({})).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_DEEP"), "{body}");
    // Anonymous: refused too (and the introspection schema is never used).
    let (_, body) = app.gql_as(None, &deep_data(), json!({})).await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_DEEP"), "{body}");
}

#[tokio::test]
async fn every_error_carries_a_code() {
    let app = TestApp::spawn_with(ApiConfig {
        query_limits: QueryLimits {
            max_complexity: 20,
            ..QueryLimits::default()
        },
        ..unlimited()
    })
    .await;
    let cases: [(&str, Value, &str); 6] = [
        (
            "{ people(first: 1) { edges { node { nope } } } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ people(first: ", json!({}), "GRAPHQL_PARSE_FAILED"),
        (
            "{ people(first: \"ten\") { edges { node { id } } } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "query ($n: Int!) { people(first: $n) { edges { node { id } } } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "query ($n: Int!) { people(first: $n) { edges { node { id } } } }",
            json!({ "n": "many" }),
            "BAD_USER_INPUT",
        ),
        (
            "{ people(first: 50) { edges { node { id firstName } } } }",
            json!({}),
            "QUERY_TOO_COMPLEX",
        ),
    ];
    for (query, variables, code) in cases {
        let (_, body) = app.gql_as(Some(&app.key), query, variables).await;
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{query}: {body}"));
        for err in errors {
            assert!(err["extensions"]["code"].is_string(), "{query}: {body}");
        }
        assert_eq!(error_code(&body), Some(code), "{query}: {body}");
    }
    // An operation name that names nothing.
    let body: Value = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.key)
        .json(&json!({ "query": "query A { __typename }", "operationName": "B" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        error_code(&body),
        Some("OPERATION_RESOLUTION_FAILURE"),
        "{body}"
    );
}

#[tokio::test]
async fn node_is_nullable_so_a_missing_id_does_not_null_the_whole_response() {
    let app = TestApp::spawn().await;
    let missing =
        turnout_api::ids::global_id(turnout_api::ids::NodeType::Person, uuid::Uuid::now_v7());
    let (_, body) = app
        .gql_as(
            Some(&app.key),
            "query ($id: ID!) { node(id: $id) { id } people(first: 1) { pageInfo { hasNextPage } } }",
            json!({ "id": missing.to_string() }),
        )
        .await;
    assert!(body["data"]["node"].is_null(), "{body}");
    assert_eq!(
        body["data"]["people"]["pageInfo"]["hasNextPage"], false,
        "{body}"
    );
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["node"]), "{body}");
}

#[tokio::test]
async fn graphiql_and_its_assets_come_from_the_binary_under_a_strict_csp() {
    let app = TestApp::spawn().await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.base)).send();
    let page = get("/graphql").await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    let html = page.text().await.unwrap();
    // Everything the page loads is on this server.
    for needle in [
        "unpkg", "jsdelivr", "cdn", "http://", "https://", "<script>",
    ] {
        assert!(!html.contains(needle), "{needle} in {html}");
    }
    assert!(html.contains("/graphql/assets/graphiql.js"), "{html}");

    for (file, ty, needle) in [
        ("graphiql.js", "text/javascript", "GraphiQL"),
        ("graphiql.css", "text/css", ".graphiql-container"),
    ] {
        let resp = get(&format!("/graphql/assets/{file}")).await.unwrap();
        assert_eq!(resp.status(), 200, "{file}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ty)
        );
        let body = resp.text().await.unwrap();
        assert!(body.len() > 10_000 && body.contains(needle), "{file}");
        assert!(
            !body.contains("unpkg.com") && !body.contains("fonts.googleapis"),
            "{file}"
        );
    }
    assert_eq!(get("/graphql/assets/other.js").await.unwrap().status(), 404);
}

#[tokio::test]
async fn the_sdl_is_served_to_authenticated_callers() {
    let app = TestApp::spawn().await;
    let url = format!("{}/graphql/schema.graphql", app.base);
    let resp = app.client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));

    let resp = app
        .client
        .get(&url)
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(resp.text().await.unwrap(), turnout_api::sdl());
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_allows_exactly_the_listed_origins_without_credentials() {
    let app = TestApp::spawn_with(ApiConfig {
        cors_origins: CorsOrigins::parse("http://localhost:5173, https://app.example.org").unwrap(),
        ..unlimited()
    })
    .await;
    let resp = preflight(&app, "http://localhost:5173").await;
    assert!(resp.status().is_success(), "{}", resp.status());
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert!(h.get("access-control-allow-credentials").is_none());

    // The actual request carries the header too.
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("origin", "https://app.example.org")
        .bearer_auth(&app.key)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );

    // Another origin (a near miss included) gets no CORS headers, so its browser blocks it.
    for other in [
        "https://evil.example",
        "http://localhost:5174",
        "https://app.example.org.evil",
    ] {
        let resp = preflight(&app, other).await;
        assert!(
            resp.headers().get("access-control-allow-origin").is_none(),
            "{other}"
        );
    }

    // Without a list, no response carries CORS headers.
    let closed = TestApp::spawn().await;
    let resp = preflight(&closed, "http://localhost:5173").await;
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn a_form_gets_every_refused_field_at_once_with_reason_codes() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            "mutation { createForm(input: { slug: \"door\", title: \"Door\", fields: [\
             {key: FIRST_NAME, required: true}, {key: EMAIL, required: true}, \
             {key: ZIP, required: true}, {key: PHONE, required: false}] }) { id } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let sign_up = "mutation ($input: SignUpInput!) { signUp(form: \"door\", input: $input) { submissionId } }";
    let body = app
        .public(
            sign_up,
            json!({ "input": { "email": "not-an-email", "phone": "12", "lastName": "x".repeat(101) } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let ext = &body["errors"][0]["extensions"];
    let fields: Vec<(String, String)> = ext["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|f| {
            assert!(f["message"].as_str().is_some_and(|m| !m.is_empty()), "{f}");
            (
                f["field"].as_str().unwrap().to_owned(),
                f["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("input.firstName", "REQUIRED"),
        ("input.lastName", "TOO_LONG"),
        ("input.email", "INVALID_EMAIL"),
        ("input.phone", "INVALID_PHONE"),
        ("input.zip", "REQUIRED"),
    ];
    assert_eq!(
        fields,
        expected.map(|(f, c)| (f.to_owned(), c.to_owned())),
        "{body}"
    );
    // `field` stays the first one, for clients that read only it.
    assert_eq!(ext["field"], "input.firstName");
    assert_eq!(app.count(turnout_entity::people::Entity).await, 0);

    // Staff writes report every refused field too.
    let (_, body) = app
        .gql_as(
            Some(&app.key),
            "mutation { createPerson(input: { email: \"nope\", assessment: 9, timeZone: \"Mars Base\" }) { id } }",
            json!({}),
        )
        .await;
    let codes: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["input.email", "input.timeZone", "input.assessment"],
        "{body}"
    );
}

#[tokio::test]
async fn a_conflict_over_a_unique_value_names_its_field() {
    let app = TestApp::spawn().await;
    let create = "mutation ($email: String!) { createPerson(input: { firstName: \"A\", email: $email }) { id } }";
    let body = app.gql(create, json!({ "email": "ada@example.org" })).await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = app.gql(create, json!({ "email": "ADA@example.org" })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let ext = &body["errors"][0]["extensions"];
    assert_eq!(ext["field"], "input.email", "{body}");
    assert_eq!(ext["fields"][0]["code"], "TAKEN", "{body}");
}

#[tokio::test]
async fn complexity_counts_unpaginated_lists_so_rsvp_chains_are_refused() {
    let app = TestApp::spawn().await;
    let id = |ty| turnout_api::ids::global_id(ty, uuid::Uuid::now_v7()).to_string();
    let event = id(turnout_api::ids::NodeType::Event);
    let person = id(turnout_api::ids::NodeType::Person);
    // The benchmarks' roster and person queries (BENCHMARKS.md Q2, Q3, with more lists) stay
    // within the limit: they reach the resolver, which finds no such object.
    for (query, id) in [
        (
            "query ($id: ID!) { event(id: $id) { id title location shifts { id startsAt endsAt \
             rsvps { id status person { id firstName lastName tags { name } } } } } }",
            &event,
        ),
        (
            "query ($id: ID!) { person(id: $id) { id firstName rsvps { id status shift { id \
             event { id title shifts { id } } } } tags { name } notes { body } tasks { title } } }",
            &person,
        ),
    ] {
        let (_, body) = app.gql_as(Some(&app.key), query, json!({ "id": id })).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{query}: {body}");
    }
    // RSVPs → shift → RSVPs → … multiplies, and is refused before it runs.
    let deep = "query ($id: ID!) { event(id: $id) { shifts { rsvps { shift { rsvps { \
                person { rsvps { shift { rsvps { id } } } } } } } } } }";
    let (_, body) = app
        .gql_as(Some(&app.key), deep, json!({ "id": event }))
        .await;
    assert_eq!(error_code(&body), Some("QUERY_TOO_COMPLEX"), "{body}");
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

async fn post(app: &TestApp, key: Option<&str>, body: Value) -> Value {
    let mut req = app.client.post(format!("{}/graphql", app.base)).json(&body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    req.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn automatic_persisted_queries_follow_apollos_protocol() {
    let app = TestApp::spawn().await;
    let query = "query Count { people(first: 1) { pageInfo { hasNextPage } } }";
    let apq = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(query) } });

    // The hash alone, first: not found, with the message Apollo's clients look for.
    let body = post(&app, Some(&app.key), json!({ "extensions": apq })).await;
    assert_eq!(
        error_code(&body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    // The query with its hash runs and is kept; then the hash alone runs it.
    let body = post(
        &app,
        Some(&app.key),
        json!({ "query": query, "extensions": apq }),
    )
    .await;
    assert_eq!(
        body["data"]["people"]["pageInfo"]["hasNextPage"], false,
        "{body}"
    );
    let body = post(&app, Some(&app.key), json!({ "extensions": apq })).await;
    assert_eq!(
        body["data"]["people"]["pageInfo"]["hasNextPage"], false,
        "{body}"
    );
    // A hash that is not the query's is refused.
    let body = post(
        &app,
        Some(&app.key),
        json!({ "query": "{ __typename }", "extensions": apq }),
    )
    .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");

    // Over GET too, which a CDN can cache when the read is public.
    let url = |q: &[(&str, &str)]| {
        format!(
            "{}/graphql?{}",
            app.base,
            serde_urlencoded::to_string(q).unwrap()
        )
    };
    let apq_text = apq.to_string();
    let resp = app
        .client
        .get(url(&[("extensions", &apq_text)]))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["data"]["people"]["pageInfo"]["hasNextPage"], false,
        "{body}"
    );

    let public = "query Form($s: String!) { form(slug: $s) { title } }";
    let resp = app
        .client
        .get(url(&[
            ("query", public),
            ("variables", r#"{"s":"volunteer"}"#),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "public, max-age=60");
    let body: Value = resp.json().await.unwrap();
    assert!(body["data"]["form"]["title"].is_string(), "{body}");

    // A mutation is never run by GET, persisted or not.
    let resp = app
        .client
        .get(url(&[(
            "query",
            "mutation { logout(refreshToken: \"x\") }",
        )]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
}

#[tokio::test]
async fn the_allow_list_mode_runs_registered_operations_only() {
    let registered = "query Mine { me { organizationId } }";
    let manifest = json!({
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{ "id": sha256_hex(registered), "name": "Mine", "type": "query", "body": registered }]
    });
    let app = TestApp::spawn_with(ApiConfig {
        persisted_queries: turnout_api::PersistedQueryConfig::from_manifest(
            &manifest.to_string(),
            true,
        )
        .unwrap(),
        ..unlimited()
    })
    .await;
    let by_hash = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(registered) } } });
    let body = post(&app, Some(&app.key), by_hash).await;
    assert_eq!(
        body["data"]["me"]["organizationId"],
        app.org_id.to_string(),
        "{body}"
    );
    let body = post(&app, Some(&app.key), json!({ "query": registered })).await;
    assert!(body["data"]["me"].is_object(), "{body}");
    for other in [
        "{ me { organizationId } }",
        "{ people(first: 1) { pageInfo { hasNextPage } } }",
    ] {
        let body = post(&app, Some(&app.key), json!({ "query": other })).await;
        assert_eq!(
            error_code(&body),
            Some("PERSISTED_QUERY_NOT_IN_LIST"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn node_serves_public_events_and_shifts_to_anonymous_callers() {
    let app = TestApp::spawn().await;
    let (public_event, public_shift, _) =
        crate::events::create_event(&app, crate::events::event_input("PUBLIC", Some(5))).await;
    let (private_event, _, _) =
        crate::events::create_event(&app, crate::events::event_input("PRIVATE", Some(5))).await;
    let node = "query ($id: ID!) { node(id: $id) { id ... on Event { title } ... on Shift { capacity } } }";

    let body = app.public(node, json!({ "id": public_event })).await;
    assert_eq!(body["data"]["node"]["title"], "Saturday canvass", "{body}");
    let body = app.public(node, json!({ "id": public_shift })).await;
    assert_eq!(body["data"]["node"]["capacity"], 5, "{body}");

    // A private event is not found, exactly like a missing one; people need a credential.
    let body = app.public(node, json!({ "id": private_event })).await;
    assert!(body["data"]["node"].is_null(), "{body}");
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let person =
        turnout_api::ids::global_id(turnout_api::ids::NodeType::Person, uuid::Uuid::now_v7());
    let body = app.public(node, json!({ "id": person.to_string() })).await;
    assert!(body["data"]["node"].is_null(), "{body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");

    // Staff see the private one.
    let body = app.gql(node, json!({ "id": private_event })).await;
    assert_eq!(body["data"]["node"]["title"], "Saturday canvass", "{body}");
}

/// A public event titled `title` with one shift starting `days` from now.
async fn public_event(app: &TestApp, title: &str, days: i64) -> String {
    let mut input = crate::events::event_input("PUBLIC", None);
    let start = chrono::Utc::now() + chrono::Duration::days(days);
    input["title"] = json!(title);
    input["shifts"][0]["startsAt"] = json!(start.to_rfc3339());
    input["shifts"][0]["endsAt"] = json!((start + chrono::Duration::hours(2)).to_rfc3339());
    crate::events::create_event(app, input).await.0
}

#[tokio::test]
async fn the_public_listing_shows_upcoming_public_events_soonest_first() {
    let app = TestApp::spawn().await;
    let slug = data(&app.gql("{ organization { slug } }", json!({})).await)["organization"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    // Created out of order: the listing sorts by the next shift, not by creation.
    let later = public_event(&app, "Phone bank", 3).await;
    let sooner = public_event(&app, "Canvass", 1).await;
    crate::events::create_event(&app, crate::events::event_input("PRIVATE", None)).await;
    let cancelled = public_event(&app, "Rally", 2).await;
    data(
        &app.gql(
            "mutation ($id: ID!) { cancelEvent(id: $id) { id } }",
            json!({ "id": cancelled }),
        )
        .await,
    );

    let list = "query ($o: String!, $after: String, $f: PublicEventsFilter) { \
                publicEvents(organization: $o, first: 1, after: $after, filter: $f) { \
                edges { node { id title shifts { startsAt } } } pageInfo { hasNextPage endCursor } \
                totalCount } }";
    let body = app.public(list, json!({ "o": slug })).await;
    let page = &data(&body)["publicEvents"];
    assert_eq!(page["edges"][0]["node"]["id"], sooner.as_str(), "{body}");
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    // Two public, active events: the private and the cancelled one are not counted.
    assert_eq!(page["totalCount"], 2, "{body}");
    let body = app
        .public(
            list,
            json!({ "o": slug, "after": page["pageInfo"]["endCursor"] }),
        )
        .await;
    let page = &data(&body)["publicEvents"];
    assert_eq!(page["edges"][0]["node"]["id"], later.as_str(), "{body}");
    assert_eq!(page["edges"][0]["node"]["title"], "Phone bank");
    assert_eq!(page["pageInfo"]["hasNextPage"], false);

    // A window that ends before the later event's shift leaves it out.
    let to = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let body = app
        .public(list, json!({ "o": slug, "f": { "to": to } }))
        .await;
    let page = &data(&body)["publicEvents"];
    assert_eq!(page["edges"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
    assert_eq!(page["totalCount"], 1, "{body}");
    let body = app
        .public(
            list,
            json!({ "o": slug, "f": { "chapterId": uuid::Uuid::now_v7().to_string() } }),
        )
        .await;
    assert_eq!(data(&body)["publicEvents"]["edges"], json!([]));

    // Bad input and unknown organizations say so.
    let from = (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339();
    let body = app
        .public(list, json!({ "o": slug, "f": { "from": from, "to": to } }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "filter.to",
        "{body}"
    );
    let body = app.public(list, json!({ "o": "no-such-org" })).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app
        .public(list, json!({ "o": slug, "after": "bogus" }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
}
