//! Language and country codes, checked against the real ISO lists that the
//! `isolang` and `isocountry` crates carry.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// An ISO 639-1 language code, stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageCode(String);

impl LanguageCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.to_ascii_lowercase();
        match isolang::Language::from_639_1(&code) {
            Some(_) if code.len() == 2 => Ok(Self(code)),
            _ => Err("must be an ISO 639-1 language code".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn schema() -> Value {
        let codes = isolang::languages().filter_map(|l| l.to_639_1());
        json!({"type": "string", "pattern": codes_pattern(codes), "examples": ["en"],
               "description": "ISO 639-1, any case; stored lowercase."})
    }
}

/// An ISO 3166-1 alpha-2 country code, stored uppercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.to_ascii_uppercase();
        match isocountry::CountryCode::for_alpha2(&code) {
            Ok(_) => Ok(Self(code)),
            Err(_) => Err("must be an ISO 3166-1 alpha-2 code".into()),
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn schema() -> Value {
        let codes = isocountry::CountryCode::iter().map(|c| c.alpha2());
        json!({"type": "string", "pattern": codes_pattern(codes), "examples": ["US"],
               "description": "ISO 3166-1 alpha-2, any case; stored uppercase."})
    }
}

/// A case-insensitive pattern matching exactly `codes` (two letters each),
/// one alternative per first letter: `[Ee][NnSs]|…`.
fn codes_pattern<'a>(codes: impl Iterator<Item = &'a str>) -> String {
    let mut by_first: BTreeMap<char, Vec<char>> = BTreeMap::new();
    for code in codes {
        let mut letters = code.chars().map(|c| c.to_ascii_uppercase());
        if let (Some(first), Some(second)) = (letters.next(), letters.next()) {
            by_first.entry(first).or_default().push(second);
        }
    }
    let both = |c: char| format!("{c}{}", c.to_ascii_lowercase());
    let alternatives: Vec<String> = by_first
        .into_iter()
        .map(|(first, seconds)| {
            let class: String = seconds.into_iter().map(both).collect();
            format!("[{}][{class}]", both(first))
        })
        .collect();
    format!("^(?:{})$", alternatives.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::tests::matches;

    #[test]
    fn languages() {
        assert_eq!(LanguageCode::parse("EN").unwrap().as_str(), "en");
        assert_eq!(LanguageCode::parse("fr").unwrap().as_str(), "fr");
        assert_eq!(LanguageCode::parse("zu").unwrap().as_str(), "zu");
        for bad in ["xx", "eng", "e", "", "e1", "é"] {
            assert!(LanguageCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn countries() {
        assert_eq!(CountryCode::parse("us").unwrap().into_inner(), "US");
        assert_eq!(CountryCode::parse("De").unwrap().into_inner(), "DE");
        for bad in ["XX", "USA", "U", "", "ZZ"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_patterns_accept_exactly_what_the_parsers_accept() {
        let pattern = |schema: Value| schema["pattern"].as_str().unwrap().to_owned();
        let (languages, countries) = (
            pattern(LanguageCode::schema()),
            pattern(CountryCode::schema()),
        );
        for first in 'a'..='z' {
            for second in 'a'..='z' {
                let lower = format!("{first}{second}");
                for code in [
                    lower.clone(),
                    lower.to_uppercase(),
                    format!("{first}{}", second.to_ascii_uppercase()),
                ] {
                    assert_eq!(
                        matches(&languages, &code),
                        LanguageCode::parse(&code).is_ok(),
                        "{code}"
                    );
                    assert_eq!(
                        matches(&countries, &code),
                        CountryCode::parse(&code).is_ok(),
                        "{code}"
                    );
                }
            }
        }
        assert!(!matches(&languages, "eng") && !matches(&countries, "USA"));
    }
}
