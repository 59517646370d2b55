//! `GET /metrics` in Prometheus' text format, for the operator's monitoring.
//!
//! The crates record counters and histograms through the `metrics` facade as things happen
//! (requests, GraphQL errors, jobs, automation runs, messages); this module installs the one
//! exporter per process and, at each scrape, adds what is read rather than counted: the job
//! queues' depth and age, and the database pool's use. The job queue is read by processes that
//! run jobs (roles `all` and `worker`), so a fleet counts each queue once per worker process.
//!
//! `/metrics` is off unless the operator sets `TURNOUT_METRICS_TOKEN`; the scraper then sends
//! it as a bearer token. It says nothing about any organization's people, but it does describe
//! the deployment's traffic, so it is not public.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use turnout_domain::db::Db;
use turnout_workers::JobQueue;

/// Latency buckets, in seconds: from a cached read to a request timing out.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process's exporter, installed on first use (tests start several servers in one process;
/// they share it, as their requests share the process).
fn exporter() -> anyhow::Result<&'static PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle);
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_duration_seconds".into()),
            DURATION_BUCKETS,
        )?
        .build_recorder();
    let handle = recorder.handle();
    // Losing a race to another server starting in this process is fine: theirs is installed.
    if metrics::set_global_recorder(recorder).is_ok() {
        describe();
        // Histogram samples pile up until drained; a scrape drains them, and so does this when
        // nobody scrapes for a while.
        let upkeep = handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });
        let _ = HANDLE.set(handle);
    }
    HANDLE
        .get()
        .ok_or_else(|| anyhow::anyhow!("another metrics recorder is installed in this process"))
}

/// What each metric means (its `# HELP` line), and so the list of them in one place.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "turnout_http_requests_total",
        "HTTP requests by route pattern, method and status"
    );
    describe_histogram!(
        "turnout_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by route pattern"
    );
    describe_counter!(
        "turnout_graphql_requests_total",
        "GraphQL requests by operation type (query, mutation, subscription, unknown)"
    );
    describe_histogram!(
        "turnout_graphql_request_duration_seconds",
        Unit::Seconds,
        "GraphQL request latency by operation type"
    );
    describe_counter!(
        "turnout_graphql_errors_total",
        "GraphQL errors by operation type and extensions.code"
    );
    describe_counter!(
        "turnout_jobs_total",
        "Jobs run by queue and outcome (done, retried, waiting, dead_lettered)"
    );
    describe_histogram!(
        "turnout_job_duration_seconds",
        Unit::Seconds,
        "Job run time by queue"
    );
    describe_gauge!(
        "turnout_queue_jobs",
        "Jobs in each queue by state (due, scheduled, running)"
    );
    describe_gauge!(
        "turnout_queue_oldest_due_seconds",
        Unit::Seconds,
        "How long the oldest due job of each queue has waited"
    );
    describe_gauge!(
        "turnout_queue_up",
        "1 when the last scrape could read the job queue"
    );
    describe_counter!(
        "turnout_automation_runs_total",
        "Automation runs by status (succeeded, failed, already_run)"
    );
    describe_counter!(
        "turnout_messages_total",
        "Message send outcomes and delivery receipts by channel and status"
    );
    describe_gauge!(
        "turnout_db_pool_connections",
        "Database pool connections by state (in_use, idle)"
    );
    describe_gauge!(
        "turnout_db_pool_max_connections",
        "The most connections the database pool opens"
    );
}

#[derive(Clone)]
struct Scrape {
    handle: &'static PrometheusHandle,
    token: Arc<str>,
    db: Db,
    queue: Option<JobQueue>,
}

/// The `/metrics` route, when `token` is set; without one, nothing is recorded or served.
pub fn routes(token: Option<&str>, db: Db, queue: Option<JobQueue>) -> anyhow::Result<Router> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(Router::new());
    };
    let state = Scrape {
        handle: exporter()?,
        token: Arc::from(token),
        db,
        queue,
    };
    Ok(Router::new()
        .route("/metrics", get(scrape))
        .with_state(state))
}

async fn scrape(State(state): State<Scrape>, headers: HeaderMap) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !turnout_domain::auth::constant_time_eq(given.as_bytes(), state.token.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "/metrics takes `Authorization: Bearer <TURNOUT_METRICS_TOKEN>`\n",
        )
            .into_response();
    }
    let pool = state.db.pool_use();
    metrics::gauge!("turnout_db_pool_connections", "state" => "in_use")
        .set(f64::from(pool.open.saturating_sub(pool.idle)));
    metrics::gauge!("turnout_db_pool_connections", "state" => "idle").set(f64::from(pool.idle));
    metrics::gauge!("turnout_db_pool_max_connections").set(f64::from(pool.max));
    if let Some(queue) = &state.queue {
        match queue.depths().await {
            Ok(depths) => {
                for d in depths {
                    let name = d.queue.name();
                    for (state, n) in [
                        ("due", d.due),
                        ("scheduled", d.scheduled),
                        ("running", d.running),
                    ] {
                        metrics::gauge!("turnout_queue_jobs", "queue" => name, "state" => state)
                            .set(n as f64);
                    }
                    metrics::gauge!("turnout_queue_oldest_due_seconds", "queue" => name)
                        .set(d.oldest_due_seconds);
                }
                metrics::gauge!("turnout_queue_up").set(1.0);
            }
            Err(err) => {
                // The rest of the scrape is still worth having; the gauge says the queue is not.
                tracing::warn!(error = %format!("{err:#}"), "cannot read the job queue for /metrics");
                metrics::gauge!("turnout_queue_up").set(0.0);
            }
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.handle.render(),
    )
        .into_response()
}
