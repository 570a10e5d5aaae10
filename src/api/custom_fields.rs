//! `/v1/public-api/organizations/{organizationId}/custom-fields[/{name}]`

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::answers::{self, Idempotency};
use super::extract::{FieldPath, JsonObject};
use super::paths;
use super::schemas::{
    BodyProblems, CustomFieldBody, CustomFieldChanges, CustomFieldInput, CustomFieldList,
    GuardedProblems, IdempotencyProblems, NotFoundProblem, QueryProblems,
};
use crate::auth::Tenant;
use crate::domain::audit::Audit;
use crate::domain::custom_fields::{DefinitionChanges, MAX_DEFINITIONS, NewDefinition};
use crate::domain::refusal::Refusal;
use crate::error::ApiError;
use crate::store::Database;
use crate::store::custom_fields::{self, DefinitionCache};

/// Define a custom field.
///
/// At most 50 per organization, shared by both modes. `name` is unique in
/// the organization (409 when taken).
#[utoipa::path(
    post,
    path = paths::CUSTOM_FIELDS,
    tag = "custom-fields",
    operation_id = "createCustomField",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, Idempotency),
    request_body(content = CustomFieldInput, content_type = "application/json"),
    responses(
        (status = 201, description = "The definition.", body = CustomFieldBody),
        GuardedProblems, BodyProblems, IdempotencyProblems,
    )
)]
pub async fn create(
    tenant: Tenant,
    db: web::Data<Database>,
    cache: web::Data<DefinitionCache>,
    body: JsonObject,
    idempotency: Idempotency,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    let new = NewDefinition::from_json(&body)?;
    let org = tenant.organization_id;
    let answer = idempotency
        .respond(&db, tenant, Some(&body), move |conn| {
            let definition = custom_fields::create(conn, tenant, &new, &audit)?;
            Ok(answers::json(StatusCode::CREATED, &definition.to_json()))
        })
        .await;
    cache.forget(org);
    answer
}

/// List the custom fields.
///
/// Every definition of the organization (at most 50), by name.
#[utoipa::path(
    get,
    path = paths::CUSTOM_FIELDS,
    tag = "custom-fields",
    operation_id = "listCustomFields",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant),
    responses(
        (status = 200, description = "Every definition.", body = CustomFieldList),
        GuardedProblems, QueryProblems,
    )
)]
pub async fn list(tenant: Tenant, db: web::Data<Database>) -> Result<HttpResponse, ApiError> {
    let org = tenant.organization_id;
    let definitions = db.run(move |conn| custom_fields::list(conn, org)).await?;
    debug_assert!(definitions.len() as i64 <= MAX_DEFINITIONS);
    let data: Vec<_> = definitions.iter().map(|d| d.to_json()).collect();
    Ok(HttpResponse::Ok().json(json!({ "data": data })))
}

/// Get a custom field.
///
/// The definition with this name.
#[utoipa::path(
    get,
    path = paths::CUSTOM_FIELD,
    tag = "custom-fields",
    operation_id = "getCustomField",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, FieldPath),
    responses(
        (status = 200, description = "The definition.", body = CustomFieldBody),
        GuardedProblems, NotFoundProblem, QueryProblems,
    )
)]
pub async fn get(
    tenant: Tenant,
    FieldPath(name): FieldPath,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    let org = tenant.organization_id;
    let definition = db
        .run(move |conn| custom_fields::find(conn, org, name.as_str()))
        .await?
        .ok_or(ApiError::NOT_FOUND)?;
    Ok(HttpResponse::Ok().json(definition.to_json()))
}

/// Change a custom field.
///
/// Only its `description`, values added to an enum's `allowedValues`, and a
/// string's `maxLength` raised; anything else is 422.
#[utoipa::path(
    put,
    path = paths::CUSTOM_FIELD,
    tag = "custom-fields",
    operation_id = "updateCustomField",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, FieldPath, Idempotency),
    request_body(content = CustomFieldChanges, content_type = "application/json"),
    responses(
        (status = 200, description = "The definition.", body = CustomFieldBody),
        GuardedProblems, BodyProblems, NotFoundProblem, IdempotencyProblems,
    )
)]
pub async fn update(
    tenant: Tenant,
    db: web::Data<Database>,
    cache: web::Data<DefinitionCache>,
    body: JsonObject,
    FieldPath(name): FieldPath,
    idempotency: Idempotency,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    let org = tenant.organization_id;
    // Judged against the definition before the write runs: a 422 is never
    // kept for an Idempotency-Key, so the fixed body may be retried with it.
    let current = {
        let name = name.clone();
        db.run(move |conn| custom_fields::find(conn, org, name.as_str()))
            .await?
            .ok_or(ApiError::NOT_FOUND)?
    };
    let changes = DefinitionChanges::from_json(&body, &current)?;
    let answer = idempotency
        .respond(&db, tenant, Some(&body), move |conn| {
            let current =
                custom_fields::find(conn, org, name.as_str())?.ok_or(Refusal::NotFound)?;
            let definition = custom_fields::update(conn, tenant, &current, &changes, &audit)?;
            Ok(answers::json(StatusCode::OK, &definition.to_json()))
        })
        .await;
    cache.forget(org);
    answer
}

/// Delete a custom field.
///
/// The definition and every customer's value for it.
#[utoipa::path(
    delete,
    path = paths::CUSTOM_FIELD,
    tag = "custom-fields",
    operation_id = "deleteCustomField",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, FieldPath, Idempotency),
    responses(
        (status = 204, description = "Deleted, with every value."),
        GuardedProblems, NotFoundProblem, IdempotencyProblems,
    )
)]
pub async fn delete(
    tenant: Tenant,
    FieldPath(name): FieldPath,
    idempotency: Idempotency,
    db: web::Data<Database>,
    cache: web::Data<DefinitionCache>,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    let org = tenant.organization_id;
    let answer = idempotency
        .respond(&db, tenant, None, move |conn| {
            custom_fields::delete(conn, tenant, name.as_str(), &audit)?;
            Ok(answers::no_content())
        })
        .await;
    cache.forget(org);
    answer
}
