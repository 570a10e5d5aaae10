//! HTTP handlers and their extractors; no SQL and no business rules live
//! here. Each route's path is written once, in [`paths`]: the router, the
//! metrics' route label and the OpenAPI document all read it.

pub mod answers;
pub mod audit;
pub mod custom_fields;
pub mod customers;
pub mod docs;
pub mod events;
pub mod extract;
pub mod imports;
pub mod lifecycle;
pub mod operations;
pub mod paths;
pub mod reports;
pub mod schemas;
pub mod tokens;
pub mod webhooks;

use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, ResponseError, web};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::middleware::{
    authenticate, authenticate_session, authorize_audit, authorize_custom_fields,
    authorize_customer, authorize_customers, authorize_erase, authorize_events, authorize_imports,
    authorize_reports, authorize_tokens, authorize_webhooks,
};
use crate::error::ApiError;
use crate::http::{console_policy, docs_policy, no_store, problem_for_not_found};
use crate::limits::{body_deadline, body_idle_deadline, organization_share, rate_limit};
use crate::telemetry::RouteTemplate;

/// A resource at `path`, labelled with it for metrics, answering 405 (with
/// `Allow`) to the methods it has no route for.
fn resource(path: &'static str, allow: &'static str) -> actix_web::Resource {
    web::resource(path)
        .app_data(RouteTemplate(path))
        .default_service(web::to(move || async move {
            Err::<HttpResponse, _>(ApiError::MethodNotAllowed(allow))
        }))
}

/// An organization's resource: its middleware, from the outside in:
/// no-store on every answer, authenticate (with the given function: a key
/// or token, or a person's session), the caller's rate limit, authorize
/// (with the given function), the organization's share of the
/// connections, then the body's deadline starts.
macro_rules! organization_resource {
    ($path:expr, $allow:literal, $authenticate:expr, $authorize:expr) => {
        organization_resource!($path, $allow, $authenticate, $authorize, body_deadline)
    };
    ($path:expr, $allow:literal, $authenticate:expr, $authorize:expr, $deadline:expr) => {
        resource($path, $allow)
            .wrap(from_fn($deadline))
            .wrap(from_fn(organization_share))
            .wrap(from_fn($authorize))
            .wrap(from_fn(rate_limit))
            .wrap(from_fn($authenticate))
            .wrap(from_fn(no_store))
    };
}

/// Every organization route, authenticated by `$authenticate`. actix-router
/// tries routes in this order: the reports first, as
/// `/customers/{customerId}` would take their paths.
macro_rules! organization_routes {
    ($cfg:expr, $authenticate:expr) => {
        $cfg.service(
            organization_resource!(
                paths::CUSTOMERS_EXPORT,
                "GET",
                $authenticate,
                authorize_reports
            )
            .route(web::get().to(reports::export)),
        )
        .service(
            organization_resource!(
                paths::CUSTOMERS_STATS,
                "GET",
                $authenticate,
                authorize_reports
            )
            .route(web::get().to(reports::stats)),
        )
        .service(
            organization_resource!(
                paths::CUSTOMER_IMPORTS,
                "POST",
                $authenticate,
                authorize_imports,
                body_idle_deadline
            )
            .route(web::post().to(imports::create)),
        )
        .service(
            organization_resource!(
                paths::CUSTOMER_IMPORT_ERRORS,
                "GET",
                $authenticate,
                authorize_imports
            )
            .route(web::get().to(imports::errors)),
        )
        .service(
            organization_resource!(
                paths::CUSTOMER_IMPORT,
                "GET, DELETE",
                $authenticate,
                authorize_imports
            )
            .route(web::get().to(imports::get))
            .route(web::delete().to(imports::cancel)),
        )
        .service(
            organization_resource!(
                paths::CUSTOMER_RESTORE,
                "POST",
                $authenticate,
                authorize_customer
            )
            .route(web::post().to(lifecycle::restore)),
        )
        .service(
            organization_resource!(
                paths::CUSTOMER_ERASE,
                "POST",
                $authenticate,
                authorize_erase
            )
            .route(web::post().to(lifecycle::erase)),
        )
        .service(
            organization_resource!(
                paths::CUSTOMER,
                "GET, PUT, DELETE",
                $authenticate,
                authorize_customer
            )
            .route(web::get().to(customers::get))
            .route(web::put().to(customers::update))
            .route(web::delete().to(customers::delete)),
        )
        .service(
            organization_resource!(
                paths::CUSTOMERS,
                "GET, POST",
                $authenticate,
                authorize_customers
            )
            .route(web::get().to(customers::list))
            .route(web::post().to(customers::create)),
        )
        .service(
            organization_resource!(paths::TOKENS, "POST", $authenticate, authorize_tokens)
                .route(web::post().to(tokens::create)),
        )
        .service(
            organization_resource!(paths::EVENTS, "GET", $authenticate, authorize_events)
                .route(web::get().to(events::list)),
        )
        .service(
            organization_resource!(paths::AUDIT_EVENTS, "GET", $authenticate, authorize_audit)
                .route(web::get().to(audit::list)),
        )
        .service(
            organization_resource!(
                paths::WEBHOOK_ENDPOINTS,
                "GET, POST",
                $authenticate,
                authorize_webhooks
            )
            .route(web::get().to(webhooks::list))
            .route(web::post().to(webhooks::create)),
        )
        .service(
            organization_resource!(
                paths::WEBHOOK_RESEND,
                "POST",
                $authenticate,
                authorize_webhooks
            )
            .route(web::post().to(webhooks::resend)),
        )
        .service(
            organization_resource!(
                paths::WEBHOOK_DELIVERIES,
                "GET",
                $authenticate,
                authorize_webhooks
            )
            .route(web::get().to(webhooks::deliveries)),
        )
        .service(
            organization_resource!(
                paths::WEBHOOK_ENDPOINT,
                "GET, PUT, DELETE",
                $authenticate,
                authorize_webhooks
            )
            .route(web::get().to(webhooks::get))
            .route(web::put().to(webhooks::update))
            .route(web::delete().to(webhooks::delete)),
        )
        .service(
            organization_resource!(
                paths::CUSTOM_FIELDS,
                "GET, POST",
                $authenticate,
                authorize_custom_fields
            )
            .route(web::get().to(custom_fields::list))
            .route(web::post().to(custom_fields::create)),
        )
        .service(
            organization_resource!(
                paths::CUSTOM_FIELD,
                "GET, PUT, DELETE",
                $authenticate,
                authorize_custom_fields
            )
            .route(web::get().to(custom_fields::get))
            .route(web::put().to(custom_fields::update))
            .route(web::delete().to(custom_fields::delete)),
        )
    };
}

/// Where the console's own pages reach the API with a person's session:
/// every organization route again under this prefix, the same handlers
/// behind [`authenticate_session`].
pub const CONSOLE_API: &str = "/console/api";

/// Every route of the service but the console's pages. actix-router tries
/// routes in this order, so the API comes first and Swagger UI's catch-all
/// last.
pub fn routes(cfg: &mut web::ServiceConfig) {
    organization_routes!(cfg, authenticate);
    cfg.service(
        web::scope(CONSOLE_API)
            .wrap(from_fn(console_policy))
            .configure(|cfg| {
                organization_routes!(cfg, authenticate_session);
            }),
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
    // Its own 404s (a file it does not have) become problem+json.
    .service(
        web::scope("/docs")
            .wrap(from_fn(problem_for_not_found))
            .wrap(from_fn(docs_policy))
            .service(
                // No validator badge: it would send the document's address to
                // validator.swagger.io (a third party, and broken offline).
                SwaggerUi::new("/{_:.*}")
                    .config(utoipa_swagger_ui::Config::new([paths::OPENAPI]).validator_url("none")),
            ),
    );
}

/// Answers every path that no route serves. The body, if any, is unread,
/// so the connection is closed rather than kept alive.
pub async fn not_found() -> HttpResponse {
    let mut response = ApiError::NOT_FOUND.error_response();
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    response
}
