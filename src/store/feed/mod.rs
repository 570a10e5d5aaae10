//! The change feed and its delivery to webhook endpoints, one subsystem
//! whose files import one way: [`events`] (the feed) <- [`endpoints`] <-
//! [`deliveries`] (parked deliveries and every attempt) <- [`streams`]
//! (each enabled endpoint reading the feed in order). What needs more than
//! one of them is here.

pub mod deliveries;
pub mod endpoints;
pub mod events;
pub mod streams;

use crate::domain::audit::{Action, Audit, Target};
use crate::domain::change::Change;
use crate::domain::ids::EndpointId;
use crate::domain::refusal::Refusal;
use crate::domain::tenant::Tenant;
use crate::domain::webhook::EndpointChanges;
use crate::store::{DbConnection, StoreError, audit};
use endpoints::Endpoint;

/// The sequencer's turn, in one transaction ([`crate::store::Database::transaction`]):
/// numbers the committed events that have none yet ([`events::number_pending`])
/// and raises the feed head of each tenant's enabled webhook endpoints to
/// its last number, so a stream never reads past what is numbered. Returns
/// how many it numbered; 0 when another instance is sequencing.
pub fn sequence(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let (numbered, lasts) = events::number_pending(conn)?;
    for (tenant, last) in lasts {
        streams::raise_feed_heads(conn, tenant, last)?;
    }
    Ok(numbered)
}

/// Applies `changes` to an endpoint; refused when there is no such endpoint.
/// A disabled endpoint's pending deliveries wait; they go once it is enabled
/// again, and so do the events its stream had not sent when it was disabled
/// (up to its feed head, which stopped there): they are parked as
/// deliveries, and the stream goes on from the feed's last number.
pub fn update_endpoint(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: EndpointId,
    changes: &EndpointChanges,
    by: &Audit,
) -> Result<Endpoint, StoreError> {
    let endpoint = endpoints::find(conn, tenant, id)?.ok_or(Refusal::NotFound)?;
    let enabling = changes.enabled == Some(true) && !endpoint.enabled;
    let endpoint = endpoints::update(conn, endpoint, changes)?;
    if enabling {
        streams::resume(conn, &endpoint)?;
    }
    let fields = [
        ("url", changes.url.is_some()),
        ("events", changes.events.is_some()),
        ("description", changes.description != Change::Keep),
        ("enabled", changes.enabled.is_some()),
    ];
    let fields = fields
        .iter()
        .filter(|(_, named)| *named)
        .map(|(name, _)| name.to_string());
    let target = Target::new("webhookEndpoint", id);
    let action = Action::WebhookEndpointUpdated;
    audit::record(conn, tenant, by, action, target, Some(fields.collect()))?;
    Ok(endpoint)
}
