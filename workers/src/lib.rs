//! Background work: the outbox relay, automation runs, reminders, the no-show sweep and
//! message delivery run here on apalis (the event pipeline issue). For now the worker runtime
//! only holds its place in the process and shuts down cleanly.

pub mod messaging;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use turnout_domain::db::Db;

/// The running workers of a process.
pub struct Workers {
    handle: JoinHandle<()>,
}

impl Workers {
    /// Starts the workers; they stop when `shutdown` turns true.
    pub fn start(db: Db, mut shutdown: watch::Receiver<bool>) -> Self {
        let handle = tokio::spawn(async move {
            let _db = db;
            tracing::info!("workers started (no job handlers are registered yet)");
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
            tracing::info!("workers stopped");
        });
        Self { handle }
    }

    /// Waits for the workers to finish after shutdown was signalled.
    pub async fn join(self) {
        if let Err(err) = self.handle.await {
            tracing::error!(%err, "worker task failed");
        }
    }
}
