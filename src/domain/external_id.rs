//! The merchant's own reference for a customer.

use serde_json::{Value, json};

/// 1..=128 visible ASCII characters, kept exactly as sent (case-sensitive,
/// not trimmed). Unique among an organization's live customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalId(String);

impl ExternalId {
    pub const MAX_CHARS: usize = 128;
    const PATTERN: &str = "^[!-~]{1,128}$";

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

    pub fn schema() -> Value {
        json!({"type": "string", "pattern": Self::PATTERN, "examples": ["crm-000042"],
               "description": "The merchant's own reference: 1 to 128 visible ASCII characters, kept exactly; unique among the organization's live customers."})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::tests::matches;

    #[test]
    fn kept_exactly_and_bounded() {
        assert_eq!(ExternalId::parse("CRM-42").unwrap().as_str(), "CRM-42");
        for bad in ["", " CRM-42", "CRM 42", "é", "a\u{7f}"] {
            assert!(ExternalId::parse(bad).is_err(), "{bad:?}");
        }
        let longest = "x".repeat(ExternalId::MAX_CHARS);
        assert!(ExternalId::parse(&longest).is_ok());
        assert!(ExternalId::parse(&format!("{longest}x")).is_err());
    }

    #[test]
    fn the_pattern_states_the_parser() {
        let longest = "~".repeat(ExternalId::MAX_CHARS);
        for text in [
            "!",
            "CRM-42",
            "",
            " a",
            "a b",
            "é",
            longest.as_str(),
            &format!("{longest}!"),
        ] {
            assert_eq!(
                matches(ExternalId::PATTERN, text),
                ExternalId::parse(text).is_ok(),
                "{text:?}"
            );
        }
    }
}
