//! HTTP handlers and their request and response types; no SQL and no
//! business rules live here.

pub mod customers;
pub mod openapi;
pub mod operations;
pub mod time;
pub mod tokens;

use actix_web::{HttpResponse, ResponseError, web};

use actix_web::middleware::from_fn;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth;
use crate::error::ApiError;

/// Every route of the service. actix-router tries routes in this order and
/// matches dynamic segments with a (slow) regex engine, so the API comes
/// first and Swagger UI's catch-all last: measured, route matching was 14%
/// of a get-by-id's CPU with the API behind the documentation routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/v1/public-api/organizations/{organizationId}")
            .service(
                web::resource("/customers/{customerId}")
                    .wrap(from_fn(auth::guard_customer))
                    .route(web::get().to(customers::get))
                    .route(web::put().to(customers::update))
                    .route(web::delete().to(customers::delete))
                    .default_service(web::to(|| not_allowed("GET, PUT, DELETE"))),
            )
            .service(
                web::resource("/customers")
                    .wrap(from_fn(auth::guard_customers))
                    .route(web::get().to(customers::list))
                    .route(web::post().to(customers::create))
                    .default_service(web::to(|| not_allowed("GET, POST"))),
            )
            .service(
                web::resource("/tokens")
                    .wrap(from_fn(auth::guard_tokens))
                    .route(web::post().to(tokens::create))
                    .default_service(web::to(|| not_allowed("POST"))),
            ),
    )
    .service(
        web::resource("/health")
            .route(web::get().to(operations::health))
            .default_service(web::to(|| not_allowed("GET"))),
    )
    .service(
        web::resource("/ready")
            .route(web::get().to(operations::ready))
            .default_service(web::to(|| not_allowed("GET"))),
    )
    .service(
        web::resource("/metrics")
            .route(web::get().to(operations::metrics))
            .default_service(web::to(|| not_allowed("GET"))),
    )
    .service(
        web::resource("/openapi.json")
            .route(web::get().to(openapi::openapi_json))
            .default_service(web::to(|| not_allowed("GET"))),
    )
    .service(web::resource("/docs").route(web::get().to(|| async {
        HttpResponse::PermanentRedirect()
            .insert_header((actix_web::http::header::LOCATION, "/docs/"))
            .finish()
    })))
    // Swagger UI, its files compiled into the binary (nothing is fetched).
    .service(
        SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::new(["/openapi.json"])),
    );
}

async fn not_allowed(allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed(allow))
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
