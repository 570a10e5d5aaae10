//! `/v1/public-api/organizations/{organizationId}/customers[/{customerId}]`

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::{CustomerPath, JsonObject, ListQuery};
use super::paths;
use super::schemas::{
    BodyProblems, CustomerInput, GuardedProblems, NotFoundProblem, QueryProblems, StorageProblems,
};
use crate::auth::Tenant;
use crate::domain::customer::{Customer, CustomerChanges};
use crate::error::ApiError;
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
    params(Tenant),
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
            headers(("Location" = String, description = "The customer's URL.")),
            links(
                ("GetCustomer" = (operation_id = "getCustomer", description = "The customer just created.",
                    parameters(("organizationId" = "$request.path.organizationId"), ("customerId" = "$response.body#/id")))),
                ("UpdateCustomer" = (operation_id = "updateCustomer", description = "Change the customer just created.",
                    parameters(("organizationId" = "$request.path.organizationId"), ("customerId" = "$response.body#/id")))),
                ("DeleteCustomer" = (operation_id = "deleteCustomer", description = "Delete the customer just created.",
                    parameters(("organizationId" = "$request.path.organizationId"), ("customerId" = "$response.body#/id")))),
            )),
        GuardedProblems, BodyProblems, StorageProblems,
    )
)]
pub async fn create(
    tenant: Tenant,
    db: web::Data<Database>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let changes = CustomerChanges::from_json(&body)?;
    let org = tenant.organization_id;
    let customer = db
        .transaction(move |conn| customers::create(conn, org, &changes))
        .await?;
    let location = format!(
        "/v1/public-api/organizations/{}/customers/{}",
        customer.organization_id, customer.id
    );
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(customer))
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
    tenant: Tenant,
    db: web::Data<Database>,
    ListQuery(params): ListQuery,
) -> Result<HttpResponse, ApiError> {
    let org = tenant.organization_id;
    let (limit, offset) = (params.limit, params.offset);
    let page = db
        .run(move |conn| customers::list(conn, org, &params))
        .await?;
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
    params(Tenant, CustomerPath),
    responses(
        (status = 200, description = "The customer.", body = Customer),
        GuardedProblems, NotFoundProblem,
    )
)]
pub async fn get(
    tenant: Tenant,
    CustomerPath(id): CustomerPath,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    let org = tenant.organization_id;
    let customer = db
        .run(move |conn| customers::find(conn, org, id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(customer))
}

/// Update the fields present in the body.
///
/// A field sent as null is cleared; `address` and `metadata` are replaced
/// whole. Every update adds 1 to `revision` and moves `updatedTime`.
#[utoipa::path(
    put,
    path = paths::CUSTOMER,
    tag = "customers",
    operation_id = "updateCustomer",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, CustomerPath),
    request_body(content = CustomerInput, content_type = "application/json", examples(
        ("partial" = (summary = "Change the last name and clear the phone number",
            value = json!({"lastName": "Smith", "phoneNumber": null}))),
        ("address" = (summary = "Replace the address whole", value = json!({"address": {"city": "Berlin", "country": "DE"}}))),
    )),
    responses(
        (status = 200, description = "The updated customer.", body = Customer),
        GuardedProblems, BodyProblems, NotFoundProblem, StorageProblems,
    )
)]
pub async fn update(
    tenant: Tenant,
    db: web::Data<Database>,
    body: JsonObject,
    // After the body is read (400, 413, 415), before its fields are judged
    // (422): a malformed id names nothing.
    CustomerPath(id): CustomerPath,
) -> Result<HttpResponse, ApiError> {
    let changes = CustomerChanges::from_json(&body)?;
    let org = tenant.organization_id;
    let customer = db
        .transaction(move |conn| customers::update(conn, org, id, &changes))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(customer))
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
    params(Tenant, CustomerPath),
    responses(
        (status = 204, description = "Deleted."),
        GuardedProblems, NotFoundProblem, StorageProblems,
    )
)]
pub async fn delete(
    tenant: Tenant,
    CustomerPath(id): CustomerPath,
    db: web::Data<Database>,
) -> Result<HttpResponse, ApiError> {
    let org = tenant.organization_id;
    let deleted = db
        .transaction(move |conn| customers::delete(conn, org, id))
        .await?;
    match deleted {
        true => Ok(HttpResponse::NoContent().finish()),
        false => Err(ApiError::NotFound),
    }
}
