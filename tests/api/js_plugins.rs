//! A JavaScript plugin end to end: built from source with componentize-qjs, installed through
//! `POST /plugins` (at about 1 MB it is past GraphQL's body limit, which says where to go), and
//! run by the real workers on a real sign-up, its effects applied and its run recorded.

use base64::Engine as _;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use turnout_entity::{automation_runs, messages, people, taggings, tags, tasks};

use crate::harness::TestApp;
use crate::pipeline::{eventually, fast};
use crate::plugin_support::{create_automation, host, owner_of, sign_up};

#[path = "../../plugins/host/tests/common/js.rs"]
mod js;

#[tokio::test]
async fn a_javascript_welcome_runs_on_a_real_sign_up() {
    let app = TestApp::spawn_full(
        turnout_api::ApiConfig {
            plugin_host: Some(host()),
            ..crate::harness::unlimited()
        },
        fast(),
    )
    .await;
    let component = js::js_wasm("examples-js/welcome-volunteer");
    assert!(component.len() > 256 * 1024, "{} bytes", component.len());

    // As base64 in GraphQL it is over the request limit, and the 413 says where to go instead.
    let encoded = base64::engine::general_purpose::STANDARD.encode(&component);
    let resp = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.key)
        .json(&json!({ "query": crate::plugin_support::INSTALL, "variables": { "component": encoded } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let refusal: Value = resp.json().await.unwrap();
    assert!(
        refusal["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("POST /plugins")),
        "{refusal}"
    );

    // Compile it into the shared host first: a debug build of wasmtime takes tens of seconds
    // over a 1 MB component on a busy machine, past the request timeout, and the compile is
    // not what this test is about (a release build takes about a second).
    host().load(&component).await.unwrap();
    let resp = app
        .client
        .post(format!("{}/plugins", app.base))
        .bearer_auth(&app.key)
        .header("content-type", "application/wasm")
        .body(component)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let installed: Value = resp.json().await.unwrap();
    assert_eq!(installed["plugin"]["name"], "welcome-volunteer-js");
    let owner = owner_of(&app, app.org_id).await;
    create_automation(
        &app,
        json!({
            "name": "Welcome, in JavaScript",
            "pluginVersionId": installed["version"]["id"],
            "config": { "tag": "welcomed-js", "point_people": [owner.to_string()] },
        }),
    )
    .await;

    let (_, person) = sign_up(
        &app,
        "volunteer",
        json!({ "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.org" }),
    )
    .await;

    let task = eventually("the welcome task", || async {
        tasks::Entity::find()
            .filter(tasks::Column::PersonId.eq(person))
            .one(app.db.conn())
            .await
            .unwrap()
    })
    .await;
    assert_eq!(task.title, "Welcome call: Ada Lovelace");
    assert_eq!(task.assignee_user_id, Some(owner));
    let ada = people::Entity::find_by_id(person)
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.point_person_user_id, Some(owner));
    let message = messages::Entity::find()
        .filter(messages::Column::PersonId.eq(person))
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("the welcome message");
    assert_eq!(message.channel, "email");
    assert!(
        message.body.contains("Welcome aboard, Ada!"),
        "{}",
        message.body
    );
    let tagged = eventually("the tag", || async {
        let tag = tags::Entity::find()
            .filter(tags::Column::Name.eq("welcomed-js"))
            .one(app.db.conn())
            .await
            .unwrap()?;
        taggings::Entity::find()
            .filter(taggings::Column::PersonId.eq(person))
            .filter(taggings::Column::TagId.eq(tag.id))
            .one(app.db.conn())
            .await
            .unwrap()
    })
    .await;
    assert_eq!(tagged.person_id, person);
    let run = automation_runs::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("the run is recorded");
    assert_eq!(run.status, "succeeded");
    assert!(run.fuel_used > 0);
}
