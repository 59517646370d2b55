//! `load`: a closed-loop load generator. N clients each send one request, wait for and check
//! the answer, and send the next; a warm-up, then a measured window.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::procfs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// The first 50 people by the stable order (id), each with their tags.
    Q1,
    /// The public `signUp` mutation with a fresh email each time.
    M1,
    /// Person detail: one person with their RSVPs, each RSVP's shift and the shift's event.
    Q2,
    /// Event roster: one event, its shifts, each shift's RSVPs with the person's name.
    Q3,
    /// The sign-up page Turnout serves (`GET /f/<form>`), as a volunteer's phone loads it.
    P1,
    /// An event's page (`GET /e/<event>`): its shifts, seats left, an RSVP form each.
    P2,
    /// A sign-up through the page (`POST /f/<form>` with its form token), a fresh email each
    /// time: the page's cost next to M1's.
    M2,
    /// The wall chart of the `union` seed's campaign: every covered unit with every worker's
    /// assessment, leader flag, point person, last contact and card.
    W1,
    /// The same campaign's structure report (each unit's counts and the overall ones) and its
    /// 8-week series.
    W2,
}

impl Scenario {
    /// True for the public pages, which answer HTML (or a redirect), not GraphQL.
    fn is_page(self) -> bool {
        matches!(self, Scenario::P1 | Scenario::P2 | Scenario::M2)
    }
}

pub struct LoadArgs {
    pub scenario: Scenario,
    pub url: String,
    pub key: Option<String>,
    pub concurrency: usize,
    pub warmup: Duration,
    pub window: Duration,
    pub server_pid: u32,
    pub pg_database: Option<String>,
    pub form: String,
    pub label: String,
    /// Q2/Q3: the global IDs the clients cycle through (fetched from the API by `run`).
    pub ids: Vec<String>,
}

const Q1: &str =
    "query Q1 { people(first: 50) { edges { node { id firstName email tags { name } } } } }";
const M1: &str =
    "mutation M1($input: SignUpInput!) { signUp(form: $form, input: $input) { submissionId } }";

const Q2: &str = "query Q2($id: ID!) { person(id: $id) { id firstName lastName email \
     rsvps { id status shift { id startsAt endsAt event { id title location } } } } }";
const W1: &str = "query W1($id: ID!) { organizingCampaign(id: $id) { wallChart { columns { \
     worksiteName unit { name } workers { person { id firstName lastName } assessment \
     assessmentLabel leader pointPersonUserId lastContactAt cardSignedOn } } } } }";
const W2: &str = "query W2($id: ID!) { organizingCampaign(id: $id) { wallChart { \
     columns { unit { name } counts { workers signed percentSigned leaders levels { level count } } } \
     structure { overall { workers signed percentSigned percentAssessedOneOrTwo leaders \
     leadersPerWorker levels { level count } } columnsWithoutLeader { unit { name } } goalReached } \
     weekly(weeks: 8) { weekStarting counts { workers signed levels { level count } } } } } }";
const Q3: &str = "query Q3($id: ID!) { event(id: $id) { id title location \
     shifts { id startsAt endsAt rsvps { id status person { id firstName lastName } } } } }";
/// How many people (Q2) or events (Q3) the clients cycle through: the first page of each.
const ID_POOL: usize = 100;

/// Upper bound on the requests one client sends, whatever the window (every loop is bounded).
const MAX_REQUESTS_PER_CLIENT: u64 = 5_000_000;

struct ClientResult {
    hist: Histogram<u64>,
    ok: u64,
    failed: u64,
    warmup_ok: u64,
    warmup_failed: u64,
    first_error: Option<String>,
}

fn body(
    scenario: Scenario,
    form: &str,
    ids: &[String],
    nonce: u64,
    client: usize,
    seq: u64,
) -> Value {
    // Q2/Q3: clients start at different ids and step through the pool.
    let pick = || {
        let i = (client as u64 * 7 + seq) as usize % ids.len().max(1);
        ids.get(i).cloned().unwrap_or_default()
    };
    match scenario {
        Scenario::Q1 => json!({ "query": Q1 }),
        Scenario::Q2 => json!({ "query": Q2, "variables": { "id": pick() } }),
        Scenario::Q3 => json!({ "query": Q3, "variables": { "id": pick() } }),
        Scenario::W1 => json!({ "query": W1, "variables": { "id": pick() } }),
        Scenario::W2 => json!({ "query": W2, "variables": { "id": pick() } }),
        // The page scenarios send no GraphQL (see `page_request`).
        Scenario::P1 | Scenario::P2 | Scenario::M2 => Value::Null,
        Scenario::M1 => json!({
            "query": M1.replace("$form", &format!("{form:?}")),
            "variables": { "input": {
                "firstName": "Bench",
                "lastName": format!("Client{client}"),
                "email": format!("m1-{nonce}-{client}-{seq}@bench.example.org"),
                "smsConsent": false,
            }},
        }),
    }
}

/// `Ok(data)` when the answer is HTTP 200 with a non-null `data` and no `errors`.
pub async fn check(resp: reqwest::Result<reqwest::Response>) -> Result<Value, String> {
    let resp = resp.map_err(|e| format!("transport: {e}"))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| format!("body: {e}"))?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| {
        format!(
            "HTTP {status}: not JSON: {}",
            String::from_utf8_lossy(&bytes)
        )
    })?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {v}"));
    }
    if v.get("errors").is_some() {
        return Err(format!("errors: {v}"));
    }
    match v.get("data") {
        Some(d) if !d.is_null() => Ok(d.clone()),
        _ => Err(format!("no data: {v}")),
    }
}

async fn client_loop(
    http: reqwest::Client,
    args: Arc<LoadArgs>,
    endpoint: String,
    nonce: u64,
    client: usize,
    measure_from: Instant,
    measure_to: Instant,
) -> anyhow::Result<ClientResult> {
    let mut r = ClientResult {
        hist: Histogram::new_with_bounds(1, 60_000_000, 3)?,
        ok: 0,
        failed: 0,
        warmup_ok: 0,
        warmup_failed: 0,
        first_error: None,
    };
    // M2: the form token a browser would get with the page (valid for a day, so once).
    let form_token = if args.scenario == Scenario::M2 {
        fetch_form_token(&http, &args).await?
    } else {
        String::new()
    };
    for seq in 0..MAX_REQUESTS_PER_CLIENT {
        if Instant::now() >= measure_to {
            break;
        }
        let t0 = Instant::now();
        let outcome = if args.scenario.is_page() {
            page_request(&http, &args, &form_token, nonce, client, seq).await
        } else {
            let mut req = http.post(&endpoint).json(&body(
                args.scenario,
                &args.form,
                &args.ids,
                nonce,
                client,
                seq,
            ));
            if let Some(key) = &args.key {
                req = req.bearer_auth(key);
            }
            check(req.send().await).await.map(drop)
        };
        let t1 = Instant::now();
        // A request counts in the window when it completes inside it.
        let measured = t1 >= measure_from && t1 <= measure_to;
        match (&outcome, measured) {
            (Ok(()), true) => {
                r.ok += 1;
                let us = u64::try_from((t1 - t0).as_micros()).unwrap_or(u64::MAX);
                r.hist.saturating_record(us.max(1));
            }
            (Ok(()), false) => r.warmup_ok += 1,
            (Err(_), true) => r.failed += 1,
            (Err(_), false) => r.warmup_failed += 1,
        }
        if let Err(e) = outcome
            && r.first_error.is_none()
        {
            r.first_error = Some(e.chars().take(500).collect());
        }
    }
    Ok(r)
}

fn base(args: &LoadArgs) -> &str {
    args.url.trim_end_matches('/')
}

/// The sign-up page's form token (`name="csrf" value="…"`).
async fn fetch_form_token(http: &reqwest::Client, args: &LoadArgs) -> anyhow::Result<String> {
    let html = http
        .get(format!("{}/f/{}", base(args), args.form))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .context("no form token on the sign-up page")?
        + marker.len();
    let len = html[start..]
        .find('"')
        .context("an unterminated form token")?;
    Ok(html[start..start + len].to_owned())
}

/// One request of a page scenario: `Ok` when the page is served (P1, P2: HTTP 200 with the
/// form in it) or the sign-up is taken (M2: HTTP 303 to the thank-you page).
async fn page_request(
    http: &reqwest::Client,
    args: &LoadArgs,
    form_token: &str,
    nonce: u64,
    client: usize,
    seq: u64,
) -> Result<(), String> {
    let req = match args.scenario {
        Scenario::P1 => http.get(format!("{}/f/{}", base(args), args.form)),
        Scenario::P2 => {
            let i = (client as u64 * 7 + seq) as usize % args.ids.len().max(1);
            let id = args.ids.get(i).map_or("", String::as_str);
            http.get(format!("{}/e/{id}", base(args)))
        }
        _ => http.post(format!("{}/f/{}", base(args), args.form)).form(&[
            ("csrf", form_token.to_owned()),
            ("first_name", "Bench".to_owned()),
            ("last_name", format!("Client{client}")),
            (
                "email",
                format!("m2-{nonce}-{client}-{seq}@bench.example.org"),
            ),
        ]),
    };
    let resp = req.send().await.map_err(|e| format!("transport: {e}"))?;
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| format!("body: {e}"))?;
    match (args.scenario, status) {
        (Scenario::M2, 303) => Ok(()),
        (Scenario::P1 | Scenario::P2, 200) if body.contains("name=\"csrf\"") => Ok(()),
        _ => Err(format!(
            "HTTP {status}: {}",
            body.chars().take(300).collect::<String>()
        )),
    }
}

/// The global IDs of the first page of `people` or `events` (the API's own order), for Q2/Q3.
pub async fn first_ids(
    http: &reqwest::Client,
    endpoint: &str,
    key: Option<&str>,
    connection: &str,
) -> anyhow::Result<Vec<String>> {
    let query = format!("{{ {connection}(first: {ID_POOL}) {{ edges {{ node {{ id }} }} }} }}");
    let mut req = http.post(endpoint).json(&json!({ "query": query }));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let v: Value = req.send().await?.error_for_status()?.json().await?;
    if let Some(errors) = v.get("errors") {
        bail!("{connection}(first: {ID_POOL}) failed: {errors}");
    }
    let ids: Vec<String> = v["data"][connection]["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .filter_map(|e| e["node"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        bail!("{connection}(first: {ID_POOL}) returned no ids: seed the database first");
    }
    Ok(ids)
}

/// The organizing campaigns' ids (the `union` seed has one), for W1/W2.
async fn campaign_ids(
    http: &reqwest::Client,
    endpoint: &str,
    key: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let mut req = http
        .post(endpoint)
        .json(&json!({ "query": "{ organizingCampaigns { id } }" }));
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let v: Value = req.send().await?.error_for_status()?.json().await?;
    let ids: Vec<String> = v["data"]["organizingCampaigns"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        bail!("no organizing campaign: seed with `--profile union` first ({v})");
    }
    Ok(ids)
}

pub async fn run(args: LoadArgs) -> anyhow::Result<bool> {
    if !(args.url.starts_with("http://127.0.0.1:") || args.url == "http://127.0.0.1") {
        bail!("--url must be http://127.0.0.1:PORT (this tool loads only the local machine)");
    }
    if args.concurrency == 0 || args.concurrency > 1024 {
        bail!("--concurrency must be 1..=1024");
    }
    let endpoint = format!("{}/graphql", args.url.trim_end_matches('/'));
    // Pages answer a form POST with a redirect, which is the answer measured (a browser's
    // next GET of the thank-you page is a request of its own).
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let nonce = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis(),
    )?;
    let tck = procfs::clock_ticks_per_sec();
    let mut args = args;
    args.ids = match args.scenario {
        Scenario::Q2 => first_ids(&http, &endpoint, args.key.as_deref(), "people").await?,
        Scenario::Q3 | Scenario::P2 => {
            first_ids(&http, &endpoint, args.key.as_deref(), "events").await?
        }
        Scenario::W1 | Scenario::W2 => campaign_ids(&http, &endpoint, args.key.as_deref()).await?,
        Scenario::Q1 | Scenario::M1 | Scenario::P1 | Scenario::M2 => Vec::new(),
    };
    let args = Arc::new(args);

    let start = Instant::now();
    let measure_from = start + args.warmup;
    let measure_to = measure_from + args.window;
    let mut tasks = Vec::with_capacity(args.concurrency);
    for client in 0..args.concurrency {
        tasks.push(tokio::spawn(client_loop(
            http.clone(),
            args.clone(),
            endpoint.clone(),
            nonce,
            client,
            measure_from,
            measure_to,
        )));
    }

    tokio::time::sleep_until(measure_from.into()).await;
    let (comm, cpu0) = procfs::cpu_ticks(args.server_pid).context("server pid")?;
    let pg0 = args.pg_database.as_deref().map(procfs::postgres_snapshot);
    let t0 = Instant::now();
    tokio::time::sleep_until(measure_to.into()).await;
    let (_, cpu1) = procfs::cpu_ticks(args.server_pid).context("server pid")?;
    let pg1 = args.pg_database.as_deref().map(procfs::postgres_snapshot);
    let elapsed = t0.elapsed().as_secs_f64();
    let hwm_kb = procfs::status_kb(args.server_pid, "VmHWM")?;
    let rss_kb = procfs::status_kb(args.server_pid, "VmRSS")?;

    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut ok, mut failed, mut w_ok, mut w_failed) = (0u64, 0u64, 0u64, 0u64);
    let mut first_error = None;
    for t in tasks {
        let r = t.await??;
        hist.add(&r.hist)?;
        ok += r.ok;
        failed += r.failed;
        w_ok += r.warmup_ok;
        w_failed += r.warmup_failed;
        if first_error.is_none() {
            first_error = r.first_error;
        }
    }

    let ms_per_tick = 1000.0 / tck as f64;
    let reqs = ok.max(1) as f64;
    let server_ms = (cpu1 - cpu0) as f64 * ms_per_tick / reqs;
    let (pg_db_ms, pg_other_ms) = match (&pg0, &pg1) {
        (Some(a), Some(b)) => (
            Some(procfs::delta(&a.db_backends, &b.db_backends) as f64 * ms_per_tick / reqs),
            Some(procfs::delta(&a.others, &b.others) as f64 * ms_per_tick / reqs),
        ),
        _ => (None, None),
    };
    let rps = ok as f64 / elapsed;
    let p50 = hist.value_at_quantile(0.50) as f64 / 1000.0;
    let p99 = hist.value_at_quantile(0.99) as f64 / 1000.0;
    let max = hist.max() as f64 / 1000.0;

    println!(
        "scenario {:?} on {} ({comm} pid {}), concurrency {}, warm-up {:?} ({w_ok} ok, {w_failed} failed), window {elapsed:.1} s",
        args.scenario, args.label, args.server_pid, args.concurrency, args.warmup
    );
    println!("  requests ok {ok}, failed {failed}; {rps:.0} req/s");
    println!("  latency p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms");
    println!(
        "  server CPU {server_ms:.3} ms/request ({} ticks of {ms_per_tick} ms)",
        cpu1 - cpu0
    );
    if let (Some(db), Some(other)) = (pg_db_ms, pg_other_ms) {
        println!(
            "  postgres CPU: backends of {} {db:.3} ms/request; other postgres processes {other:.3} ms/request",
            args.pg_database.as_deref().unwrap_or("")
        );
        println!(
            "  total CPU (server + its backends) {:.3} ms/request; + all other postgres {:.3}",
            server_ms + db,
            server_ms + db + other
        );
    }
    println!(
        "  server peak RSS (VmHWM) {:.1} MB, RSS now {:.1} MB",
        hwm_kb as f64 / 1024.0,
        rss_kb as f64 / 1024.0
    );
    if let Some(e) = &first_error {
        println!("  first error: {e}");
    }
    let passed = failed == 0 && w_failed == 0 && ok > 0;
    let fmt = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.3}"));
    // One markdown row, for run.sh to gather into tables.
    println!(
        "ROW| {} | {:?} | {} | {ok} | {} | {rps:.0} | {p50:.2} | {p99:.2} | {server_ms:.3} | {} | {} | {} | {:.1} |",
        args.label,
        args.scenario,
        args.concurrency,
        failed + w_failed,
        fmt(pg_db_ms),
        fmt(pg_db_ms.map(|d| server_ms + d)),
        fmt(pg_other_ms),
        hwm_kb as f64 / 1024.0,
    );
    if !passed {
        println!("  RUN FAILED: {} failed requests", failed + w_failed);
    }
    Ok(passed)
}
