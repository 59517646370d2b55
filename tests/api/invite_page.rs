//! An invitation reaches the invitee by email through the messaging pipeline, in the
//! organization's language, and its link opens a page where the invitee sets a name and a
//! password and joins; a used, reissued or guessed link is a page not found.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use turnout_entity::messages;

use crate::harness::{TestApp, data};
use crate::pages::{get, post};
use crate::pipeline::{eventually, fast};
use crate::support::smtp::SmtpServer;

const INVITE: &str = "mutation($e: String!) {
    inviteUser(email: $e, role: ORGANIZER) { id token } }";

/// The account email to `to` once the workers have sent it.
async fn sent_to(app: &TestApp, to: &str) -> messages::Model {
    eventually("the invitation email sent", || async {
        messages::Entity::find()
            .filter(messages::Column::ToAddress.eq(to))
            .filter(messages::Column::Status.eq("sent"))
            .one(app.db.conn())
            .await
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn an_emailed_invitation_link_opens_a_page_that_makes_the_account() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_messaging(fast(), smtp.messaging()).await;
    let body = app.gql(INVITE, json!({ "e": "sam@example.org" })).await;
    let token = data(&body)["inviteUser"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The email went through the pipeline, to an address that is nobody in the CRM.
    let message = sent_to(&app, "sam@example.org").await;
    assert_eq!(message.purpose.as_deref(), Some("account"));
    assert!(message.person_id.is_none());
    assert_eq!(message.language.as_deref(), Some("en"));
    let link = format!("{}/invite/{token}", app.base);
    assert!(message.body.contains(&link), "{}", message.body);
    let mail = eventually("the mail", || async {
        smtp.mails()
            .into_iter()
            .find(|m| m.to == ["sam@example.org"])
    })
    .await;
    assert!(
        mail.data.contains("You're invited to Test Campaign"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("/invite/"), "{}", mail.data);
    assert_eq!(app.count(turnout_entity::people::Entity).await, 0);

    // The page says who is invited where, and asks for a name and a new password.
    let page = get(&app, &format!("/invite/{token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("sam@example.org"), "{}", page.html);
    assert!(page.html.contains("Test Campaign"));
    assert!(page.html.contains("autocomplete=\"new-password\""));
    assert_eq!(get(&app, "/invite/inv_guessed").await.status, 404);

    // A short password is refused next to its field, and nothing is accepted.
    let page = post(
        &app,
        &format!("/invite/{token}"),
        &[("name", "Sam"), ("password", "short")],
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(page.html.contains("id=\"i-password-e\""), "{}", page.html);
    assert!(page.html.contains("value=\"Sam\""));
    let page = post(
        &app,
        &format!("/invite/{token}"),
        &[("name", "Sam"), ("password", "correct horse battery")],
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(
        page.html
            .contains("sam@example.org is now a member of Test Campaign"),
        "{}",
        page.html
    );

    // The account signs in as an organizer, and the link is spent.
    let body = app
        .public(
            "mutation { login(email: \"sam@example.org\", password: \"correct horse battery\") { role } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&body)["login"]["role"], "ORGANIZER");
    assert_eq!(get(&app, &format!("/invite/{token}")).await.status, 404);
}

#[tokio::test]
async fn invitations_speak_the_organizations_language_and_a_reissue_replaces_the_link() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_messaging(fast(), smtp.messaging()).await;
    data(
        &app.gql(
            "mutation { updateOrganizationSettings(input: { defaultLanguage: \"es\" }) { defaultLanguage } }",
            json!({}),
        )
        .await,
    );
    let body = app.gql(INVITE, json!({ "e": "ana@example.org" })).await;
    let first = data(&body)["inviteUser"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = data(&body)["inviteUser"]["id"].as_str().unwrap().to_owned();
    let message = sent_to(&app, "ana@example.org").await;
    assert_eq!(message.language.as_deref(), Some("es"));
    assert!(
        message
            .subject
            .unwrap()
            .starts_with("Te invitan a Test Campaign")
    );
    // The page is in Spanish for a browser that asks for nothing Turnout has.
    let page = get(&app, &format!("/invite/{first}")).await;
    assert!(page.html.contains("<html lang=\"es\""), "{}", page.html);
    assert!(page.html.contains("Únete al equipo"));

    // Reissued: a second email with a new link; the first link no longer opens.
    let body = app
        .gql(
            "mutation($id: ID!) { reissueInvitation(id: $id) { token } }",
            json!({ "id": id }),
        )
        .await;
    let second = data(&body)["reissueInvitation"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("the second email", || async {
        let sent = messages::Entity::find()
            .filter(messages::Column::ToAddress.eq("ana@example.org"))
            .filter(messages::Column::Status.eq("sent"))
            .all(app.db.conn())
            .await
            .unwrap();
        sent.iter().any(|m| m.body.contains(&second)).then_some(())
    })
    .await;
    assert_eq!(get(&app, &format!("/invite/{first}")).await.status, 404);
    assert_eq!(get(&app, &format!("/invite/{second}")).await.status, 200);
}
