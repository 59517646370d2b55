//! Issue 15: a union's membership list through CSV. An import places each row's person at a
//! worksite and unit and records their standing in a campaign; an export gives both back; the
//! scopes guard both ways, and every export is audited.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use turnout_entity::{audit_log, employments, people};

use crate::harness::{TestApp, data, error_code};
use crate::organizing::{campaign, worker, workplace};

const IMPORT: &str = "mutation($i: ImportPeopleInput!) { importPeople(input: $i) {
    created updated errorCount errors { line column message } } }";

const PEOPLE: &str = "{ people(sort: CREATED_AT_ASC) { edges { node { email
    employments { worksiteId unitId jobTitle shift startedOn current }
    campaignStandings { campaignId level cardSignedOn petitionSignedOn history { level note } } } } } }";

fn mapping() -> Value {
    json!([
        { "column": "email", "field": "EMAIL" },
        { "column": "first", "field": "FIRST_NAME" },
        { "column": "site", "field": "WORKSITE" },
        { "column": "dept", "field": "UNIT" },
        { "column": "title", "field": "JOB_TITLE" },
        { "column": "shift", "field": "SHIFT" },
        { "column": "start", "field": "STARTED_ON" },
        { "column": "level", "field": "CAMPAIGN_LEVEL" },
        { "column": "card", "field": "CARD_SIGNED_ON" },
    ])
}

/// Each person's node by email.
async fn people_by_email(app: &TestApp) -> std::collections::HashMap<String, Value> {
    let body = app.gql(PEOPLE, json!({})).await;
    data(&body)["people"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = e["node"].clone();
            (n["email"].as_str().unwrap().to_owned(), n)
        })
        .collect()
}

async fn export(app: &TestApp, key: &str, query: &str) -> (u16, String) {
    let resp = app
        .client
        .get(format!("{}/export/people.csv?{query}", app.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_membership_list_places_workers_records_standing_and_exports_it_back() {
    let app = TestApp::spawn().await;
    let at = workplace(&app, &[("Picking", None), ("Packing", None)]).await;
    let ana = worker(&app, &at, "Ana", Some("Picking")).await;
    let drive = campaign(&app, &at, 60).await;
    let csv = "email,first,site,dept,title,shift,start,level,card\n\
        ana@example.org,Ana,warehouse 12,picking,Lead picker,,,1,2026-11-20\n\
        ben@example.org,Ben,Warehouse 12,Packing,Packer,days,2025-01-15,3,\n\
        cy@example.org,Cy,Warehouse 12,,,,,,\n\
        dee@example.org,Dee,Nowhere,,,,,2,\n\
        eve@example.org,Eve,Warehouse 12,Loading,,,,,\n\
        fay@example.org,Fay,,Packing,,,,,\n\
        gus@example.org,Gus,Warehouse 12,,,,3000-01-01,,\n";

    // Levels and cards need a campaign to record them in; nothing is written.
    let body = app
        .gql(IMPORT, json!({ "i": { "csv": csv, "mapping": mapping() } }))
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        json!("campaignId")
    );

    // A key that may write people but not organizing data is refused whole.
    let people_only = app.key_with(&["PEOPLE_READ", "PEOPLE_WRITE"]).await;
    let before = app.count(people::Entity).await;
    let (_, body) = app
        .gql_as(
            Some(&people_only),
            IMPORT,
            json!({ "i": { "csv": csv, "mapping": mapping(), "campaignId": drive } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(app.count(people::Entity).await, before);

    let body = app
        .gql(
            IMPORT,
            json!({ "i": { "csv": csv, "mapping": mapping(), "campaignId": drive } }),
        )
        .await;
    let r = &data(&body)["importPeople"];
    assert_eq!(
        (&r["created"], &r["updated"]),
        (&json!(2), &json!(1)),
        "{r}"
    );
    let errors: Vec<(u64, &str)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [(5, "site"), (6, "dept"), (7, "site"), (8, "start")],
        "{r}"
    );
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no worksite is named `Nowhere`"),
        "{r}"
    );

    let people = people_by_email(&app).await;
    // Ana kept her one job (matched by worksite and unit, in any case), with the new title and
    // her shift left as it was; her level and card are her standing, the level in her history.
    let ana_node = &people["ana@example.org"];
    let jobs = ana_node["employments"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{ana_node}");
    assert_eq!(jobs[0]["unitId"], json!(at.units["Picking"]));
    assert_eq!(
        (&jobs[0]["jobTitle"], &jobs[0]["shift"]),
        (&json!("Lead picker"), &json!("nights"))
    );
    let standing = &ana_node["campaignStandings"][0];
    assert_eq!(standing["campaignId"], json!(drive));
    assert_eq!(
        (&standing["level"], &standing["cardSignedOn"]),
        (&json!(1), &json!("2026-11-20"))
    );
    assert_eq!(
        standing["history"],
        json!([{ "level": 1, "note": "imported from CSV" }])
    );
    // Ben is new: a job in Packing and level 3, no card.
    let ben = &people["ben@example.org"];
    assert_eq!(
        ben["employments"],
        json!([{ "worksiteId": at.worksite, "unitId": at.units["Packing"], "jobTitle": "Packer",
            "shift": "days", "startedOn": "2025-01-15", "current": true }])
    );
    assert_eq!(ben["campaignStandings"][0]["level"], json!(3));
    assert_eq!(ben["campaignStandings"][0]["cardSignedOn"], json!(null));
    // Cy works at the worksite with no unit and has no standing yet.
    let cy = &people["cy@example.org"];
    assert_eq!(cy["employments"][0]["unitId"], json!(null));
    assert_eq!(cy["campaignStandings"], json!([]));
    assert!(!people.contains_key("dee@example.org"));
    let _ = ana;

    // A second list with only Ben's card: his level stays, the card is added, no second job.
    let body = app
        .gql(
            IMPORT,
            json!({ "i": { "csv": "email,site,card\nben@example.org,Warehouse 12,2026-11-25\n",
                "mapping": [{ "column": "email", "field": "EMAIL" }, { "column": "site", "field": "WORKSITE" },
                    { "column": "card", "field": "CARD_SIGNED_ON" }],
                "campaignId": drive } }),
        )
        .await;
    assert_eq!(data(&body)["importPeople"]["updated"], json!(1), "{body}");
    let ben = &people_by_email(&app).await["ben@example.org"];
    let standing = &ben["campaignStandings"][0];
    assert_eq!(
        (&standing["level"], &standing["cardSignedOn"]),
        (&json!(3), &json!("2026-11-25"))
    );
    assert_eq!(standing["history"].as_array().unwrap().len(), 1);
    // A row naming only the worksite keeps the job there: still one current job each.
    let current_jobs = employments::Entity::find()
        .filter(employments::Column::OrganizationId.eq(app.org_id))
        .filter(employments::Column::EndedOn.is_null())
        .count(app.db.conn())
        .await
        .unwrap();
    assert_eq!(current_jobs, 3);

    // The export gives it back: where they work and their standing in the campaign.
    let (status, text) = export(&app, &app.key, &format!("campaign={drive}")).await;
    assert_eq!(status, 200, "{text}");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header[header.len() - 9..],
        [
            "worksite",
            "unit",
            "job_title",
            "shift",
            "campaign_level",
            "campaign_level_label",
            "card_signed_on",
            "petition_signed_on",
            "leader"
        ]
    );
    let ana_line = lines.find(|l| l.contains("ana@example.org")).unwrap();
    assert!(
        ana_line.ends_with("Warehouse 12,Picking,Lead picker,nights,1,Leader,2026-11-20,,false"),
        "{ana_line}"
    );
    // Selecting by standing: level 3 is Ben alone.
    let (_, text) = export(&app, &app.key, &format!("campaign={drive}&campaignLevel=3")).await;
    let emails: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    assert_eq!(emails, ["ben@example.org"]);
    // Selecting by unit without the standing columns.
    let (_, text) = export(
        &app,
        &app.key,
        &format!("unitId={}&include=employment", at.units["Packing"]),
    )
    .await;
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with(",worksite,unit,job_title,shift")
    );
    assert_eq!(text.lines().count(), 2, "{text}");

    // Without `organizing:read` the organizing columns and filters are refused.
    let reader = app.key_with(&["PEOPLE_READ"]).await;
    let (status, text) = export(&app, &reader, "include=employment").await;
    assert_eq!(status, 403, "{text}");
    let (status, _) = export(&app, &reader, &format!("worksiteId={}", at.worksite)).await;
    assert_eq!(status, 403);
    let (status, text) = export(&app, &reader, "").await;
    assert_eq!(status, 200);
    assert!(!text.lines().next().unwrap().contains("worksite"));
    // A standing criterion needs its campaign; another organization's campaign is not found.
    let (status, _) = export(&app, &app.key, "signed=true").await;
    assert_eq!(status, 400);
    let (status, _) = export(
        &app,
        &app.key,
        &format!("campaign={}", uuid::Uuid::now_v7()),
    )
    .await;
    assert_eq!(status, 404);

    // Every export that ran is in the audit log, the organizing ones saying so.
    let exports = audit_log::Entity::find()
        .filter(audit_log::Column::OrganizationId.eq(app.org_id))
        .filter(audit_log::Column::Action.eq("people.export"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(exports.len(), 4);
    let organizing = exports
        .iter()
        .filter(|e| e.changes.to_string().contains("campaign_standings"))
        .count();
    assert_eq!(organizing, 3);
}
