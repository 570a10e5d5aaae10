//! `GET /v1/public-api/organizations/{organizationId}/audit-events`

use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::AuditQuery;
use super::paths;
use super::schemas::{GuardedProblems, QueryProblems};
use crate::auth::Tenant;
use crate::domain::audit::AuditEvent;
use crate::error::ApiError;
use crate::store::{Database, audit};

/// A page of the audit log.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuditEventPage)]
pub struct Page {
    data: Vec<AuditEvent>,
    /// Whether older events follow.
    has_more: bool,
}

/// The audit log.
///
/// Who changed or read what in the organization, and when and from where,
/// newest first: every change by any actor (API key, token, member,
/// operator, command line), every bulk read of personal data and every
/// sign-in. Events hold ids and field names, never a personal value; they
/// are never changed, and kept 400 days. A test-mode credential sees the
/// test-mode events.
#[utoipa::path(
    get,
    path = paths::AUDIT_EVENTS,
    tag = "audit",
    operation_id = "listAuditEvents",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, AuditQuery),
    responses(
        (status = 200, description = "A page of audit events, newest first.", body = Page),
        GuardedProblems, QueryProblems,
    )
)]
pub async fn list(
    tenant: Tenant,
    db: web::Data<Database>,
    AuditQuery(params): AuditQuery,
) -> Result<HttpResponse, ApiError> {
    let (data, has_more) = db
        .run(move |conn| audit::list(conn, tenant, &params))
        .await?;
    Ok(HttpResponse::Ok().json(Page { data, has_more }))
}
