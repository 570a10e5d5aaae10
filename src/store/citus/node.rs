//! Which node a connection reaches: a Citus coordinator, a worker, or a
//! database without Citus.

use diesel::RunQueryDsl;
use diesel::pg::PgConnection;
use diesel::sql_types::{Bool, Integer};

use crate::store::{DbConnection, StoreError};

/// The connection when it is to a Citus coordinator, where an operator's
/// commands run; refused, saying which, on any other database or node.
pub(super) fn coordinator(conn: &mut DbConnection) -> Result<&mut PgConnection, StoreError> {
    let refused = || {
        StoreError::Failed(
            "this database is not a Citus coordinator: the citus extension is not installed here"
                .into(),
        )
    };
    let DbConnection::Pg(pg) = conn else {
        return Err(refused());
    };
    if !installed(pg)? {
        return Err(refused());
    }
    match local_group(pg)? {
        0 => Ok(pg),
        group => Err(StoreError::Failed(format!(
            "this database is a Citus worker (group {group}): run this with the coordinator's URL"
        ))),
    }
}

pub(crate) fn installed(pg: &mut PgConnection) -> Result<bool, StoreError> {
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

/// The Citus group of the node `pg` is connected to when it is a worker
/// (a coordinator is group 0); `None` on a coordinator or without Citus.
pub fn worker_group(pg: &mut PgConnection) -> Result<Option<i32>, StoreError> {
    if !installed(pg)? {
        return Ok(None);
    }
    Ok(Some(local_group(pg)?).filter(|group| *group != 0))
}

/// This node's Citus group: 0 on the coordinator. Citus must be installed.
fn local_group(pg: &mut PgConnection) -> Result<i32, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Group {
        #[diesel(sql_type = Integer)]
        groupid: i32,
    }
    let group: Group =
        diesel::sql_query("SELECT groupid FROM pg_dist_local_group").get_result(pg)?;
    Ok(group.groupid)
}
