//! Issue 15: the `committee-recruit` example plugin on the real event stream. A worker
//! assessed 1 in a unit with no leader becomes a task for the lead organizer; once the unit
//! has a leader, or for any other level, or for an assessment outside a campaign, nothing.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use turnout_entity::{domain_events, tasks};
use turnout_plugin_host::RunStatus;
use uuid::Uuid;

use crate::harness::{TestApp, data};
use crate::merge::raw_id;
use crate::organizing::{assess, campaign, worker, workplace};
use crate::plugin_support::{create_automation, install, owner_of, runner, spawn};

/// The latest `person.assessed` event.
async fn last_assessed(app: &TestApp) -> Uuid {
    domain_events::Entity::find()
        .filter(domain_events::Column::OrganizationId.eq(app.org_id))
        .filter(domain_events::Column::Kind.eq("person.assessed"))
        .order_by_desc(domain_events::Column::Id)
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("a person.assessed event")
        .id
}

/// Runs the automations on the latest assessment; the tasks they created.
async fn run_on_last_assessment(app: &TestApp) -> Vec<tasks::Model> {
    let event = last_assessed(app).await;
    let summary = runner(app).run_for_event(event).await.unwrap();
    assert_eq!(summary.runs.len(), 1, "{summary:?}");
    assert_eq!(summary.runs[0].status, RunStatus::Succeeded, "{summary:?}");
    tasks::Entity::find()
        .filter(tasks::Column::OrganizationId.eq(app.org_id))
        .order_by_asc(tasks::Column::Id)
        .all(app.db.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_worker_assessed_1_in_a_unit_without_a_leader_becomes_a_recruiting_task() {
    let app = spawn().await;
    let at = workplace(&app, &[("Picking", None), ("Packing", None)]).await;
    let ana = worker(&app, &at, "Ana", Some("Picking")).await;
    let ben = worker(&app, &at, "Ben", Some("Picking")).await;
    let cy = worker(&app, &at, "Cy", Some("Packing")).await;
    let drive = campaign(&app, &at, 60).await;
    let lead = owner_of(&app, app.org_id).await;
    let version = install(&app, "committee-recruit").await;
    create_automation(
        &app,
        json!({ "name": "Committee prospects", "pluginVersionId": version,
            "triggerKinds": ["person.assessed"],
            "config": { "lead_organizer_user_id": lead.to_string(), "due_in_days": 2 } }),
    )
    .await;

    // Ana: level 1, Picking has no leader: a task for the lead organizer about her.
    data(&assess(&app, &drive, &ana, 1).await);
    let tasks = run_on_last_assessment(&app).await;
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0];
    assert_eq!(task.title, "Recruit Ana Worker to the organizing committee");
    assert_eq!(task.assignee_user_id, Some(lead));
    assert_eq!(task.person_id, Some(raw_id(&ana)));
    let due = task.due_at.expect("due") - task.created_at;
    assert!((47..=49).contains(&due.num_hours()), "{due}");

    // Cy at level 2: not a prospect.
    data(&assess(&app, &drive, &cy, 2).await);
    assert_eq!(run_on_last_assessment(&app).await.len(), 1);

    // Ana becomes Picking's leader; Ben at level 1 there is no gap to close.
    let body = app
        .gql(
            "mutation($c: ID!, $p: ID!) { setCampaignLeader(campaignId: $c, personId: $p, leader: true) { leader } }",
            json!({ "c": drive, "p": ana }),
        )
        .await;
    assert_eq!(data(&body)["setCampaignLeader"]["leader"], json!(true));
    data(&assess(&app, &drive, &ben, 1).await);
    assert_eq!(run_on_last_assessment(&app).await.len(), 1);

    // Cy at level 1 in Packing, which still has no leader: a second task.
    data(&assess(&app, &drive, &cy, 1).await);
    let tasks = run_on_last_assessment(&app).await;
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[1].person_id, Some(raw_id(&cy)));

    // A staff assessment outside any campaign (the person's own 1–5) is not a committee matter.
    let body = app
        .gql(
            "mutation($id: ID!) { updatePerson(id: $id, input: { assessment: 1 }) { assessment } }",
            json!({ "id": ben }),
        )
        .await;
    assert_eq!(data(&body)["updatePerson"]["assessment"], json!(1));
    assert_eq!(run_on_last_assessment(&app).await.len(), 2);
}
