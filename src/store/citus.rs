//! Scale-out on Citus: the tables distributed by organization, and the
//! state of the workers. PostgreSQL only: Citus is an extension of it.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Bool, Integer, Text};
use diesel::{Connection, RunQueryDsl};
use serde::Serialize;

use super::{DbConnection, StoreError};

/// Small tables every node holds whole: what a request needs before it
/// knows its organization (keys, people and their sessions), what every
/// tenant row refers to, and the migrations' own bookkeeping (so that any
/// node knows what has run).
pub const REFERENCE_TABLES: [&str; 5] = [
    "organizations",
    "api_keys",
    "users",
    "sessions",
    "__diesel_schema_migrations",
];
/// The table every other tenant table is colocated with.
const ANCHOR: &str = "customers";

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

fn citus(conn: &mut DbConnection) -> Result<&mut PgConnection, StoreError> {
    let refused = || {
        StoreError::Failed(
            "this database is not a Citus coordinator: the citus extension is not installed here"
                .into(),
        )
    };
    match conn {
        DbConnection::Pg(pg) => match installed(pg)? {
            true => Ok(pg),
            false => Err(refused()),
        },
        DbConnection::Sqlite(_) => Err(refused()),
    }
}

fn installed(pg: &mut PgConnection) -> Result<bool, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Installed {
        #[diesel(sql_type = Bool)]
        installed: bool,
    }
    let row: Installed = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS installed",
    )
    .get_result(pg)?;
    Ok(row.installed)
}

/// Refuses a Citus worker. Application servers connect to the coordinator
/// only: the mechanisms that take turns across instances (the event
/// sequencer, migrations) rely on advisory locks, which hold on the node
/// that took them, so two servers on two nodes would both take them.
pub fn refuse_worker(pg: &mut PgConnection) -> Result<(), StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Group {
        #[diesel(sql_type = Integer)]
        groupid: i32,
    }
    if !installed(pg)? {
        return Ok(());
    }
    let group: Group =
        diesel::sql_query("SELECT groupid FROM pg_dist_local_group").get_result(pg)?;
    match group.groupid {
        0 => Ok(()),
        n => Err(StoreError::Failed(format!(
            "this database is a Citus worker (group {n}): connect clientele to the coordinator \
             (docs/scaling.md)"
        ))),
    }
}

/// Makes the reference tables and distributes every tenant table of the
/// current schema by `organization_id`, colocated with `customers`; tables
/// already distributed are left as they are, so it is safe to run again, and
/// after any migration. A table that is neither a reference table nor keyed
/// by organization is refused by name.
pub fn distribute(conn: &mut DbConnection) -> Result<Distribution, StoreError> {
    let pg = citus(conn)?;
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

/// How many organizations [`status`] names, the largest first.
pub const LARGEST: i64 = 10;

/// What `clientele citus status` prints: each node with its shard
/// placements and their bytes, and the largest organizations with the
/// node that holds them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub nodes: Vec<Node>,
    pub largest_organizations: Vec<Placed>,
}

#[derive(Debug, Serialize, diesel::QueryableByName)]
pub struct Node {
    #[diesel(sql_type = Text)]
    pub node: String,
    /// `coordinator` or `worker`.
    #[diesel(sql_type = Text)]
    pub role: String,
    #[diesel(sql_type = BigInt)]
    pub shards: i64,
    #[diesel(sql_type = BigInt)]
    pub bytes: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Placed {
    pub organization_id: String,
    /// Stored customers, deleted ones too (the kept counts and the changes
    /// not yet folded into them).
    pub customers: i64,
    /// The shard of `customers` (and of every colocated table) it is on.
    pub shard: i64,
    pub node: String,
}

/// The cluster as an operator reads it before growing it: read from
/// Citus's metadata and the customers' kept counts, never a scan.
pub fn status(conn: &mut DbConnection) -> Result<Status, StoreError> {
    let pg = citus(conn)?;
    let nodes: Vec<Node> = diesel::sql_query(
        "SELECT n.nodename || ':' || n.nodeport AS node, \
                CASE WHEN n.groupid = 0 THEN 'coordinator' ELSE 'worker' END AS role, \
                count(s.shardid) AS shards, coalesce(sum(s.shard_size), 0)::bigint AS bytes \
         FROM pg_dist_node n LEFT JOIN citus_shards s \
              ON s.nodename = n.nodename AND s.nodeport = n.nodeport \
         WHERE n.noderole = 'primary' \
         GROUP BY n.nodename, n.nodeport, n.groupid ORDER BY 1",
    )
    .load(pg)?;
    #[derive(diesel::QueryableByName)]
    struct Largest {
        #[diesel(sql_type = Text)]
        organization_id: String,
        #[diesel(sql_type = BigInt)]
        customers: i64,
    }
    let largest: Vec<Largest> = diesel::sql_query(format!(
        "SELECT organization_id, sum(n)::bigint AS customers FROM \
         (SELECT organization_id, total AS n FROM customer_counts \
          UNION ALL SELECT organization_id, delta FROM customer_count_changes) AS counted \
         GROUP BY organization_id ORDER BY 2 DESC, 1 LIMIT {LARGEST}"
    ))
    .load(pg)?;
    #[derive(diesel::QueryableByName)]
    struct Shard {
        #[diesel(sql_type = BigInt)]
        shard: i64,
        #[diesel(sql_type = Text)]
        node: String,
    }
    let mut placed = Vec::with_capacity(largest.len());
    for Largest {
        organization_id,
        customers,
    } in largest
    {
        let Shard { shard, node } = diesel::sql_query(
            "SELECT s.shardid AS shard, s.nodename || ':' || s.nodeport AS node FROM citus_shards s \
             WHERE s.shardid = get_shard_id_for_distribution_column('customers', $1) LIMIT 1",
        )
        .bind::<Text, _>(&organization_id)
        .get_result(pg)?;
        placed.push(Placed {
            organization_id,
            customers,
            shard,
            node,
        });
    }
    Ok(Status {
        nodes,
        largest_organizations: placed,
    })
}
