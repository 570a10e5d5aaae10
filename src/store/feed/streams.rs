//! Webhook streams: each enabled endpoint reads its mode's feed in order.
//! The sequencer raises an endpoint's `feed_head` to the feed's last number
//! while it is enabled; an instance leases the stream (`locked_until`), sends
//! the events after `streamed_through`, and in one transaction records the
//! attempts, parks as delivery rows what must be tried again or wait, and
//! moves `streamed_through` on. A delivery costs no row of its own unless
//! it is parked; a lease whose instance died expires, and its round is made
//! again (at least once).

use std::collections::HashSet;
use std::time::Duration;

use chrono::TimeDelta;
use diesel::prelude::*;

use super::deliveries::{self, Attempt, Parked};
use super::endpoints::Endpoint;
use super::events;
use crate::domain::ids::{CustomerId, EventId};
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;
use crate::store::schema::{webhook_deliveries, webhook_endpoints};
use crate::store::{DbConnection, StoreError};

/// Raises the feed head of the tenant's enabled endpoints to `last`: part
/// of the sequencer's transaction, so a stream never reads past what is
/// numbered, and a disabled endpoint's stream skips what happens meanwhile.
pub fn raise_feed_heads(
    conn: &mut DbConnection,
    tenant: Tenant,
    last: i64,
) -> Result<(), StoreError> {
    diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::organization_id.eq(tenant.organization_id))
            .filter(webhook_endpoints::livemode.eq(tenant.livemode))
            .filter(webhook_endpoints::enabled.eq(true))
            .filter(webhook_endpoints::feed_head.lt(last)),
    )
    .set(webhook_endpoints::feed_head.eq(last))
    .execute(conn)?;
    Ok(())
}

/// A leased stream: its endpoint and the numbers of the round, after
/// `after` and up to `through`.
pub struct Leased {
    pub endpoint: Endpoint,
    pub after: i64,
    pub through: i64,
    /// More events wait after `through`.
    pub more: bool,
}

/// Leases, for `hold`, up to `limit` streams that have events to send and
/// no live lease, those waiting longest first; a round reads at most
/// `round` events. Each lease is a
/// conditional update by primary key: another instance may have taken the
/// stream first.
pub fn lease(
    conn: &mut DbConnection,
    limit: i64,
    round: i64,
    hold: Duration,
) -> Result<Vec<Leased>, StoreError> {
    let now = Time::now().naive();
    let until = now + TimeDelta::from_std(hold).unwrap_or(TimeDelta::MAX);
    let free = webhook_endpoints::locked_until
        .is_null()
        .or(webhook_endpoints::locked_until.lt(now));
    let behind: Vec<(Endpoint, i64, i64)> = webhook_endpoints::table
        .filter(webhook_endpoints::enabled.eq(true))
        .filter(webhook_endpoints::streamed_through.lt(webhook_endpoints::feed_head))
        .filter(free)
        // Never leased first, then the longest since released: streams take
        // turns when more than `limit` are behind.
        .order((
            webhook_endpoints::locked_until.is_not_null(),
            webhook_endpoints::locked_until,
        ))
        .select((
            Endpoint::as_select(),
            webhook_endpoints::streamed_through,
            webhook_endpoints::feed_head,
        ))
        .limit(limit)
        .load(conn)?;
    let mut leased = Vec::with_capacity(behind.len());
    for (endpoint, after, head) in behind {
        let taken = diesel::update(
            webhook_endpoints::table
                .filter(webhook_endpoints::organization_id.eq(endpoint.organization_id))
                .filter(webhook_endpoints::id.eq(endpoint.id))
                .filter(webhook_endpoints::streamed_through.eq(after))
                .filter(free),
        )
        .set(webhook_endpoints::locked_until.eq(until))
        .execute(conn)?;
        if taken == 1 {
            leased.push(Leased {
                endpoint,
                after,
                through: head.min(after + round),
                more: head > after + round,
            });
        }
    }
    Ok(leased)
}

/// The customers among `customers` with an unfinished delivery to the
/// endpoint: their later events wait behind it.
pub fn waiting(
    conn: &mut DbConnection,
    endpoint: &Endpoint,
    customers: Vec<CustomerId>,
) -> Result<HashSet<CustomerId>, StoreError> {
    let found: Vec<CustomerId> = webhook_deliveries::table
        .filter(webhook_deliveries::organization_id.eq(endpoint.organization_id))
        .filter(webhook_deliveries::endpoint_id.eq(endpoint.id))
        .filter(webhook_deliveries::customer_id.eq_any(customers))
        .filter(deliveries::unfinished())
        .select(webhook_deliveries::customer_id)
        .distinct()
        .load(conn)?;
    Ok(found.into_iter().collect())
}

/// What a round of one stream did.
pub struct Round<'a> {
    pub endpoint: &'a Endpoint,
    pub after: i64,
    pub through: i64,
    pub attempts: &'a [(EventId, Attempt)],
    pub parked: &'a [Parked],
}

/// Ends a round: records its attempts, and unless another instance took
/// the stream meanwhile (its lease expired), parks what the round parked
/// and moves the stream on, releasing the lease. `false` when it was taken:
/// the other instance sends the round's events again.
pub fn finish(conn: &mut DbConnection, round: &Round) -> Result<bool, StoreError> {
    let endpoint = round.endpoint;
    deliveries::insert_attempts(
        conn,
        round
            .attempts
            .iter()
            .map(|(event, attempt)| (endpoint.organization_id, endpoint.id, *event, attempt)),
    )?;
    let moved = diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::organization_id.eq(endpoint.organization_id))
            .filter(webhook_endpoints::id.eq(endpoint.id))
            .filter(webhook_endpoints::streamed_through.eq(round.after)),
    )
    // Released: the lease's end becomes now, the turn's order in `lease`.
    .set((
        webhook_endpoints::streamed_through.eq(round.through),
        webhook_endpoints::locked_until.eq(Time::now().naive()),
    ))
    .execute(conn)?;
    if moved == 0 {
        return Ok(false);
    }
    deliveries::park(conn, endpoint.organization_id, endpoint.id, round.parked)?;
    Ok(true)
}

/// Parks what a disabled endpoint's stream had not sent, and moves the
/// stream to the feed's last number.
pub(super) fn resume(conn: &mut DbConnection, endpoint: &Endpoint) -> Result<(), StoreError> {
    let (after, head): (i64, i64) = webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(endpoint.organization_id))
        .filter(webhook_endpoints::id.eq(endpoint.id))
        .select((
            webhook_endpoints::streamed_through,
            webhook_endpoints::feed_head,
        ))
        .first(conn)?;
    let subscription = endpoint.subscription();
    let parked: Vec<Parked> = events::numbered(conn, endpoint.tenant(), after, head)?
        .iter()
        .filter(|(_, event)| subscription.includes(event))
        .map(|(sequence, event)| Parked::before_first_attempt(*sequence, event))
        .collect();
    deliveries::park(conn, endpoint.organization_id, endpoint.id, &parked)?;
    let last = events::last_number(conn, endpoint.tenant())?;
    diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::organization_id.eq(endpoint.organization_id))
            .filter(webhook_endpoints::id.eq(endpoint.id)),
    )
    .set((
        webhook_endpoints::streamed_through.eq(last),
        webhook_endpoints::feed_head.eq(last),
    ))
    .execute(conn)?;
    Ok(())
}
