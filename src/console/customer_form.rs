//! The customer form of the console: its inputs, the JSON body a submitted
//! form stands for (judged by the API's own parser), and each refusal put
//! next to the input it is about.

use serde_json::{Map, Value, json};

use super::form::Pairs;
use crate::domain::InvalidField;
use crate::domain::custom_fields::{Definitions, FieldType};
use crate::domain::customer::Customer;

/// How an input is drawn.
pub enum Kind {
    Text {
        inputmode: &'static str,
        autocomplete: &'static str,
    },
    Date,
    /// A `<textarea>` of JSON.
    Json,
    /// A `<select>` of these values, with an empty choice first.
    Choice(Vec<String>),
}

/// One labelled input, with what it holds and what was wrong with it.
pub struct Input {
    /// The form field's name: the API field's (`address.city`), or
    /// `cf.<name>` for a custom field.
    pub name: String,
    pub label: String,
    pub hint: Option<String>,
    pub kind: Kind,
    pub value: String,
    pub error: Option<String>,
}

impl Input {
    /// The element id (names may hold dots).
    pub fn id(&self) -> String {
        format!("f-{}", self.name.replace('.', "-"))
    }

    fn text(name: &str, label: &str, inputmode: &'static str, autocomplete: &'static str) -> Self {
        Self::new(
            name,
            label,
            Kind::Text {
                inputmode,
                autocomplete,
            },
        )
    }

    fn new(name: &str, label: &str, kind: Kind) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            hint: None,
            kind,
            value: String::new(),
            error: None,
        }
    }

    fn hint(mut self, hint: &str) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether the input is a `<textarea>` of JSON.
    pub fn is_json(&self) -> bool {
        matches!(self.kind, Kind::Json)
    }

    /// A `<select>`'s values, when it is one.
    pub fn choices(&self) -> Option<&[String]> {
        match &self.kind {
            Kind::Choice(values) => Some(values),
            _ => None,
        }
    }

    /// The `type` of an `<input>`.
    pub fn input_type(&self) -> &'static str {
        match self.kind {
            Kind::Date => "date",
            _ => "text",
        }
    }

    pub fn inputmode(&self) -> &'static str {
        match self.kind {
            Kind::Text { inputmode, .. } => inputmode,
            _ => "text",
        }
    }

    pub fn autocomplete(&self) -> &'static str {
        match self.kind {
            Kind::Text { autocomplete, .. } => autocomplete,
            _ => "off",
        }
    }
}

/// The address's parts and their labels, in the form's order.
const ADDRESS: [(&str, &str, &str); 6] = [
    ("address1", "Address line 1", "address-line1"),
    ("address2", "Address line 2", "address-line2"),
    ("city", "City", "address-level2"),
    ("region", "Region", "address-level1"),
    ("zip", "Postal code", "postal-code"),
    ("country", "Country", "country"),
];

/// The form's inputs, empty, for an organization with `definitions`.
pub fn inputs(definitions: &Definitions) -> Vec<Input> {
    let mut inputs = vec![
        Input::text("firstName", "First name", "text", "given-name"),
        Input::text("lastName", "Last name", "text", "family-name"),
        Input::text("email", "Email", "email", "email"),
        Input::text("phoneNumber", "Phone number", "tel", "tel")
            .hint("E.164, such as +15550100; spaces and dashes are taken out."),
        Input::text("language", "Language", "text", "off")
            .hint("ISO 639-1, two letters: en, de, fr…"),
        Input::text("externalId", "External id", "text", "off")
            .hint("Your own reference, unique among live customers."),
    ];
    for (part, label, autocomplete) in ADDRESS {
        let input = Input::text(&format!("address.{part}"), label, "text", autocomplete);
        inputs.push(match part {
            "country" => input.hint("ISO 3166-1 alpha-2, two letters: US, DE…"),
            _ => input,
        });
    }
    inputs.push(
        Input::new("metadata", "Metadata", Kind::Json)
            .hint("A JSON object, such as {\"crmId\": \"A-17\"}."),
    );
    inputs.push(
        Input::new("shippingAddresses", "Shipping addresses", Kind::Json)
            .hint("A JSON array of at most 10, each with a label: [{\"label\": \"Home\", \"city\": \"Berlin\", \"country\": \"DE\"}]."),
    );
    for definition in definitions.iter() {
        let name = definition.name.as_str();
        let kind = match &definition.kind {
            FieldType::Boolean => Kind::Choice(vec!["true".into(), "false".into()]),
            FieldType::Enum { allowed_values } => Kind::Choice(allowed_values.clone()),
            FieldType::Date => Kind::Date,
            FieldType::Integer | FieldType::Number => Kind::Text {
                inputmode: "decimal",
                autocomplete: "off",
            },
            FieldType::String { .. } | FieldType::Datetime => Kind::Text {
                inputmode: "text",
                autocomplete: "off",
            },
        };
        let mut input = Input::new(&format!("cf.{name}"), name, kind);
        input.hint = definition.description.clone();
        if matches!(definition.kind, FieldType::Datetime) {
            input.hint = Some("An RFC 3339 time, such as 2026-12-07T10:00:00Z.".into());
        }
        inputs.push(input);
    }
    inputs
}

/// The inputs holding `customer`'s values (the edit form).
pub fn filled(definitions: &Definitions, customer: &Customer) -> Vec<Input> {
    let json = serde_json::to_value(customer).unwrap_or_default();
    let mut inputs = inputs(definitions);
    for input in &mut inputs {
        let value = match input.name.split_once('.') {
            Some(("cf", name)) => json["customFields"][name].clone(),
            Some((outer, inner)) => json[outer][inner].clone(),
            None => json[input.name.as_str()].clone(),
        };
        input.value = match (&input.kind, value) {
            (_, Value::Null) => String::new(),
            (Kind::Json, Value::Array(items)) if items.is_empty() => String::new(),
            (Kind::Json, value) => serde_json::to_string_pretty(&value).unwrap_or_default(),
            (_, Value::String(text)) => text,
            (_, other) => other.to_string(),
        };
    }
    inputs
}

/// The API body a submitted form stands for. A field left empty is left
/// out on create and cleared (null) on edit; an address of only empty
/// parts is no address. Text that is not JSON where JSON goes, or not of
/// a custom field's type, is refused here, named like the API names it,
/// and left out of the body (so the API's parser judges the rest).
pub fn body(
    pairs: &Pairs,
    definitions: &Definitions,
    creating: bool,
) -> (Map<String, Value>, Vec<InvalidField>) {
    let mut body = Map::new();
    let mut errors = Vec::new();
    let put = |body: &mut Map<String, Value>, name: &str, value: Option<Value>| match value {
        Some(value) => {
            body.insert(name.into(), value);
        }
        None if !creating => {
            body.insert(name.into(), Value::Null);
        }
        None => {}
    };
    for name in [
        "firstName",
        "lastName",
        "email",
        "phoneNumber",
        "language",
        "externalId",
    ] {
        let raw = pairs.get(name);
        put(
            &mut body,
            name,
            (!raw.trim().is_empty()).then(|| json!(raw)),
        );
    }
    let address: Map<String, Value> = ADDRESS
        .iter()
        .map(|(part, _, _)| {
            let raw = pairs.get(&format!("address.{part}")).to_owned();
            let value = match raw.trim().is_empty() {
                true => Value::Null,
                false => Value::String(raw),
            };
            ((*part).to_owned(), value)
        })
        .collect();
    let any_part = address.values().any(|v| !v.is_null());
    put(
        &mut body,
        "address",
        any_part.then_some(Value::Object(address)),
    );
    for (name, shape) in [
        ("metadata", "a JSON object"),
        ("shippingAddresses", "a JSON array"),
    ] {
        let raw = pairs.get(name).trim();
        let value = match raw {
            "" if name == "shippingAddresses" && !creating => Some(json!([])),
            "" => None,
            raw => match serde_json::from_str::<Value>(raw) {
                Ok(value) => Some(value),
                Err(_) => {
                    errors.push(InvalidField {
                        field: name.into(),
                        message: format!("must be {shape} (the text is not JSON)"),
                    });
                    continue;
                }
            },
        };
        put(&mut body, name, value);
    }
    let mut custom = Map::new();
    for definition in definitions.iter() {
        let name = definition.name.as_str();
        let raw = pairs.get(&format!("cf.{name}")).trim();
        if raw.is_empty() {
            continue;
        }
        match definitions.form_value(name, raw) {
            Ok(value) => {
                custom.insert(name.into(), value);
            }
            Err(invalid) => errors.push(invalid),
        }
    }
    let has_definitions = definitions.iter().next().is_some();
    if has_definitions {
        put(
            &mut body,
            "customFields",
            (!custom.is_empty()).then_some(Value::Object(custom)),
        );
    }
    (body, errors)
}

/// Puts each refusal next to its input (`address.country` on its part,
/// `customFields.tier` on `cf.tier`, `shippingAddresses[1].label` on the
/// shipping addresses); those about no input are returned, for the top of
/// the form.
pub fn place(inputs: &mut [Input], errors: Vec<InvalidField>) -> Vec<String> {
    let mut elsewhere = Vec::new();
    for error in errors {
        let name = match error.field.strip_prefix("customFields.") {
            Some(custom) => format!("cf.{custom}"),
            None => error.field.clone(),
        };
        let input = inputs
            .iter_mut()
            .filter(|input| {
                name == input.name
                    || name.starts_with(&format!("{}.", input.name))
                    || name.starts_with(&format!("{}[", input.name))
            })
            .max_by_key(|input| input.name.len());
        let input = match input {
            Some(input) => input,
            // "address" alone (the address as a whole): its first part.
            None => match inputs
                .iter_mut()
                .find(|i| i.name.starts_with(&format!("{name}.")))
            {
                Some(input) => input,
                None => {
                    elsewhere.push(format!("{}: {}", error.field, error.message));
                    continue;
                }
            },
        };
        let message = match input.name == name {
            true => error.message,
            false => format!("{}: {}", error.field, error.message),
        };
        input.error = Some(match input.error.take() {
            Some(earlier) => format!("{earlier}; {message}"),
            None => message,
        });
    }
    elsewhere
}

/// Copies what was sent back into the inputs, so a refused form keeps it.
pub fn refill(inputs: &mut [Input], pairs: &Pairs) {
    for input in inputs {
        input.value = pairs.get(&input.name).to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Pairs {
        Pairs(
            list.iter()
                .map(|(n, v)| ((*n).into(), (*v).into()))
                .collect(),
        )
    }

    #[test]
    fn empty_fields_are_left_out_on_create_and_cleared_on_edit() {
        let sent = pairs(&[
            ("firstName", "Ada"),
            ("email", ""),
            ("address.city", ""),
            ("metadata", ""),
        ]);
        let (created, errors) = body(&sent, &Definitions::default(), true);
        assert!(errors.is_empty());
        assert_eq!(Value::Object(created), json!({"firstName": "Ada"}));
        let (edited, _) = body(&sent, &Definitions::default(), false);
        assert_eq!(edited["email"], Value::Null);
        assert_eq!(edited["address"], Value::Null);
        assert_eq!(edited["shippingAddresses"], json!([]));
    }

    #[test]
    fn an_address_keeps_its_parts_and_bad_json_is_named() {
        let sent = pairs(&[
            ("address.city", "Berlin"),
            ("address.country", "DE"),
            ("metadata", "{oops"),
        ]);
        let (made, errors) = body(&sent, &Definitions::default(), true);
        assert_eq!(errors[0].field, "metadata");
        assert!(!made.contains_key("metadata"));
        let sent = pairs(&[("address.city", "Berlin"), ("address.country", "DE")]);
        let (made, _) = body(&sent, &Definitions::default(), true);
        assert_eq!(made["address"]["city"], "Berlin");
        assert_eq!(made["address"]["zip"], Value::Null);
    }

    #[test]
    fn errors_land_next_to_their_inputs() {
        let mut inputs = inputs(&Definitions::default());
        let refused = |field: &str| InvalidField {
            field: field.into(),
            message: "is wrong".into(),
        };
        let rest = place(
            &mut inputs,
            vec![
                refused("email"),
                refused("address.country"),
                refused("shippingAddresses[0].label"),
                refused("nope"),
            ],
        );
        let error = |name: &str| {
            inputs
                .iter()
                .find(|i| i.name == name)
                .unwrap()
                .error
                .clone()
        };
        assert_eq!(error("email").as_deref(), Some("is wrong"));
        assert_eq!(error("address.country").as_deref(), Some("is wrong"));
        assert_eq!(
            error("shippingAddresses").as_deref(),
            Some("shippingAddresses[0].label: is wrong")
        );
        assert_eq!(rest, ["nope: is wrong"]);
    }
}
