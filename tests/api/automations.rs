//! Automations end to end: plugins installed and automations created through GraphQL, events
//! committed by real sign-ups, runs made by the runner the workers call.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use turnout_domain::automations::{self as domain, RecordOutcome, RunReport};
use turnout_entity::{
    automation_runs, domain_events, messages, people, plugin_kv, taggings, tags, tasks,
};
use turnout_plugin_host::RunStatus;
use uuid::Uuid;

use crate::harness::{TestApp, data, error_code};
use crate::plugin_support::{
    create_automation, install, install_as, owner_of, record_event, runner, sign_up, spawn,
};

const ADA: &str = r#"{"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org"}"#;

fn ada() -> Value {
    serde_json::from_str(ADA).unwrap()
}

async fn tag_names(app: &TestApp, person: Uuid) -> Vec<String> {
    let ids: Vec<Uuid> = taggings::Entity::find()
        .filter(taggings::Column::PersonId.eq(person))
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.tag_id)
        .collect();
    let mut names: Vec<String> = tags::Entity::find()
        .filter(tags::Column::Id.is_in(ids))
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    names.sort();
    names
}

async fn counts(app: &TestApp) -> (u64, u64, u64, u64) {
    (
        app.count(taggings::Entity).await,
        app.count(tasks::Entity).await,
        app.count(messages::Entity).await,
        app.count(plugin_kv::Entity).await,
    )
}

/// The welcome-volunteer example with every capability it requests, point person = the owner.
async fn welcome_automation(app: &TestApp, grants: Option<Vec<&str>>) -> (String, Uuid) {
    let version = install(app, "welcome-volunteer").await;
    let owner = owner_of(app, app.org_id).await;
    let mut input = json!({
        "name": "Welcome new volunteers",
        "pluginVersionId": version,
        "triggerKinds": ["person.signed_up"],
        "config": { "tag": "welcomed", "point_people": [owner.to_string()], "follow_up_days": 2 },
    });
    if let Some(g) = grants {
        input["grants"] = json!(g);
    }
    (create_automation(app, input).await, owner)
}

#[tokio::test]
async fn a_sign_up_runs_welcome_volunteer_once_and_applies_its_effects() {
    let app = spawn().await;
    let (automation, owner) = welcome_automation(&app, None).await;
    let (event, person) = sign_up(&app, "volunteer", ada()).await;

    let runner = runner(&app);
    let summary = runner.run_for_event(event).await.unwrap();
    assert_eq!(summary.runs.len(), 1, "{summary:?}");
    assert_eq!(summary.runs[0].status, RunStatus::Succeeded, "{summary:?}");
    assert_eq!(summary.runs[0].automation_id.to_string(), automation);

    // Tag, point person, task, message, round-robin turn.
    assert!(
        tag_names(&app, person)
            .await
            .contains(&"welcomed".to_string())
    );
    let p = people::Entity::find_by_id(person)
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.point_person_user_id, Some(owner));
    let task = tasks::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("a task");
    assert_eq!(task.person_id, Some(person));
    assert_eq!(task.assignee_user_id, Some(owner));
    assert_eq!(task.title, "Welcome call: Ada Lovelace");
    assert!(task.due_at.is_some());
    let message = messages::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("a message");
    assert_eq!(message.status, "queued");
    assert_eq!(message.channel, "email");
    assert_eq!(message.to_address, "ada@example.org");
    assert!(message.body.contains("Ada"));
    assert!(
        message
            .idempotency_key
            .as_deref()
            .unwrap()
            .contains(&event.to_string())
    );
    let kv = plugin_kv::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("kv");
    assert_eq!(
        (kv.namespace.as_str(), kv.key.as_str()),
        ("welcome-volunteer", "round-robin-next")
    );

    // The run is recorded with its effects, fuel and duration.
    let run = automation_runs::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "succeeded");
    assert_eq!(run.event_id, Some(event));
    assert!(run.fuel_used > 0);
    assert!(run.duration_us > 0);
    assert_eq!(run.effects.as_array().unwrap().len(), 5, "{}", run.effects);
    assert!(run.error.is_none());

    // Events caused by the effects carry the cause and depth 1.
    let caused = domain_events::Entity::find()
        .filter(domain_events::Column::CausationId.eq(event))
        .all(app.db.conn())
        .await
        .unwrap();
    let mut kinds: Vec<&str> = caused.iter().map(|e| e.kind.as_str()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "message.queued",
            "person.point_person_assigned",
            "person.tag_added",
            "task.created"
        ]
    );
    assert!(caused.iter().all(|e| e.depth == 1));

    // Running the same event again applies nothing twice.
    let before = counts(&app).await;
    let events_before = app.count(domain_events::Entity).await;
    let again = runner.run_for_event(event).await.unwrap();
    assert!(again.runs.is_empty(), "{again:?}");
    assert_eq!(counts(&app).await, before);
    assert_eq!(app.count(domain_events::Entity).await, events_before);
    assert_eq!(app.count(automation_runs::Entity).await, 1);

    // The run is listed through GraphQL.
    let body = app
        .gql(
            "query($f: AutomationRunFilter) { automationRuns(first: 10, filter: $f) {
                edges { node { id automationId eventId status fuelUsed durationUs effects error attempts } }
                pageInfo { hasNextPage } totalCount
            } }",
            json!({ "f": { "automationId": automation, "status": "SUCCEEDED" } }),
        )
        .await;
    let edges = data(&body)["automationRuns"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), 1);
    assert_eq!(data(&body)["automationRuns"]["totalCount"], 1);
    assert_eq!(edges[0]["node"]["eventId"], json!(event.to_string()));
    assert_eq!(edges[0]["node"]["attempts"], json!(1));
    let failed = app
        .gql(
            "{ automationRuns(filter: {status: FAILED}) { edges { node { id } } totalCount } }",
            json!({}),
        )
        .await;
    assert!(
        data(&failed)["automationRuns"]["edges"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(data(&failed)["automationRuns"]["totalCount"], 0);
    // `first: 0` is an empty page that says more follow, as on every connection; past the
    // largest page is refused.
    let zero = "{ automationRuns(first: 0) { edges { node { id } } pageInfo { hasNextPage } } \
                people(first: 0) { edges { node { id } } } }";
    let body = app.gql(zero, json!({})).await;
    assert_eq!(data(&body)["automationRuns"]["edges"], json!([]));
    assert_eq!(
        data(&body)["automationRuns"]["pageInfo"]["hasNextPage"],
        true
    );
    assert_eq!(data(&body)["people"]["edges"], json!([]));
    let body = app
        .gql(
            "{ automationRuns(first: 101) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "first", "{body}");
}

#[tokio::test]
async fn a_second_sign_up_gets_the_next_point_person_turn_and_filters_apply() {
    let app = spawn().await;
    let version = install(&app, "welcome-volunteer").await;
    // Only sign-ups that created a new person.
    create_automation(
        &app,
        json!({ "name": "new only", "pluginVersionId": version,
                "filter": { "payload": { "created": true } },
                "config": { "tag": "welcomed" } }),
    )
    .await;
    let runner = runner(&app);
    let (first, _) = sign_up(&app, "volunteer", ada()).await;
    assert_eq!(runner.run_for_event(first).await.unwrap().succeeded(), 1);
    // The same person again: `created` is false, the filter skips it.
    let (second, _) = sign_up(&app, "volunteer", ada()).await;
    assert!(runner.run_for_event(second).await.unwrap().runs.is_empty());
}

#[tokio::test]
async fn an_effect_without_its_grant_fails_the_run_and_a_replay_after_granting_applies_it() {
    let app = spawn().await;
    let grants = vec![
        "read-people",
        "read-kv",
        "write-tags",
        "assign-point-person",
        "create-tasks",
        "write-kv",
    ];
    let (automation, _) = welcome_automation(&app, Some(grants)).await;
    let (event, person) = sign_up(&app, "volunteer", ada()).await;
    let before = counts(&app).await;

    let summary = runner(&app).run_for_event(event).await.unwrap();
    assert_eq!(summary.runs[0].status, RunStatus::Failed, "{summary:?}");
    let error = summary.runs[0].error.clone().unwrap();
    assert!(
        error.contains("NOT_GRANTED") && error.contains("send-messages"),
        "{error}"
    );
    assert_eq!(counts(&app).await, before, "nothing of the run is applied");
    assert!(
        !tag_names(&app, person)
            .await
            .contains(&"welcomed".to_string())
    );
    let run = automation_runs::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "failed");
    assert_eq!(run.error.as_deref(), Some(error.as_str()));

    // Replaying before granting fails again (and is recorded as another attempt).
    let replay =
        "mutation($id: ID!) { replayAutomationRun(runId: $id) { id status error attempts } }";
    let body = app.gql(replay, json!({ "id": run.id.to_string() })).await;
    assert_eq!(
        data(&body)["replayAutomationRun"]["status"],
        json!("FAILED")
    );
    assert_eq!(data(&body)["replayAutomationRun"]["attempts"], json!(2));

    // Grant it and replay: now the effects apply, in the same run record.
    let body = app
        .gql(
            "mutation($id: ID!) { updateAutomation(id: $id, input: {grants: [\"read-people\", \"read-kv\", \"write-tags\", \"assign-point-person\", \"create-tasks\", \"write-kv\", \"send-messages\"]}) { grantedCapabilities } }",
            json!({ "id": automation }),
        )
        .await;
    assert_eq!(
        data(&body)["updateAutomation"]["grantedCapabilities"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    let body = app.gql(replay, json!({ "id": run.id.to_string() })).await;
    let replayed = &data(&body)["replayAutomationRun"];
    assert_eq!(replayed["status"], json!("SUCCEEDED"), "{body}");
    assert_eq!(replayed["attempts"], json!(3));
    assert!(
        tag_names(&app, person)
            .await
            .contains(&"welcomed".to_string())
    );
    assert_eq!(app.count(messages::Entity).await, 1);
    assert_eq!(app.count(automation_runs::Entity).await, 1);

    // A succeeded run cannot be replayed.
    let (status, body) = app
        .gql_as(Some(&app.key), replay, json!({ "id": run.id.to_string() }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
}

#[tokio::test]
async fn the_domain_rechecks_grants_and_the_chain_depth_when_applying() {
    let app = spawn().await;
    let (automation, _) = welcome_automation(&app, Some(vec!["read-people", "write-tags"])).await;
    let (event, person) = sign_up(&app, "volunteer", ada()).await;
    let ctx = domain::load_event(&app.db, event).await.unwrap().unwrap();
    let runnable = domain::automations_for_event(&app.db, &ctx)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(runnable.automation.id.to_string(), automation);
    let before = counts(&app).await;
    // A report claiming an effect that was never granted (as if the host had let it through).
    let report = RunReport {
        effects: vec![
            json!({"type": "add_tag", "person_id": person, "tag": "ok"}),
            json!({"type": "send_message", "person_id": person, "channel": "email",
                   "body": {"type": "text", "text": "hi"}}),
        ],
        logs: json!([]),
        fuel_used: 1,
        duration_us: 1,
        error: None,
        started_at: chrono::Utc::now(),
    };
    match domain::record_run(&app.db, &ctx, &runnable, report.clone())
        .await
        .unwrap()
    {
        RecordOutcome::Failed(run) => {
            assert!(run.error.unwrap().contains("send-messages"));
        }
        other => panic!("expected a failed run, got {other:?}"),
    }
    assert_eq!(counts(&app).await, before);
    // Recording the same (automation, event) again does nothing.
    assert!(matches!(
        domain::record_run(&app.db, &ctx, &runnable, report)
            .await
            .unwrap(),
        RecordOutcome::AlreadyRun
    ));

    // An event deep in a causation chain: its effects would go past the limit.
    welcome_automation(&app, None).await;
    let deep = record_event(
        &app,
        app.org_id,
        "person.signed_up",
        person,
        json!({}),
        turnout_domain::outbox::MAX_DEPTH,
    )
    .await;
    let summary = runner(&app).run_for_event(deep).await.unwrap();
    assert_eq!(summary.failed(), 2, "{summary:?}");
    assert!(
        summary
            .runs
            .iter()
            .any(|r| r.error.as_deref().unwrap().contains("chain too deep")),
        "{summary:?}"
    );
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn a_plugin_of_an_unsupported_contract_version_is_refused_at_install() {
    let app = spawn().await;
    let (status, body) = install_as(&app, &app.key, "test-unsupported-version").await;
    assert_eq!(status, 200);
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("0.9.0") && message.contains("0.1.0"),
        "{message}"
    );
    assert_eq!(app.count(turnout_entity::plugin_versions::Entity).await, 0);

    // Not a component at all.
    let (_, body) = app
        .gql_as(
            Some(&app.key),
            crate::plugin_support::INSTALL,
            json!({ "component": "aGVsbG8=" }),
        )
        .await;
    assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
}

#[tokio::test]
async fn installing_shows_requested_capabilities_and_automations_are_validated() {
    let app = spawn().await;
    let (status, body) = install_as(&app, &app.key, "welcome-volunteer").await;
    assert_eq!(status, 200);
    let v = &data(&body)["installPlugin"]["version"];
    assert_eq!(v["contractVersion"], json!("0.1.0"));
    assert_eq!(v["handles"], json!(["person.signed_up"]));
    assert!(
        v["requestedCapabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("send-messages"))
    );
    let version = v["id"].as_str().unwrap().to_owned();
    // The same bytes again: the same version.
    let (_, again) = install_as(&app, &app.key, "welcome-volunteer").await;
    assert_eq!(
        data(&again)["installPlugin"]["version"]["id"],
        json!(version)
    );

    let listed = app
        .gql(
            "{ plugins { name } pluginVersions { id version } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&listed)["plugins"],
        json!([{ "name": "welcome-volunteer" }])
    );

    for (input, field) in [
        (
            json!({ "name": "x", "pluginVersionId": version, "triggerKinds": ["shift.missed"] }),
            "triggerKinds",
        ),
        (
            json!({ "name": "x", "pluginVersionId": version, "grants": ["rsvp-shifts"] }),
            "grants",
        ),
        (
            json!({ "name": "x", "pluginVersionId": version, "grants": ["fly"] }),
            "grants",
        ),
        (
            json!({ "name": "x", "pluginVersionId": version, "filter": {"kind": 1} }),
            "filter",
        ),
        // The config is checked against the plugin's declared schema (issue 12, item 4).
        (
            json!({ "name": "x", "pluginVersionId": version, "config": { "follow_up_dayz": 1 } }),
            "config.follow_up_dayz",
        ),
        (
            json!({ "name": "x", "pluginVersionId": version, "config": { "follow_up_days": "two" } }),
            "config.follow_up_days",
        ),
        (
            json!({ "name": "x", "pluginVersionId": version, "config": { "channel": "fax" } }),
            "config.channel",
        ),
    ] {
        let (_, body) = app
            .gql_as(
                Some(&app.key),
                crate::plugin_support::CREATE,
                json!({ "input": input }),
            )
            .await;
        assert_eq!(error_code(&body), Some("VALIDATION"), "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"],
            json!(field),
            "{body}"
        );
    }

    // Disabled automations do not run.
    let id = create_automation(&app, json!({ "name": "w", "pluginVersionId": version })).await;
    let body = app
        .gql(
            "mutation($id: ID!) { disableAutomation(id: $id) { enabled } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&body)["disableAutomation"]["enabled"], json!(false));
    let (event, _) = sign_up(&app, "volunteer", ada()).await;
    assert!(
        runner(&app)
            .run_for_event(event)
            .await
            .unwrap()
            .runs
            .is_empty()
    );
    let body = app
        .gql(
            "mutation($id: ID!) { enableAutomation(id: $id) { enabled } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data(&body)["enableAutomation"]["enabled"], json!(true));
    assert_eq!(
        runner(&app).run_for_event(event).await.unwrap().succeeded(),
        1
    );
    let audit = app
        .gql(
            "{ auditLog(first: 50) { edges { node { action objectType } } } }",
            json!({}),
        )
        .await;
    let actions: Vec<&str> = data(&audit)["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    for action in [
        "plugin_version.install",
        "automation.create",
        "automation.disable",
        "automation.enable",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let listed = app
        .gql("{ automations { id enabled triggerKinds } }", json!({}))
        .await;
    assert_eq!(
        data(&listed)["automations"][0]["triggerKinds"],
        json!(["person.signed_up"])
    );

    // A key without the scope may not install.
    let key = app.key_with(&["PEOPLE_READ"]).await;
    let (_, body) = install_as(&app, &key, "welcome-volunteer").await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
}

#[tokio::test]
async fn a_plugin_cannot_read_another_organizations_people() {
    let app = spawn().await;
    let (other_org, _) = app.second_org("other-form").await;
    let (_, stranger) = sign_up(
        &app,
        "other-form",
        json!({"firstName": "Eve", "email": "eve@example.org"}),
    )
    .await;
    let (_, ours) = sign_up(&app, "volunteer", ada()).await;
    let stranger_row = people::Entity::find_by_id(stranger)
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stranger_row.organization_id, other_org);

    let version = install(&app, "test-cross-org-query").await;
    create_automation(&app, json!({ "name": "snoop", "pluginVersionId": version })).await;
    let event = record_event(
        &app,
        app.org_id,
        "test.ping",
        ours,
        json!({ "target_id": stranger }),
        0,
    )
    .await;
    let summary = runner(&app).run_for_event(event).await.unwrap();
    assert_eq!(summary.runs[0].status, RunStatus::Succeeded, "{summary:?}");
    let seen = tag_names(&app, ours).await;
    assert!(
        seen.contains(&format!("saw:{ours}")),
        "its own organization is visible: {seen:?}"
    );
    assert!(
        !seen.iter().any(|t| t.contains(&stranger.to_string())),
        "{seen:?}"
    );
}

#[tokio::test]
async fn hostile_plugins_fail_their_own_runs_and_the_runner_carries_on() {
    let app = spawn().await;
    for name in [
        "test-infinite-loop",
        "test-memory-hog",
        "test-trap",
        "test-panic",
        "test-trivial",
    ] {
        let version = install(&app, name).await;
        create_automation(&app, json!({ "name": name, "pluginVersionId": version })).await;
    }
    let (_, person) = sign_up(&app, "volunteer", ada()).await;
    let runner = runner(&app);
    for round in 0..2 {
        let event = record_event(
            &app,
            app.org_id,
            "test.ping",
            person,
            json!({ "round": round }),
            0,
        )
        .await;
        let summary = runner.run_for_event(event).await.unwrap();
        assert_eq!(summary.runs.len(), 5);
        assert_eq!(summary.failed(), 4, "{summary:?}");
        assert_eq!(summary.succeeded(), 1, "{summary:?}");
        let errors: Vec<String> = summary
            .runs
            .iter()
            .filter_map(|r| r.error.clone())
            .collect();
        for code in ["FUEL_EXHAUSTED", "MEMORY_LIMIT", "TRAP", "PANICKED"] {
            assert!(
                errors.iter().any(|e| e.starts_with(code)
                    || (code == "FUEL_EXHAUSTED" && e.starts_with("DEADLINE_EXCEEDED"))),
                "{code} in {errors:?}"
            );
        }
    }
    assert!(
        tag_names(&app, person)
            .await
            .contains(&"pinged".to_string())
    );
    let failed = automation_runs::Entity::find()
        .filter(automation_runs::Column::Status.eq("failed"))
        .count(app.db.conn())
        .await
        .unwrap();
    assert_eq!(failed, 8);
}

#[tokio::test]
async fn a_dry_run_shows_effects_and_logs_and_applies_nothing() {
    let app = spawn().await;
    let (automation, _) = welcome_automation(&app, None).await;
    let (event, person) = sign_up(&app, "volunteer", ada()).await;
    let before = counts(&app).await;
    let events_before = app.count(domain_events::Entity).await;

    let dry = "mutation($a: ID, $v: ID, $e: ID, $s: SampleEventInput, $c: JSON) {
        dryRunAutomation(automationId: $a, pluginVersionId: $v, eventId: $e, sampleEvent: $s, config: $c) {
            effects logs fuelUsed durationUs error
        }
    }";
    let body = app
        .gql(dry, json!({ "a": automation, "e": event.to_string() }))
        .await;
    let out = &data(&body)["dryRunAutomation"];
    assert!(out["error"].is_null(), "{body}");
    let effects = out["effects"].as_array().unwrap();
    assert_eq!(effects.len(), 5, "{body}");
    assert!(effects.iter().any(|e| e["type"] == json!("send_message")));
    assert!(out["fuelUsed"].as_i64().unwrap() > 0);

    // A sample event with a plugin version and another config.
    let version = domain::get_automation(
        &app.db,
        &turnout_domain::auth::authenticate(&app.db, &app.key)
            .await
            .unwrap()
            .can()
            .unwrap(),
        automation.parse().unwrap(),
    )
    .await
    .unwrap()
    .plugin_version_id;
    let body = app
        .gql(
            dry,
            json!({ "v": version.to_string(), "c": { "tag": "sampled" },
                    "s": { "kind": "person.signed_up", "subjectId": person.to_string() } }),
        )
        .await;
    let out = &data(&body)["dryRunAutomation"];
    assert!(
        out["effects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["tag"] == json!("sampled")),
        "{body}"
    );

    assert_eq!(counts(&app).await, before);
    assert_eq!(app.count(domain_events::Entity).await, events_before);
    assert_eq!(app.count(automation_runs::Entity).await, 0);
}

/// An event with one shift tomorrow (capacity `capacity`); the shift's id.
async fn shift_tomorrow(app: &TestApp, capacity: i32) -> Uuid {
    use sea_orm::{ActiveModelTrait, Set};
    use turnout_entity::{events, shifts};
    let now = chrono::Utc::now();
    let event = events::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(app.org_id),
        chapter_id: Set(None),
        title: Set("Canvass".into()),
        description: Set(None),
        time_zone: Set("UTC".into()),
        location: Set(Some("Main St".into())),
        virtual_url: Set(None),
        visibility: Set("public".into()),
        status: Set("published".into()),
        reminder_offsets_minutes: Set(json!([])),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(app.db.conn())
    .await
    .unwrap();
    let id = Uuid::now_v7();
    shifts::ActiveModel {
        id: Set(id),
        organization_id: Set(app.org_id),
        event_id: Set(event.id),
        starts_at: Set(now + chrono::Duration::days(1)),
        ends_at: Set(now + chrono::Duration::days(1) + chrono::Duration::hours(2)),
        capacity: Set(Some(capacity)),
        host_token_hash: Set(Uuid::new_v4().to_string()),
        sequence: Set(0),
        cancelled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(app.db.conn())
    .await
    .unwrap();
    id
}

async fn custom_field(app: &TestApp, key: &str) {
    use sea_orm::{ActiveModelTrait, Set};
    turnout_entity::custom_fields::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(app.org_id),
        key: Set(key.into()),
        label: Set(key.into()),
        field_type: Set("text".into()),
        options: Set(json!([])),
        restricted: Set(false),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(app.db.conn())
    .await
    .unwrap();
}

#[tokio::test]
async fn every_effect_kind_applies_in_one_transaction_and_follow_ups_fire_later() {
    use turnout_entity::{
        custom_field_values, outbound_webhook_calls, rsvps, scheduled_follow_ups,
    };
    let app = spawn().await;
    let version = install(&app, "test-all-effects").await;
    create_automation(
        &app,
        json!({ "name": "all", "pluginVersionId": version, "config": { "mode": "all" } }),
    )
    .await;
    let owner = owner_of(&app, app.org_id).await;
    let shift = shift_tomorrow(&app, 1).await;
    for key in ["mood", "clock", "shifts_seen", "attended", "old"] {
        custom_field(&app, key).await;
    }
    let (_, person) = sign_up(
        &app,
        "volunteer",
        json!({"firstName": "Ada", "email": "ada@example.org", "phone": "+12025550143",
               "smsConsent": true, "whatsappConsent": true}),
    )
    .await;
    let (_, other) = sign_up(
        &app,
        "volunteer",
        json!({"firstName": "Bo", "email": "bo@example.org"}),
    )
    .await;

    // The real plugin reads shifts, attendance and kv from the database, and asks to make the
    // person their own point person: a person is not a user, so the whole run fails.
    let ping = record_event(&app, app.org_id, "test.ping", person, json!({}), 0).await;
    let before = counts(&app).await;
    let summary = runner(&app).run_for_event(ping).await.unwrap();
    assert_eq!(summary.runs[0].status, RunStatus::Failed, "{summary:?}");
    let error = summary.runs[0].error.clone().unwrap();
    assert!(
        error.contains("assign_point_person") && error.contains("not a user"),
        "{error}"
    );
    assert_eq!(
        counts(&app).await,
        before,
        "the effects before the failing one are rolled back"
    );
    assert_eq!(app.count(rsvps::Entity).await, 0);

    // Every effect kind through the domain, as a run report.
    let event = record_event(&app, app.org_id, "test.ping", person, json!({}), 0).await;
    let ctx = domain::load_event(&app.db, event).await.unwrap().unwrap();
    let runnable = domain::automations_for_event(&app.db, &ctx)
        .await
        .unwrap()
        .remove(0);
    let effects = vec![
        json!({"type": "add_tag", "person_id": person, "tag": "a"}),
        json!({"type": "remove_tag", "person_id": person, "tag": "volunteer"}),
        json!({"type": "set_custom_field", "person_id": person, "key": "mood", "value": "keen"}),
        json!({"type": "set_ladder_stage", "person_id": person, "stage": "active"}),
        json!({"type": "set_assessment", "person_id": person, "level": 4}),
        json!({"type": "assign_point_person", "person_id": person, "point_person_id": owner}),
        json!({"type": "send_message", "person_id": person, "channel": "whatsapp",
               "body": {"type": "template", "name": "welcome", "language": "en", "variables": {"x": 1}}}),
        json!({"type": "send_message", "person_id": person, "channel": "sms",
               "body": {"type": "text", "text": "See you tomorrow"}}),
        json!({"type": "create_task", "assignee_id": owner, "about_person_id": person,
               "title": "Check in", "description": "", "due_in_seconds": 3600}),
        json!({"type": "rsvp_shift", "person_id": person, "shift_id": shift}),
        json!({"type": "schedule_follow_up", "kind": "followup.reminder", "subject_id": person,
               "delay_seconds": 3600, "payload": {"n": 1}}),
        json!({"type": "call_webhook", "webhook": "crm-sync", "body": {"person": person}}),
        json!({"type": "kv_set", "key": "counter", "value": "1"}),
        json!({"type": "kv_set", "key": "counter", "value": "2"}),
    ];
    let report = RunReport {
        effects,
        logs: json!([]),
        fuel_used: 1,
        duration_us: 1,
        error: None,
        started_at: chrono::Utc::now(),
    };
    let outcome = domain::record_run(&app.db, &ctx, &runnable, report)
        .await
        .unwrap();
    assert!(
        matches!(outcome, RecordOutcome::Succeeded(_)),
        "{outcome:?}"
    );

    assert_eq!(tag_names(&app, person).await, ["a"]);
    let value = custom_field_values::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(value.value, json!("keen"));
    let p = people::Entity::find_by_id(person)
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.ladder_stage.as_deref(), Some("active"));
    assert_eq!(p.assessment, Some(4));
    assert_eq!(p.point_person_user_id, Some(owner));
    let sent = messages::Entity::find().all(app.db.conn()).await.unwrap();
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter()
            .all(|m| m.to_address == "+12025550143" && m.status == "queued")
    );
    assert_eq!(app.count(tasks::Entity).await, 1);
    assert_eq!(app.count(rsvps::Entity).await, 1);
    let follow_up = scheduled_follow_ups::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(follow_up.depth, 1);
    assert_eq!(follow_up.causation_id, Some(event));
    let call = outbound_webhook_calls::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (call.webhook.as_str(), call.status.as_str()),
        ("crm-sync", "pending")
    );
    let kv = plugin_kv::Entity::find().all(app.db.conn()).await.unwrap();
    assert_eq!(kv.len(), 1);
    assert_eq!(
        (kv[0].namespace.as_str(), kv[0].value.as_str()),
        ("test-all-effects", "2")
    );

    // The shift is now full: an RSVP for someone else fails that run, and only that run.
    let event2 = record_event(&app, app.org_id, "test.ping", other, json!({}), 0).await;
    let ctx2 = domain::load_event(&app.db, event2).await.unwrap().unwrap();
    let report2 = RunReport {
        effects: vec![
            json!({"type": "add_tag", "person_id": other, "tag": "b"}),
            json!({"type": "rsvp_shift", "person_id": other, "shift_id": shift}),
        ],
        logs: json!([]),
        fuel_used: 1,
        duration_us: 1,
        error: None,
        started_at: chrono::Utc::now(),
    };
    match domain::record_run(&app.db, &ctx2, &runnable, report2)
        .await
        .unwrap()
    {
        RecordOutcome::Failed(run) => assert!(run.error.unwrap().contains("full")),
        other => panic!("expected a failed run, got {other:?}"),
    }
    assert!(!tag_names(&app, other).await.contains(&"b".to_string()));

    // A tag the person already carries changes nothing and announces nothing; a new one is
    // attached once and announced once.
    let event3 = record_event(&app, app.org_id, "test.ping", person, json!({}), 0).await;
    let ctx3 = domain::load_event(&app.db, event3).await.unwrap().unwrap();
    let report3 = RunReport {
        effects: vec![
            json!({"type": "add_tag", "person_id": person, "tag": "a"}),
            json!({"type": "add_tag", "person_id": person, "tag": "c"}),
            json!({"type": "add_tag", "person_id": person, "tag": "c"}),
        ],
        logs: json!([]),
        fuel_used: 1,
        duration_us: 1,
        error: None,
        started_at: chrono::Utc::now(),
    };
    let outcome = domain::record_run(&app.db, &ctx3, &runnable, report3)
        .await
        .unwrap();
    assert!(
        matches!(outcome, RecordOutcome::Succeeded(_)),
        "{outcome:?}"
    );
    assert_eq!(tag_names(&app, person).await, ["a", "c"]);
    let announced: Vec<serde_json::Value> = domain_events::Entity::find()
        .filter(domain_events::Column::CausationId.eq(event3))
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            assert_eq!(e.kind, "person.tag_added");
            e.payload["tag"].clone()
        })
        .collect();
    assert_eq!(announced, [json!("c")]);

    // The follow-up fires once it is due, as an event caused by the original one.
    let soon = chrono::Utc::now() + chrono::Duration::minutes(5);
    assert!(
        domain::fire_due_follow_ups(&app.db, soon, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let later = chrono::Utc::now() + chrono::Duration::hours(2);
    let fired = domain::fire_due_follow_ups(&app.db, later, 10)
        .await
        .unwrap();
    assert_eq!(fired.len(), 1);
    let e = domain_events::Entity::find_by_id(fired[0])
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (e.kind.as_str(), e.depth, e.causation_id),
        ("followup.reminder", 1, Some(event))
    );
    assert_eq!(e.payload, json!({"n": 1}));
    assert!(
        domain::fire_due_follow_ups(&app.db, later, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn two_runners_on_the_same_event_apply_its_effects_once() {
    let app = spawn().await;
    welcome_automation(&app, None).await;
    let (event, _) = sign_up(&app, "volunteer", ada()).await;
    let (a, b) = (runner(&app), runner(&app));
    let (x, y) = tokio::join!(a.run_for_event(event), b.run_for_event(event));
    let runs: Vec<_> = x.unwrap().runs.into_iter().chain(y.unwrap().runs).collect();
    let succeeded = runs
        .iter()
        .filter(|r| r.status == RunStatus::Succeeded)
        .count();
    assert_eq!(succeeded, 1, "{runs:?}");
    assert!(
        runs.iter().all(|r| r.status != RunStatus::Failed),
        "{runs:?}"
    );
    assert_eq!(app.count(messages::Entity).await, 1);
    assert_eq!(app.count(tasks::Entity).await, 1);
    assert_eq!(app.count(automation_runs::Entity).await, 1);
}
