//! Documentation-only types for the OpenAPI document: request bodies, whose
//! schemas the domain states, and the problems each route can answer. This
//! module depends on the domain and the problem format only; handlers name
//! these types in their annotations.

use std::collections::BTreeMap;

use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{Content, HeaderBuilder, ObjectBuilder, Ref, RefOr, Schema, Type};
use utoipa::{IntoResponses, PartialSchema, ToSchema};

use crate::domain::customer::CustomerChanges;
use crate::domain::schema;
use crate::domain::token_request::TokenRequest;
use crate::error::{ApiError, MAX_BODY_BYTES};

/// The body of `POST` and `PUT` on customers. Its object-valued fields
/// are named schemas of their own (`AddressInput`, `MetadataInput`), so that
/// generated clients name their types after them.
pub struct CustomerInput;

impl PartialSchema for CustomerInput {
    fn schema() -> RefOr<Schema> {
        schema::of(hoist_objects(CustomerChanges::schema()).0)
    }
}

/// Replaces each object-valued property of `schema` by a reference to a
/// component named after it (`address` -> `AddressInput`); returns the
/// schema and the components to register.
fn hoist_objects(
    mut schema: serde_json::Value,
) -> (serde_json::Value, Vec<(String, serde_json::Value)>) {
    let mut hoisted = Vec::new();
    if let Some(properties) = schema["properties"].as_object_mut() {
        for (name, property) in properties.iter_mut() {
            let is_object = property["type"]
                .as_array()
                .is_some_and(|kinds| kinds.contains(&"object".into()));
            if !is_object {
                continue;
            }
            let component = format!("{}{}Input", name[..1].to_uppercase(), &name[1..]);
            let mut object = property.take();
            object["type"] = "object".into();
            *property = serde_json::json!({"anyOf": [
                {"$ref": format!("#/components/schemas/{component}")},
                {"type": "null"}
            ]});
            hoisted.push((component, object));
        }
    }
    (schema, hoisted)
}

/// The named schemas `CustomerInput` refers to.
pub fn customer_input_components() -> Vec<(String, RefOr<Schema>)> {
    hoist_objects(CustomerChanges::schema())
        .1
        .into_iter()
        .map(|(name, schema)| (name, schema::of(schema)))
        .collect()
}

impl ToSchema for CustomerInput {}

/// The body of `POST …/webhook-endpoints`.
pub struct EndpointCreateInput;

impl PartialSchema for EndpointCreateInput {
    fn schema() -> RefOr<Schema> {
        schema::of(crate::domain::webhook::EndpointChanges::schema(true))
    }
}

impl ToSchema for EndpointCreateInput {
    fn name() -> std::borrow::Cow<'static, str> {
        "WebhookEndpointInput".into()
    }
}

/// The body of `PUT …/webhook-endpoints/{endpointId}`.
pub struct EndpointUpdateInput;

impl PartialSchema for EndpointUpdateInput {
    fn schema() -> RefOr<Schema> {
        schema::of(crate::domain::webhook::EndpointChanges::schema(false))
    }
}

impl ToSchema for EndpointUpdateInput {
    fn name() -> std::borrow::Cow<'static, str> {
        "WebhookEndpointChanges".into()
    }
}

/// The body of `POST …/webhook-endpoints/{endpointId}/resend`.
pub struct ResendInput;

impl PartialSchema for ResendInput {
    fn schema() -> RefOr<Schema> {
        schema::of(crate::domain::webhook::resend_schema())
    }
}

impl ToSchema for ResendInput {}

/// The body of `POST …/tokens`.
pub struct TokenInput;

impl PartialSchema for TokenInput {
    fn schema() -> RefOr<Schema> {
        schema::of(TokenRequest::schema())
    }
}

impl ToSchema for TokenInput {}

/// A 422 problem: `invalidFields` names every invalid field or parameter.
pub struct ValidationProblem;

impl PartialSchema for ValidationProblem {
    fn schema() -> RefOr<Schema> {
        schema::of(serde_json::json!({
            "allOf": [
                {"$ref": "#/components/schemas/Problem"},
                {
                    "type": "object",
                    "required": ["invalidFields"],
                    "properties": {
                        "invalidFields": {
                            "type": "array", "minItems": 1,
                            "items": {"$ref": "#/components/schemas/InvalidField"},
                            "description": "Every invalid field or parameter, nested ones with dots (`address.country`)."
                        }
                    }
                }
            ],
            "examples": [{"type": "/problems/validation", "title": "Invalid data was sent.", "status": 422,
                "detail": "1 field is invalid.",
                "invalidFields": [{"field": "address.country", "message": "must be an ISO 3166-1 alpha-2 code"}]}]
        }))
    }
}

impl ToSchema for ValidationProblem {}

fn problems(list: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|(status, description)| {
            let schema = match status {
                422 => "ValidationProblem",
                _ => "Problem",
            };
            let mut response = ResponseBuilder::new().description(*description).content(
                "application/problem+json",
                Content::new(Some(RefOr::Ref(Ref::from_schema_name(schema)))),
            );
            let mut headers = ApiError::documented_headers(*status);
            if *status == 429 {
                headers.extend([
                    ("RateLimit-Policy", "The key's quota: `\"key\";q=<burst>;w=<seconds>` (draft-ietf-httpapi-ratelimit-headers)."),
                    ("RateLimit", "What remains: `\"key\";r=<requests>;t=<seconds>`."),
                ]);
            }
            for (name, description) in headers {
                let value = HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some(description))
                    .build();
                response = response.header(name, value);
            }
            (status.to_string(), RefOr::T(response.build()))
        })
        .collect()
}

/// What every path answers to a method it does not serve.
pub struct MethodProblems;

impl IntoResponses for MethodProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[(
            405,
            "Another method was used on this path; `Allow` lists the ones it serves.",
        )])
    }
}

/// What every route behind authentication can answer.
pub struct GuardedProblems;

impl IntoResponses for GuardedProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            (
                401,
                "Missing, malformed, unknown, revoked or expired credential.",
            ),
            (
                403,
                "The credential belongs to another organization or lacks the scope; or, on PUT with a token bound to the customer, the body names fields it may not change (`/problems/forbidden-field`, `forbiddenFields` names each).",
            ),
            (
                405,
                "Another method was used on this path; `Allow` lists the ones it serves.",
            ),
            (
                408,
                "The request body did not arrive within the request timeout; nothing was done.",
            ),
            (
                429,
                "The key (with the tokens it minted) is over its rate limit, or wrong secrets for it came too often from this address: retry after `Retry-After` seconds. Every answer carries `RateLimit-Policy` and `RateLimit`.",
            ),
            (
                503,
                "The database is unavailable, a statement ran past the timeout, the organization holds its share of the connections, or this server is stopping; retry after `Retry-After`.",
            ),
        ])
    }
}

/// What a route that reads a JSON body can answer about it.
pub struct BodyProblems;

impl IntoResponses for BodyProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            (400, "The body is not a JSON object."),
            (
                413,
                &format!("The body is over {} KiB.", MAX_BODY_BYTES / 1024),
            ),
            (415, "The body is not sent as application/json."),
            (422, "Invalid fields; `invalidFields` names each."),
        ])
    }
}

/// What a route that takes query parameters can answer about them.
pub struct QueryProblems;

impl IntoResponses for QueryProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[(422, "Invalid parameters; `invalidFields` names each.")])
    }
}

/// A route that names a customer.
pub struct NotFoundProblem;

impl IntoResponses for NotFoundProblem {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[(404, "No such customer in this organization.")])
    }
}

/// A route that names an import.
pub struct ImportNotFoundProblem;

impl IntoResponses for ImportNotFoundProblem {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[(404, "No such import in this organization and mode.")])
    }
}

/// What an import's upload can answer about its file.
pub struct ImportFileProblems;

impl IntoResponses for ImportFileProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            (
                409,
                "The organization runs 3 imports already (`/problems/limit-reached`), or the first request with this Idempotency-Key is still running (`/problems/idempotency-key-in-use`, with `Retry-After`).",
            ),
            (
                413,
                "The file is over `CLIENTELE_IMPORT_MAX_MB` MiB (256 by default); nothing was imported.",
            ),
            (
                415,
                "The body is not sent as text/csv or application/x-ndjson.",
            ),
            (
                422,
                "Invalid parameters or headers, or a file refused as a whole before any row was written: not UTF-8, a row over 64 KiB, or a CSV header with unknown or repeated columns (`invalidFields` names each); or an Idempotency-Key first used for another file, mode or dry run (`/problems/idempotency-key-reused`).",
            ),
        ])
    }
}

/// A read that takes `If-None-Match`.
pub struct ConditionalReadProblems;

impl IntoResponses for ConditionalReadProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[(422, "A malformed If-None-Match; `invalidFields` names it.")])
    }
}

/// A write that takes `If-Match`.
pub struct PreconditionProblems;

impl IntoResponses for PreconditionProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[(
            412,
            "`If-Match` named other revisions; `currentRevision` is the customer's now, and nothing changed.",
        )])
    }
}

/// A write that takes an `Idempotency-Key`.
pub struct IdempotencyProblems;

impl IntoResponses for IdempotencyProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            (
                409,
                "Another live customer holds the externalId (`/problems/conflict`, `existingCustomerId`), or the first request with this Idempotency-Key is still running (`/problems/idempotency-key-in-use`, with `Retry-After`).",
            ),
            (
                422,
                "Invalid fields or headers (`invalidFields` names each), or an Idempotency-Key first used for another method, path or body (`/problems/idempotency-key-reused`).",
            ),
        ])
    }
}

/// A route that writes.
pub struct StorageProblems;

impl IntoResponses for StorageProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[(507, "The storage is full; nothing was stored.")])
    }
}

/// A custom-field definition in answers.
pub struct CustomFieldBody;

impl PartialSchema for CustomFieldBody {
    fn schema() -> RefOr<Schema> {
        schema::of(crate::domain::custom_fields::Definition::schema())
    }
}

impl ToSchema for CustomFieldBody {
    fn name() -> std::borrow::Cow<'static, str> {
        "CustomField".into()
    }
}

/// The list of an organization's definitions.
pub struct CustomFieldList;

impl PartialSchema for CustomFieldList {
    fn schema() -> RefOr<Schema> {
        schema::of(serde_json::json!({
            "type": "object", "required": ["data"],
            "properties": {"data": {"type": "array", "maxItems": crate::domain::custom_fields::MAX_DEFINITIONS,
                                    "items": {"$ref": "#/components/schemas/CustomField"}}},
        }))
    }
}

impl ToSchema for CustomFieldList {}

/// The body of `POST …/custom-fields`.
pub struct CustomFieldInput;

impl PartialSchema for CustomFieldInput {
    fn schema() -> RefOr<Schema> {
        schema::of(crate::domain::custom_fields::NewDefinition::schema())
    }
}

impl ToSchema for CustomFieldInput {}

/// The body of `PUT …/custom-fields/{name}`.
pub struct CustomFieldChanges;

impl PartialSchema for CustomFieldChanges {
    fn schema() -> RefOr<Schema> {
        schema::of(crate::domain::custom_fields::DefinitionChanges::schema())
    }
}

impl ToSchema for CustomFieldChanges {}
