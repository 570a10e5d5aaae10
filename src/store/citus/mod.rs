//! Scale-out on Citus: the tables distributed by organization, and the
//! state of the workers. PostgreSQL only: Citus is an extension of it.

use diesel::connection::SimpleConnection;
use diesel::sql_types::{Bool, Integer, Text};
use diesel::{Connection, RunQueryDsl};
use serde::Serialize;

mod growth;
mod node;
mod own_worker;
mod status;
mod tables;

pub use growth::{AddedWorker, Isolated, NodeAddress, Rebalance, add_worker, isolate, rebalance};
pub use node::worker_group;
pub use status::{LARGEST, Node, Placed, Status, status};

use node::coordinator;
pub(crate) use node::installed;
use tables::ANCHOR;
pub use tables::REFERENCE_TABLES;

use super::{DbConnection, StoreError};
use crate::domain::ids::OrganizationId;

/// What `distribute` did.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Distribution {
    /// Tables made reference tables now.
    pub reference_tables: Vec<String>,
    /// Tables distributed by `organization_id` now, colocated with customers.
    pub distributed_tables: Vec<String>,
    /// Tables that already were either.
    pub unchanged: Vec<String>,
}

#[derive(diesel::QueryableByName)]
struct Table {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    distributed: bool,
    #[diesel(sql_type = Bool)]
    tenant: bool,
}

/// Makes the reference tables and distributes every tenant table of the
/// current schema by `organization_id`, colocated with `customers`; tables
/// already distributed are left as they are, so it is safe to run again, and
/// after any migration. A table that is neither a reference table nor keyed
/// by organization is refused by name.
pub fn distribute(conn: &mut DbConnection) -> Result<Distribution, StoreError> {
    let pg = coordinator(conn)?;
    let mut tables: Vec<Table> = diesel::sql_query(
        "SELECT c.relname::text AS name, \
                EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid) AS distributed, \
                EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                        AND a.attname = 'organization_id' AND NOT a.attisdropped) AS tenant \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
    )
    .load(pg)?;
    // Reference tables first, in the order of REFERENCE_TABLES (each refers
    // only to those before it; tenant tables refer to them), then the
    // anchor, then every other tenant table, colocated with it.
    tables.sort_by_key(|t| {
        let reference = REFERENCE_TABLES.iter().position(|r| *r == t.name);
        (
            reference.unwrap_or(REFERENCE_TABLES.len()),
            t.name != ANCHOR,
            t.name.clone(),
        )
    });
    let mut done = Distribution::default();
    for table in tables {
        let name = table.name;
        if table.distributed {
            done.unchanged.push(name);
        } else if REFERENCE_TABLES.contains(&name.as_str()) {
            pg.batch_execute(&format!("SELECT create_reference_table('{name}')"))?;
            done.reference_tables.push(name);
        } else if table.tenant {
            let colocation = match name == ANCHOR {
                true => String::new(),
                false => format!(", colocate_with => '{ANCHOR}'"),
            };
            pg.batch_execute(&format!(
                "SELECT create_distributed_table('{name}', 'organization_id'{colocation})"
            ))?;
            done.distributed_tables.push(name);
        } else {
            return Err(StoreError::Failed(format!(
                "table {name} has no organization_id and is not a reference table"
            )));
        }
    }
    Ok(done)
}

/// Holds `org`'s shard group where it is until the transaction ends: a
/// share of the lock Citus itself takes on a shard's placements before it
/// moves or splits them (`lock_shard_metadata`, exclusive, on every node).
/// A tenant write takes it first, so a move's cut-over waits for the
/// transaction, and a transaction begun after waits for the cut-over. Citus
/// takes this lock only for statements that write; a transaction that
/// began with `SELECT … FOR UPDATE` took none, and one spanning a cut-over
/// sent its first statements to the placement the move left and its later
/// ones to the new one: committed, it lost what went to the old. The lock
/// covers every table colocated with customers (Citus keys it by shard
/// group); it asks that the server's user own the tables, as the one that
/// migrates does.
pub(crate) fn hold_shard_group(
    pg: &mut diesel::PgConnection,
    org: OrganizationId,
) -> Result<(), StoreError> {
    const SHARE_LOCK: i32 = 5;
    diesel::sql_query(format!(
        "SELECT lock_shard_metadata({SHARE_LOCK}, \
         ARRAY[get_shard_id_for_distribution_column('{ANCHOR}', $1)])"
    ))
    .bind::<Text, _>(org)
    .execute(pg)?;
    Ok(())
}

/// A worker node and whether it answered.
#[derive(Debug, Clone, Serialize)]
pub struct Worker {
    pub node: String,
    pub ready: bool,
}

/// The workers of a Citus coordinator, each asked to answer `SELECT 1`;
/// `None` on a database without Citus.
pub fn workers(conn: &mut DbConnection) -> Result<Option<Vec<Worker>>, StoreError> {
    let DbConnection::Pg(pg) = conn else {
        return Ok(None);
    };
    if !installed(pg)? {
        return Ok(None);
    }
    #[derive(diesel::QueryableByName)]
    struct Answer {
        #[diesel(sql_type = Text)]
        nodename: String,
        #[diesel(sql_type = Integer)]
        nodeport: i32,
        #[diesel(sql_type = Bool)]
        success: bool,
    }
    // A worker that hangs must not hold the readiness probe for Citus's
    // 30 s connection timeout.
    let answers: Vec<Answer> = pg.transaction(|pg| {
        pg.batch_execute("SET LOCAL citus.node_connection_timeout = 1000")?;
        diesel::sql_query(
            "SELECT nodename, nodeport, success FROM run_command_on_workers('SELECT 1') ORDER BY 1, 2",
        )
        .load(pg)
    })?;
    Ok(Some(
        answers
            .into_iter()
            .map(|a| Worker {
                node: format!("{}:{}", a.nodename, a.nodeport),
                ready: a.success,
            })
            .collect(),
    ))
}
