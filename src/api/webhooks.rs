//! `/v1/public-api/organizations/{organizationId}/webhook-endpoints[/…]`

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::answers::{self, Idempotency};
use super::extract::{AttemptQuery, EndpointPath, JsonObject};
use super::paths;
use super::schemas::{
    BodyProblems, EndpointCreateInput, EndpointUpdateInput, GuardedProblems, IdempotencyProblems,
    NotFoundProblem, QueryProblems, ResendInput,
};
use crate::auth::Tenant;
use crate::auth::keys;
use crate::domain::InvalidField;
use crate::domain::audit::Audit;
use crate::domain::ids::{EndpointId, EventId};
use crate::domain::time::Time;
use crate::domain::webhook::{EndpointChanges, MAX_ENDPOINTS, UrlPolicy, resend_body};
use crate::error::ApiError;
use crate::store::Database;
use crate::store::feed;
use crate::store::feed::deliveries;
use crate::store::feed::endpoints::{self, Endpoint};
use crate::webhooks::refuses_private_addresses;

/// What the webhook routes need of the settings.
#[derive(Debug, Clone, Copy)]
pub struct WebhookSettings {
    pub policy: UrlPolicy,
    /// How long events are kept.
    pub retention: Duration,
}

/// A webhook endpoint as answers show it; the secret only when created.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookEndpoint)]
pub struct EndpointBody {
    #[schema(value_type = String, example = "whe_0193a3c2e6117e2f9a3b4c5d6e7f8091")]
    id: String,
    #[schema(example = "https://example.com/hooks/clientele")]
    url: String,
    /// The event types sent to it, or `["*"]`.
    #[schema(example = json!(["customer.created", "customer.updated"]))]
    events: Vec<&'static str>,
    #[schema(required)]
    description: Option<String>,
    enabled: bool,
    /// False for an endpoint of test mode: it hears only test-mode events.
    livemode: bool,
    #[schema(inline)]
    created_time: Time,
    /// Only in the answer to its creation: the key of every delivery's
    /// `Clientele-Signature` (HMAC-SHA256 of `"<t>.<body>"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "whsec_…")]
    secret: Option<String>,
}

impl EndpointBody {
    fn of(endpoint: &Endpoint, with_secret: bool) -> Self {
        Self {
            id: endpoint.id.to_string(),
            url: endpoint.url.clone(),
            events: endpoint.subscription().names(),
            description: endpoint.description.clone(),
            enabled: endpoint.enabled,
            livemode: endpoint.livemode,
            created_time: Time::from_stored(endpoint.created_at),
            secret: with_secret.then(|| endpoint.secret.clone()),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = WebhookEndpointList)]
pub struct EndpointList {
    data: Vec<EndpointBody>,
}

/// Parses a body, and under the strict policy refuses a host that resolves
/// to a private address (checked again at every delivery).
pub async fn changes(
    body: &Map<String, Value>,
    creating: bool,
    settings: &WebhookSettings,
) -> Result<EndpointChanges, ApiError> {
    let changes = EndpointChanges::from_json(body, creating, settings.policy)?;
    if let (Some(url), false) = (&changes.url, settings.policy.allow_private) {
        let (host, port) = url.host_and_port();
        if refuses_private_addresses(&host, port).await {
            return Err(ApiError::Invalid(vec![InvalidField {
                field: "url".into(),
                message: "resolves to a private, loopback, link-local or reserved address".into(),
            }]));
        }
    }
    Ok(changes)
}

/// Create a webhook endpoint.
///
/// At most 16 per organization. The answer holds the signing secret, the
/// only time it is shown.
#[utoipa::path(
    post,
    path = paths::WEBHOOK_ENDPOINTS,
    tag = "webhooks",
    operation_id = "createWebhookEndpoint",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, Idempotency),
    request_body(content = EndpointCreateInput, content_type = "application/json"),
    responses(
        (status = 201, description = "The endpoint, with its secret.", body = EndpointBody),
        GuardedProblems, BodyProblems, IdempotencyProblems,
    )
)]
pub async fn create(
    tenant: Tenant,
    db: web::Data<Database>,
    settings: web::Data<WebhookSettings>,
    body: JsonObject,
    idempotency: Idempotency,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    let changes = changes(&body, true, &settings).await?;
    let secret = format!("whsec_{}", keys::random_hex(32));
    idempotency
        .respond(&db, tenant, Some(&body), move |conn| {
            let endpoint = endpoints::create(conn, tenant, &changes, &secret, &audit)?;
            Ok(answers::json(
                StatusCode::CREATED,
                &EndpointBody::of(&endpoint, true),
            ))
        })
        .await
}

/// List the webhook endpoints.
///
/// Every endpoint of the organization (at most 16), without their secrets.
#[utoipa::path(
    get,
    path = paths::WEBHOOK_ENDPOINTS,
    tag = "webhooks",
    operation_id = "listWebhookEndpoints",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant),
    responses(
        (status = 200, description = "Every endpoint (at most 16).", body = EndpointList),
        GuardedProblems, QueryProblems,
    )
)]
pub async fn list(tenant: Tenant, db: web::Data<Database>) -> Result<HttpResponse, ApiError> {
    let endpoints = db.run(move |conn| endpoints::list(conn, tenant)).await?;
    debug_assert!(endpoints.len() as i64 <= MAX_ENDPOINTS);
    Ok(HttpResponse::Ok().json(EndpointList {
        data: endpoints
            .iter()
            .map(|e| EndpointBody::of(e, false))
            .collect(),
    }))
}

/// Get a webhook endpoint.
///
/// The endpoint, without its secret.
#[utoipa::path(
    get,
    path = paths::WEBHOOK_ENDPOINT,
    tag = "webhooks",
    operation_id = "getWebhookEndpoint",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, EndpointPath),
    responses(
        (status = 200, description = "The endpoint (without its secret).", body = EndpointBody),
        GuardedProblems, NotFoundProblem, QueryProblems,
    )
)]
pub async fn get(
    tenant: Tenant,
    EndpointPath(id): EndpointPath,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    let endpoint = db
        .run(move |conn| endpoints::find(conn, tenant, id))
        .await?
        .ok_or(ApiError::NOT_FOUND)?;
    Ok(HttpResponse::Ok().json(EndpointBody::of(&endpoint, false)))
}

/// Change a webhook endpoint.
///
/// `url`, `events`, `description` and `enabled`; a disabled endpoint's
/// deliveries wait until it is enabled again.
#[utoipa::path(
    put,
    path = paths::WEBHOOK_ENDPOINT,
    tag = "webhooks",
    operation_id = "updateWebhookEndpoint",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, EndpointPath, Idempotency),
    request_body(content = EndpointUpdateInput, content_type = "application/json"),
    responses(
        (status = 200, description = "The endpoint.", body = EndpointBody),
        GuardedProblems, BodyProblems, NotFoundProblem, IdempotencyProblems,
    )
)]
pub async fn update(
    tenant: Tenant,
    db: web::Data<Database>,
    settings: web::Data<WebhookSettings>,
    body: JsonObject,
    EndpointPath(id): EndpointPath,
    idempotency: Idempotency,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    let changes = changes(&body, false, &settings).await?;
    idempotency
        .respond(&db, tenant, Some(&body), move |conn| {
            let endpoint = feed::update_endpoint(conn, tenant, id, &changes, &audit)?;
            Ok(answers::json(
                StatusCode::OK,
                &EndpointBody::of(&endpoint, false),
            ))
        })
        .await
}

/// Delete a webhook endpoint.
///
/// Its pending deliveries are dropped.
#[utoipa::path(
    delete,
    path = paths::WEBHOOK_ENDPOINT,
    tag = "webhooks",
    operation_id = "deleteWebhookEndpoint",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, EndpointPath, Idempotency),
    responses(
        (status = 204, description = "Deleted."),
        GuardedProblems, NotFoundProblem, IdempotencyProblems,
    )
)]
pub async fn delete(
    tenant: Tenant,
    EndpointPath(id): EndpointPath,
    idempotency: Idempotency,
    db: web::Data<Database>,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    idempotency
        .respond(&db, tenant, None, move |conn| {
            endpoints::delete(conn, tenant, id, &audit)?;
            Ok(answers::no_content())
        })
        .await
}

/// One delivery attempt.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookAttempt)]
pub struct AttemptBody {
    #[schema(value_type = String, example = "wha_0193a3c2e7227f3a0b4c5d6e7f8091a2")]
    id: String,
    #[schema(value_type = String, example = "evt_0193a3c2e5f07d1e8f2a3b4c5d6e7f80")]
    event_id: String,
    /// 1 for the first attempt at this event.
    attempt: i32,
    /// The endpoint's HTTP status; null when it gave none.
    #[schema(required)]
    status: Option<i32>,
    #[schema(required)]
    error: Option<String>,
    duration_ms: i32,
    #[schema(inline)]
    time: Time,
    /// `delivered`, `retrying` or `failed`.
    #[schema(example = "delivered")]
    outcome: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookAttemptPage)]
pub struct AttemptPage {
    data: Vec<AttemptBody>,
    has_more: bool,
}

/// List an endpoint's delivery attempts.
///
/// Newest first: each attempt's event, number, HTTP status, error,
/// duration and outcome (`delivered`, `retrying` or `failed`).
#[utoipa::path(
    get,
    path = paths::WEBHOOK_DELIVERIES,
    tag = "webhooks",
    operation_id = "listWebhookDeliveries",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, EndpointPath, AttemptQuery),
    responses(
        (status = 200, description = "A page of attempts.", body = AttemptPage),
        GuardedProblems, NotFoundProblem, QueryProblems,
    )
)]
pub async fn deliveries(
    tenant: Tenant,
    EndpointPath(id): EndpointPath,
    AttemptQuery(query): AttemptQuery,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    let found = db
        .run(move |conn| {
            if endpoints::find(conn, tenant, id)?.is_none() {
                return Ok(None);
            }
            deliveries::attempts(conn, tenant, id, query.starting_after, query.limit).map(Some)
        })
        .await?
        .ok_or(ApiError::NOT_FOUND)?;
    let (rows, has_more) = found;
    Ok(HttpResponse::Ok().json(AttemptPage {
        data: rows
            .into_iter()
            .map(|row| AttemptBody {
                id: row.id.to_string(),
                event_id: row.event_id.to_string(),
                attempt: row.attempt,
                status: row.status,
                error: row.error,
                duration_ms: row.duration_ms,
                time: Time::from_stored(row.created_at),
                outcome: row.outcome,
            })
            .collect(),
        has_more,
    }))
}

/// What a resend answers.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = WebhookResend)]
pub struct Resent {
    #[schema(value_type = String, example = "whe_0193a3c2e6117e2f9a3b4c5d6e7f8091")]
    endpoint_id: EndpointId,
    #[schema(value_type = String, example = "evt_0193a3c2e5f07d1e8f2a3b4c5d6e7f80")]
    event_id: EventId,
}

/// Send an event to an endpoint again.
///
/// The event (one of this organization's, in the feed) is delivered to the
/// endpoint again, a new attempt with the same event id, within seconds;
/// its earlier attempts stay in the deliveries listing. The endpoint must be
/// enabled for the attempt to be made. Receivers deduplicate by
/// `Clientele-Event-Id` as for any retry.
#[utoipa::path(
    post,
    path = paths::WEBHOOK_RESEND,
    tag = "webhooks",
    operation_id = "resendWebhookEvent",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, EndpointPath, Idempotency),
    request_body(content = ResendInput, content_type = "application/json"),
    responses(
        (status = 202, description = "The delivery is due: a new attempt follows within seconds.", body = Resent),
        GuardedProblems, BodyProblems, NotFoundProblem, IdempotencyProblems,
    )
)]
pub async fn resend(
    tenant: Tenant,
    db: web::Data<Database>,
    body: JsonObject,
    EndpointPath(id): EndpointPath,
    idempotency: Idempotency,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    let event = resend_body(&body)?;
    idempotency
        .respond(&db, tenant, Some(&body), move |conn| {
            deliveries::resend(conn, tenant, id, event, &audit)?;
            let body = Resent {
                endpoint_id: id,
                event_id: event,
            };
            Ok(answers::json(StatusCode::ACCEPTED, &body))
        })
        .await
}
