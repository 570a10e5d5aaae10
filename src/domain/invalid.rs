//! The field-level complaints that a 422 answer lists.

use serde::{Deserialize, Serialize};

/// One invalid input field, named with dots for nesting (`address.country`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InvalidField {
    pub field: String,
    pub message: String,
}

/// Collects the complaints about one request so that they are reported at
/// once: the first [`InvalidFields::MAX`], each naming its field in at most
/// [`InvalidFields::MAX_NAME_CHARS`] characters, so that no request buys an
/// answer larger than it is (names come from the client).
#[derive(Debug, Default)]
pub struct InvalidFields(Vec<InvalidField>);

impl InvalidFields {
    pub const MAX: usize = 20;
    pub const MAX_NAME_CHARS: usize = 64;

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        if self.0.len() == Self::MAX {
            return;
        }
        let mut field = field.into();
        if let Some((cut, _)) = field.char_indices().nth(Self::MAX_NAME_CHARS) {
            field.truncate(cut);
            field.push('…');
        }
        self.0.push(InvalidField {
            field,
            message: message.into(),
        });
    }

    /// `Ok(value)` when nothing was pushed, else every complaint.
    pub fn into_result<T>(self, value: T) -> Result<T, Vec<InvalidField>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

impl InvalidFields {
    /// Parses a JSON value that must be a string or null: `Some(None)` for
    /// null, `Some(Some(v))` for a valid string, `None` (with a complaint
    /// recorded) for anything else.
    pub fn nullable_text<T, E: Into<String>>(
        &mut self,
        field: &str,
        value: &serde_json::Value,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        match value {
            serde_json::Value::Null => Some(None),
            serde_json::Value::String(text) => match parse(text) {
                Ok(parsed) => Some(Some(parsed)),
                Err(message) => {
                    self.push(field, message);
                    None
                }
            },
            _ => {
                self.push(field, "must be a string or null");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complaints_are_bounded() {
        let mut fields = InvalidFields::default();
        for n in 0..100 {
            fields.push(format!("{n}{}", "é".repeat(1000)), "unknown field");
        }
        let fields = fields.into_result(()).unwrap_err();
        assert_eq!(fields.len(), InvalidFields::MAX);
        assert_eq!(
            fields[0].field.chars().count(),
            InvalidFields::MAX_NAME_CHARS + 1
        );
        assert!(fields[0].field.ends_with('…'));
    }
}
