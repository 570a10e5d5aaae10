//! The parameters of a customer list: paging, filters, search and order.

use chrono::DateTime;
use serde_json::{Value, json};

use super::contact::{Email, fold_case, phone_digits};
use super::external_id::ExternalId;
use super::ids::CustomerId;
use super::invalid::InvalidField;
use super::query::{Parameter, parse_query};
use super::text::{trimmed_line, trimmed_line_pattern};
use super::time::Time;

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;
pub const MAX_SEARCH_CHARS: usize = 100;

/// The order of a list. Ties on the time are broken by id in the same
/// direction, so the order is total and paging never repeats or skips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    CreatedDescending,
    CreatedAscending,
    UpdatedDescending,
    UpdatedAscending,
}

impl Sort {
    /// Each order, its name in a query string and its name in generated code.
    const NAMES: [(Sort, &str, &str); 4] = [
        (
            Self::CreatedDescending,
            "-createdTime",
            "CREATED_TIME_DESCENDING",
        ),
        (
            Self::CreatedAscending,
            "createdTime",
            "CREATED_TIME_ASCENDING",
        ),
        (
            Self::UpdatedDescending,
            "-updatedTime",
            "UPDATED_TIME_DESCENDING",
        ),
        (
            Self::UpdatedAscending,
            "updatedTime",
            "UPDATED_TIME_ASCENDING",
        ),
    ];

    /// The same key, the other direction (walking back from a cursor).
    pub fn reversed(self) -> Self {
        match self {
            Self::CreatedDescending => Self::CreatedAscending,
            Self::CreatedAscending => Self::CreatedDescending,
            Self::UpdatedDescending => Self::UpdatedAscending,
            Self::UpdatedAscending => Self::UpdatedDescending,
        }
    }

    fn parse(raw: &str) -> Result<Self, String> {
        Self::NAMES
            .iter()
            .find(|(_, name, _)| *name == raw)
            .map(|(sort, _, _)| *sort)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(_, name, _)| *name).collect();
                format!("must be one of {}", names.join(", "))
            })
    }

    fn schema() -> Value {
        json!({
            "type": "string",
            "enum": Self::NAMES.iter().map(|(_, name, _)| *name).collect::<Vec<_>>(),
            "x-enum-varnames": Self::NAMES.iter().map(|(_, _, code)| *code).collect::<Vec<_>>(),
            "default": Self::NAMES[0].1,
        })
    }
}

/// A search term, lowercased, and its digits when it is written like a
/// phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm {
    pub text: String,
    pub digits: Option<String>,
}

impl SearchTerm {
    fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = trimmed_line(raw, MAX_SEARCH_CHARS)?;
        Ok(Self {
            text: trimmed.to_lowercase(),
            digits: phone_digits(&trimmed),
        })
    }
}

/// A keyset position: the page after or before a customer, in the list's
/// order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    After(CustomerId),
    Before(CustomerId),
}

impl Cursor {
    pub fn anchor(self) -> CustomerId {
        match self {
            Self::After(id) | Self::Before(id) => id,
        }
    }

    /// The query parameter that named it.
    pub fn parameter(self) -> &'static str {
        match self {
            Self::After(_) => "startingAfter",
            Self::Before(_) => "endingBefore",
        }
    }
}

/// The parameters of a request that answers pages.
pub trait Paged {
    fn limit_mut(&mut self) -> &mut i64;
}

/// `limit`, the same on every list.
pub const fn limit_parameter<P: Paged>() -> Parameter<P> {
    Parameter {
        name: "limit",
        description: "Page size.",
        parse: |p, raw| {
            *p.limit_mut() = parse_int(raw, 1, MAX_LIMIT)?;
            Ok(())
        },
        schema: || json!({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub limit: i64,
    pub offset: i64,
    pub starting_after: Option<CustomerId>,
    pub ending_before: Option<CustomerId>,
    pub external_id: Option<ExternalId>,
    pub search: Option<SearchTerm>,
    /// Case-folded; compared with the case-folded stored email.
    pub email: Option<String>,
    pub created_from: Option<Time>,
    pub created_to: Option<Time>,
    pub updated_from: Option<Time>,
    pub updated_to: Option<Time>,
    /// Deleted customers too (reporting; needs the reports:read scope).
    pub include_deleted: bool,
    /// Customers deleted in this range (so deleted ones only).
    pub deleted_from: Option<Time>,
    pub deleted_to: Option<Time>,
    pub sort: Sort,
    pub include_total: bool,
    /// `customFields.<name>=<value>` filters, as sent: their names and
    /// values are checked against the organization's definitions later.
    pub custom_fields: Vec<(String, String)>,
}

impl Paged for ListParams {
    fn limit_mut(&mut self) -> &mut i64 {
        &mut self.limit
    }
}

impl Default for ListParams {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            offset: 0,
            starting_after: None,
            ending_before: None,
            external_id: None,
            search: None,
            email: None,
            created_from: None,
            created_to: None,
            updated_from: None,
            updated_to: None,
            include_deleted: false,
            deleted_from: None,
            deleted_to: None,
            sort: Sort::default(),
            include_total: false,
            custom_fields: Vec::new(),
        }
    }
}

pub const PARAMETERS: [Parameter<ListParams>; 16] = [
    limit_parameter(),
    Parameter {
        name: "offset",
        description: "Rows to skip.",
        parse: |p, raw| {
            p.offset = parse_int(raw, 0, i64::MAX)?;
            Ok(())
        },
        schema: || json!({"type": "integer", "format": "int64", "minimum": 0, "maximum": i64::MAX, "default": 0}),
    },
    Parameter {
        name: "startingAfter",
        description: "The page after this customer, in the list's order (keyset paging; the customer may have been deleted since). Excludes endingBefore and a non-zero offset.",
        parse: |p, raw| {
            p.starting_after = Some(parse_id(raw)?);
            Ok(())
        },
        schema: CustomerId::schema,
    },
    Parameter {
        name: "endingBefore",
        description: "The page before this customer, in the list's order. Excludes startingAfter and a non-zero offset.",
        parse: |p, raw| {
            p.ending_before = Some(parse_id(raw)?);
            Ok(())
        },
        schema: CustomerId::schema,
    },
    Parameter {
        name: "externalId",
        description: "The merchant's own reference, exactly.",
        parse: |p, raw| {
            p.external_id = Some(ExternalId::parse(raw)?);
            Ok(())
        },
        schema: ExternalId::schema,
    },
    Parameter {
        name: "q",
        description: "Case-insensitive substring of `firstName lastName`, of the email, or of the phone digits.",
        parse: |p, raw| {
            p.search = Some(SearchTerm::parse(raw)?);
            Ok(())
        },
        schema: || json!({"type": "string", "pattern": trimmed_line_pattern(MAX_SEARCH_CHARS), "examples": ["jane"]}),
    },
    Parameter {
        name: "email",
        description: "Exact email, case-insensitive.",
        parse: |p, raw| {
            p.email = Some(parse_email(raw)?);
            Ok(())
        },
        schema: || json!({"type": "string", "pattern": trimmed_line_pattern(Email::MAX_CHARS), "examples": ["jane.doe@example.com"]}),
    },
    Parameter {
        name: "createdFrom",
        description: "createdTime >= this RFC 3339 time.",
        parse: |p, raw| {
            p.created_from = Some(parse_time(raw)?);
            Ok(())
        },
        schema: || json!({"type": "string", "format": "date-time"}),
    },
    Parameter {
        name: "createdTo",
        description: "createdTime < this RFC 3339 time.",
        parse: |p, raw| {
            p.created_to = Some(parse_time(raw)?);
            Ok(())
        },
        schema: || json!({"type": "string", "format": "date-time"}),
    },
    Parameter {
        name: "updatedFrom",
        description: "updatedTime >= this RFC 3339 time.",
        parse: |p, raw| {
            p.updated_from = Some(parse_time(raw)?);
            Ok(())
        },
        schema: || json!({"type": "string", "format": "date-time"}),
    },
    Parameter {
        name: "updatedTo",
        description: "updatedTime < this RFC 3339 time.",
        parse: |p, raw| {
            p.updated_to = Some(parse_time(raw)?);
            Ok(())
        },
        schema: || json!({"type": "string", "format": "date-time"}),
    },
    Parameter {
        name: "includeDeleted",
        description: "Deleted (and erased) customers too, with their `deletedTime`: for reporting, and only with the reports:read scope.",
        parse: |p, raw| {
            p.include_deleted = parse_bool(raw)?;
            Ok(())
        },
        schema: || json!({"type": "boolean", "default": false}),
    },
    Parameter {
        name: "deletedFrom",
        description: "deletedTime >= this RFC 3339 time: deleted customers only, whatever includeDeleted says (reports:read scope).",
        parse: |p, raw| {
            p.deleted_from = Some(parse_time(raw)?);
            Ok(())
        },
        schema: || json!({"type": "string", "format": "date-time"}),
    },
    Parameter {
        name: "deletedTo",
        description: "deletedTime < this RFC 3339 time: deleted customers only, whatever includeDeleted says (reports:read scope).",
        parse: |p, raw| {
            p.deleted_to = Some(parse_time(raw)?);
            Ok(())
        },
        schema: || json!({"type": "string", "format": "date-time"}),
    },
    Parameter {
        name: "sort",
        description: "Ties are broken by id, so the order is total.",
        parse: |p, raw| {
            p.sort = Sort::parse(raw)?;
            Ok(())
        },
        schema: Sort::schema,
    },
    Parameter {
        name: "includeTotal",
        description: "Add `total`, the number of matching customers.",
        parse: |p, raw| {
            p.include_total = parse_bool(raw)?;
            Ok(())
        },
        schema: || json!({"type": "boolean", "default": false}),
    },
];

/// The prefix of a custom-field filter's name: `customFields.loyaltyTier`.
pub const CUSTOM_FIELD_PREFIX: &str = "customFields.";

impl ListParams {
    /// Parses decoded query pairs. Unknown and repeated parameters are
    /// rejected, like every bad value, with the parameter's name.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Vec<InvalidField>> {
        let (custom_fields, pairs): (Vec<_>, Vec<_>) = pairs
            .iter()
            .cloned()
            .partition(|(name, _)| name.starts_with(CUSTOM_FIELD_PREFIX));
        let (mut params, mut errors) = parse_query(&pairs, &PARAMETERS, Self::default());
        // (parse_query has said so when the others alone were too many.)
        if pairs.len() <= super::query::MAX_PARAMETERS
            && pairs.len() + custom_fields.len() > super::query::MAX_PARAMETERS
        {
            errors.push(
                "query",
                format!(
                    "at most {} parameters are accepted",
                    super::query::MAX_PARAMETERS
                ),
            );
        }
        for (name, value) in custom_fields {
            let field = name[CUSTOM_FIELD_PREFIX.len()..].to_owned();
            match params.custom_fields.iter().any(|(seen, _)| *seen == field) {
                true => errors.push(name.as_str(), "must be given at most once"),
                false => params.custom_fields.push((field, value)),
            }
        }
        let cursors = [
            ("startingAfter", params.starting_after),
            ("endingBefore", params.ending_before),
        ];
        let given: Vec<&str> = cursors
            .iter()
            .filter(|(_, id)| id.is_some())
            .map(|(name, _)| *name)
            .collect();
        if given.len() == 2 {
            for name in given {
                errors.push(name, "startingAfter and endingBefore exclude each other");
            }
        } else if let (Some(name), true) = (given.first(), params.offset != 0) {
            errors.push(*name, "excludes a non-zero offset");
            errors.push("offset", format!("must be 0 with {name}"));
        }
        errors.into_result(params)
    }

    /// Whether the list reaches deleted customers: with `includeDeleted`,
    /// or a deletion range (which only deleted customers can be in).
    /// Reporting's, like the scope it needs.
    pub fn reads_deleted(&self) -> bool {
        self.include_deleted || self.deleted_from.is_some() || self.deleted_to.is_some()
    }

    /// The keyset position asked for, if any.
    pub fn cursor(&self) -> Option<Cursor> {
        match (self.starting_after, self.ending_before) {
            (Some(id), _) => Some(Cursor::After(id)),
            (None, Some(id)) => Some(Cursor::Before(id)),
            (None, None) => None,
        }
    }
}

fn parse_id(raw: &str) -> Result<CustomerId, String> {
    CustomerId::parse(raw).ok_or_else(|| "must be a customer id (cus_…)".into())
}

fn parse_int(raw: &str, min: i64, max: i64) -> Result<i64, String> {
    match raw.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ if max == i64::MAX => Err(format!("must be an integer of at least {min}")),
        _ => Err(format!("must be an integer from {min} to {max}")),
    }
}

fn parse_email(raw: &str) -> Result<String, String> {
    trimmed_line(raw, Email::MAX_CHARS).map(|email| fold_case(&email))
}

/// The schema of a time parameter.
pub fn time_schema() -> Value {
    json!({"type": "string", "format": "date-time"})
}

/// An RFC 3339 time with any offset, as a UTC time (compared as an
/// instant on both databases: `9999-12-31T23:59:59-23:59` is in the year
/// 10000, after every stored time).
pub fn parse_time(raw: &str) -> Result<Time, String> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| Time::from_utc_within_4_digit_years(t.to_utc()))
        .map_err(|_| "must be an RFC 3339 time, such as 2026-11-22T10:00:00Z".into())
}

fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::tests::matches;

    fn parse(query: &[(&str, &str)]) -> Result<ListParams, Vec<String>> {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ListParams::parse(&pairs).map_err(|e| e.into_iter().map(|f| f.field).collect())
    }

    #[test]
    fn defaults() {
        assert_eq!(parse(&[]).unwrap(), ListParams::default());
    }

    #[test]
    fn bounds_are_enforced() {
        assert_eq!(parse(&[("limit", "100")]).unwrap().limit, MAX_LIMIT);
        assert_eq!(parse(&[("limit", "1")]).unwrap().limit, 1);
        assert_eq!(parse(&[("offset", "0")]).unwrap().offset, 0);
        for (name, bad) in [
            ("limit", "0"),
            ("limit", "101"),
            ("limit", "x"),
            ("offset", "-1"),
            ("offset", "99999999999999999999"),
            ("q", ""),
            ("q", "   "),
            ("sort", "name"),
            ("includeTotal", "yes"),
            ("createdFrom", "2026-11-22"),
            ("email", ""),
        ] {
            assert_eq!(parse(&[(name, bad)]).unwrap_err(), [name], "{name}={bad}");
        }
        assert!(parse(&[("q", &"a".repeat(MAX_SEARCH_CHARS))]).is_ok());
        assert!(parse(&[("q", &"a".repeat(MAX_SEARCH_CHARS + 1))]).is_err());
    }

    #[test]
    fn unknown_and_repeated_parameters_are_named() {
        assert_eq!(parse(&[("page", "2")]).unwrap_err(), ["page"]);
        assert_eq!(
            parse(&[("limit", "2"), ("limit", "3")]).unwrap_err(),
            ["limit"]
        );
    }

    #[test]
    fn search_terms_are_folded() {
        let p = parse(&[("q", " Émile "), ("email", "Jane@Example.COM")]).unwrap();
        assert_eq!(
            p.search.unwrap(),
            SearchTerm {
                text: "émile".into(),
                digits: None
            }
        );
        assert_eq!(p.email.as_deref(), Some("jane@example.com"));
        let p = parse(&[("q", "555-01")]).unwrap();
        assert_eq!(p.search.unwrap().digits.as_deref(), Some("55501"));
    }

    #[test]
    fn cursors_exclude_each_other_and_an_offset() {
        let id = CustomerId::generate().to_string();
        let p = parse(&[("startingAfter", &id)]).unwrap();
        assert_eq!(
            p.cursor(),
            Some(Cursor::After(CustomerId::parse(&id).unwrap()))
        );
        assert_eq!(
            parse(&[("endingBefore", &id), ("offset", "0")])
                .unwrap()
                .cursor(),
            Some(Cursor::Before(CustomerId::parse(&id).unwrap()))
        );
        assert_eq!(
            parse(&[("startingAfter", &id), ("endingBefore", &id)]).unwrap_err(),
            ["startingAfter", "endingBefore"]
        );
        assert_eq!(
            parse(&[("offset", "5"), ("endingBefore", &id)]).unwrap_err(),
            ["endingBefore", "offset"]
        );
        assert_eq!(
            parse(&[("startingAfter", "cus_nope")]).unwrap_err(),
            ["startingAfter"]
        );
    }

    #[test]
    fn times_are_converted_to_utc() {
        let p = parse(&[("createdFrom", "2026-11-22T12:00:00+02:00")]).unwrap();
        assert_eq!(
            p.created_from.unwrap().to_rfc3339(),
            "2026-11-22T10:00:00.000Z"
        );
    }

    #[test]
    fn the_documented_schemas_agree_with_the_parser() {
        for parameter in &PARAMETERS {
            let schema = (parameter.schema)();
            if let Some(pattern) = schema["pattern"].as_str() {
                for text in ["a", " a ", "", " ", "a\u{1}"] {
                    assert_eq!(
                        matches(pattern, text),
                        parse(&[(parameter.name, text)]).is_ok(),
                        "{}={text:?}",
                        parameter.name
                    );
                }
            }
            if let Some(values) = schema["enum"].as_array() {
                for value in values {
                    assert!(parse(&[(parameter.name, value.as_str().unwrap())]).is_ok());
                }
            }
            for bound in ["minimum", "maximum"] {
                if let Some(n) = schema[bound].as_i64() {
                    assert!(
                        parse(&[(parameter.name, &n.to_string())]).is_ok(),
                        "{}",
                        parameter.name
                    );
                    let beyond = if bound == "minimum" {
                        n.checked_sub(1)
                    } else {
                        n.checked_add(1)
                    };
                    let beyond = beyond.map_or_else(|| format!("{n}0"), |b| b.to_string());
                    assert!(
                        parse(&[(parameter.name, &beyond)]).is_err(),
                        "{}={beyond}",
                        parameter.name
                    );
                }
            }
        }
    }
}
