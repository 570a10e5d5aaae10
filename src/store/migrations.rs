//! Migrations, embedded in the binary: one directory per database, the same
//! versions in both.

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConnection, StoreError};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// An arbitrary key under which instances starting together take turns.
const MIGRATION_LOCK: i64 = 7_201_202_611;

/// A failure of Diesel's migration harness, whose errors are boxed.
fn failed(error: Box<dyn std::error::Error + Send + Sync>) -> StoreError {
    StoreError::Failed(error.to_string())
}

/// Applies pending migrations on `conn`; returns their names.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let names = |versions: Vec<diesel::migration::MigrationVersion<'_>>| -> Vec<String> {
        versions.iter().map(ToString::to_string).collect()
    };
    match conn {
        DbConnection::Pg(pg) => {
            if let Some(group) = super::citus::worker_group(pg)? {
                return on_a_worker(pg, group);
            }
            pg.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let applied = pg.run_pending_migrations(PG_MIGRATIONS).map(names);
            pg.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
            applied.map_err(failed)
        }
        DbConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(names)
            .map_err(failed),
    }
}

/// A Citus worker runs no migration: DDL goes through the coordinator,
/// and the migrations' advisory lock would hold on this node only. Every
/// node knows which migrations ran (their table is a reference table), so
/// a worker whose schema is up to date serves, and one that is not is
/// refused with the reason.
fn on_a_worker(pg: &mut PgConnection, group: i32) -> Result<Vec<String>, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Known {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        known: bool,
    }
    // Diesel would create its table here, where it must come from the
    // coordinator.
    let known: Known =
        diesel::sql_query("SELECT to_regclass('__diesel_schema_migrations') IS NOT NULL AS known")
            .get_result(pg)?;
    if !known.known {
        return Err(StoreError::Failed(format!(
            "this database is a Citus worker (group {group}) that knows no migration: migrate \
             and distribute on the coordinator first (`clientele migrate`, then `clientele citus \
             distribute`, with the coordinator's URL; docs/scaling.md)"
        )));
    }
    let pending = pg.pending_migrations(PG_MIGRATIONS).map_err(failed)?;
    match pending.first() {
        None => Ok(Vec::new()),
        Some(next) => Err(StoreError::Failed(format!(
            "this database is a Citus worker (group {group}) and {} migrations are pending, \
             the first {}: migrations run on the coordinator (`clientele migrate` with the \
             coordinator's URL, then `clientele citus distribute`; docs/scaling.md)",
            pending.len(),
            next.name()
        ))),
    }
}

/// Applies the next pending migration alone, on PostgreSQL; its name, or
/// `None` when none is pending. For proving that every migration applies to
/// a schema distributed by the one before (Citus).
pub fn run_next_migration(conn: &mut DbConnection) -> Result<Option<String>, StoreError> {
    let DbConnection::Pg(pg) = conn else {
        return Err(StoreError::Failed(
            "migrations one at a time are for PostgreSQL".into(),
        ));
    };
    let pending = pg.pending_migrations(PG_MIGRATIONS).map_err(failed)?;
    let Some(next) = pending.first() else {
        return Ok(None);
    };
    let version = pg.run_migration(&**next).map_err(failed)?;
    Ok(Some(version.to_string()))
}
