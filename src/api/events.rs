//! `GET /v1/public-api/organizations/{organizationId}/events`

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::FeedQuery;
use super::paths;
use super::schemas::{GuardedProblems, QueryProblems};
use super::webhooks::WebhookSettings;
use crate::auth::Tenant;
use crate::domain::InvalidField;
use crate::domain::event::Event;
use crate::error::ApiError;
use crate::store::Database;
use crate::store::feed::events::{self, FeedQuery as Query, UnknownEvent};

/// A page of the change feed.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = EventPage)]
pub struct Page {
    data: Vec<Event>,
    /// Whether more events follow now (more may come later).
    has_more: bool,
}

/// The change feed.
///
/// Every change of a customer, oldest first. A consumer that polls with
/// `startingAfter` set to the last event it saw never misses an event and
/// never sees one twice.
#[utoipa::path(
    get,
    path = paths::EVENTS,
    tag = "events",
    operation_id = "listEvents",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, FeedQuery),
    responses(
        (status = 200, description = "A page of events.", body = Page),
        GuardedProblems, QueryProblems,
    )
)]
pub async fn list(
    tenant: Tenant,
    db: web::Data<Database>,
    settings: web::Data<WebhookSettings>,
    FeedQuery(params): FeedQuery,
) -> Result<HttpResponse, ApiError> {
    let query = Query {
        after: params.starting_after,
        retention: settings.retention,
        kind: params.kind,
        customer_id: params.customer_id,
        limit: params.limit,
    };
    let page = db
        .run(move |conn| events::feed(conn, tenant, &query))
        .await?
        .map_err(|UnknownEvent| {
            ApiError::Invalid(vec![InvalidField {
                field: "startingAfter".into(),
                message: "names no event of this organization within the retention".into(),
            }])
        })?;
    Ok(HttpResponse::Ok().json(Page {
        data: page.events,
        has_more: page.has_more,
    }))
}
