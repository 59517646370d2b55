//! `turnout`: the command line. `turnout` alone is `turnout serve`.

use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use turnout::{Role, ServeConfig, open_database, serve, shutdown_signal};
use turnout_api::{ApiConfig, Environment, JwtConfig, QueryLimits, RateLimitConfig};
use turnout_workers::WorkerConfig;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "turnout",
    version,
    about = "The organizing CRM for people-powered campaigns and unions"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the GraphQL API and the workers (the default).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate(DbArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Print the catalogue of domain events (`docs/events.md`).
    EventsDoc,
    /// Run a deployment's organizations from the server.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Copy the SQLite database and its job queue to FILE (and FILE's `.jobs` twin) while
    /// Turnout runs. For PostgreSQL it prints the `pg_dump` recipe.
    Backup {
        /// The new backup file; it must not exist.
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Replace the SQLite database (and job queue) with a backup, keeping the one it replaces
    /// beside it. Stop every Turnout process on the database first; restore refuses otherwise.
    Restore {
        /// A file written by `turnout backup`.
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write, build and test automation plugins offline.
    Plugin {
        #[command(subcommand)]
        command: turnout_plugin_host::cli::PluginCommand,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organization with its owner, and print the owner's invitation (and, with
    /// `--admin-key`, an admin API key). Audited as `organization.create`.
    Create {
        /// The organization's name.
        #[arg(long)]
        name: String,
        /// The owner's email address; they accept the invitation to set their password.
        #[arg(long)]
        owner_email: String,
        /// Also mint an admin API key for the organization, shown once.
        #[arg(long)]
        admin_key: bool,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Mint a new admin API key for an organization (by UUID or slug) and print it: the way
    /// back in when every key is revoked. Audited as `api_key.recover`.
    Recover {
        /// The organization's UUID or slug.
        org: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Args, Clone)]
struct DbArgs {
    /// `sqlite://FILE?mode=rwc` (created on first start) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://turnout.db?mode=rwc"
    )]
    database_url: String,
    /// Database connections in the pool.
    #[arg(long, env = "TURNOUT_DB_MAX_CONNECTIONS", default_value_t = 16)]
    db_max_connections: u32,
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Address to listen on.
    #[arg(long, env = "TURNOUT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Largest request body in bytes.
    #[arg(long, env = "TURNOUT_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    max_body_bytes: usize,
    /// Largest plugin component in bytes, for `POST /plugins` and the plugin host. The
    /// default admits a Python component (componentize-py makes about 18 MB).
    #[arg(long, env = "TURNOUT_PLUGIN_MAX_BYTES", default_value_t = turnout_plugin_host::Limits::default().max_component_bytes)]
    plugin_max_bytes: usize,
    /// Where compiled plugins are kept across restarts (a directory private to Turnout: its
    /// files are loaded as native code). Unset: compiled in memory at each start.
    #[arg(long, env = "TURNOUT_PLUGIN_CACHE_DIR")]
    plugin_cache_dir: Option<std::path::PathBuf>,
    /// Longest a request may take, in seconds.
    #[arg(long, env = "TURNOUT_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    request_timeout_secs: u64,
    /// Deepest query nesting accepted.
    #[arg(long, env = "TURNOUT_MAX_QUERY_DEPTH", default_value_t = 12)]
    max_query_depth: usize,
    /// Highest query complexity accepted (a list field costs its `first` times its children).
    #[arg(long, env = "TURNOUT_MAX_QUERY_COMPLEXITY", default_value_t = 5000)]
    max_query_complexity: usize,
    /// `development` or `production`. Production refuses to start without signing keys.
    #[arg(long, env = "TURNOUT_ENV", default_value = "development")]
    env: String,
    /// Access-token signing keys, `kid:base64secret,…` (secrets of at least 32 bytes). The
    /// first key signs; all are accepted, so a new key goes first and the old one stays listed
    /// until the tokens it signed have expired.
    #[arg(long, env = "TURNOUT_JWT_KEYS", hide_env_values = true)]
    jwt_keys: Option<String>,
    /// The `iss` claim of access tokens.
    #[arg(long, env = "TURNOUT_JWT_ISSUER", default_value = "turnout")]
    jwt_issuer: String,
    /// The `aud` claim of access tokens.
    #[arg(long, env = "TURNOUT_JWT_AUDIENCE", default_value = "turnout-api")]
    jwt_audience: String,
    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "TURNOUT_ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    access_token_ttl_secs: u64,
    /// Most aliased fields in one query.
    #[arg(long, env = "TURNOUT_MAX_QUERY_ALIASES", default_value_t = 30)]
    max_query_aliases: usize,
    /// Deepest nesting of brackets, braces and parentheses in a query's text (and of lists and
    /// objects in its variables), refused before parsing.
    #[arg(long, env = "TURNOUT_MAX_QUERY_NESTING", default_value_t = 64)]
    max_query_nesting: usize,
    /// Most fields in a query once its fragments are expanded where they are spread.
    #[arg(long, env = "TURNOUT_MAX_QUERY_FIELDS", default_value_t = 5000)]
    max_query_fields: usize,
    /// Internal hosts Turnout may call anyway (names or IP addresses, comma-separated), for
    /// on-premise webhook receivers; every other loopback, private, link-local or metadata
    /// address is refused.
    #[arg(long, env = "TURNOUT_OUTBOUND_ALLOW", default_value = "")]
    outbound_allow: String,
    /// Browser origins allowed to call the API from another site (comma-separated, exact:
    /// `https://app.example.org,http://localhost:5173`); none by default. `*` is refused.
    #[arg(long, env = "TURNOUT_CORS_ORIGINS", default_value = "", value_parser = turnout_api::CorsOrigins::parse)]
    cors_origins: turnout_api::CorsOrigins,
    /// A manifest of registered operations (Apollo's persisted-query manifest, or a JSON object
    /// of SHA-256 → query); hash-only requests for them always work.
    #[arg(long, env = "TURNOUT_PERSISTED_QUERIES")]
    persisted_queries: Option<std::path::PathBuf>,
    /// Run registered operations only (needs `TURNOUT_PERSISTED_QUERIES`): for an API that
    /// serves one production frontend.
    #[arg(long, env = "TURNOUT_PERSISTED_ONLY", default_value_t = false)]
    persisted_only: bool,
    /// Public sign-ups per client IP per minute (0: no limit).
    #[arg(long, env = "TURNOUT_RATE_SIGNUPS_PER_IP", default_value_t = 30)]
    rate_signups_per_ip: u32,
    /// Public sign-ups per form per minute (0: no limit).
    #[arg(long, env = "TURNOUT_RATE_SIGNUPS_PER_FORM", default_value_t = 6000)]
    rate_signups_per_form: u32,
    /// Requests per API key or user per minute (0: no limit).
    #[arg(
        long,
        env = "TURNOUT_RATE_REQUESTS_PER_CREDENTIAL",
        default_value_t = 1200
    )]
    rate_requests_per_credential: u32,
    /// Login, refresh and invitation-accept attempts per client IP per minute (0: no limit).
    #[arg(long, env = "TURNOUT_RATE_LOGINS_PER_IP", default_value_t = 10)]
    rate_logins_per_ip: u32,
    /// What this process runs: `all` (API and jobs), `api` (no jobs) or `worker` (jobs, and
    /// only health endpoints over HTTP).
    #[arg(long, env = "TURNOUT_ROLE", value_enum, default_value_t = Role::All)]
    role: Role,
    /// Jobs run at once per queue in this process.
    #[arg(long, env = "TURNOUT_WORKER_CONCURRENCY", default_value_t = 8)]
    worker_concurrency: usize,
    /// Minutes after a shift ends before its unchecked RSVPs count as missed.
    #[arg(long, env = "TURNOUT_MISSED_SHIFT_GRACE_MINUTES", default_value_t = 60)]
    missed_shift_grace_minutes: i64,
    /// Failed attempts in a row after which a webhook endpoint is disabled.
    #[arg(long, env = "TURNOUT_WEBHOOK_DISABLE_AFTER", default_value_t = 20)]
    webhook_disable_after: i32,
    /// The public origin of this server (`https://act.example.org`): every link in messages,
    /// calendar invites and GraphQL fields starts with it, and Twilio's webhook signatures are
    /// checked against it. Required in production; in development, the listen address.
    #[arg(long, env = "TURNOUT_PUBLIC_BASE_URL", value_parser = parse_public_base_url)]
    public_base_url: Option<turnout_domain::links::PublicLinks>,
    /// The deployment operator's key (at least 32 characters): sent as the bearer token to
    /// `/graphql`, it creates, lists, suspends and resumes organizations. Unset: no operator
    /// access over the API (`turnout org` still works on the server).
    #[arg(long, env = "TURNOUT_OPERATOR_KEY", hide_env_values = true, value_parser = parse_operator_key)]
    operator_key: Option<turnout_domain::organization::operator::OperatorKey>,
    /// Turns on `GET /metrics` (Prometheus) for scrapers that send this as a bearer token.
    /// Unset, `/metrics` is not served.
    #[arg(long, env = "TURNOUT_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` headers name the client
    /// (comma-separated CIDRs or addresses: `10.0.0.0/8,127.0.0.1`). From any other peer
    /// those headers are ignored.
    #[arg(long, env = "TURNOUT_TRUSTED_PROXIES", default_value = "", value_parser = turnout_api::TrustedProxies::parse)]
    trusted_proxies: turnout_api::TrustedProxies,
    /// Sites that may show the sign-up pages in an iframe (space- or comma-separated origins:
    /// `https://campaign.example.org`); none by default.
    #[arg(long, env = "TURNOUT_FRAME_ANCESTORS", default_value = "")]
    frame_ancestors: String,
    #[command(flatten)]
    messaging: turnout_workers::messaging::MessagingConfig,
    /// Name of the organization created on first start.
    #[arg(long, env = "TURNOUT_BOOTSTRAP_ORG", default_value = "My Campaign")]
    bootstrap_org: String,
    /// Email of the owner created on first start.
    #[arg(
        long,
        env = "TURNOUT_BOOTSTRAP_EMAIL",
        default_value = "admin@example.org"
    )]
    bootstrap_email: String,
}

impl Default for ServeArgs {
    fn default() -> Self {
        // Parsing no arguments applies the same defaults and environment as `turnout serve`.
        match ServeCli::try_parse_from(["turnout"]) {
            Ok(cli) => cli.args,
            Err(err) => err.exit(),
        }
    }
}

#[derive(Parser)]
struct ServeCli {
    #[command(flatten)]
    args: ServeArgs,
}

fn init_tracing() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let json = std::env::var("TURNOUT_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Schema) => {
            print!("{}", turnout_api::sdl());
            Ok(())
        }
        Some(Command::EventsDoc) => {
            print!("{}", turnout_domain::outbox::catalogue::markdown());
            Ok(())
        }
        Some(Command::Migrate(db)) => {
            init_tracing();
            let (_db, _in_use) = open_database(&db.database_url, 1).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Some(Command::Org {
            command:
                OrgCommand::Create {
                    name,
                    owner_email,
                    admin_key,
                    db,
                },
        }) => {
            init_tracing();
            let (db, _in_use) = open_database(&db.database_url, 1).await?;
            let org = turnout_domain::bootstrap::create_with_owner(
                &db,
                &turnout_domain::audit::RequestContext {
                    client_ip: Some("turnout org create".into()),
                },
                // The operator is handed the token here; no email from the command line.
                None,
                &name,
                &owner_email,
                admin_key,
            )
            .await
            .map_err(|err| anyhow::anyhow!("cannot create the organization: {err}"))?;
            let invitation = &org.owner_invitation;
            println!(
                "Organization: {} ({}, slug {})",
                org.name, org.organization_id, org.slug
            );
            println!(
                "Owner invitation for {}: {}",
                invitation.email, invitation.token
            );
            println!(
                "It expires at {}. The owner accepts it with the acceptInvitation mutation \
                 (token, name, password), which signs them in.",
                invitation.expires_at.to_rfc3339()
            );
            if let Some(key) = &org.api_key {
                println!("Admin API key: {key}");
                println!("Each is shown once.");
            }
            Ok(())
        }
        Some(Command::Org {
            command: OrgCommand::Recover { org, db },
        }) => {
            init_tracing();
            let (db, _in_use) = open_database(&db.database_url, 1).await?;
            let (org_id, key) = turnout_domain::bootstrap::recover_admin_key(&db, &org)
                .await
                .map_err(|err| anyhow::anyhow!("cannot recover `{org}`: {err}"))?;
            println!("Admin API key for organization {org_id}: {}", key.token);
            println!("It is shown once; revoke it when the organization has its own keys again.");
            Ok(())
        }
        Some(Command::Backup { file, db }) => {
            let done = turnout::backup::backup(&db.database_url, &file).await?;
            println!(
                "Backed up to {} ({} bytes in all).",
                done.database.display(),
                done.bytes
            );
            if let Some(queue) = done.queue {
                println!("The job queue is in {}.", queue.display());
            }
            println!("Bring it back with `turnout restore {}`.", file.display());
            Ok(())
        }
        Some(Command::Restore { file, db }) => {
            let done = turnout::backup::restore(&db.database_url, &file).await?;
            println!("Restored {}.", file.display());
            if let Some(previous) = done.previous {
                println!(
                    "The database it replaced is kept as {}.",
                    previous.display()
                );
            }
            if !done.queue_restored {
                println!("The backup had no job queue; the queue starts empty.");
            }
            if done.pending_migrations > 0 {
                println!(
                    "{} migrations newer than the backup run on the next start.",
                    done.pending_migrations
                );
            }
            Ok(())
        }
        Some(Command::Plugin { command }) => turnout_plugin_host::cli::run(command).await,
        Some(Command::Serve(args)) => run_serve(*args).await,
        None => run_serve(ServeArgs::default()).await,
    }
}

async fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    init_tracing();
    let env = Environment::parse(&args.env).map_err(anyhow::Error::msg)?;
    let jwt = JwtConfig::from_settings(
        args.jwt_keys.as_deref(),
        env,
        &args.jwt_issuer,
        &args.jwt_audience,
        Duration::from_secs(args.access_token_ttl_secs),
    )
    .map_err(|err| anyhow::anyhow!("access-token configuration: {err}"))?;
    if env == Environment::Production && args.public_base_url.is_none() {
        anyhow::bail!(
            "TURNOUT_PUBLIC_BASE_URL is required in production: the links in messages and on \
             pages must point at the address people reach (https://act.example.org)"
        );
    }
    let persisted_queries = match &args.persisted_queries {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| {
                format!("cannot read TURNOUT_PERSISTED_QUERIES {}", path.display())
            })?;
            turnout_api::PersistedQueryConfig::from_manifest(&text, args.persisted_only).map_err(
                |err| anyhow::anyhow!("TURNOUT_PERSISTED_QUERIES {}: {err}", path.display()),
            )?
        }
        None if args.persisted_only => {
            anyhow::bail!("TURNOUT_PERSISTED_ONLY needs TURNOUT_PERSISTED_QUERIES (the manifest)")
        }
        None => turnout_api::PersistedQueryConfig::default(),
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let config = ServeConfig {
        database_url: args.db.database_url,
        max_connections: args.db.db_max_connections,
        role: args.role,
        workers: WorkerConfig {
            concurrency: args.worker_concurrency.max(1),
            missed_shift_grace: chrono::Duration::minutes(args.missed_shift_grace_minutes.max(0)),
            webhook_disable_after: args.webhook_disable_after.max(1),
            ..WorkerConfig::default()
        },
        api: ApiConfig {
            max_body_bytes: args.max_body_bytes,
            request_timeout: Duration::from_secs(args.request_timeout_secs),
            query_limits: QueryLimits {
                max_depth: args.max_query_depth,
                max_complexity: args.max_query_complexity,
                max_aliases: args.max_query_aliases,
                max_nesting: args.max_query_nesting,
                max_fields: args.max_query_fields,
            },
            rate_limits: RateLimitConfig {
                signups_per_ip_per_minute: args.rate_signups_per_ip,
                signups_per_form_per_minute: args.rate_signups_per_form,
                requests_per_credential_per_minute: args.rate_requests_per_credential,
                logins_per_ip_per_minute: args.rate_logins_per_ip,
            },
            jwt,
            plugin_host: Some(std::sync::Arc::new(
                turnout_plugin_host::PluginHost::new(turnout_plugin_host::Limits {
                    max_component_bytes: args.plugin_max_bytes,
                    cache_dir: args.plugin_cache_dir.clone(),
                    ..Default::default()
                })
                .context("cannot start the plugin host")?,
            )),
            twilio: turnout_api::TwilioWebhookConfig {
                auth_token: args.messaging.twilio_auth_token.clone(),
                public_base_url: args.public_base_url.as_ref().map(|l| l.origin().to_owned()),
            },
            live_recheck: turnout_api::live::DEFAULT_RECHECK,
            // `serve` sets it (and the workers') from `ServeConfig::outbound`.
            outbound: Default::default(),
            cors_origins: args.cors_origins,
            persisted_queries,
            // `serve` sets it from `ServeConfig::public_links`.
            public_links: Default::default(),
            trusted_proxies: args.trusted_proxies,
            operator_key: args.operator_key,
            pages: turnout_api::PagesConfig {
                frame_ancestors: turnout_api::PagesConfig::parse_frame_ancestors(
                    &args.frame_ancestors,
                )
                .map_err(|err| anyhow::anyhow!("TURNOUT_FRAME_ANCESTORS: {err}"))?,
            },
        },
        messaging: args.messaging,
        outbound: turnout_domain::outbound::OutboundPolicy::from_list(&args.outbound_allow),
        bootstrap_org_name: args.bootstrap_org,
        bootstrap_email: args.bootstrap_email,
        public_links: args.public_base_url,
        metrics_token: args.metrics_token,
    };
    serve(config, listener, shutdown_signal()).await
}

fn parse_operator_key(
    s: &str,
) -> Result<turnout_domain::organization::operator::OperatorKey, String> {
    turnout_domain::organization::operator::OperatorKey::parse(s)
}

fn parse_public_base_url(s: &str) -> Result<turnout_domain::links::PublicLinks, String> {
    turnout_domain::links::PublicLinks::parse(s).map_err(|err| err.to_string())
}
