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

/// The body of `POST` and `PUT` on customers.
pub struct CustomerInput;

impl PartialSchema for CustomerInput {
    fn schema() -> RefOr<Schema> {
        schema::of(CustomerChanges::schema())
    }
}

impl ToSchema for CustomerInput {}

/// The body of `POST …/tokens`.
pub struct TokenInput;

impl PartialSchema for TokenInput {
    fn schema() -> RefOr<Schema> {
        schema::of(TokenRequest::schema())
    }
}

impl ToSchema for TokenInput {}

fn problems(list: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    list.iter()
        .map(|(status, description)| {
            let mut response = ResponseBuilder::new().description(*description).content(
                "application/problem+json",
                Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))),
            );
            let header = |name: &str, description: &str| {
                let value = HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some(description))
                    .build();
                (name.to_owned(), value)
            };
            if *status == 401 {
                let (name, value) = header("WWW-Authenticate", "`ApiKey, Bearer`");
                response = response.header(name, value);
            }
            if *status == 503 {
                let (name, value) = header("Retry-After", "Seconds to wait before retrying.");
                response = response.header(name, value);
            }
            (status.to_string(), RefOr::T(response.build()))
        })
        .collect()
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
                "The credential belongs to another organization or lacks the scope.",
            ),
            (
                408,
                "The request (its body included) took longer than the request timeout.",
            ),
            (503, "The database is unavailable; retry later."),
        ])
    }
}

/// What a route that reads a JSON body can answer about it.
pub struct BodyProblems;

impl IntoResponses for BodyProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            (400, "The body is not a JSON object."),
            (413, "The body is over 64 KiB."),
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

/// A route that writes.
pub struct StorageProblems;

impl IntoResponses for StorageProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[(507, "The storage is full; nothing was stored.")])
    }
}
