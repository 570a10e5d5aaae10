//! The parameters of a customer list: paging, filters, search and order.

use chrono::{DateTime, NaiveDateTime};

use super::contact::{fold_case, phone_digits};
use super::invalid::{InvalidField, InvalidFields};

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
    fn parse(raw: &str) -> Result<Self, &'static str> {
        match raw {
            "-createdTime" => Ok(Self::CreatedDescending),
            "createdTime" => Ok(Self::CreatedAscending),
            "-updatedTime" => Ok(Self::UpdatedDescending),
            "updatedTime" => Ok(Self::UpdatedAscending),
            _ => Err("must be one of -createdTime, createdTime, -updatedTime, updatedTime"),
        }
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
    fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > MAX_SEARCH_CHARS {
            return Err("must be 1 to 100 characters");
        }
        if trimmed.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self {
            text: trimmed.to_lowercase(),
            digits: phone_digits(trimmed),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub limit: i64,
    pub offset: i64,
    pub search: Option<SearchTerm>,
    /// Case-folded; compared with the case-folded stored email.
    pub email: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    pub sort: Sort,
    pub include_total: bool,
}

impl Default for ListParams {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            offset: 0,
            search: None,
            email: None,
            created_from: None,
            created_to: None,
            sort: Sort::default(),
            include_total: false,
        }
    }
}

impl ListParams {
    /// Parses decoded query pairs. Unknown and repeated parameters are
    /// rejected, like every bad value, with the parameter's name.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Vec<InvalidField>> {
        let mut errors = InvalidFields::default();
        let mut params = Self::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            if seen.contains(&name.as_str()) {
                errors.push(name.as_str(), "must be given at most once");
                continue;
            }
            seen.push(name);
            let outcome = match name.as_str() {
                "limit" => parse_int(value, 1, MAX_LIMIT, "must be an integer from 1 to 100")
                    .map(|n| params.limit = n),
                "offset" => parse_int(value, 0, i64::MAX, "must be a non-negative integer")
                    .map(|n| params.offset = n),
                "q" => SearchTerm::parse(value).map(|t| params.search = Some(t)),
                "email" => parse_email(value).map(|e| params.email = Some(e)),
                "createdFrom" => parse_time(value).map(|t| params.created_from = Some(t)),
                "createdTo" => parse_time(value).map(|t| params.created_to = Some(t)),
                "sort" => Sort::parse(value).map(|s| params.sort = s),
                "includeTotal" => parse_bool(value).map(|b| params.include_total = b),
                _ => Err("unknown parameter"),
            };
            if let Err(message) = outcome {
                errors.push(name.as_str(), message);
            }
        }
        errors.into_result(params)
    }
}

fn parse_int(raw: &str, min: i64, max: i64, message: &'static str) -> Result<i64, &'static str> {
    match raw.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(message),
    }
}

fn parse_email(raw: &str) -> Result<String, &'static str> {
    let folded = fold_case(raw);
    let chars = folded.chars().count();
    if chars == 0 || chars > 254 || folded.chars().any(char::is_control) {
        return Err("must be 1 to 254 characters without control characters");
    }
    Ok(folded)
}

/// An RFC 3339 time with any offset, as a UTC time.
fn parse_time(raw: &str) -> Result<NaiveDateTime, &'static str> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.naive_utc())
        .map_err(|_| "must be an RFC 3339 time, such as 2026-11-22T10:00:00Z")
}

fn parse_bool(raw: &str) -> Result<bool, &'static str> {
    match raw {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err("must be true or false"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(parse(&[("limit", "100")]).unwrap().limit, 100);
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
        assert!(parse(&[("q", &"a".repeat(100))]).is_ok());
        assert!(parse(&[("q", &"a".repeat(101))]).is_err());
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
    fn times_are_converted_to_utc() {
        let p = parse(&[("createdFrom", "2026-11-22T12:00:00+02:00")]).unwrap();
        assert_eq!(p.created_from.unwrap().to_string(), "2026-11-22 10:00:00");
    }
}
