//! The rules for free text that several fields share, and the JSON Schema
//! patterns that state them for the OpenAPI document. A rule and its
//! pattern live side by side so that they cannot drift apart.

/// Unicode White_Space: what `str::trim` removes.
const SPACE: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// C0 and C1 controls (Unicode Cc).
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// A line of text: trimmed, 1..=`max` characters, no control characters
/// (names, search terms).
pub fn trimmed_line(raw: &str, max: usize) -> Result<String, String> {
    let trimmed = raw.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > max {
        return Err(format!("must be 1 to {max} characters after trimming"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(trimmed.to_owned())
}

/// The pattern of [`trimmed_line`].
pub fn trimmed_line_pattern(max: usize) -> String {
    let inner = format!("[^{CONTROL}]");
    let edge = format!("[^{CONTROL}{SPACE}]");
    let middle = max.saturating_sub(2);
    format!("^[{SPACE}]*{edge}(?:{inner}{{0,{middle}}}{edge})?[{SPACE}]*$")
}

/// Free text: at most `max` characters and no NUL, which PostgreSQL cannot
/// store in text (address lines after trimming, metadata).
pub fn bounded_text(raw: &str, max: usize) -> Result<String, String> {
    if raw.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    if raw.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(raw.to_owned())
}

/// The pattern of [`bounded_text`] on untrimmed text.
pub fn bounded_text_pattern(max: usize) -> String {
    format!("^[^\\x00]{{0,{max}}}$")
}

/// The pattern of [`bounded_text`] applied after trimming: at most `max`
/// characters once trimmed (possibly none), no NUL.
pub fn trimmed_bounded_pattern(max: usize) -> String {
    let middle = max.saturating_sub(2);
    format!("^[{SPACE}]*(?:[^\\x00{SPACE}](?:[^\\x00]{{0,{middle}}}[^\\x00{SPACE}])?)?[{SPACE}]*$")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Whether the JSON Schema `pattern` matches `text`, by a real regex
    /// engine with the same (ECMA-compatible here) syntax.
    pub fn matches(pattern: &str, text: &str) -> bool {
        regex_lite::Regex::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn trimmed_lines_and_their_pattern_agree() {
        let pattern = trimmed_line_pattern(5);
        for text in [
            "a", " abcde ", "\tab c\n", "", "   ", "abcdef", "a\u{7}b", "é山", "a\u{0}",
        ] {
            assert_eq!(
                matches(&pattern, text),
                trimmed_line(text, 5).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn bounded_text_and_its_patterns_agree() {
        let untrimmed = bounded_text_pattern(3);
        let trimmed = trimmed_bounded_pattern(3);
        for text in ["", "abc", "abcd", "a\u{0}", "  abc  ", " ab cd "] {
            assert_eq!(
                matches(&untrimmed, text),
                bounded_text(text, 3).is_ok(),
                "{text:?}"
            );
            assert_eq!(
                matches(&trimmed, text),
                bounded_text(text.trim(), 3).is_ok(),
                "{text:?}"
            );
        }
    }
}
