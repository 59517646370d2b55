//! Issue 15: union organizing through the real server. A workplace is mapped (employer,
//! worksite, nested units), workers are employed, assessed, sign cards and are connected; the
//! wall chart and its structure tests read it back; the scopes, the tenants and the audit log
//! keep it to those allowed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use turnout_api::QueryLimits;
use turnout_api::graphql::{RequestAuth, build_schemas, request_loaders};
use turnout_domain::auth;
use turnout_domain::db::Db;
use turnout_entity::{audit_log, domain_events};

use crate::harness::{TestApp, data, error_code};
use crate::people_crud::create;

/// The map of one workplace: its worksite and units by name.
pub(crate) struct Workplace {
    pub(crate) worksite: String,
    pub(crate) units: std::collections::HashMap<String, String>,
}

pub(crate) async fn workplace(app: &TestApp, units: &[(&str, Option<&str>)]) -> Workplace {
    let body = app
        .gql(
            "mutation { createEmployer(name: \"Acme Logistics\") { id } }",
            json!({}),
        )
        .await;
    let employer = data(&body)["createEmployer"]["id"].clone();
    let body = app
        .gql(
            "mutation($i: CreateWorksiteInput!) { createWorksite(input: $i) { id } }",
            json!({ "i": { "employerId": employer, "name": "Warehouse 12", "address": "12 Dock Rd" } }),
        )
        .await;
    let worksite = data(&body)["createWorksite"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = std::collections::HashMap::new();
    for (name, parent) in units {
        let parent = parent.map(|p| ids.get(p).cloned().expect("parent first"));
        let body = app
            .gql(
                "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id parentUnitId } }",
                json!({ "i": { "worksiteId": worksite, "name": name, "kind": "DEPARTMENT", "parentUnitId": parent } }),
            )
            .await;
        let unit = &data(&body)["createUnit"];
        assert_eq!(unit["parentUnitId"], json!(parent));
        ids.insert((*name).to_owned(), unit["id"].as_str().unwrap().to_owned());
    }
    Workplace {
        worksite,
        units: ids,
    }
}

/// A person employed in `unit` (or at the worksite with no unit).
pub(crate) async fn worker(
    app: &TestApp,
    at: &Workplace,
    name: &str,
    unit: Option<&str>,
) -> String {
    let person = create(
        app,
        json!({ "firstName": name, "lastName": "Worker", "email": format!("{}@example.org", name.to_lowercase()) }),
    )
    .await;
    let body = app
        .gql(
            "mutation($i: AddEmploymentInput!) { addEmployment(input: $i) { id current } }",
            json!({ "i": { "personId": person, "worksiteId": at.worksite,
                "unitId": unit.map(|u| at.units[u].clone()), "jobTitle": "Picker", "shift": "nights",
                "startedOn": "2024-03-01" } }),
        )
        .await;
    assert_eq!(data(&body)["addEmployment"]["current"], json!(true));
    person
}

pub(crate) async fn campaign(app: &TestApp, at: &Workplace, goal: i32) -> String {
    let body = app
        .gql(
            "mutation($i: OrganizingCampaignInput!) { createOrganizingCampaign(input: $i) { id goalPercent scale { level label color } worksiteIds } }",
            json!({ "i": { "name": "Warehouse 12 card drive", "goalPercent": goal, "worksiteIds": [at.worksite] } }),
        )
        .await;
    let c = &data(&body)["createOrganizingCampaign"];
    assert_eq!(c["scale"][0]["label"], json!("Leader"));
    assert_eq!(c["scale"].as_array().unwrap().len(), 5);
    c["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn assess(app: &TestApp, campaign: &str, person: &str, level: i32) -> Value {
    app.gql(
        "mutation($i: AssessWorkerInput!) { assessWorker(input: $i) { level note assessedAt } }",
        json!({ "i": { "campaignId": campaign, "personId": person, "level": level, "note": "talked at break" } }),
    )
    .await
}

const CHART: &str = r#"query($c: ID!) { organizingCampaign(id: $c) { wallChart {
    columns { worksiteName unit { name } workers { person { id firstName } assessment assessmentLabel leader
      cardSignedOn lastContactAt jobTitle shift } counts { workers signed leaders } }
    structure { overall { workers unassessed signed percentSigned percentAssessedOneOrTwo leaders leadersPerWorker
      levels { level count } } columnsWithoutLeader { unit { name } } goalPercent goalReached }
    weekly(weeks: 3) { weekStarting counts { workers signed levels { level count } } } } } }"#;

async fn events(app: &TestApp) -> Vec<(String, Value)> {
    domain_events::Entity::find()
        .filter(domain_events::Column::OrganizationId.eq(app.org_id))
        .order_by_asc(domain_events::Column::Id)
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.payload))
        .collect()
}

#[tokio::test]
async fn a_union_maps_a_workplace_assesses_it_and_reads_the_wall_chart() {
    let app = TestApp::spawn().await;
    let at = workplace(
        &app,
        &[
            ("Inbound", None),
            ("Inbound nights", Some("Inbound")),
            ("Outbound", None),
        ],
    )
    .await;
    let ana = worker(&app, &at, "Ana", Some("Inbound")).await;
    let ben = worker(&app, &at, "Ben", Some("Inbound nights")).await;
    let cy = worker(&app, &at, "Cy", Some("Outbound")).await;
    let dee = worker(&app, &at, "Dee", Some("Outbound")).await;
    worker(&app, &at, "Eve", None).await;
    let c = campaign(&app, &at, 40).await;

    // Ben is assessed twice: the chart shows the latest, the history keeps both.
    data(&assess(&app, &c, &ben, 3).await);
    data(&assess(&app, &c, &ben, 2).await);
    data(&assess(&app, &c, &ana, 1).await);
    data(&assess(&app, &c, &cy, 4).await);
    // Ana leads Inbound (and so Inbound nights has no leader of its own); Ana and Ben signed.
    let body = app
        .gql(
            "mutation($c: ID!, $p: ID!) { setCampaignLeader(campaignId: $c, personId: $p, leader: true) { leader level } }",
            json!({ "c": c, "p": ana }),
        )
        .await;
    assert_eq!(
        data(&body)["setCampaignLeader"],
        json!({ "leader": true, "level": 1 })
    );
    for p in [&ana, &ben] {
        let body = app
            .gql(
                "mutation($c: ID!, $p: ID!) { recordCardSigned(campaignId: $c, personId: $p, signedOn: \"2026-11-20\") { cardSignedOn } }",
                json!({ "c": c, "p": p }),
            )
            .await;
        assert_eq!(
            data(&body)["recordCardSigned"]["cardSignedOn"],
            json!("2026-11-20")
        );
    }
    // A one-on-one with Dee, held with Ana: a note, and an assessment after.
    let body = app
        .gql(
            "mutation($i: LogOneOnOneInput!) { logOneOnOne(input: $i) { summary issue assessmentAfter nextStep organizerPersonId noteId } }",
            json!({ "i": { "personId": dee, "organizerPersonId": ana, "campaignId": c,
                "summary": "Dee is angry about forced overtime.\nWants to see the petition.", "issue": "overtime",
                "assessmentAfter": 2, "nextStep": "Bring to the committee meeting" } }),
        )
        .await;
    let one = &data(&body)["logOneOnOne"];
    assert_eq!(one["assessmentAfter"], json!(2));
    assert_eq!(one["organizerPersonId"], json!(ana));

    let body = app.gql(CHART, json!({ "c": c })).await;
    let chart = &data(&body)["organizingCampaign"]["wallChart"];
    let columns = chart["columns"].as_array().unwrap();
    let names: Vec<Value> = columns.iter().map(|c| c["unit"]["name"].clone()).collect();
    assert_eq!(
        names,
        vec![
            Value::Null,
            json!("Inbound"),
            json!("Inbound nights"),
            json!("Outbound")
        ],
        "the worksite's no-unit column, then its units by name"
    );
    let first_names = |i: usize| -> Vec<Value> {
        columns[i]["workers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["person"]["firstName"].clone())
            .collect()
    };
    assert_eq!(first_names(0), vec![json!("Eve")]);
    assert_eq!(first_names(1), vec![json!("Ana")]);
    assert_eq!(first_names(2), vec![json!("Ben")]);
    assert_eq!(first_names(3), vec![json!("Cy"), json!("Dee")]);
    let ana_cell = &columns[1]["workers"][0];
    assert_eq!(ana_cell["assessment"], json!(1));
    assert_eq!(ana_cell["assessmentLabel"], json!("Leader"));
    assert_eq!(ana_cell["leader"], json!(true));
    assert_eq!(ana_cell["cardSignedOn"], json!("2026-11-20"));
    assert_eq!(ana_cell["jobTitle"], json!("Picker"));
    assert_eq!(columns[2]["workers"][0]["assessment"], json!(2));
    let dee_cell = &columns[3]["workers"][1];
    assert_eq!(
        dee_cell["assessment"],
        json!(2),
        "the one-on-one's assessment"
    );
    assert!(
        dee_cell["lastContactAt"].is_string(),
        "the one-on-one is Dee's last contact"
    );
    assert!(columns[3]["workers"][0]["lastContactAt"].is_null());

    let s = &chart["structure"];
    assert_eq!(s["overall"]["workers"], json!(5));
    assert_eq!(s["overall"]["unassessed"], json!(1), "Eve");
    assert_eq!(s["overall"]["signed"], json!(2));
    assert_eq!(s["overall"]["percentSigned"], json!(40.0));
    assert_eq!(
        s["overall"]["percentAssessedOneOrTwo"],
        json!(60.0),
        "Ana, Ben, Dee"
    );
    assert_eq!(s["overall"]["leaders"], json!(1));
    assert_eq!(s["overall"]["leadersPerWorker"], json!(0.2));
    assert_eq!(
        s["overall"]["levels"],
        json!([{"level":1,"count":1},{"level":2,"count":2},{"level":3,"count":0},{"level":4,"count":1},{"level":5,"count":0}])
    );
    let leaderless: Vec<Value> = s["columnsWithoutLeader"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["unit"]["name"].clone())
        .collect();
    assert_eq!(
        leaderless,
        vec![Value::Null, json!("Inbound nights"), json!("Outbound")]
    );
    assert_eq!(s["goalReached"], json!(true), "40 % signed, goal 40 %");
    assert_eq!(
        columns[3]["counts"],
        json!({"workers":2,"signed":0,"leaders":0})
    );

    // This week's counts are today's; weeks before the first assessment are all unassessed.
    let weeks = chart["weekly"].as_array().unwrap();
    assert_eq!(weeks.len(), 3);
    assert_eq!(weeks[2]["counts"]["signed"], json!(2));
    assert_eq!(weeks[2]["counts"]["levels"], s["overall"]["levels"]);
    assert_eq!(weeks[0]["counts"]["workers"], json!(5));
    assert_eq!(weeks[0]["counts"]["levels"][1]["count"], json!(0));

    // The history of Ben in the campaign, newest first.
    let body = app
        .gql(
            "query($p: ID!) { node(id: $p) { ... on Person { campaignStandings { level history { level note } } employments { current jobTitle worksiteId } } } }",
            json!({ "p": ben }),
        )
        .await;
    let person = &data(&body)["node"];
    let levels: Vec<Value> = person["campaignStandings"][0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["level"].clone())
        .collect();
    assert_eq!(levels, vec![json!(2), json!(3)]);
    assert_eq!(person["employments"][0]["worksiteId"], json!(at.worksite));

    // Every chart read is audited.
    let reads = audit_log::Entity::find()
        .filter(audit_log::Column::OrganizationId.eq(app.org_id))
        .filter(audit_log::Column::Action.eq("organizing_campaign.wall_chart_read"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(reads.len(), 1);

    // What happened is in the event stream, typed.
    let recorded = events(&app).await;
    let assessed: Vec<&Value> = recorded
        .iter()
        .filter(|(k, p)| k == "person.assessed" && !p["campaign_id"].is_null())
        .map(|(_, p)| p)
        .collect();
    assert_eq!(assessed.len(), 5, "four assessments and the one-on-one's");
    assert_eq!(assessed[0]["campaign_id"], json!(c));
    assert_eq!(assessed[0]["unit_has_leader"], json!(false));
    let after_leader = assessed.last().unwrap();
    assert_eq!(
        after_leader["unit_has_leader"],
        json!(false),
        "Dee's unit, Outbound, has no leader"
    );
    for kind in [
        "card.signed",
        "employment.changed",
        "campaign.leader_changed",
        "note.added",
    ] {
        assert!(recorded.iter().any(|(k, _)| k == kind), "{kind} missing");
    }
}

#[tokio::test]
async fn relationships_form_a_graph_and_filters_select_by_workplace_and_standing() {
    let app = TestApp::spawn().await;
    let at = workplace(&app, &[("Inbound", None), ("Outbound", None)]).await;
    let ana = worker(&app, &at, "Ana", Some("Inbound")).await;
    let ben = worker(&app, &at, "Ben", Some("Inbound")).await;
    let cy = worker(&app, &at, "Cy", Some("Outbound")).await;
    let outsider = create(
        &app,
        json!({ "firstName": "Olga", "email": "olga@example.org" }),
    )
    .await;
    let c = campaign(&app, &at, 70).await;
    data(&assess(&app, &c, &ben, 2).await);
    data(&assess(&app, &c, &cy, 5).await);

    let add = "mutation($i: AddRelationshipInput!) { addRelationship(input: $i) { id kind fromPersonId toPersonId } }";
    let body = app
        .gql(
            add,
            json!({ "i": { "fromPersonId": ana, "toPersonId": ben, "kind": "SOCIAL_LEADER_OF" } }),
        )
        .await;
    let rel = data(&body)["addRelationship"]["id"].clone();
    data(
        &app.gql(
            add,
            json!({ "i": { "fromPersonId": cy, "toPersonId": ana, "kind": "COWORKER", "note": "carpool" } }),
        )
        .await,
    );
    // The same relationship twice is refused, on its kind; and nobody relates to themselves.
    let body = app
        .gql(
            add,
            json!({ "i": { "fromPersonId": ana, "toPersonId": ben, "kind": "SOCIAL_LEADER_OF" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        json!("input.kind")
    );
    let body = app
        .gql(
            add,
            json!({ "i": { "fromPersonId": ana, "toPersonId": ana, "kind": "FAMILY" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));

    // Who Ana is connected to, with their standing in the campaign.
    let body = app
        .gql(
            "query($p: ID!, $c: ID) { connections(personId: $p, campaignId: $c) { direction relationship { kind } person { firstName } standing { level } } }",
            json!({ "p": ana, "c": c }),
        )
        .await;
    assert_eq!(
        data(&body)["connections"],
        json!([
            { "direction": "OUTGOING", "relationship": { "kind": "SOCIAL_LEADER_OF" }, "person": { "firstName": "Ben" }, "standing": { "level": 2 } },
            { "direction": "INCOMING", "relationship": { "kind": "COWORKER" }, "person": { "firstName": "Cy" }, "standing": { "level": 5 } },
        ])
    );

    let names = |body: &Value| -> Vec<String> {
        let mut names: Vec<String> = data(body)["people"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["firstName"].as_str().unwrap_or("").to_owned())
            .collect();
        names.sort();
        names
    };
    let people = "query($f: PeopleFilter) { people(first: 50, filter: $f) { edges { node { firstName } } } }";
    let cases = [
        (
            json!({ "worksiteIds": [at.worksite] }),
            vec!["Ana", "Ben", "Cy"],
        ),
        (json!({ "unitIds": [at.units["Outbound"]] }), vec!["Cy"]),
        (
            json!({ "campaign": { "campaignId": c, "levels": [1, 2] } }),
            vec!["Ben"],
        ),
        (
            json!({ "worksiteIds": [at.worksite], "campaign": { "campaignId": c, "signed": false } }),
            vec!["Ana", "Ben", "Cy"],
        ),
        (json!({ "hasLeader": true }), vec!["Ben"]),
        (json!({ "connectionsOfId": ana }), vec!["Ben", "Cy"]),
    ];
    for (filter, expected) in cases {
        let body = app.gql(people, json!({ "f": filter })).await;
        assert_eq!(names(&body), expected, "{filter}");
    }
    let body = app
        .gql(people, json!({ "f": { "hasLeader": false } }))
        .await;
    assert_eq!(
        names(&body),
        vec!["Ana", "Cy", "Olga"],
        "nobody leads them (Olga {outsider} works nowhere)"
    );

    // Removing the relationship takes it out of the graph.
    let body = app
        .gql(
            "mutation($id: ID!) { removeRelationship(id: $id) { kind } }",
            json!({ "id": rel }),
        )
        .await;
    data(&body);
    let body = app
        .gql(
            "query($p: ID!) { node(id: $p) { ... on Person { relationships { kind } } } }",
            json!({ "p": ana }),
        )
        .await;
    assert_eq!(
        data(&body)["node"]["relationships"],
        json!([{ "kind": "COWORKER" }])
    );
}

#[tokio::test]
async fn refused_input_is_reported_at_once_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let at = workplace(&app, &[("Inbound", None)]).await;
    let ana = worker(&app, &at, "Ana", Some("Inbound")).await;
    let stranger = create(
        &app,
        json!({ "firstName": "Sol", "email": "sol@example.org" }),
    )
    .await;
    let bad = "5f0c8a8e-0000-7000-8000-000000000000";
    let body = app
        .gql(
            "mutation($i: OrganizingCampaignInput!) { createOrganizingCampaign(input: $i) { id } }",
            json!({ "i": { "name": " ", "goalPercent": 120, "worksiteIds": [bad],
                "scale": [{"label":"a","color":"#000000"},{"label":"b","color":"red"},{"label":"c","color":"#111111"},{"label":"d","color":"#222222"},{"label":"e","color":"#333333"}] } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec![
            "input.name",
            "input.goalPercent",
            "input.scale[1].color",
            "input.worksiteIds[0]"
        ]
    );
    let body = app.gql("{ organizingCampaigns { id } }", json!({})).await;
    assert_eq!(data(&body)["organizingCampaigns"], json!([]));

    let c = campaign(&app, &at, 70).await;
    // Level out of the scale; a person the campaign does not cover.
    let body = assess(&app, &c, &ana, 6).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = assess(&app, &c, &stranger, 2).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        json!("input.personId")
    );
    // A unit of another worksite; a duplicate unit name.
    let other = workplace_named(&app, "Warehouse 14").await;
    let body = app
        .gql(
            "mutation($i: AddEmploymentInput!) { addEmployment(input: $i) { id } }",
            json!({ "i": { "personId": stranger, "worksiteId": other, "unitId": at.units["Inbound"] } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = app
        .gql(
            "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }",
            json!({ "i": { "worksiteId": at.worksite, "name": "Inbound", "kind": "SHIFT" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        json!("input.name")
    );
    // A one-on-one that asks for an assessment without a campaign writes no note.
    let body = app
        .gql(
            "mutation($i: LogOneOnOneInput!) { logOneOnOne(input: $i) { id } }",
            json!({ "i": { "personId": ana, "summary": "", "assessmentAfter": 9 } }),
        )
        .await;
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["input.summary", "input.assessmentAfter", "input.campaignId"]
    );
    assert_eq!(app.count(turnout_entity::notes::Entity).await, 0);
    // Ending an employment twice.
    let body = app
        .gql(
            "query($p: ID!) { node(id: $p) { ... on Person { employments { id } } } }",
            json!({ "p": ana }),
        )
        .await;
    let job = data(&body)["node"]["employments"][0]["id"].clone();
    let end = "mutation($id: ID!) { endEmployment(id: $id, endedOn: \"2026-11-30\") { current endedOn } }";
    let body = app.gql(end, json!({ "id": job })).await;
    assert_eq!(
        data(&body)["endEmployment"],
        json!({ "current": false, "endedOn": "2026-11-30" })
    );
    let body = app.gql(end, json!({ "id": job })).await;
    assert_eq!(error_code(&body), Some("CONFLICT"));
    // Ana no longer works there: she leaves the chart but keeps her history.
    let body = app.gql(CHART, json!({ "c": c })).await;
    assert_eq!(
        data(&body)["organizingCampaign"]["wallChart"]["structure"]["overall"]["workers"],
        json!(0)
    );
}

async fn workplace_named(app: &TestApp, name: &str) -> String {
    let body = app
        .gql(
            "mutation { createEmployer(name: \"Other Co\") { id } }",
            json!({}),
        )
        .await;
    let employer = data(&body)["createEmployer"]["id"].clone();
    let body = app
        .gql(
            "mutation($i: CreateWorksiteInput!) { createWorksite(input: $i) { id } }",
            json!({ "i": { "employerId": employer, "name": name } }),
        )
        .await;
    data(&body)["createWorksite"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn organizing_data_needs_its_scopes_and_stays_in_its_organization() {
    let app = TestApp::spawn().await;
    let at = workplace(&app, &[("Inbound", None)]).await;
    let ana = worker(&app, &at, "Ana", Some("Inbound")).await;
    let c = campaign(&app, &at, 70).await;
    data(&assess(&app, &c, &ana, 1).await);

    // people:read alone sees no organizing data, in any way.
    let people_only = app.key_with(&["PEOPLE_READ", "WEBHOOKS_WRITE"]).await;
    for (query, vars) in [
        ("{ employers { id } }", json!({})),
        (
            "query($c: ID!) { organizingCampaign(id: $c) { wallChart { columns { unit { id } } } } }",
            json!({ "c": c }),
        ),
        (
            "query($p: ID!) { node(id: $p) { ... on Person { campaignStandings { level } } } }",
            json!({ "p": ana }),
        ),
        (
            "query($p: ID!) { node(id: $p) { ... on Person { employments { id } } } }",
            json!({ "p": ana }),
        ),
        (
            "query($c: ID!) { people(filter: { campaign: { campaignId: $c, levels: [1] } }) { edges { node { id } } } }",
            json!({ "c": c }),
        ),
        (
            "mutation { createWebhookEndpoint(url: \"https://hooks.example.org/x\", eventKinds: [\"card.signed\"]) { endpoint { id } } }",
            json!({}),
        ),
    ] {
        let (_, body) = app.gql_as(Some(&people_only), query, vars).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{query}: {body}");
    }
    // organizing:read reads, but does not write.
    let reader = app.key_with(&["PEOPLE_READ", "ORGANIZING_READ"]).await;
    let (_, body) = app
        .gql_as(
            Some(&reader),
            "query($c: ID!) { organizingCampaign(id: $c) { wallChart { structure { overall { workers } } } } }",
            json!({ "c": c }),
        )
        .await;
    assert_eq!(
        data(&body)["organizingCampaign"]["wallChart"]["structure"]["overall"]["workers"],
        json!(1)
    );
    let (_, body) = app
        .gql_as(
            Some(&reader),
            "mutation($i: AssessWorkerInput!) { assessWorker(input: $i) { level } }",
            json!({ "i": { "campaignId": c, "personId": ana, "level": 5 } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));

    // Another organization sees none of it and cannot reach it.
    let (_, other_key) = app.second_org("other-signup").await;
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            "{ employers { id } organizingCampaigns { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&body),
        &json!({ "employers": [], "organizingCampaigns": [] })
    );
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            "query($c: ID!) { organizingCampaign(id: $c) { wallChart { columns { unit { id } } } } }",
            json!({ "c": c }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            "mutation($i: AssessWorkerInput!) { assessWorker(input: $i) { level } }",
            json!({ "i": { "campaignId": c, "personId": ana, "level": 5 } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    // Its own worksite, our person: refused as a person it cannot see.
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            "mutation { createEmployer(name: \"Theirs\") { id } }",
            json!({}),
        )
        .await;
    let their_employer = data(&body)["createEmployer"]["id"].clone();
    let (_, body) = app
        .gql_as(
            Some(&other_key),
            "mutation($i: CreateWorksiteInput!) { createWorksite(input: $i) { id } }",
            json!({ "i": { "employerId": their_employer, "name": "Depot" } }),
        )
        .await;
    let their_site = data(&body)["createWorksite"]["id"].clone();
    for (query, vars) in [
        (
            "mutation($i: AddEmploymentInput!) { addEmployment(input: $i) { id } }",
            json!({ "i": { "personId": ana, "worksiteId": their_site } }),
        ),
        (
            "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }",
            json!({ "i": { "worksiteId": at.worksite, "name": "Sneaky", "kind": "FLOOR" } }),
        ),
        (
            "mutation($i: OrganizingCampaignInput!) { createOrganizingCampaign(input: $i) { id } }",
            json!({ "i": { "name": "Ours", "worksiteIds": [at.worksite] } }),
        ),
    ] {
        let (_, body) = app.gql_as(Some(&other_key), query, vars).await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{query}: {body}");
    }
    // Nothing the other organization did reached ours.
    let body = app
        .gql(
            "query($c: ID!) { organizingCampaign(id: $c) { wallChart { structure { overall { workers levels { count } } } } } }",
            json!({ "c": c }),
        )
        .await;
    let overall = &data(&body)["organizingCampaign"]["wallChart"]["structure"]["overall"];
    assert_eq!(overall["workers"], json!(1));
    assert_eq!(overall["levels"][0]["count"], json!(1));
}

/// A chart with more units and workers costs the same number of statements.
#[tokio::test]
async fn the_wall_chart_costs_constant_statements_as_units_and_workers_grow() {
    let app = TestApp::spawn().await;
    let small = workplace(&app, &[("U0", None), ("U1", None)]).await;
    for (i, unit) in ["U0", "U1"].iter().enumerate() {
        worker(&app, &small, &format!("S{i}"), Some(unit)).await;
    }
    let small_c = campaign(&app, &small, 70).await;
    // A second workplace, three times the units, four workers each.
    let body = app
        .gql(
            "mutation { createEmployer(name: \"Big Co\") { id } }",
            json!({}),
        )
        .await;
    let employer = data(&body)["createEmployer"]["id"].clone();
    let body = app
        .gql(
            "mutation($i: CreateWorksiteInput!) { createWorksite(input: $i) { id } }",
            json!({ "i": { "employerId": employer, "name": "Big site" } }),
        )
        .await;
    let mut big = Workplace {
        worksite: data(&body)["createWorksite"]["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        units: Default::default(),
    };
    for u in 0..6 {
        let body = app
            .gql(
                "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }",
                json!({ "i": { "worksiteId": big.worksite, "name": format!("B{u}"), "kind": "SHIFT" } }),
            )
            .await;
        big.units.insert(
            format!("B{u}"),
            data(&body)["createUnit"]["id"].as_str().unwrap().to_owned(),
        );
    }
    for u in 0..6 {
        for w in 0..4 {
            worker(&app, &big, &format!("W{u}x{w}"), Some(&format!("B{u}"))).await;
        }
    }
    let body = app
        .gql(
            "mutation($i: OrganizingCampaignInput!) { createOrganizingCampaign(input: $i) { id } }",
            json!({ "i": { "name": "Big drive", "worksiteIds": [big.worksite] } }),
        )
        .await;
    let big_c = data(&body)["createOrganizingCampaign"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let statements = Arc::new(AtomicUsize::new(0));
    let mut conn = app.db.conn().clone();
    let counter = statements.clone();
    conn.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let db = Db::from_connection(conn);
    let schema =
        build_schemas(db.clone(), QueryLimits::default(), Default::default()).authenticated;
    let principal = auth::authenticate(&db, &app.key).await.unwrap();
    let mut counts = Vec::new();
    for (c, workers) in [(&small_c, 2), (&big_c, 24)] {
        statements.store(0, Ordering::SeqCst);
        let request = async_graphql::Request::new(CHART)
            .variables(async_graphql::Variables::from_json(json!({ "c": c })))
            .data(request_loaders(&db, &principal).unwrap())
            .data(RequestAuth(Some(principal.clone())));
        let response = schema.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let value = response.data.into_json().unwrap();
        assert_eq!(
            value["organizingCampaign"]["wallChart"]["structure"]["overall"]["workers"],
            json!(workers)
        );
        counts.push(statements.load(Ordering::SeqCst));
    }
    assert_eq!(counts[0], counts[1], "{counts:?}");
    assert!(counts[0] <= 14, "{counts:?}");
}

#[tokio::test]
async fn an_archived_campaign_leaves_the_list_and_takes_no_more_assessments_until_unarchived() {
    let app = TestApp::spawn().await;
    let at = workplace(&app, &[("Picking", None)]).await;
    let ana = worker(&app, &at, "Ana", Some("Picking")).await;
    let drive = campaign(&app, &at, 60).await;
    data(&assess(&app, &drive, &ana, 2).await);
    let body = app
        .gql(
            "mutation($id: ID!) { archiveOrganizingCampaign(id: $id) { archivedAt } }",
            json!({ "id": drive }),
        )
        .await;
    assert!(data(&body)["archiveOrganizingCampaign"]["archivedAt"].is_string());
    let list = "query($all: Boolean!) { organizingCampaigns(includeArchived: $all) { id } }";
    let body = app.gql(list, json!({ "all": false })).await;
    assert_eq!(data(&body)["organizingCampaigns"], json!([]));
    let body = app.gql(list, json!({ "all": true })).await;
    assert_eq!(data(&body)["organizingCampaigns"], json!([{ "id": drive }]));

    // Archived: no assessment, card or leader, and nothing of it is written.
    let before = app.count(turnout_entity::assessments::Entity).await;
    assert_eq!(
        error_code(&assess(&app, &drive, &ana, 1).await),
        Some("CONFLICT")
    );
    let body = app
        .gql(
            "mutation($c: ID!, $p: ID!) { recordCardSigned(campaignId: $c, personId: $p, signedOn: \"2026-11-20\") { cardSignedOn } }",
            json!({ "c": drive, "p": ana }),
        )
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert_eq!(app.count(turnout_entity::assessments::Entity).await, before);
    // Its wall chart is still readable.
    let body = app
        .gql(
            "query($c: ID!) { organizingCampaign(id: $c) { wallChart { columns { workers { assessment } } } } }",
            json!({ "c": drive }),
        )
        .await;
    let levels: Vec<Value> = data(&body)["organizingCampaign"]["wallChart"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["workers"].as_array().unwrap().clone())
        .map(|w| w["assessment"].clone())
        .collect();
    assert_eq!(levels, [json!(2)]);

    // Unarchived, it takes assessments again; both changes are audited.
    let body = app
        .gql(
            "mutation($id: ID!) { unarchiveOrganizingCampaign(id: $id) { archivedAt } }",
            json!({ "id": drive }),
        )
        .await;
    assert_eq!(
        data(&body)["unarchiveOrganizingCampaign"]["archivedAt"],
        json!(null)
    );
    assert_eq!(
        data(&assess(&app, &drive, &ana, 1).await)["assessWorker"]["level"],
        json!(1)
    );
    let actions: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::Action.starts_with("organizing_campaign."))
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"organizing_campaign.archive".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"organizing_campaign.unarchive".to_owned()),
        "{actions:?}"
    );
}

const UPDATE_UNIT: &str = "mutation($id: ID!, $i: UpdateUnitInput!) { updateUnit(id: $id, input: $i) { id name kind parentUnitId } }";

/// A union reorganizes its map: a unit is renamed, given another kind, and moved with the
/// units within it, and the campaigns covering units follow the move. Loops, another
/// worksite's parent, too deep a nesting, a taken name and another organization's unit are
/// refused and change nothing; each change is audited.
#[tokio::test]
async fn units_are_renamed_and_moved_within_their_worksite() {
    let app = TestApp::spawn().await;
    let chain: Vec<(String, Option<String>)> = (1..=6)
        .map(|n| (format!("L{n}"), (n > 1).then(|| format!("L{}", n - 1))))
        .collect();
    let mut units: Vec<(&str, Option<&str>)> = vec![
        ("Inbound", None),
        ("Inbound nights", Some("Inbound")),
        ("Dock 3", Some("Inbound nights")),
        ("Outbound", None),
    ];
    units.extend(chain.iter().map(|(n, p)| (n.as_str(), p.as_deref())));
    let at = workplace(&app, &units).await;
    let dee = worker(&app, &at, "Dee", Some("Dock 3")).await;
    let unit = |name: &str| at.units[name].clone();
    let update = |id: String, input: Value| {
        let app = &app;
        async move { app.gql(UPDATE_UNIT, json!({ "id": id, "i": input })).await }
    };
    // A campaign covering a unit covers every unit within it.
    let mut covering = std::collections::HashMap::new();
    for name in ["Inbound", "Outbound"] {
        let body = app
            .gql(
                "mutation($i: OrganizingCampaignInput!) { createOrganizingCampaign(input: $i) { id } }",
                json!({ "i": { "name": format!("{name} drive"), "goalPercent": 50, "unitIds": [unit(name)] } }),
            )
            .await;
        let id = data(&body)["createOrganizingCampaign"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        covering.insert(name, id);
    }
    let people_in = |name: &str| {
        let campaign = covering[name].clone();
        let app = &app;
        async move {
            let body = app
                .gql(
                    "query($c: ID!) { organizingCampaign(id: $c) { wallChart { columns { workers { person { id } } } } } }",
                    json!({ "c": campaign }),
                )
                .await;
            data(&body)["organizingCampaign"]["wallChart"]["columns"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|c| c["workers"].as_array().unwrap().clone())
                .map(|w| w["person"]["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(people_in("Inbound").await, vec![dee.clone()]);

    // Renamed and re-kinded; a field left out stays.
    let body = update(
        unit("Inbound nights"),
        json!({ "name": "Nights", "kind": "SHIFT" }),
    )
    .await;
    assert_eq!(
        data(&body)["updateUnit"],
        json!({ "id": unit("Inbound nights"), "name": "Nights", "kind": "SHIFT", "parentUnitId": unit("Inbound") })
    );
    // Moved under Outbound, with Dock 3 and its worker inside it.
    let body = update(
        unit("Inbound nights"),
        json!({ "parentUnitId": unit("Outbound") }),
    )
    .await;
    assert_eq!(
        data(&body)["updateUnit"]["parentUnitId"],
        json!(unit("Outbound"))
    );
    assert_eq!(data(&body)["updateUnit"]["name"], "Nights");
    assert_eq!(people_in("Outbound").await, vec![dee.clone()]);
    assert!(people_in("Inbound").await.is_empty());
    // `null` moves it to the top of the worksite.
    let body = update(unit("Inbound nights"), json!({ "parentUnitId": null })).await;
    assert_eq!(data(&body)["updateUnit"]["parentUnitId"], Value::Null);
    assert!(people_in("Outbound").await.is_empty());

    // Refused, and nothing changes.
    let other_site = workplace_named(&app, "Depot").await;
    let body = app
        .gql(
            "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }",
            json!({ "i": { "worksiteId": other_site, "name": "Yard", "kind": "FLOOR" } }),
        )
        .await;
    let yard = data(&body)["createUnit"]["id"].as_str().unwrap().to_owned();
    let refusals = [
        (
            unit("Inbound nights"),
            json!({ "parentUnitId": unit("Dock 3") }),
            "VALIDATION",
        ),
        (
            unit("Inbound nights"),
            json!({ "parentUnitId": unit("Inbound nights") }),
            "VALIDATION",
        ),
        (
            unit("Inbound nights"),
            json!({ "parentUnitId": yard }),
            "VALIDATION",
        ),
        // L1 under L6 is a loop too: L6 is within L1.
        (
            unit("L1"),
            json!({ "parentUnitId": unit("L6") }),
            "VALIDATION",
        ),
        // L1's chain (six deep) under Dock 3 (two deep) reaches eight: allowed.
        (unit("L1"), json!({ "parentUnitId": unit("Dock 3") }), "OK"),
        // …and L6 is now eight deep: nothing more goes under it.
        (
            unit("Outbound"),
            json!({ "parentUnitId": unit("L6") }),
            "VALIDATION",
        ),
        (unit("Outbound"), json!({ "name": "Nights" }), "CONFLICT"),
        (unit("Outbound"), json!({ "name": "  " }), "VALIDATION"),
        (
            "not-a-uuid".to_owned(),
            json!({ "name": "X" }),
            "VALIDATION",
        ),
        (
            uuid::Uuid::now_v7().to_string(),
            json!({ "name": "X" }),
            "NOT_FOUND",
        ),
    ];
    for (id, input, expected) in refusals {
        let body = update(id.clone(), input.clone()).await;
        let code = error_code(&body).unwrap_or("OK");
        assert_eq!(code, expected, "{id} {input}: {body}");
    }
    // Another organization cannot see or change this one's units; a viewer cannot change them.
    let (_, other) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(
            Some(&other),
            UPDATE_UNIT,
            json!({ "id": unit("Outbound"), "i": { "name": "Mine" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let reader = app.key_with(&["ORGANIZING_READ"]).await;
    let (_, body) = app
        .gql_as(
            Some(&reader),
            UPDATE_UNIT,
            json!({ "id": unit("Outbound"), "i": { "name": "Mine" } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = update(unit("Outbound"), json!({})).await;
    assert_eq!(data(&body)["updateUnit"]["name"], "Outbound");

    // The depth check saw the move above: Dock 3 → L1 … L6 hang under Nights.
    let body = app
        .gql(
            "mutation($i: CreateUnitInput!) { createUnit(input: $i) { id } }",
            json!({ "i": { "worksiteId": at.worksite, "name": "Too deep", "kind": "OTHER", "parentUnitId": unit("L6") } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");

    let changes: Vec<serde_json::Value> = audit_log::Entity::find()
        .filter(audit_log::Column::OrganizationId.eq(app.org_id))
        .filter(audit_log::Column::Action.eq("unit.update"))
        .order_by_asc(audit_log::Column::Id)
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.changes["fields"].clone())
        .collect();
    assert_eq!(
        changes,
        vec![
            json!(["name", "kind"]),
            json!(["parent_unit_id"]),
            json!(["parent_unit_id"]),
            json!(["parent_unit_id"]),
        ],
        "one row per change that changed something"
    );
}

/// A worksite's name and address and an employer's name are corrected in place; the reads
/// come back with what is under them, and refusals change nothing.
#[tokio::test]
async fn worksites_and_employers_are_renamed_in_place() {
    let app = TestApp::spawn().await;
    let at = workplace(&app, &[("Inbound", None)]).await;
    let other_site = workplace_named(&app, "Depot").await;
    let update = "mutation($id: ID!, $i: UpdateWorksiteInput!) { updateWorksite(id: $id, input: $i) { id name address units { name } } }";

    let body = app
        .gql(
            update,
            json!({ "id": at.worksite, "i": { "name": "Warehouse 12 North" } }),
        )
        .await;
    assert_eq!(
        data(&body)["updateWorksite"],
        json!({ "id": at.worksite, "name": "Warehouse 12 North", "address": "12 Dock Rd", "units": [{ "name": "Inbound" }] })
    );
    let body = app
        .gql(
            update,
            json!({ "id": at.worksite, "i": { "address": null } }),
        )
        .await;
    assert_eq!(data(&body)["updateWorksite"]["address"], Value::Null);
    assert_eq!(data(&body)["updateWorksite"]["name"], "Warehouse 12 North");

    let employers = "{ employers { id name worksites { name address } } }";
    let body = app.gql(employers, json!({})).await;
    let acme = data(&body)["employers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Acme Logistics")
        .unwrap()["id"]
        .clone();
    let rename = "mutation($id: ID!, $n: String!) { renameEmployer(id: $id, name: $n) { name worksites { name units { name } } } }";
    let body = app
        .gql(rename, json!({ "id": acme, "n": "Acme Freight" }))
        .await;
    assert_eq!(
        data(&body)["renameEmployer"],
        json!({ "name": "Acme Freight", "worksites": [{ "name": "Warehouse 12 North", "units": [{ "name": "Inbound" }] }] })
    );

    // Refused, and nothing changes.
    let refusals = [
        (
            update,
            json!({ "id": at.worksite, "i": { "name": "" } }),
            "VALIDATION",
        ),
        (
            update,
            json!({ "id": at.worksite, "i": { "address": "x".repeat(501) } }),
            "VALIDATION",
        ),
        (
            update,
            json!({ "id": uuid::Uuid::now_v7(), "i": { "name": "X" } }),
            "NOT_FOUND",
        ),
        (rename, json!({ "id": acme, "n": "Other Co" }), "CONFLICT"),
        (rename, json!({ "id": acme, "n": " " }), "VALIDATION"),
        (rename, json!({ "id": "nope", "n": "X" }), "VALIDATION"),
    ];
    for (query, vars, expected) in refusals {
        let body = app.gql(query, vars.clone()).await;
        assert_eq!(error_code(&body), Some(expected), "{vars}: {body}");
    }
    // A worksite of another employer may share the name.
    let body = app
        .gql(
            update,
            json!({ "id": other_site, "i": { "name": "Warehouse 12 North" } }),
        )
        .await;
    assert!(
        error_code(&body).is_none(),
        "another employer's worksite may share the name: {body}"
    );
    let body = app.gql(employers, json!({})).await;
    let names: Vec<&str> = data(&body)["employers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Acme Freight", "Other Co"]);

    // Another organization finds neither; a reader changes neither.
    let (_, other) = app.second_org("other-form").await;
    let reader = app.key_with(&["ORGANIZING_READ"]).await;
    for (key, expected) in [(&other, "NOT_FOUND"), (&reader, "FORBIDDEN")] {
        let (_, body) = app
            .gql_as(
                Some(key),
                update,
                json!({ "id": at.worksite, "i": { "name": "Mine" } }),
            )
            .await;
        assert_eq!(error_code(&body), Some(expected), "{body}");
        let (_, body) = app
            .gql_as(Some(key), rename, json!({ "id": acme, "n": "Mine" }))
            .await;
        assert_eq!(error_code(&body), Some(expected), "{body}");
    }

    let actions: Vec<(String, Value)> = audit_log::Entity::find()
        .filter(audit_log::Column::OrganizationId.eq(app.org_id))
        .filter(audit_log::Column::Action.is_in(["worksite.update", "employer.update"]))
        .order_by_asc(audit_log::Column::Id)
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.action, row.changes["fields"].clone()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("worksite.update".to_owned(), json!(["name"])),
            ("worksite.update".to_owned(), json!(["address"])),
            ("employer.update".to_owned(), json!(["name"])),
            ("worksite.update".to_owned(), json!(["name"])),
        ]
    );
}

/// Many organizers assess one worker at once, her first assessments in the campaign: every
/// one is recorded, she has one standing, and it is the latest assessment, whatever order the
/// transactions commit in.
#[tokio::test]
async fn concurrent_first_assessments_keep_every_record_and_the_latest_standing() {
    let app = TestApp::spawn().await;
    let at = workplace(&app, &[("Inbound", None)]).await;
    let eve = worker(&app, &at, "Eve", Some("Inbound")).await;
    let c = campaign(&app, &at, 50).await;
    let answers = futures::future::join_all((0..12).map(|n| {
        let (app, c, eve) = (&app, c.clone(), eve.clone());
        async move { assess(app, &c, &eve, n % 5 + 1).await }
    }))
    .await;
    for body in &answers {
        assert!(error_code(body).is_none(), "{body}");
    }
    let body = app
        .gql(
            "query($p: ID!) { person(id: $p) { campaignStandings { level history { level assessedAt } } } }",
            json!({ "p": eve }),
        )
        .await;
    let standings = data(&body)["person"]["campaignStandings"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(standings.len(), 1, "{body}");
    let history = standings[0]["history"].as_array().unwrap();
    assert_eq!(history.len(), 12, "every assessment is kept: {body}");
    let latest = history
        .iter()
        .max_by_key(|h| {
            chrono::DateTime::parse_from_rfc3339(h["assessedAt"].as_str().unwrap()).unwrap()
        })
        .unwrap();
    assert_eq!(standings[0]["level"], latest["level"], "{body}");
}

/// A worksite sold to (or entered under) another employer moves there with its units, its
/// workers and the campaign that covers it; a name taken there, or an employer of another
/// organization, is refused and nothing moves.
#[tokio::test]
async fn a_worksite_moves_to_another_employer_with_what_is_under_it() {
    let app = TestApp::spawn().await;
    let at = workplace(&app, &[("Inbound", None)]).await;
    let ana = worker(&app, &at, "Ana", Some("Inbound")).await;
    let c = campaign(&app, &at, 70).await;
    let depot = workplace_named(&app, "Depot").await;
    let employers = "{ employers { id name worksites { name units { name } } } }";
    let body = app.gql(employers, json!({})).await;
    let id_of = |name: &str| {
        data(&body)["employers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()["id"]
            .clone()
    };
    let (acme, other) = (id_of("Acme Logistics"), id_of("Other Co"));
    let update = "mutation($id: ID!, $i: UpdateWorksiteInput!) { updateWorksite(id: $id, input: $i) { id name units { name } } }";

    let body = app
        .gql(
            update,
            json!({ "id": at.worksite, "i": { "employerId": other } }),
        )
        .await;
    assert_eq!(
        data(&body)["updateWorksite"]["units"],
        json!([{ "name": "Inbound" }])
    );
    let body = app.gql(employers, json!({})).await;
    let sites_of = |body: &Value, name: &str| -> Vec<String> {
        data(body)["employers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()["worksites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(sites_of(&body, "Acme Logistics").is_empty(), "{body}");
    assert_eq!(sites_of(&body, "Other Co").len(), 2, "{body}");
    // The campaign still charts Ana in her unit.
    let body = app.gql(CHART, json!({ "c": c })).await;
    assert!(body.to_string().contains(&ana), "{body}");

    // A worksite named like one at the new employer is refused, and stays where it was.
    let body = app
        .gql(
            "mutation($i: CreateWorksiteInput!) { createWorksite(input: $i) { id } }",
            json!({ "i": { "employerId": acme, "name": "Depot" } }),
        )
        .await;
    data(&body);
    let body = app
        .gql(update, json!({ "id": depot, "i": { "employerId": acme } }))
        .await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    let (_, other_org) = app.second_org("other-form").await;
    let (_, body) = app
        .gql_as(
            Some(&other_org),
            "mutation { createEmployer(name: \"Theirs\") { id } }",
            json!({}),
        )
        .await;
    let theirs = data(&body)["createEmployer"]["id"].clone();
    let body = app
        .gql(
            update,
            json!({ "id": depot, "i": { "employerId": theirs } }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.employerId");
    let body = app.gql(employers, json!({})).await;
    assert_eq!(sites_of(&body, "Other Co").len(), 2, "{body}");

    let moved = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("worksite.update"))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].changes["fields"], json!(["employer_id"]));
}
