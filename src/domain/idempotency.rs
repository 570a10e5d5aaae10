//! Safe retries: the `Idempotency-Key` a client sends, and the fingerprint
//! of the request it names.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// 1..=255 visible ASCII characters, scoped to the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_CHARS: usize = 255;
    pub const HEADER: &str = "Idempotency-Key";

    pub fn parse(raw: &str) -> Result<Self, String> {
        let visible = raw.bytes().all(|b| b.is_ascii_graphic());
        match (1..=Self::MAX_CHARS).contains(&raw.len()) && visible {
            true => Ok(Self(raw.to_owned())),
            false => Err(format!(
                "must be 1 to {} visible ASCII characters",
                Self::MAX_CHARS
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What makes two requests with one key the same request: the method, the
/// path, and the body as JSON (key order and whitespace do not matter:
/// `serde_json`'s map keeps its keys sorted).
pub fn fingerprint(method: &str, path: &str, body: Option<&Map<String, Value>>) -> String {
    let mut digest = Sha256::new();
    for part in [method, "\n", path, "\n"] {
        digest.update(part.as_bytes());
    }
    if let Some(body) = body {
        digest.update(Value::Object(body.clone()).to_string().as_bytes());
    }
    digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_visible_ascii() {
        assert!(IdempotencyKey::parse("order-17/attempt").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(IdempotencyKey::MAX_CHARS)).is_ok());
        for bad in [
            String::new(),
            "a b".into(),
            "é".into(),
            "k".repeat(IdempotencyKey::MAX_CHARS + 1),
        ] {
            assert!(IdempotencyKey::parse(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_fingerprint_ignores_key_order_and_whitespace() {
        let a: Map<String, Value> =
            serde_json::from_str(r#"{"a": 1, "b": {"c": [1, 2]}}"#).unwrap();
        let b: Map<String, Value> = serde_json::from_str(r#"{ "b":{"c":[1,2]},"a":1 }"#).unwrap();
        assert_eq!(
            fingerprint("POST", "/x", Some(&a)),
            fingerprint("POST", "/x", Some(&b))
        );
        assert_ne!(
            fingerprint("POST", "/x", Some(&a)),
            fingerprint("PUT", "/x", Some(&a))
        );
        assert_ne!(
            fingerprint("POST", "/x", Some(&a)),
            fingerprint("POST", "/y", Some(&a))
        );
        let other = json!({"a": 2}).as_object().unwrap().clone();
        assert_ne!(
            fingerprint("POST", "/x", Some(&a)),
            fingerprint("POST", "/x", Some(&other))
        );
        assert_ne!(
            fingerprint("DELETE", "/x", None),
            fingerprint("DELETE", "/x", Some(&Map::new()))
        );
    }
}
