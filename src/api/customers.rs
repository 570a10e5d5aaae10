//! `/v1/public-api/organizations/{organizationId}/customers[/{customerId}]`

use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::answers::{self, Idempotency};
use super::extract::{Caller, CustomerPath, IfMatch, IfNoneMatch, JsonObject, ListQuery};
use super::paths;
use super::schemas::{
    BodyProblems, ConditionalReadProblems, CustomerInput, GuardedProblems, IdempotencyProblems,
    NotFoundProblem, PreconditionProblems, QueryProblems, StorageProblems,
};
use crate::auth::Tenant;
use crate::domain::audit::Audit;
use crate::domain::custom_fields::Definitions;
use crate::domain::customer::{Customer, CustomerChanges, FieldSet};
use crate::domain::preconditions::etag;
use crate::domain::scopes::Scope;
use crate::error::ApiError;
use crate::store::custom_fields::DefinitionCache;
use crate::store::listing;
use crate::store::{Database, customers};

/// A page of customers.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CustomerPage)]
pub struct Page {
    data: Vec<Customer>,
    #[schema(minimum = 1, maximum = 100)]
    limit: i64,
    #[schema(minimum = 0)]
    offset: i64,
    /// Whether another page follows.
    has_more: bool,
    /// The number of matching customers; only with `includeTotal=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 0)]
    total: Option<i64>,
}

/// Create a customer.
///
/// Every field is optional and may be null; each is validated and normalised
/// (trimmed names, E.164 phone, ISO language and country codes). The answer
/// carries the customer and its URL in `Location`.
#[utoipa::path(
    post,
    path = paths::CUSTOMERS,
    tag = "customers",
    operation_id = "createCustomer",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, Idempotency),
    request_body(content = CustomerInput, content_type = "application/json", examples(
        ("full" = (summary = "Every field", value = json!({
            "firstName": "Jane", "lastName": "Doe", "email": "jane.doe@example.com",
            "phoneNumber": "+1-555-0100", "language": "en",
            "address": {"address1": "123 Main St", "address2": null, "city": "Springfield",
                        "region": "IL", "zip": "62701", "country": "US"},
            "metadata": {"crmId": "A-17"}}))),
        ("minimal" = (summary = "No fields: a blank customer", value = json!({}))),
    )),
    responses(
        (status = 201, description = "The new customer.", body = Customer,
            headers(("Location" = String, description = "The customer's URL."),
                ("ETag" = String, description = "The customer's revision, `\"1\"`."),
                ("Idempotent-Replayed" = String, description = "`true` on an answer replayed to a retry with the same Idempotency-Key.")),
            links(
                ("GetCustomer" = (operation_id = "getCustomer", description = "The customer just created.",
                    parameters(("organizationId" = "$request.path.organizationId"), ("customerId" = "$response.body#/id")))),
                ("UpdateCustomer" = (operation_id = "updateCustomer", description = "Change the customer just created.",
                    parameters(("organizationId" = "$request.path.organizationId"), ("customerId" = "$response.body#/id")))),
                ("DeleteCustomer" = (operation_id = "deleteCustomer", description = "Delete the customer just created.",
                    parameters(("organizationId" = "$request.path.organizationId"), ("customerId" = "$response.body#/id")))),
            )),
        GuardedProblems, BodyProblems, IdempotencyProblems, StorageProblems,
    )
)]
pub async fn create(
    tenant: Tenant,
    db: web::Data<Database>,
    definitions: web::Data<DefinitionCache>,
    body: JsonObject,
    idempotency: Idempotency,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    let definitions = definitions_for(&body, &definitions, &db, tenant).await?;
    let changes = CustomerChanges::from_json(&body, FieldSet::all(), &definitions)?;
    idempotency
        .respond(&db, tenant, Some(&body), move |conn| {
            let customer = customers::create(conn, tenant, &changes, &audit)?;
            Ok(answers::customer(StatusCode::CREATED, &customer, true))
        })
        .await
}

/// The organization's custom-field definitions, read (through the cache)
/// only when the body names `customFields`.
async fn definitions_for(
    body: &JsonObject,
    cache: &DefinitionCache,
    db: &Database,
    tenant: Tenant,
) -> Result<Arc<Definitions>, ApiError> {
    match body.contains_key("customFields") {
        true => Ok(cache.get(db, tenant.organization_id).await?),
        false => Ok(Arc::default()),
    }
}

/// List, filter and search customers, newest first by default.
///
/// `q` searches names, emails and phone digits; `email` matches exactly,
/// ignoring case. Unknown or repeated parameters are 422. Ties on the sort
/// time are broken by id, so paging an unchanging set returns every customer
/// once.
#[utoipa::path(
    get,
    path = paths::CUSTOMERS,
    tag = "customers",
    operation_id = "listCustomers",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, ListQuery),
    responses(
        (status = 200, description = "A page of customers.", body = Page),
        GuardedProblems, QueryProblems,
    )
)]
pub async fn list(
    Caller { principal, audit }: Caller,
    db: web::Data<Database>,
    definitions: web::Data<DefinitionCache>,
    ListQuery(params): ListQuery,
) -> Result<HttpResponse, ApiError> {
    let tenant = principal.tenant();
    if params.reads_deleted() {
        principal.require(Scope::ReportsRead)?;
    }
    let (limit, offset) = (params.limit, params.offset);
    let page = listing::page(&db, &definitions, tenant, params, &audit).await??;
    Ok(HttpResponse::Ok().json(Page {
        data: page.customers,
        limit,
        offset,
        has_more: page.has_more,
        total: page.total,
    }))
}

/// Get a customer.
///
/// A deleted customer, or one of another organization, is 404.
#[utoipa::path(
    get,
    path = paths::CUSTOMER,
    tag = "customers",
    operation_id = "getCustomer",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, CustomerPath, IfNoneMatch),
    responses(
        (status = 200, description = "The customer.", body = Customer,
            headers(("ETag" = String, description = "The customer's revision, `\"3\"`: send it in If-Match or If-None-Match."))),
        (status = 304, description = "The customer is at a revision If-None-Match names: no body.",
            headers(("ETag" = String, description = "The customer's revision."))),
        GuardedProblems, NotFoundProblem, ConditionalReadProblems,
    )
)]
pub async fn get(
    tenant: Tenant,
    CustomerPath(id): CustomerPath,
    IfNoneMatch(held): IfNoneMatch,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    // A client that sends If-None-Match mostly holds the current revision:
    // the revision alone is read first, and the customer only when it
    // differs (a second read, the price of a stale copy).
    let found = db
        .run(move |conn| {
            if let Some(held) = held {
                match customers::revision(conn, tenant, id)? {
                    Some(revision) if held.matches_weakly(revision) => {
                        return Ok(Some(Found::NotModified(revision)));
                    }
                    Some(_) => {}
                    None => return Ok(None),
                }
            }
            Ok(customers::find(conn, tenant, id)?
                .map(|customer| Found::Customer(Box::new(customer))))
        })
        .await?
        .ok_or(ApiError::NOT_FOUND)?;
    Ok(match found {
        Found::NotModified(revision) => HttpResponse::NotModified()
            .insert_header((header::ETAG, etag(revision)))
            .finish(),
        Found::Customer(customer) => HttpResponse::Ok()
            .insert_header((header::ETAG, etag(customer.revision)))
            .json(customer),
    })
}

/// What a GET found: the revision the client holds, or the customer to send.
enum Found {
    NotModified(i32),
    Customer(Box<Customer>),
}

/// Update the fields present in the body.
///
/// A field sent as null is cleared; `address`, `metadata`,
/// `shippingAddresses` and `customFields` are replaced whole. Every update
/// adds 1 to `revision` and moves `updatedTime`. A token bound to the
/// customer (a hosted payment form) may change only what a payer may
/// (PAYER_FIELDS), or the fewer `fields` it was minted with: a body naming
/// any other field is 403 `/problems/forbidden-field` listing each in
/// `forbiddenFields`, and nothing changes.
#[utoipa::path(
    put,
    path = paths::CUSTOMER,
    tag = "customers",
    operation_id = "updateCustomer",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, CustomerPath, IfMatch, Idempotency),
    request_body(content = CustomerInput, content_type = "application/json", examples(
        ("partial" = (summary = "Change the last name and clear the phone number",
            value = json!({"lastName": "Smith", "phoneNumber": null}))),
        ("address" = (summary = "Replace the address whole", value = json!({"address": {"city": "Berlin", "country": "DE"}}))),
    )),
    responses(
        (status = 200, description = "The updated customer.", body = Customer,
            headers(("ETag" = String, description = "The customer's new revision."),
                ("Idempotent-Replayed" = String, description = "`true` on an answer replayed to a retry with the same Idempotency-Key."))),
        GuardedProblems, BodyProblems, NotFoundProblem, PreconditionProblems, IdempotencyProblems, StorageProblems,
    )
)]
pub async fn update(
    Caller { principal, audit }: Caller,
    db: web::Data<Database>,
    definitions: web::Data<DefinitionCache>,
    body: JsonObject,
    // After the body is read (400, 413, 415), before its fields are judged
    // (403 for fields the credential may not change, then 422): a
    // malformed id names nothing.
    CustomerPath(id): CustomerPath,
    IfMatch(expected): IfMatch,
    idempotency: Idempotency,
) -> Result<HttpResponse, ApiError> {
    let tenant = principal.tenant();
    let definitions = definitions_for(&body, &definitions, &db, tenant).await?;
    let changes = CustomerChanges::from_json(&body, principal.writable(), &definitions)?;
    idempotency
        .respond(&db, tenant, Some(&body), move |conn| {
            let customer =
                customers::update(conn, tenant, id, &changes, expected.as_ref(), &audit)?;
            Ok(answers::customer(StatusCode::OK, &customer, false))
        })
        .await
}

/// Delete a customer.
///
/// Softly: the customer disappears from every answer, its row stays for audit.
#[utoipa::path(
    delete,
    path = paths::CUSTOMER,
    tag = "customers",
    operation_id = "deleteCustomer",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, CustomerPath, IfMatch, Idempotency),
    responses(
        (status = 204, description = "Deleted.",
            headers(("Idempotent-Replayed" = String, description = "`true` on an answer replayed to a retry with the same Idempotency-Key."))),
        GuardedProblems, NotFoundProblem, PreconditionProblems, IdempotencyProblems, StorageProblems,
    )
)]
pub async fn delete(
    tenant: Tenant,
    CustomerPath(id): CustomerPath,
    IfMatch(expected): IfMatch,
    idempotency: Idempotency,
    db: web::Data<Database>,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    idempotency
        .respond(&db, tenant, None, move |conn| {
            customers::delete(conn, tenant, id, expected.as_ref(), &audit)?;
            Ok(answers::no_content())
        })
        .await
}
