//! Cron work on apalis-cron. Every worker process runs the same schedules; each tick is claimed
//! in the database first, so exactly one process does the work of a tick.

use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context as _;
use apalis::prelude::{BoxDynError, Data, WorkerBuilder};
use apalis_cron::{CronScheduler, Tick};
use chrono::{DateTime, Utc};
use turnout_domain::schedule;

use crate::handler::Runtime;

/// A named cron schedule (seconds first).
#[derive(Clone, Copy, Debug)]
pub enum Schedule {
    /// Shift reminders, every minute.
    Reminders,
    /// Missed shifts, every minute at :30.
    MissedShifts,
    /// Automations' scheduled follow-ups, every 10 s.
    FollowUps,
    /// Scheduled broadcasts whose time has come, every 10 s at :05.
    Broadcasts,
    /// Finished jobs out of the queue's table, every minute at :45.
    PruneJobs,
    /// Tasks that fell due, to their assignees, every minute at :15.
    TaskReminders,
    /// The point people's daily digests, every five minutes at :20 (each goes once a day).
    Digests,
}

impl Schedule {
    pub const ALL: [Schedule; 7] = [
        Schedule::Reminders,
        Schedule::MissedShifts,
        Schedule::FollowUps,
        Schedule::Broadcasts,
        Schedule::PruneJobs,
        Schedule::TaskReminders,
        Schedule::Digests,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Schedule::Reminders => "turnout.cron.shift-reminders",
            Schedule::MissedShifts => "turnout.cron.missed-shifts",
            Schedule::FollowUps => "turnout.cron.follow-ups",
            Schedule::Broadcasts => "turnout.cron.broadcasts",
            Schedule::PruneJobs => "turnout.cron.prune-jobs",
            Schedule::TaskReminders => "turnout.cron.task-reminders",
            Schedule::Digests => "turnout.cron.digests",
        }
    }

    fn cron(self) -> &'static str {
        match self {
            Schedule::Reminders => "0 * * * * *",
            Schedule::MissedShifts => "30 * * * * *",
            Schedule::FollowUps => "*/10 * * * * *",
            Schedule::Broadcasts => "5/10 * * * * *",
            Schedule::PruneJobs => "45 * * * * *",
            Schedule::TaskReminders => "15 * * * * *",
            Schedule::Digests => "20 */5 * * * *",
        }
    }
}

/// Does the work of one tick, if this process wins the tick. Returns how many things it did.
pub async fn run_tick(
    rt: &Runtime,
    which: Schedule,
    tick_at: DateTime<Utc>,
) -> anyhow::Result<Option<usize>> {
    if !schedule::claim_tick(&rt.db, which.name(), tick_at).await? {
        return Ok(None);
    }
    let done = match which {
        Schedule::Reminders => schedule::record_due_reminders(&rt.db, tick_at).await?,
        Schedule::MissedShifts => {
            schedule::sweep_missed_shifts(&rt.db, tick_at, rt.config.missed_shift_grace).await?
        }
        Schedule::FollowUps => {
            turnout_domain::automations::fire_due_follow_ups(&rt.db, tick_at, 1_000)
                .await?
                .len()
        }
        Schedule::Broadcasts => {
            turnout_domain::messaging::broadcasts::start_due(&rt.db, tick_at).await?
        }
        Schedule::PruneJobs => {
            let pruned = rt
                .queue
                .prune_finished(crate::retention::FINISHED_JOB_RETENTION)
                .await?;
            usize::try_from(pruned).unwrap_or(usize::MAX)
        }
        Schedule::TaskReminders => {
            turnout_domain::task_reminders::remind_due(&rt.db, tick_at).await?
        }
        Schedule::Digests => turnout_domain::digest::send_due(&rt.db, tick_at).await?,
    };
    if done > 0 {
        tracing::info!(schedule = which.name(), done, "scheduled work done");
    }
    Ok(Some(done))
}

/// Runs one schedule until `stop` resolves.
pub async fn run_schedule(
    rt: Arc<Runtime>,
    which: Schedule,
    worker_name: String,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let cron = cron::Schedule::from_str(which.cron()).context("bad cron expression")?;
    let stop = async move {
        stop.await;
        Ok::<(), std::io::Error>(())
    };
    let builder = WorkerBuilder::new(worker_name)
        .backend(CronScheduler::new(cron))
        .data(rt);
    match which {
        Schedule::Reminders => builder.build(reminders_tick).run_until(stop).await?,
        Schedule::MissedShifts => builder.build(missed_shifts_tick).run_until(stop).await?,
        Schedule::FollowUps => builder.build(follow_ups_tick).run_until(stop).await?,
        Schedule::Broadcasts => builder.build(broadcasts_tick).run_until(stop).await?,
        Schedule::PruneJobs => builder.build(prune_jobs_tick).run_until(stop).await?,
        Schedule::TaskReminders => builder.build(task_reminders_tick).run_until(stop).await?,
        Schedule::Digests => builder.build(digests_tick).run_until(stop).await?,
    }
    Ok(())
}

async fn reminders_tick(tick: Tick, rt: Data<Arc<Runtime>>) -> Result<(), BoxDynError> {
    run_tick(&rt, Schedule::Reminders, tick_time(&tick)).await?;
    Ok(())
}

async fn missed_shifts_tick(tick: Tick, rt: Data<Arc<Runtime>>) -> Result<(), BoxDynError> {
    run_tick(&rt, Schedule::MissedShifts, tick_time(&tick)).await?;
    Ok(())
}

async fn follow_ups_tick(tick: Tick, rt: Data<Arc<Runtime>>) -> Result<(), BoxDynError> {
    run_tick(&rt, Schedule::FollowUps, tick_time(&tick)).await?;
    Ok(())
}

async fn broadcasts_tick(tick: Tick, rt: Data<Arc<Runtime>>) -> Result<(), BoxDynError> {
    run_tick(&rt, Schedule::Broadcasts, tick_time(&tick)).await?;
    Ok(())
}

async fn prune_jobs_tick(tick: Tick, rt: Data<Arc<Runtime>>) -> Result<(), BoxDynError> {
    run_tick(&rt, Schedule::PruneJobs, tick_time(&tick)).await?;
    Ok(())
}

async fn task_reminders_tick(tick: Tick, rt: Data<Arc<Runtime>>) -> Result<(), BoxDynError> {
    run_tick(&rt, Schedule::TaskReminders, tick_time(&tick)).await?;
    Ok(())
}

async fn digests_tick(tick: Tick, rt: Data<Arc<Runtime>>) -> Result<(), BoxDynError> {
    run_tick(&rt, Schedule::Digests, tick_time(&tick)).await?;
    Ok(())
}

fn tick_time(tick: &Tick) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(tick.get_timestamp() as i64, 0).unwrap_or_else(Utc::now)
}
