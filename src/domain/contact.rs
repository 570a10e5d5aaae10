//! Email addresses and phone numbers.

use serde_json::{Value, json};
use validator::ValidateEmail;

/// A syntactically valid email address of at most 254 characters, trimmed.
/// Case is kept as sent; comparisons use [`fold_case`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if !trimmed.validate_email() {
            return Err("must be a valid email address".into());
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn schema() -> Value {
        json!({"type": "string", "format": "email", "maxLength": Self::MAX_CHARS,
               "description": "Trimmed; case is kept, and compared case-insensitively."})
    }
}

/// The case-insensitive form of an email, used for the exact-email filter
/// and for search.
pub fn fold_case(text: &str) -> String {
    text.trim().to_lowercase()
}

/// An E.164 phone number in canonical form (`+15550100`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// The rule, separators included: `+`, a non-zero digit, 7..=15 digits.
    pub const PATTERN: &str = r"^[ .()-]*\+[ .()-]*[1-9](?:[ .()-]*[0-9]){6,14}[ .()-]*$";
    const RULE: &str = "must be an E.164 number: +, then 7 to 15 digits, the first not 0";

    /// Accepts E.164 once spaces, dots, dashes and parentheses are removed:
    /// `+`, a non-zero digit, 7..=15 digits in all. The `phonenumber` crate's
    /// numbering-plan check is deliberately not used: it rejects numbers the
    /// contract accepts, such as the fictional `+1-555-0100`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let compact: String = raw.chars().filter(|c| !is_separator(*c)).collect();
        let Some(digits) = compact.strip_prefix('+') else {
            return Err(Self::RULE.into());
        };
        let well_formed = (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        match well_formed {
            true => Ok(Self(compact)),
            false => Err(Self::RULE.into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn schema() -> Value {
        json!({"type": "string", "pattern": Self::PATTERN, "examples": ["+1-555-0100"],
               "description": "E.164 once spaces, dots, dashes and parentheses are removed; stored canonical (+15550100)."})
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '(' | ')')
}

/// The digits of a phone number or of a search term written like one
/// (`+1 (555) 01` -> `155501`); `None` when anything else is in it.
pub fn phone_digits(text: &str) -> Option<String> {
    let digits: String = text
        .chars()
        .filter(|c| !is_separator(*c) && *c != '+')
        .collect();
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::tests::matches;

    #[test]
    fn email_is_trimmed_and_bounded() {
        assert_eq!(
            Email::parse(" Jane.Doe@Example.com ").unwrap().as_str(),
            "Jane.Doe@Example.com"
        );
        assert!(Email::parse("jane").is_err());
        assert!(Email::parse("jane@").is_err());
        assert!(Email::parse("@example.com").is_err());
        let local = "a".repeat(64);
        let long = format!("{local}@{}.com", vec!["b".repeat(60); 3].join("."));
        assert!(long.len() <= Email::MAX_CHARS && Email::parse(&long).is_ok());
        let too_long = format!("{local}@{}.com", vec!["b".repeat(60); 4].join("."));
        assert!(too_long.len() > Email::MAX_CHARS && Email::parse(&too_long).is_err());
    }

    #[test]
    fn phone_is_canonicalised() {
        let parse = |s| PhoneNumber::parse(s).map(|p| p.as_str().to_owned());
        assert_eq!(parse("+1-555-0100"), Ok("+15550100".into()));
        assert_eq!(parse("+44 (20) 7946.0958"), Ok("+442079460958".into()));
        assert_eq!(parse("+1234567"), Ok("+1234567".into()));
        assert_eq!(parse("+123456789012345"), Ok("+123456789012345".into()));
    }

    #[test]
    fn phone_rejects_non_e164() {
        for bad in [
            "15550100",
            "+0555010",
            "+123456",
            "+1234567890123456",
            "+1 555 01OO",
            "++15550100",
            "+1_555_0100",
            "+",
            "",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_phone_pattern_states_the_parser() {
        for text in [
            "+1-555-0100",
            "+1 (555) 010-0",
            "+44 (20) 7946.0958",
            "+1234567",
            "+123456789012345",
            "15550100",
            "+0555010",
            "+123456",
            "+1234567890123456",
            "++15550100",
            "+1_555_0100",
            " + 1 2 3 4 5 6 7 ",
        ] {
            assert_eq!(
                matches(PhoneNumber::PATTERN, text),
                PhoneNumber::parse(text).is_ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn digits_of_search_terms() {
        assert_eq!(phone_digits("+1 (555) 01"), Some("155501".into()));
        assert_eq!(phone_digits("555-0100"), Some("5550100".into()));
        assert_eq!(phone_digits("jane"), None);
        assert_eq!(phone_digits("+"), None);
    }
}
