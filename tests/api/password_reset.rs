//! "Forgot your password?" end to end: the request form answers the same for any address,
//! the link reaches the account's inbox through the messaging pipeline, and setting a new
//! password there works once, ends the old sessions and lets the new password sign in.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use turnout_entity::{messages, password_resets};

use crate::harness::{TestApp, data, error_code};
use crate::pages::{get, post};
use crate::pipeline::{eventually, fast};
use crate::support::smtp::SmtpServer;

const OLD: &str = "correct horse battery";
const NEW: &str = "a brand new passphrase";
const LOGIN: &str = "mutation($e: String!, $p: String!) {
    login(email: $e, password: $p) { refreshToken } }";
const REFRESH: &str = "mutation($t: String!) { refresh(refreshToken: $t) { accessToken } }";

/// An organizer sam@example.org with password [`OLD`], and one of their refresh tokens.
async fn organizer(app: &TestApp) -> String {
    let body = app
        .gql(
            "mutation { inviteUser(email: \"sam@example.org\", role: ORGANIZER) { token } }",
            json!({}),
        )
        .await;
    let token = data(&body)["inviteUser"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = app
        .public(
            "mutation($t: String!, $p: String!) { acceptInvitation(token: $t, password: $p, name: \"Sam\") { role } }",
            json!({ "t": token, "p": OLD }),
        )
        .await;
    assert_eq!(data(&body)["acceptInvitation"]["role"], "ORGANIZER");
    let body = app
        .public(LOGIN, json!({ "e": "sam@example.org", "p": OLD }))
        .await;
    data(&body)["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The path of the reset link in the (first) reset email to `to`, once it is sent; the email
/// is an account email.
async fn reset_link(app: &TestApp, to: &str) -> String {
    let message = eventually("the reset email sent", || async {
        messages::Entity::find()
            .filter(messages::Column::ToAddress.eq(to))
            .filter(messages::Column::Status.eq("sent"))
            .filter(messages::Column::Template.eq("account.password_reset"))
            .one(app.db.conn())
            .await
            .unwrap()
    })
    .await;
    assert_eq!(message.purpose.as_deref(), Some("account"));
    sent_links(app, to).await.remove(0)
}

/// The reset link paths in every reset email sent to `to`.
async fn sent_links(app: &TestApp, to: &str) -> Vec<String> {
    messages::Entity::find()
        .filter(messages::Column::ToAddress.eq(to))
        .filter(messages::Column::Status.eq("sent"))
        .filter(messages::Column::Template.eq("account.password_reset"))
        .all(app.db.conn())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| {
            let at = m.body.find("/reset/pwr_")?;
            Some(
                m.body[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "/_-".contains(*c))
                    .collect(),
            )
        })
        .collect()
}

async fn reset_emails(app: &TestApp) -> u64 {
    messages::Entity::find()
        .filter(messages::Column::Template.eq("account.password_reset"))
        .count(app.db.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reset_link_from_the_page_sets_a_new_password_once_and_ends_old_sessions() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_messaging(fast(), smtp.messaging()).await;
    let old_session = organizer(&app).await;

    // The form, then the same answer for an account and for nobody.
    let form = get(&app, "/reset").await;
    assert_eq!(form.status, 200);
    assert!(
        form.html.contains("autocomplete=\"email\""),
        "{}",
        form.html
    );
    let token = form.token_for("/reset");
    let nobody = post(
        &app,
        "/reset",
        &[("csrf", &token), ("email", "nobody@example.org")],
    )
    .await;
    assert_eq!(nobody.status, 200);
    assert!(nobody.html.contains("Check your email"), "{}", nobody.html);
    let sent = post(
        &app,
        "/reset",
        &[("csrf", &token), ("email", "sam@example.org")],
    )
    .await;
    assert_eq!(sent.status, 200);
    assert!(sent.html.contains("Check your email"));
    // A form without its token is refused; text that is no address is told so.
    assert_eq!(
        post(&app, "/reset", &[("email", "sam@example.org")])
            .await
            .status,
        403
    );
    let bad = post(
        &app,
        "/reset",
        &[("csrf", &token), ("email", "not an address")],
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(bad.html.contains("id=\"r-email-e\""), "{}", bad.html);

    let link = reset_link(&app, "sam@example.org").await;
    let mail = eventually("the mail", || async {
        smtp.mails()
            .into_iter()
            .find(|m| m.to == ["sam@example.org"] && m.data.contains("/reset/"))
    })
    .await;
    assert!(mail.data.contains("Reset"), "{}", mail.data);
    // Only sam got an email; a second ask within the minute sends nothing more.
    post(
        &app,
        "/reset",
        &[("csrf", &token), ("email", "sam@example.org")],
    )
    .await;
    assert_eq!(reset_emails(&app).await, 1);

    // The link's page; a short password is refused beside its field and changes nothing.
    let page = get(&app, &link).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("sam@example.org"), "{}", page.html);
    let short = post(&app, &link, &[("password", "short")]).await;
    assert_eq!(short.status, 422);
    assert!(short.html.contains("id=\"r-password-e\""), "{}", short.html);
    let body = app
        .public(LOGIN, json!({ "e": "sam@example.org", "p": OLD }))
        .await;
    assert!(body["errors"].is_null(), "{body}");

    let done = post(&app, &link, &[("password", NEW)]).await;
    assert_eq!(done.status, 200);
    assert!(done.html.contains("Password changed"), "{}", done.html);

    // The new password signs in, the old one does not, the old session is over, and the link
    // is spent.
    let body = app
        .public(LOGIN, json!({ "e": "sam@example.org", "p": NEW }))
        .await;
    assert!(data(&body)["login"]["refreshToken"].is_string());
    let body = app
        .public(LOGIN, json!({ "e": "sam@example.org", "p": OLD }))
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    let body = app.public(REFRESH, json!({ "t": old_session })).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    assert_eq!(get(&app, &link).await.status, 404);
    assert_eq!(post(&app, &link, &[("password", NEW)]).await.status, 404);
    assert_eq!(get(&app, "/reset/pwr_guessed").await.status, 404);
}

#[tokio::test]
async fn graphql_resets_a_password_and_unknown_addresses_get_the_same_answer() {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_messaging(fast(), smtp.messaging()).await;
    organizer(&app).await;
    const REQUEST: &str = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    const RESET: &str =
        "mutation($t: String!, $p: String!) { resetPassword(token: $t, password: $p) }";

    let body = app
        .public(REQUEST, json!({ "e": "nobody@example.org" }))
        .await;
    assert_eq!(data(&body)["requestPasswordReset"], true);
    let body = app.public(REQUEST, json!({ "e": "not an address" })).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = app.public(REQUEST, json!({ "e": "SAM@example.org" })).await;
    assert_eq!(data(&body)["requestPasswordReset"], true);
    let link = reset_link(&app, "sam@example.org").await;
    assert_eq!(reset_emails(&app).await, 1);
    let token = link.trim_start_matches("/reset/");

    let body = app.public(RESET, json!({ "t": token, "p": "short" })).await;
    assert_eq!(error_code(&body), Some("VALIDATION"));
    let body = app
        .public(RESET, json!({ "t": "pwr_guessed", "p": NEW }))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));

    // A second link, asked for a minute later (the first is moved back in time): both work
    // until one is used.
    password_resets::Entity::update_many()
        .col_expr(
            password_resets::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(2)),
        )
        .exec(app.db.conn())
        .await
        .unwrap();
    let body = app.public(REQUEST, json!({ "e": "sam@example.org" })).await;
    assert_eq!(data(&body)["requestPasswordReset"], true);
    let second = eventually("the second reset email", || async {
        let links = sent_links(&app, "sam@example.org").await;
        links.into_iter().find(|l| l != &link)
    })
    .await;
    let second = second.trim_start_matches("/reset/").to_owned();

    // The same link twice at once: one reset, one NOT_FOUND.
    let (a, b) = tokio::join!(
        app.public(RESET, json!({ "t": second, "p": NEW })),
        app.public(RESET, json!({ "t": second, "p": NEW })),
    );
    let mut outcomes = [
        error_code(&a).unwrap_or("OK").to_owned(),
        error_code(&b).unwrap_or("OK").to_owned(),
    ];
    outcomes.sort();
    assert_eq!(outcomes, ["NOT_FOUND", "OK"], "{a} {b}");
    // The first link is spent with it.
    let body = app.public(RESET, json!({ "t": token, "p": NEW })).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    let body = app
        .public(LOGIN, json!({ "e": "sam@example.org", "p": NEW }))
        .await;
    assert!(data(&body)["login"]["refreshToken"].is_string());
}
