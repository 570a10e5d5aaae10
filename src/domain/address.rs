//! Postal addresses. An address is replaced whole, never merged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::invalid::InvalidFields;
use super::locale::CountryCode;
use super::text::{bounded_text, trimmed_bounded_pattern};

// Built from a request only by `Address::parse`: text parts trimmed (a part
// empty after trimming is absent), the country an uppercase ISO code.
/// A postal address; every part may be null.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Address {
    #[schema(required, example = "123 Main St")]
    pub address1: Option<String>,
    #[schema(required)]
    pub address2: Option<String>,
    #[schema(required, example = "Springfield")]
    pub city: Option<String>,
    #[schema(required, example = "IL")]
    pub region: Option<String>,
    #[schema(required, example = "62701")]
    pub zip: Option<String>,
    /// ISO 3166-1 alpha-2, uppercase.
    #[schema(required, example = "US")]
    pub country: Option<String>,
}

impl Address {
    /// An address of only a country (what an erase leaves); none without one.
    pub fn of_country(country: Option<String>) -> Option<Self> {
        country.map(|country| Self {
            country: Some(country),
            ..Self::default()
        })
    }
}

/// The free-text parts and the most characters each may have after trimming.
pub const TEXT_PARTS: [(&str, usize); 5] = [
    ("address1", 60),
    ("address2", 60),
    ("city", 45),
    ("region", 45),
    ("zip", 10),
];

impl Address {
    /// Parses the value of an `address` field (an object); complaints are
    /// named `<field>.<part>`.
    pub fn parse(field: &str, value: &Value, errors: &mut InvalidFields) -> Option<Self> {
        let Value::Object(parts) = value else {
            errors.push(field, "must be an object or null");
            return None;
        };
        let mut address = Address::default();
        let mut valid = true;
        for (name, value) in parts {
            let part = format!("{field}.{name}");
            if !address.parse_part(&part, name, value, errors) {
                valid = false;
            }
        }
        valid.then_some(address)
    }

    /// Parses one part, `name`, into this address (complaints are named
    /// `field`); whether it was valid. An unknown name is a complaint.
    pub fn parse_part(
        &mut self,
        field: &str,
        name: &str,
        value: &Value,
        errors: &mut InvalidFields,
    ) -> bool {
        let parsed = match name {
            "country" => errors.nullable_text(field, value, |raw| {
                CountryCode::parse(raw).map(CountryCode::into_inner)
            }),
            _ => match TEXT_PARTS.iter().find(|(known, _)| *known == name) {
                Some((_, max)) => errors
                    .nullable_text(field, value, |raw| bounded_text(raw.trim(), *max))
                    .map(|text| text.filter(|t| !t.is_empty())),
                None => {
                    errors.push(field, "unknown field");
                    None
                }
            },
        };
        match parsed {
            Some(text) => {
                *self.part_mut(name) = text;
                true
            }
            None => false,
        }
    }

    fn part_mut(&mut self, name: &str) -> &mut Option<String> {
        match name {
            "address1" => &mut self.address1,
            "address2" => &mut self.address2,
            "city" => &mut self.city,
            "region" => &mut self.region,
            "zip" => &mut self.zip,
            _ => &mut self.country,
        }
    }

    /// Whether no part is set: such an address is shown as null.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The input schema: each part nullable, unknown parts refused.
    pub fn schema() -> Value {
        json!({"type": "object", "additionalProperties": false, "properties": Self::part_schemas()})
    }

    /// The schema of each part, by name.
    pub fn part_schemas() -> Map<String, Value> {
        let mut properties: Map<String, Value> = TEXT_PARTS
            .iter()
            .map(|(name, max)| {
                let part = json!({"type": ["string", "null"], "pattern": trimmed_bounded_pattern(*max),
                                  "description": format!("Trimmed; at most {max} characters.")});
                (name.to_string(), part)
            })
            .collect();
        let mut country = CountryCode::schema();
        country["type"] = json!(["string", "null"]);
        properties.insert("country".into(), country);
        properties
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: Value) -> Result<Address, Vec<String>> {
        let mut errors = InvalidFields::default();
        let address = Address::parse("address", &value, &mut errors);
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
        assert_eq!(a.country.as_deref(), Some("US"));
        assert!(parse(json!({"city": " "})).unwrap().is_empty());
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
    fn accepts_every_part_at_its_limit() {
        let at_limit: Map<String, Value> = TEXT_PARTS
            .iter()
            .map(|(name, max)| (name.to_string(), json!("x".repeat(*max))))
            .collect();
        assert!(parse(Value::Object(at_limit)).is_ok());
        for (name, max) in TEXT_PARTS {
            assert_eq!(
                parse(json!({name: "x".repeat(max + 1)})).unwrap_err(),
                [format!("address.{name}")]
            );
        }
    }
}
