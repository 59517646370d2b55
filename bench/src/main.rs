//! Load and latency benchmarks (issue 7). See BENCHMARKS.md and `bench/run.sh`.

mod load;
mod procfs;
mod relay;
mod seed;
mod seed_union;

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "turnout-bench",
    about = "Turnout benchmarks: seed a data set, generate load"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum SeedProfile {
    /// 100,000 people, 50 tags (≈ 300k taggings), 500 events × 4 shifts, ≈ 300k RSVPs.
    Campaign,
    /// 5,000 workers in 200 units across 10 worksites, one card-drive campaign with
    /// assessments, cards and leaders, and relationships (issue 15).
    Union,
}

#[derive(Subcommand)]
enum Command {
    /// Load a deterministic data set into a migrated, bootstrapped database.
    Seed {
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        #[arg(long, value_enum, default_value = "campaign")]
        profile: SeedProfile,
    },
    /// Closed-loop load against a running server on 127.0.0.1.
    Load {
        #[arg(long, value_enum)]
        scenario: load::Scenario,
        /// `http://127.0.0.1:PORT`
        #[arg(long)]
        url: String,
        /// An API key (`tn_…`) with `people:read` and `events:read`, for Q1, Q2 and Q3.
        #[arg(long, env = "TURNOUT_KEY")]
        key: Option<String>,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 5)]
        warmup_secs: u64,
        #[arg(long, default_value_t = 20)]
        secs: u64,
        /// The server's pid, for its CPU time and peak RSS.
        #[arg(long)]
        server_pid: u32,
        /// On PostgreSQL: the database name, to add the CPU of the backends serving it.
        #[arg(long)]
        pg_database: Option<String>,
        /// The public form M1 signs up to.
        #[arg(long, default_value = "volunteer")]
        form: String,
        /// The label of the result row (e.g. the backend).
        #[arg(long, default_value = "server")]
        label: String,
        /// Client runtime threads (the load generator shares the machine with the server).
        #[arg(long, default_value_t = 1)]
        client_threads: usize,
    },
    /// Commit-to-job latency of the outbox relay: sign-ups, then `domain_events` read back.
    Relay {
        #[arg(long, value_enum, default_value = "burst")]
        mode: relay::Mode,
        /// `http://127.0.0.1:PORT`
        #[arg(long)]
        url: String,
        /// The server's database, to read `domain_events` back.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
        /// Steady mode: sign-ups per second.
        #[arg(long, default_value_t = 50)]
        rate: u32,
        /// Steady mode: how long to send.
        #[arg(long, default_value_t = 20)]
        secs: u64,
        /// Burst mode: how many sign-ups.
        #[arg(long, default_value_t = 5_000)]
        total: u64,
        /// Burst mode: clients sending at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// The server's pid, for its CPU time and peak RSS.
        #[arg(long)]
        server_pid: Option<u32>,
        /// On PostgreSQL: the database name, to add the CPU of the backends serving it.
        #[arg(long)]
        pg_database: Option<String>,
        /// The public form to sign up to.
        #[arg(long, default_value = "volunteer")]
        form: String,
        /// The label of the result row (e.g. the backend).
        #[arg(long, default_value = "server")]
        label: String,
        /// How long to wait for the events to be processed after the last sign-up.
        #[arg(long, default_value_t = 300)]
        drain_timeout_secs: u64,
        /// Client runtime threads.
        #[arg(long, default_value_t = 1)]
        client_threads: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Seed {
            database_url,
            profile,
        } => {
            let profile = match profile {
                SeedProfile::Campaign => &seed::CAMPAIGN,
                SeedProfile::Union => &seed::UNION,
            };
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?
                .block_on(seed::run(&database_url, profile))
        }
        Command::Load {
            scenario,
            url,
            key,
            concurrency,
            warmup_secs,
            secs,
            server_pid,
            pg_database,
            form,
            label,
            client_threads,
        } => {
            if secs == 0 || secs > 3600 || warmup_secs > 600 {
                anyhow::bail!("--secs must be 1..=3600 and --warmup-secs at most 600");
            }
            let args = load::LoadArgs {
                scenario,
                url,
                key,
                concurrency,
                warmup: Duration::from_secs(warmup_secs),
                window: Duration::from_secs(secs),
                server_pid,
                pg_database,
                form,
                label,
                ids: Vec::new(),
            };
            let passed = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(client_threads.clamp(1, 8))
                .enable_all()
                .build()?
                .block_on(load::run(args))?;
            if !passed {
                std::process::exit(2);
            }
            Ok(())
        }
        Command::Relay {
            mode,
            url,
            database_url,
            rate,
            secs,
            total,
            concurrency,
            server_pid,
            pg_database,
            form,
            label,
            drain_timeout_secs,
            client_threads,
        } => {
            if drain_timeout_secs == 0 || drain_timeout_secs > 3600 {
                anyhow::bail!("--drain-timeout-secs must be 1..=3600");
            }
            let args = relay::RelayArgs {
                mode,
                url,
                database_url,
                rate,
                secs,
                total,
                concurrency,
                server_pid,
                pg_database,
                form,
                label,
                drain_timeout: Duration::from_secs(drain_timeout_secs),
            };
            let passed = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(client_threads.clamp(1, 8))
                .enable_all()
                .build()?
                .block_on(relay::run(args))?;
            if !passed {
                std::process::exit(2);
            }
            Ok(())
        }
    }
}
