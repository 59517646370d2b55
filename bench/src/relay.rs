//! `relay`: commit-to-job latency of the outbox relay (issue 5). Sends public `signUp`
//! mutations (each commits one `person.signed_up` row in `domain_events`), waits until the
//! workers have processed every one of them, then reads the rows back and reports
//! `occurred_at` → `dispatched_at` (the relay pushed the dispatch job) and `occurred_at` →
//! `processed_at` (the dispatch job finished) per event, and how fast a burst drains.
//!
//! `occurred_at` is set by the server just before the sign-up transaction commits, so both
//! latencies slightly over-state commit-to-job time (by the rest of that transaction: the
//! audit row and COMMIT).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{
    ColumnTrait, ConnectOptions, Database, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use serde_json::{Value, json};
use tokio::sync::{Mutex, Semaphore};
use turnout_entity::domain_events;
use uuid::Uuid;

use crate::{load, procfs};

const SIGN_UP: &str = "mutation R($form: String!, $input: SignUpInput!) { \
     signUp(form: $form, input: $input) { submissionId } }";
const KIND: &str = "person.signed_up";
/// At most this many sign-ups in flight in the steady mode (a slow server makes the run fail
/// rather than pile up requests).
const STEADY_MAX_IN_FLIGHT: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Open loop: `--rate` sign-ups per second for `--secs` seconds.
    Steady,
    /// Closed loop: `--total` sign-ups as fast as `--concurrency` clients can send them.
    Burst,
}

pub struct RelayArgs {
    pub mode: Mode,
    pub url: String,
    pub database_url: String,
    pub rate: u32,
    pub secs: u64,
    pub total: u64,
    pub concurrency: usize,
    pub server_pid: Option<u32>,
    pub pg_database: Option<String>,
    pub form: String,
    pub label: String,
    pub drain_timeout: Duration,
}

#[derive(Default)]
struct Sent {
    ok: u64,
    failed: u64,
    first_error: Option<String>,
    submissions: HashSet<Uuid>,
}

impl Sent {
    fn record(&mut self, outcome: Result<Value, String>) {
        let decoded = outcome.and_then(|data| {
            let gid = data["signUp"]["submissionId"]
                .as_str()
                .ok_or_else(|| format!("no submissionId: {data}"))?;
            decode_submission(gid).ok_or_else(|| format!("undecodable submissionId {gid}"))
        });
        match decoded {
            Ok(id) => {
                self.ok += 1;
                self.submissions.insert(id);
            }
            Err(e) => {
                self.failed += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(e.chars().take(500).collect());
                }
            }
        }
    }
}

/// A global ID is base64url("Submission:<uuid>"). The API currently returns the bare UUID
/// (`api/src/graphql/signup.rs`) although the schema documents a global ID: accept both.
fn decode_submission(gid: &str) -> Option<Uuid> {
    if let Ok(id) = gid.parse::<Uuid>() {
        return Some(id);
    }
    let raw = URL_SAFE_NO_PAD.decode(gid).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (ty, id) = text.split_once(':')?;
    (ty == "Submission").then(|| id.parse().ok()).flatten()
}

fn body(form: &str, nonce: u64, n: u64) -> Value {
    json!({
        "query": SIGN_UP,
        "variables": {
            "form": form,
            "input": {
                "firstName": "Relay",
                "lastName": format!("Bench{}", n % 1000),
                "email": format!("relay-{nonce}-{n}@bench.example.org"),
                "smsConsent": false,
            },
        },
    })
}

async fn sign_up(
    http: &reqwest::Client,
    endpoint: &str,
    form: &str,
    nonce: u64,
    n: u64,
) -> Result<Value, String> {
    load::check(http.post(endpoint).json(&body(form, nonce, n)).send().await).await
}

/// Events not yet processed: ours (`id >= floor`) or, with `floor` = nil, any.
async fn unprocessed(db: &DatabaseConnection, floor: Uuid) -> anyhow::Result<u64> {
    Ok(domain_events::Entity::find()
        .filter(domain_events::Column::ProcessedAt.is_null())
        .filter(domain_events::Column::Id.gte(floor))
        .count(db)
        .await?)
}

/// Waits until no event with `id >= floor` is unprocessed; returns whether it got there.
async fn wait_drained(
    db: &DatabaseConnection,
    floor: Uuid,
    timeout: Duration,
) -> anyhow::Result<bool> {
    let until = Instant::now() + timeout;
    loop {
        if unprocessed(db, floor).await? == 0 {
            return Ok(true);
        }
        if Instant::now() >= until {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: chrono::TimeDelta) -> f64 {
    d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}

pub async fn run(args: RelayArgs) -> anyhow::Result<bool> {
    if !(args.url.starts_with("http://127.0.0.1:") || args.url == "http://127.0.0.1") {
        bail!("--url must be http://127.0.0.1:PORT (this tool loads only the local machine)");
    }
    if args.concurrency == 0 || args.concurrency > 1024 {
        bail!("--concurrency must be 1..=1024");
    }
    if args.total == 0 || args.total > 1_000_000 || args.rate == 0 || args.rate > 100_000 {
        bail!("--total must be 1..=1000000 and --rate 1..=100000");
    }
    if args.secs == 0 || args.secs > 3600 {
        bail!("--secs must be 1..=3600");
    }
    let endpoint = format!("{}/graphql", args.url.trim_end_matches('/'));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency.max(16))
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut opts = ConnectOptions::new(args.database_url.clone());
    opts.max_connections(1).sqlx_logging(false);
    let db = Database::connect(opts)
        .await
        .context("connecting to the database")?;
    let tck = procfs::clock_ticks_per_sec();

    // Earlier scenarios (M1) may have left events in flight: let them drain first.
    let backlog = unprocessed(&db, Uuid::nil()).await?;
    if backlog > 0 {
        println!("waiting for {backlog} earlier unprocessed events to drain");
        if !wait_drained(&db, Uuid::nil(), args.drain_timeout).await? {
            println!(
                "  still {} unprocessed after {:?}; measuring anyway",
                unprocessed(&db, Uuid::nil()).await?,
                args.drain_timeout
            );
        }
    }

    let nonce = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis(),
    )?;
    // Our events are recorded after this instant, so their UUIDv7 ids sort at or after this
    // one (same machine, same clock; 1 ms of margin).
    let floor =
        uuid::Builder::from_unix_timestamp_millis(nonce.saturating_sub(1), &[0; 10]).into_uuid();

    let cpu0 = args.server_pid.map(procfs::cpu_ticks).transpose()?;
    let pg0 = args.pg_database.as_deref().map(procfs::postgres_snapshot);
    let started = Instant::now();
    let sent = Arc::new(Mutex::new(Sent::default()));
    match args.mode {
        Mode::Burst => {
            let next = Arc::new(AtomicU64::new(0));
            let mut tasks = Vec::with_capacity(args.concurrency);
            for _ in 0..args.concurrency {
                let (http, endpoint, form, next, sent) = (
                    http.clone(),
                    endpoint.clone(),
                    args.form.clone(),
                    next.clone(),
                    sent.clone(),
                );
                let total = args.total;
                tasks.push(tokio::spawn(async move {
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= total {
                            break;
                        }
                        let outcome = sign_up(&http, &endpoint, &form, nonce, n).await;
                        sent.lock().await.record(outcome);
                    }
                }));
            }
            for t in tasks {
                t.await?;
            }
        }
        Mode::Steady => {
            let n_total = u64::from(args.rate) * args.secs;
            let mut tick =
                tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.rate)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let limit = Arc::new(Semaphore::new(STEADY_MAX_IN_FLIGHT));
            let mut tasks = Vec::with_capacity(usize::try_from(n_total).unwrap_or(0));
            for n in 0..n_total {
                tick.tick().await;
                let permit = limit.clone().acquire_owned().await?;
                let (http, endpoint, form, sent) = (
                    http.clone(),
                    endpoint.clone(),
                    args.form.clone(),
                    sent.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let outcome = sign_up(&http, &endpoint, &form, nonce, n).await;
                    sent.lock().await.record(outcome);
                    drop(permit);
                }));
            }
            for t in tasks {
                t.await?;
            }
        }
    }
    let send_secs = started.elapsed().as_secs_f64();
    let drained = wait_drained(&db, floor, args.drain_timeout).await?;
    let wall_secs = started.elapsed().as_secs_f64();
    let cpu1 = args.server_pid.map(procfs::cpu_ticks).transpose()?;
    let pg1 = args.pg_database.as_deref().map(procfs::postgres_snapshot);
    let hwm_kb = args
        .server_pid
        .map(|pid| procfs::status_kb(pid, "VmHWM"))
        .transpose()?;

    let sent = Arc::try_unwrap(sent)
        .map_err(|_| anyhow::anyhow!("senders still running"))?
        .into_inner();
    let rows = domain_events::Entity::find()
        .filter(domain_events::Column::Kind.eq(KIND))
        .filter(domain_events::Column::Id.gte(floor))
        .all(&db)
        .await?;
    db.close().await?;
    let ours: Vec<_> = rows
        .iter()
        .filter(|e| {
            e.payload["submission_id"]
                .as_str()
                .and_then(|s| s.parse::<Uuid>().ok())
                .is_some_and(|id| sent.submissions.contains(&id))
        })
        .collect();
    let mut to_dispatched = Vec::with_capacity(ours.len());
    let mut to_processed = Vec::with_capacity(ours.len());
    let mut not_processed = 0u64;
    for e in &ours {
        if let Some(d) = e.dispatched_at {
            to_dispatched.push(ms(d - e.occurred_at));
        }
        match e.processed_at {
            Some(p) => to_processed.push(ms(p - e.occurred_at)),
            None => not_processed += 1,
        }
    }
    to_dispatched.sort_by(f64::total_cmp);
    to_processed.sort_by(f64::total_cmp);
    let first_occurred = ours.iter().map(|e| e.occurred_at).min();
    let last_occurred = ours.iter().map(|e| e.occurred_at).max();
    let last_processed = ours.iter().filter_map(|e| e.processed_at).max();
    // Server-side times: first commit to last processed, and last commit to last processed.
    let (span_secs, tail_ms) = match (first_occurred, last_occurred, last_processed) {
        (Some(f), Some(l), Some(p)) => (ms(p - f) / 1000.0, ms(p - l)),
        _ => (f64::NAN, f64::NAN),
    };
    let processed_per_sec = to_processed.len() as f64 / span_secs;
    let signups_per_sec = sent.ok as f64 / send_secs;

    let ms_per_tick = 1000.0 / tck as f64;
    let n = (sent.ok.max(1)) as f64;
    let server_ms = match (cpu0, cpu1) {
        (Some((_, a)), Some((_, b))) => Some((b - a) as f64 * ms_per_tick / n),
        _ => None,
    };
    let pg_ms = match (&pg0, &pg1) {
        (Some(a), Some(b)) => {
            Some(procfs::delta(&a.db_backends, &b.db_backends) as f64 * ms_per_tick / n)
        }
        _ => None,
    };

    let shape = match args.mode {
        Mode::Steady => format!("{}/s for {} s", args.rate, args.secs),
        Mode::Burst => format!("{} as fast as {} clients", args.total, args.concurrency),
    };
    println!("relay {:?} on {}: {shape}", args.mode, args.label);
    println!(
        "  sign-ups ok {}, failed {}; sent in {send_secs:.2} s ({signups_per_sec:.0}/s); all processed {:.2} s after the first was sent{}",
        sent.ok,
        sent.failed,
        wall_secs,
        if drained { "" } else { " (DRAIN TIMED OUT)" }
    );
    println!(
        "  events found {} of {}, processed {}, unprocessed {not_processed}",
        ours.len(),
        sent.ok,
        to_processed.len()
    );
    println!(
        "  commit→dispatched (occurred_at→dispatched_at): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        quantile(&to_dispatched, 0.5),
        quantile(&to_dispatched, 0.99),
        to_dispatched.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  commit→processed (occurred_at→processed_at): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        quantile(&to_processed, 0.5),
        quantile(&to_processed, 0.99),
        to_processed.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "  first commit → last processed {span_secs:.2} s: {processed_per_sec:.0} events processed/s; last commit → last processed {tail_ms:.0} ms"
    );
    println!("  (occurred_at is set just before COMMIT: latencies slightly over-state commit→job)");
    if let Some(s) = server_ms {
        println!("  server CPU {s:.3} ms per sign-up (request + relay + dispatch job)");
    }
    if let Some(p) = pg_ms {
        println!("  postgres backends CPU {p:.3} ms per sign-up");
    }
    if let Some(e) = &sent.first_error {
        println!("  first error: {e}");
    }
    let fmt = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.3}"));
    println!(
        "ROW| {} | {:?} | {shape} | {} | {} | {signups_per_sec:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {span_secs:.2} | {processed_per_sec:.0} | {} | {} | {} |",
        args.label,
        args.mode,
        sent.ok,
        sent.failed,
        quantile(&to_dispatched, 0.5),
        quantile(&to_dispatched, 0.99),
        quantile(&to_processed, 0.5),
        quantile(&to_processed, 0.99),
        to_processed.last().copied().unwrap_or(f64::NAN),
        fmt(server_ms),
        fmt(pg_ms),
        hwm_kb.map_or_else(|| "—".to_owned(), |kb| format!("{:.1}", kb as f64 / 1024.0)),
    );
    let passed = sent.failed == 0
        && drained
        && sent.ok > 0
        && ours.len() as u64 == sent.ok
        && not_processed == 0;
    if !passed {
        println!("  RUN FAILED: failed sign-ups, missing events or events not processed in time");
    }
    Ok(passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_submission_global_ids() {
        let id = Uuid::now_v7();
        let gid = URL_SAFE_NO_PAD.encode(format!("Submission:{id}"));
        assert_eq!(decode_submission(&gid), Some(id));
        assert_eq!(decode_submission(&id.to_string()), Some(id));
        let person = URL_SAFE_NO_PAD.encode(format!("Person:{id}"));
        assert_eq!(decode_submission(&person), None);
        assert_eq!(decode_submission("not base64!"), None);
    }

    #[test]
    fn quantiles_of_sorted_values() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 51.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
