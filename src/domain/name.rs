//! First and last names.

/// A person's first or last name: trimmed, 1..=45 characters of any script,
/// no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PersonName {
    pub const MAX_CHARS: usize = 45;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS {
            return Err("must be 1 to 45 characters after trimming");
        }
        if trimmed.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_accepts_any_script() {
        assert_eq!(PersonName::parse("  Jane ").unwrap().into_inner(), "Jane");
        assert_eq!(PersonName::parse("Émile").unwrap().into_inner(), "Émile");
        assert_eq!(PersonName::parse("山田").unwrap().into_inner(), "山田");
        assert!(PersonName::parse(&"é".repeat(45)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_control() {
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse("").is_err());
        assert!(PersonName::parse(&"a".repeat(46)).is_err());
        assert!(PersonName::parse("Ja\u{0}ne").is_err());
        assert!(PersonName::parse("Ja\nne").is_err());
    }
}
