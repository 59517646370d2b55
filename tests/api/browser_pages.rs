//! The public pages in a real browser: headless Chromium driven over WebDriver (Debian's
//! `chromium` and `chromium-driver`), against the real server. A screenshot of each page is
//! saved under `$CARGO_TARGET_TMPDIR/page-screenshots/`.
//!
//! `.ci/run` installs both packages and sets `TURNOUT_REQUIRE_BROWSER=1`, so there a missing
//! browser fails these tests instead of skipping them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use turnout_entity::{form_submissions, people};

use crate::harness::{TestApp, data};
use crate::pages::{confirmation_link, get, rsvp_on_page, two_shift_event};

/// A running chromedriver; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

async fn driver() -> Option<Driver> {
    let binary = PathBuf::from("/usr/bin/chromedriver");
    if !binary.exists() || !PathBuf::from("/usr/bin/chromium").exists() {
        assert!(
            std::env::var_os("TURNOUT_REQUIRE_BROWSER").is_none(),
            "TURNOUT_REQUIRE_BROWSER is set but Chromium or ChromeDriver is missing \
             (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: Chromium or ChromeDriver is not installed");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver { child, url };
    for _ in 0..100 {
        if reqwest::get(format!("{}/status", driver.url)).await.is_ok() {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

/// A headless browser window `width` pixels wide.
async fn browser(driver: &Driver, width: u32) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
            ],
            // A phone's viewport (a desktop window has a minimum width wider than a phone).
            "mobileEmulation": {
                "deviceMetrics": { "width": width, "height": 800, "pixelRatio": 2.0 },
            },
        }),
    );
    // chromedriver listens on loopback over plain HTTP.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// Saves a screenshot of what `client` shows as `<name>.png`.
async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("page-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    assert!(png.len() > 1000, "a real screenshot");
    let backend = if std::env::var("TEST_DATABASE_URL").is_ok() {
        "pg"
    } else {
        "sqlite"
    };
    std::fs::write(dir.join(format!("{name}-{backend}.png")), png).unwrap();
}

/// The text of `css`, waiting up to 10 s for it to appear (after a click, the next page).
async fn text_of(client: &Client, css: &str) -> String {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("no {css}"))
        .text()
        .await
        .unwrap()
}

/// Polls `css`'s text until it equals `want`, for at most 10 s.
async fn wait_for_text(client: &Client, css: &str, want: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(el) = client.find(Locator::Css(css)).await
            && el.text().await.is_ok_and(|t| t.trim() == want)
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{css} never read {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks `css` in a part of the page that the live refresh replaces: an element found just
/// before a refresh is gone by the click (stale), so it is found again, for at most 10 s.
async fn click_live(client: &Client, css: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let clicked = match client.find(Locator::Css(css)).await {
            Ok(el) => el.click().await.is_ok(),
            Err(_) => false,
        };
        if clicked {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "could not click {css}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn type_into(client: &Client, css: &str, text: &str) {
    let el = client.find(Locator::Css(css)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(text).await.unwrap();
}

#[tokio::test]
async fn a_volunteer_from_a_referral_link_fixes_a_bad_email_and_signs_up() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::spawn().await;
    let body = app
        .public(
            "mutation { signUp(form: \"volunteer\", input: { firstName: \"Rita\", email: \"rita@example.org\" }) { referralCode } }",
            json!({}),
        )
        .await;
    let code = data(&body)["signUp"]["referralCode"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = browser(&driver, 360).await;
    c.goto(&format!(
        "{}/f/volunteer?ref={code}&utm_source=tiktok&utm_medium=video",
        app.base
    ))
    .await
    .unwrap();
    screenshot(&c, "signup-form").await;
    type_into(&c, "#f-first_name", "Ada").await;
    type_into(&c, "#f-email", "ada@example").await;
    c.find(Locator::Css("#signup button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let error = text_of(&c, "#e-email").await;
    assert_eq!(error, "This does not look like an email address.");
    // What was typed is still there, and the field says it is at fault.
    let email = c.find(Locator::Css("#f-email")).await.unwrap();
    assert_eq!(
        email.prop("value").await.unwrap().as_deref(),
        Some("ada@example")
    );
    assert_eq!(
        email.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    screenshot(&c, "signup-error").await;
    type_into(&c, "#f-email", "ada@example.org").await;
    c.find(Locator::Css("#signup button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !c.current_url().await.unwrap().path().ends_with("/thanks") {
        assert!(tokio::time::Instant::now() < deadline, "no thank-you page");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(text_of(&c, "h1").await, "Thank you for signing up!");
    screenshot(&c, "signup-thanks").await;
    c.close().await.unwrap();

    let ada = people::Entity::find()
        .filter(people::Column::Email.eq("ada@example.org"))
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("Ada is in the CRM");
    let rita = people::Entity::find()
        .filter(people::Column::Email.eq("rita@example.org"))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ada.referred_by_person_id, Some(rita.id));
    let submission = form_submissions::Entity::find()
        .filter(form_submissions::Column::PersonId.eq(ada.id))
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(submission.utm_source.as_deref(), Some("tiktok"));
    assert_eq!(submission.utm_medium.as_deref(), Some("video"));
}

#[tokio::test]
async fn a_volunteer_opens_the_link_from_the_confirmation_and_cancels_and_the_waitlist_moves_up() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::spawn_with_workers(Default::default()).await;
    let (event, shift, _, _) = two_shift_event(&app, 1).await;
    let c = browser(&driver, 360).await;
    c.goto(&format!("{}/e/{event}", app.base)).await.unwrap();
    screenshot(&c, "event").await;
    let form = format!("#shift-{shift} form");
    type_into(&c, &format!("#s-{shift}-first_name"), "Ada").await;
    type_into(&c, &format!("#s-{shift}-email"), "ada@example.org").await;
    c.find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&c, "#status", "You're signed up.").await;
    // Bo finds the shift full and joins the waitlist.
    let bo = rsvp_on_page(&app, &event, &shift, "Bo", "bo@example.org").await;
    assert!(
        get(&app, &bo)
            .await
            .html
            .contains("data-status=\"waitlisted\"")
    );

    let link = confirmation_link(&app, "ada@example.org").await;
    c.goto(&link).await.unwrap();
    screenshot(&c, "rsvp").await;
    c.find(Locator::XPath(
        "//button[normalize-space()='Cancel my RSVP']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_for_text(&c, "#status", "This RSVP is cancelled.").await;
    c.goto(&format!("{}{bo}", app.base)).await.unwrap();
    wait_for_text(&c, "#status", "You're signed up.").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn two_hosts_on_one_link_see_each_others_check_ins_on_a_phone_sized_screen() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::spawn().await;
    let (event, shift, _, host) = two_shift_event(&app, 10).await;
    rsvp_on_page(&app, &event, &shift, "Ada", "ada@example.org").await;
    rsvp_on_page(
        &app,
        &event,
        &shift,
        "<b id=\"pwn\">Bo</b>",
        "bo@example.org",
    )
    .await;
    let link = format!("{}/host/{host}", app.base);
    let first = browser(&driver, 360).await;
    let second = browser(&driver, 360).await;
    first.goto(&link).await.unwrap();
    second.goto(&link).await.unwrap();
    // The hostile name is text, not markup.
    assert!(first.find(Locator::Css("#pwn")).await.is_err());
    let names: Vec<String> = {
        let mut out = Vec::new();
        for el in first
            .find_all(Locator::Css("ul.roster .name"))
            .await
            .unwrap()
        {
            out.push(el.text().await.unwrap());
        }
        out
    };
    assert!(
        names.contains(&"<b id=\"pwn\">Bo</b>".to_owned()),
        "{names:?}"
    );
    // The viewport is the phone's, and nothing is wider than it.
    let widths = first
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(widths, json!([360, 360]), "[viewport, page] widths");

    for checked_in in ["1", "2"] {
        click_live(&first, "ul.roster li:not(.in) button").await;
        wait_for_text(&first, "#count-checked-in", checked_in).await;
    }
    type_into(&first, "#walk-in-first_name", "Cy").await;
    type_into(&first, "#walk-in-email", "cy@example.org").await;
    first
        .find(Locator::Css("#walk-in button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&first, "#count-walk-ins", "1").await;
    wait_for_text(&first, "#count-checked-in", "3").await;
    screenshot(&first, "host").await;
    // The other host's page catches up by itself.
    wait_for_text(&second, "#count-checked-in", "3").await;
    wait_for_text(&second, "#count-walk-ins", "1").await;
    screenshot(&second, "host-second").await;
    first.close().await.unwrap();
    second.close().await.unwrap();
}
