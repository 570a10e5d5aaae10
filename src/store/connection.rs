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

/// How much of an SQLite file is read through a memory map.
const MMAP_BYTES: u64 = 256 << 20;

/// Which database a URL names: `postgres://…`/`postgresql://…`, else SQLite
/// (`sqlite://path` or a bare path).
#[derive(Clone)]
pub(super) enum Target {
    Postgres(String),
    Sqlite {
        path: String,
        synchronous: Synchronous,
    },
}

impl Target {
    /// An unknown scheme (`mysql://…`) is refused by name rather than
    /// taken for a file name.
    pub(super) fn from_url(url: &str, synchronous: Synchronous) -> Result<Self, String> {
        match url.split_once("://") {
            Some(("postgres" | "postgresql", _)) => Ok(Self::Postgres(url.to_owned())),
            Some(("sqlite", path)) => Ok(Self::sqlite(path, synchronous)),
            Some((scheme, _)) => Err(format!(
                "the database URL scheme {scheme:?} is not supported: use postgres://, postgresql:// or sqlite://"
            )),
            None => Ok(Self::sqlite(url, synchronous)),
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
            Self::Postgres(url) => {
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
            Self::Postgres(url) => PgConnection::establish(url).map(DbConnection::Pg),
            Self::Sqlite { path, synchronous } => {
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
                // (docs/performance.md).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON; \
                     PRAGMA mmap_size = {MMAP_BYTES};"
                ))
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
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
