//! HTTP handlers and their extractors; no SQL and no business rules live
//! here. Each route's path is written once, in [`paths`]: the router, the
//! metrics' route label and the OpenAPI document all read it.

pub mod answers;
pub mod customers;
pub mod docs;
pub mod events;
pub mod extract;
pub mod operations;
pub mod schemas;
pub mod tokens;
pub mod webhooks;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, ResponseError, web};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::middleware::{
    authenticate, authorize_customer, authorize_customers, authorize_events, authorize_tokens,
    authorize_webhooks,
};
use crate::error::ApiError;
use crate::limits::body_deadline;
use crate::telemetry::RouteTemplate;

pub mod paths {
    macro_rules! organization {
        ($rest:literal) => {
            concat!("/v1/public-api/organizations/{organizationId}", $rest)
        };
    }

    pub const CUSTOMERS: &str = organization!("/customers");
    pub const CUSTOMER: &str = organization!("/customers/{customerId}");
    pub const TOKENS: &str = organization!("/tokens");
    pub const EVENTS: &str = organization!("/events");
    pub const WEBHOOK_ENDPOINTS: &str = organization!("/webhook-endpoints");
    pub const WEBHOOK_ENDPOINT: &str = organization!("/webhook-endpoints/{endpointId}");
    pub const WEBHOOK_DELIVERIES: &str =
        organization!("/webhook-endpoints/{endpointId}/deliveries");
    pub const HEALTH: &str = "/health";
    pub const READY: &str = "/ready";
    pub const METRICS: &str = "/metrics";
    pub const OPENAPI: &str = "/openapi.json";
    pub const DOCS: &str = "/docs";
}

/// A resource at `path`, labelled with it for metrics, answering 405 (with
/// `Allow`) to the methods it has no route for.
fn resource(path: &'static str, allow: &'static str) -> actix_web::Resource {
    web::resource(path)
        .app_data(RouteTemplate(path))
        .default_service(web::to(move || async move {
            Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allow))
        }))
}

/// Every route of the service. actix-router tries routes in this order, so
/// the API comes first and Swagger UI's catch-all last.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // Middleware runs from the last `wrap` inwards: authenticate, then
    // authorize, then the body's deadline starts.
    cfg.service(
        resource(paths::CUSTOMER, "GET, PUT, DELETE")
            .wrap(from_fn(body_deadline))
            .wrap(from_fn(authorize_customer))
            .wrap(from_fn(authenticate))
            .route(web::get().to(customers::get))
            .route(web::put().to(customers::update))
            .route(web::delete().to(customers::delete)),
    )
    .service(
        resource(paths::CUSTOMERS, "GET, POST")
            .wrap(from_fn(body_deadline))
            .wrap(from_fn(authorize_customers))
            .wrap(from_fn(authenticate))
            .route(web::get().to(customers::list))
            .route(web::post().to(customers::create)),
    )
    .service(
        resource(paths::TOKENS, "POST")
            .wrap(from_fn(body_deadline))
            .wrap(from_fn(authorize_tokens))
            .wrap(from_fn(authenticate))
            .route(web::post().to(tokens::create)),
    )
    .service(
        resource(paths::EVENTS, "GET")
            .wrap(from_fn(body_deadline))
            .wrap(from_fn(authorize_events))
            .wrap(from_fn(authenticate))
            .route(web::get().to(events::list)),
    )
    .service(
        resource(paths::WEBHOOK_ENDPOINTS, "GET, POST")
            .wrap(from_fn(body_deadline))
            .wrap(from_fn(authorize_webhooks))
            .wrap(from_fn(authenticate))
            .route(web::get().to(webhooks::list))
            .route(web::post().to(webhooks::create)),
    )
    .service(
        resource(paths::WEBHOOK_DELIVERIES, "GET")
            .wrap(from_fn(body_deadline))
            .wrap(from_fn(authorize_webhooks))
            .wrap(from_fn(authenticate))
            .route(web::get().to(webhooks::deliveries)),
    )
    .service(
        resource(paths::WEBHOOK_ENDPOINT, "GET, PUT, DELETE")
            .wrap(from_fn(body_deadline))
            .wrap(from_fn(authorize_webhooks))
            .wrap(from_fn(authenticate))
            .route(web::get().to(webhooks::get))
            .route(web::put().to(webhooks::update))
            .route(web::delete().to(webhooks::delete)),
    )
    .service(resource(paths::HEALTH, "GET").route(web::get().to(operations::health)))
    .service(resource(paths::READY, "GET").route(web::get().to(operations::ready)))
    .service(resource(paths::METRICS, "GET").route(web::get().to(operations::metrics)))
    .service(resource(paths::OPENAPI, "GET").route(web::get().to(docs::openapi_json)))
    .service(web::resource(paths::DOCS).route(web::get().to(|| async {
        HttpResponse::PermanentRedirect()
            .insert_header((actix_web::http::header::LOCATION, "/docs/"))
            .finish()
    })))
    // Swagger UI, its files compiled into the binary (nothing is fetched).
    .service(
        // No validator badge: it would send the document's address to
        // validator.swagger.io (a third party, and broken offline).
        SwaggerUi::new("/docs/{_:.*}")
            .config(utoipa_swagger_ui::Config::new([paths::OPENAPI]).validator_url("none")),
    );
}

/// Answers every path that no route serves. The body, if any, is unread,
/// so the connection is closed rather than kept alive.
pub async fn not_found() -> HttpResponse {
    let mut response = ApiError::NotFound.error_response();
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    response
}
