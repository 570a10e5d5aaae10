//! Connections to either database, and the pool's manager.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use serde::Deserialize;

/// A connection to either database; Diesel generates one backend type that
/// the queries are written against.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConnection {
    pub fn is_broken(&mut self) -> bool {
        match self {
            Self::Pg(c) => c.is_broken(),
            Self::Sqlite(c) => c.is_broken(),
        }
    }
}

/// How SQLite makes a commit durable (its `synchronous` setting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum Synchronous {
    /// Every commit is on disk when it is acknowledged, also across an
    /// operating-system crash or power loss.
    #[default]
    Full,
    /// Faster commits; an operating-system crash or power loss may roll
    /// back the last acknowledged ones (a crash of the process may not).
    Normal,
}

impl TryFrom<String> for Synchronous {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        match name.to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            _ => Err(format!(
                "sqlite_synchronous must be full or normal, not {name:?}"
            )),
        }
    }
}

/// How connections are set up, beyond what the URL says.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tuning {
    /// SQLite's durability.
    pub synchronous: Synchronous,
    /// PostgreSQL's `statement_timeout`: a statement running longer is
    /// cancelled (answered 503), so that no request holds a connection for
    /// long. `None`: the server's own setting.
    pub statement_timeout: Option<std::time::Duration>,
    /// Connections one organization may hold at once; 0: one fewer than
    /// the pool (at least one).
    pub organization_connections: usize,
}

/// How much of an SQLite file is read through a memory map.
const MMAP_BYTES: u64 = 256 << 20;

/// Which database a URL names: `postgres://…`/`postgresql://…`, else SQLite
/// (`sqlite://path` or a bare path).
#[derive(Clone)]
pub(super) enum Target {
    Postgres {
        url: String,
        statement_timeout: Option<std::time::Duration>,
    },
    Sqlite {
        path: String,
        synchronous: Synchronous,
    },
}

impl Target {
    /// An unknown scheme (`mysql://…`) is refused by name rather than
    /// taken for a file name.
    pub(super) fn from_url(url: &str, tuning: Tuning) -> Result<Self, String> {
        match url.split_once("://") {
            Some(("postgres" | "postgresql", _)) => Ok(Self::Postgres {
                url: url.to_owned(),
                statement_timeout: tuning.statement_timeout,
            }),
            Some(("sqlite", path)) => Ok(Self::sqlite(path, tuning.synchronous)),
            Some((scheme, _)) => Err(format!(
                "the database URL scheme {scheme:?} is not supported: use postgres://, postgresql:// or sqlite://"
            )),
            None => Ok(Self::sqlite(url, tuning.synchronous)),
        }
    }

    fn sqlite(path: &str, synchronous: Synchronous) -> Self {
        Self::Sqlite {
            path: path.to_owned(),
            synchronous,
        }
    }

    /// What the URL names, for the log: never its credentials.
    pub(super) fn describe(&self) -> String {
        match self {
            Self::Postgres { url, .. } => {
                let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
                let place = rest.rsplit_once('@').map_or(rest, |(_, place)| place);
                format!("PostgreSQL at {}", place.split('?').next().unwrap_or(place))
            }
            Self::Sqlite { path, .. } => {
                let absolute = std::path::absolute(path).unwrap_or_else(|_| path.into());
                format!("SQLite file {}", absolute.display())
            }
        }
    }

    /// Connects with the backend's own error, which the enum's `establish`
    /// would hide behind "invalid connection url".
    pub(super) fn connect(&self) -> ConnectionResult<DbConnection> {
        match self {
            Self::Postgres {
                url,
                statement_timeout,
            } => {
                let mut conn = PgConnection::establish(url)?;
                // Every statement here is short; JIT compiling one whose
                // estimate is high only adds milliseconds to it.
                // Times cast to text read `YYYY-MM-DD HH:MM:SS`, as SQLite
                // stores them, whatever the server's default (the stats group
                // by their prefix).
                conn.batch_execute("SET jit = off; SET DateStyle = ISO")
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                if let Some(timeout) = statement_timeout {
                    conn.batch_execute(&format!("SET statement_timeout = {}", timeout.as_millis()))
                        .map_err(ConnectionError::CouldntSetupConfiguration)?;
                }
                Ok(DbConnection::Pg(conn))
            }
            Self::Sqlite { path, synchronous } => {
                create_private(path);
                let mut conn = SqliteConnection::establish(path)?;
                let synchronous = match synchronous {
                    Synchronous::Full => "FULL",
                    Synchronous::Normal => "NORMAL",
                };
                // busy_timeout first: the WAL switch itself may wait for a lock.
                // Reads through a memory map: with each connection copying
                // pages in through pread into its own small page cache,
                // concurrent scans cost three times the CPU of one alone,
                // mostly in the kernel and in lock contention (perf); mapped,
                // a rare-term search costs the same at 32 connections as at 1
                // (docs/performance.md). Savepoints' journals (one per write
                // of a group) in memory: on disk, past 64 KiB, each write's
                // pages were copied out to a temporary file.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON; \
                     PRAGMA mmap_size = {MMAP_BYTES}; PRAGMA temp_store = MEMORY;"
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                warn_once_unless_planner_is_stable(&mut conn);
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// Whether this SQLite was built with its query planner stability
/// guarantee (`SQLITE_ENABLE_QPSG`, set in `.cargo/config.toml`). Without
/// it SQLite reads a bound `LIMIT ?` while planning, so every run of such a
/// statement (Diesel's `first()`, every page of a list) prepares it anew:
/// half of a get by id's CPU (docs/storage.md).
fn planner_is_stable(conn: &mut SqliteConnection) -> bool {
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
        "sqlite_compileoption_used('ENABLE_QPSG')",
    ))
    .get_result(conn)
    .unwrap_or(false)
}

fn warn_once_unless_planner_is_stable(conn: &mut SqliteConnection) {
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        if !planner_is_stable(conn) {
            log::warn!(
                "SQLite was built without SQLITE_ENABLE_QPSG (build from the repository, whose \
                 .cargo/config.toml sets it): statements with a LIMIT are prepared on every run"
            );
        }
    });
}

/// Creates a missing SQLite file readable by its owner only (SQLite would
/// create it as the umask allows, typically 0644, and gives its -wal and
/// -shm files the database file's mode). A path SQLite reads otherwise
/// (`:memory:`, `file:` URIs) or cannot create here is left to SQLite.
fn create_private(path: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    if path.starts_with(':') || path.starts_with("file:") {
        return;
    }
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
}

pub(super) struct Manager(pub(super) Target);

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
        conn.is_broken()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_sqlite_keeps_its_plans() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        assert!(planner_is_stable(&mut conn));
    }
}
