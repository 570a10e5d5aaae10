//! Imports (contract section 15): a file of customers, CSV or NDJSON,
//! checked as it is uploaded ([`scan`]), then read row by row ([`rows`])
//! into the bodies a create or an update takes, so that every row meets
//! the API's own rules ([`crate::domain::customer::CustomerChanges`]).

pub mod columns;
pub mod rows;
pub mod scan;

use serde::Serialize;
use serde_json::json;

use super::ids::ImportId;
use super::invalid::InvalidField;
use super::query::{Parameter, parse_query};
use super::refusal::Refusal;
use super::time::Time;

/// The errors an import's status shows at most; the error report has them
/// all.
pub const SHOWN_ERRORS: i64 = 1_000;

/// How many imports one organization may have running at once.
pub const MAX_RUNNING: i64 = 3;
/// What a start over [`MAX_RUNNING`] is refused with.
pub const TOO_MANY_RUNNING: Refusal = Refusal::LimitReached(
    "An organization runs at most 3 imports at once; wait for one to end, or cancel one.",
);

/// The file's format, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

impl Format {
    pub const CONTENT_TYPES: [(&str, Self); 2] = [
        ("text/csv", Self::Csv),
        ("application/x-ndjson", Self::Ndjson),
    ];

    /// The format of a media type's essence (`text/csv`), if it is one.
    pub fn of_media_type(essence: &str) -> Option<Self> {
        Self::CONTENT_TYPES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(essence))
            .map(|(_, format)| *format)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Csv, Self::Ndjson]
            .into_iter()
            .find(|f| f.as_str() == stored)
    }
}

/// What a row does to the customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Every row is a new customer; a row whose externalId a live customer
    /// holds is refused.
    #[default]
    Create,
    /// A row whose externalId a live customer holds updates it (the
    /// columns or fields the row has replace the customer's); any other
    /// row is a new customer.
    Upsert,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Upsert => "upsert",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Create, Self::Upsert]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Its file is arriving; nobody sees it yet.
    Uploading,
    Running,
    Succeeded,
    /// The file could not be read to its end (the reason is kept).
    Failed,
    Cancelled,
}

impl Status {
    pub const SHOWN: [Status; 4] = [
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploading => "uploading",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Uploading]
            .into_iter()
            .chain(Self::SHOWN)
            .find(|s| s.as_str() == stored)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// An import's query: `mode` and `dryRun`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportParams {
    pub mode: Mode,
    pub dry_run: bool,
}

/// The import's query parameters, read by the parser and the document.
pub const IMPORT_PARAMETERS: [Parameter<ImportParams>; 2] = [
    Parameter {
        name: "mode",
        description: "`create` (the default): every row is a new customer, and a row whose externalId a live customer holds is refused. `upsert`: a row whose externalId a live customer holds updates it (the row's columns replace its fields); any other row creates one.",
        parse: |p, raw| {
            p.mode = Mode::parse(raw).ok_or("must be one of create, upsert")?;
            Ok(())
        },
        schema: || json!({"type": "string", "enum": ["create", "upsert"]}),
    },
    Parameter {
        name: "dryRun",
        description: "`true`: every row is read and checked, and the counts and errors are reported, but no customer is written.",
        parse: |p, raw| {
            p.dry_run = match raw {
                "true" => true,
                "false" => false,
                _ => return Err("must be true or false".into()),
            };
            Ok(())
        },
        schema: || json!({"type": "boolean"}),
    },
];

impl ImportParams {
    /// Parses decoded query pairs; an unknown or repeated parameter and
    /// every bad value are named, all at once.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Vec<InvalidField>> {
        let (params, errors) = parse_query(pairs, &IMPORT_PARAMETERS, Self::default());
        errors.into_result(params)
    }
}

/// A refused row: its number (the data rows of a CSV file from 1, the
/// header not counted; the lines of an NDJSON file from 1) and what a 422
/// would have named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RowError {
    #[schema(example = 17)]
    pub row: i64,
    pub invalid_fields: Vec<InvalidField>,
}

/// An import as clients see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Import {
    #[schema(inline)]
    pub id: ImportId,
    /// `running`, `succeeded`, `failed` or `cancelled`.
    #[schema(example = "running")]
    pub status: &'static str,
    /// `create` or `upsert`.
    #[schema(example = "create")]
    pub mode: &'static str,
    pub dry_run: bool,
    /// `csv` or `ndjson`.
    #[schema(example = "csv")]
    pub format: &'static str,
    pub livemode: bool,
    /// The rows of the file (a CSV file's header not counted; blank
    /// lines of an NDJSON file not counted).
    pub rows_total: i64,
    /// The rows read so far: created, updated and refused.
    pub rows_done: i64,
    pub created: i64,
    pub updated: i64,
    pub refused: i64,
    /// The first 1,000 refused rows, in the order of the file; the error
    /// report has every one.
    pub errors: Vec<RowError>,
    /// Why the import failed, when it did.
    #[schema(required)]
    pub failure: Option<String>,
    #[schema(inline)]
    pub created_time: Time,
    /// When it succeeded, failed or was cancelled.
    #[schema(required, inline)]
    pub finished_time: Option<Time>,
}

/// Refused rows as lines of the error report's CSV (`row,field,message`):
/// one line per complaint, each cell made safe to open in a spreadsheet.
pub fn errors_csv(errors: &[RowError]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(errors.len() * 64));
    for error in errors {
        for field in &error.invalid_fields {
            let row = error.row.to_string();
            let cells = [
                row.as_str(),
                &super::reports::spreadsheet_safe(&field.field),
                &super::reports::spreadsheet_safe(&field.message),
            ];
            // Writing to memory cannot fail.
            writer.write_record(cells).expect("writes to memory");
        }
    }
    writer.into_inner().expect("writes to memory")
}
