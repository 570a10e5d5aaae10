//! What a console form or query string sends, as ordered name-value pairs:
//! repeated names (the rows a bulk action selects) and names made from data
//! (`cf.<name>`, one per custom field) included, which a struct cannot hold.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::session::PageError;
use crate::api::answers::Idempotency;
use crate::error::ApiError;

/// The largest form the console reads: a customer with every field, its
/// metadata and ten shipping addresses fits several times.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// An `application/x-www-form-urlencoded` body's pairs, in order.
pub struct Pairs(pub Vec<(String, String)>);

impl Pairs {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        first(&self.0, name)
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FromRequest for Pairs {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !form {
                return Err(PageError::Problem(ApiError::Malformed(
                    "Send the form as application/x-www-form-urlencoded.".into(),
                )));
            }
            let body = body.await.map_err(|_| ApiError::TOO_LARGE)?;
            Ok(Self(decode(&body)))
        })
    }
}

/// Decoded pairs of a form body or query string.
pub fn decode(raw: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw).into_owned().collect()
}

/// A query string as the console's filter forms send it, made ready for
/// the API's parsers: fields left empty are dropped (a form sends them
/// all), and a date (`2026-12-01`, what a date input gives) in a time
/// filter is that day's start, UTC.
pub fn filters(query: &str) -> Vec<(String, String)> {
    decode(query.as_bytes())
        .into_iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(name, value)| {
            let date = value.len() == 10
                && chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d").is_ok()
                && (name.ends_with("From")
                    || name.ends_with("To")
                    || name == "from"
                    || name == "to");
            match date {
                true => (name, format!("{value}T00:00:00Z")),
                false => (name, value),
            }
        })
        .collect()
}

/// The first value of `name` among `pairs`, or "".
pub fn first<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

/// A time filter's value as a date input shows it: the day ([`filters`]
/// made a date that day's start).
pub fn day(pairs: &[(String, String)], name: &str) -> String {
    first(pairs, name).chars().take(10).collect()
}

/// `pairs` as a query string (`a=1&b=2`), for links that keep the filters.
pub fn encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        out.append_pair(name, value);
    }
    out.finish()
}

/// A console path to return to after a form: only a path of the console
/// itself, never another site (`//host`, `/\host`), else the console.
pub fn back(raw: &str) -> &str {
    let local = raw.starts_with("/console")
        && !raw.contains("//")
        && !raw.contains('\\')
        && !raw.chars().any(char::is_control);
    match local {
        true => raw,
        false => "/console",
    }
}

/// The Idempotency-Key a console form carries (a hidden field made when
/// the form was drawn), so a form sent twice changes things once.
pub fn idempotency(req: &HttpRequest, pairs: &Pairs) -> Result<Idempotency, PageError> {
    let key = Some(pairs.get("idempotency")).filter(|k| !k.is_empty());
    Ok(Idempotency::of(req, Ok(key))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_drop_empty_fields_and_read_dates_as_days() {
        assert_eq!(
            filters("q=ada&email=&createdFrom=2026-12-01&sort=-createdTime&from=2026-01-02"),
            vec![
                ("q".into(), "ada".into()),
                ("createdFrom".into(), "2026-12-01T00:00:00Z".into()),
                ("sort".into(), "-createdTime".into()),
                ("from".into(), "2026-01-02T00:00:00Z".into()),
            ]
        );
    }

    #[test]
    fn back_stays_in_the_console() {
        assert_eq!(back("/console/customers?q=a"), "/console/customers?q=a");
        for other in [
            "//evil.example",
            "/console//evil",
            "https://evil.example",
            "/console\\x",
            "",
        ] {
            assert_eq!(back(other), "/console");
        }
    }
}
