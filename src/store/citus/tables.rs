//! The tables as Citus is told of them: the reference tables every node
//! holds whole, and the one every tenant table is colocated with.

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
pub(super) const ANCHOR: &str = "customers";
