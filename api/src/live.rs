//! The live feed's hub: one background task per process reads committed domain events and
//! broadcasts them to every GraphQL subscription, which filter by organization and kind. No
//! subscriber touches the database.
//!
//! - On PostgreSQL the task LISTENs on the channel the `domain_events` insert trigger NOTIFYs
//!   on commit, and loads the notified rows by id in batches: a subscriber on any API node sees
//!   events committed by any process. After a lost connection it catches up from the table.
//! - On SQLite (one process) it polls for events newer than the last one it saw, every
//!   [`POLL_INTERVAL`], starting from the newest event when the hub starts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use turnout_domain::db::Db;
use turnout_domain::outbox::{self, EventListener};
use turnout_entity::domain_events;
use uuid::Uuid;

/// The default of `ApiConfig::live_recheck`: how stale a subscription's credential check may
/// get before its next event.
pub const DEFAULT_RECHECK: Duration = Duration::from_secs(30);
/// How often the SQLite hub looks for new events.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Most events read per query.
const BATCH: u64 = 500;
/// Events a slow subscriber may fall behind by before it misses some.
const CAPACITY: usize = 4096;
/// Pause after a database error before trying again.
const RETRY: Duration = Duration::from_secs(1);

/// A committed event as broadcast to subscribers.
pub type LiveEvent = Arc<domain_events::Model>;

/// The per-process hub. Cheap to share (`Arc`); the background task starts with the first
/// [`LiveHub::start`] or [`LiveHub::subscribe`] inside a Tokio runtime and ends soon after the
/// last `Arc` is dropped.
pub struct LiveHub {
    db: Db,
    tx: broadcast::Sender<LiveEvent>,
    started: AtomicBool,
    /// Dropped with the hub: its receiver in the task then wakes and the task ends.
    alive: watch::Sender<()>,
}

impl LiveHub {
    pub fn new(db: Db) -> Arc<Self> {
        let (tx, _) = broadcast::channel(CAPACITY);
        let (alive, _) = watch::channel(());
        Arc::new(Self {
            db,
            tx,
            started: AtomicBool::new(false),
            alive,
        })
    }

    /// Starts the background task once, if called inside a Tokio runtime.
    pub fn start(self: &Arc<Self>) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        tokio::spawn(run(
            Arc::downgrade(self),
            self.db.clone(),
            self.alive.subscribe(),
        ));
    }

    /// A receiver of every event committed from now on, of every organization.
    pub fn subscribe(self: &Arc<Self>) -> broadcast::Receiver<LiveEvent> {
        self.start();
        self.tx.subscribe()
    }
}

async fn run(hub: Weak<LiveHub>, db: Db, mut alive: watch::Receiver<()>) {
    loop {
        let work = async {
            match EventListener::connect(&db).await? {
                Some(listener) => listen(&hub, &db, listener).await,
                None => poll(&hub, &db).await,
            }
        };
        let result = tokio::select! {
            // The hub was dropped: nobody can subscribe any more.
            _ = alive.changed() => return,
            result = work => result,
        };
        match result {
            Ok(()) => return,
            Err(err) => {
                tracing::warn!(%err, "live feed: reading events failed; retrying");
                tokio::select! {
                    _ = alive.changed() => return,
                    () = tokio::time::sleep(RETRY) => {}
                }
            }
        }
    }
}

/// Sends `events` to the subscribers; `Err` when the hub is gone. Returns the newest id sent.
fn broadcast(hub: &Weak<LiveHub>, events: Vec<domain_events::Model>) -> Result<Option<Uuid>, ()> {
    let hub = hub.upgrade().ok_or(())?;
    let mut last = None;
    for event in events {
        last = Some(event.id);
        // An error only means nobody is subscribed right now.
        hub.tx.send(Arc::new(event)).ok();
    }
    Ok(last)
}

/// Whether anyone on this node is subscribed; `Err` when the hub is gone. With nobody
/// subscribed the feed only keeps its place: loading rows nobody reads would cost every
/// committed event a query on every API node.
fn subscribed(hub: &Weak<LiveHub>) -> Result<bool, ()> {
    Ok(hub.upgrade().ok_or(())?.tx.receiver_count() > 0)
}

/// SQLite: poll for newer ids. `Ok(())` when the hub is gone.
async fn poll(hub: &Weak<LiveHub>, db: &Db) -> turnout_domain::DomainResult<()> {
    let mut last = outbox::latest_event_id(db).await?;
    loop {
        let Ok(listening) = subscribed(hub) else {
            return Ok(());
        };
        if !listening {
            last = outbox::latest_event_id(db).await?.max(last);
            tokio::time::sleep(POLL_INTERVAL).await;
            continue;
        }
        let events = outbox::events_after(db, last, BATCH).await?;
        let full = events.len() as u64 == BATCH;
        match broadcast(hub, events) {
            Err(()) => return Ok(()),
            Ok(Some(id)) => last = Some(id),
            Ok(None) => {}
        }
        if !full {
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

/// PostgreSQL: LISTEN, load notified rows by id, and catch up from the table after a lost
/// connection. `Ok(())` when the hub is gone.
async fn listen(
    hub: &Weak<LiveHub>,
    db: &Db,
    mut listener: EventListener,
) -> turnout_domain::DomainResult<()> {
    let mut last = outbox::latest_event_id(db).await?;
    loop {
        let events = match listener.next_batch(BATCH as usize).await? {
            Some(ids) => match subscribed(hub) {
                Err(()) => return Ok(()),
                Ok(false) => {
                    // Event ids are UUIDv7: the largest is the newest.
                    last = last.max(ids.into_iter().max());
                    continue;
                }
                Ok(true) => outbox::events_by_ids(db, &ids).await?,
            },
            None => {
                tracing::warn!("live feed: LISTEN connection lost; catching up");
                outbox::events_after(db, last, BATCH).await?
            }
        };
        match broadcast(hub, events) {
            Err(()) => return Ok(()),
            Ok(Some(id)) => last = last.max(Some(id)),
            Ok(None) => {}
        }
    }
}
