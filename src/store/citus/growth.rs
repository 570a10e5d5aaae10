//! Growing a cluster while it serves: add a worker, rebalance, isolate an
//! organization. Each step checks what it needs before it starts (a node
//! that answers, `wal_level = logical` for moves by logical replication, a
//! replica identity on every distributed table) and refuses with the
//! reason, and each is safe to run again. Shards move without blocking
//! writes but for their cut-over (`force_logical`).

use std::fmt;
use std::str::FromStr;

use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
use diesel::{OptionalExtension, RunQueryDsl};
use serde::Serialize;

use super::node::coordinator;
use super::own_worker;
use crate::domain::ids::OrganizationId;
use crate::store::{DbConnection, StoreError};

/// A node as an operator names it, `HOST:PORT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeAddress {
    pub host: String,
    pub port: u16,
}

impl FromStr for NodeAddress {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refused = || format!("expected HOST:PORT, such as 10.0.0.7:5432, not {text:?}");
        let (host, port) = text.rsplit_once(':').ok_or_else(refused)?;
        let port = port.parse().map_err(|_| refused())?;
        match host.is_empty() {
            true => Err(refused()),
            false => Ok(Self {
                host: host.to_owned(),
                port,
            }),
        }
    }
}

impl fmt::Display for NodeAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Moves copy a shard by logical replication and switch over at the end:
/// writes wait only for the switch.
const TRANSFER: &str = "force_logical";
/// A split blocks the writes to the shard being split while it copies:
/// Citus' non-blocking split stalls for good under concurrent updates
/// (citusdata/citus#6790, seen here: its subscription fails on every UPDATE
/// with "publisher did not send replica identity column"). The shard split
/// holds the organization and its shard-mates only; its writes wait (up to
/// the statement timeout, then 503) for the copy of that one shard.
const SPLIT_TRANSFER: &str = "block_writes";

fn refused(reasons: Vec<String>) -> Result<(), StoreError> {
    match reasons.is_empty() {
        true => Ok(()),
        false => Err(StoreError::Failed(format!(
            "refused before changing anything: {}",
            reasons.join("; ")
        ))),
    }
}

#[derive(diesel::QueryableByName)]
struct Answer {
    #[diesel(sql_type = Text)]
    node: String,
    #[diesel(sql_type = Bool)]
    success: bool,
    #[diesel(sql_type = Text)]
    result: String,
}

/// Each node's answer to `command`, which Citus runs on every node, the
/// coordinator too.
fn on_every_node(pg: &mut PgConnection, command: &str) -> Result<Vec<Answer>, StoreError> {
    Ok(diesel::sql_query(
        "SELECT n.nodename || ':' || n.nodeport AS node, a.success, a.result \
         FROM run_command_on_all_nodes($1) a JOIN pg_dist_node n USING (nodeid) ORDER BY 1",
    )
    .bind::<Text, _>(command)
    .load(pg)?)
}

/// Why a node at `level` keeps moves from running, if it does: logical
/// replication needs `wal_level = logical`.
fn wal_level_refused(node: &str, level: &str) -> Option<String> {
    (level != "logical")
        .then(|| format!("{node} has wal_level = {level}; moves need logical (set it and restart)"))
}

/// The logical decoding plugin moves stream through.
const MOVE_PLUGIN: &str = "pgoutput";

/// Why moves by logical replication would fail, one reason per node or
/// table: empty when they can run. Every node needs `wal_level = logical`
/// and, on a PostgreSQL built to allow only listed output plugins
/// (`output_plugin_libraries`, where the setting exists), `pgoutput`
/// listed; every distributed table needs a replica identity.
fn moves_blocked(pg: &mut PgConnection) -> Result<Vec<String>, StoreError> {
    let mut reasons: Vec<String> = on_every_node(pg, "SHOW wal_level")?
        .into_iter()
        .filter_map(|a| match a.success {
            true => wal_level_refused(&a.node, &a.result),
            false => Some(format!("{} does not answer: {}", a.node, a.result)),
        })
        .collect();
    let plugins = on_every_node(
        pg,
        "SELECT coalesce(current_setting('output_plugin_libraries', true), '*')",
    )?;
    reasons.extend(
        plugins
            .into_iter()
            .filter(|a| a.success && a.result != "*")
            .filter(|a| !a.result.split(',').any(|p| p.trim() == MOVE_PLUGIN))
            .map(|a| {
                format!(
                    "{} does not allow the logical decoding plugin {MOVE_PLUGIN} \
                     (output_plugin_libraries = {})",
                    a.node, a.result
                )
            }),
    );
    #[derive(diesel::QueryableByName)]
    struct Table {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let unidentified: Vec<Table> = diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_dist_partition p \
         JOIN pg_class c ON c.oid = p.logicalrelid \
         WHERE c.relreplident = 'n' OR (c.relreplident = 'd' AND NOT EXISTS \
               (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)) \
         ORDER BY 1",
    )
    .load(pg)?;
    reasons.extend(unidentified.into_iter().map(|t| {
        format!(
            "table {} has no replica identity (a primary key) for logical replication",
            t.name
        )
    }));
    Ok(reasons)
}

/// What `add-worker` did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddedWorker {
    pub node: String,
    pub node_id: i32,
    /// `false` when it already was a node of the cluster.
    pub added: bool,
}

/// Adds `node` to the cluster as a worker holding no shard yet
/// ([`rebalance`] moves some to it). Refused when it does not answer the
/// coordinator, lacks the citus extension in this database, or has a
/// `wal_level` other than logical.
pub fn add_worker(conn: &mut DbConnection, node: &NodeAddress) -> Result<AddedWorker, StoreError> {
    let pg = coordinator(conn)?;
    let port = i32::from(node.port);
    let known: Option<i32> =
        diesel::sql_query("SELECT nodeid FROM pg_dist_node WHERE nodename = $1 AND nodeport = $2")
            .bind::<Text, _>(&node.host)
            .bind::<Integer, _>(port)
            .get_result::<NodeId>(pg)
            .optional()?
            .map(|n| n.nodeid);
    if let Some(node_id) = known {
        return Ok(AddedWorker {
            node: node.to_string(),
            node_id,
            added: false,
        });
    }
    let ask = |pg: &mut PgConnection, command: &str| -> Result<Answer, StoreError> {
        Ok(diesel::sql_query(
            "SELECT node_name || ':' || node_port AS node, success, result \
             FROM master_run_on_worker(ARRAY[$1], ARRAY[$2], ARRAY[$3], false)",
        )
        .bind::<Text, _>(&node.host)
        .bind::<Integer, _>(port)
        .bind::<Text, _>(command)
        .get_result(pg)?)
    };
    let level = ask(pg, "SHOW wal_level")?;
    let mut reasons = Vec::new();
    if !level.success {
        reasons.push(format!(
            "{node} does not answer the coordinator: {}",
            level.result
        ));
    } else {
        reasons.extend(wal_level_refused(&level.node, &level.result));
        let citus = ask(
            pg,
            "SELECT count(*) FROM pg_extension WHERE extname = 'citus'",
        )?;
        if citus.result != "1" {
            reasons.push(format!(
                "{node} has no citus extension in this database (CREATE EXTENSION citus)"
            ));
        }
    }
    refused(reasons)?;
    let added: NodeId = diesel::sql_query("SELECT citus_add_node($1, $2) AS nodeid")
        .bind::<Text, _>(&node.host)
        .bind::<Integer, _>(port)
        .get_result(pg)?;
    Ok(AddedWorker {
        node: node.to_string(),
        node_id: added.nodeid,
        added: true,
    })
}

#[derive(diesel::QueryableByName)]
struct NodeId {
    #[diesel(sql_type = Integer)]
    nodeid: i32,
}

/// What `rebalance` started or found.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rebalance {
    /// Citus' background job; `None` when every node already holds its
    /// share and nothing moves.
    pub job: Option<i64>,
    /// The job's state (`running`, `finished`, `failed`, …), or `balanced`.
    pub state: String,
    /// Whether this call started the job (`false`: one was running).
    pub started: bool,
}

#[derive(diesel::QueryableByName)]
struct Job {
    #[diesel(sql_type = BigInt)]
    job_id: i64,
    #[diesel(sql_type = Text)]
    state: String,
}

fn running_job(pg: &mut PgConnection) -> Result<Option<Job>, StoreError> {
    Ok(diesel::sql_query(
        "SELECT job_id, state::text AS state FROM citus_rebalance_status() \
         WHERE state IN ('scheduled', 'running', 'cancelling', 'failing') LIMIT 1",
    )
    .get_result(pg)
    .optional()?)
}

/// Starts moving shards so that every worker holds its share (Citus'
/// background rebalancer, moves by logical replication), or finds the move
/// already running; with `wait`, returns once it ended. A worker that is an
/// organization's own (see [`isolate`]) stays so ([`own_worker::STRATEGY`]). Refused, before
/// any move, when a node is not at `wal_level = logical` or a distributed
/// table has no replica identity.
pub fn rebalance(conn: &mut DbConnection, wait: bool) -> Result<Rebalance, StoreError> {
    let pg = coordinator(conn)?;
    refused(moves_blocked(pg)?)?;
    let (job, started) = match running_job(pg)? {
        Some(job) => (Some(job.job_id), false),
        None => {
            own_worker::define_strategy(pg)?;
            #[derive(diesel::QueryableByName)]
            struct Started {
                #[diesel(sql_type = Nullable<BigInt>)]
                job: Option<i64>,
            }
            let started: Started = diesel::sql_query(format!(
                "SELECT citus_rebalance_start(rebalance_strategy => '{strategy}', \
                 shard_transfer_mode => '{TRANSFER}') AS job",
                strategy = own_worker::STRATEGY
            ))
            .get_result(pg)?;
            (started.job, true)
        }
    };
    let Some(job) = job else {
        return Ok(Rebalance {
            job: None,
            state: "balanced".into(),
            started,
        });
    };
    if wait {
        diesel::sql_query("SELECT citus_job_wait($1)")
            .bind::<BigInt, _>(job)
            .execute(pg)?;
    }
    let state: Job = diesel::sql_query(
        "SELECT job_id, state::text AS state FROM pg_dist_background_job WHERE job_id = $1",
    )
    .bind::<BigInt, _>(job)
    .get_result(pg)?;
    Ok(Rebalance {
        job: Some(job),
        state: state.state,
        started,
    })
}

/// What `isolate` did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Isolated {
    pub organization_id: String,
    /// The shard of `customers` (and of every colocated table) that holds
    /// this organization alone.
    pub shard: i64,
    pub node: String,
    /// `false` when it already had a shard of its own.
    pub isolated: bool,
    /// Whether its shard moved to the node asked for.
    pub moved: bool,
    /// How many other shard groups moved off that node, which is now the
    /// organization's own.
    pub others_moved: usize,
}

#[derive(diesel::QueryableByName)]
struct Shard {
    #[diesel(sql_type = BigInt)]
    shard: i64,
    #[diesel(sql_type = Bool)]
    alone: bool,
    #[diesel(sql_type = Integer)]
    nodeid: i32,
    #[diesel(sql_type = Text)]
    node: String,
}

fn shard_of(pg: &mut PgConnection, organization: &str) -> Result<Shard, StoreError> {
    Ok(diesel::sql_query(
        "SELECT s.shardid AS shard, s.shardminvalue = s.shardmaxvalue AS alone, n.nodeid, \
                n.nodename || ':' || n.nodeport AS node \
         FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) \
         JOIN pg_dist_node n USING (groupid) \
         WHERE s.shardid = get_shard_id_for_distribution_column('customers', $1) \
           AND n.noderole = 'primary'",
    )
    .bind::<Text, _>(organization)
    .get_result(pg)?)
}

/// Gives the organization a shard of its own (of `customers` and every
/// colocated table: Citus splits its shard group around it), and with `to`
/// gives it the worker `to` of its own: moves that shard group there and
/// every other one away (later rebalances keep it so, see [`rebalance`]). Refused, before any split or
/// move, when moves cannot run (see [`rebalance`]) or `to` is not a worker.
pub fn isolate(
    conn: &mut DbConnection,
    organization: OrganizationId,
    to: Option<&NodeAddress>,
) -> Result<Isolated, StoreError> {
    let pg = coordinator(conn)?;
    let organization = organization.to_string();
    let mut reasons = moves_blocked(pg)?;
    let target: Option<i32> = match to {
        None => None,
        Some(node) => {
            let found: Option<NodeId> = diesel::sql_query(
                "SELECT nodeid FROM pg_dist_node WHERE nodename = $1 AND nodeport = $2 \
                 AND groupid <> 0 AND isactive AND noderole = 'primary'",
            )
            .bind::<Text, _>(&node.host)
            .bind::<Integer, _>(i32::from(node.port))
            .get_result(pg)
            .optional()?;
            if found.is_none() {
                reasons.push(format!(
                    "{node} is not an active worker of this cluster (clientele citus add-worker)"
                ));
            }
            found.map(|n| n.nodeid)
        }
    };
    refused(reasons)?;
    let mut shard = shard_of(pg, &organization)?;
    let isolated = !shard.alone;
    if isolated {
        diesel::sql_query(format!(
            "SELECT isolate_tenant_to_new_shard('customers', $1::text, 'CASCADE', \
             shard_transfer_mode => '{SPLIT_TRANSFER}')"
        ))
        .bind::<Text, _>(&organization)
        .execute(pg)?;
        shard = shard_of(pg, &organization)?;
    }
    let moved = match target {
        Some(target) if target != shard.nodeid => {
            diesel::sql_query(format!(
                "SELECT citus_move_shard_placement($1, $2, $3, '{TRANSFER}')"
            ))
            .bind::<BigInt, _>(shard.shard)
            .bind::<Integer, _>(shard.nodeid)
            .bind::<Integer, _>(target)
            .execute(pg)?;
            shard = shard_of(pg, &organization)?;
            true
        }
        _ => false,
    };
    let others_moved = match target {
        Some(target) => own_worker::clear(pg, target, shard.shard, TRANSFER)?,
        None => 0,
    };
    Ok(Isolated {
        organization_id: organization,
        shard: shard.shard,
        node: shard.node,
        isolated,
        moved,
        others_moved,
    })
}
