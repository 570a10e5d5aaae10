//! Deliveries of events to endpoints that left their stream (parked), and
//! the attempts at every delivery. Several instances share the parked
//! deliveries: a due one is claimed by a conditional update
//! (`locked_until`), so no two make the same attempt; a claim whose
//! instance died expires, and the delivery is made again (at least once).

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};

use super::events;
use crate::domain::audit::{Action, Audit, Target};
use crate::domain::event::Event;
use crate::domain::ids::{AttemptId, CustomerId, EndpointId, EventId, OrganizationId};
use crate::domain::refusal::Refusal;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;
use crate::store::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::store::{DbConnection, StoreError, audit};

/// An event that leaves the stream as a pending delivery row: after a
/// failed first attempt, behind an earlier one of its customer, or at the
/// end of a round's time.
pub struct Parked {
    pub event_id: EventId,
    pub customer_id: CustomerId,
    pub sequence: i64,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    /// The event's time: deliveries are given up 3 days after it.
    pub created_at: NaiveDateTime,
}

impl Parked {
    /// Parked before its first attempt: due now, and sent once no earlier
    /// delivery of its customer is unfinished.
    pub fn before_first_attempt(sequence: i64, event: &Event) -> Self {
        Self {
            event_id: event.id,
            customer_id: event.customer_id,
            sequence,
            attempts: 0,
            next_attempt_at: Time::now().naive(),
            created_at: event.created_time.naive(),
        }
    }
}

/// Writes parked deliveries to one endpoint.
pub fn park(
    conn: &mut DbConnection,
    organization: OrganizationId,
    endpoint: EndpointId,
    parked: &[Parked],
) -> Result<(), StoreError> {
    let rows: Vec<_> = parked
        .iter()
        .map(|p| {
            (
                webhook_deliveries::organization_id.eq(organization),
                webhook_deliveries::endpoint_id.eq(endpoint),
                webhook_deliveries::event_id.eq(p.event_id),
                webhook_deliveries::customer_id.eq(p.customer_id),
                webhook_deliveries::sequence.eq(p.sequence),
                webhook_deliveries::state.eq("pending"),
                webhook_deliveries::attempts.eq(p.attempts),
                webhook_deliveries::next_attempt_at.eq(p.next_attempt_at),
                webhook_deliveries::created_at.eq(p.created_at),
            )
        })
        .collect();
    insert_in_chunks!(conn, webhook_deliveries::table, rows)?;
    Ok(())
}

/// The pending deliveries, in `webhook_deliveries_pending`'s own words:
/// SQLite uses a partial index only for a condition written in the query,
/// never for a bound value (docs/storage.md, plans that stay prepared).
pub(super) fn pending() -> SqlLiteral<Bool> {
    sql("state = 'pending'")
}

/// The deliveries not yet delivered or failed for good, in
/// `webhook_deliveries_unfinished`'s own words (as [`pending`]).
pub(super) fn unfinished() -> SqlLiteral<Bool> {
    sql("state <> 'delivered' AND state <> 'failed'")
}

/// A delivery that is due: its event may go to its endpoint now.
#[derive(Debug, Clone, QueryableByName)]
pub struct Due {
    #[diesel(sql_type = Text)]
    pub organization_id: OrganizationId,
    #[diesel(sql_type = Text)]
    pub endpoint_id: EndpointId,
    #[diesel(sql_type = Text)]
    pub event_id: EventId,
    #[diesel(sql_type = Text)]
    pub customer_id: CustomerId,
    #[diesel(sql_type = BigInt)]
    pub sequence: i64,
    #[diesel(sql_type = Timestamp)]
    pub created_at: NaiveDateTime,
    /// Attempts made so far, as the due query saw them: every claim adds
    /// one, so a claim that finds another number lost the race.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub attempts: i32,
    /// The endpoint's mode (the event's too).
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub livemode: bool,
}

impl Due {
    pub fn tenant(&self) -> Tenant {
        Tenant {
            organization_id: self.organization_id,
            livemode: self.livemode,
        }
    }
}

/// Pending deliveries that are due and unclaimed, to enabled endpoints,
/// each the earliest unfinished one of its customer to its endpoint (a
/// later event waits until the earlier one is delivered or has failed for
/// good).
///
/// Oldest due first, read from `webhook_deliveries_pending` in its order:
/// the scan stops at `limit`, with statistics fresh or lagging behind a
/// backlog (they say nothing is pending), where reading the deliveries in
/// another order (the bitmap of every unfinished one) cost a probe of each
/// per round. The in-order check is a probe per row (a subplan: `IS TRUE`
/// keeps PostgreSQL from turning `NOT EXISTS` into an anti-join over every
/// pending delivery), and it names the unfinished states the way
/// `webhook_deliveries_unfinished` does. Not `(SELECT NOT EXISTS …)`, which
/// does the same on PostgreSQL but which Citus refuses ("correlated
/// subqueries are not supported when the FROM clause contains a subquery
/// without FROM") on a cluster migrated and then distributed at once.
pub fn due(conn: &mut DbConnection, limit: i64) -> Result<Vec<Due>, StoreError> {
    let now = Time::now().naive();
    Ok(diesel::sql_query(
        "SELECT d.organization_id, d.endpoint_id, d.event_id, d.customer_id, d.sequence, d.created_at, d.attempts, e.livemode \
         FROM webhook_deliveries d \
         JOIN webhook_endpoints e ON e.organization_id = d.organization_id AND e.id = d.endpoint_id \
         WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND e.enabled \
           AND (d.locked_until IS NULL OR d.locked_until < $1) \
           AND (NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
                           WHERE p.organization_id = d.organization_id AND p.endpoint_id = d.endpoint_id \
                             AND p.customer_id = d.customer_id AND p.state <> 'delivered' AND p.state <> 'failed' \
                             AND p.sequence < d.sequence)) IS TRUE \
         ORDER BY d.next_attempt_at LIMIT $2",
    )
    .bind::<Timestamp, _>(now)
    .bind::<BigInt, _>(limit)
    .load(conn)?)
}

/// Claims the due deliveries for `hold`: each claimed one with its
/// attempt's number. Another instance may have claimed some first (its
/// claim changed the number of attempts); those are left out.
///
/// One statement per delivery, each naming its whole primary key and
/// nothing else the partial indexes of pending deliveries match: planned
/// by statistics that lag behind a backlog, a list of ids or a
/// `state = 'pending'` condition made PostgreSQL read every pending
/// delivery for each claim.
pub fn claim(
    conn: &mut DbConnection,
    due: &[Due],
    hold: Duration,
) -> Result<Vec<(Due, i32)>, StoreError> {
    let now = Time::now().naive();
    let until = now + TimeDelta::from_std(hold).unwrap_or(TimeDelta::MAX);
    let mut claimed = Vec::with_capacity(due.len());
    for due in due {
        let number: Option<i32> =
            diesel::update(this(due).filter(webhook_deliveries::attempts.eq(due.attempts)))
                .set((
                    webhook_deliveries::locked_until.eq(until),
                    webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
                ))
                .returning(webhook_deliveries::attempts)
                .get_result(conn)
                .optional()?;
        if let Some(number) = number {
            claimed.push((due.clone(), number));
        }
    }
    Ok(claimed)
}

type ThisDelivery = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Filter<
            webhook_deliveries::table,
            diesel::dsl::Eq<webhook_deliveries::organization_id, OrganizationId>,
        >,
        diesel::dsl::Eq<webhook_deliveries::endpoint_id, EndpointId>,
    >,
    diesel::dsl::Eq<webhook_deliveries::event_id, EventId>,
>;

/// The delivery `due` names, by its whole primary key.
fn this(due: &Due) -> ThisDelivery {
    webhook_deliveries::table
        .filter(webhook_deliveries::organization_id.eq(due.organization_id))
        .filter(webhook_deliveries::endpoint_id.eq(due.endpoint_id))
        .filter(webhook_deliveries::event_id.eq(due.event_id))
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Another attempt follows at this time.
    Retrying(NaiveDateTime),
    /// No attempt follows.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retrying(_) => "retrying",
            Self::Failed => "failed",
        }
    }
}

/// What one attempt found.
pub struct Attempt {
    pub number: i32,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub duration: Duration,
    pub outcome: Outcome,
}

/// A finished attempt at a due delivery.
pub struct Finished {
    pub due: Due,
    pub attempt: Attempt,
}

/// Records finished attempts and moves their deliveries on: one update per
/// delivery by its primary key (see [`claim`]) and one insert of every
/// attempt.
pub fn record(conn: &mut DbConnection, finished: &[Finished]) -> Result<(), StoreError> {
    let now = Time::now().naive();
    for Finished { due, attempt } in finished {
        let (state, next) = match attempt.outcome {
            Outcome::Delivered => ("delivered", now),
            Outcome::Retrying(at) => ("pending", at),
            Outcome::Failed => ("failed", now),
        };
        diesel::update(this(due))
            .set((
                webhook_deliveries::state.eq(state),
                webhook_deliveries::next_attempt_at.eq(next),
                webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
    }
    insert_attempts(
        conn,
        finished.iter().map(|Finished { due, attempt }| {
            (due.organization_id, due.endpoint_id, due.event_id, attempt)
        }),
    )
}

/// Inserts attempts, each of an event to an endpoint, a few hundred a
/// statement.
pub(super) fn insert_attempts<'a>(
    conn: &mut DbConnection,
    attempts: impl Iterator<Item = (OrganizationId, EndpointId, EventId, &'a Attempt)>,
) -> Result<(), StoreError> {
    let now = Time::now().naive();
    let rows: Vec<_> = attempts
        .map(|(organization, endpoint, event, attempt)| {
            (
                webhook_attempts::organization_id.eq(organization),
                webhook_attempts::endpoint_id.eq(endpoint),
                webhook_attempts::id.eq(AttemptId::generate()),
                webhook_attempts::event_id.eq(event),
                webhook_attempts::attempt.eq(attempt.number),
                webhook_attempts::status.eq(attempt.status.map(i32::from)),
                webhook_attempts::error.eq(attempt.error.as_deref()),
                webhook_attempts::duration_ms
                    .eq(i32::try_from(attempt.duration.as_millis()).unwrap_or(i32::MAX)),
                webhook_attempts::outcome.eq(attempt.outcome.as_str()),
                webhook_attempts::created_at.eq(now),
            )
        })
        .collect();
    insert_in_chunks!(conn, webhook_attempts::table, rows)?;
    Ok(())
}

/// An attempt as the deliveries listing shows it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub id: AttemptId,
    pub event_id: EventId,
    pub attempt: i32,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
    pub outcome: String,
    pub created_at: NaiveDateTime,
}

/// Every attempt at the tenant's events `events`, to any endpoint, newest
/// first (a customer's timeline shows each event's deliveries).
pub fn attempts_at(
    conn: &mut DbConnection,
    tenant: Tenant,
    events: Vec<EventId>,
) -> Result<Vec<(EndpointId, AttemptRow)>, StoreError> {
    Ok(webhook_attempts::table
        .filter(webhook_attempts::organization_id.eq(tenant.organization_id))
        .filter(webhook_attempts::event_id.eq_any(events))
        .order(webhook_attempts::id.desc())
        .select((webhook_attempts::endpoint_id, AttemptRow::as_select()))
        .load(conn)?)
}

/// Sends `event` to `endpoint` again: its delivery is due now, a new attempt
/// with the same event id (its earlier attempts stay in the log). An event
/// without a number yet, or of another tenant, or an endpoint of another,
/// is not found.
pub fn resend(
    conn: &mut DbConnection,
    tenant: Tenant,
    endpoint: EndpointId,
    event: EventId,
    by: &Audit,
) -> Result<(), StoreError> {
    let (Some(sequence), event) = events::find(conn, tenant, event)?.ok_or(Refusal::NotFound)?
    else {
        return Err(Refusal::NotFound.into());
    };
    // An update that changes nothing holds the endpoint's row until the
    // transaction ends, so two resends of one event take turns at the
    // delivery's row rather than both inserting it.
    let endpoint_held = diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::organization_id.eq(tenant.organization_id))
            .filter(webhook_endpoints::livemode.eq(tenant.livemode))
            .filter(webhook_endpoints::id.eq(endpoint)),
    )
    .set(webhook_endpoints::id.eq(webhook_endpoints::id))
    .execute(conn)?;
    if endpoint_held == 0 {
        return Err(Refusal::NotFound.into());
    }
    let now = Time::now().naive();
    let renewed = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::organization_id.eq(tenant.organization_id))
            .filter(webhook_deliveries::endpoint_id.eq(endpoint))
            .filter(webhook_deliveries::event_id.eq(event.id)),
    )
    .set((
        webhook_deliveries::state.eq("pending"),
        webhook_deliveries::next_attempt_at.eq(now),
        webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
        // The 3-day limit runs again from now: a resend is asked for.
        webhook_deliveries::created_at.eq(now),
    ))
    .execute(conn)?;
    if renewed == 0 {
        let parked = Parked {
            created_at: now,
            ..Parked::before_first_attempt(sequence, &event)
        };
        park(conn, tenant.organization_id, endpoint, &[parked])?;
    }
    let action = Action::WebhookDeliveryResent;
    audit::record(
        conn,
        tenant,
        by,
        action,
        Target::new("event", event.id),
        None,
    )
}

/// An endpoint's attempts, newest first, after (older than) `after`.
pub fn attempts(
    conn: &mut DbConnection,
    tenant: Tenant,
    endpoint: EndpointId,
    after: Option<AttemptId>,
    limit: i64,
) -> Result<(Vec<AttemptRow>, bool), StoreError> {
    let mut query = webhook_attempts::table
        .filter(webhook_attempts::organization_id.eq(tenant.organization_id))
        .filter(webhook_attempts::endpoint_id.eq(endpoint))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(webhook_attempts::id.lt(after));
    }
    let mut rows: Vec<AttemptRow> = query
        .order(webhook_attempts::id.desc())
        .select(AttemptRow::as_select())
        .limit(limit + 1)
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// The backlog: deliveries still to make (pending delivery rows, and the
/// events enabled endpoints' streams have not sent yet) and the time of the
/// oldest.
pub fn backlog(conn: &mut DbConnection) -> Result<(i64, Option<NaiveDateTime>), StoreError> {
    let waiting = || webhook_deliveries::table.filter(pending());
    let mut count: i64 = waiting().count().get_result(conn)?;
    let mut oldest: Option<NaiveDateTime> = waiting()
        .select(diesel::dsl::min(webhook_deliveries::created_at))
        .first(conn)?;
    let behind: Vec<(OrganizationId, bool, i64, i64)> = webhook_endpoints::table
        .filter(webhook_endpoints::enabled.eq(true))
        .filter(webhook_endpoints::streamed_through.lt(webhook_endpoints::feed_head))
        .select((
            webhook_endpoints::organization_id,
            webhook_endpoints::livemode,
            webhook_endpoints::streamed_through,
            webhook_endpoints::feed_head,
        ))
        .load(conn)?;
    for (organization_id, livemode, after, head) in behind {
        // Numbers are consecutive: what a stream has not sent is the
        // difference (its unsubscribed types included).
        count += head - after;
        let tenant = Tenant {
            organization_id,
            livemode,
        };
        let next = events::numbered(conn, tenant, after, after + 1)?;
        if let Some((_, event)) = next.first() {
            let at = event.created_time.naive();
            oldest = Some(oldest.map_or(at, |oldest| oldest.min(at)));
        }
    }
    Ok((count, oldest))
}
