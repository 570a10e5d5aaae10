//! Free-form metadata: a small map of string keys to string values.

use serde_json::{Map, Value};

use super::invalid::{InvalidFields, bounded_text};

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
    pub fn parse(value: &Value, errors: &mut InvalidFields) -> Option<Self> {
        let Value::Object(entries) = value else {
            errors.push("metadata", "must be an object or null");
            return None;
        };
        let mut valid = true;
        if entries.len() > Self::MAX_KEYS {
            errors.push("metadata", "must have at most 50 keys");
            valid = false;
        }
        for (key, value) in entries {
            let field = format!("metadata.{key}");
            let key_chars = key.chars().count();
            if key_chars == 0 || key_chars > Self::MAX_KEY_CHARS || key.contains('\0') {
                errors.push(field, "keys must be 1 to 40 characters, without NUL");
                valid = false;
                continue;
            }
            match value {
                Value::String(text) => {
                    if let Err(message) = bounded_text(text, Self::MAX_VALUE_CHARS) {
                        errors.push(field, message);
                        valid = false;
                    }
                }
                _ => {
                    errors.push(field, "must be a string");
                    valid = false;
                }
            }
        }
        valid.then(|| Self(entries.clone()))
    }

    /// The JSON text stored for this map.
    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: Value) -> bool {
        let mut errors = InvalidFields::default();
        let parsed = Metadata::parse(&value, &mut errors);
        errors.into_result(()).is_ok() && parsed.is_some()
    }

    #[test]
    fn bounds() {
        assert!(check(json!({"crmId": "A-17"})));
        assert!(check(json!({})));
        let fifty: Map<String, Value> = (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert!(check(Value::Object(fifty.clone())));
        let mut fifty_one = fifty;
        fifty_one.insert("k50".into(), json!("v"));
        assert!(!check(Value::Object(fifty_one)));
        assert!(check(json!({"k".repeat(40): "v".repeat(500)})));
        assert!(!check(json!({"k".repeat(41): "v"})));
        assert!(!check(json!({"": "v"})));
        assert!(!check(json!({"k": "v".repeat(501)})));
        assert!(!check(json!({"k": 1})));
        assert!(!check(json!({"k": null})));
        assert!(!check(json!(["k"])));
    }
}
