//! Liveness and readiness.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::paths;
use super::schemas::MethodProblems;
use crate::auth::Authenticator;
use crate::error::ApiError;
use crate::store::Database;
use crate::store::citus::Worker;
use crate::telemetry::{Metrics, MetricsAccess};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    status: String,
}

/// Readiness: `ready`, or on Citus `degraded` while a worker does not answer
/// (the organizations on other workers are still served).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    status: &'static str,
    /// On a Citus coordinator: each worker and whether it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>, nullable = false)]
    workers: Option<Vec<Worker>>,
    /// With a read replica configured: `ready`, or `unavailable` while it
    /// does not answer (its reads then run on the primary).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "ready")]
    replica: Option<&'static str>,
}

/// Liveness.
///
/// 200 while the process runs; it never touches the database.
#[utoipa::path(get, path = paths::HEALTH, tag = "operations", operation_id = "getHealth", security(),
    responses((status = 200, description = "The process runs.", body = Status), MethodProblems))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness.
///
/// 200 when the database answers within a second, else 503.
#[utoipa::path(get, path = paths::READY, tag = "operations", operation_id = "getReadiness", security(),
    responses(
        (status = 200, description = "The database answers (on Citus, the coordinator; the workers are listed; a read replica is reported, and its reads fall back to the primary while it does not answer).", body = Readiness),
        (status = 503, description = "The database does not answer, or this server is stopping.", body = crate::error::Problem,
            content_type = "application/problem+json",
            headers(("Retry-After" = String, description = "Seconds to wait before retrying."))),
        MethodProblems,
    ))]
pub async fn ready(db: web::Data<Database>) -> Result<HttpResponse, ApiError> {
    let workers = db.readiness().await?;
    let degraded = workers.iter().flatten().any(|worker| !worker.ready);
    let replica = db.replica_readiness().await;
    Ok(HttpResponse::Ok().json(Readiness {
        status: if degraded { "degraded" } else { "ready" },
        workers,
        replica: replica.map(|answers| if answers { "ready" } else { "unavailable" }),
    }))
}

/// Prometheus metrics.
///
/// The text exposition format: requests by route template, method and
/// status, latencies, pool gauges, process metrics and the build.
#[utoipa::path(get, path = paths::METRICS, tag = "operations", operation_id = "getMetrics", security(),
    responses((status = 200, description = "Request counts by route template and status, latency histograms, pool gauges, process metrics.",
        body = String, content_type = "text/plain"), MethodProblems))]
pub async fn metrics(
    req: HttpRequest,
    access: web::Data<MetricsAccess>,
    metrics: web::Data<Metrics>,
    db: web::Data<Database>,
    authenticator: web::Data<Authenticator>,
) -> Result<HttpResponse, ApiError> {
    access.check(&req)?;
    let (connections, idle) = db.pool_state();
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(connections, idle, authenticator.verifications())))
}
