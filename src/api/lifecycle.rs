//! `…/customers/{customerId}/restore` and `…/customers/{customerId}/erase`:
//! a customer's life after its deletion (contract section 12).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::answers::{self, Idempotency};
use super::extract::{CustomerPath, IfMatch};
use super::paths;
use super::schemas::{
    GuardedProblems, IdempotencyProblems, NotFoundProblem, PreconditionProblems, StorageProblems,
};
use crate::auth::Tenant;
use crate::domain::audit::Audit;
use crate::domain::customer::Customer;
use crate::error::ApiError;
use crate::store::{Database, customers};

/// How long after its deletion a customer may be restored
/// (`CLIENTELE_RESTORE_DAYS`).
#[derive(Debug, Clone, Copy)]
pub struct RestoreWindow(pub Duration);

/// Restore a deleted customer.
///
/// A customer deleted within the restore window (30 days by default) is
/// live again at its next revision, with a `customer.restored` event. A
/// live customer is answered unchanged. An erased customer, or one deleted
/// longer ago, is 404; when another live customer took its externalId
/// meanwhile, 409 with `existingCustomerId`.
#[utoipa::path(
    post,
    path = paths::CUSTOMER_RESTORE,
    tag = "customers",
    operation_id = "restoreCustomer",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, CustomerPath, IfMatch, Idempotency),
    responses(
        (status = 200, description = "The customer, live.", body = Customer,
            headers(("ETag" = String, description = "The customer's revision."),
                ("Idempotent-Replayed" = String, description = "`true` on an answer replayed to a retry with the same Idempotency-Key."))),
        GuardedProblems, NotFoundProblem, PreconditionProblems, IdempotencyProblems, StorageProblems,
    )
)]
pub async fn restore(
    tenant: Tenant,
    CustomerPath(id): CustomerPath,
    IfMatch(expected): IfMatch,
    idempotency: Idempotency,
    window: web::Data<RestoreWindow>,
    db: web::Data<Database>,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    let window = window.0;
    idempotency
        .respond(&db, tenant, None, move |conn| {
            let customer = customers::restore(conn, tenant, id, expected.as_ref(), window, &audit)?;
            Ok(answers::customer(StatusCode::OK, &customer, false))
        })
        .await
}

/// Erase a customer's personal data (GDPR).
///
/// On a live or deleted customer: clears the names, email, phone number,
/// the address but its country, shipping addresses, metadata, custom fields
/// and externalId, and what search derived from them; sets `erasedTime`;
/// deletes the customer if it was live. The same data is redacted in its
/// earlier events (so in deliveries not yet made) and in answers kept for
/// Idempotency-Key retries. Irreversible. Erasing an erased customer
/// answers 204 again and changes nothing.
#[utoipa::path(
    post,
    path = paths::CUSTOMER_ERASE,
    tag = "customers",
    operation_id = "eraseCustomer",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, CustomerPath, IfMatch, Idempotency),
    responses(
        (status = 204, description = "Erased.",
            headers(("Idempotent-Replayed" = String, description = "`true` on an answer replayed to a retry with the same Idempotency-Key."))),
        GuardedProblems, NotFoundProblem, PreconditionProblems, IdempotencyProblems, StorageProblems,
    )
)]
pub async fn erase(
    tenant: Tenant,
    CustomerPath(id): CustomerPath,
    IfMatch(expected): IfMatch,
    idempotency: Idempotency,
    db: web::Data<Database>,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    idempotency
        .respond(&db, tenant, None, move |conn| {
            customers::erase(conn, tenant, id, expected.as_ref(), &audit)?;
            Ok(answers::no_content())
        })
        .await
}
