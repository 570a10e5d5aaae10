//! Reports over an organization's customers (contract section 12): the
//! export and the stats. Both take every list filter but the list's paging,
//! and one parameter of their own.

use serde_json::{Value, json};

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
    /// A header row, then one row per customer ([`CSV_COLUMNS`]).
    Csv,
}

impl Choice for ExportFormat {
    const PARAMETER: &'static str = "format";
    const DESCRIPTION: &'static str = "`ndjson` (the default; one customer per line) or `csv` (a header row; `address.city`-style columns; metadata, customFields and shippingAddresses as JSON text).";
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

/// The CSV export's columns, in order: a customer's fields, with the
/// address's parts as columns of their own.
pub const CSV_COLUMNS: [&str; 23] = [
    "id",
    "organizationId",
    "livemode",
    "externalId",
    "firstName",
    "lastName",
    "email",
    "phoneNumber",
    "language",
    "address.address1",
    "address.address2",
    "address.city",
    "address.region",
    "address.zip",
    "address.country",
    "metadata",
    "customFields",
    "shippingAddresses",
    "revision",
    "createdTime",
    "updatedTime",
    "deletedTime",
    "erasedTime",
];

/// A customer (as JSON) as a CSV row: text as it is, null as an empty
/// cell, numbers and booleans as JSON has them, objects and lists as JSON
/// text.
pub fn csv_row(customer: &Value) -> Vec<String> {
    CSV_COLUMNS
        .iter()
        .map(|column| {
            let value = match column.split_once('.') {
                Some((object, part)) => &customer[object][part],
                None => &customer[*column],
            };
            match value {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                other => other.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::{Customer, READ_ONLY};

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
        let customer = Customer::blank();
        let shown = serde_json::to_value(&customer).unwrap();
        let mut fields: Vec<&str> = shown
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut columns: Vec<&str> = CSV_COLUMNS
            .iter()
            .map(|c| c.split_once('.').map_or(*c, |(object, _)| object))
            .collect();
        fields.sort();
        columns.sort();
        columns.dedup();
        assert_eq!(fields, columns);
        assert!(READ_ONLY.iter().all(|field| CSV_COLUMNS.contains(field)));
        let row = csv_row(&shown);
        assert_eq!(row[2], "true");
        assert_eq!(row[17], "[]");
        assert_eq!(row[21], "");
    }
}
