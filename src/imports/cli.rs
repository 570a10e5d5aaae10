//! `clientele import`: the same import as the API's, from a file on this
//! host. The command uploads the file, starts the import and runs it itself
//! (a server on the same database may take it up instead, if it leases it
//! first: the command then follows its progress), with a progress bar on a
//! terminal and plain lines otherwise, on stderr; the import as the API
//! shows it, on stdout.

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use secrecy::ExposeSecret;

use super::{LEASE, Upload, UploadError};
use crate::config::Settings;
use crate::domain::audit::Audit;
use crate::domain::import::{Format, Import, ImportParams};
use crate::domain::tenant::Tenant;
use crate::startup::StartupError;
use crate::store::{Database, imports, organizations};

/// How often progress is written as a line when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);
/// How often the command reads the progress of an import a server runs.
const POLL_EVERY: Duration = Duration::from_millis(500);

pub fn run(
    settings: &Settings,
    tenant: Tenant,
    params: ImportParams,
    format: Option<Format>,
    file: &Path,
) -> Result<(), StartupError> {
    let format = format.or_else(|| by_extension(file)).ok_or(
        "name the file's format with --format csv or --format ndjson (its extension does not say)",
    )?;
    let url = settings.database_url.expose_secret();
    Database::migrate(url)?;
    let db = Database::open(url, 2, settings.tuning())?;
    let org = tenant.organization_id;
    if !db.run_blocking(|conn| organizations::exists(conn, org))? {
        return Err(format!("no organization {org}").into());
    }
    let source = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let size = source.metadata().map(|m| m.len()).unwrap_or_default();
    actix_web::rt::System::new().block_on(async move {
        let import = upload_and_run(&db, tenant, params, format, source, size).await?;
        println!("{}", serde_json::to_string(&import)?);
        Ok(())
    })
}

fn by_extension(file: &Path) -> Option<Format> {
    match file.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "csv" => Some(Format::Csv),
        "ndjson" | "jsonl" => Some(Format::Ndjson),
        _ => None,
    }
}

async fn upload_and_run(
    db: &Database,
    tenant: Tenant,
    params: ImportParams,
    format: Format,
    mut source: std::fs::File,
    size: u64,
) -> Result<Import, StartupError> {
    let mut upload = Upload::begin(db, tenant, format, params, Audit::cli(), u64::MAX).await?;
    let id = upload.id;
    let bar = progress_bar(size, "uploading");
    let mut buffer = vec![0; 1 << 20];
    let uploaded = loop {
        let read = source.read(&mut buffer)?;
        let pushed = match read {
            0 => break upload.finish().await,
            n => upload.push(&buffer[..n]).await,
        };
        if let Err(error) = pushed {
            super::discard(db, tenant, id).await;
            return Err(refused(error));
        }
        bar.inc(read as u64);
    };
    bar.finish_and_clear();
    let uploaded = match uploaded {
        Ok(uploaded) => uploaded,
        Err(error) => {
            super::discard(db, tenant, id).await;
            return Err(refused(error));
        }
    };
    let (scanned, bytes) = (uploaded.scanned, uploaded.size);
    let started = db
        .transaction(move |conn| imports::start(conn, tenant, id, &scanned, bytes))
        .await?;
    let org = tenant.organization_id;
    let bar = progress_bar(started.rows_total as u64, "importing");
    let mut last_line = Instant::now();
    let leased = db
        .transaction(move |conn| imports::lease(conn, LEASE, Some((org, id))))
        .await?;
    match leased {
        Some(leased) => {
            super::run(db, leased, None, |progress| {
                bar.inc(progress.rows as u64);
                line(&bar, &mut last_line);
            })
            .await?;
        }
        // A server on this database took it up first: follow it.
        None => loop {
            let now = db.run(move |conn| imports::find(conn, tenant, id)).await?;
            let Some(now) = now else { break };
            bar.set_position(now.rows_done as u64);
            line(&bar, &mut last_line);
            if now.finished_time.is_some() {
                break;
            }
            tokio::time::sleep(POLL_EVERY).await;
        },
    }
    bar.finish_and_clear();
    let ended = db.run(move |conn| imports::find(conn, tenant, id)).await?;
    Ok(ended.ok_or("the import is gone")?)
}

/// A progress bar on a terminal; hidden otherwise (plain lines instead).
fn progress_bar(length: u64, what: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden().with_message(what);
    }
    let style = ProgressStyle::with_template(
        "{msg:10} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, {eta} left)",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(length)
        .with_style(style)
        .with_message(what)
}

/// Where the import stands, as a line on stderr, every [`LINE_EVERY`],
/// when stderr is not a terminal.
fn line(bar: &ProgressBar, last: &mut Instant) {
    if bar.is_hidden() && last.elapsed() >= LINE_EVERY {
        *last = Instant::now();
        eprintln!("{}: {} rows", bar.message(), bar.position());
    }
}

fn refused(error: UploadError) -> StartupError {
    match error {
        UploadError::TooLarge(max) => format!("the file is over {max} bytes").into(),
        UploadError::Unreadable(unreadable) => {
            let named: Vec<String> = unreadable
                .invalid_fields()
                .into_iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect();
            format!(
                "the file is refused, nothing was imported: {}",
                named.join("; ")
            )
            .into()
        }
        UploadError::Store(error) => error.into(),
    }
}
