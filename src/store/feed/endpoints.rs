//! Webhook endpoints: where an organization's events are delivered.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{deliveries, events};
use crate::domain::audit::{Action, Audit, Target};
use crate::domain::change::Change;
use crate::domain::ids::{EndpointId, OrganizationId};
use crate::domain::refusal::Refusal;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;
use crate::domain::webhook::{EndpointChanges, MAX_ENDPOINTS, Subscription, TOO_MANY_ENDPOINTS};
use crate::store::schema::{webhook_deliveries, webhook_endpoints};
use crate::store::{DbConnection, StoreError, audit};

/// An endpoint as stored. No `Debug`: the secret must not reach a log.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub organization_id: OrganizationId,
    pub id: EndpointId,
    pub url: String,
    events: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub secret: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub livemode: bool,
}

impl Endpoint {
    pub fn subscription(&self) -> Subscription {
        Subscription::from_stored(&self.events)
    }

    pub fn tenant(&self) -> Tenant {
        Tenant {
            organization_id: self.organization_id,
            livemode: self.livemode,
        }
    }
}

/// Creates an endpoint with `secret`; refused once the organization has
/// [`MAX_ENDPOINTS`]. `changes` must hold a url and events.
pub fn create(
    conn: &mut DbConnection,
    tenant: Tenant,
    changes: &EndpointChanges,
    secret: &str,
    by: &Audit,
) -> Result<Endpoint, StoreError> {
    let org = tenant.organization_id;
    let count: i64 = webhook_endpoints::table
        .filter(of(tenant))
        .count()
        .get_result(conn)?;
    if count >= MAX_ENDPOINTS {
        return Err(TOO_MANY_ENDPOINTS.into());
    }
    let now = Time::now().naive();
    let description = match &changes.description {
        Change::Set(text) => text.clone(),
        Change::Keep => None,
    };
    let endpoint = Endpoint {
        organization_id: org,
        id: EndpointId::generate(),
        url: changes
            .url
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .unwrap_or_default(),
        events: changes
            .events
            .as_ref()
            .map(Subscription::to_stored)
            .unwrap_or_default(),
        description,
        enabled: true,
        secret: secret.to_owned(),
        created_at: now,
        updated_at: now,
        livemode: tenant.livemode,
    };
    // Its stream starts after what is numbered now.
    let last = events::last_number(conn, tenant)?;
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::streamed_through.eq(last),
            webhook_endpoints::feed_head.eq(last),
            webhook_endpoints::organization_id.eq(endpoint.organization_id),
            webhook_endpoints::id.eq(endpoint.id),
            webhook_endpoints::url.eq(&endpoint.url),
            webhook_endpoints::events.eq(&endpoint.events),
            webhook_endpoints::description.eq(&endpoint.description),
            webhook_endpoints::enabled.eq(endpoint.enabled),
            webhook_endpoints::secret.eq(&endpoint.secret),
            webhook_endpoints::created_at.eq(now),
            webhook_endpoints::updated_at.eq(now),
            webhook_endpoints::livemode.eq(tenant.livemode),
        ))
        .execute(conn)?;
    let target = Target::new("webhookEndpoint", endpoint.id);
    audit::record(
        conn,
        tenant,
        by,
        Action::WebhookEndpointCreated,
        target,
        None,
    )?;
    Ok(endpoint)
}

/// The tenant's endpoints.
fn of(
    tenant: Tenant,
) -> diesel::dsl::And<
    diesel::dsl::Eq<webhook_endpoints::organization_id, OrganizationId>,
    diesel::dsl::Eq<webhook_endpoints::livemode, bool>,
> {
    webhook_endpoints::organization_id
        .eq(tenant.organization_id)
        .and(webhook_endpoints::livemode.eq(tenant.livemode))
}

pub fn list(conn: &mut DbConnection, tenant: Tenant) -> Result<Vec<Endpoint>, StoreError> {
    Ok(webhook_endpoints::table
        .filter(of(tenant))
        .order(webhook_endpoints::id.asc())
        .select(Endpoint::as_select())
        .load(conn)?)
}

pub fn find(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: EndpointId,
) -> Result<Option<Endpoint>, StoreError> {
    Ok(webhook_endpoints::table
        .filter(of(tenant))
        .filter(webhook_endpoints::id.eq(id))
        .select(Endpoint::as_select())
        .first(conn)
        .optional()?)
}

/// Applies `changes` to `endpoint` and writes it; enabling it again is
/// [`super::update_endpoint`]'s to complete.
pub(super) fn update(
    conn: &mut DbConnection,
    mut endpoint: Endpoint,
    changes: &EndpointChanges,
) -> Result<Endpoint, StoreError> {
    let (tenant, id) = (endpoint.tenant(), endpoint.id);
    if let Some(url) = &changes.url {
        endpoint.url = url.as_str().to_owned();
    }
    if let Some(events) = &changes.events {
        endpoint.events = events.to_stored();
    }
    if let Change::Set(description) = &changes.description {
        endpoint.description = description.clone();
    }
    if let Some(enabled) = changes.enabled {
        endpoint.enabled = enabled;
    }
    endpoint.updated_at = Time::now().naive();
    diesel::update(
        webhook_endpoints::table
            .filter(of(tenant))
            .filter(webhook_endpoints::id.eq(id)),
    )
    .set((
        webhook_endpoints::url.eq(&endpoint.url),
        webhook_endpoints::events.eq(&endpoint.events),
        webhook_endpoints::description.eq(&endpoint.description),
        webhook_endpoints::enabled.eq(endpoint.enabled),
        webhook_endpoints::updated_at.eq(endpoint.updated_at),
    ))
    .execute(conn)?;
    Ok(endpoint)
}

/// Deletes an endpoint and the deliveries still pending to it; refused
/// when there is no such endpoint.
pub fn delete(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: EndpointId,
    by: &Audit,
) -> Result<(), StoreError> {
    let deleted = diesel::delete(
        webhook_endpoints::table
            .filter(of(tenant))
            .filter(webhook_endpoints::id.eq(id)),
    )
    .execute(conn)?;
    if deleted == 0 {
        return Err(Refusal::NotFound.into());
    }
    diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::organization_id.eq(tenant.organization_id))
            .filter(webhook_deliveries::endpoint_id.eq(id))
            .filter(deliveries::pending()),
    )
    .execute(conn)?;
    let target = Target::new("webhookEndpoint", id);
    audit::record(
        conn,
        tenant,
        by,
        Action::WebhookEndpointDeleted,
        target,
        None,
    )
}
