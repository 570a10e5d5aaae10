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

/// The fields that hold personal data: the writable ones marked
/// `personal` in [`FIELDS`].
pub fn personal_fields() -> impl Iterator<Item = &'static str> {
    writable()
        .filter(|field| field.personal)
        .map(|field| field.name)
}

/// Redacts the personal fields in `copy`, a customer as JSON or the
/// previous attributes of one, as an erase leaves them in the customer
/// ([`CustomerChanges::erasing`]): emptied, but an address keeps its
/// country.
pub fn redact(copy: &mut Value) {
    let empty = serde_json::to_value(Customer::empty()).unwrap_or_default();
    let Some(fields) = copy.as_object_mut() else {
        return;
    };
    for name in personal_fields() {
        let Some(value) = fields.get_mut(name) else {
            continue;
        };
        *value = match name {
            "address" => {
                let country = value.get("country").and_then(Value::as_str);
                serde_json::to_value(Address::of_country(country.map(str::to_owned)))
                    .unwrap_or_default()
            }
            _ => empty[name].clone(),
        };
    }
}

impl Customer {
    /// A new customer with every field it may lack empty: how the
    /// representation shows each field's absence.
    pub fn empty() -> Self {
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

/// One writable field: its name in JSON, whether it holds personal data
/// (an erase clears it), whether the payer at a hosted payment form may
/// change it, how its value is parsed into the changes, and the JSON Schema
/// of a value (null is always allowed too).
pub struct Writable {
    pub name: &'static str,
    pub personal: bool,
    pub payer: bool,
    parse: fn(&mut CustomerChanges, &str, &Value, &Definitions, &mut InvalidFields),
    schema: fn() -> Value,
}

/// A field of the representation: one clients only read, or one they
/// write.
pub enum Field {
    ReadOnly(&'static str),
    Writable(Writable),
}

impl Field {
    pub fn name(&self) -> &'static str {
        match self {
            Self::ReadOnly(name) => name,
            Self::Writable(field) => field.name,
        }
    }
}

/// Every field of a customer as clients see it, once, in the order the CSV
/// export writes them. The parser, the OpenAPI document, the erase and the
/// export all read this table, so they cannot disagree about which fields
/// exist, what they accept, or which are personal.
pub const FIELDS: [Field; 18] = [
    Field::ReadOnly("id"),
    Field::ReadOnly("organizationId"),
    Field::ReadOnly("livemode"),
    Field::Writable(Writable {
        name: "externalId",
        personal: true,
        payer: false,
        parse: |c, name, value, _, errors| {
            c.external_id = text(errors, name, value, ExternalId::parse)
        },
        schema: ExternalId::schema,
    }),
    Field::Writable(Writable {
        name: "firstName",
        personal: true,
        payer: true,
        parse: |c, name, value, _, errors| {
            c.first_name = text(errors, name, value, PersonName::parse)
        },
        schema: PersonName::schema,
    }),
    Field::Writable(Writable {
        name: "lastName",
        personal: true,
        payer: true,
        parse: |c, name, value, _, errors| {
            c.last_name = text(errors, name, value, PersonName::parse)
        },
        schema: PersonName::schema,
    }),
    Field::Writable(Writable {
        name: "email",
        personal: true,
        payer: true,
        parse: |c, name, value, _, errors| c.email = text(errors, name, value, Email::parse),
        schema: Email::schema,
    }),
    Field::Writable(Writable {
        name: "phoneNumber",
        personal: true,
        payer: true,
        parse: |c, name, value, _, errors| {
            c.phone_number = text(errors, name, value, PhoneNumber::parse)
        },
        schema: PhoneNumber::schema,
    }),
    Field::Writable(Writable {
        name: "language",
        personal: false,
        payer: true,
        parse: |c, name, value, _, errors| {
            c.language = text(errors, name, value, LanguageCode::parse)
        },
        schema: LanguageCode::schema,
    }),
    Field::Writable(Writable {
        name: "address",
        personal: true,
        payer: true,
        parse: |c, name, value, _, errors| c.address = object(errors, name, value, Address::parse),
        schema: Address::schema,
    }),
    Field::Writable(Writable {
        name: "metadata",
        personal: true,
        payer: false,
        parse: |c, name, value, _, errors| {
            c.metadata = object(errors, name, value, Metadata::parse)
        },
        schema: Metadata::schema,
    }),
    Field::Writable(Writable {
        name: "customFields",
        personal: true,
        payer: false,
        parse: |c, name, value, definitions, errors| {
            c.custom_fields = object(errors, name, value, |field, value, errors| {
                CustomFieldValues::parse(field, value, definitions, errors)
            })
        },
        schema: CustomFieldValues::schema,
    }),
    Field::Writable(Writable {
        name: "shippingAddresses",
        personal: true,
        payer: true,
        parse: |c, name, value, _, errors| {
            c.shipping_addresses = object(errors, name, value, ShippingAddresses::parse)
        },
        schema: ShippingAddresses::schema,
    }),
    Field::ReadOnly("revision"),
    Field::ReadOnly("createdTime"),
    Field::ReadOnly("updatedTime"),
    Field::ReadOnly("deletedTime"),
    Field::ReadOnly("erasedTime"),
];

/// The writable fields, in the order of [`FIELDS`].
pub fn writable() -> impl Iterator<Item = &'static Writable> {
    FIELDS.iter().filter_map(|field| match field {
        Field::Writable(writable) => Some(writable),
        Field::ReadOnly(_) => None,
    })
}

/// Whether clients may read `name` but never write it.
pub fn is_read_only(name: &str) -> bool {
    FIELDS
        .iter()
        .any(|field| matches!(field, Field::ReadOnly(n) if *n == name))
}

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
        let bits = writable()
            .enumerate()
            .filter(|(_, field)| keep(field))
            .fold(0, |bits, (i, _)| bits | 1 << i);
        Self(bits)
    }

    fn contains(self, name: &str) -> bool {
        writable()
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
            let Some(i) = writable().position(|field| field.name == name) else {
                return Err(format!("{name:?} is not a field of a customer"));
            };
            if !payer.contains(name) {
                return Err(format!("{name:?} is not a field the payer may change"));
            }
            set.0 |= 1 << i;
        }
        Ok(set)
    }

    /// The fields' names, in the order of [`FIELDS`].
    pub fn names(self) -> Vec<&'static str> {
        writable()
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
    /// What an erase changes: every personal field cleared, but the
    /// address keeps its `country`.
    pub fn erasing(country: Option<String>) -> Self {
        let mut changes = Self::default();
        let mut ignored = InvalidFields::default();
        for field in writable().filter(|field| field.personal) {
            (field.parse)(
                &mut changes,
                field.name,
                &Value::Null,
                &Definitions::default(),
                &mut ignored,
            );
        }
        changes.address = Change::Set(Address::of_country(country));
        changes
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
            .filter(|name| writable().any(|f| f.name == *name) && !allowed.contains(name))
            .cloned()
            .collect();
        if !forbidden.is_empty() {
            return Err(Refused::Forbidden(forbidden));
        }
        let mut errors = InvalidFields::default();
        let mut changes = Self::default();
        for (name, value) in body {
            match writable().find(|field| field.name == name) {
                Some(field) => (field.parse)(&mut changes, name, value, definitions, &mut errors),
                None if is_read_only(name) => errors.push(name.as_str(), "is read-only"),
                None => errors.push(name.as_str(), "unknown field"),
            }
        }
        errors.into_result(changes).map_err(Refused::Invalid)
    }

    /// The JSON Schema of a request body of `POST` and `PUT` on customers.
    pub fn schema() -> Value {
        let properties: Map<String, Value> = writable()
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
        let read_only = FIELDS.iter().filter(|f| matches!(f, Field::ReadOnly(_)));
        for name in read_only.map(Field::name).chain(["phone", "first_name"]) {
            assert!(!properties.contains_key(name));
            assert!(parse(json!({name: null})).is_err(), "{name}");
        }
    }

    #[test]
    fn every_writable_field_is_personal_but_the_language() {
        let mut personal: Vec<&str> = personal_fields().chain(["language"]).collect();
        let mut all: Vec<&str> = writable().map(|f| f.name).collect();
        personal.sort();
        all.sort();
        assert_eq!(personal, all);
    }

    #[test]
    fn an_erase_clears_every_personal_field_but_the_country() {
        let erasing = CustomerChanges::erasing(Some("FR".into()));
        let cleared = |name| {
            let mut body = Map::new();
            body.insert(name, Value::Null);
            body
        };
        for name in personal_fields().filter(|name| *name != "address") {
            let one = CustomerChanges::from_json(
                &cleared(name.to_owned()),
                FieldSet::all(),
                &Definitions::default(),
            )
            .unwrap();
            assert_eq!(format!("{one:?}").matches("Set(None)").count(), 1, "{name}");
        }
        assert_eq!(
            format!("{erasing:?}").matches("Set(None)").count(),
            personal_fields().count() - 1
        );
        assert_eq!(erasing.language, Change::Keep);
        assert_eq!(
            erasing.address,
            Change::Set(Address::of_country(Some("FR".into())))
        );
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
        let shown = serde_json::to_value(Customer::empty()).unwrap();
        let mut shown: Vec<&str> = shown
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut named: Vec<&str> = FIELDS.iter().map(Field::name).collect();
        shown.sort();
        named.sort();
        assert_eq!(shown, named);
    }
}
