//! First and last names.

use serde_json::{Value, json};

use super::text::{trimmed_line, trimmed_line_pattern};

/// A person's first or last name: trimmed, 1..=45 characters of any script,
/// no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 45;

    pub fn parse(raw: &str) -> Result<Self, String> {
        trimmed_line(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn schema() -> Value {
        let max = Self::MAX_CHARS;
        json!({"type": "string", "pattern": trimmed_line_pattern(max),
               "description": format!("Trimmed, 1 to {max} characters of any script, no control characters.")})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_accepts_any_script() {
        assert_eq!(PersonName::parse("  Jane ").unwrap().as_str(), "Jane");
        assert_eq!(PersonName::parse("Émile").unwrap().as_str(), "Émile");
        assert_eq!(PersonName::parse("山田").unwrap().as_str(), "山田");
        assert!(PersonName::parse(&"é".repeat(PersonName::MAX_CHARS)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_control() {
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse("").is_err());
        assert!(PersonName::parse(&"a".repeat(PersonName::MAX_CHARS + 1)).is_err());
        assert!(PersonName::parse("Ja\u{0}ne").is_err());
        assert!(PersonName::parse("Ja\nne").is_err());
    }
}
