//! Imports of customers (contract section 15): the upload, stored in
//! chunks as it arrives and checked on the way ([`Upload`]), and the runner
//! that reads a running import's rows in batches ([`run`]), each batch in
//! one transaction with its customers, events, audit events, counts,
//! refused rows and progress. Any instance runs any import, under a lease;
//! one whose instance died is taken up where its last batch ended.

pub mod cli;

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::domain::audit::Audit;
use crate::domain::custom_fields::Definitions;
use crate::domain::customer::{CustomerChanges, FieldSet, Refused};
use crate::domain::ids::ImportId;
use crate::domain::import::columns::Columns;
use crate::domain::import::rows::{self, Place};
use crate::domain::import::scan::{Scan, Scanned, Unreadable};
use crate::domain::import::{Format, ImportParams, Mode, RowError};
use crate::domain::invalid::InvalidField;
use crate::domain::refusal::Refusal;
use crate::domain::tenant::Tenant;
use crate::store::customers::{self, Written};
use crate::store::imports::{self, CHUNK_BYTES, ChunkCache, Leased, Progress};
use crate::store::{Database, DbConnection, StoreError, custom_fields, for_organization};
use crate::tasks::Stop;

/// How long a lease lasts; each batch renews it. An import whose instance
/// died is taken up by another this long after its last batch.
pub const LEASE: Duration = Duration::from_secs(10);
/// The rows of one batch: one transaction.
pub const BATCH_ROWS: usize = 500;
/// The longest a row may be: the API's largest body.
pub const MAX_ROW_BYTES: usize = crate::error::MAX_BODY_BYTES;

/// Why an upload was refused.
#[derive(Debug)]
pub enum UploadError {
    /// Over the size limit, in bytes.
    TooLarge(u64),
    Unreadable(Unreadable),
    Store(StoreError),
}

impl From<StoreError> for UploadError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// An import's file as it arrives: checked, hashed, and stored a chunk at
/// a time, so that memory holds one chunk whatever the file's size.
pub struct Upload {
    db: Database,
    tenant: Tenant,
    pub id: ImportId,
    scan: Scan,
    pending: Vec<u8>,
    seq: i32,
    size: u64,
    max_bytes: u64,
    hash: Sha256,
}

/// An upload that arrived whole and passed the check.
pub struct Uploaded {
    pub id: ImportId,
    pub scanned: Scanned,
    pub size: u64,
    /// SHA-256 of the file, hex: what makes a retry with the same
    /// Idempotency-Key the same request.
    pub sha256: String,
}

impl Upload {
    pub async fn begin(
        db: &Database,
        tenant: Tenant,
        format: Format,
        params: ImportParams,
        by: Audit,
        max_bytes: u64,
    ) -> Result<Self, StoreError> {
        let id = ImportId::generate();
        db.transaction(move |conn| imports::begin(conn, tenant, id, format, params, &by))
            .await?;
        Ok(Self {
            db: db.clone(),
            tenant,
            id,
            scan: Scan::new(format, MAX_ROW_BYTES),
            pending: Vec::with_capacity(CHUNK_BYTES),
            seq: 0,
            size: 0,
            max_bytes,
            hash: Sha256::new(),
        })
    }

    /// Takes the next bytes of the file; stores each chunk once it is full.
    pub async fn push(&mut self, mut bytes: &[u8]) -> Result<(), UploadError> {
        self.size += bytes.len() as u64;
        if self.size > self.max_bytes {
            return Err(UploadError::TooLarge(self.max_bytes));
        }
        self.hash.update(bytes);
        while !bytes.is_empty() {
            let room = CHUNK_BYTES - self.pending.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.pending.extend_from_slice(now);
            bytes = later;
            if self.pending.len() == CHUNK_BYTES {
                self.store_chunk().await?;
            }
        }
        Ok(())
    }

    async fn store_chunk(&mut self) -> Result<(), UploadError> {
        let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK_BYTES));
        self.scan.feed(&chunk).map_err(UploadError::Unreadable)?;
        let (org, id, seq) = (self.tenant.organization_id, self.id, self.seq);
        let chunk = std::sync::Arc::new(chunk);
        self.db
            .transaction(move |conn| imports::append_chunk(conn, org, id, seq, &chunk))
            .await?;
        self.seq += 1;
        Ok(())
    }

    /// Stores the last chunk and ends the check.
    pub async fn finish(mut self) -> Result<Uploaded, UploadError> {
        if !self.pending.is_empty() {
            self.store_chunk().await?;
        }
        let scanned = self.scan.finish().map_err(UploadError::Unreadable)?;
        let sha256 = self
            .hash
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Uploaded {
            id: self.id,
            scanned,
            size: self.size,
            sha256,
        })
    }
}

/// Forgets an upload that will not run (refused, failed, or a replay).
pub async fn discard(db: &Database, tenant: Tenant, id: ImportId) {
    let org = tenant.organization_id;
    if let Err(error) = db
        .transaction(move |conn| imports::discard(conn, org, id))
        .await
    {
        // The prune forgets it later.
        log::warn!("an import's upload was not discarded: {error}");
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Read to its end (or failed, as the import says).
    Finished,
    /// Cancelled, or taken by another instance after the lease ran out.
    Lost,
    /// The server is stopping: the lease is left to run out.
    Stopped,
}

/// Runs every import that waits, one after another, until none does.
pub async fn run_waiting(db: &Database, stop: &Stop) -> Result<(), StoreError> {
    while !stop.is_stopped() {
        let Some(leased) = db
            .transaction(|conn| imports::lease(conn, LEASE, None))
            .await?
        else {
            return Ok(());
        };
        log::info!(
            "import {} of {}: running",
            leased.id,
            leased.tenant.organization_id
        );
        run(db, leased, Some(stop), |_| {}).await?;
    }
    Ok(())
}

/// Runs a leased import, batch after batch, until it ends, is lost, or the
/// server stops; `on_batch` hears the rows each batch did.
pub async fn run(
    db: &Database,
    mut leased: Leased,
    stop: Option<&Stop>,
    mut on_batch: impl FnMut(Progress),
) -> Result<Ended, StoreError> {
    let org = leased.tenant.organization_id;
    let cache = std::sync::Arc::new(ChunkCache::default());
    loop {
        if stop.is_some_and(Stop::is_stopped) {
            return Ok(Ended::Stopped);
        }
        let (batch, cache) = (leased.clone(), cache.clone());
        // The import takes the organization's share of the connections, as
        // its requests would: it cannot crowd other organizations out.
        let step =
            for_organization(org, db.transaction(move |conn| step(conn, &batch, &cache))).await;
        match step {
            Ok(Step::Advanced(to, progress)) => {
                leased.place = to;
                on_batch(progress);
            }
            Ok(Step::Finished) => return Ok(Ended::Finished),
            Err(StoreError::Refused(_)) => return Ok(Ended::Lost),
            Err(error) => return Err(error),
        }
        // Other work of this instance runs between two batches.
        tokio::task::yield_now().await;
    }
}

enum Step {
    Advanced(Place, Progress),
    Finished,
}

/// One batch: reads up to [`BATCH_ROWS`] rows from where the import
/// stands, writes those that pass, records the others, and moves the
/// import on; at the end of the file, finishes it.
fn step(conn: &mut DbConnection, leased: &Leased, cache: &ChunkCache) -> Result<Step, StoreError> {
    let (tenant, org) = (leased.tenant, leased.tenant.organization_id);
    let columns = match &leased.header {
        Some(header) => Some(Columns::parse(header).map_err(|_| {
            StoreError::Failed(format!("import {}: its header no longer parses", leased.id))
        })?),
        None => None,
    };
    let read = {
        let input = imports::file_from(conn, leased, cache);
        rows::read(
            leased.format,
            columns.as_ref(),
            input,
            leased.place,
            BATCH_ROWS,
        )
    };
    let read =
        read.map_err(|e| StoreError::Failed(format!("reading import {}: {e}", leased.id)))?;
    let Some(last) = read.last() else {
        imports::finish(conn, leased, None)?;
        return Ok(Step::Finished);
    };
    let to = Place {
        offset: last.end,
        row: last.number,
    };
    let definitions = Definitions::new(custom_fields::list(conn, org)?);
    let mut errors = Vec::new();
    let (mut numbers, mut changes) = (Vec::new(), Vec::new());
    for row in read {
        let parsed = row.body.and_then(|body| {
            CustomerChanges::from_json(&body, FieldSet::all(), &definitions).map_err(invalid)
        });
        match parsed {
            Ok(parsed) => {
                numbers.push(row.number);
                changes.push(parsed);
            }
            Err(invalid_fields) => errors.push(RowError {
                row: row.number,
                invalid_fields,
            }),
        }
    }
    let write = !leased.dry_run;
    let written = match leased.mode {
        Mode::Create => customers::create_many(conn, tenant, &changes, &leased.audit, write)?,
        Mode::Upsert => customers::upsert_many(conn, tenant, &changes, &leased.audit, write)?,
    };
    let mut progress = Progress::default();
    for (number, outcome) in numbers.into_iter().zip(written) {
        match outcome {
            Written::Created => progress.created += 1,
            Written::Updated => progress.updated += 1,
            Written::Refused(refusal) => errors.push(RowError {
                row: number,
                invalid_fields: refused_fields(&refusal),
            }),
        }
    }
    errors.sort_by_key(|error| error.row);
    progress.refused = errors.len() as i64;
    progress.rows = progress.created + progress.updated + progress.refused;
    imports::advance(conn, leased, to, progress, &errors, LEASE)?;
    Ok(Step::Advanced(to, progress))
}

fn invalid(refused: Refused) -> Vec<InvalidField> {
    match refused {
        Refused::Invalid(fields) => fields,
        Refused::Forbidden(names) => names
            .into_iter()
            .map(|field| InvalidField {
                field,
                message: "may not be changed by this credential".into(),
            })
            .collect(),
    }
}

/// A row the store refused, as the fields a 422 would name.
fn refused_fields(refusal: &Refusal) -> Vec<InvalidField> {
    let (field, message) = match refusal {
        Refusal::ExternalIdTaken { existing } => (
            "externalId",
            format!("is held by {existing}, a live customer (or an earlier row of this file)"),
        ),
        Refusal::NotFound => (
            "externalId",
            "names a customer that was deleted while the import ran".to_owned(),
        ),
        other => ("row", format!("was refused: {other:?}")),
    };
    vec![InvalidField {
        field: field.into(),
        message,
    }]
}
