//! `turnout backup` and `turnout restore` for the embedded deployment: a consistent copy of the
//! SQLite database and of its job queue, taken while Turnout runs, and bringing one back while
//! it is stopped. PostgreSQL has `pg_dump` and `pg_restore` for this (the README's recipe).
//!
//! A running `turnout serve` holds a shared advisory lock (`flock`) on the database file and a
//! restore takes it exclusively, so a restore cannot pull the file from under a live server.
//! SQLite's own locks are POSIX record locks, which are independent of `flock` on Linux, so
//! the two never interfere.

use std::fs::{File, TryLockError};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use sea_orm_migration::MigratorTrait as _;
use sea_orm_migration::migrator::MigrationStatus;
use turnout_domain::db::{Db, sqlite_file};
use turnout_workers::queue::queue_file_beside;

const PG_BACKUP: &str = "this is a PostgreSQL database: back it up with \
    `pg_dump --format=custom --file=turnout.dump \"$DATABASE_URL\"` (see the README)";
const PG_RESTORE: &str = "this is a PostgreSQL database: restore it with \
    `pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" turnout.dump` (see the README)";

/// What a backup wrote.
#[derive(Debug)]
pub struct Backup {
    pub database: PathBuf,
    /// The job queue's copy, when the deployment had one (a database never served has none).
    pub queue: Option<PathBuf>,
    pub bytes: u64,
}

/// Copies the SQLite database at `database_url`, and the job queue beside it, to `out` (and
/// `out`'s queue name, `backup.db` → `backup.jobs.db`). Neither may exist: a backup never
/// overwrites a file.
pub async fn backup(database_url: &str, out: &Path) -> anyhow::Result<Backup> {
    let Some(source) = sqlite_file(database_url) else {
        bail!("{PG_BACKUP}");
    };
    if !source.exists() {
        bail!("there is no database at {}", source.display());
    }
    let out_queue = queue_file_beside(out);
    for file in [out, out_queue.as_path()] {
        if file.exists() {
            bail!(
                "{} already exists; a backup never overwrites a file, so name a new one",
                file.display()
            );
        }
    }
    // The database first, then the queue. The relay marks an outbox row dispatched once its
    // job is queued, so a queue copied later holds every job the database copy counts as
    // dispatched. The reverse order could lose one; this order can only repeat one, and the
    // handlers already run each job at least once.
    copy_online(&url_of(&source), out).await?;
    let source_queue = queue_file_beside(&source);
    let queue = if source_queue.exists() {
        copy_online(&url_of(&source_queue), &out_queue).await?;
        Some(out_queue)
    } else {
        None
    };
    let bytes = size(out) + queue.as_deref().map_or(0, size);
    Ok(Backup {
        database: out.to_path_buf(),
        queue,
        bytes,
    })
}

/// What a restore did.
#[derive(Debug)]
pub struct Restore {
    /// Where the database it replaced was kept (`None` when there was none); its queue is kept
    /// beside its own (`turnout.jobs.db.before-restore-<time>`).
    pub previous: Option<PathBuf>,
    /// Migrations this binary has that the backup lacks; they run on the next start.
    pub pending_migrations: usize,
    pub queue_restored: bool,
}

/// Replaces the SQLite database at `database_url` (and its job queue) with the backup at
/// `backup`, after checking that the backup is a sound Turnout database this binary can run.
/// The database it replaces is kept beside it as `<file>.before-restore-<time>`. Refused while
/// any Turnout process serves the database.
pub async fn restore(database_url: &str, backup: &Path) -> anyhow::Result<Restore> {
    let Some(target) = sqlite_file(database_url) else {
        bail!("{PG_RESTORE}");
    };
    if !backup.is_file() {
        bail!("there is no backup at {}", backup.display());
    }
    let backup_queue = queue_file_beside(backup);
    let target_queue = queue_file_beside(&target);
    let _exclusive = lock_exclusive(&target)?;

    // Check the very bytes that will be installed: a copy beside the target, so the final step
    // is an atomic rename on one file system.
    let staged = sibling(&target, "restoring");
    let staged_queue = sibling(&target_queue, "restoring");
    let staging = async {
        std::fs::copy(backup, &staged)
            .with_context(|| format!("cannot copy {} to {}", backup.display(), staged.display()))?;
        let pending = check_turnout_database(&staged).await?;
        if backup_queue.exists() {
            std::fs::copy(&backup_queue, &staged_queue)
                .with_context(|| format!("cannot copy {}", backup_queue.display()))?;
            check_sound(&staged_queue).await?;
        }
        anyhow::Ok(pending)
    };
    let pending_migrations = match staging.await {
        Ok(pending) => pending,
        Err(err) => {
            for file in [&staged, &staged_queue] {
                remove_with_journal(file)?;
            }
            return Err(err);
        }
    };

    // Keep what is being replaced: nothing is lost, even by restoring the wrong file.
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let previous = if target.exists() {
        let suffix = format!("before-restore-{stamp}");
        let aside = sibling(&target, &suffix);
        copy_online(&url_of(&target), &aside).await?;
        if target_queue.exists() {
            copy_online(&url_of(&target_queue), &sibling(&target_queue, &suffix)).await?;
        }
        Some(aside)
    } else {
        None
    };

    // A WAL or shared-memory file left from the old database would be read as part of the new
    // one, so they go before the rename.
    remove_with_journal(&target)?;
    remove_with_journal(&target_queue)?;
    for file in [&staged, &staged_queue] {
        remove_journal(file)?;
    }
    rename(&staged, &target)?;
    let queue_restored = staged_queue.exists();
    if queue_restored {
        rename(&staged_queue, &target_queue)?;
    }
    Ok(Restore {
        previous,
        pending_migrations,
        queue_restored,
    })
}

/// Held by every Turnout process that opens a SQLite file (`serve`, `migrate`, `org`), so that
/// `turnout restore` refuses while one runs.
#[derive(Debug)]
pub struct InUseLock {
    file: Option<File>,
}

impl InUseLock {
    /// Whether a lock is held: false for PostgreSQL, and for a file that did not exist yet.
    pub fn is_held(&self) -> bool {
        self.file.is_some()
    }
}

/// Takes the shared lock on the SQLite file of `database_url` (nothing for PostgreSQL, or when
/// the file does not exist yet: then take it again once connecting has created it). Many
/// processes may share one file (an API and a worker process); only a restore is kept out.
pub fn hold_shared(database_url: &str) -> anyhow::Result<InUseLock> {
    let Some(file) = sqlite_file(database_url) else {
        return Ok(InUseLock { file: None });
    };
    let handle = match File::open(&file) {
        Ok(handle) => handle,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(InUseLock { file: None }),
        Err(err) => return Err(err).with_context(|| format!("cannot open {}", file.display())),
    };
    match handle.try_lock_shared() {
        Ok(()) => Ok(InUseLock { file: Some(handle) }),
        Err(TryLockError::WouldBlock) => bail!(
            "a restore is under way on {}; start Turnout when it has finished",
            file.display()
        ),
        Err(TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("cannot lock {}", file.display()))
        }
    }
}

fn lock_exclusive(target: &Path) -> anyhow::Result<Option<File>> {
    let handle = match File::open(target) {
        Ok(handle) => handle,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("cannot open {}", target.display())),
    };
    match handle.try_lock() {
        Ok(()) => Ok(Some(handle)),
        Err(TryLockError::WouldBlock) => bail!(
            "Turnout is running on {} (or another restore is); stop every turnout process that \
             uses it, then restore",
            target.display()
        ),
        Err(TryLockError::Error(err)) => {
            Err(err).with_context(|| format!("cannot lock {}", target.display()))
        }
    }
}

/// Refuses a file that is not a sound Turnout database, or one written by a newer Turnout; the
/// number of migrations it still lacks otherwise.
async fn check_turnout_database(file: &Path) -> anyhow::Result<usize> {
    let db = open(file).await?;
    let result = async {
        refuse_problems(&db, file).await?;
        let migrations = turnout_migration::Migrator::get_migration_with_status_read_only(
            db.conn(),
        )
        .await
        .map_err(|err| {
            anyhow::anyhow!(
                "{} was made by a newer Turnout than this one ({err}); restore it with that \
                     version",
                file.display()
            )
        })?;
        let pending = migrations
            .iter()
            .filter(|m| m.status() == MigrationStatus::Pending)
            .count();
        if pending == migrations.len() {
            bail!("{} is not a Turnout database", file.display());
        }
        Ok(pending)
    }
    .await;
    db.close().await.ok();
    result
}

async fn check_sound(file: &Path) -> anyhow::Result<()> {
    let db = open(file).await?;
    let result = refuse_problems(&db, file).await;
    db.close().await.ok();
    result
}

async fn refuse_problems(db: &Db, file: &Path) -> anyhow::Result<()> {
    let problems = db
        .integrity_problems()
        .await
        .map_err(|err| anyhow::anyhow!("{} is not a SQLite database: {err}", file.display()))?;
    if !problems.is_empty() {
        bail!(
            "{} is damaged ({}); pick another backup",
            file.display(),
            problems.join("; ")
        );
    }
    Ok(())
}

async fn copy_online(from_url: &str, to: &Path) -> anyhow::Result<()> {
    let db = Db::connect(from_url, 1)
        .await
        .with_context(|| format!("cannot open {from_url}"))?;
    let result = db
        .backup_into(to)
        .await
        .with_context(|| format!("cannot write {}", to.display()));
    db.close().await.ok();
    result
}

async fn open(file: &Path) -> anyhow::Result<Db> {
    Db::connect(&url_of(file), 1)
        .await
        .with_context(|| format!("cannot open {}", file.display()))
}

fn url_of(file: &Path) -> String {
    format!("sqlite://{}?mode=rw", file.display())
}

/// `dir/turnout.db` → `dir/turnout.db.<suffix>`.
fn sibling(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    name.into()
}

fn size(file: &Path) -> u64 {
    std::fs::metadata(file).map_or(0, |m| m.len())
}

fn rename(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::rename(from, to)
        .with_context(|| format!("cannot move {} to {}", from.display(), to.display()))
}

fn remove_with_journal(file: &Path) -> anyhow::Result<()> {
    remove_if_present(file)?;
    remove_journal(file)
}

/// SQLite's companions of a WAL-mode file.
fn remove_journal(file: &Path) -> anyhow::Result<()> {
    for suffix in ["wal", "shm"] {
        let mut name = file.as_os_str().to_owned();
        name.push(format!("-{suffix}"));
        remove_if_present(Path::new(&name))?;
    }
    Ok(())
}

fn remove_if_present(file: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(file) {
        Err(err) if err.kind() != ErrorKind::NotFound => {
            Err(err).with_context(|| format!("cannot remove {}", file.display()))
        }
        _ => Ok(()),
    }
}
