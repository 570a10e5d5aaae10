//! The only module that speaks Diesel. One set of queries serves PostgreSQL
//! and SQLite through [`DbConnection`]; every function that touches tenant
//! data takes the organization first.

pub mod api_keys;
pub mod customers;
pub mod organizations;
mod schema;

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// A connection to either database; Diesel generates one backend type that
/// the queries are written against.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

type Db = <DbConnection as Connection>::Backend;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A database failure, split by what the client should be told.
#[derive(Debug, Clone)]
pub enum StoreError {
    /// The database cannot be reached or is overloaded: worth a retry (503).
    Unavailable(String),
    /// A row kept changing under an update: the client may retry (409).
    Contended,
    /// Anything else: a bug or a broken database (500, logged).
    Failed(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(cause) => write!(f, "database unavailable: {cause}"),
            Self::Contended => write!(f, "the row kept changing under the update"),
            Self::Failed(cause) => write!(f, "database error: {cause}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<diesel::result::Error> for StoreError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match &error {
            Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, _)
            | Error::BrokenTransactionManager => Self::Unavailable(error.to_string()),
            // SQLite's writer lock stayed taken for the whole busy timeout.
            Error::DatabaseError(_, info) if info.message().contains("database is locked") => {
                Self::Unavailable(error.to_string())
            }
            _ => Self::Failed(error.to_string()),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(error: r2d2::Error) -> Self {
        Self::Unavailable(error.to_string())
    }
}

/// Which database a URL names: `postgres://…`/`postgresql://…`, else SQLite
/// (`sqlite://path` or a bare path).
#[derive(Clone)]
enum Target {
    Postgres(String),
    Sqlite(String),
}

impl Target {
    fn from_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres(url.to_owned())
        } else {
            Self::Sqlite(url.strip_prefix("sqlite://").unwrap_or(url).to_owned())
        }
    }

    /// Connects with the backend's own error, which the enum's `establish`
    /// would hide behind "invalid connection url".
    fn connect(&self) -> ConnectionResult<DbConnection> {
        match self {
            Self::Postgres(url) => PgConnection::establish(url).map(DbConnection::Pg),
            Self::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                // busy_timeout first: the WAL switch itself may wait for a lock.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

struct Manager(Target);

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<DbConnection, ConnectionError> {
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectionError> {
        conn.batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        Self::broken(conn)
    }
}

impl Manager {
    fn broken(conn: &mut DbConnection) -> bool {
        match conn {
            DbConnection::Pg(c) => c.is_broken(),
            DbConnection::Sqlite(c) => c.is_broken(),
        }
    }
}

/// A pool of connections; clones share it.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<Manager>,
}

impl Database {
    /// Opens a pool without waiting for the database: requests made while it
    /// is down answer 503 and recover by themselves once it is back.
    pub fn open(url: &str, pool_size: u32) -> Self {
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(0))
            // A failed query marks a broken connection, so the per-checkout
            // ping that r2d2 does by default only doubles the round trips.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(3))
            .build_unchecked(Manager(Target::from_url(url)));
        Self { pool }
    }

    /// Connects once, outside the pool, and applies pending migrations.
    /// Returns the names of the migrations applied.
    pub fn migrate(url: &str) -> Result<Vec<String>, StoreError> {
        run_migrations(&mut connect(url)?)
    }

    /// Runs blocking Diesel work on actix's blocking thread pool, so the
    /// async workers never wait on the database.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let this = self.clone();
        actix_web::web::block(move || this.run_blocking(work))
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?
    }

    /// Open and idle connections in the pool.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }

    /// Runs Diesel work on a pooled connection in the calling thread, for
    /// code that is already off the async executor.
    pub fn run_blocking<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.pool.get()?;
        match work(&mut conn) {
            // A connection that broke mid-query (the server went away) is an
            // outage, whatever error text the driver chose; the pool drops it.
            Err(StoreError::Failed(cause)) if Manager::broken(&mut conn) => {
                Err(StoreError::Unavailable(cause))
            }
            outcome => outcome,
        }
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| Ok(conn.batch_execute("SELECT 1")?)).await
    }
}

/// One connection outside any pool, for commands and tests.
pub fn connect(url: &str) -> Result<DbConnection, StoreError> {
    Target::from_url(url)
        .connect()
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// Applies pending migrations on `conn`; returns their names.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Failed(e.to_string());
    let names = |versions: Vec<diesel::migration::MigrationVersion<'_>>| -> Vec<String> {
        versions.iter().map(ToString::to_string).collect()
    };
    match conn {
        DbConnection::Pg(pg) => {
            // Several instances may start at once: let one migrate at a time.
            pg.batch_execute("SELECT pg_advisory_lock(7201202611)")?;
            let applied = pg.run_pending_migrations(PG_MIGRATIONS).map(names);
            pg.batch_execute("SELECT pg_advisory_unlock(7201202611)")?;
            applied.map_err(failed)
        }
        DbConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(names)
            .map_err(failed),
    }
}

/// Now, to the millisecond: both databases then hold exactly what clients see.
pub fn now() -> NaiveDateTime {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis())
        .unwrap_or(now)
        .naive_utc()
}
