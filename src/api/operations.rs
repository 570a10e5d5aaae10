//! Liveness and readiness.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::paths;
use crate::auth::Authenticator;
use crate::error::ApiError;
use crate::store::Database;
use crate::telemetry::Metrics;

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    status: String,
}

/// 200 while the process runs.
#[utoipa::path(get, path = paths::HEALTH, tag = "operations", operation_id = "getHealth",
    responses((status = 200, description = "The process runs.", body = Status)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when the database answers, else 503.
#[utoipa::path(get, path = paths::READY, tag = "operations", operation_id = "getReadiness",
    responses(
        (status = 200, description = "The database answers.", body = Status),
        (status = 503, description = "The database does not answer.", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn ready(db: web::Data<Database>) -> Result<HttpResponse, ApiError> {
    db.ping().await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = paths::METRICS, tag = "operations", operation_id = "getMetrics",
    responses((status = 200, description = "Request counts by route template and status, latency histograms, pool gauges.",
        body = String, content_type = "text/plain")))]
pub async fn metrics(
    metrics: web::Data<Metrics>,
    db: web::Data<Database>,
    authenticator: web::Data<Authenticator>,
) -> HttpResponse {
    let (connections, idle) = db.pool_state();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(connections, idle, authenticator.verifications()))
}
