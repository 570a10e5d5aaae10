//! Database failures, sorted by what the client should be told. The cause
//! is kept for the log line of the request that met it, never for the
//! client.

use std::fmt;

use diesel::result::{DatabaseErrorKind, Error};

use crate::domain::refusal::Refusal;

#[derive(Debug, Clone)]
pub enum StoreError {
    /// The write ran and found it must change nothing (no such record, an
    /// `If-Match` that does not hold, a taken name): what the client is
    /// told, and what an Idempotency-Key keeps.
    Refused(Refusal),
    /// The database cannot be reached, is overloaded, or holds a lock too
    /// long: worth a retry (503).
    Unavailable(String),
    /// The storage is full: nothing more can be written until an operator
    /// frees space (507).
    StorageFull(String),
    /// A unique key already holds the value; `constraint` names the key
    /// (PostgreSQL's index name, or SQLite's `table.column` list).
    UniqueViolation { constraint: String },
    /// The database rolled this transaction back to resolve a conflict
    /// with another (a deadlock, a serialization failure): it had no
    /// effect, and may be run again.
    Conflict(String),
    /// The request was given up (its client went away) before the work
    /// started, so it never ran.
    Abandoned,

    /// Anything else: a bug or a broken database (500).
    Failed(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(refusal) => write!(f, "refused: {refusal:?}"),
            Self::Unavailable(cause) => write!(f, "database unavailable: {cause}"),
            Self::StorageFull(cause) => write!(f, "storage full: {cause}"),
            Self::UniqueViolation { constraint } => write!(f, "unique key {constraint} is taken"),
            Self::Conflict(cause) => write!(f, "rolled back in a conflict: {cause}"),
            Self::Abandoned => f.write_str("abandoned before it started"),

            Self::Failed(cause) => write!(f, "database error: {cause}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// Texts by which the databases report a full disk (SQLite's SQLITE_FULL,
/// PostgreSQL's 53100 "could not extend file ...: No space left on device").
/// Diesel exposes neither error code, only the message.
const FULL: [&str; 2] = ["database or disk is full", "No space left on device"];
/// Texts of failures that a retry may not meet: SQLite's busy lock and
/// failing I/O, PostgreSQL's cancelled statements, a Citus worker that does
/// not answer, and a Citus shard that moved or split under a statement or a
/// transaction (whose statements then reached both of its placements:
/// Citus refuses the next one that needs both, and the transaction rolls
/// back).
const TRANSIENT: [&str; 7] = [
    "database is locked",
    "database table is locked",
    "disk I/O error",
    "canceling statement due to",
    "connection to the remote node",
    "could not find valid entry for shard",
    "placements that were modified over multiple connections",
];
/// PostgreSQL's "deadlock detected" (40P01, which Diesel does not name) and
/// Citus' "… involved in a distributed deadlock".
const DEADLOCK: &str = "deadlock";

impl From<Error> for StoreError {
    fn from(error: Error) -> Self {
        if let Error::RollbackErrorOnCommit { commit_error, .. } = error {
            return Self::from(*commit_error);
        }
        match &error {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Self::UniqueViolation {
                    constraint: info
                        .constraint_name()
                        .map(str::to_owned)
                        .unwrap_or_else(|| {
                            let message = info.message();
                            message.rsplit(": ").next().unwrap_or(message).to_owned()
                        }),
                }
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                Self::Conflict(error.to_string())
            }
            Error::DatabaseError(_, info) if info.message().contains(DEADLOCK) => {
                Self::Conflict(error.to_string())
            }
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            )
            | Error::BrokenTransactionManager => Self::Unavailable(error.to_string()),
            Error::DatabaseError(_, info) if FULL.iter().any(|t| info.message().contains(t)) => {
                Self::StorageFull(error.to_string())
            }
            Error::DatabaseError(_, info)
                if TRANSIENT.iter().any(|t| info.message().contains(t)) =>
            {
                Self::Unavailable(error.to_string())
            }
            _ => Self::Failed(error.to_string()),
        }
    }
}

impl From<Refusal> for StoreError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(error: r2d2::Error) -> Self {
        Self::Unavailable(error.to_string())
    }
}
