//! `…/customers/imports[/{importId}[/errors]]`: imports of customers from a
//! file (contract section 15).

use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Bytes};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use super::answers::{self, Idempotency};
use super::extract::{Caller, ImportPath, ImportQuery};
use super::paths;
use super::schemas::{GuardedProblems, ImportFileProblems, ImportNotFoundProblem, StorageProblems};
use crate::auth::Tenant;
use crate::domain::audit::Audit;
use crate::domain::import::{Format, Import, ImportParams, errors_csv};
use crate::error::ApiError;
use crate::imports::{self, Upload, UploadError, Uploaded};
use crate::limits::is_body_timeout;
use crate::store::Database;
use crate::store::idempotency::KeptAnswer;
use crate::store::imports as stored;

/// The largest file an import takes, in bytes (`CLIENTELE_IMPORT_MAX_MB`).
#[derive(Debug, Clone, Copy)]
pub struct ImportLimit(pub u64);

const MEDIA_TYPES: &str = "text/csv or application/x-ndjson";

/// Import customers from a file.
///
/// The body is a CSV file (`text/csv`: the export's columns, or a Stripe
/// customer export's) or an NDJSON file (`application/x-ndjson`: one
/// customer object per line). It is checked as it arrives: a file that is
/// not UTF-8, has a row over 64 KiB, or a CSV header with unknown columns
/// is refused (422) before any row is written. The rows are then written
/// in the background; the answer (202) is the import, whose status tells
/// how far it is.
#[utoipa::path(
    post,
    path = paths::CUSTOMER_IMPORTS,
    tag = "imports",
    operation_id = "createImport",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, ImportQuery, Idempotency),
    request_body(content(
        (String = "text/csv", example = json!("externalId,firstName,lastName,email\ncrm-1,Jane,Doe,jane@example.com\n")),
        (String = "application/x-ndjson", example = json!("{\"firstName\":\"Jane\",\"email\":\"jane@example.com\"}\n")),
    )),
    responses(
        (status = 202, description = "The import, running.", body = Import,
            headers(("Location" = String, description = "The import's URL."))),
        GuardedProblems, ImportFileProblems, StorageProblems,
    )
)]
pub async fn create(
    Caller { principal, audit }: Caller,
    req: HttpRequest,
    db: web::Data<Database>,
    limit: web::Data<ImportLimit>,
    ImportQuery(params): ImportQuery,
    idempotency: Idempotency,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let tenant = principal.tenant();
    let format = Format::of_media_type(req.content_type())
        .ok_or(ApiError::UnsupportedMediaType(MEDIA_TYPES))?;
    let max_bytes = limit.0;
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|length| length > max_bytes) {
        return Err(ApiError::PayloadTooLarge { max_bytes });
    }
    let upload = Upload::begin(&db, tenant, format, params, audit, max_bytes).await?;
    let id = upload.id;
    let uploaded = match receive(upload, payload).await {
        Ok(uploaded) => uploaded,
        Err(error) => {
            imports::discard(&db, tenant, id).await;
            return Err(error);
        }
    };
    let started = start(&db, tenant, uploaded, params, format, idempotency).await;
    match started {
        Ok((answer, false)) => Ok(answers::response(answer, false)),
        Ok((answer, true)) => {
            // A retry of an import that runs already: this copy of the
            // file is not needed.
            imports::discard(&db, tenant, id).await;
            Ok(answers::response(answer, true))
        }
        Err(error) => {
            imports::discard(&db, tenant, id).await;
            Err(error)
        }
    }
}

/// Reads the body into the upload, to its end.
async fn receive(mut upload: Upload, mut payload: web::Payload) -> Result<Uploaded, ApiError> {
    while let Some(piece) = payload.next().await {
        let piece: Bytes = piece.map_err(|error| match is_body_timeout(&error) {
            true => ApiError::RequestTimeout,
            false => ApiError::Malformed(format!("The body could not be read: {error}")),
        })?;
        upload.push(&piece).await.map_err(refused)?;
    }
    upload.finish().await.map_err(refused)
}

fn refused(error: UploadError) -> ApiError {
    match error {
        UploadError::TooLarge(max_bytes) => ApiError::PayloadTooLarge { max_bytes },
        UploadError::Unreadable(unreadable) => ApiError::Invalid(unreadable.invalid_fields()),
        UploadError::Store(error) => error.into(),
    }
}

/// Starts the uploaded import, once per Idempotency-Key: a retry with the
/// same key and the same file (by its hash), mode and dry run is answered
/// the first import.
async fn start(
    db: &Database,
    tenant: Tenant,
    uploaded: Uploaded,
    params: ImportParams,
    format: Format,
    idempotency: Idempotency,
) -> Result<(KeptAnswer, bool), ApiError> {
    let mut request = Map::new();
    request.insert("sha256".into(), Value::from(uploaded.sha256.clone()));
    request.insert("format".into(), Value::from(format.as_str()));
    request.insert("mode".into(), Value::from(params.mode.as_str()));
    request.insert("dryRun".into(), Value::from(params.dry_run));
    let Uploaded {
        id, scanned, size, ..
    } = uploaded;
    idempotency
        .answer(db, tenant, Some(&request), move |conn| {
            let import = stored::start(conn, tenant, id, &scanned, size)?;
            let mut answer = answers::json(StatusCode::ACCEPTED, &import);
            answer.location = Some(location(tenant, &import));
            Ok(answer)
        })
        .await
}

fn location(tenant: Tenant, import: &Import) -> String {
    format!(
        "/v1/public-api/organizations/{}/customers/imports/{}",
        tenant.organization_id, import.id
    )
}

/// An import: where it stands, and its first 1,000 refused rows.
#[utoipa::path(
    get,
    path = paths::CUSTOMER_IMPORT,
    tag = "imports",
    operation_id = "getImport",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, ImportPath),
    responses(
        (status = 200, description = "The import.", body = Import),
        ImportNotFoundProblem,
        GuardedProblems,
    )
)]
pub async fn get(
    tenant: Tenant,
    db: web::Data<Database>,
    ImportPath(id): ImportPath,
) -> Result<HttpResponse, ApiError> {
    let import = db
        .run(move |conn| stored::find(conn, tenant, id))
        .await?
        .ok_or(ApiError::NOT_FOUND)?;
    Ok(HttpResponse::Ok().json(import))
}

/// Cancel an import.
///
/// The rows written so far stay; no more are read. A finished import is
/// answered as it is.
#[utoipa::path(
    delete,
    path = paths::CUSTOMER_IMPORT,
    tag = "imports",
    operation_id = "cancelImport",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, ImportPath),
    responses(
        (status = 200, description = "The import, cancelled (or as it ended).", body = Import),
        ImportNotFoundProblem,
        GuardedProblems, StorageProblems,
    )
)]
pub async fn cancel(
    tenant: Tenant,
    db: web::Data<Database>,
    ImportPath(id): ImportPath,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    let import = db
        .transaction(move |conn| stored::cancel(conn, tenant, id, &audit))
        .await?;
    Ok(HttpResponse::Ok().json(import))
}

/// Every refused row of an import, as CSV: `row`, `field`, `message`, one
/// line per complaint, in the order of the file.
#[utoipa::path(
    get,
    path = paths::CUSTOMER_IMPORT_ERRORS,
    tag = "imports",
    operation_id = "getImportErrors",
    security(("ApiKey" = []), ("Bearer" = [])),
    params(Tenant, ImportPath),
    responses(
        (status = 200, description = "The refused rows, streamed.", content_type = "text/csv", body = String),
        ImportNotFoundProblem,
        GuardedProblems,
    )
)]
pub async fn errors(
    tenant: Tenant,
    db: web::Data<Database>,
    ImportPath(id): ImportPath,
) -> Result<HttpResponse, ApiError> {
    db.run(move |conn| stored::find(conn, tenant, id))
        .await?
        .ok_or(ApiError::NOT_FOUND)?;
    let db = db.get_ref().clone();
    let org = tenant.organization_id;
    // Pages of refused rows, read one after another as the client takes
    // them (the channel holds two): memory holds a few pages, whatever the
    // number of errors; a client that leaves stops the reading.
    let (tx, rx) = mpsc::channel::<Result<Bytes, actix_web::Error>>(2);
    let _ = tx
        .send(Ok(Bytes::from_static(b"row,field,message\n")))
        .await;
    actix_web::rt::spawn(async move {
        let mut after = 0;
        loop {
            let page = db
                .run(move |conn| stored::errors_after(conn, org, id, after, PAGE))
                .await;
            let piece = match page {
                Ok(page) if page.is_empty() => return,
                Ok(page) => {
                    after = page.last().map_or(after, |error| error.row);
                    Ok(Bytes::from(errors_csv(&page)))
                }
                Err(error) => {
                    log::warn!("an import's error report was cut short: {error}");
                    Err(actix_web::error::ErrorServiceUnavailable("cut short"))
                }
            };
            let failed = piece.is_err();
            if tx.send(piece).await.is_err() || failed {
                return;
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{id}-errors.csv\""),
        ))
        .streaming(ReceiverStream::new(rx)))
}

/// Refused rows read at a time for the error report.
const PAGE: i64 = 1_000;
