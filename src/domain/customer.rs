//! The writable part of a customer, parsed from a request body.

use serde_json::{Map, Value};

use super::address::Address;
use super::contact::{Email, PhoneNumber};
use super::invalid::{InvalidField, InvalidFields};
use super::locale::LanguageCode;
use super::metadata::Metadata;
use super::name::PersonName;

/// What a request says about one field: leave it as it is, or set it (to a
/// value, or to nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Change<T> {
    #[default]
    Keep,
    Set(Option<T>),
}

/// Every writable field of a customer, each either kept or set. A create
/// treats `Keep` as null; an update (PUT) leaves kept fields untouched.
#[derive(Debug, Clone, Default)]
pub struct CustomerChanges {
    pub first_name: Change<PersonName>,
    pub last_name: Change<PersonName>,
    pub email: Change<Email>,
    pub phone_number: Change<PhoneNumber>,
    pub language: Change<LanguageCode>,
    pub address: Change<Address>,
    pub metadata: Change<Metadata>,
}

/// Fields a client may read but never write.
const READ_ONLY: [&str; 5] = [
    "id",
    "organizationId",
    "revision",
    "createdTime",
    "updatedTime",
];

impl CustomerChanges {
    /// Parses a request body, reporting every invalid, read-only or unknown
    /// field at once.
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, Vec<InvalidField>> {
        let mut errors = InvalidFields::default();
        let mut changes = Self::default();
        for (name, value) in body {
            let field = name.as_str();
            match field {
                "firstName" => {
                    changes.first_name = text(&mut errors, field, value, PersonName::parse)
                }
                "lastName" => {
                    changes.last_name = text(&mut errors, field, value, PersonName::parse)
                }
                "email" => changes.email = text(&mut errors, field, value, Email::parse),
                "phoneNumber" => {
                    changes.phone_number = text(&mut errors, field, value, PhoneNumber::parse)
                }
                "language" => {
                    changes.language = text(&mut errors, field, value, LanguageCode::parse)
                }
                "address" => changes.address = object(&mut errors, value, Address::parse),
                "metadata" => changes.metadata = object(&mut errors, value, Metadata::parse),
                _ if READ_ONLY.contains(&field) => errors.push(field, "is read-only"),
                _ => errors.push(field, "unknown field"),
            }
        }
        errors.into_result(changes)
    }
}

fn text<T>(
    errors: &mut InvalidFields,
    field: &str,
    value: &Value,
    parse: impl FnOnce(&str) -> Result<T, &'static str>,
) -> Change<T> {
    errors
        .nullable_text(field, value, parse)
        .map_or(Change::Keep, Change::Set)
}

fn object<T>(
    errors: &mut InvalidFields,
    value: &Value,
    parse: impl FnOnce(&Value, &mut InvalidFields) -> Option<T>,
) -> Change<T> {
    match value {
        Value::Null => Change::Set(None),
        _ => parse(value, errors).map_or(Change::Keep, |v| Change::Set(Some(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<CustomerChanges, Vec<String>> {
        let Value::Object(map) = body else {
            unreachable!()
        };
        CustomerChanges::from_json(&map).map_err(|e| {
            e.into_iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect()
        })
    }

    #[test]
    fn absent_null_and_set_are_distinct() {
        let c = parse(json!({"firstName": "Jane", "lastName": null})).unwrap();
        assert_eq!(
            c.first_name,
            Change::Set(Some(PersonName::parse("Jane").unwrap()))
        );
        assert_eq!(c.last_name, Change::Set(None));
        assert_eq!(c.email, Change::Keep);
        assert!(matches!(c.address, Change::Keep));
    }

    #[test]
    fn reports_every_problem() {
        let errors = parse(json!({
            "id": "cus_x", "phone": "+15550100", "email": "nope", "firstName": 7,
            "address": {"country": "XX"}, "metadata": "x"
        }))
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "address.country: must be an ISO 3166-1 alpha-2 code",
                "email: must be a valid email address",
                "firstName: must be a string or null",
                "id: is read-only",
                "metadata: must be an object or null",
                "phone: unknown field",
            ]
        );
    }
}
