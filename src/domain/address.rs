//! Postal addresses. An address is replaced whole, never merged.

use serde_json::Value;

use super::invalid::{InvalidFields, bounded_text};
use super::locale::CountryCode;

/// A postal address; every part is optional. Text parts are trimmed, and a
/// part that is empty after trimming is stored as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub zip: Option<String>,
    pub country: Option<CountryCode>,
}

impl Address {
    /// Parses the value of the `address` field (an object); complaints are
    /// named `address.<part>`.
    pub fn parse(value: &Value, errors: &mut InvalidFields) -> Option<Self> {
        let Value::Object(parts) = value else {
            errors.push("address", "must be an object or null");
            return None;
        };
        let mut address = Address::default();
        let mut valid = true;
        for (name, value) in parts {
            let field = format!("address.{name}");
            let limit = match name.as_str() {
                "address1" | "address2" => 60,
                "city" | "region" => 45,
                "zip" => 10,
                "country" => {
                    match errors.nullable_text(&field, value, CountryCode::parse) {
                        Some(country) => address.country = country,
                        None => valid = false,
                    }
                    continue;
                }
                _ => {
                    errors.push(field, "unknown field");
                    valid = false;
                    continue;
                }
            };
            let parsed = errors.nullable_text(&field, value, |raw| bounded_text(raw.trim(), limit));
            let Some(text) = parsed else {
                valid = false;
                continue;
            };
            let text = text.filter(|t| !t.is_empty());
            match name.as_str() {
                "address1" => address.address1 = text,
                "address2" => address.address2 = text,
                "city" => address.city = text,
                "region" => address.region = text,
                _ => address.zip = text,
            }
        }
        valid.then_some(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<Address, Vec<String>> {
        let mut errors = InvalidFields::default();
        let address = Address::parse(&value, &mut errors);
        errors
            .into_result(())
            .map(|_| address.unwrap())
            .map_err(|e| e.into_iter().map(|f| f.field).collect())
    }

    #[test]
    fn trims_and_normalises() {
        let a =
            parse(json!({"address1": " 1 Main St ", "address2": "  ", "country": "us"})).unwrap();
        assert_eq!(a.address1.as_deref(), Some("1 Main St"));
        assert_eq!(a.address2, None);
        assert_eq!(a.country.unwrap().into_inner(), "US");
    }

    #[test]
    fn names_every_bad_part() {
        let errors = parse(json!({
            "address1": "a".repeat(61), "city": "c".repeat(46), "zip": "12345678901",
            "country": "XX", "street": "x", "region": 5
        }))
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "address.address1",
                "address.city",
                "address.country",
                "address.region",
                "address.street",
                "address.zip"
            ]
        );
    }

    #[test]
    fn accepts_edges() {
        let a = parse(
            json!({"address1": "a".repeat(60), "region": "r".repeat(45), "zip": "z".repeat(10)}),
        );
        assert!(a.is_ok());
    }
}
