//! The OpenAPI 3.1 document, generated from the handlers' annotations, the
//! domain's descriptions of its rules and the documentation types in
//! [`super::schemas`].

use actix_web::HttpResponse;
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::schemas::{MethodProblems, ValidationProblem, customer_input_components};
use super::{
    audit, custom_fields, customers, events, imports, lifecycle, operations, paths, reports,
    tokens, webhooks,
};
use crate::domain::InvalidField;
use crate::domain::customer::FieldSet;
use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "clientele",
        contact(name = "clientele", url = "https://clientele.invalid/support"),
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
        lifecycle::restore,
        lifecycle::erase,
        reports::export,
        reports::stats,
        imports::create,
        imports::get,
        imports::cancel,
        imports::errors,
        tokens::create,
        custom_fields::create,
        custom_fields::list,
        custom_fields::get,
        custom_fields::update,
        custom_fields::delete,
        events::list,
        audit::list,
        webhooks::create,
        webhooks::list,
        webhooks::get,
        webhooks::update,
        webhooks::delete,
        webhooks::deliveries,
        webhooks::resend,
        operations::health,
        operations::ready,
        operations::metrics,
        openapi_json,
    ),
    servers((url = "/", description = "The server this document was fetched from.")),
    components(schemas(Problem, ValidationProblem, InvalidField)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "customers", description = "Customer records of one organization."),
        (name = "reports", description = "Exports and counts of customers, for reporting tools."),
        (name = "imports", description = "Customers brought in from a file, CSV or NDJSON, row by row in the background."),
        (name = "tokens", description = "Short-lived tokens for hosted payment forms."),
        (name = "custom-fields", description = "An organization's own typed fields on customers."),
        (name = "events", description = "The change feed."),
        (name = "audit", description = "Who changed or read what, when and from where."),
        (name = "webhooks", description = "Endpoints the events are POSTed to, signed, and their delivery attempts."),
        (name = "operations", description = "Health, readiness, metrics and this document."),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document.
///
/// This document, as OpenAPI 3.1 JSON.
#[utoipa::path(
    get,
    path = paths::OPENAPI,
    tag = "operations",
    operation_id = "getOpenApiDocument",
    security(),
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object, content_type = "application/json"), MethodProblems)
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
        let mut document =
            serde_json::to_value(ApiDoc::openapi()).expect("the document serializes");
        camel_case_links(&mut document);
        let update = &mut document["paths"][paths::CUSTOMER]["put"]["description"];
        if let Some(text) = update.as_str() {
            *update = text.replace(PAYER_FIELDS, &payer_fields()).into();
        }
        serde_json::to_string_pretty(&document).expect("the document serializes")
    })
}

/// Where the update's description names what a payer may change: the list
/// is the writable-field table's, written in when the document is built.
const PAYER_FIELDS: &str = "PAYER_FIELDS";

fn payer_fields() -> String {
    let names: Vec<String> = FieldSet::payer()
        .names()
        .iter()
        .map(|name| format!("`{name}`"))
        .collect();
    names.join(", ")
}

/// utoipa 5.5 writes a link's `operationId`, `operationRef` and
/// `requestBody` in snake case, which no OpenAPI tool reads.
fn camel_case_links(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(links)) = map.get_mut("links") {
                for link in links.values_mut().filter_map(Value::as_object_mut) {
                    for (snake, camel) in [
                        ("operation_id", "operationId"),
                        ("operation_ref", "operationRef"),
                        ("request_body", "requestBody"),
                    ] {
                        if let Some(field) = link.remove(snake) {
                            link.insert(camel.to_owned(), field);
                        }
                    }
                }
            }
            map.values_mut().for_each(camel_case_links);
        }
        Value::Array(items) => items.iter_mut().for_each(camel_case_links),
        _ => {}
    }
}

/// The two ways to authenticate that the operations name, and the named
/// parts of the customer input.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, schema) in customer_input_components() {
            components.schemas.insert(name, schema);
        }
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
                    .description(Some(
                        "`Bearer ck_…`: a secret API key, or `Bearer <token>`: a short-lived token \
                         from `POST …/tokens`. One scheme for every generated client.",
                    ))
                    .build(),
            ),
        );
    }
}
