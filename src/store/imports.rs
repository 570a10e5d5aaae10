//! Imports (contract section 15): the import's record, its file in chunks,
//! its refused rows, and the lease under which one instance at a time
//! reads it. A batch's rows, its progress and its errors commit together
//! ([`advance`]), conditional on the import still being where the batch
//! began: a batch that lost its lease, or whose import was cancelled,
//! rolls back whole, so no row is ever written twice.

use std::io::Read;
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::schema::{import_chunks, import_errors, imports};
use super::{DbConnection, StoreError, audit};
use crate::domain::audit::{Action, Actor, Audit, Origin, Target};
use crate::domain::ids::{ImportId, OrganizationId};
use crate::domain::import::rows::Place;
use crate::domain::import::scan::Scanned;
use crate::domain::import::{
    Format, Import, ImportParams, MAX_RUNNING, Mode, RowError, SHOWN_ERRORS, Status,
    TOO_MANY_RUNNING,
};
use crate::domain::refusal::Refusal;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;

/// The size of a stored chunk of a file (the last one is shorter).
pub const CHUNK_BYTES: usize = 1024 * 1024;

#[derive(Queryable, Selectable)]
#[diesel(table_name = imports)]
struct Row {
    organization_id: OrganizationId,
    id: ImportId,
    livemode: bool,
    format: String,
    mode: String,
    dry_run: bool,
    status: String,
    failure: Option<String>,
    header: Option<String>,
    audit: String,
    rows_total: i64,
    rows_done: i64,
    created: i64,
    updated: i64,
    refused: i64,
    resume_at: i64,
    resume_row: i64,
    created_at: NaiveDateTime,
    finished_at: Option<NaiveDateTime>,
}

impl Row {
    fn tenant(&self) -> Tenant {
        Tenant {
            organization_id: self.organization_id,
            livemode: self.livemode,
        }
    }

    fn view(self, errors: Vec<RowError>) -> Import {
        let status = Status::parse(&self.status).unwrap_or(Status::Failed);
        Import {
            id: self.id,
            status: status.as_str(),
            mode: Mode::parse(&self.mode).unwrap_or_default().as_str(),
            dry_run: self.dry_run,
            format: Format::parse(&self.format).unwrap_or(Format::Csv).as_str(),
            livemode: self.livemode,
            rows_total: self.rows_total,
            rows_done: self.rows_done,
            created: self.created,
            updated: self.updated,
            refused: self.refused,
            errors,
            failure: self.failure,
            created_time: Time::from_stored(self.created_at),
            finished_time: self.finished_at.map(Time::from_stored),
        }
    }
}

/// Who started an import and from where, as kept with it: each row's audit
/// event names them.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAudit {
    actor_type: String,
    actor_id: Option<String>,
    actor_email: Option<String>,
    request_id: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl StoredAudit {
    fn of(audit: &Audit) -> String {
        let stored = Self {
            actor_type: audit.actor.kind().into(),
            actor_id: audit.actor.id(),
            actor_email: audit.actor.email().map(str::to_owned),
            request_id: audit.origin.request_id.clone(),
            ip: audit.origin.ip.clone(),
            user_agent: audit.origin.user_agent.clone(),
        };
        serde_json::to_string(&stored).unwrap_or_default()
    }

    fn restore(text: &str) -> Audit {
        let stored: Option<Self> = serde_json::from_str(text).ok();
        let actor = stored.as_ref().and_then(|s| {
            Actor::restore(
                &s.actor_type,
                s.actor_id.as_deref(),
                s.actor_email.as_deref(),
            )
        });
        Audit {
            actor: actor.unwrap_or(Actor::Anonymous),
            origin: stored.map_or_else(Origin::default, |s| Origin {
                request_id: s.request_id,
                ip: s.ip,
                user_agent: s.user_agent,
            }),
        }
    }
}

type One = diesel::dsl::Filter<
    imports::table,
    diesel::dsl::And<
        diesel::dsl::Eq<imports::organization_id, OrganizationId>,
        diesel::dsl::Eq<imports::id, ImportId>,
    >,
>;

/// The import `id` of `org`.
fn one(org: OrganizationId, id: ImportId) -> One {
    imports::table.filter(imports::organization_id.eq(org).and(imports::id.eq(id)))
}

/// Records an import whose file is about to arrive.
pub fn begin(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: ImportId,
    format: Format,
    params: ImportParams,
    by: &Audit,
) -> Result<(), StoreError> {
    let now = Time::now().naive();
    diesel::insert_into(imports::table)
        .values((
            imports::organization_id.eq(tenant.organization_id),
            imports::id.eq(id),
            imports::livemode.eq(tenant.livemode),
            imports::format.eq(format.as_str()),
            imports::mode.eq(params.mode.as_str()),
            imports::dry_run.eq(params.dry_run),
            imports::status.eq(Status::Uploading.as_str()),
            imports::audit.eq(StoredAudit::of(by)),
            imports::size_bytes.eq(0),
            imports::rows_total.eq(0),
            imports::rows_done.eq(0),
            imports::created.eq(0),
            imports::updated.eq(0),
            imports::refused.eq(0),
            imports::resume_at.eq(0),
            imports::resume_row.eq(0),
            imports::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores the chunk `seq` of an uploading import's file.
pub fn append_chunk(
    conn: &mut DbConnection,
    org: OrganizationId,
    id: ImportId,
    seq: i32,
    data: &[u8],
) -> Result<(), StoreError> {
    diesel::insert_into(import_chunks::table)
        .values((
            import_chunks::organization_id.eq(org),
            import_chunks::import_id.eq(id),
            import_chunks::seq.eq(seq),
            import_chunks::data.eq(data),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets an import that never started (its upload failed or was a
/// replay), with its file.
pub fn discard(
    conn: &mut DbConnection,
    org: OrganizationId,
    id: ImportId,
) -> Result<(), StoreError> {
    drop_file(conn, org, id)?;
    diesel::delete(
        imports::table
            .filter(imports::organization_id.eq(org))
            .filter(imports::id.eq(id))
            .filter(imports::status.eq(Status::Uploading.as_str())),
    )
    .execute(conn)?;
    Ok(())
}

fn drop_file(conn: &mut DbConnection, org: OrganizationId, id: ImportId) -> Result<(), StoreError> {
    diesel::delete(
        import_chunks::table
            .filter(import_chunks::organization_id.eq(org))
            .filter(import_chunks::import_id.eq(id)),
    )
    .execute(conn)?;
    Ok(())
}

/// Starts an uploaded import: it is running, from its first row, for any
/// instance to take up; the start is in the audit log. Refused when the
/// organization has [`MAX_RUNNING`] running already.
pub fn start(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: ImportId,
    scanned: &Scanned,
    size: u64,
) -> Result<Import, StoreError> {
    let running: i64 = imports::table
        .filter(imports::organization_id.eq(tenant.organization_id))
        .filter(imports::status.eq(Status::Running.as_str()))
        .count()
        .get_result(conn)?;
    if running >= MAX_RUNNING {
        return Err(TOO_MANY_RUNNING.into());
    }
    let header = scanned
        .header
        .as_ref()
        .map(|header| serde_json::to_string(header).unwrap_or_default());
    let started = diesel::update(one(tenant.organization_id, id))
        .filter(imports::status.eq(Status::Uploading.as_str()))
        .set((
            imports::status.eq(Status::Running.as_str()),
            imports::header.eq(header),
            imports::size_bytes.eq(size as i64),
            imports::rows_total.eq(scanned.rows),
            imports::resume_at.eq(scanned.data_start as i64),
        ))
        .execute(conn)?;
    if started == 0 {
        return Err(Refusal::NotFound.into());
    }
    let row = read(conn, tenant.organization_id, id)?.ok_or(Refusal::NotFound)?;
    let by = StoredAudit::restore(&row.audit);
    audit::record(
        conn,
        tenant,
        &by,
        Action::CustomersImported,
        Target::new("import", id),
        None,
    )?;
    Ok(row.view(Vec::new()))
}

fn read(
    conn: &mut DbConnection,
    org: OrganizationId,
    id: ImportId,
) -> Result<Option<Row>, StoreError> {
    Ok(one(org, id)
        .filter(imports::status.ne(Status::Uploading.as_str()))
        .select(Row::as_select())
        .first(conn)
        .optional()?)
}

/// The tenant's import, with its first refused rows.
pub fn find(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: ImportId,
) -> Result<Option<Import>, StoreError> {
    let Some(row) =
        read(conn, tenant.organization_id, id)?.filter(|r| r.livemode == tenant.livemode)
    else {
        return Ok(None);
    };
    let errors = errors_after(conn, tenant.organization_id, id, 0, SHOWN_ERRORS)?;
    Ok(Some(row.view(errors)))
}

/// Up to `limit` refused rows of an import after row `after`, in order.
pub fn errors_after(
    conn: &mut DbConnection,
    org: OrganizationId,
    id: ImportId,
    after: i64,
    limit: i64,
) -> Result<Vec<RowError>, StoreError> {
    let rows: Vec<(i64, String)> = import_errors::table
        .filter(import_errors::organization_id.eq(org))
        .filter(import_errors::import_id.eq(id))
        .filter(import_errors::row_number.gt(after))
        .order(import_errors::row_number.asc())
        .select((import_errors::row_number, import_errors::invalid_fields))
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, fields)| RowError {
            row,
            invalid_fields: serde_json::from_str(&fields).unwrap_or_default(),
        })
        .collect())
}

/// Cancels a running import: the rows written so far stay, the rest are
/// not read. A finished import is left as it is. Answers the import.
pub fn cancel(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: ImportId,
    by: &Audit,
) -> Result<Import, StoreError> {
    let org = tenant.organization_id;
    let stopped = diesel::update(one(org, id))
        .filter(imports::livemode.eq(tenant.livemode))
        .filter(imports::status.eq(Status::Running.as_str()))
        .set((
            imports::status.eq(Status::Cancelled.as_str()),
            imports::finished_at.eq(Time::now().naive()),
        ))
        .execute(conn)?;
    if stopped == 1 {
        drop_file(conn, org, id)?;
        let target = Target::new("import", id);
        audit::record(conn, tenant, by, Action::ImportCancelled, target, None)?;
    }
    find(conn, tenant, id)?.ok_or_else(|| Refusal::NotFound.into())
}

/// A running import leased to this instance, and where it stands.
#[derive(Debug, Clone)]
pub struct Leased {
    pub tenant: Tenant,
    pub id: ImportId,
    pub format: Format,
    pub mode: Mode,
    pub dry_run: bool,
    pub header: Option<Vec<String>>,
    pub audit: Audit,
    pub place: Place,
}

fn lease_end(hold: Duration) -> NaiveDateTime {
    Time::now().naive() + TimeDelta::from_std(hold).unwrap_or(TimeDelta::MAX)
}

/// Leases, for `hold`, the longest-waiting running import that no live
/// lease holds (`only`: that one alone); a conditional update, as another
/// instance may take it first.
pub fn lease(
    conn: &mut DbConnection,
    hold: Duration,
    only: Option<(OrganizationId, ImportId)>,
) -> Result<Option<Leased>, StoreError> {
    let now = Time::now().naive();
    let free = imports::leased_until
        .is_null()
        .or(imports::leased_until.lt(now));
    let mut query = imports::table
        .filter(imports::status.eq(Status::Running.as_str()))
        .filter(free)
        .into_boxed();
    if let Some((org, id)) = only {
        query = query
            .filter(imports::organization_id.eq(org))
            .filter(imports::id.eq(id));
    }
    let waiting: Vec<Row> = query
        .order(imports::created_at.asc())
        .select(Row::as_select())
        .limit(4)
        .load(conn)?;
    for row in waiting {
        let taken = diesel::update(one(row.organization_id, row.id))
            .filter(imports::status.eq(Status::Running.as_str()))
            .filter(imports::resume_at.eq(row.resume_at))
            .filter(free)
            .set(imports::leased_until.eq(lease_end(hold)))
            .execute(conn)?;
        if taken == 1 {
            return Ok(Some(Leased {
                tenant: row.tenant(),
                id: row.id,
                format: Format::parse(&row.format).unwrap_or(Format::Csv),
                mode: Mode::parse(&row.mode).unwrap_or_default(),
                dry_run: row.dry_run,
                header: row.header.and_then(|h| serde_json::from_str(&h).ok()),
                audit: StoredAudit::restore(&row.audit),
                place: Place {
                    offset: row.resume_at as u64,
                    row: row.resume_row,
                },
            }));
        }
    }
    Ok(None)
}

/// What a batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub refused: i64,
}

/// Ends a batch, in its transaction: moves the import from `from` to `to`
/// with the batch's counts and refused rows, and renews the lease for
/// `hold`. Refused (the batch must roll back) when the import is no longer
/// at `from` and running: cancelled, or taken by another instance.
pub fn advance(
    conn: &mut DbConnection,
    leased: &Leased,
    to: Place,
    progress: Progress,
    errors: &[RowError],
    hold: Duration,
) -> Result<(), StoreError> {
    let org = leased.tenant.organization_id;
    let moved = diesel::update(one(org, leased.id))
        .filter(imports::status.eq(Status::Running.as_str()))
        .filter(imports::resume_at.eq(leased.place.offset as i64))
        .set((
            imports::resume_at.eq(to.offset as i64),
            imports::resume_row.eq(to.row),
            imports::rows_done.eq(imports::rows_done + progress.rows),
            imports::created.eq(imports::created + progress.created),
            imports::updated.eq(imports::updated + progress.updated),
            imports::refused.eq(imports::refused + progress.refused),
            imports::leased_until.eq(lease_end(hold)),
        ))
        .execute(conn)?;
    if moved == 0 {
        return Err(Refusal::NotFound.into());
    }
    let rows: Vec<_> = errors
        .iter()
        .map(|error| {
            let fields = &error.invalid_fields;
            (
                import_errors::organization_id.eq(org),
                import_errors::import_id.eq(leased.id),
                import_errors::row_number.eq(error.row),
                import_errors::invalid_fields
                    .eq(serde_json::to_string(&fields).unwrap_or_default()),
            )
        })
        .collect();
    for chunk in rows.chunks(200) {
        execute_on_either!(
            conn,
            diesel::insert_into(import_errors::table).values(chunk)
        )?;
    }
    Ok(())
}

/// Ends a leased import that has no row left (`failure`: that could not
/// be read on), and forgets its file.
pub fn finish(
    conn: &mut DbConnection,
    leased: &Leased,
    failure: Option<String>,
) -> Result<(), StoreError> {
    let org = leased.tenant.organization_id;
    let status = match failure {
        None => Status::Succeeded,
        Some(_) => Status::Failed,
    };
    let ended = diesel::update(one(org, leased.id))
        .filter(imports::status.eq(Status::Running.as_str()))
        .filter(imports::resume_at.eq(leased.place.offset as i64))
        .set((
            imports::status.eq(status.as_str()),
            imports::failure.eq(failure),
            imports::finished_at.eq(Time::now().naive()),
            imports::leased_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    if ended == 1 {
        drop_file(conn, org, leased.id)?;
    }
    Ok(())
}

/// The chunk a runner read last: the next batch most often starts in it
/// (a chunk holds thousands of rows), and a chunk never changes.
#[derive(Default)]
pub struct ChunkCache(std::sync::Mutex<Option<(i32, std::sync::Arc<Vec<u8>>)>>);

impl ChunkCache {
    fn get(&self, seq: i32) -> Option<std::sync::Arc<Vec<u8>>> {
        let kept = self.0.lock().ok()?;
        kept.as_ref()
            .filter(|(kept_seq, _)| *kept_seq == seq)
            .map(|(_, data)| data.clone())
    }

    fn keep(&self, seq: i32, data: std::sync::Arc<Vec<u8>>) {
        if let Ok(mut kept) = self.0.lock() {
            *kept = Some((seq, data));
        }
    }
}

/// A leased import's file from where it stands, read a chunk at a time on
/// `conn` (or from `cache`).
pub fn file_from<'c>(
    conn: &'c mut DbConnection,
    leased: &Leased,
    cache: &'c ChunkCache,
) -> FileReader<'c> {
    let offset = leased.place.offset;
    FileReader {
        conn,
        org: leased.tenant.organization_id,
        id: leased.id,
        cache,
        next_seq: (offset / CHUNK_BYTES as u64) as i32,
        skip: (offset % CHUNK_BYTES as u64) as usize,
        chunk: std::sync::Arc::default(),
        at: 0,
        ended: false,
    }
}

pub struct FileReader<'c> {
    conn: &'c mut DbConnection,
    org: OrganizationId,
    id: ImportId,
    cache: &'c ChunkCache,
    next_seq: i32,
    skip: usize,
    chunk: std::sync::Arc<Vec<u8>>,
    at: usize,
    ended: bool,
}

impl FileReader<'_> {
    fn next_chunk(&mut self) -> std::io::Result<Option<std::sync::Arc<Vec<u8>>>> {
        if let Some(data) = self.cache.get(self.next_seq) {
            return Ok(Some(data));
        }
        let data: Option<Vec<u8>> = import_chunks::table
            .filter(import_chunks::organization_id.eq(self.org))
            .filter(import_chunks::import_id.eq(self.id))
            .filter(import_chunks::seq.eq(self.next_seq))
            .select(import_chunks::data)
            .first(self.conn)
            .optional()
            .map_err(std::io::Error::other)?;
        Ok(data.map(|data| {
            let data = std::sync::Arc::new(data);
            self.cache.keep(self.next_seq, data.clone());
            data
        }))
    }
}

impl Read for FileReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.chunk.len() && !self.ended {
            match self.next_chunk()? {
                Some(data) => {
                    self.chunk = data;
                    self.at = std::mem::take(&mut self.skip).min(self.chunk.len());
                    self.next_seq += 1;
                }
                None => self.ended = true,
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Forgets uploads that never finished (their client or server went away)
/// `after` they began, and finished imports `after` they ended.
pub fn prune(conn: &mut DbConnection, after: Duration) -> Result<usize, StoreError> {
    let before = Time::now().naive() - TimeDelta::from_std(after).unwrap_or(TimeDelta::MAX);
    let stale: Vec<(OrganizationId, ImportId)> = imports::table
        .filter(
            imports::status
                .eq(Status::Uploading.as_str())
                .and(imports::created_at.lt(before))
                .or(imports::finished_at.lt(before)),
        )
        .select((imports::organization_id, imports::id))
        .limit(100)
        .load(conn)?;
    for (org, id) in &stale {
        drop_file(conn, *org, *id)?;
        diesel::delete(
            import_errors::table
                .filter(import_errors::organization_id.eq(org))
                .filter(import_errors::import_id.eq(id)),
        )
        .execute(conn)?;
        diesel::delete(one(*org, *id)).execute(conn)?;
    }
    Ok(stale.len())
}
