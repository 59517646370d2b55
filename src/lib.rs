//! The composition root: reads configuration, connects the database, and wires the API and the
//! workers into one process. No business logic lives here.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sea_orm_migration::MigratorTrait;
use tokio::net::TcpListener;
use tokio::sync::watch;
use turnout_api::ApiConfig;
use turnout_domain::bootstrap;
use turnout_domain::db::Db;
use turnout_plugin_host::{Limits, PluginHost};
use turnout_workers::{WorkerConfig, Workers};

pub mod backup;
pub mod metrics;

/// What a process does: everything (the embedded default), only the API (stateless nodes behind
/// a load balancer), or only jobs (health endpoints only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    #[default]
    All,
    Api,
    Worker,
}

impl Role {
    fn serves_api(self) -> bool {
        self != Role::Worker
    }

    fn runs_jobs(self) -> bool {
        self != Role::Api
    }
}

/// Everything `turnout serve` needs to know.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub database_url: String,
    pub max_connections: u32,
    pub role: Role,
    pub api: ApiConfig,
    pub workers: WorkerConfig,
    /// Message providers, quiet hours and send rates (used by the workers).
    pub messaging: turnout_workers::messaging::MessagingConfig,
    pub bootstrap_org_name: String,
    pub bootstrap_email: String,
    /// Where Turnout may call URLs users gave (webhooks): public addresses and the hosts the
    /// operator allowed (`TURNOUT_OUTBOUND_ALLOW`). The API checks saved URLs and the workers
    /// the addresses they dial, with this one policy.
    pub outbound: turnout_domain::outbound::OutboundPolicy,
    /// The origin of every public link (`TURNOUT_PUBLIC_BASE_URL`); `None`: the listen address,
    /// for development.
    pub public_links: Option<turnout_domain::links::PublicLinks>,
    /// The bearer token `/metrics` takes (`TURNOUT_METRICS_TOKEN`); `None`: no `/metrics`.
    pub metrics_token: Option<String>,
}

/// Connects to the database and applies pending migrations, holding the SQLite file against a
/// `turnout restore` (taken before migrating, so a restore never swaps a file mid-migration).
/// The lock lasts as long as the returned guard.
pub async fn open_database(
    url: &str,
    max_connections: u32,
) -> anyhow::Result<(Db, backup::InUseLock)> {
    let early = backup::hold_shared(url)?;
    let db = connect_and_migrate(url, max_connections).await?;
    let lock = match early.is_held() {
        true => early,
        // The file did not exist until connecting created it.
        false => backup::hold_shared(url)?,
    };
    Ok((db, lock))
}

/// Connects to the database and applies pending migrations.
pub async fn connect_and_migrate(url: &str, max_connections: u32) -> anyhow::Result<Db> {
    let db = Db::connect(url, max_connections)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    turnout_migration::Migrator::up(db.conn(), None)
        .await
        .context("migrations failed")?;
    Ok(db)
}

/// Runs the API and the workers on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // The lock is held until the server has drained: `turnout restore` refuses until then.
    let (db, _in_use) = open_database(&config.database_url, config.max_connections).await?;
    let addr = listener.local_addr()?;
    if let Some(boot) =
        bootstrap::bootstrap_if_empty(&db, &config.bootstrap_org_name, &config.bootstrap_email)
            .await?
    {
        print_welcome(&boot, addr);
    }
    // One plugin host per process, shared by the API (validation, dry runs, replays) and the
    // workers (automation runs), so a plugin is compiled once per process.
    let mut api = config.api;
    api.outbound = config.outbound.clone();
    let mut worker_config = config.workers;
    worker_config.outbound = config.outbound;
    let links = config
        .public_links
        .unwrap_or_else(|| turnout_domain::links::PublicLinks::for_listen_address(addr));
    api.public_links = links.clone();
    worker_config.links = links;
    let plugin_host = match api.plugin_host.clone() {
        Some(host) => host,
        None => {
            Arc::new(PluginHost::new(Limits::default()).context("cannot start the plugin host")?)
        }
    };
    api.plugin_host = Some(plugin_host.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let workers = if config.role.runs_jobs() {
        Some(
            Workers::start(
                db.clone(),
                &config.database_url,
                worker_config,
                &config.messaging,
                plugin_host.clone(),
                stop_rx,
            )
            .await?,
        )
    } else {
        None
    };
    // Before the routes are built, so that their first request is counted.
    let metrics = metrics::routes(
        config.metrics_token.as_deref(),
        db.clone(),
        workers.as_ref().map(|w| w.queue().clone()),
    )?;
    let app = if config.role.serves_api() {
        tracing::info!(%addr, role = ?config.role, "Turnout is listening; GraphiQL at http://{addr}/graphql");
        turnout_api::router(db.clone(), api)
    } else {
        tracing::info!(%addr, "Turnout worker is running; health at http://{addr}/healthz");
        turnout_api::health_router(db.clone())
    }
    .merge(metrics);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("the HTTP server failed")?;
    tracing::info!("shutting down: stopping workers");
    // The receiver lives in the worker task; a send error only means it already ended.
    let _ = stop_tx.send(true);
    if let Some(workers) = workers
        && tokio::time::timeout(Duration::from_secs(30), workers.join())
            .await
            .is_err()
    {
        tracing::warn!("workers did not stop within 30 s");
    }
    db.close().await.ok();
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}

/// The first-start message: printed to the terminal (not only logged) because a newcomer needs
/// to read it, and the key is shown nowhere else.
fn print_welcome(boot: &bootstrap::Bootstrapped, addr: SocketAddr) {
    println!(
        "\n\
         ==========================================================================\n \
         Turnout is set up. This is shown once.\n\n \
         Organization:  {org}\n \
         Owner:         {email}\n \
         Admin API key: {key}\n\n \
         Open http://{addr}/graphql and add this request header:\n \
           {{\"Authorization\": \"Bearer {key}\"}}\n\n \
         A public sign-up form is live with the slug \"{form}\".\n \
         Keep the key somewhere safe; to start over, delete the database file.\n\
         ==========================================================================\n",
        org = boot.organization_name,
        email = boot.owner_email,
        key = boot.api_key,
        form = boot.form_slug,
    );
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://…@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
