//! Migrations, embedded in the binary: one directory per database, the same
//! versions in both.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConnection, StoreError};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// An arbitrary key under which instances starting together take turns.
const MIGRATION_LOCK: i64 = 7_201_202_611;

/// Applies pending migrations on `conn`; returns their names.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Failed(e.to_string());
    let names = |versions: Vec<diesel::migration::MigrationVersion<'_>>| -> Vec<String> {
        versions.iter().map(ToString::to_string).collect()
    };
    match conn {
        DbConnection::Pg(pg) => {
            super::citus::refuse_worker(pg)?;
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

/// Applies the next pending migration alone, on PostgreSQL; its name, or
/// `None` when none is pending. For proving that every migration applies to
/// a schema distributed by the one before (Citus).
pub fn run_next_migration(conn: &mut DbConnection) -> Result<Option<String>, StoreError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Failed(e.to_string());
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
