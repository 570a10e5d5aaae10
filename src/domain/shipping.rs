//! Shipping addresses (contract section 11): a labelled list, replaced
//! whole, each entry a recipient and an address with section 3's rules.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::address::Address;
use super::contact::{PhoneNumber, fold_case};
use super::invalid::InvalidFields;
use super::name::PersonName;
use super::schema::nullable;
use super::text::{trimmed_line, trimmed_line_pattern};

/// One shipping address. Built only by [`ShippingAddresses::parse`] (or read
/// back from what it stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingAddress {
    /// Unique within the customer, compared case-insensitively.
    #[schema(example = "Home")]
    pub label: String,
    #[schema(required, example = "Jane")]
    pub first_name: Option<String>,
    #[schema(required, example = "Doe")]
    pub last_name: Option<String>,
    /// E.164, canonical.
    #[schema(required, example = "+15550100")]
    pub phone_number: Option<String>,
    #[serde(flatten)]
    #[schema(inline)]
    pub address: Address,
}

/// A customer's shipping addresses: at most [`ShippingAddresses::MAX`],
/// labels unique case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShippingAddresses(Vec<ShippingAddress>);

impl ShippingAddresses {
    pub const MAX: usize = 10;
    pub const MAX_LABEL_CHARS: usize = 40;

    /// Parses the value of `shippingAddresses` (a list; null is handled by
    /// the caller); complaints name the entry by index
    /// (`shippingAddresses.2.zip`).
    pub fn parse(field: &str, value: &Value, errors: &mut InvalidFields) -> Option<Self> {
        let Value::Array(entries) = value else {
            errors.push(field, "must be a list or null");
            return None;
        };
        if entries.len() > Self::MAX {
            errors.push(field, format!("must have at most {} entries", Self::MAX));
            return None;
        }
        let mut parsed = Vec::with_capacity(entries.len());
        let mut valid = true;
        for (index, entry) in entries.iter().enumerate() {
            let entry_field = format!("{field}.{index}");
            match parse_entry(&entry_field, entry, errors) {
                Some(address) => {
                    let label = fold_case(&address.label);
                    if parsed
                        .iter()
                        .any(|earlier: &ShippingAddress| fold_case(&earlier.label) == label)
                    {
                        errors.push(
                            format!("{entry_field}.label"),
                            "must be unique within the customer (case-insensitively)",
                        );
                        valid = false;
                    }
                    parsed.push(address);
                }
                None => valid = false,
            }
        }
        valid.then_some(Self(parsed))
    }

    /// What is stored: JSON text, or nothing for an empty list.
    pub fn to_stored(&self) -> Option<String> {
        match self.0.is_empty() {
            true => None,
            false => Some(serde_json::to_string(&self.0).unwrap_or_default()),
        }
    }

    /// The JSON Schema of the list in a request.
    pub fn schema() -> Value {
        let mut properties = Map::new();
        properties.insert(
            "label".into(),
            json!({"type": "string", "pattern": trimmed_line_pattern(Self::MAX_LABEL_CHARS),
                   "description": format!("Required. Trimmed, 1 to {} characters; unique within the customer, case-insensitively.", Self::MAX_LABEL_CHARS)}),
        );
        properties.insert("firstName".into(), nullable(PersonName::schema()));
        properties.insert("lastName".into(), nullable(PersonName::schema()));
        properties.insert("phoneNumber".into(), nullable(PhoneNumber::schema()));
        properties.extend(Address::part_schemas());
        json!({
            "type": "array",
            "maxItems": Self::MAX,
            "description": "Replaced whole by PUT; answered as [] when none. `address` stays the billing address.",
            "items": {"type": "object", "additionalProperties": false, "required": ["label"], "properties": properties},
        })
    }
}

fn parse_entry(field: &str, value: &Value, errors: &mut InvalidFields) -> Option<ShippingAddress> {
    let Value::Object(parts) = value else {
        errors.push(field, "must be an object");
        return None;
    };
    let mut label = None;
    let (mut first_name, mut last_name, mut phone_number) = (None, None, None);
    let mut address = Address::default();
    let mut valid = true;
    for (name, value) in parts {
        let part = format!("{field}.{name}");
        let ok = match name.as_str() {
            "label" => match value
                .as_str()
                .map(|raw| trimmed_line(raw, ShippingAddresses::MAX_LABEL_CHARS))
            {
                Some(Ok(text)) => {
                    label = Some(text);
                    true
                }
                Some(Err(message)) => {
                    errors.push(part, message);
                    false
                }
                None => {
                    errors.push(part, "must be a string");
                    false
                }
            },
            "firstName" | "lastName" => match errors.nullable_text(&part, value, PersonName::parse)
            {
                Some(parsed) => {
                    let text = parsed.map(|n| n.as_str().to_owned());
                    match name.as_str() {
                        "firstName" => first_name = text,
                        _ => last_name = text,
                    }
                    true
                }
                None => false,
            },
            "phoneNumber" => match errors.nullable_text(&part, value, PhoneNumber::parse) {
                Some(parsed) => {
                    phone_number = parsed.map(|p| p.as_str().to_owned());
                    true
                }
                None => false,
            },
            _ => address.parse_part(&part, name, value, errors),
        };
        valid &= ok;
    }
    if label.is_none() && !parts.contains_key("label") {
        errors.push(format!("{field}.label"), "is required");
        valid = false;
    }
    match (valid, label) {
        (true, Some(label)) => Some(ShippingAddress {
            label,
            first_name,
            last_name,
            phone_number,
            address,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: Value) -> Result<ShippingAddresses, Vec<String>> {
        let mut errors = InvalidFields::default();
        let parsed = ShippingAddresses::parse("shippingAddresses", &value, &mut errors);
        errors
            .into_result(())
            .map(|_| parsed.unwrap())
            .map_err(|e| e.into_iter().map(|f| f.field).collect())
    }

    #[test]
    fn entries_are_named_by_index() {
        let errors = parse(json!([
            {"label": "Home", "country": "us"},
            {"label": "home"},
            {"firstName": "", "zip": "12345678901", "street": 1},
        ]))
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "shippingAddresses.1.label",
                "shippingAddresses.2.firstName",
                "shippingAddresses.2.street",
                "shippingAddresses.2.zip",
                "shippingAddresses.2.label",
            ]
        );
    }

    #[test]
    fn normalises_and_round_trips() {
        let parsed = parse(json!([{"label": " Office ", "phoneNumber": "+1-555-0100", "country": "gb", "city": " London "}])).unwrap();
        let stored = parsed.to_stored().unwrap();
        let back: Vec<ShippingAddress> = serde_json::from_str(&stored).unwrap();
        assert_eq!(back[0].label, "Office");
        assert_eq!(back[0].phone_number.as_deref(), Some("+15550100"));
        assert_eq!(back[0].address.country.as_deref(), Some("GB"));
        assert_eq!(back[0].address.city.as_deref(), Some("London"));
        assert_eq!(parse(json!([])).unwrap().to_stored(), None);
        let eleven: Vec<Value> = (0..11).map(|n| json!({"label": format!("L{n}")})).collect();
        assert_eq!(
            parse(Value::Array(eleven)).unwrap_err(),
            ["shippingAddresses"]
        );
    }
}
