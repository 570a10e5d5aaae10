//! Reports over an organization's customers (contract section 12): the
//! export and the stats. Both take every list filter but the list's paging,
//! and one parameter of their own.

use serde_json::{Value, json};

use super::address::TEXT_PARTS;
use super::customer::{Customer, FIELDS};
use super::invalid::{InvalidField, InvalidFields};
use super::listing::ListParams;

/// The list's parameters that page it; a report covers every match.
const PAGING: [&str; 6] = [
    "limit",
    "offset",
    "startingAfter",
    "endingBefore",
    "sort",
    "includeTotal",
];

/// Whether a list parameter is also a report's filter.
pub fn is_filter(name: &str) -> bool {
    !PAGING.contains(&name)
}

/// A report's own parameter: its name, its values and what each means.
pub trait Choice: Sized + Copy + Default + 'static {
    const PARAMETER: &'static str;
    const DESCRIPTION: &'static str;
    /// Whether a request must name it (else the default applies).
    const REQUIRED: bool;
    const VALUES: &'static [(&'static str, Self)];

    fn schema() -> Value {
        let names: Vec<&str> = Self::VALUES.iter().map(|(name, _)| *name).collect();
        json!({"type": "string", "enum": names})
    }
}

/// How stats group the customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupBy {
    #[default]
    Country,
    Language,
    /// The UTC day of `createdTime`, `2026-11-22`.
    CreatedDay,
    /// The UTC month of `createdTime`, `2026-11`.
    CreatedMonth,
}

impl Choice for GroupBy {
    const PARAMETER: &'static str = "groupBy";
    const DESCRIPTION: &'static str = "What the customers are counted by: `address.country`, `language`, or the UTC day or month of `createdTime`.";
    const REQUIRED: bool = true;
    const VALUES: &'static [(&'static str, Self)] = &[
        ("country", Self::Country),
        ("language", Self::Language),
        ("createdDay", Self::CreatedDay),
        ("createdMonth", Self::CreatedMonth),
    ];
}

/// The export's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// One customer per line, as every answer shows it.
    #[default]
    Ndjson,
    /// A header row, then one row per customer ([`csv_columns`]).
    Csv,
}

impl Choice for ExportFormat {
    const PARAMETER: &'static str = "format";
    const DESCRIPTION: &'static str = "`ndjson` (the default; one customer per line) or `csv` (a header row; `address.city`-style columns; metadata, customFields and shippingAddresses as JSON text; a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return, and is not a plain number, is written after a `'` so that no spreadsheet runs it).";
    const REQUIRED: bool = false;
    const VALUES: &'static [(&'static str, Self)] = &[("ndjson", Self::Ndjson), ("csv", Self::Csv)];
}

/// A report's query: the list filters, and its own choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportParams<C> {
    pub filters: ListParams,
    pub choice: C,
}

impl<C: Choice> ReportParams<C> {
    /// Parses decoded query pairs; a paging parameter, an unknown or
    /// repeated one and every bad value are named, all at once.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Vec<InvalidField>> {
        // The list's own collector: at most its number of complaints, so a
        // query of many repeated parameters buys no larger an answer.
        let mut errors = InvalidFields::default();
        let (own, filters): (Vec<_>, Vec<_>) = pairs
            .iter()
            .cloned()
            .partition(|(name, _)| name == C::PARAMETER);
        let choice = match own.as_slice() {
            [] if C::REQUIRED => Err("is required".to_owned()),
            [] => Ok(C::default()),
            [(_, raw)] => C::VALUES
                .iter()
                .find(|(name, _)| name == raw)
                .map(|(_, choice)| *choice)
                .ok_or_else(|| {
                    let names: Vec<&str> = C::VALUES.iter().map(|(name, _)| *name).collect();
                    format!("must be one of {}", names.join(", "))
                }),
            _ => Err("must be given at most once".to_owned()),
        };
        let choice = choice.unwrap_or_else(|message| {
            errors.push(C::PARAMETER, message);
            C::default()
        });
        let (paging, filters): (Vec<_>, Vec<_>) =
            filters.into_iter().partition(|(name, _)| !is_filter(name));
        for (name, _) in paging {
            errors.push(name, "a report covers every match: it has no pages");
        }
        let filters = match ListParams::parse(&filters) {
            Ok(filters) => filters,
            Err(more) => {
                for complaint in more {
                    errors.push(complaint.field, complaint.message);
                }
                ListParams::default()
            }
        };
        errors.into_result(Self { filters, choice })
    }
}

/// A batch of customers in the export's format; CSV's header row goes
/// before the first.
pub fn encode(format: ExportFormat, customers: &[Customer], first: bool) -> Vec<u8> {
    // Writing to memory cannot fail, nor can serializing a customer.
    match format {
        ExportFormat::Ndjson => {
            let mut out = Vec::with_capacity(customers.len() * 512);
            for customer in customers {
                serde_json::to_writer(&mut out, customer).expect("a customer serializes");
                out.push(b'\n');
            }
            out
        }
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::with_capacity(customers.len() * 256));
            if first {
                writer
                    .write_record(csv_columns())
                    .expect("writes to memory");
            }
            for customer in customers {
                let shown = serde_json::to_value(customer).expect("a customer serializes");
                writer
                    .write_record(csv_row(&shown))
                    .expect("writes to memory");
            }
            writer.into_inner().expect("writes to memory")
        }
    }
}

/// The CSV export's columns, in the order of the customer's fields
/// ([`FIELDS`]), with the address's parts as columns of their own
/// (`address.city`).
pub fn csv_columns() -> &'static [String] {
    static COLUMNS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    COLUMNS.get_or_init(columns)
}

fn columns() -> Vec<String> {
    let mut columns = Vec::new();
    for field in &FIELDS {
        match field.name() {
            "address" => columns.extend(
                TEXT_PARTS
                    .iter()
                    .map(|(part, _)| *part)
                    .chain(["country"])
                    .map(|part| format!("address.{part}")),
            ),
            name => columns.push(name.to_owned()),
        }
    }
    columns
}

/// A customer (as JSON) as a CSV row, in the order of [`csv_columns`]:
/// text as it is (made safe to open, [`spreadsheet_safe`]), null as an
/// empty cell, numbers and booleans as JSON has them, objects and lists as
/// JSON text.
pub fn csv_row(customer: &Value) -> Vec<String> {
    csv_columns()
        .iter()
        .map(|column| {
            let value = match column.split_once('.') {
                Some((object, part)) => &customer[object][part],
                None => &customer[column.as_str()],
            };
            match value {
                Value::Null => String::new(),
                Value::String(text) => spreadsheet_safe(text),
                other => other.to_string(),
            }
        })
        .collect()
}

/// A text cell that a spreadsheet will not run (CSV injection, CWE-1236;
/// OWASP's advice): one that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return is written after a `'`, unless the whole cell is a plain
/// number (an E.164 phone number stays `+14155550100`, `-3.5` stays).
pub fn spreadsheet_safe(text: &str) -> String {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    match risky && !is_plain_number(text) {
        true => format!("'{text}"),
        false => text.to_owned(),
    }
}

/// A sign, digits, and at most one `.` between digits.
fn is_plain_number(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "1"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::{Customer, Field};

    fn parse<C: Choice>(query: &[(&str, &str)]) -> Result<ReportParams<C>, Vec<String>> {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ReportParams::<C>::parse(&pairs).map_err(|e| e.into_iter().map(|f| f.field).collect())
    }

    #[test]
    fn reports_take_filters_and_no_paging() {
        let stats = parse::<GroupBy>(&[("groupBy", "createdMonth"), ("q", "jane")]).unwrap();
        assert_eq!(stats.choice, GroupBy::CreatedMonth);
        assert!(stats.filters.search.is_some());
        assert_eq!(parse::<GroupBy>(&[]).unwrap_err(), ["groupBy"]);
        assert_eq!(
            parse::<GroupBy>(&[("groupBy", "city"), ("limit", "5"), ("nope", "1")]).unwrap_err(),
            ["groupBy", "limit", "nope"]
        );
        assert_eq!(
            parse::<ExportFormat>(&[]).unwrap().choice,
            ExportFormat::Ndjson
        );
        assert_eq!(
            parse::<ExportFormat>(&[("format", "csv"), ("includeDeleted", "true")])
                .unwrap()
                .choice,
            ExportFormat::Csv
        );
        assert_eq!(
            parse::<ExportFormat>(&[("format", "csv"), ("format", "csv")]).unwrap_err(),
            ["format"]
        );
        let many: Vec<(&str, &str)> = std::iter::repeat_n(("limit", "1"), 500).collect();
        assert_eq!(
            parse::<ExportFormat>(&many).unwrap_err().len(),
            InvalidFields::MAX
        );
    }

    #[test]
    fn the_csv_columns_hold_every_field() {
        let customer = Customer::empty();
        let shown = serde_json::to_value(&customer).unwrap();
        let mut fields: Vec<&str> = shown
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let columns = csv_columns();
        let mut named: Vec<&str> = columns
            .iter()
            .map(|c| c.split_once('.').map_or(c.as_str(), |(object, _)| object))
            .collect();
        fields.sort();
        named.sort();
        named.dedup();
        assert_eq!(fields, named);
        let read_only = FIELDS.iter().filter(|f| matches!(f, Field::ReadOnly(_)));
        assert!(
            read_only
                .into_iter()
                .all(|f| columns.iter().any(|c| c == f.name()))
        );
        let row = csv_row(&shown);
        let cell = |name: &str| &row[columns.iter().position(|c| c == name).unwrap()];
        assert_eq!(cell("livemode"), "true");
        assert_eq!(cell("shippingAddresses"), "[]");
        assert_eq!(cell("deletedTime"), "");
        assert_eq!(cell("address.country"), "");
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_quoted() {
        for risky in [
            "=1+1",
            "+cmd",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "=HYPERLINK(\"http://evil.example\",\"x\")",
        ] {
            assert_eq!(spreadsheet_safe(risky), format!("'{risky}"));
        }
        for plain in [
            "+14155550100",
            "-3.5",
            "42",
            "Jane",
            "'quoted",
            "",
            "a=b",
            "+",
            "-",
            "1.2.3x",
        ] {
            let expected = match plain {
                "+" | "-" => format!("'{plain}"),
                _ => plain.to_owned(),
            };
            assert_eq!(spreadsheet_safe(plain), expected, "{plain}");
        }
    }
}
