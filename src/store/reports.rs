//! Reports over the customers that match a list's filters: every one of
//! them, streamed from one snapshot (the export), or their counts by a key
//! (the stats): from the kept counts ([`counts`]) when the filters allow,
//! else by reading the customers.

use chrono::{Datelike, NaiveTime};
use diesel::dsl;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use super::counts::{self, Days};
use super::custom_fields::CustomFieldFilter;
use super::customers::CustomerRow;
use super::listing::{Anchor, beyond, in_order, matching, matching_condition};
use super::schema::customers;
use super::{DbConnection, StoreError, in_snapshot};
use crate::domain::customer::Customer;
use crate::domain::listing::{ListParams, Sort};
use crate::domain::reports::GroupBy;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;

/// The customers an export reads per statement (and hands on at once).
const EXPORT_BATCH: i64 = 500;

/// Hands every customer that matches to `send`, oldest first, a batch at a
/// time (the first one even when nothing matches), all read from one
/// snapshot of the database; stops when `send` says the reader is gone.
pub fn export(
    conn: &mut DbConnection,
    tenant: Tenant,
    params: &ListParams,
    custom_fields: &[CustomFieldFilter],
    mut send: impl FnMut(Vec<Customer>) -> bool,
) -> Result<(), StoreError> {
    in_snapshot(conn, |conn| {
        let mut after: Option<Anchor> = None;
        loop {
            let query = matching(tenant, params, custom_fields);
            let query = match after.take() {
                Some(anchor) => beyond(query, Sort::CreatedAscending, anchor),
                None => query,
            };
            let rows: Vec<CustomerRow> = in_order(query, Sort::CreatedAscending)
                .select(CustomerRow::as_select())
                .limit(EXPORT_BATCH)
                .load(conn)?;
            let full = rows.len() as i64 == EXPORT_BATCH;
            after = rows.last().map(|row| Anchor {
                created_at: row.created_at,
                updated_at: row.updated_at,
                id: row.id,
            });
            if !send(rows.into_iter().map(Customer::from).collect()) || !full {
                return Ok(());
            }
        }
    })
}

/// How many customers that match hold each value of `group_by`, sorted by
/// the value, the customers without one last.
pub fn stats(
    conn: &mut DbConnection,
    tenant: Tenant,
    params: &ListParams,
    custom_fields: &[CustomFieldFilter],
    group_by: GroupBy,
) -> Result<Vec<(Option<String>, i64)>, StoreError> {
    if let Some(days) = counted_days(params, custom_fields) {
        return counts::stats(conn, tenant, params.include_deleted, &days, group_by);
    }
    // Stored times read as `YYYY-MM-DD HH:MM:SS…` text on both databases
    // (PostgreSQL connections use DateStyle ISO), in UTC.
    let key = match group_by {
        GroupBy::Country => "country",
        GroupBy::Language => "language",
        GroupBy::CreatedDay => "substr(CAST(created_at AS TEXT), 1, 10)",
        GroupBy::CreatedMonth => "substr(CAST(created_at AS TEXT), 1, 7)",
    };
    let key = dsl::sql::<Nullable<Text>>(key);
    let mut groups: Vec<(Option<String>, i64)> = customers::table
        .filter(matching_condition(tenant, params, custom_fields))
        .group_by(key.clone())
        .select((key, dsl::count_star()))
        .load(conn)?;
    groups.sort_by(|(a, _), (b, _)| (a.is_none(), a).cmp(&(b.is_none(), b)));
    Ok(groups)
}

/// The creation days of a report the counts can answer: one whose only
/// filters are `includeDeleted` and a created range of whole UTC days.
fn counted_days(params: &ListParams, custom_fields: &[CustomFieldFilter]) -> Option<Days> {
    let unfiltered = params.external_id.is_none()
        && params.search.is_none()
        && params.email.is_none()
        && params.updated_from.is_none()
        && params.updated_to.is_none()
        && params.deleted_from.is_none()
        && params.deleted_to.is_none()
        && params.custom_fields.is_empty()
        && custom_fields.is_empty();
    // Days compare as text: only four-digit years sort right.
    let whole_day = |at: Option<Time>, otherwise: &str| match at {
        None => Some(otherwise.to_owned()),
        Some(at) => {
            let at = at.naive();
            (at.time() == NaiveTime::MIN && (1000..=9999).contains(&at.year()))
                .then(|| counts::day(at))
        }
    };
    Some(Days {
        from: whole_day(params.created_from, "0000")?,
        to: whole_day(params.created_to, "9999-99")?,
    })
    .filter(|_| unfiltered)
}
