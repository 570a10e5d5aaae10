//! The OpenAPI 3.1 document, generated from the handlers' annotations, the
//! domain's descriptions of its rules and the documentation types in
//! [`super::schemas`].

use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{customers, operations, paths, tokens};
use crate::domain::InvalidField;
use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "clientele",
        description = "A multi-tenant, organization-scoped Customers API. Every route under \
            `/v1/public-api/organizations/{organizationId}` needs `Authorization: ApiKey <key>` or \
            `Authorization: Bearer <token>`; errors are `application/problem+json`.",
    ),
    paths(
        customers::create,
        customers::list,
        customers::get,
        customers::update,
        customers::delete,
        tokens::create,
        operations::health,
        operations::ready,
        operations::metrics,
        openapi_json,
    ),
    components(schemas(Problem, InvalidField)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "customers", description = "Customer records of one organization."),
        (name = "tokens", description = "Short-lived tokens for hosted payment forms."),
        (name = "operations", description = "Health, readiness, metrics and this document."),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document (this one).
#[utoipa::path(
    get,
    path = paths::OPENAPI,
    tag = "operations",
    operation_id = "getOpenApiDocument",
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object, content_type = "application/json"))
)]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}

/// The document as JSON text, built once.
pub fn document() -> &'static str {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the document serializes")
    })
}

/// The two ways to authenticate that the operations name.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "ApiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`ApiKey ck_key_…_…`: a secret API key of the organization.",
            ))),
        );
        components.add_security_scheme(
            "Bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A short-lived token from `POST …/tokens`."))
                    .build(),
            ),
        );
    }
}
