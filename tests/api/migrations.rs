//! The PostgreSQL and SQLite migrations create exactly the columns and
//! types that `src/store/schema.rs` declares, so the two directories and
//! the schema cannot drift apart.

use std::collections::BTreeMap;

use diesel::RunQueryDsl;

use crate::helpers::{Backend, TestDatabase};

/// `table -> column -> (type, nullable)`.
type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// What `schema.rs` declares, read from its `table!` blocks.
fn declared() -> Columns {
    let schema = include_str!("../../src/store/schema.rs");
    let mut tables = Columns::new();
    let mut current: Option<String> = None;
    // `#[sql_name = "type"]` renames the column on the next line.
    let mut renamed: Option<String> = None;
    for line in schema.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("#[sql_name = \"") {
            renamed = Some(name.trim_end_matches("\"]").to_owned());
        } else if let Some(rest) = line.strip_suffix('{').filter(|_| line.contains('(')) {
            current = Some(rest.split_whitespace().next().unwrap().to_owned());
        } else if line == "}" {
            current = None;
        } else if let (Some(table), Some((column, kind))) = (&current, line.split_once("->")) {
            let kind = kind.trim().trim_end_matches(',');
            let (kind, nullable) = match kind.strip_prefix("Nullable<") {
                Some(inner) => (inner.trim_end_matches('>'), true),
                None => (kind, false),
            };
            tables.entry(table.clone()).or_default().insert(
                renamed.take().unwrap_or_else(|| column.trim().to_owned()),
                (kind.to_owned(), nullable),
            );
        }
    }
    assert!(tables.len() >= 3, "schema.rs was not read: {tables:?}");
    tables
}

/// The Diesel type a database's own type name stands for.
fn diesel_type(database_type: &str) -> String {
    match database_type.to_ascii_lowercase().as_str() {
        "text" => "Text",
        "integer" => "Integer",
        "bigint" => "BigInt",
        "boolean" => "Bool",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        "bytea" | "blob" => "Binary",
        other => panic!("no Diesel type for {other}"),
    }
    .to_owned()
}

#[derive(diesel::QueryableByName)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    data_type: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    nullable: bool,
}

fn migrated(backend: Backend) -> Option<Columns> {
    let database = TestDatabase::create(backend)?;
    let rows: Vec<Column> = match clientele::store::connect(&database.url).unwrap() {
        clientele::store::DbConnection::Pg(mut pg) => diesel::sql_query(
            "SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'YES' AS nullable \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name NOT LIKE '\\_\\_diesel%'",
        )
        .load(&mut pg)
        .unwrap(),
        clientele::store::DbConnection::Sqlite(mut sqlite) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, \
             (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE '\\_\\_diesel%' ESCAPE '\\' \
             AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )
        .load(&mut sqlite)
        .unwrap(),
    };
    let mut tables = Columns::new();
    for row in rows {
        tables
            .entry(row.table_name)
            .or_default()
            .insert(row.column_name, (diesel_type(&row.data_type), row.nullable));
    }
    Some(tables)
}

#[test]
fn sqlite_migrations_create_what_the_schema_declares() {
    assert_eq!(migrated(Backend::Sqlite).unwrap(), declared());
}

#[test]
fn postgres_migrations_create_what_the_schema_declares() {
    if let Some(columns) = migrated(Backend::Postgres) {
        assert_eq!(columns, declared());
    }
}

/// The statements of a migration file, comments removed.
fn statements(sql: &str) -> Vec<String> {
    let code: String = sql
        .lines()
        .map(|line| line.split("--").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    code.split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Every PostgreSQL migration, by directory name, with its statements.
fn postgres_migrations() -> Vec<(String, Vec<String>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut migrations: Vec<(String, Vec<String>)> = std::fs::read_dir(&root)
        .unwrap()
        .map(|dir| {
            let dir = dir.unwrap().path();
            let sql = std::fs::read_to_string(dir.join("up.sql")).unwrap();
            (
                dir.file_name().unwrap().to_string_lossy().into_owned(),
                statements(&sql),
            )
        })
        .collect();
    migrations.sort();
    migrations
}

/// The rules that keep the schema distributable by organization (Citus):
/// one CREATE INDEX per migration file and nothing else in it; every tenant
/// table keyed by organization first; every unique key of a tenant table
/// including `organization_id`. Reference tables (small, on every node) are
/// exempt from the last two.
#[test]
fn migrations_follow_the_distribution_rules() {
    let reference = clientele::store::citus::REFERENCE_TABLES;
    let mut tenant_tables = Vec::new();
    for (name, statements) in postgres_migrations() {
        let lower: Vec<String> = statements.iter().map(|s| s.to_lowercase()).collect();
        if lower
            .iter()
            .any(|s| s.starts_with("create index") || s.starts_with("create unique index"))
        {
            assert_eq!(
                statements.len(),
                1,
                "{name}: a CREATE INDEX must be alone in its file"
            );
        }
        for statement in &lower {
            if let Some(rest) = statement.strip_prefix("create table ") {
                let table = rest.split([' ', '(']).next().unwrap().to_owned();
                if reference.contains(&table.as_str()) {
                    continue;
                }
                assert!(
                    statement.contains("organization_id")
                        && statement.contains("primary key (organization_id,"),
                    "{name}: tenant table {table} must be keyed by organization_id first"
                );
                let uniques = statement.matches(" unique").count();
                assert_eq!(
                    uniques, 0,
                    "{name}: {table} declares a unique key inline; use a unique index with organization_id"
                );
                tenant_tables.push(table);
            }
            if let Some(rest) = statement.strip_prefix("create unique index ") {
                let (_, on) = rest.split_once(" on ").unwrap();
                let table = on.split([' ', '(']).next().unwrap();
                if !reference.contains(&table) {
                    let columns = &on[on.find('(').unwrap()..];
                    assert!(
                        columns.contains("organization_id"),
                        "{name}: a unique index on {table} without organization_id"
                    );
                }
            }
        }
    }
    assert!(tenant_tables.contains(&"customers".to_owned()));
}

#[test]
fn both_databases_have_the_same_migrations() {
    let names = |backend: &str| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut names: Vec<String> = std::fs::read_dir(root)
            .unwrap()
            .map(|dir| dir.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("postgres"), names("sqlite"));
}
