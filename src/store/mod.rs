//! The only module that speaks Diesel. One set of queries serves PostgreSQL
//! and SQLite through [`DbConnection`]; every function that touches tenant
//! data takes the organization first. Where a query needs what one set
//! cannot express, the function matches on the connection with one arm per
//! database (see the README's "Storage").

/// Executes `query` on whichever database `conn` is: for statements Diesel
/// builds for each database but not through the connection that may be
/// either (multi-row inserts). The same query serves both.
macro_rules! execute_on_either {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::store::DbConnection::Pg(pg) => $query.execute(pg),
            $crate::store::DbConnection::Sqlite(sqlite) => $query.execute(sqlite),
        }
    };
}

/// Loads `query` on whichever database `conn` is, for queries Diesel builds
/// for each database but not through the connection that may be either
/// (`UNION ALL`). The same query serves both.
macro_rules! load_on_either {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::store::DbConnection::Pg(pg) => $query.load(pg),
            $crate::store::DbConnection::Sqlite(sqlite) => $query.load(sqlite),
        }
    };
}

/// Inserts `rows` into `table`, a few hundred a statement: within either
/// database's limit of bound values however many rows there are.
macro_rules! insert_in_chunks {
    ($conn:expr, $table:expr, $rows:expr) => {
        $rows.chunks(500).try_for_each(|chunk| {
            execute_on_either!($conn, diesel::insert_into($table).values(chunk)).map(drop)
        })
    };
}

pub mod api_keys;
pub mod audit;
pub mod citus;
mod connection;
pub mod counts;
pub mod custom_fields;
pub mod customers;
mod error;
pub mod feed;
mod group_commit;
pub mod idempotency;
mod ids;
pub mod imports;
pub mod listing;
mod migrations;
pub mod organizations;
pub mod reports;
mod schema;
pub mod sessions;
mod turns;
pub mod users;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::ids::OrganizationId;

pub use connection::{DbConnection, Synchronous, Tuning};
use connection::{Manager, Target};
pub use error::StoreError;
pub use migrations::{run_migrations, run_next_migration};

type Db = <DbConnection as Connection>::Backend;

/// How long a request may wait for a connection before it is told the
/// database is unavailable.
pub const CONNECTION_WAIT: Duration = Duration::from_secs(3);
/// How many times a transaction rolled back in a conflict is run again.
const CONFLICT_RETRIES: u32 = 2;
/// How long a readiness probe waits: it must answer before the probe's own
/// timeout, whatever the queue of API requests.
const PING_WAIT: Duration = Duration::from_secs(1);

/// A pool of connections; clones share it.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<Manager>,
    /// One permit per pooled connection: requests wait for a permit, with a
    /// deadline, on the async executor rather than in the blocking pool's
    /// unbounded queue.
    permits: Arc<Semaphore>,
    /// On SQLite, one permit: write transactions take turns here, on the
    /// async executor, rather than inside SQLite. A transaction waiting in
    /// `BEGIN IMMEDIATE` holds a read mark on the WAL, and with writers
    /// always waiting there no checkpoint could ever finish: the WAL grew
    /// without bound (172 MB in 60 s of creates at 32 connections).
    writer: Option<Arc<Semaphore>>,
    /// On SQLite, the writes waiting for the writer's turn, committed in
    /// groups (see [`group_commit`]).
    queue: Option<Arc<group_commit::Queue>>,
    /// Each organization's share of the permits (see [`for_organization`]).
    shares: Arc<Shares>,
    /// Where [`Database::read`] runs while it answers.
    replica: Option<Arc<Replica>>,
    /// Whether the database is a Citus cluster, known from the first
    /// organization's transaction on (see [`hold_shard_group`]).
    citus: Arc<OnceLock<bool>>,
}

/// A read replica (PostgreSQL), and until when it is left alone after it
/// did not answer.
struct Replica {
    db: Database,
    down_until: std::sync::Mutex<Instant>,
}

/// How long reads stay on the primary after the replica did not answer.
const REPLICA_RETRY: Duration = Duration::from_secs(10);
/// How long a read waits for a connection to the replica before it runs on
/// the primary instead (a replica that refuses connections would otherwise
/// cost each such read the whole [`CONNECTION_WAIT`], as r2d2 retries).
const REPLICA_WAIT: Duration = Duration::from_secs(1);

impl Replica {
    fn answering(&self) -> bool {
        Instant::now() >= *self.down_until.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_answering(&self, answering: bool) {
        let until = match answering {
            true => Instant::now(),
            false => Instant::now() + REPLICA_RETRY,
        };
        *self.down_until.lock().unwrap_or_else(|e| e.into_inner()) = until;
    }
}

tokio::task_local! {
    /// The organization whose request is running, when the request was
    /// started with [`for_organization`].
    static ORGANIZATION: OrganizationId;
}

/// Runs a request's future as `org`'s: its database work then waits for one
/// of `org`'s permits as well as for a connection (within the same
/// deadline), so that one organization cannot hold every connection.
pub async fn for_organization<F: Future>(org: OrganizationId, work: F) -> F::Output {
    ORGANIZATION.scope(org, work).await
}

/// How many connections one organization may hold at once, and the permits
/// of the organizations seen lately (an idle one is forgotten; a permit in
/// use keeps its semaphore alive).
struct Shares {
    per_organization: usize,
    permits: moka::sync::Cache<OrganizationId, Arc<Semaphore>>,
}

impl Shares {
    fn of(&self, org: OrganizationId) -> Arc<Semaphore> {
        self.permits
            .get_with(org, || Arc::new(Semaphore::new(self.per_organization)))
    }
}

impl Database {
    /// Opens a pool without waiting for the database: requests made while it
    /// is down answer 503 and recover by themselves once it is back.
    pub fn open(url: &str, pool_size: u32, tuning: Tuning) -> Result<Self, StoreError> {
        let size = pool_size.max(1);
        let target = Target::from_url(url, tuning).map_err(StoreError::Failed)?;
        let writer = matches!(target, Target::Sqlite { .. }).then(|| Arc::new(Semaphore::new(1)));
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .min_idle(Some(0))
            // A failed query marks a broken connection, so the per-checkout
            // ping that r2d2 does by default only doubles the round trips.
            .test_on_check_out(false)
            .connection_timeout(CONNECTION_WAIT)
            .build_unchecked(Manager(target));
        let per_organization = match tuning.organization_connections {
            0 => (size as usize).saturating_sub(1).max(1),
            n => n,
        };
        Ok(Self {
            pool,
            permits: Arc::new(Semaphore::new(size as usize)),
            queue: writer.as_ref().map(|_| Arc::default()),
            writer,
            shares: Arc::new(Shares {
                per_organization,
                permits: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_idle(Duration::from_secs(600))
                    .build(),
            }),
            replica: None,
            citus: Arc::default(),
        })
    }

    /// Adds a read replica at `url` (PostgreSQL), with a pool like this
    /// one's, opened without waiting for it; see [`Database::read`].
    pub fn with_replica(mut self, url: &str, tuning: Tuning) -> Result<Self, StoreError> {
        let size = self.pool.max_size();
        let replica = Database::open(url, size, tuning)?;
        self.replica = Some(Arc::new(Replica {
            db: replica,
            down_until: std::sync::Mutex::new(Instant::now()),
        }));
        Ok(self)
    }

    /// Runs `work`, a read that may see data a moment old (lists, search,
    /// reports), on the read replica while it answers, else like
    /// [`Database::run`] on the primary. A replica that gives no connection
    /// within [`REPLICA_WAIT`] sends this read and, for [`REPLICA_RETRY`],
    /// the next ones to the primary; work that failed once it had started
    /// on the replica is not run again.
    pub async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut DbConnection) -> Result<T, StoreError> + Send + Sync + 'static,
    {
        let Some(replica) = self.replica.as_ref().filter(|r| r.answering()) else {
            return self.run(work).await;
        };
        let work = Arc::new(work);
        let started = Arc::new(AtomicBool::new(false));
        let (on_replica, flag) = (work.clone(), started.clone());
        let outcome = replica
            .db
            .on_connection(REPLICA_WAIT, None, move |conn| {
                flag.store(true, Ordering::Release);
                on_replica(conn)
            })
            .await;
        match outcome {
            Err(StoreError::Unavailable(cause)) => {
                replica.set_answering(false);
                log::warn!("the read replica does not answer ({cause}): reading from the primary");
                if started.load(Ordering::Acquire) {
                    return Err(StoreError::Unavailable(cause));
                }
                self.run(move |conn| work(conn)).await
            }
            outcome => outcome,
        }
    }

    /// Whether the read replica answers a trivial query within a second;
    /// `None` without one. An answer sends reads back to it at once.
    pub async fn replica_readiness(&self) -> Option<bool> {
        let replica = self.replica.as_ref()?;
        let answers = replica.db.readiness().await.is_ok();
        replica.set_answering(answers);
        Some(answers)
    }

    /// Connects once, outside the pool, and applies pending migrations.
    /// Returns the names of the migrations applied.
    pub fn migrate(url: &str) -> Result<Vec<String>, StoreError> {
        run_migrations(&mut connect(url)?)
    }

    /// Runs `work` (statements that each commit on their own) on a pooled
    /// connection, off the async executor.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        self.on_connection(CONNECTION_WAIT, None, work).await
    }

    /// Runs `work` in one transaction, committed only when it returns `Ok`
    /// and only then acknowledged: the commit's own result is checked (on
    /// SQLite it is where a full disk shows). A transaction that PostgreSQL
    /// rolled back to break a deadlock (or a serialization conflict) had no
    /// effect and is run again, up to [`CONFLICT_RETRIES`] times: the other
    /// side of a deadlock may be anything (on Citus, a migration's DDL in
    /// any schema), and its client did nothing wrong. On SQLite, writes
    /// that wait together share one transaction and one commit, each in a
    /// savepoint of its own ([`group_commit`]); the transaction takes the
    /// writer lock at once (`BEGIN IMMEDIATE`), so a read inside it is
    /// never invalidated by another writer.
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        match (&self.queue, &self.writer) {
            (Some(queue), Some(writer)) => self.grouped(queue, writer, work).await,
            _ => {
                let org = ORGANIZATION.try_with(|org| *org).ok();
                let citus = self.citus.clone();
                self.on_connection(CONNECTION_WAIT, None, move |conn| {
                    in_transaction_run_again(conn, |conn| {
                        hold_shard_group(conn, &citus, org)?;
                        work(conn)
                    })
                })
                .await
            }
        }
    }

    /// Queues `work`, then waits for its answer or for the writer's turn,
    /// whichever comes first (within [`CONNECTION_WAIT`]); with the turn, it
    /// commits the waiting writes as a group, its own among them. A write
    /// still queued when the wait ends is withdrawn, never to run; one a
    /// group took is awaited.
    async fn grouped<T, F>(
        &self,
        queue: &Arc<group_commit::Queue>,
        writer: &Arc<Semaphore>,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let dropped = |_: tokio::sync::oneshot::error::RecvError| {
            Err(StoreError::Failed("a queued write was dropped".into()))
        };
        let mut ticket = queue.push(work);
        let deadline = Instant::now() + CONNECTION_WAIT;
        loop {
            let turn = tokio::select! {
                answer = &mut ticket.reply => return answer.unwrap_or_else(dropped),
                turn = acquire(writer, deadline, "no writer's turn came") => turn,
            };
            let ran = match turn {
                Ok(turn) => match ticket.reply.try_recv() {
                    Ok(answer) => return answer,
                    Err(_) => {
                        let share = self.share(deadline).await;
                        let queue = queue.clone();
                        match share {
                            Ok(share) => {
                                self.holding(deadline, (turn, share), move |conn| {
                                    queue.run_group(conn);
                                    Ok(())
                                })
                                .await
                            }
                            Err(error) => Err(error),
                        }
                    }
                },
                Err(error) => Err(error),
            };
            match ticket.reply.try_recv() {
                Ok(answer) => return answer,
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                    return Err(StoreError::Failed("a queued write was dropped".into()));
                }
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
            }
            // Still queued after a group of others: wait again.
            if let Err(error) = ran {
                if ticket.withdraw() {
                    return Err(error);
                }
                return (&mut ticket.reply).await.unwrap_or_else(dropped);
            }
        }
    }

    /// Waits for a connection for at most `wait` in all (the `turn`, when
    /// given, then a connection permit, then the pool), then runs `work` on
    /// it in the blocking pool.
    async fn on_connection<T, F>(
        &self,
        wait: Duration,
        turn: Option<&Arc<Semaphore>>,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let deadline = Instant::now() + wait;
        let share = self.share(deadline).await?;
        let turn = match turn {
            Some(semaphore) => Some(acquire(semaphore, deadline, "no writer's turn came").await?),
            None => None,
        };
        self.holding(deadline, (turn, share), work).await
    }

    /// The request's organization's share of the connections (see
    /// [`for_organization`]), by `deadline`; none outside a request.
    async fn share(&self, deadline: Instant) -> Result<Option<OwnedSemaphorePermit>, StoreError> {
        match ORGANIZATION.try_with(|org| *org) {
            Ok(org) => {
                let what = "the organization held its share of the connections: none became free";
                Ok(Some(acquire(&self.shares.of(org), deadline, what).await?))
            }
            Err(_) => Ok(None),
        }
    }

    /// Runs `work` on a connection (a permit, then the pool, by
    /// `deadline`) in the blocking pool, `held` kept until it is done.
    async fn holding<T, F>(
        &self,
        deadline: Instant,
        held: impl Send + 'static,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = (
            acquire(
                &self.permits,
                deadline,
                "no database connection became free",
            )
            .await?,
            held,
        );
        let abandoned = Abandoned::default();
        let flag = abandoned.0.clone();
        let pool = self.pool.clone();
        let outcome = actix_web::rt::task::spawn_blocking(move || {
            let _permit = permit;
            // Work whose request is gone (its client left while it waited)
            // never starts.
            if flag.load(Ordering::Acquire) {
                return Err(StoreError::Abandoned);
            }
            let wait = deadline.saturating_duration_since(Instant::now());
            let mut conn = pool.get_timeout(wait)?;
            with_outage_detection(&mut conn, work)
        })
        .await;
        abandoned.disarm();
        outcome.map_err(|e| StoreError::Failed(format!("database task failed: {e}")))?
    }

    /// Runs `work` on a pooled connection in the calling thread, for code
    /// that is already off the async executor.
    pub fn run_blocking<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool.get()?;
        with_outage_detection(&mut conn, work)
    }

    /// Open and idle connections in the pool.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// Whether this is an SQLite database (whose WAL [`Database::checkpoint`]
    /// keeps small).
    pub fn is_sqlite(&self) -> bool {
        self.writer.is_some()
    }

    /// On SQLite, copies the WAL into the database and truncates it to
    /// nothing, taking its turn among the writers; SQLite's own automatic
    /// checkpoints keep the WAL near 4 MB under load but never shrink the
    /// file. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        match &self.writer {
            Some(writer) => {
                self.on_connection(CONNECTION_WAIT, Some(writer), |conn| {
                    Ok(conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")?)
                })
                .await
            }
            None => Ok(()),
        }
    }

    /// Whether the database answers a trivial query, within a second; on a
    /// Citus coordinator, also which workers answer.
    pub async fn readiness(&self) -> Result<Option<Vec<citus::Worker>>, StoreError> {
        self.on_connection(PING_WAIT, None, |conn| {
            conn.batch_execute("SELECT 1")?;
            citus::workers(conn)
        })
        .await
    }
}

/// On Citus, holds the organization's shard group in place for the rest of
/// an organization's transaction ([`citus::hold_shard_group`]): a shard move
/// never cuts over in the middle of one. Nothing to do elsewhere, or for
/// work that is no organization's.
fn hold_shard_group(
    conn: &mut DbConnection,
    citus: &OnceLock<bool>,
    org: Option<OrganizationId>,
) -> Result<(), StoreError> {
    let (Some(org), DbConnection::Pg(pg)) = (org, conn) else {
        return Ok(());
    };
    let on_citus = match citus.get() {
        Some(known) => *known,
        None => {
            let installed = citus::installed(pg)?;
            *citus.get_or_init(|| installed)
        }
    };
    if on_citus {
        citus::hold_shard_group(pg, org)?;
    }
    Ok(())
}

/// A permit of `semaphore` by `deadline`, else `what` did not happen in time.
async fn acquire(
    semaphore: &Arc<Semaphore>,
    deadline: Instant,
    what: &'static str,
) -> Result<OwnedSemaphorePermit, StoreError> {
    tokio::time::timeout_at(deadline.into(), semaphore.clone().acquire_owned())
        .await
        .map_err(|_| StoreError::Unavailable(format!("{what} in time")))?
        .map_err(|_| StoreError::Unavailable("the pool is closed".into()))
}

/// Set when the future waiting for a piece of work is dropped (its request
/// was abandoned); disarmed once the work has answered.
#[derive(Default)]
struct Abandoned(Arc<AtomicBool>);

impl Abandoned {
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// A connection that broke mid-query (the server went away) is an outage,
/// whatever error text the driver chose; the pool then drops it.
fn with_outage_detection<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match work(conn) {
        Err(StoreError::Failed(cause)) if conn.is_broken() => Err(StoreError::Unavailable(cause)),
        outcome => outcome,
    }
}

/// Runs `work` in one transaction on `conn`, and again (up to
/// [`CONFLICT_RETRIES`] times) when the database rolled it back in a
/// conflict with another transaction (see [`Database::transaction`]).
pub fn in_transaction_run_again<T>(
    conn: &mut DbConnection,
    work: impl Fn(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut conflicts = 0;
    loop {
        match in_transaction(conn, &work) {
            Err(StoreError::Conflict(cause)) if conflicts < CONFLICT_RETRIES => {
                conflicts += 1;
                log::info!("transaction run again after: {cause}");
            }
            outcome => return outcome,
        }
    }
}

/// Runs `work` in one transaction on `conn` (see [`Database::transaction`]).
pub fn in_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    begun_with(conn, "BEGIN", "BEGIN IMMEDIATE", work)
}

/// Runs `work` in one read-only transaction that sees a single snapshot of
/// the database throughout: REPEATABLE READ on PostgreSQL; on SQLite a read
/// transaction, whose WAL snapshot holds until it ends.
pub fn in_snapshot<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    begun_with(
        conn,
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        "BEGIN DEFERRED",
        work,
    )
}

/// Runs `work` in a transaction begun with each database's statement;
/// commits when it returns `Ok`, and only then answers `Ok`.
fn begun_with<T>(
    conn: &mut DbConnection,
    pg_begin: &str,
    sqlite_begin: &str,
    work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match conn {
        DbConnection::Pg(pg) => AnsiTransactionManager::begin_transaction_sql(pg, pg_begin)?,
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, sqlite_begin)?
        }
    }
    match work(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            // The connection is dropped by the pool if even this fails.
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(error)
        }
    }
}

/// One connection outside any pool, for start-up, commands and tests; says
/// in the log which database it opened (an SQLite path is created when
/// missing, so a mistyped one shows here).
pub fn connect(url: &str) -> Result<DbConnection, StoreError> {
    let target = Target::from_url(url, Tuning::default()).map_err(StoreError::Failed)?;
    log::info!("database: {}", target.describe());
    target
        .connect()
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// Whether `url` names a database this service can use; says why not.
pub fn check_url(url: &str) -> Result<(), String> {
    Target::from_url(url, Tuning::default()).map(drop)
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    matches!(
        Target::from_url(url, Tuning::default()),
        Ok(Target::Postgres { .. })
    )
}

/// What `url` names, for a log line (never its credentials): `SQLite file
/// /abs/path.db` or `PostgreSQL at host:port/db`.
pub fn describe(url: &str) -> String {
    Target::from_url(url, Tuning::default()).map_or_else(|e| e, |target| target.describe())
}
