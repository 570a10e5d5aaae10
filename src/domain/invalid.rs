//! The field-level complaints that a 422 answer lists.

use serde::Serialize;

/// One invalid input field, named with dots for nesting (`address.country`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InvalidField {
    pub field: String,
    pub message: String,
}

/// Collects every complaint about one request so that all are reported at once.
#[derive(Debug, Default)]
pub struct InvalidFields(Vec<InvalidField>);

impl InvalidFields {
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(InvalidField {
            field: field.into(),
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
