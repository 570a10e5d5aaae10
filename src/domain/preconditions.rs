//! Revisions as entity tags (RFC 9110): `ETag: "<revision>"`, and the
//! `If-Match` and `If-None-Match` lists clients send.

/// One entity tag of a list: `"3"` or `W/"3"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    weak: bool,
    opaque: String,
}

/// What an `If-Match` or `If-None-Match` header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `*`: any current representation.
    Any,
    Tags(Vec<EntityTag>),
}

/// The entity tag of a revision: a strong validator.
pub fn etag(revision: i32) -> String {
    format!("\"{revision}\"")
}

impl Condition {
    /// What [`Condition::parse`] accepts, as the document's pattern: one
    /// entity tag's opaque part is visible ASCII but `"` and `,`.
    pub const PATTERN: &'static str = r#"^[ \t]*(\*|[, \t]*((W/)?"[!#-+.-~-]*"([ \t]*,[, \t]*(W/)?"[!#-+.-~-]*")*)?[, \t]*)[ \t]*$"#;

    /// Parses a header value: `*`, or a comma-separated list of entity
    /// tags (RFC 9110's `#entity-tag`: empty elements and an empty list
    /// are allowed, and an empty list matches nothing); `None` when it is
    /// neither.
    pub fn parse(header: &str) -> Option<Self> {
        let header = header.trim();
        if header == "*" {
            return Some(Self::Any);
        }
        let tags: Option<Vec<EntityTag>> = header
            .split(',')
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
            .map(|tag| {
                let (weak, quoted) = match tag.strip_prefix("W/") {
                    Some(rest) => (true, rest),
                    None => (false, tag),
                };
                let opaque = quoted.strip_prefix('"')?.strip_suffix('"')?;
                let valid = !opaque.contains('"')
                    && opaque.bytes().all(|b| b == 0x21 || b >= 0x23 && b != 0x7f);
                valid.then(|| EntityTag {
                    weak,
                    opaque: opaque.to_owned(),
                })
            })
            .collect();
        tags.map(Self::Tags)
    }

    /// `If-Match`: strong comparison, so a weak tag never matches.
    pub fn matches_strongly(&self, revision: i32) -> bool {
        let current = revision.to_string();
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags.iter().any(|tag| !tag.weak && tag.opaque == current),
        }
    }

    /// `If-None-Match`: weak comparison, so `W/"3"` matches revision 3.
    pub fn matches_weakly(&self, revision: i32) -> bool {
        let current = revision.to_string();
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags.iter().any(|tag| tag.opaque == current),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_and_weak_comparison() {
        let list = Condition::parse(r#""1", W/"3" ,"7""#).unwrap();
        assert!(list.matches_strongly(1) && list.matches_strongly(7));
        assert!(
            !list.matches_strongly(3),
            "a weak tag never matches If-Match"
        );
        assert!(list.matches_weakly(3) && list.matches_weakly(1));
        assert!(!list.matches_weakly(2));
        assert!(Condition::parse("*").unwrap().matches_strongly(42));
        assert_eq!(etag(3), "\"3\"");
    }

    #[test]
    fn the_pattern_states_the_parser() {
        let pattern = regex_lite::Regex::new(Condition::PATTERN).unwrap();
        for text in [
            "*",
            " * ",
            "",
            ",",
            " , ,",
            "\"3\"",
            "W/\"3\"",
            "\"1\", W/\"3\" ,\"7\"",
            ",\"1\",,",
            "\"\"",
            "\"a-b.c~!#\"",
            "3",
            "\"3",
            "W/3",
            "w/\"3\"",
            "W/ \"3\"",
            "\"3\"\"",
            ",",
            "\"a b\"",
            "\"a,b\"",
            "\"1\"\"2\"",
            "*,\"1\"",
            "**",
            "\t\"3\"\t",
        ] {
            assert_eq!(
                pattern.is_match(text),
                Condition::parse(text).is_some(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn malformed_headers() {
        for bad in ["3", "\"3", "W/3", "\"3\"\"", "\"a b\""] {
            assert_eq!(Condition::parse(bad), None, "{bad:?}");
        }
    }
}
