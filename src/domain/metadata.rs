//! Free-form metadata: a small map of string keys to string values.

use serde_json::{Map, Value, json};

use super::invalid::InvalidFields;
use super::text::{bounded_text, bounded_text_pattern};

/// At most 50 keys of 1..=40 characters, each value a string of at most
/// 500 characters. Stored and returned as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata(Map<String, Value>);

impl Metadata {
    pub const MAX_KEYS: usize = 50;
    pub const MAX_KEY_CHARS: usize = 40;
    pub const MAX_VALUE_CHARS: usize = 500;

    /// Parses the value of the `metadata` field (an object); complaints about
    /// one entry are named `metadata.<key>`.
    pub fn parse(field: &str, value: &Value, errors: &mut InvalidFields) -> Option<Self> {
        let Value::Object(entries) = value else {
            errors.push(field, "must be an object or null");
            return None;
        };
        let mut valid = true;
        if entries.len() > Self::MAX_KEYS {
            errors.push(field, format!("must have at most {} keys", Self::MAX_KEYS));
            valid = false;
        }
        for (key, value) in entries {
            let entry = format!("{field}.{key}");
            let key_chars = key.chars().count();
            if key_chars == 0 || key_chars > Self::MAX_KEY_CHARS || key.contains('\0') {
                let message = format!(
                    "keys must be 1 to {} characters, without NUL",
                    Self::MAX_KEY_CHARS
                );
                errors.push(entry, message);
                valid = false;
                continue;
            }
            let checked = match value {
                Value::String(text) => bounded_text(text, Self::MAX_VALUE_CHARS).map(drop),
                _ => Err("must be a string".into()),
            };
            if let Err(message) = checked {
                errors.push(entry, message);
                valid = false;
            }
        }
        valid.then(|| Self(entries.clone()))
    }

    /// The JSON text stored for this map.
    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    pub fn schema() -> Value {
        json!({
            "type": "object",
            "maxProperties": Self::MAX_KEYS,
            "propertyNames": {"type": "string", "pattern": format!("^[^\\x00]{{1,{}}}$", Self::MAX_KEY_CHARS)},
            "additionalProperties": {"type": "string", "pattern": bounded_text_pattern(Self::MAX_VALUE_CHARS)},
            "examples": [{"crmId": "A-17"}]
        })
    }
}

/// Metadata as answers show it: the object as sent.
impl utoipa::PartialSchema for Metadata {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        super::schema::of(json!({
            "type": "object", "additionalProperties": {"type": "string"},
            "description": "Free-form string values, as sent.", "examples": [{"crmId": "A-17"}]
        }))
    }
}

impl utoipa::ToSchema for Metadata {}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: Value) -> bool {
        let mut errors = InvalidFields::default();
        let parsed = Metadata::parse("metadata", &value, &mut errors);
        errors.into_result(()).is_ok() && parsed.is_some()
    }

    #[test]
    fn bounds() {
        let (keys, key_chars, value_chars) = (
            Metadata::MAX_KEYS,
            Metadata::MAX_KEY_CHARS,
            Metadata::MAX_VALUE_CHARS,
        );
        assert!(check(json!({"crmId": "A-17"})));
        assert!(check(json!({})));
        let full: Map<String, Value> = (0..keys).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert!(check(Value::Object(full.clone())));
        let mut over = full;
        over.insert("one more".into(), json!("v"));
        assert!(!check(Value::Object(over)));
        assert!(check(
            json!({"k".repeat(key_chars): "v".repeat(value_chars)})
        ));
        assert!(!check(json!({"k".repeat(key_chars + 1): "v"})));
        assert!(!check(json!({"": "v"})));
        assert!(!check(json!({"k": "v".repeat(value_chars + 1)})));
        assert!(!check(json!({"k": 1})));
        assert!(!check(json!({"k": null})));
        assert!(!check(json!(["k"])));
    }
}
