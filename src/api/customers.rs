//! `/v1/public-api/organizations/{organizationId}/customers[/{customerId}]`

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::openapi::CustomerInput;
use super::time::ApiTime;
use crate::auth::Tenant;
use crate::domain::customer::CustomerChanges;
use crate::domain::ids::CustomerId;
use crate::domain::listing::ListParams;
use crate::error::ApiError;
use crate::store::{Database, customers};

/// A customer as clients see it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Customer)]
pub struct CustomerBody {
    #[schema(
        pattern = "^cus_[0-9a-f]{32}$",
        example = "cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e"
    )]
    id: String,
    #[schema(
        pattern = "^org_[0-9a-f]{32}$",
        example = "org_0193a3c2d1007c2e8a1b2c3d4e5f6a7b"
    )]
    organization_id: String,
    #[schema(example = "Jane")]
    first_name: Option<String>,
    #[schema(example = "Doe")]
    last_name: Option<String>,
    #[schema(example = "jane.doe@example.com")]
    email: Option<String>,
    /// E.164, canonical.
    #[schema(example = "+15550100")]
    phone_number: Option<String>,
    /// ISO 639-1, lowercase.
    #[schema(example = "en")]
    language: Option<String>,
    /// Null when no part of the address is set.
    address: Option<AddressBody>,
    #[schema(value_type = Option<std::collections::HashMap<String, String>>, example = json!({"crmId": "A-17"}))]
    metadata: Option<Box<RawValue>>,
    /// 1 at creation, +1 on every update.
    #[schema(minimum = 1, example = 1)]
    revision: i32,
    #[schema(value_type = String, format = DateTime, example = "2026-11-22T10:00:00.000Z")]
    created_time: ApiTime,
    #[schema(value_type = String, format = DateTime, example = "2026-11-22T10:00:00.000Z")]
    updated_time: ApiTime,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Address)]
pub struct AddressBody {
    address1: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    region: Option<String>,
    zip: Option<String>,
    /// ISO 3166-1 alpha-2, uppercase.
    #[schema(example = "US")]
    country: Option<String>,
}

impl From<customers::Customer> for CustomerBody {
    fn from(c: customers::Customer) -> Self {
        let address = AddressBody {
            address1: c.address1,
            address2: c.address2,
            city: c.city,
            region: c.region,
            zip: c.zip,
            country: c.country,
        };
        let has_address = [
            &address.address1,
            &address.address2,
            &address.city,
            &address.region,
            &address.zip,
            &address.country,
        ]
        .iter()
        .any(|part| part.is_some());
        Self {
            id: c.id,
            organization_id: c.organization_id,
            first_name: c.first_name,
            last_name: c.last_name,
            email: c.email,
            phone_number: c.phone_number,
            language: c.language,
            address: has_address.then_some(address),
            // Stored as JSON text by this service, so it is passed through
            // unparsed; text that is not JSON reads as null.
            metadata: c.metadata.and_then(|m| RawValue::from_string(m).ok()),
            revision: c.revision,
            created_time: ApiTime(c.created_at),
            updated_time: ApiTime(c.updated_at),
        }
    }
}

/// A page of customers.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CustomerPage)]
pub struct PageBody {
    data: Vec<CustomerBody>,
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

/// The organization in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path, names("organizationId"))]
#[allow(dead_code)]
pub struct OrganizationPath(
    #[param(
        pattern = "^org_[0-9a-f]{32}$",
        example = "org_0193a3c2d1007c2e8a1b2c3d4e5f6a7b"
    )]
    String,
);

/// The organization and the customer in the path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path, names("organizationId", "customerId"))]
#[allow(dead_code)]
pub struct CustomerPath(
    #[param(
        pattern = "^org_[0-9a-f]{32}$",
        example = "org_0193a3c2d1007c2e8a1b2c3d4e5f6a7b"
    )]
    String,
    #[param(
        pattern = "^cus_[0-9a-f]{32}$",
        example = "cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e"
    )]
    String,
);

/// The orders a list can have.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub enum ListSort {
    #[serde(rename = "-createdTime")]
    CreatedDescending,
    #[serde(rename = "createdTime")]
    CreatedAscending,
    #[serde(rename = "-updatedTime")]
    UpdatedDescending,
    #[serde(rename = "updatedTime")]
    UpdatedAscending,
}

/// The list's query parameters, for the document; `ListParams` parses them.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct ListQuery {
    /// Page size.
    #[param(minimum = 1, maximum = 100, default = 20, nullable = false)]
    limit: Option<i64>,
    /// Rows to skip.
    #[param(
        minimum = 0,
        maximum = 9_223_372_036_854_775_807_i64,
        default = 0,
        nullable = false
    )]
    offset: Option<i64>,
    // Its pattern (trimmed length, no control characters) is set in
    // `openapi::Conventions`.
    /// Case-insensitive substring of `firstName lastName`, of the email, or of the phone digits.
    #[param(max_length = 100, nullable = false, example = "jane")]
    q: Option<String>,
    /// Exact email, case-insensitive.
    #[param(max_length = 254, nullable = false, example = "jane.doe@example.com")]
    email: Option<String>,
    /// createdTime >= this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime, nullable = false)]
    created_from: Option<String>,
    /// createdTime < this RFC 3339 time.
    #[param(value_type = Option<String>, format = DateTime, nullable = false)]
    created_to: Option<String>,
    /// Ties are broken by id, so the order is total.
    #[param(inline, nullable = false)]
    sort: Option<ListSort>,
    /// Add `total`, the number of matching customers.
    #[param(default = false, nullable = false)]
    include_total: Option<bool>,
}

fn customer_id(path: &web::Path<(String, String)>) -> Result<CustomerId, ApiError> {
    CustomerId::parse(&path.1).ok_or(ApiError::NotFound)
}

/// Create a customer.
#[utoipa::path(
    post,
    path = "/v1/public-api/organizations/{organizationId}/customers",
    tag = "customers",
    operation_id = "createCustomer",
    params(OrganizationPath),
    request_body(content = CustomerInput, content_type = "application/json"),
    responses((status = 201, description = "The new customer.", body = CustomerBody,
        headers(("Location" = String, description = "The customer's URL."))))
)]
pub async fn create(
    tenant: Tenant,
    db: web::Data<Database>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    let changes = CustomerChanges::from_json(&body)?;
    let org = tenant.organization_id;
    let customer = db
        .run(move |conn| customers::create(conn, &org, &changes))
        .await?;
    let location = format!(
        "/v1/public-api/organizations/{}/customers/{}",
        customer.organization_id, customer.id
    );
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(CustomerBody::from(customer)))
}

/// List, filter and search customers, newest first by default.
#[utoipa::path(
    get,
    path = "/v1/public-api/organizations/{organizationId}/customers",
    tag = "customers",
    operation_id = "listCustomers",
    params(OrganizationPath, ListQuery),
    responses((status = 200, description = "A page of customers.", body = PageBody))
)]
pub async fn list(
    tenant: Tenant,
    db: web::Data<Database>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let params = ListParams::parse(&query)?;
    let org = tenant.organization_id;
    let (limit, offset) = (params.limit, params.offset);
    let page = db
        .run(move |conn| customers::list(conn, &org, &params))
        .await?;
    Ok(HttpResponse::Ok().json(PageBody {
        data: page.customers.into_iter().map(CustomerBody::from).collect(),
        limit,
        offset,
        has_more: page.has_more,
        total: page.total,
    }))
}

/// Get a customer.
#[utoipa::path(
    get,
    path = "/v1/public-api/organizations/{organizationId}/customers/{customerId}",
    tag = "customers",
    operation_id = "getCustomer",
    params(CustomerPath),
    responses((status = 200, description = "The customer.", body = CustomerBody))
)]
pub async fn get(
    tenant: Tenant,
    db: web::Data<Database>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = customer_id(&path)?;
    let org = tenant.organization_id;
    let customer = db
        .run(move |conn| customers::find(conn, &org, &id))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(CustomerBody::from(customer)))
}

/// Update the fields present in the body.
#[utoipa::path(
    put,
    path = "/v1/public-api/organizations/{organizationId}/customers/{customerId}",
    tag = "customers",
    operation_id = "updateCustomer",
    params(CustomerPath),
    request_body(content = CustomerInput, content_type = "application/json"),
    responses((status = 200, description = "The updated customer.", body = CustomerBody))
)]
pub async fn update(
    tenant: Tenant,
    db: web::Data<Database>,
    path: web::Path<(String, String)>,
    body: web::Json<Map<String, Value>>,
) -> Result<HttpResponse, ApiError> {
    // A malformed id names nothing: 404 before the body is looked at.
    let id = customer_id(&path)?;
    let changes = CustomerChanges::from_json(&body)?;
    let org = tenant.organization_id;
    let customer = db
        .run(move |conn| customers::update(conn, &org, &id, &changes))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(CustomerBody::from(customer)))
}

/// Delete a customer (softly: the row stays for audit).
#[utoipa::path(
    delete,
    path = "/v1/public-api/organizations/{organizationId}/customers/{customerId}",
    tag = "customers",
    operation_id = "deleteCustomer",
    params(CustomerPath),
    responses((status = 204, description = "Deleted."))
)]
pub async fn delete(
    tenant: Tenant,
    db: web::Data<Database>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let id = customer_id(&path)?;
    let org = tenant.organization_id;
    let deleted = db
        .run(move |conn| customers::delete(conn, &org, &id))
        .await?;
    match deleted {
        true => Ok(HttpResponse::NoContent().finish()),
        false => Err(ApiError::NotFound),
    }
}
