//! A worker of one organization's own: `isolate ORG --to NODE` leaves the
//! organization's shard group alone on NODE, and every later rebalance keeps
//! it so. Which worker is whose is read from the placements themselves (a
//! worker that holds one shard of `customers`, a shard of one organization),
//! so there is nothing else to keep in step.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Integer};
use diesel::{OptionalExtension, RunQueryDsl};

use super::tables::ANCHOR;
use crate::store::StoreError;

/// The rebalance strategy that keeps own workers (see [`define_strategy`]).
pub(super) const STRATEGY: &str = "clientele";

/// Whether the rebalancer may place a shard on a node: on a worker of one
/// organization's own, only that organization's shards; that
/// organization's shards, only there; anything anywhere else. Its
/// `search_path` is the creator's, where `customers` is.
const ALLOWED: &str = "
CREATE OR REPLACE FUNCTION clientele_shard_allowed_on_node(shard bigint, node int)
RETURNS boolean LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  WITH own AS (
    SELECT n.nodeid, min(s.shardminvalue) AS value
    FROM pg_dist_shard s
    JOIN pg_dist_placement p USING (shardid)
    JOIN pg_dist_node n USING (groupid)
    WHERE s.logicalrelid = '{ANCHOR}'::regclass
    GROUP BY n.nodeid
    HAVING count(*) = 1 AND bool_and(s.shardminvalue = s.shardmaxvalue)
  ), this AS (
    SELECT s.shardminvalue = s.shardmaxvalue AS alone, s.shardminvalue AS value
    FROM pg_dist_shard s WHERE s.shardid = shard
  )
  SELECT CASE
    WHEN EXISTS (SELECT 1 FROM own WHERE own.nodeid = node)
      THEN EXISTS (SELECT 1 FROM own, this
                   WHERE own.nodeid = node AND this.alone AND this.value = own.value)
    ELSE NOT EXISTS (SELECT 1 FROM own, this WHERE this.alone AND this.value = own.value)
  END
$$";

/// Makes (or brings up to date) [`STRATEGY`], for `citus_rebalance_start`:
/// Citus' default, `by_disk_size` (shards weigh their bytes; its
/// thresholds), but for where a shard may go. Run while no rebalance is.
pub(super) fn define_strategy(pg: &mut PgConnection) -> Result<(), StoreError> {
    pg.batch_execute(&ALLOWED.replace("{ANCHOR}", ANCHOR))?;
    pg.batch_execute(&format!(
        "BEGIN; \
         DELETE FROM pg_dist_rebalance_strategy WHERE name = '{STRATEGY}'; \
         SELECT citus_add_rebalance_strategy('{STRATEGY}', 'citus_shard_cost_by_disk_size', \
           'citus_node_capacity_1', 'clientele_shard_allowed_on_node', 0.1, 0.01, 0.5); \
         COMMIT"
    ))?;
    Ok(())
}

/// Moves every shard group but `kept`'s off the worker `node`, each to the
/// other worker that holds the fewest (`transfer` as Citus names it);
/// returns how many moved. Nothing moves when `node` is the only worker
/// that may hold shards.
pub(super) fn clear(
    pg: &mut PgConnection,
    node: i32,
    kept: i64,
    transfer: &str,
) -> Result<usize, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Shard {
        #[diesel(sql_type = BigInt)]
        shardid: i64,
    }
    #[derive(diesel::QueryableByName)]
    struct Node {
        #[diesel(sql_type = Integer)]
        nodeid: i32,
    }
    let others: Vec<Shard> = diesel::sql_query(format!(
        "SELECT s.shardid FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid) \
         JOIN pg_dist_node n USING (groupid) \
         WHERE s.logicalrelid = '{ANCHOR}'::regclass AND n.nodeid = $1 AND s.shardid <> $2 \
         ORDER BY s.shardid"
    ))
    .bind::<Integer, _>(node)
    .bind::<BigInt, _>(kept)
    .load(pg)?;
    let mut moved = 0;
    for shard in others {
        let emptiest: Option<Node> = diesel::sql_query(format!(
            "SELECT n.nodeid FROM pg_dist_node n \
             LEFT JOIN pg_dist_placement p ON p.groupid = n.groupid AND p.shardid IN \
               (SELECT shardid FROM pg_dist_shard WHERE logicalrelid = '{ANCHOR}'::regclass) \
             WHERE n.groupid <> 0 AND n.nodeid <> $1 AND n.isactive AND n.shouldhaveshards \
               AND n.noderole = 'primary' \
             GROUP BY n.nodeid ORDER BY count(p.shardid), n.nodeid LIMIT 1"
        ))
        .bind::<Integer, _>(node)
        .get_result(pg)
        .optional()?;
        let Some(to) = emptiest else {
            break;
        };
        diesel::sql_query(format!(
            "SELECT citus_move_shard_placement($1, $2, $3, '{transfer}')"
        ))
        .bind::<BigInt, _>(shard.shardid)
        .bind::<Integer, _>(node)
        .bind::<Integer, _>(to.nodeid)
        .execute(pg)?;
        moved += 1;
    }
    Ok(moved)
}
