//! `…/customers/export` and `…/customers/stats`: reports over every customer
//! that matches a list's filters (contract section 12).

use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use tokio::sync::mpsc::{self, Sender, error::TrySendError};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::ToSchema;

use super::extract::ReportQuery;
use super::paths;
use super::schemas::{GuardedProblems, QueryProblems};
use crate::auth::Tenant;
use crate::domain::audit::{Action, Audit, Target};
use crate::domain::customer::Customer;
use crate::domain::reports::{ExportFormat, GroupBy, encode};
use crate::error::ApiError;
use crate::store;
use crate::store::custom_fields::DefinitionCache;
use crate::store::{Database, StoreError, for_organization, reports};

/// How long an export waits for its reader to take the next batch before
/// it gives up and frees its database connection.
const STALLED: Duration = Duration::from_secs(30);

/// Export customers.
///
/// Every customer that matches the list's filters (any of them, but no
/// paging; `includeDeleted=true` adds deleted and erased ones), oldest
/// first, read from one consistent snapshot of the database and streamed as
/// it is read: NDJSON (one customer per line, as every answer shows it) or
/// CSV (a header row; `address.city`-style columns; metadata, customFields
/// and shippingAddresses as JSON text; null as an empty cell). Memory stays
/// flat whatever the size; a client that disconnects stops the query.
#[utoipa::path(
    get,
    path = paths::CUSTOMERS_EXPORT,
    tag = "reports",
    operation_id = "exportCustomers",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, ReportQuery<ExportFormat>),
    responses(
        (status = 200, description = "Every matching customer, streamed.",
            content((Customer = "application/x-ndjson"), (String = "text/csv")),
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"customers.ndjson\"` (or `.csv`)."))),
        GuardedProblems, QueryProblems,
    )
)]
pub async fn export(
    tenant: Tenant,
    db: web::Data<Database>,
    definitions: web::Data<DefinitionCache>,
    ReportQuery(params): ReportQuery<ExportFormat>,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    let filters = definitions
        .filters(&db, tenant.organization_id, &params.filters)
        .await??;
    // A bulk read of personal data is in the audit log before it is read.
    db.transaction(move |conn| {
        let target = Target::many("customers");
        store::audit::record(
            conn,
            tenant,
            &audit,
            Action::CustomersExported,
            target,
            None,
        )
    })
    .await?;
    let format = params.choice;
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, StoreError>>(2);
    let db = db.get_ref().clone();
    let failures = tx.clone();
    let work = async move {
        let outcome = db
            .read(move |conn| {
                let mut first = true;
                reports::export(conn, tenant, &params.filters, &filters, |batch| {
                    let bytes = Bytes::from(encode(format, &batch, std::mem::take(&mut first)));
                    hand_over(&tx, bytes)
                })
            })
            .await;
        if let Err(error) = outcome {
            let _ = failures.send(Err(error)).await;
        }
    };
    // It counts against the organization's share of the connections, as
    // the request would.
    actix_web::rt::spawn(for_organization(tenant.organization_id, work));
    // The first batch (or the failure to read it) decides the status.
    let first = match rx.recv().await {
        Some(Ok(bytes)) => bytes,
        Some(Err(error)) => return Err(error.into()),
        None => return Err(ApiError::Internal("the export ended unheard".into())),
    };
    let rest = ReceiverStream::new(rx).map(|read| {
        // Too late for a status: the body is cut short, which the client
        // sees as an incomplete transfer.
        read.map_err(|error| {
            log::warn!("an export was cut short: {error}");
            actix_web::error::ErrorServiceUnavailable("the export was cut short")
        })
    });
    let (content_type, extension) = match format {
        ExportFormat::Ndjson => ("application/x-ndjson", "ndjson"),
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"customers.{extension}\""),
        ))
        .streaming(tokio_stream::once(Ok(first)).chain(rest)))
}

/// Hands a batch to the response; false when the client is gone, or has
/// not taken the last one for [`STALLED`]. Polls rather than blocks: the
/// export runs on a blocking thread, outside the async runtime's timers.
fn hand_over(tx: &Sender<Result<Bytes, StoreError>>, bytes: Bytes) -> bool {
    let deadline = Instant::now() + STALLED;
    let mut pending = Ok(bytes);
    loop {
        match tx.try_send(pending) {
            Ok(()) => return true,
            Err(TrySendError::Closed(_)) => return false,
            Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                pending = back;
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(TrySendError::Full(_)) => {
                log::warn!("an export's reader took nothing for {STALLED:?}: stopped");
                return false;
            }
        }
    }
}

/// Counts of customers by a key.
#[derive(Serialize, ToSchema)]
#[schema(as = CustomerStats)]
pub struct Stats {
    /// Sorted by key; the customers without one last.
    groups: Vec<Group>,
    /// Every matching customer.
    #[schema(minimum = 0)]
    total: i64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = CustomerStatsGroup)]
pub struct Group {
    /// A country or language code, a day (`2026-11-22`) or a month
    /// (`2026-11`) in UTC; null for customers without one.
    #[schema(required, example = "US")]
    key: Option<String>,
    #[schema(minimum = 1, example = 120)]
    count: i64,
}

/// Count customers by country, language, or creation day or month.
///
/// Takes every list filter (`includeDeleted=true` counts deleted customers
/// too). Days and months are UTC.
#[utoipa::path(
    get,
    path = paths::CUSTOMERS_STATS,
    tag = "reports",
    operation_id = "customerStats",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, ReportQuery<GroupBy>),
    responses(
        (status = 200, description = "The counts.", body = Stats),
        GuardedProblems, QueryProblems,
    )
)]
pub async fn stats(
    tenant: Tenant,
    db: web::Data<Database>,
    definitions: web::Data<DefinitionCache>,
    ReportQuery(params): ReportQuery<GroupBy>,
) -> Result<HttpResponse, ApiError> {
    let filters = definitions
        .filters(&db, tenant.organization_id, &params.filters)
        .await??;
    let groups = db
        .read(move |conn| reports::stats(conn, tenant, &params.filters, &filters, params.choice))
        .await?;
    let total = groups.iter().map(|(_, count)| count).sum();
    let groups = groups
        .into_iter()
        .map(|(key, count)| Group { key, count })
        .collect();
    Ok(HttpResponse::Ok().json(Stats { groups, total }))
}
