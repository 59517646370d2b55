//! CORS from a real browser: headless Chromium loads a page from one origin whose script calls
//! the API on another, with a bearer key (so the browser sends a preflight first). The listed
//! origin reads the answer; an unlisted one is blocked by the browser itself.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it and sets `TURNOUT_REQUIRE_BROWSER=1`, so
//! there a missing browser fails the test instead of skipping it).

use std::path::PathBuf;
use std::time::Duration;

use turnout_api::{ApiConfig, CorsOrigins};

use crate::harness::{TestApp, unlimited};

fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("TURNOUT_REQUIRE_BROWSER").is_none(),
            "TURNOUT_REQUIRE_BROWSER is set but Chromium is not installed (apt-get install chromium)"
        );
        eprintln!("skipped: Chromium is not installed (apt-get install chromium)");
    }
    found
}

/// A port for a page, bound before the API starts (so the API can list its origin).
async fn page_port() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

/// Serves on `listener` a page that calls the API at `api` and writes what happened into
/// `#out`.
fn serve_page(listener: tokio::net::TcpListener, api: &str, key: &str) {
    let html = format!(
        r#"<!doctype html><html><body><div id="out">pending</div><script>
fetch({api:?} + "/graphql", {{
  method: "POST",
  headers: {{ "Content-Type": "application/json", "Authorization": "Bearer " + {key:?} }},
  body: JSON.stringify({{ query: "{{ people(first: 1) {{ pageInfo {{ hasNextPage }} }} }}" }})
}}).then(r => r.json())
  .then(j => {{ document.getElementById("out").textContent = "ok:" + JSON.stringify(j.data); }})
  .catch(e => {{ document.getElementById("out").textContent = "blocked:" + e.name; }});
</script></body></html>"#
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        }),
    );
    tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
}

/// What the page at `url` wrote into `#out`, after Chromium ran its script.
async fn run_page(browser: PathBuf, url: String) -> String {
    let run = tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(browser)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--virtual-time-budget=20000",
                "--dump-dom",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(&url)
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&output.stdout).into_owned();
        let open = r#"<div id="out">"#;
        let Some(start) = dom.find(open) else {
            panic!(
                "no #out in the page: {dom}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        let rest = &dom[start + open.len()..];
        rest[..rest.find("</div>").unwrap_or(rest.len())].to_owned()
    });
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("Chromium did not finish within 120 s")
        .unwrap()
}

#[tokio::test]
async fn a_listed_origin_reads_the_api_from_a_browser_and_another_is_blocked() {
    let Some(browser) = chromium() else { return };
    let (listed, listed_origin) = page_port().await;
    let (unlisted, unlisted_origin) = page_port().await;
    let app = TestApp::spawn_with(ApiConfig {
        cors_origins: CorsOrigins::parse(&listed_origin).unwrap(),
        ..unlimited()
    })
    .await;
    serve_page(listed, &app.base, &app.key);
    serve_page(unlisted, &app.base, &app.key);

    let out = run_page(browser.clone(), format!("{listed_origin}/")).await;
    assert_eq!(out, r#"ok:{"people":{"pageInfo":{"hasNextPage":false}}}"#);

    // Same host, another port: another origin, and the browser refuses to hand it the answer.
    let out = run_page(browser, format!("{unlisted_origin}/")).await;
    assert_eq!(out, "blocked:TypeError");
}
