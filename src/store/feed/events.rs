//! The change feed. An event is written in the transaction of its change,
//! unnumbered; [`sequence`] numbers committed events, one sequencer at a
//! time, and the feed shows numbered events only, in their numbers' order.
//! A number is therefore never given while an earlier-committing change is
//! still invisible: a consumer that polls after the last event it saw
//! misses nothing and sees nothing twice.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use serde_json::value::RawValue;

use crate::domain::customer::Customer;
use crate::domain::event::{self, Event, EventType};
use crate::domain::ids::{CustomerId, EventId, OrganizationId};
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;
use crate::store::schema::{events, webhook_deliveries};
use crate::store::turns::{self, Turn};
use crate::store::{Db, DbConnection, StoreError};

/// Writes the event of a change to `customer`, in the change's
/// transaction. `at` must grow with every change of one customer (the
/// sequencer keeps one customer's events in that order). Returns the names
/// of the fields an update changed.
pub fn append(
    conn: &mut DbConnection,
    kind: EventType,
    customer: &Customer,
    before: Option<&Customer>,
    at: Time,
) -> Result<Vec<String>, StoreError> {
    let (row, changed) = NewEvent::of(kind, customer, before, at);
    diesel::insert_into(events::table)
        .values(&row)
        .execute(conn)?;
    Ok(changed)
}

/// Writes the events of `kind` of many customers at once (an import's
/// batch), each at its customer's `updatedTime`.
pub fn append_many(
    conn: &mut DbConnection,
    kind: EventType,
    customers: &[Customer],
) -> Result<(), StoreError> {
    let rows: Vec<NewEvent> = customers
        .iter()
        .map(|customer| NewEvent::of(kind, customer, None, customer.updated_time).0)
        .collect();
    insert_in_chunks!(conn, events::table, rows)?;
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = events)]
struct NewEvent {
    organization_id: OrganizationId,
    id: EventId,
    kind: &'static str,
    customer_id: CustomerId,
    revision: i32,
    data: String,
    created_at: NaiveDateTime,
    livemode: bool,
}

impl NewEvent {
    fn of(
        kind: EventType,
        customer: &Customer,
        before: Option<&Customer>,
        at: Time,
    ) -> (Self, Vec<String>) {
        let (data, changed) = event::data(kind, customer, before);
        let row = Self {
            organization_id: customer.organization_id,
            id: EventId::generate(),
            kind: kind.as_str(),
            customer_id: customer.id,
            revision: customer.revision,
            data,
            created_at: at.naive(),
            livemode: customer.livemode,
        };
        (row, changed)
    }
}

/// Redacts the personal data that the events of one customer hold, and so
/// in the deliveries of them still to be made (a delivery reads its event
/// when it is made). Part of an erase's transaction.
pub fn redact(
    conn: &mut DbConnection,
    tenant: Tenant,
    customer: CustomerId,
) -> Result<(), StoreError> {
    let of_tenant = events::organization_id
        .eq(tenant.organization_id)
        .and(events::livemode.eq(tenant.livemode));
    let copies: Vec<(EventId, String)> = events::table
        .filter(of_tenant)
        .filter(events::customer_id.eq(customer))
        .select((events::id, events::data))
        .load(conn)?;
    for (id, data) in copies {
        if let Some(redacted) = event::redacted_data(&data) {
            diesel::update(events::table.filter(of_tenant).filter(events::id.eq(id)))
                .set(events::data.eq(redacted))
                .execute(conn)?;
        }
    }
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = events)]
struct Row {
    organization_id: OrganizationId,
    id: EventId,
    kind: String,
    customer_id: CustomerId,
    revision: i32,
    data: String,
    created_at: NaiveDateTime,
    livemode: bool,
}

impl From<Row> for Event {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            r#type: EventType::parse(&row.kind).map_or("unknown", EventType::as_str),
            organization_id: row.organization_id,
            livemode: row.livemode,
            customer_id: row.customer_id,
            revision: row.revision,
            created_time: Time::from_stored(row.created_at),
            data: RawValue::from_string(row.data)
                .unwrap_or_else(|_| RawValue::from_string("{}".into()).unwrap()),
        }
    }
}

/// The tenant's events of `ids` that still exist, as their deliveries
/// need them.
pub fn find_many(
    conn: &mut DbConnection,
    tenant: Tenant,
    ids: Vec<EventId>,
) -> Result<Vec<Event>, StoreError> {
    Ok(events::table
        .filter(events::organization_id.eq(tenant.organization_id))
        .filter(events::livemode.eq(tenant.livemode))
        .filter(events::id.eq_any(ids))
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Event::from)
        .collect())
}

/// The tenant's events numbered after `after` and up to `through`, in
/// their order, each with its number: a webhook stream's round.
pub fn numbered(
    conn: &mut DbConnection,
    tenant: Tenant,
    after: i64,
    through: i64,
) -> Result<Vec<(i64, Event)>, StoreError> {
    let rows: Vec<(Option<i64>, Row)> = events::table
        .filter(events::organization_id.eq(tenant.organization_id))
        .filter(events::livemode.eq(tenant.livemode))
        .filter(events::sequence.gt(after))
        .filter(events::sequence.le(through))
        .order(events::sequence.asc())
        .select((events::sequence, Row::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(number, row)| (number.unwrap_or_default(), Event::from(row)))
        .collect())
}

/// What the sequencer numbers in one turn at most.
pub const BATCH: i64 = 1_000;

/// Numbers the committed events that have no number yet, in the order of
/// their times (each customer's in the order of its changes), in a few
/// statements however many events. Returns how many it numbered and each
/// tenant's last number; nothing when another instance is sequencing (it
/// holds the turn, [`Turn::EventSequencer`], for its transaction).
/// Part of the sequencer's transaction ([`super::sequence`]).
pub(super) fn number_pending(
    conn: &mut DbConnection,
) -> Result<(usize, Vec<(Tenant, i64)>), StoreError> {
    if !turns::take(conn, Turn::EventSequencer)? {
        return Ok((0, Vec::new()));
    }
    let pending: Vec<(OrganizationId, bool, EventId)> = events::table
        .filter(events::sequence.is_null())
        .order((events::created_at.asc(), events::id.asc()))
        .select((events::organization_id, events::livemode, events::id))
        .limit(BATCH)
        .load(conn)?;
    // Each mode of an organization has a feed of its own, numbered apart.
    let mut numbers: HashMap<Tenant, Vec<(EventId, i64)>> = HashMap::new();
    for (org, livemode, id) in &pending {
        let tenant = Tenant {
            organization_id: *org,
            livemode: *livemode,
        };
        let next = match numbers.get(&tenant).and_then(|numbered| numbered.last()) {
            Some((_, last)) => last + 1,
            None => last_number(conn, tenant)? + 1,
        };
        numbers.entry(tenant).or_default().push((*id, next));
    }
    let mut lasts = Vec::with_capacity(numbers.len());
    for (tenant, numbered) in &numbers {
        number(conn, tenant.organization_id, numbered)?;
        if let Some((_, last)) = numbered.last() {
            lasts.push((*tenant, *last));
        }
    }
    Ok((pending.len(), lasts))
}

/// The tenant's highest number so far (0 before its first event).
pub(super) fn last_number(conn: &mut DbConnection, tenant: Tenant) -> Result<i64, StoreError> {
    let max: Option<i64> = events::table
        .filter(events::organization_id.eq(tenant.organization_id))
        .filter(events::livemode.eq(tenant.livemode))
        .filter(events::sequence.is_not_null())
        .select(diesel::dsl::max(events::sequence))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}

/// Gives the organization's events their numbers, consecutive from the
/// first pair's, in one statement. PostgreSQL: an update of the ids in a
/// list (`= ANY`), each numbered by its place in it, planned generically
/// (`plan_cache_mode`, for the sequencer's transaction): planned for the
/// organization at hand while the statistics did not yet know its events
/// (a big import), it, the same update by a `VALUES` join, and even one
/// update per event by its whole primary key each read every event the
/// organization has through another index (0.4-2.2 s a turn of 1,000 after
/// a 1,000,000-row import); the generic plan reads the primary key. SQLite
/// (whose planner reads the primary key for the join) runs a join with a
/// `VALUES` list (since 3.33; its columns are `column1`, `column2`).
fn number(
    conn: &mut DbConnection,
    org: OrganizationId,
    numbered: &[(EventId, i64)],
) -> Result<(), StoreError> {
    let Some((_, first)) = numbered.first() else {
        return Ok(());
    };
    if let DbConnection::Pg(pg) = conn {
        let ids: Vec<String> = numbered.iter().map(|(id, _)| id.to_string()).collect();
        pg.batch_execute("SET LOCAL plan_cache_mode = force_generic_plan")?;
        diesel::sql_query(
            "UPDATE events SET sequence = $3 + array_position($2, id) - 1 \
             WHERE organization_id = $1 AND id = ANY($2)",
        )
        .bind::<Text, _>(org)
        .bind::<Array<Text>, _>(ids)
        .bind::<BigInt, _>(*first)
        .execute(pg)?;
        return Ok(());
    }
    // Placeholders in the order they appear: SQLite numbers `$n` by first
    // appearance, and Diesel binds by position.
    let pairs: Vec<String> = (0..numbered.len())
        .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
        .collect();
    let mut update = diesel::sql_query(format!(
        "UPDATE events SET sequence = v.column2 FROM (VALUES {}) AS v \
         WHERE events.organization_id = ${} AND events.id = v.column1",
        pairs.join(", "),
        2 * numbered.len() + 1
    ))
    .into_boxed::<Db>();
    for (id, number) in numbered {
        update = update.bind::<Text, _>(*id).bind::<BigInt, _>(*number);
    }
    let update = update.bind::<Text, _>(org);
    update.execute(conn)?;
    Ok(())
}

/// A page of the feed: events after `after` (a sequence number), oldest
/// first, optionally of one type or one customer.
pub struct FeedQuery {
    pub after: Option<EventId>,
    /// How long events are kept: an older one is no position in the feed.
    pub retention: Duration,
    pub kind: Option<EventType>,
    pub customer_id: Option<CustomerId>,
    pub limit: i64,
}

pub struct FeedPage {
    pub events: Vec<Event>,
    pub has_more: bool,
}

/// The event named as `startingAfter` is not (or no longer) in the feed.
#[derive(Debug)]
pub struct UnknownEvent;

pub fn feed(
    conn: &mut DbConnection,
    tenant: Tenant,
    query: &FeedQuery,
) -> Result<Result<FeedPage, UnknownEvent>, StoreError> {
    let after = match query.after {
        None => 0,
        Some(id) => {
            let anchor: Option<(Option<i64>, NaiveDateTime)> = events::table
                .filter(events::organization_id.eq(tenant.organization_id))
                .filter(events::livemode.eq(tenant.livemode))
                .filter(events::id.eq(id))
                .select((events::sequence, events::created_at))
                .first(conn)
                .optional()?;
            let cutoff = Time::now().naive()
                - TimeDelta::from_std(query.retention).unwrap_or(TimeDelta::MAX);
            match anchor {
                Some((Some(sequence), at)) if at >= cutoff => sequence,
                _ => return Ok(Err(UnknownEvent)),
            }
        }
    };
    let mut select = events::table
        .filter(events::organization_id.eq(tenant.organization_id))
        .filter(events::livemode.eq(tenant.livemode))
        .filter(events::sequence.gt(after))
        .into_boxed();
    if let Some(kind) = query.kind {
        select = select.filter(events::kind.eq(kind.as_str()));
    }
    if let Some(customer) = query.customer_id {
        select = select.filter(events::customer_id.eq(customer));
    }
    let mut rows: Vec<Row> = select
        .order(events::sequence.asc())
        .select(Row::as_select())
        .limit(query.limit + 1)
        .load(conn)?;
    let has_more = rows.len() as i64 > query.limit;
    rows.truncate(query.limit as usize);
    Ok(Ok(FeedPage {
        events: rows.into_iter().map(Event::from).collect(),
        has_more,
    }))
}

/// The tenant's numbered events, newest first, before the number `before`
/// when given, optionally of one customer (the console's feed and a
/// customer's timeline); each with its number, and whether more follow.
pub fn newest(
    conn: &mut DbConnection,
    tenant: Tenant,
    before: Option<i64>,
    customer: Option<CustomerId>,
    limit: i64,
) -> Result<(Vec<(i64, Event)>, bool), StoreError> {
    let mut select = events::table
        .filter(events::organization_id.eq(tenant.organization_id))
        .filter(events::livemode.eq(tenant.livemode))
        .filter(events::sequence.is_not_null())
        .into_boxed();
    if let Some(before) = before {
        select = select.filter(events::sequence.lt(before));
    }
    if let Some(customer) = customer {
        select = select.filter(events::customer_id.eq(customer));
    }
    let mut rows: Vec<(Option<i64>, Row)> = select
        .order(events::sequence.desc())
        .select((events::sequence, Row::as_select()))
        .limit(limit + 1)
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((
        rows.into_iter()
            .map(|(number, row)| (number.unwrap_or_default(), Event::from(row)))
            .collect(),
        more,
    ))
}

/// The tenant's event `id`, with its number once it has one.
pub fn find(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: EventId,
) -> Result<Option<(Option<i64>, Event)>, StoreError> {
    let row: Option<(Option<i64>, Row)> = events::table
        .filter(events::organization_id.eq(tenant.organization_id))
        .filter(events::livemode.eq(tenant.livemode))
        .filter(events::id.eq(id))
        .select((events::sequence, Row::as_select()))
        .first(conn)
        .optional()?;
    Ok(row.map(|(number, row)| (number, Event::from(row))))
}

/// Deletes events older than `retention`, and the deliveries of them that
/// are done; returns how many events.
pub fn prune(conn: &mut DbConnection, retention: Duration) -> Result<usize, StoreError> {
    let cutoff = Time::now().naive() - TimeDelta::from_std(retention).unwrap_or(TimeDelta::MAX);
    let pruned =
        diesel::delete(events::table.filter(events::created_at.lt(cutoff))).execute(conn)?;
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::created_at.lt(cutoff))
            .filter(webhook_deliveries::state.ne("pending")),
    )
    .execute(conn)?;
    Ok(pruned)
}
