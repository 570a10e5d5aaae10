//! The customer: what every answer and event shows ([`Customer`]) and what a
//! request may change ([`CustomerChanges`]).

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::address::Address;
use super::change::Change;
use super::contact::{Email, PhoneNumber};
use super::custom_fields::{CustomFieldValues, Definitions};
use super::external_id::ExternalId;
use super::ids::{CustomerId, OrganizationId};
use super::invalid::{InvalidField, InvalidFields};
use super::locale::LanguageCode;
use super::metadata::Metadata;
use super::name::PersonName;
use super::schema::nullable;
use super::shipping::{ShippingAddress, ShippingAddresses};
use super::time::Time;

/// A customer as clients see it, in answers and in events.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    #[schema(inline)]
    pub id: CustomerId,
    #[schema(inline)]
    pub organization_id: OrganizationId,
    /// False for a test-mode customer.
    pub livemode: bool,
    /// The merchant's own reference; unique among the organization's live
    /// customers.
    #[schema(required, example = "crm-000042")]
    pub external_id: Option<String>,
    #[schema(required, example = "Jane")]
    pub first_name: Option<String>,
    #[schema(required, example = "Doe")]
    pub last_name: Option<String>,
    #[schema(required, example = "jane.doe@example.com")]
    pub email: Option<String>,
    /// E.164, canonical.
    #[schema(required, example = "+15550100")]
    pub phone_number: Option<String>,
    /// ISO 639-1, lowercase.
    #[schema(required, example = "en")]
    pub language: Option<String>,
    /// Null when no part of the address is set.
    #[schema(required)]
    pub address: Option<Address>,
    /// The object as sent; passed through as stored JSON text.
    #[schema(required, value_type = Option<Metadata>)]
    pub metadata: Option<Box<RawValue>>,
    /// At most 10; `[]` when none.
    pub shipping_addresses: Vec<ShippingAddress>,
    /// Defined names to values; null when it holds none.
    #[schema(required, value_type = Option<Object>)]
    pub custom_fields: Option<Box<RawValue>>,
    /// 1 at creation, +1 on every update.
    #[schema(minimum = 1, example = 1)]
    pub revision: i32,
    #[schema(inline)]
    pub created_time: Time,
    #[schema(inline)]
    pub updated_time: Time,
    /// When it was deleted; null while live. Only lists with
    /// `includeDeleted=true` and `customer.deleted` events show deleted
    /// customers.
    #[schema(required, inline)]
    pub deleted_time: Option<Time>,
    /// When its personal data was erased (erase); null until then.
    #[schema(required, inline)]
    pub erased_time: Option<Time>,
}

/// The fields that hold personal data. An erase clears each, but an
/// address keeps its country ([`CustomerChanges::erasing`]), and redacts
/// them alike in every copy of the customer that was kept ([`redact`]).
pub const PERSONAL_FIELDS: [&str; 9] = [
    "externalId",
    "firstName",
    "lastName",
    "email",
    "phoneNumber",
    "address",
    "metadata",
    "shippingAddresses",
    "customFields",
];

/// Redacts [`PERSONAL_FIELDS`] in `copy`, a customer as JSON or the
/// previous attributes of one, as an erase leaves them in the customer:
/// null, `[]` for shipping addresses, and an address reduced to its country.
pub fn redact(copy: &mut Value) {
    let Some(fields) = copy.as_object_mut() else {
        return;
    };
    for name in PERSONAL_FIELDS {
        let Some(value) = fields.get_mut(name) else {
            continue;
        };
        *value = match name {
            "shippingAddresses" => json!([]),
            "address" => {
                let country = value.get("country").and_then(Value::as_str);
                serde_json::to_value(Address::of_country(country.map(str::to_owned)))
                    .unwrap_or_default()
            }
            _ => Value::Null,
        };
    }
}

#[cfg(test)]
impl Customer {
    /// A new customer with every field it may lack empty, for tests of the
    /// representation's shape.
    pub fn blank() -> Self {
        Self {
            id: CustomerId::generate(),
            organization_id: OrganizationId::generate(),
            livemode: true,
            external_id: None,
            first_name: None,
            last_name: None,
            email: None,
            phone_number: None,
            language: None,
            address: None,
            metadata: None,
            shipping_addresses: Vec::new(),
            custom_fields: None,
            revision: 1,
            created_time: Time::now(),
            updated_time: Time::now(),
            deleted_time: None,
            erased_time: None,
        }
    }
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
    pub external_id: Change<ExternalId>,
    pub shipping_addresses: Change<ShippingAddresses>,
    pub custom_fields: Change<CustomFieldValues>,
}

/// One writable field: its name in JSON, whether the payer at a hosted
/// payment form may change it, how its value is parsed into the changes,
/// and the JSON Schema of a value (null is always allowed too). The parser
/// and the OpenAPI document both read [`WRITABLE`], so they cannot disagree
/// about which fields exist or what they accept.
struct Writable {
    name: &'static str,
    payer: bool,
    parse: fn(&mut CustomerChanges, &str, &Value, &Definitions, &mut InvalidFields),
    schema: fn() -> Value,
}

const WRITABLE: [Writable; 10] = [
    Writable {
        name: "firstName",
        payer: true,
        parse: |c, name, value, _, errors| {
            c.first_name = text(errors, name, value, PersonName::parse)
        },
        schema: PersonName::schema,
    },
    Writable {
        name: "lastName",
        payer: true,
        parse: |c, name, value, _, errors| {
            c.last_name = text(errors, name, value, PersonName::parse)
        },
        schema: PersonName::schema,
    },
    Writable {
        name: "email",
        payer: true,
        parse: |c, name, value, _, errors| c.email = text(errors, name, value, Email::parse),
        schema: Email::schema,
    },
    Writable {
        name: "phoneNumber",
        payer: true,
        parse: |c, name, value, _, errors| {
            c.phone_number = text(errors, name, value, PhoneNumber::parse)
        },
        schema: PhoneNumber::schema,
    },
    Writable {
        name: "language",
        payer: true,
        parse: |c, name, value, _, errors| {
            c.language = text(errors, name, value, LanguageCode::parse)
        },
        schema: LanguageCode::schema,
    },
    Writable {
        name: "address",
        payer: true,
        parse: |c, name, value, _, errors| c.address = object(errors, name, value, Address::parse),
        schema: Address::schema,
    },
    Writable {
        name: "metadata",
        payer: false,
        parse: |c, name, value, _, errors| {
            c.metadata = object(errors, name, value, Metadata::parse)
        },
        schema: Metadata::schema,
    },
    Writable {
        name: "shippingAddresses",
        payer: true,
        parse: |c, name, value, _, errors| {
            c.shipping_addresses = object(errors, name, value, ShippingAddresses::parse)
        },
        schema: ShippingAddresses::schema,
    },
    Writable {
        name: "customFields",
        payer: false,
        parse: |c, name, value, definitions, errors| {
            c.custom_fields = object(errors, name, value, |field, value, errors| {
                CustomFieldValues::parse(field, value, definitions, errors)
            })
        },
        schema: CustomFieldValues::schema,
    },
    Writable {
        name: "externalId",
        payer: false,
        parse: |c, name, value, _, errors| {
            c.external_id = text(errors, name, value, ExternalId::parse)
        },
        schema: ExternalId::schema,
    },
];

/// Fields a client may read but never write.
pub const READ_ONLY: [&str; 8] = [
    "id",
    "organizationId",
    "livemode",
    "revision",
    "createdTime",
    "updatedTime",
    "deletedTime",
    "erasedTime",
];

/// A set of writable fields: what a credential may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSet(u32);

impl FieldSet {
    /// Every writable field: what API keys and tokens not bound to a
    /// customer may change.
    pub fn all() -> Self {
        Self::matching(|_| true)
    }

    /// What the payer at a hosted payment form may change (contract
    /// section 2): a token bound to a customer, unless narrowed further.
    pub fn payer() -> Self {
        Self::matching(|field| field.payer)
    }

    fn matching(keep: impl Fn(&Writable) -> bool) -> Self {
        let bits = WRITABLE
            .iter()
            .enumerate()
            .filter(|(_, field)| keep(field))
            .fold(0, |bits, (i, _)| bits | 1 << i);
        Self(bits)
    }

    fn contains(self, name: &str) -> bool {
        WRITABLE
            .iter()
            .position(|field| field.name == name)
            .is_some_and(|i| self.0 & 1 << i != 0)
    }

    /// Parses a list of field names a payer may change (a token's
    /// `fields`); the error names the first that is unknown or not a
    /// payer's.
    pub fn parse_payer_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let payer = Self::payer();
        let mut set = Self(0);
        for name in names {
            let Some(i) = WRITABLE.iter().position(|field| field.name == name) else {
                return Err(format!("{name:?} is not a field of a customer"));
            };
            if !payer.contains(name) {
                return Err(format!("{name:?} is not a field the payer may change"));
            }
            set.0 |= 1 << i;
        }
        Ok(set)
    }

    /// The fields' names, in the order of [`WRITABLE`].
    pub fn names(self) -> Vec<&'static str> {
        WRITABLE
            .iter()
            .map(|field| field.name)
            .filter(|name| self.contains(name))
            .collect()
    }
}

/// Why a body cannot become changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// It names writable fields this credential may not change (403).
    Forbidden(Vec<String>),
    /// Invalid, read-only or unknown fields (422).
    Invalid(Vec<InvalidField>),
}

impl CustomerChanges {
    /// What an erase changes: every one of [`PERSONAL_FIELDS`] cleared,
    /// but the address's `country`.
    pub fn erasing(country: Option<String>) -> Self {
        Self {
            first_name: Change::Set(None),
            last_name: Change::Set(None),
            email: Change::Set(None),
            phone_number: Change::Set(None),
            language: Change::Keep,
            address: Change::Set(Address::of_country(country)),
            metadata: Change::Set(None),
            external_id: Change::Set(None),
            shipping_addresses: Change::Set(None),
            custom_fields: Change::Set(None),
        }
    }

    /// Parses a request body, reporting every invalid, read-only or unknown
    /// field at once. A body that names a writable field outside `allowed`
    /// is refused as a whole, naming every such field, before its values
    /// are looked at.
    pub fn from_json(
        body: &Map<String, Value>,
        allowed: FieldSet,
        definitions: &Definitions,
    ) -> Result<Self, Refused> {
        let forbidden: Vec<String> = body
            .keys()
            .filter(|name| WRITABLE.iter().any(|f| f.name == *name) && !allowed.contains(name))
            .cloned()
            .collect();
        if !forbidden.is_empty() {
            return Err(Refused::Forbidden(forbidden));
        }
        let mut errors = InvalidFields::default();
        let mut changes = Self::default();
        for (name, value) in body {
            match WRITABLE.iter().find(|field| field.name == name) {
                Some(field) => (field.parse)(&mut changes, name, value, definitions, &mut errors),
                None if READ_ONLY.contains(&name.as_str()) => {
                    errors.push(name.as_str(), "is read-only")
                }
                None => errors.push(name.as_str(), "unknown field"),
            }
        }
        errors.into_result(changes).map_err(Refused::Invalid)
    }

    /// The JSON Schema of a request body of `POST` and `PUT` on customers.
    pub fn schema() -> Value {
        let properties: Map<String, Value> = WRITABLE
            .iter()
            .map(|field| (field.name.to_owned(), nullable((field.schema)())))
            .collect();
        json!({
            "type": "object",
            "description": "Every field is optional and may be null. On PUT only the fields present change; \
                null clears a field; address, metadata, shippingAddresses and customFields are replaced whole. Read-only and unknown fields are 422.",
            "additionalProperties": false,
            "properties": properties,
            "examples": [{
                "firstName": "Jane", "lastName": "Doe", "email": "jane.doe@example.com",
                "phoneNumber": "+1-555-0100", "language": "en",
                "address": {"address1": "123 Main St", "city": "Springfield", "region": "IL", "zip": "62701", "country": "US"},
                "metadata": {"crmId": "A-17"}, "externalId": "crm-000042"
            }]
        })
    }
}

fn text<T>(
    errors: &mut InvalidFields,
    field: &str,
    value: &Value,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Change<T> {
    errors
        .nullable_text(field, value, parse)
        .map_or(Change::Keep, Change::Set)
}

fn object<T>(
    errors: &mut InvalidFields,
    field: &str,
    value: &Value,
    parse: impl FnOnce(&str, &Value, &mut InvalidFields) -> Option<T>,
) -> Change<T> {
    match value {
        Value::Null => Change::Set(None),
        _ => parse(field, value, errors).map_or(Change::Keep, |v| Change::Set(Some(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<CustomerChanges, Vec<String>> {
        let Value::Object(map) = body else {
            unreachable!()
        };
        CustomerChanges::from_json(&map, FieldSet::all(), &Definitions::default()).map_err(
            |refused| match refused {
                Refused::Invalid(fields) => fields
                    .into_iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect(),
                Refused::Forbidden(names) => names,
            },
        )
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

    #[test]
    fn a_narrower_set_refuses_every_field_outside_it_first() {
        let body =
            json!({"firstName": "Jane", "metadata": {"a": "b"}, "language": "xx", "id": "x"});
        let refused = CustomerChanges::from_json(
            body.as_object().unwrap(),
            FieldSet::payer(),
            &Definitions::default(),
        );
        assert_eq!(
            refused.unwrap_err(),
            Refused::Forbidden(vec!["metadata".into()])
        );
        let only_names = FieldSet::parse_payer_names(["firstName", "lastName"]).unwrap();
        let body = json!({"firstName": "Jane", "email": "x@y.co", "address": null});
        let refused = CustomerChanges::from_json(
            body.as_object().unwrap(),
            only_names,
            &Definitions::default(),
        );
        assert_eq!(
            refused.unwrap_err(),
            Refused::Forbidden(vec!["address".into(), "email".into()])
        );
        assert_eq!(only_names.names(), ["firstName", "lastName"]);
        assert!(FieldSet::parse_payer_names(["metadata"]).is_err());
        assert!(FieldSet::parse_payer_names(["nickname"]).is_err());
        assert!(!FieldSet::payer().names().contains(&"metadata"));
    }

    #[test]
    fn the_schema_names_exactly_the_fields_the_parser_takes() {
        let schema = CustomerChanges::schema();
        let properties = schema["properties"].as_object().unwrap();
        for name in properties.keys() {
            assert!(parse(json!({name: null})).is_ok(), "{name}");
        }
        for name in READ_ONLY.iter().chain(&["phone", "first_name"]) {
            assert!(!properties.contains_key(*name));
            assert!(parse(json!({*name: null})).is_err(), "{name}");
        }
    }

    #[test]
    fn every_writable_field_is_personal_but_the_language() {
        let mut personal: Vec<&str> = PERSONAL_FIELDS.into_iter().chain(["language"]).collect();
        let mut writable: Vec<&str> = WRITABLE.iter().map(|f| f.name).collect();
        personal.sort();
        writable.sort();
        assert_eq!(personal, writable);
    }

    #[test]
    fn redaction_keeps_a_country_and_nothing_personal() {
        let mut copy = json!({"id": "cus_1", "firstName": "Jane", "language": "en",
            "address": {"city": "Paris", "country": "FR"}, "shippingAddresses": [{"label": "a"}]});
        redact(&mut copy);
        assert_eq!(copy["firstName"], Value::Null);
        assert_eq!(copy["language"], "en");
        assert_eq!(copy["address"]["country"], "FR");
        assert_eq!(copy["address"]["city"], Value::Null);
        assert_eq!(copy["shippingAddresses"], json!([]));
        let mut no_country = json!({"address": {"city": "Paris"}});
        redact(&mut no_country);
        assert_eq!(no_country, json!({"address": null}));
    }

    #[test]
    fn the_writable_fields_and_the_read_only_ones_make_the_representation() {
        let shown = serde_json::to_value(Customer::blank()).unwrap();
        let mut shown: Vec<&str> = shown
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut named: Vec<&str> = WRITABLE.iter().map(|f| f.name).chain(READ_ONLY).collect();
        shown.sort();
        named.sort();
        assert_eq!(shown, named);
    }
}
