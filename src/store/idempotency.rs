//! Kept answers for safe retries (contract section 8). The answer of a
//! request with an `Idempotency-Key` is inserted in the same transaction as
//! its write: after a crash at any moment there is either both or neither,
//! so a retry replays the answer or runs the request once. Two requests
//! with one key cannot both commit: the key is the table's primary key.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::Value;

use super::schema::idempotency_keys;
use super::{DbConnection, StoreError};
use crate::domain::customer;
use crate::domain::ids::{CustomerId, OrganizationId};
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;

/// An answer as it is kept, to be replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptAnswer {
    pub status: u16,
    pub location: Option<String>,
    pub etag: Option<String>,
    /// JSON text, or empty (204).
    pub body: String,
}

/// What a key holds.
#[derive(Debug)]
pub enum Found {
    /// Nothing: run the request.
    Nothing,
    /// An answer older than the window: [`forget`] it and run the request.
    Expired,
    /// The answer of the request that ran with the key.
    Answer(KeptAnswer),
    /// The key was used for another method, path or body.
    Reused,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct Row {
    fingerprint: String,
    status: i32,
    location: Option<String>,
    etag: Option<String>,
    body: Option<String>,
    created_at: NaiveDateTime,
}

type InTenant = diesel::dsl::And<
    diesel::dsl::Eq<idempotency_keys::organization_id, OrganizationId>,
    diesel::dsl::Eq<idempotency_keys::livemode, bool>,
>;
type ThisKey<'a> = diesel::dsl::And<InTenant, diesel::dsl::Eq<idempotency_keys::key, &'a str>>;

fn this(tenant: Tenant, key: &str) -> ThisKey<'_> {
    idempotency_keys::organization_id
        .eq(tenant.organization_id)
        .and(idempotency_keys::livemode.eq(tenant.livemode))
        .and(idempotency_keys::key.eq(key))
}

fn cutoff(window: Duration) -> NaiveDateTime {
    Time::now().naive() - TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX)
}

/// What `key` holds for a request with `fingerprint`; an answer older than
/// `window` no longer counts.
pub fn find(
    conn: &mut DbConnection,
    tenant: Tenant,
    key: &str,
    fingerprint: &str,
    window: Duration,
) -> Result<Found, StoreError> {
    let row: Option<Row> = idempotency_keys::table
        .filter(this(tenant, key))
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        None => Found::Nothing,
        Some(row) if row.created_at < cutoff(window) => Found::Expired,
        Some(row) if row.fingerprint != fingerprint => Found::Reused,
        Some(row) => Found::Answer(KeptAnswer {
            status: u16::try_from(row.status).unwrap_or(500),
            location: row.location,
            etag: row.etag,
            body: row.body.unwrap_or_default(),
        }),
    })
}

/// Deletes the key's expired answer, in the transaction of the request
/// that runs afresh with it.
pub fn forget(conn: &mut DbConnection, tenant: Tenant, key: &str) -> Result<(), StoreError> {
    diesel::delete(idempotency_keys::table.filter(this(tenant, key))).execute(conn)?;
    Ok(())
}

/// Keeps `answer` for the key, in the transaction of the request's write.
/// Another instance that ran the same key at the same time makes this a
/// unique violation, and its whole transaction rolls back.
pub fn keep(
    conn: &mut DbConnection,
    tenant: Tenant,
    key: &str,
    fingerprint: &str,
    answer: &KeptAnswer,
) -> Result<(), StoreError> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::organization_id.eq(tenant.organization_id),
            idempotency_keys::livemode.eq(tenant.livemode),
            idempotency_keys::key.eq(key),
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::status.eq(i32::from(answer.status)),
            idempotency_keys::location.eq(&answer.location),
            idempotency_keys::etag.eq(&answer.etag),
            idempotency_keys::body.eq(&answer.body),
            idempotency_keys::created_at.eq(Time::now().naive()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Redacts the personal data of customer `erased` in the answers kept for
/// replay: those whose body is that customer. Part of the erase's
/// transaction; the kept answers are few (one window's worth).
pub fn redact(
    conn: &mut DbConnection,
    tenant: Tenant,
    erased: CustomerId,
) -> Result<(), StoreError> {
    let of_tenant = idempotency_keys::organization_id
        .eq(tenant.organization_id)
        .and(idempotency_keys::livemode.eq(tenant.livemode));
    let id = erased.to_string();
    let kept: Vec<(String, Option<String>)> = idempotency_keys::table
        .filter(of_tenant)
        .filter(idempotency_keys::body.like(format!("%\"{id}\"%")))
        .select((idempotency_keys::key, idempotency_keys::body))
        .load(conn)?;
    for (key, body) in kept {
        let Some(mut answer) = body.and_then(|b| serde_json::from_str::<Value>(&b).ok()) else {
            continue;
        };
        if answer.get("id").and_then(Value::as_str) != Some(id.as_str()) {
            continue;
        }
        customer::redact(&mut answer);
        diesel::update(idempotency_keys::table.filter(this(tenant, &key)))
            .set(idempotency_keys::body.eq(answer.to_string()))
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes answers older than `window`; returns how many.
pub fn prune(conn: &mut DbConnection, window: Duration) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        idempotency_keys::table.filter(idempotency_keys::created_at.lt(cutoff(window))),
    )
    .execute(conn)?)
}
