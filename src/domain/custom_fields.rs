//! Custom fields (contract section 10): an organization defines named,
//! typed fields; each customer holds values of them.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::change::Change;
use super::invalid::{InvalidField, InvalidFields};
use super::refusal::Refusal;
use super::schema::whole_number;
use super::text::{bounded_text, bounded_text_pattern};
use super::time::Time;

/// At most this many definitions per organization.
pub const MAX_DEFINITIONS: i64 = 50;
/// A create beyond [`MAX_DEFINITIONS`].
pub const TOO_MANY_DEFINITIONS: Refusal =
    Refusal::LimitReached("An organization has at most 50 custom fields; delete one first.");
/// A create naming a definition that exists.
pub const NAME_TAKEN: Refusal =
    Refusal::NameTaken("A custom field of this name exists; nothing was changed.");
pub const MAX_STRING_LENGTH: i64 = 500;
pub const MAX_ALLOWED_VALUES: usize = 100;
pub const MAX_ALLOWED_VALUE_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
const NAME_PATTERN: &str = "^[A-Za-z][A-Za-z0-9_]{0,39}$";

/// A field's name: a letter, then up to 39 letters, digits or underscores.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FieldName(String);

impl FieldName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut chars = raw.chars();
        let first_is_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        match first_is_letter && rest_ok && raw.len() <= 40 {
            true => Ok(Self(raw.to_owned())),
            false => Err("must be a letter then up to 39 letters, digits or underscores".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn schema() -> Value {
        json!({"type": "string", "pattern": NAME_PATTERN, "examples": ["loyaltyTier"]})
    }
}

/// What values of a field may be.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    String { max_length: i64 },
    Integer,
    Number,
    Boolean,
    Date,
    Datetime,
    Enum { allowed_values: Vec<String> },
}

impl FieldType {
    pub const NAMES: [&'static str; 7] = [
        "string", "integer", "number", "boolean", "date", "datetime", "enum",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            Self::String { .. } => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Datetime => "datetime",
            Self::Enum { .. } => "enum",
        }
    }

    /// As stored: the type's name, `max_length` and the allowed values.
    pub fn from_stored(name: &str, max_length: Option<i32>, allowed: Option<&str>) -> Option<Self> {
        Some(match name {
            "string" => Self::String {
                max_length: max_length.map_or(MAX_STRING_LENGTH, i64::from),
            },
            "integer" => Self::Integer,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            "date" => Self::Date,
            "datetime" => Self::Datetime,
            "enum" => Self::Enum {
                allowed_values: serde_json::from_str(allowed?).ok()?,
            },
            _ => return None,
        })
    }

    pub fn max_length(&self) -> Option<i32> {
        match self {
            Self::String { max_length } => i32::try_from(*max_length).ok(),
            _ => None,
        }
    }

    pub fn allowed_values_stored(&self) -> Option<String> {
        match self {
            Self::Enum { allowed_values } => serde_json::to_string(allowed_values).ok(),
            _ => None,
        }
    }

    /// A value of this type from JSON; the message says why not.
    fn value(&self, value: &Value) -> Result<CustomValue, String> {
        match (self, value) {
            (Self::String { max_length }, Value::String(text)) => {
                let text = bounded_text(text, *max_length as usize)?;
                Ok(CustomValue::Text(text))
            }
            (Self::Enum { allowed_values }, Value::String(text)) => {
                match allowed_values.contains(text) {
                    true => Ok(CustomValue::Text(text.clone())),
                    false => Err(format!("must be one of {}", allowed_values.join(", "))),
                }
            }
            (Self::Integer, Value::Number(_)) => whole_number(value)
                .map(CustomValue::Integer)
                .ok_or_else(|| self.expected().into()),
            (Self::Number, Value::Number(n)) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map(CustomValue::Number)
                .ok_or_else(|| "must be a finite number".into()),
            (Self::Boolean, Value::Bool(b)) => Ok(CustomValue::Boolean(*b)),
            (Self::Date | Self::Datetime, Value::String(text)) => self.text_value(text),
            _ => Err(self.expected().into()),
        }
    }

    /// A value of this type from text (a query parameter): numbers and
    /// booleans spelled as in JSON.
    fn text_value(&self, raw: &str) -> Result<CustomValue, String> {
        let refused = || self.expected().to_owned();
        match self {
            Self::String { .. } | Self::Enum { .. } => self.value(&Value::String(raw.to_owned())),
            Self::Integer => raw.parse().map(CustomValue::Integer).map_err(|_| refused()),
            Self::Number => match raw.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(CustomValue::Number(f)),
                _ => Err(refused()),
            },
            Self::Boolean => match raw {
                "true" => Ok(CustomValue::Boolean(true)),
                "false" => Ok(CustomValue::Boolean(false)),
                _ => Err(refused()),
            },
            Self::Date => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .filter(|_| raw.len() == 10)
                .map(CustomValue::Date)
                .ok_or_else(refused),
            Self::Datetime => DateTime::parse_from_rfc3339(raw)
                .map(|t| CustomValue::Datetime(Time::from_utc_within_4_digit_years(t.to_utc())))
                .map_err(|_| refused()),
        }
    }

    fn expected(&self) -> &'static str {
        match self {
            Self::String { .. } | Self::Enum { .. } => "must be a string",
            Self::Integer => "must be a 64-bit integer",
            Self::Number => "must be a number",
            Self::Boolean => "must be true or false",
            Self::Date => "must be a date, YYYY-MM-DD",
            Self::Datetime => "must be an RFC 3339 time, such as 2026-11-22T10:00:00Z",
        }
    }
}

/// One definition, as answers show it.
#[derive(Debug, Clone)]
pub struct Definition {
    pub name: FieldName,
    pub kind: FieldType,
    pub description: Option<String>,
    pub created_time: Time,
    pub updated_time: Time,
}

impl Definition {
    /// `{"name", "type", "maxLength"?, "allowedValues"?, "description", "createdTime"}`.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "name": self.name.as_str(),
            "type": self.kind.name(),
            "description": self.description,
            "createdTime": self.created_time,
            "updatedTime": self.updated_time,
        });
        match &self.kind {
            FieldType::String { max_length } => body["maxLength"] = json!(max_length),
            FieldType::Enum { allowed_values } => body["allowedValues"] = json!(allowed_values),
            _ => {}
        }
        body
    }
}

impl Definition {
    /// The JSON Schema of a definition in answers.
    pub fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["name", "type", "description", "createdTime", "updatedTime"],
            "properties": {
                "name": FieldName::schema(),
                "type": {"type": "string", "enum": FieldType::NAMES},
                "maxLength": {"type": "integer", "description": "string fields only."},
                "allowedValues": {"type": "array", "items": {"type": "string"}, "description": "enum fields only."},
                "description": {"type": ["string", "null"]},
                "createdTime": {"type": "string", "format": "date-time"},
                "updatedTime": {"type": "string", "format": "date-time"},
            },
        })
    }
}

/// An organization's definitions.
#[derive(Debug, Clone, Default)]
pub struct Definitions(BTreeMap<String, Definition>);

impl Definitions {
    pub fn new(definitions: impl IntoIterator<Item = Definition>) -> Self {
        Self(
            definitions
                .into_iter()
                .map(|d| (d.name.as_str().to_owned(), d))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&Definition> {
        self.0.get(name)
    }

    /// Every definition, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Definition> {
        self.0.values()
    }

    /// The JSON value of custom field `name` that a form's text `raw`
    /// stands for (a console input): `raw` read as the field's type, as a
    /// list filter reads it.
    pub fn form_value(&self, name: &str, raw: &str) -> Result<Value, InvalidField> {
        let complaint = |message: String| InvalidField {
            field: format!("customFields.{name}"),
            message,
        };
        let definition = self
            .get(name)
            .ok_or_else(|| complaint("no custom field has this name".into()))?;
        definition
            .kind
            .text_value(raw)
            .map(|value| value.to_json())
            .map_err(complaint)
    }

    /// The canonical text a list filter `customFields.<name>=<raw>` looks
    /// for: `raw` read as the field's type.
    pub fn filter_value(&self, name: &str, raw: &str) -> Result<String, InvalidField> {
        let complaint = |message: String| InvalidField {
            field: format!("customFields.{name}"),
            message,
        };
        let definition = self
            .get(name)
            .ok_or_else(|| complaint("no custom field has this name".into()))?;
        definition
            .kind
            .text_value(raw)
            .map(|value| value.canonical())
            .map_err(complaint)
    }
}

/// A value of a custom field.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomValue {
    Text(String),
    Integer(i64),
    Number(f64),
    Boolean(bool),
    Date(NaiveDate),
    Datetime(Time),
}

impl CustomValue {
    fn to_json(&self) -> Value {
        match self {
            Self::Text(text) => json!(text),
            Self::Integer(n) => json!(n),
            Self::Number(f) => json!(f),
            Self::Boolean(b) => json!(b),
            Self::Date(_) | Self::Datetime(_) => json!(self.canonical()),
        }
    }

    /// A text that is equal for equal values of one type: what the filter
    /// compares.
    pub fn canonical(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Integer(n) => n.to_string(),
            // Rust prints the shortest text that reads back as the same
            // number; -0 is 0.
            Self::Number(f) if *f == 0.0 => "0".into(),
            Self::Number(f) => f.to_string(),
            Self::Boolean(b) => b.to_string(),
            Self::Date(date) => date.format("%Y-%m-%d").to_string(),
            Self::Datetime(time) => time.to_rfc3339(),
        }
    }
}

/// A customer's custom-field values, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomFieldValues(BTreeMap<String, CustomValue>);

impl CustomFieldValues {
    /// Parses the value of `customFields` (an object) against the
    /// organization's definitions; complaints are named
    /// `customFields.<name>`.
    pub fn parse(
        field: &str,
        value: &Value,
        definitions: &Definitions,
        errors: &mut InvalidFields,
    ) -> Option<Self> {
        let Value::Object(entries) = value else {
            errors.push(field, "must be an object or null");
            return None;
        };
        let mut values = BTreeMap::new();
        let mut valid = true;
        for (name, value) in entries {
            let entry = format!("{field}.{name}");
            let parsed = match definitions.get(name) {
                Some(definition) => definition.kind.value(value),
                None => Err("no custom field has this name".into()),
            };
            match parsed {
                Ok(value) => {
                    values.insert(name.clone(), value);
                }
                Err(message) => {
                    errors.push(entry, message);
                    valid = false;
                }
            }
        }
        valid.then_some(Self(values))
    }

    /// The JSON text stored (what answers show), or nothing when empty.
    pub fn to_stored(&self) -> Option<String> {
        match self.0.is_empty() {
            true => None,
            false => {
                let object: Map<String, Value> = self
                    .0
                    .iter()
                    .map(|(name, value)| (name.clone(), value.to_json()))
                    .collect();
                Some(Value::Object(object).to_string())
            }
        }
    }

    /// What the filter looks up: each field's name and canonical value.
    pub fn index_entries(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(name, value)| (name.clone(), value.canonical()))
            .collect()
    }

    pub fn schema() -> Value {
        json!({"type": "object", "additionalProperties": {"type": ["string", "number", "integer", "boolean"]},
               "description": "Defined names (see /custom-fields) to values of the defined type: strings, numbers, integers, booleans, dates (YYYY-MM-DD) and datetimes (RFC 3339, answered in UTC with milliseconds). Replaced whole by PUT; null when it holds none.",
               "examples": [{"loyaltyTier": "gold", "visits": 3}]})
    }
}

/// A definition a POST asks for.
#[derive(Debug, Clone)]
pub struct NewDefinition {
    pub name: FieldName,
    pub kind: FieldType,
    pub description: Option<String>,
}

impl NewDefinition {
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, Vec<InvalidField>> {
        let mut errors = InvalidFields::default();
        let name = match body.get("name").map(|v| v.as_str().map(FieldName::parse)) {
            Some(Some(Ok(name))) => Some(name),
            Some(Some(Err(message))) => {
                errors.push("name", message);
                None
            }
            Some(None) => {
                errors.push("name", "must be a string");
                None
            }
            None => {
                errors.push("name", "is required");
                None
            }
        };
        let type_name = match body.get("type").and_then(Value::as_str) {
            Some(name) if FieldType::NAMES.contains(&name) => Some(name),
            Some(_) => {
                errors.push(
                    "type",
                    format!("must be one of {}", FieldType::NAMES.join(", ")),
                );
                None
            }
            None if body.contains_key("type") => {
                errors.push("type", "must be a string");
                None
            }
            None => {
                errors.push("type", "is required");
                None
            }
        };
        let max_length = parse_max_length(body, &mut errors);
        let allowed = parse_allowed_values(body, &mut errors);
        let description = parse_description(body, &mut errors);
        for key in body.keys() {
            if !["name", "type", "maxLength", "allowedValues", "description"]
                .contains(&key.as_str())
            {
                let message = match key.as_str() {
                    "createdTime" | "updatedTime" => "is read-only",
                    _ => "unknown field",
                };
                errors.push(key.as_str(), message);
            }
        }
        let kind = match type_name {
            Some("string") => {
                if body.contains_key("allowedValues") {
                    errors.push("allowedValues", "is for enum fields only");
                }
                Some(FieldType::String {
                    max_length: max_length.flatten().unwrap_or(MAX_STRING_LENGTH),
                })
            }
            Some("enum") => {
                if body.contains_key("maxLength") {
                    errors.push("maxLength", "is for string fields only");
                }
                match allowed {
                    Some(Some(allowed_values)) => Some(FieldType::Enum { allowed_values }),
                    Some(None) => None,
                    None => {
                        errors.push("allowedValues", "is required for enum fields");
                        None
                    }
                }
            }
            Some(other) => {
                for option in ["maxLength", "allowedValues"] {
                    if body.contains_key(option) {
                        errors.push(option, format!("is not an option of {other} fields"));
                    }
                }
                FieldType::from_stored(other, None, None)
            }
            None => None,
        };
        let description = match description {
            Some(Change::Set(text)) => text,
            _ => None,
        };
        match (name, kind) {
            (Some(name), Some(kind)) => errors.into_result(Self {
                name,
                kind,
                description,
            }),
            // Whatever made either missing was complained about.
            _ => Err(errors.into_result(()).err().unwrap_or_default()),
        }
    }

    pub fn schema() -> Value {
        json!({
            "type": "object", "additionalProperties": false, "required": ["name", "type"],
            "properties": {
                "name": FieldName::schema(),
                "type": {"type": "string", "enum": FieldType::NAMES},
                "maxLength": {"type": "integer", "minimum": 1, "maximum": MAX_STRING_LENGTH, "description": "string fields only (default 500)."},
                "allowedValues": allowed_values_schema(),
                "description": description_schema(),
            },
            "examples": [{"name": "loyaltyTier", "type": "enum", "allowedValues": ["gold", "silver"], "description": "The customer's tier."}],
        })
    }
}

/// What a PUT on a definition may change: the description, values added to
/// an enum's `allowedValues`, a string's `maxLength` raised.
#[derive(Debug, Clone)]
pub struct DefinitionChanges {
    pub description: Change<String>,
    pub kind: FieldType,
}

impl DefinitionChanges {
    /// Parses a PUT body against the current definition; anything it may
    /// not change is 422 naming it (sending an unchanged `name` or `type`
    /// is allowed).
    pub fn from_json(
        body: &Map<String, Value>,
        current: &Definition,
    ) -> Result<Self, Vec<InvalidField>> {
        let mut errors = InvalidFields::default();
        let description = parse_description(body, &mut errors).unwrap_or(Change::Keep);
        let max_length = parse_max_length(body, &mut errors);
        let allowed = parse_allowed_values(body, &mut errors);
        let mut kind = current.kind.clone();
        for (key, value) in body {
            match key.as_str() {
                "name" if value.as_str() != Some(current.name.as_str()) => {
                    errors.push("name", "cannot be changed")
                }
                "type" if value.as_str() != Some(current.kind.name()) => {
                    errors.push("type", "cannot be changed")
                }
                "name" | "type" | "description" | "maxLength" | "allowedValues" => {}
                "createdTime" | "updatedTime" => errors.push(key.as_str(), "is read-only"),
                _ => errors.push(key.as_str(), "unknown field"),
            }
        }
        match (&mut kind, max_length, allowed) {
            (FieldType::String { max_length: now }, Some(Some(new)), _) => match new >= *now {
                true => *now = new,
                false => errors.push("maxLength", format!("may only be raised (it is {now})")),
            },
            (FieldType::Enum { allowed_values }, _, Some(Some(new))) => {
                match allowed_values.iter().all(|v| new.contains(v)) {
                    true => *allowed_values = new,
                    false => errors.push(
                        "allowedValues",
                        "may only add values: every current value must stay",
                    ),
                }
            }
            (FieldType::String { .. }, _, Some(Some(_))) => {
                errors.push("allowedValues", "is for enum fields only")
            }
            (FieldType::Enum { .. }, Some(Some(_)), _) => {
                errors.push("maxLength", "is for string fields only")
            }
            // A value already refused by its parser is not named twice.
            (other, max, allowed) => {
                if let Some(Some(_)) = max {
                    errors.push(
                        "maxLength",
                        format!("is not an option of {} fields", other.name()),
                    );
                }
                if let Some(Some(_)) = allowed {
                    errors.push(
                        "allowedValues",
                        format!("is not an option of {} fields", other.name()),
                    );
                }
            }
        }
        errors.into_result(Self { description, kind })
    }

    pub fn schema() -> Value {
        json!({
            "type": "object", "additionalProperties": false,
            "description": "Only the description may change, values may be added to allowedValues (every current one kept) and maxLength raised; name and type may be sent unchanged.",
            "properties": {
                "name": FieldName::schema(),
                "type": {"type": "string", "enum": FieldType::NAMES},
                "maxLength": {"type": "integer", "minimum": 1, "maximum": MAX_STRING_LENGTH},
                "allowedValues": allowed_values_schema(),
                "description": description_schema(),
            },
        })
    }
}

/// `maxLength`: absent, or `Some(None)` when invalid (complaint made).
fn parse_max_length(body: &Map<String, Value>, errors: &mut InvalidFields) -> Option<Option<i64>> {
    let value = body.get("maxLength")?;
    match whole_number(value) {
        Some(n) if (1..=MAX_STRING_LENGTH).contains(&n) => Some(Some(n)),
        _ => {
            errors.push(
                "maxLength",
                format!("must be an integer from 1 to {MAX_STRING_LENGTH}"),
            );
            Some(None)
        }
    }
}

/// `allowedValues`: absent, or `Some(None)` when invalid (complaint made).
fn parse_allowed_values(
    body: &Map<String, Value>,
    errors: &mut InvalidFields,
) -> Option<Option<Vec<String>>> {
    let value = body.get("allowedValues")?;
    let rule = format!(
        "must be 1 to {MAX_ALLOWED_VALUES} distinct strings of 1 to {MAX_ALLOWED_VALUE_CHARS} characters"
    );
    let values: Option<Vec<String>> = value.as_array().and_then(|items| {
        items
            .iter()
            .map(|item| {
                item.as_str()
                    .filter(|s| {
                        (1..=MAX_ALLOWED_VALUE_CHARS).contains(&s.chars().count())
                            && !s.contains('\0')
                    })
                    .map(str::to_owned)
            })
            .collect()
    });
    let valid = values.filter(|values| {
        let mut sorted = values.clone();
        sorted.sort();
        sorted.dedup();
        !values.is_empty() && values.len() <= MAX_ALLOWED_VALUES && sorted.len() == values.len()
    });
    if valid.is_none() {
        errors.push("allowedValues", rule);
    }
    Some(valid)
}

/// `description`: absent, or the change (`None` and a complaint when invalid).
fn parse_description(
    body: &Map<String, Value>,
    errors: &mut InvalidFields,
) -> Option<Change<String>> {
    match body.get("description")? {
        Value::Null => Some(Change::Set(None)),
        Value::String(text) => match bounded_text(text, MAX_DESCRIPTION_CHARS) {
            Ok(text) => Some(Change::Set(Some(text))),
            Err(message) => {
                errors.push("description", message);
                None
            }
        },
        _ => {
            errors.push("description", "must be a string or null");
            None
        }
    }
}

fn allowed_values_schema() -> Value {
    json!({"type": "array", "minItems": 1, "maxItems": MAX_ALLOWED_VALUES, "uniqueItems": true,
           "items": {"type": "string", "pattern": format!("^[^\\x00]{{1,{MAX_ALLOWED_VALUE_CHARS}}}$")},
           "description": "enum fields only: the values allowed."})
}

fn description_schema() -> Value {
    json!({"type": ["string", "null"], "pattern": bounded_text_pattern(MAX_DESCRIPTION_CHARS)})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definitions() -> Definitions {
        let at = Time::now();
        let define = |name: &str, kind: FieldType| Definition {
            name: FieldName::parse(name).unwrap(),
            kind,
            description: None,
            created_time: at,
            updated_time: at,
        };
        Definitions::new([
            define(
                "tier",
                FieldType::Enum {
                    allowed_values: vec!["gold".into(), "silver".into()],
                },
            ),
            define("visits", FieldType::Integer),
            define("score", FieldType::Number),
            define("vip", FieldType::Boolean),
            define("since", FieldType::Date),
            define("seen", FieldType::Datetime),
            define("note", FieldType::String { max_length: 5 }),
        ])
    }

    #[test]
    fn names() {
        for good in ["a", "loyaltyTier", "A_1", &format!("a{}", "b".repeat(39))] {
            assert!(FieldName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "1a", "_a", "a-b", "é", &format!("a{}", "b".repeat(40))] {
            assert!(FieldName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_are_typed_and_every_bad_one_named() {
        let mut errors = InvalidFields::default();
        let good = json!({"tier": "gold", "visits": 3, "score": 1.5, "vip": true, "since": "2026-01-31",
                          "seen": "2026-11-22T10:00:00+01:00", "note": "hello"});
        let parsed =
            CustomFieldValues::parse("customFields", &good, &definitions(), &mut errors).unwrap();
        let stored: Value = serde_json::from_str(&parsed.to_stored().unwrap()).unwrap();
        assert_eq!(stored["seen"], "2026-11-22T09:00:00.000Z");
        assert_eq!(stored["visits"], 3);
        let bad = json!({"tier": "bronze", "visits": 1.5, "score": "x", "vip": 1, "since": "2026-02-30",
                         "seen": "yesterday", "note": "too long", "unknown": 1});
        let mut errors = InvalidFields::default();
        assert!(
            CustomFieldValues::parse("customFields", &bad, &definitions(), &mut errors).is_none()
        );
        let named: Vec<String> = errors
            .into_result(())
            .unwrap_err()
            .into_iter()
            .map(|f| f.field)
            .collect();
        assert_eq!(named.len(), 8, "{named:?}");
    }

    #[test]
    fn filters_compare_as_the_type() {
        let d = definitions();
        assert_eq!(d.filter_value("visits", "007").unwrap(), "7");
        assert_eq!(d.filter_value("score", "1.50").unwrap(), "1.5");
        assert_eq!(d.filter_value("score", "-0").unwrap(), "0");
        assert_eq!(
            d.filter_value("seen", "2026-11-22T10:00:00+01:00").unwrap(),
            "2026-11-22T09:00:00.000Z"
        );
        assert!(d.filter_value("visits", "x").is_err());
        assert!(d.filter_value("nope", "1").is_err());
        assert!(d.filter_value("tier", "bronze").is_err());
    }
}
