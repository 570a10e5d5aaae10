//! The customers' counts that answer the stats without reading the
//! customers: how many customers each tenant has per deletion state,
//! creation day (UTC), country and language.
//!
//! A write that moves a customer from one such key to another appends a
//! change (-1 on the old key, +1 on the new) to `customer_count_changes` in
//! its own transaction: an insert no other write waits for, where updating
//! a shared count would make every create of an organization's day queue
//! for one row. The fold (a background task) moves the changes into
//! `customer_counts`; a report sums both, so it is exact at every moment,
//! whenever the fold last ran.
//!
//! A count that falls to 0 stays, as a key the next write may reach again:
//! deleting it would cost each fold a read of the organization's counts,
//! and the keys are bounded (days × countries × languages, not customers).
//! Reports leave out the values no customer holds.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::dsl;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::schema::{customer_count_changes, customer_counts};
use super::{Db, DbConnection, StoreError};
use crate::domain::ids::OrganizationId;
use crate::domain::reports::GroupBy;
use crate::domain::tenant::Tenant;

/// The changes one fold takes, at most.
pub const FOLD_BATCH: i64 = 2_000;
/// Rows per upsert statement (7 bound values each).
const UPSERT_ROWS: usize = 500;
/// Stands for "none" in a key column (a primary key holds no NULL); no
/// country or language code is empty.
const NONE: &str = "";

/// Where a customer counts: its tenant, whether it is deleted, the UTC day
/// it was created, its country and language.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Counted {
    pub organization_id: OrganizationId,
    pub livemode: bool,
    pub deleted: bool,
    pub created_day: String,
    pub country: String,
    pub language: String,
}

impl Counted {
    pub fn new(
        tenant: Tenant,
        deleted: bool,
        created_at: NaiveDateTime,
        country: Option<&str>,
        language: Option<&str>,
    ) -> Self {
        Self {
            organization_id: tenant.organization_id,
            livemode: tenant.livemode,
            deleted,
            created_day: day(created_at),
            country: country.unwrap_or(NONE).to_owned(),
            language: language.unwrap_or(NONE).to_owned(),
        }
    }
}

/// A day as the stats name it (`2026-11-22`), which sorts as text.
pub fn day(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%d").to_string()
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = customer_count_changes)]
struct ChangeRow {
    organization_id: OrganizationId,
    id: String,
    livemode: bool,
    deleted: bool,
    created_day: String,
    country: String,
    language: String,
    delta: i32,
}

impl ChangeRow {
    fn new(key: Counted, delta: i32) -> Self {
        Self {
            organization_id: key.organization_id,
            id: uuid::Uuid::now_v7().simple().to_string(),
            livemode: key.livemode,
            deleted: key.deleted,
            created_day: key.created_day,
            country: key.country,
            language: key.language,
            delta,
        }
    }

    fn key(&self) -> Counted {
        Counted {
            organization_id: self.organization_id,
            livemode: self.livemode,
            deleted: self.deleted,
            created_day: self.created_day.clone(),
            country: self.country.clone(),
            language: self.language.clone(),
        }
    }
}

/// Records that a customer counts under `to` instead of `from` (`None`: it
/// did not exist); nothing when the key did not change. In the write's
/// transaction.
pub fn moved(
    conn: &mut DbConnection,
    from: Option<Counted>,
    to: Counted,
) -> Result<(), StoreError> {
    if from.as_ref() == Some(&to) {
        return Ok(());
    }
    let mut rows = vec![ChangeRow::new(to, 1)];
    rows.extend(from.map(|from| ChangeRow::new(from, -1)));
    insert_in_chunks!(conn, customer_count_changes::table, rows)?;
    Ok(())
}

/// Records that customers were added under `keys` (an import's batch):
/// one change per key, whatever the number of customers.
pub fn added(
    conn: &mut DbConnection,
    keys: impl IntoIterator<Item = Counted>,
) -> Result<(), StoreError> {
    let mut sums: HashMap<Counted, i32> = HashMap::new();
    for key in keys {
        *sums.entry(key).or_default() += 1;
    }
    let rows: Vec<ChangeRow> = sums
        .into_iter()
        .map(|(key, delta)| ChangeRow::new(key, delta))
        .collect();
    insert_in_chunks!(conn, customer_count_changes::table, rows)?;
    Ok(())
}

/// Moves changes into the counts, in one transaction
/// ([`crate::store::Database::transaction`]); returns how many ([`FOLD_BATCH`]
/// or more: others may wait).
pub fn fold(conn: &mut DbConnection) -> Result<usize, StoreError> {
    match conn {
        DbConnection::Pg(pg) => fold_taking(pg),
        DbConnection::Sqlite(_) => fold_reading(conn),
    }
}

/// PostgreSQL: each organization's changes are deleted and added to the
/// counts by one statement (a `DELETE … RETURNING` feeding the upsert),
/// where reading them first cost a scan and a statement more per fold.
/// Instances may fold at once: a change is counted by the one whose
/// delete took it.
fn fold_taking(pg: &mut diesel::PgConnection) -> Result<usize, StoreError> {
    #[derive(QueryableByName)]
    struct Folded {
        #[diesel(sql_type = BigInt)]
        changes: i64,
    }
    let organizations: Vec<OrganizationId> = customer_count_changes::table
        .select(customer_count_changes::organization_id)
        .distinct()
        .load(pg)?;
    let mut folded = 0;
    for org in organizations {
        let Folded { changes } = diesel::sql_query(
            "WITH taken AS (DELETE FROM customer_count_changes WHERE organization_id = $1 \
             RETURNING livemode, deleted, created_day, country, language, delta), \
             summed AS (SELECT livemode, deleted, created_day, country, language, \
             sum(delta) AS total FROM taken GROUP BY 1, 2, 3, 4, 5), \
             added AS (INSERT INTO customer_counts \
             (organization_id, livemode, deleted, created_day, country, language, total) \
             SELECT $1, livemode, deleted, created_day, country, language, total FROM summed \
             WHERE total <> 0 \
             ON CONFLICT (organization_id, livemode, deleted, created_day, country, language) \
             DO UPDATE SET total = customer_counts.total + excluded.total) \
             SELECT count(*) AS changes FROM taken",
        )
        .bind::<Text, _>(org)
        .get_result(pg)?;
        folded += changes as usize;
    }
    Ok(folded)
}

/// SQLite: up to [`FOLD_BATCH`] changes read, deleted and added to the
/// counts (the writer lock keeps other folds out; an instance that finds
/// some already taken gives up its turn all the same, with
/// [`StoreError::Conflict`], so the transaction runs again).
fn fold_reading(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let changes: Vec<ChangeRow> = customer_count_changes::table
        .select(ChangeRow::as_select())
        .limit(FOLD_BATCH)
        .load(conn)?;
    let mut by_organization: BTreeMap<OrganizationId, Vec<ChangeRow>> = BTreeMap::new();
    for change in changes {
        by_organization
            .entry(change.organization_id)
            .or_default()
            .push(change);
    }
    let mut folded = 0;
    for (org, changes) in by_organization {
        let ids: Vec<&str> = changes.iter().map(|change| change.id.as_str()).collect();
        let taken = diesel::delete(
            customer_count_changes::table
                .filter(customer_count_changes::organization_id.eq(org))
                .filter(customer_count_changes::id.eq_any(&ids)),
        )
        .execute(conn)?;
        if taken != ids.len() {
            return Err(StoreError::Conflict(
                "another instance folded these count changes".into(),
            ));
        }
        let mut sums: HashMap<Counted, i64> = HashMap::new();
        for change in &changes {
            *sums.entry(change.key()).or_default() += i64::from(change.delta);
        }
        let sums: Vec<(Counted, i64)> = sums.into_iter().filter(|(_, n)| *n != 0).collect();
        for chunk in sums.chunks(UPSERT_ROWS) {
            add(conn, chunk)?;
        }
        folded += changes.len();
    }
    Ok(folded)
}

/// Adds each sum to its count, making the counts that are missing: an
/// upsert, which Diesel's query builder cannot write for both databases
/// through one connection type but both run as it is (SQLite since 3.24).
fn add(conn: &mut DbConnection, sums: &[(Counted, i64)]) -> Result<(), StoreError> {
    // Placeholders in the order they appear: SQLite numbers `$n` by first
    // appearance, and Diesel binds by position.
    let rows: Vec<String> = (0..sums.len())
        .map(|i| {
            let n = 7 * i;
            format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6,
                n + 7
            )
        })
        .collect();
    let mut upsert = diesel::sql_query(format!(
        "INSERT INTO customer_counts \
         (organization_id, livemode, deleted, created_day, country, language, total) \
         VALUES {} ON CONFLICT (organization_id, livemode, deleted, created_day, country, language) \
         DO UPDATE SET total = customer_counts.total + excluded.total",
        rows.join(", ")
    ))
    .into_boxed::<Db>();
    for (key, sum) in sums {
        upsert = upsert
            .bind::<Text, _>(key.organization_id)
            .bind::<Bool, _>(key.livemode)
            .bind::<Bool, _>(key.deleted)
            .bind::<Text, _>(key.created_day.clone())
            .bind::<Text, _>(key.country.clone())
            .bind::<Text, _>(key.language.clone())
            .bind::<BigInt, _>(*sum);
    }
    upsert.execute(conn)?;
    Ok(())
}

/// The creation days a report covers: from the first, up to (not
/// including) the second.
pub struct Days {
    pub from: String,
    pub to: String,
}

/// How many of the tenant's customers (the deleted ones too when
/// `with_deleted`) created within `days` hold each value of `group_by`,
/// from the counts and the changes not yet folded, read from one snapshot
/// of the database; values that no customer holds are left out.
pub fn stats(
    conn: &mut DbConnection,
    tenant: Tenant,
    with_deleted: bool,
    days: &Days,
    group_by: GroupBy,
) -> Result<Vec<(Option<String>, i64)>, StoreError> {
    let key = match group_by {
        GroupBy::Country => "country",
        GroupBy::Language => "language",
        GroupBy::CreatedDay => "created_day",
        GroupBy::CreatedMonth => "substr(created_day, 1, 7)",
    };
    let key = dsl::sql::<Text>(key);
    let deleted = match with_deleted {
        true => vec![false, true],
        false => vec![false],
    };
    // One statement, so one snapshot on every database; on Citus also one
    // connection to the worker (two statements in a snapshot could reach it
    // over two connections, each with its own snapshot, and miss a fold
    // that committed between them).
    // The counts and the changes answer the same filters: written once.
    macro_rules! summed {
        ($table:ident, $column:literal) => {
            $table::table
                .filter($table::organization_id.eq(tenant.organization_id))
                .filter($table::livemode.eq(tenant.livemode))
                .filter($table::deleted.eq_any(&deleted))
                .filter($table::created_day.ge(&days.from))
                .filter($table::created_day.lt(&days.to))
                .group_by(key.clone())
                .select((
                    key.clone(),
                    dsl::sql::<BigInt>(concat!("CAST(SUM(", $column, ") AS BIGINT)")),
                ))
        };
    }
    let counted = summed!(customer_counts, "total");
    let changed = summed!(customer_count_changes, "delta");
    let both: Vec<(String, i64)> = load_on_either!(conn, counted.union_all(changed))?;
    let mut groups: BTreeMap<String, i64> = BTreeMap::new();
    for (value, n) in both {
        *groups.entry(value).or_default() += n;
    }
    let mut groups: Vec<(Option<String>, i64)> = groups
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(value, n)| ((value != NONE).then_some(value), n))
        .collect();
    groups.sort_by(|(a, _), (b, _)| (a.is_none(), a).cmp(&(b.is_none(), b)));
    Ok(groups)
}
