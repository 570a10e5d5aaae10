//! The audit log. An event is inserted in the transaction of the change it
//! records, by the store function that makes the change; nothing updates
//! or deletes one but the retention ([`prune`]).

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::schema::audit_events;
use super::{DbConnection, StoreError};
use crate::domain::audit::{Action, ActorBody, Audit, AuditEvent, AuditParams, Target, TargetBody};
use crate::domain::ids::{AuditEventId, OrganizationId, UserId};
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;

/// Records that `audit`'s actor did `action` to `target` in `tenant`;
/// `fields` names what a change touched (names, never values). Part of the
/// caller's transaction.
pub fn record(
    conn: &mut DbConnection,
    tenant: Tenant,
    audit: &Audit,
    action: Action,
    target: Target,
    fields: Option<Vec<String>>,
) -> Result<(), StoreError> {
    let row = NewAuditEvent::of(tenant, audit, action, target, fields);
    diesel::insert_into(audit_events::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// Records `action` on each of `targets` at once (an import's batch).
pub fn record_many(
    conn: &mut DbConnection,
    tenant: Tenant,
    audit: &Audit,
    action: Action,
    targets: impl IntoIterator<Item = Target>,
) -> Result<(), StoreError> {
    let rows: Vec<NewAuditEvent> = targets
        .into_iter()
        .map(|target| NewAuditEvent::of(tenant, audit, action, target, None))
        .collect();
    insert_in_chunks!(conn, audit_events::table, rows)?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewAuditEvent<'a> {
    organization_id: OrganizationId,
    id: AuditEventId,
    action: &'static str,
    actor_type: &'static str,
    actor_id: Option<String>,
    actor_email: Option<&'a str>,
    target_type: &'static str,
    target_id: Option<String>,
    fields: Option<String>,
    request_id: Option<&'a str>,
    ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    livemode: bool,
    created_at: NaiveDateTime,
}

impl<'a> NewAuditEvent<'a> {
    fn of(
        tenant: Tenant,
        audit: &'a Audit,
        action: Action,
        target: Target,
        fields: Option<Vec<String>>,
    ) -> Self {
        let now = Time::now();
        Self {
            organization_id: tenant.organization_id,
            id: AuditEventId::at(now),
            action: action.as_str(),
            actor_type: audit.actor.kind(),
            actor_id: audit.actor.id(),
            actor_email: audit.actor.email(),
            target_type: target.kind,
            target_id: target.id,
            fields: fields.map(|f| serde_json::Value::from(f).to_string()),
            request_id: audit.origin.request_id.as_deref(),
            ip: audit.origin.ip.as_deref(),
            user_agent: audit.origin.user_agent.as_deref(),
            livemode: tenant.livemode,
            created_at: now.naive(),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct Row {
    id: AuditEventId,
    action: String,
    actor_type: String,
    actor_id: Option<String>,
    actor_email: Option<String>,
    target_type: String,
    target_id: Option<String>,
    fields: Option<String>,
    request_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    livemode: bool,
    created_at: NaiveDateTime,
}

impl From<Row> for AuditEvent {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            time: Time::from_stored(row.created_at),
            action: row.action,
            actor: ActorBody {
                kind: row.actor_type,
                id: row.actor_id,
                email: row.actor_email,
            },
            target: TargetBody {
                kind: row.target_type,
                id: row.target_id,
            },
            fields: row.fields.and_then(|f| serde_json::from_str(&f).ok()),
            request_id: row.request_id,
            ip: row.ip,
            user_agent: row.user_agent,
            livemode: row.livemode,
        }
    }
}

/// A page of the tenant's audit log, newest first, and whether more follow.
/// A time range is a range of ids (each id is made from its event's time),
/// so every filter is a range of an index that starts with the organization.
pub fn list(
    conn: &mut DbConnection,
    tenant: Tenant,
    params: &AuditParams,
) -> Result<(Vec<AuditEvent>, bool), StoreError> {
    let mut query = audit_events::table
        .filter(audit_events::organization_id.eq(tenant.organization_id))
        .filter(audit_events::livemode.eq(tenant.livemode))
        .into_boxed();
    if let Some(after) = params.starting_after {
        query = query.filter(audit_events::id.lt(after));
    }
    if let Some(from) = params.from {
        query = query.filter(audit_events::id.ge(AuditEventId::first_at(from)));
    }
    if let Some(to) = params.to {
        query = query.filter(audit_events::id.lt(AuditEventId::first_at(to)));
    }
    if let Some(action) = params.action {
        query = query.filter(audit_events::action.eq(action.as_str()));
        if !action.is_customer_change() {
            // The partial index's own condition, word for word, so that
            // either database sees the index serves the query.
            query = query.filter(sql::<Bool>("target_type <> 'customer'"));
        }
    }
    if let Some(actor) = &params.actor_id {
        query = query.filter(audit_events::actor_id.eq(actor.clone()));
        if actor.starts_with(UserId::PREFIX) {
            query = query.filter(sql::<Bool>("actor_type IN ('member', 'operator')"));
        }
    }
    if let Some(target) = &params.target_id {
        query = query.filter(audit_events::target_id.eq(target.clone()));
    }
    let mut rows: Vec<Row> = query
        .order(audit_events::id.desc())
        .limit(params.limit + 1)
        .select(Row::as_select())
        .load(conn)?;
    let more = rows.len() as i64 > params.limit;
    rows.truncate(params.limit as usize);
    Ok((rows.into_iter().map(AuditEvent::from).collect(), more))
}

/// The most events one prune statement deletes: a long-stopped server's
/// first prune holds no lock, and fills no log, for long.
pub const PRUNE_BATCH: usize = 5_000;

/// Deletes up to [`PRUNE_BATCH`] events older than `retention` (the oldest
/// first); how many. Run again until it deletes fewer.
pub fn prune(conn: &mut DbConnection, retention: Duration) -> Result<usize, StoreError> {
    let before = AuditEventId::first_at(Time::now().minus(retention));
    let oldest: Vec<AuditEventId> = audit_events::table
        .filter(audit_events::id.lt(before))
        .order(audit_events::id.asc())
        .select(audit_events::id)
        .limit(PRUNE_BATCH as i64)
        .load(conn)?;
    if oldest.is_empty() {
        return Ok(0);
    }
    Ok(
        diesel::delete(audit_events::table.filter(audit_events::id.eq_any(oldest)))
            .execute(conn)?,
    )
}

/// Every audit event of an organization, oldest first (for tests and the
/// console's export of the log).
pub fn all(conn: &mut DbConnection, org: OrganizationId) -> Result<Vec<AuditEvent>, StoreError> {
    let rows: Vec<Row> = audit_events::table
        .filter(audit_events::organization_id.eq(org))
        .order(audit_events::id.asc())
        .select(Row::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(AuditEvent::from).collect())
}
