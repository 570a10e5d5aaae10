//! Language and country codes, checked against the real ISO lists that the
//! `isolang` and `isocountry` crates carry.

/// An ISO 639-1 language code, stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageCode(String);

impl AsRef<str> for LanguageCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl LanguageCode {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let code = raw.to_ascii_lowercase();
        match isolang::Language::from_639_1(&code) {
            Some(_) if code.len() == 2 => Ok(Self(code)),
            _ => Err("must be an ISO 639-1 language code"),
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An ISO 3166-1 alpha-2 country code, stored uppercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(String);

impl AsRef<str> for CountryCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let code = raw.to_ascii_uppercase();
        match isocountry::CountryCode::for_alpha2(&code) {
            Ok(_) => Ok(Self(code)),
            Err(_) => Err("must be an ISO 3166-1 alpha-2 code"),
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages() {
        assert_eq!(LanguageCode::parse("EN").unwrap().into_inner(), "en");
        assert_eq!(LanguageCode::parse("fr").unwrap().into_inner(), "fr");
        assert_eq!(LanguageCode::parse("zu").unwrap().into_inner(), "zu");
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
}
