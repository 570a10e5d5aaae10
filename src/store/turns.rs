//! Turns that one instance at a time takes across the whole deployment: a
//! turn is its row of `turns`, locked in the turn's transaction with
//! `FOR UPDATE SKIP LOCKED`, so an instance that finds it taken skips the
//! turn rather than waiting, and a crashed holder's lock goes with its
//! connection. A row lock, not an advisory lock: on Citus the row lives on
//! one shard, so servers connected to different nodes meet on it, where an
//! advisory lock holds only on the node that took it.

use diesel::prelude::*;

use super::schema::turns;
use super::{DbConnection, StoreError};

/// The turns there are, each a row the migration that made `turns` wrote.
#[derive(Debug, Clone, Copy)]
pub enum Turn {
    /// Numbering the committed events ([`super::feed::sequence`]).
    EventSequencer,
}

impl Turn {
    fn name(self) -> &'static str {
        match self {
            Self::EventSequencer => "event-sequencer",
        }
    }
}

/// A turn of the whole deployment belongs to no organization.
const NO_ORGANIZATION: &str = "";

/// Takes `turn` until the current transaction ends; `false` when another
/// instance holds it. SQLite has one writer, whose transaction is already
/// the only one: the turn is always free there.
pub fn take(conn: &mut DbConnection, turn: Turn) -> Result<bool, StoreError> {
    match conn {
        DbConnection::Pg(pg) => {
            let held: Vec<String> = turns::table
                .filter(turns::organization_id.eq(NO_ORGANIZATION))
                .filter(turns::name.eq(turn.name()))
                .select(turns::name)
                .for_update()
                .skip_locked()
                .load(pg)?;
            Ok(!held.is_empty())
        }
        DbConnection::Sqlite(_) => Ok(true),
    }
}
