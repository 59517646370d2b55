//! CSV import (mapping, dedupe policies, tags, dry run, row errors, malformed and non-UTF-8
//! files) and the streamed CSV export.

use std::time::Instant;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::harness::{TestApp, data, error_code};
use crate::people_crud::create;

const IMPORT: &str = "mutation($i: ImportPeopleInput!) { importPeople(input: $i) {
    jobId dryRun totalRows created updated skipped errorCount errors { line column message } } }";

fn mapping() -> Value {
    json!([
        { "column": "First", "field": "FIRST_NAME" },
        { "column": "Last", "field": "LAST_NAME" },
        { "column": "E-mail", "field": "EMAIL" },
        { "column": "Mobile", "field": "PHONE" },
        { "column": "Zip", "field": "ZIP" },
        { "column": "Texts ok", "field": "SMS_CONSENT" },
    ])
}

async fn import(app: &TestApp, csv: &str, extra: Value) -> Value {
    let mut input = json!({ "csv": csv, "mapping": mapping() });
    for (k, v) in extra.as_object().unwrap() {
        input[k] = v.clone();
    }
    app.gql(IMPORT, json!({ "i": input })).await
}

#[tokio::test]
async fn csv_import_maps_dedupes_tags_and_reports_row_errors() {
    let app = TestApp::spawn().await;
    create(
        &app,
        json!({ "email": "ada@example.org", "firstName": "Ada", "zip": "99999" }),
    )
    .await;
    let csv = "First,Last,E-mail,Mobile,Zip,Texts ok,Ignored\n\
               Ada,Lovelace,ADA@example.org,,10001,no,x\n\
               Grace,Hopper,grace@example.org,(202) 555-0143,10002,yes,x\n\
               Bad,Email,not-an-email,,10003,,x\n\
               No,Contact,,,10004,,x\n\
               Dup,Grace,grace@example.org,,,,x\n\
               \"Quoted, Name\",O'Neil,quoted@example.org,,,maybe,x\n";

    // A dry run counts without writing people.
    let body = import(&app, csv, json!({ "dryRun": true, "tags": ["imported"] })).await;
    let r = &data(&body)["importPeople"];
    assert_eq!(
        (
            &r["dryRun"],
            &r["totalRows"],
            &r["created"],
            &r["updated"],
            &r["errorCount"]
        ),
        (&json!(true), &json!(6), &json!(1), &json!(1), &json!(4))
    );
    assert_eq!(
        data(&app.gql("{ people { totalCount } }", json!({})).await)["people"]["totalCount"],
        json!(1)
    );

    let body = import(&app, csv, json!({ "tags": ["imported"] })).await;
    let r = data(&body)["importPeople"].clone();
    assert_eq!(r["created"], json!(1));
    assert_eq!(r["updated"], json!(1));
    let errors: Vec<(u64, Value)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].clone()))
        .collect();
    assert_eq!(
        errors,
        vec![
            (4, json!("E-mail")),
            (5, Value::Null),
            (6, Value::Null),
            (7, json!("Texts ok"))
        ]
    );
    let body = app
        .gql(
            "{ people(sort: LAST_NAME_ASC) { edges { node { firstName lastName email phone zip smsConsent { granted source } tags { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&body)["people"]["edges"],
        json!([
            { "node": { "firstName": "Grace", "lastName": "Hopper", "email": "grace@example.org", "phone": "+12025550143", "zip": "10002",
                "smsConsent": { "granted": true, "source": "import" }, "tags": [{ "name": "imported" }] } },
            { "node": { "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org", "phone": null, "zip": "10001",
                "smsConsent": { "granted": false, "source": null }, "tags": [{ "name": "imported" }] } },
        ])
    );

    // SKIP leaves matches alone; CREATE reports them.
    let again = "First,Last,E-mail,Mobile,Zip,Texts ok\nAda,L,ada@example.org,,55555,\nNew,Person,new@example.org,,,\n";
    let body = import(&app, again, json!({ "dedupe": "SKIP" })).await;
    let r = &data(&body)["importPeople"];
    assert_eq!((&r["created"], &r["skipped"]), (&json!(1), &json!(1)));
    let body = import(&app, again, json!({ "dedupe": "CREATE" })).await;
    let r = &data(&body)["importPeople"];
    assert_eq!((&r["created"], &r["errorCount"]), (&json!(0), &json!(2)));
    let jobs = app.count(turnout_entity::import_jobs::Entity).await;
    assert_eq!(jobs, 4);

    // The mapping must name real columns and an email or phone.
    let body = app
        .gql(
            IMPORT,
            json!({ "i": { "csv": again, "mapping": [{ "column": "Nope", "field": "EMAIL" }] } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = app
        .gql(IMPORT, json!({ "i": { "csv": again, "mapping": [{ "column": "First", "field": "FIRST_NAME" }] } }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    // Another organization's import never touches this one's people.
    let (_, other_key) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            IMPORT,
            json!({ "i": { "csv": again, "mapping": mapping(), "dedupe": "UPDATE" } }),
        )
        .await;
    assert_eq!(data(&body)["importPeople"]["created"], json!(2));
}

#[tokio::test]
async fn csv_import_refuses_malformed_and_non_utf8_files() {
    let app = TestApp::spawn().await;
    let malformed = "First,Last,E-mail,Mobile,Zip,Texts ok\nAda,Lovelace,ada@example.org\n";
    let body = import(&app, malformed, json!({})).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    assert_eq!(body["errors"][0]["extensions"]["field"], json!("csv"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{body}"
    );
    let body = import(&app, "", json!({})).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));

    // Latin-1 bytes ("José"), sent as base64: not UTF-8.
    let mut latin1 = b"First,Last,E-mail,Mobile,Zip,Texts ok\nJos".to_vec();
    latin1.extend_from_slice(b"\xE9,Diaz,jose@example.org,,,\n");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&latin1);
    let body = app
        .gql(
            IMPORT,
            json!({ "i": { "csvBase64": b64, "mapping": mapping() } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("UTF-8"),
        "{body}"
    );
    // The same file decoded lossily by a client carries U+FFFD.
    let lossy = String::from_utf8_lossy(&latin1).into_owned();
    let body = import(&app, &lossy, json!({})).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    // A UTF-8 file as base64, with a byte-order mark, is fine.
    let mut utf8 = b"\xEF\xBB\xBF".to_vec();
    utf8.extend_from_slice(
        "First,Last,E-mail,Mobile,Zip,Texts ok\nJosé,Díaz,jose@example.org,,,\n".as_bytes(),
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(&utf8);
    let body = app
        .gql(
            IMPORT,
            json!({ "i": { "csvBase64": b64, "mapping": mapping() } }),
        )
        .await;
    assert_eq!(data(&body)["importPeople"]["created"], json!(1));
    let body = app
        .gql("{ people { edges { node { firstName } } } }", json!({}))
        .await;
    assert_eq!(
        data(&body)["people"]["edges"][0]["node"]["firstName"],
        json!("José")
    );
    // Both or neither form of the file.
    let body = app
        .gql(IMPORT, json!({ "i": { "mapping": mapping() } }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
}

#[tokio::test]
async fn csv_import_of_thousands_of_rows_is_batched_and_export_streams_them_back() {
    let app = TestApp::spawn().await;
    let n = 3000;
    let mut csv = String::from("First,Last,E-mail,Mobile,Zip,Texts ok\n");
    for i in 0..n {
        csv.push_str(&format!("P{i},L{i},p{i}@example.org,,{},\n", 10000 + i % 7));
    }
    let started = Instant::now();
    let body = import(&app, &csv, json!({ "tags": ["bulk"] })).await;
    let elapsed = started.elapsed();
    assert_eq!(data(&body)["importPeople"]["created"], json!(n));
    assert!(elapsed.as_secs() < 20, "{n} rows took {elapsed:?}");
    let body = app
        .gql(
            "{ people(filter: { tagsAny: [\"bulk\"] }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["people"]["totalCount"], json!(n));

    // Export: all of them, then a filtered list, streamed as CSV.
    let url = format!("{}/export/people.csv", app.base);
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
            .starts_with("text/csv")
    );
    let text = resp.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[3], "email");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), n);
    assert_eq!(&rows[0][3], "p0@example.org");
    assert_eq!(&rows[0][17], "bulk");
    let resp = app
        .client
        .get(&url)
        .query(&[
            ("zip", "10003"),
            ("search", "p1"),
            ("sort", "LAST_NAME_DESC"),
        ])
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    let text = resp.text().await.unwrap();
    let expected = (0..n)
        .filter(|i| i % 7 == 3 && format!("p{i}").contains("p1"))
        .count();
    assert_eq!(text.lines().count(), expected + 1);

    // No credential, a bad parameter, another organization's segment.
    let resp = app.client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let resp = app
        .client
        .get(&url)
        .query(&[("bogus", "1")])
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let (_, other_key) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            "mutation { createSegment(name: \"x\", filter: {}) { id } }",
            json!({}),
        )
        .await;
    let theirs = data(&body)["createSegment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = app
        .client
        .get(&url)
        .query(&[("segment", theirs.as_str())])
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    // Their export holds none of ours.
    let resp = app
        .client
        .get(&url)
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap().lines().count(), 1);
}

/// The 100,000-row target, measured on demand:
/// `cargo nextest run --run-ignored only -E 'test(csv_import_of_100k)'`.
#[tokio::test]
#[ignore = "slow: measures a 100,000-row import"]
async fn csv_import_of_100k_rows_takes_well_under_a_minute() {
    let app = TestApp::spawn_with(turnout_api::ApiConfig {
        max_body_bytes: 32 * 1024 * 1024,
        request_timeout: std::time::Duration::from_secs(300),
        ..crate::harness::unlimited()
    })
    .await;
    let n = 100_000;
    let mut csv = String::from("First,Last,E-mail,Mobile,Zip,Texts ok\n");
    for i in 0..n {
        csv.push_str(&format!("P{i},L{i},p{i}@example.org,,{},\n", 10000 + i % 7));
    }
    let started = Instant::now();
    let body = import(&app, &csv, json!({ "tags": ["bulk"] })).await;
    let elapsed = started.elapsed();
    assert_eq!(data(&body)["importPeople"]["created"], json!(n));
    println!("imported {n} rows in {elapsed:?}");
    assert!(elapsed.as_secs() < 60, "{n} rows took {elapsed:?}");
}
