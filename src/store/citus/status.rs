//! `clientele citus status`: the cluster as an operator reads it before
//! growing it.

use diesel::RunQueryDsl;
use diesel::sql_types::{BigInt, Text};
use serde::Serialize;

use super::node::coordinator;
use crate::store::{DbConnection, StoreError};

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
    let pg = coordinator(conn)?;
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
