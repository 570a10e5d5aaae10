//! A CSV file's columns: those of this service's own export (contract
//! section 12), or those of a Stripe customer export, each mapped to the
//! customer's fields; a row's cells become the JSON body a create or an
//! update takes, so that the API's parser judges every value.

use serde_json::{Map, Value};

use crate::domain::customer::{FIELDS, Field, is_read_only};
use crate::domain::invalid::{InvalidField, InvalidFields};
use crate::domain::reports::{csv_columns, spreadsheet_safe};

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    /// Read-only in this service (`id` of its own export, `createdTime`),
    /// or a Stripe column with no place here (a card, a balance).
    Ignored,
    /// A writable field whose value is text.
    Text(&'static str),
    /// A writable field whose value is JSON text (`metadata`).
    Json(&'static str),
    /// A part of the address (`address.city`, Stripe's `Address City`).
    Address(&'static str),
    /// Stripe's `Name`: split into first and last name.
    FullName,
    /// Stripe's `Preferred Locales`: the first one's language.
    Locales,
    /// A metadata key: Stripe's `Description`, or its `key (metadata)`.
    MetadataKey(String),
    /// Stripe's `Metadata`: a JSON object merged into the metadata.
    MetadataObject,
    /// A part of Stripe's shipping details, which become one shipping
    /// address labelled [`SHIPPING_LABEL`].
    Shipping(&'static str),
}

/// The label of the shipping address made of Stripe's shipping columns.
pub const SHIPPING_LABEL: &str = "Shipping";

/// Stripe's columns, compared without regard to case, and where each goes.
const STRIPE: [(&str, Column); 19] = [
    ("email", Column::Text("email")),
    ("name", Column::FullName),
    ("phone", Column::Text("phoneNumber")),
    ("metadata", Column::MetadataObject),
    ("preferred locales", Column::Locales),
    ("address line1", Column::Address("address1")),
    ("address line 1", Column::Address("address1")),
    ("address line2", Column::Address("address2")),
    ("address line 2", Column::Address("address2")),
    ("address city", Column::Address("city")),
    ("address state", Column::Address("region")),
    ("address zip", Column::Address("zip")),
    ("address postal code", Column::Address("zip")),
    ("address country", Column::Address("country")),
    ("shipping name", Column::Shipping("name")),
    ("shipping address line1", Column::Shipping("address1")),
    ("shipping address line2", Column::Shipping("address2")),
    ("shipping address city", Column::Shipping("city")),
    ("shipping address state", Column::Shipping("region")),
];

/// More of Stripe's shipping columns.
const STRIPE_SHIPPING: [(&str, &str); 3] = [
    ("shipping address zip", "zip"),
    ("shipping address country", "country"),
    ("shipping phone", "phoneNumber"),
];

/// Stripe's columns that hold nothing a customer here has: billing
/// figures, subscriptions, and every `Card …` column (card data is never
/// kept here).
const STRIPE_IGNORED: [&str; 20] = [
    "created (utc)",
    "delinquent",
    "plan",
    "status",
    "cancel at period end",
    "account balance",
    "balance",
    "business vat id",
    "coupon",
    "discount",
    "currency",
    "tax exempt",
    "total spend",
    "payment count",
    "refunded volume",
    "dispute losses",
    "invoice prefix",
    "invoice settings default payment method",
    "test clock",
    "deleted",
];

/// A file's columns, in the order of its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns(Vec<Column>);

impl Columns {
    /// Maps a header: this service's export columns by their exact names,
    /// and Stripe's without regard to case. `id` is the merchant's
    /// reference (`externalId`, as in a Stripe export) unless the header
    /// has an `externalId` column too (this service's export, whose `id`
    /// is its own). Every unknown or repeated column is named.
    pub fn parse(header: &[String]) -> Result<Self, Vec<InvalidField>> {
        let ours = header.iter().any(|name| name == "externalId");
        let mut errors = InvalidFields::default();
        let mut columns = Vec::with_capacity(header.len());
        for (index, name) in header.iter().enumerate() {
            if header[..index].contains(name) {
                errors.push(name.as_str(), "is a repeated column");
            }
            match column(name, ours) {
                Some(column) => columns.push(column),
                None => errors.push(name.as_str(), "unknown column"),
            }
        }
        if header.is_empty() {
            errors.push("header", "the file has no header row");
        }
        errors.into_result(Self(columns))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A row's cells as a customer body: an empty cell is null; text as it
    /// is but for the `'` the export puts before a cell a spreadsheet
    /// would run; JSON columns parsed. The body names every field the
    /// columns reach, so a row replaces them whole in an update.
    pub fn body(&self, cells: &[&str]) -> Result<Map<String, Value>, Vec<InvalidField>> {
        let mut errors = InvalidFields::default();
        if cells.len() != self.0.len() {
            errors.push(
                "row",
                format!(
                    "has {} cells where the header has {}",
                    cells.len(),
                    self.0.len()
                ),
            );
            return errors.into_result(Map::new());
        }
        let mut body = Map::new();
        let mut address: Option<Map<String, Value>> = None;
        let mut shipping: Option<Map<String, Value>> = None;
        let mut metadata: Option<Map<String, Value>> = None;
        for (column, raw) in self.0.iter().zip(cells) {
            let cell = unescaped(raw);
            let text = || match cell.is_empty() {
                true => Value::Null,
                false => Value::String(cell.to_owned()),
            };
            match column {
                Column::Ignored => {}
                Column::Text(field) => {
                    body.insert((*field).into(), text());
                }
                Column::Json(field) if cell.is_empty() => {
                    body.insert((*field).into(), Value::Null);
                }
                Column::Json(field) => match serde_json::from_str::<Value>(cell) {
                    Ok(value) => {
                        body.insert((*field).into(), value);
                    }
                    Err(_) => errors.push(*field, "must be JSON text"),
                },
                Column::Address(part) => {
                    let parts = address.get_or_insert_default();
                    if !cell.is_empty() {
                        parts.insert((*part).into(), text());
                    }
                }
                Column::FullName => {
                    let (first, last) = split_name(cell);
                    body.insert("firstName".into(), first.map_or(Value::Null, Value::from));
                    body.insert("lastName".into(), last.map_or(Value::Null, Value::from));
                }
                Column::Locales => {
                    body.insert("language".into(), first_language(cell));
                }
                Column::MetadataKey(key) => {
                    let keys = metadata.get_or_insert_default();
                    if !cell.is_empty() {
                        keys.insert(key.clone(), text());
                    }
                }
                Column::MetadataObject => {
                    let keys = metadata.get_or_insert_default();
                    match serde_json::from_str::<Value>(cell) {
                        _ if cell.is_empty() => {}
                        Ok(Value::Object(object)) => keys.extend(object),
                        _ => errors.push("metadata", "must be JSON text of an object"),
                    }
                }
                Column::Shipping(part) => {
                    let parts = shipping.get_or_insert_default();
                    if !cell.is_empty() {
                        parts.insert((*part).into(), text());
                    }
                }
            }
        }
        if let Some(parts) = address {
            let value = (!parts.is_empty()).then_some(Value::Object(parts));
            body.insert("address".into(), value.unwrap_or(Value::Null));
        }
        if let Some(keys) = metadata {
            let value = (!keys.is_empty()).then_some(Value::Object(keys));
            body.insert("metadata".into(), value.unwrap_or(Value::Null));
        }
        if let Some(parts) = shipping {
            body.insert("shippingAddresses".into(), shipping_address(parts));
        }
        errors.into_result(body)
    }
}

/// Where a column named `name` goes; `ours` when the header is this
/// service's export.
fn column(name: &str, ours: bool) -> Option<Column> {
    if name == "id" {
        return Some(match ours {
            true => Column::Ignored,
            false => Column::Text("externalId"),
        });
    }
    if let Some(known) = csv_columns().iter().find(|column| *column == name) {
        return Some(own_column(known));
    }
    let folded = name.trim().to_lowercase();
    if let Some((_, column)) = STRIPE.iter().find(|(stripe, _)| *stripe == folded) {
        return Some(column.clone());
    }
    if let Some((_, part)) = STRIPE_SHIPPING.iter().find(|(stripe, _)| *stripe == folded) {
        return Some(Column::Shipping(part));
    }
    if folded == "description" {
        return Some(Column::MetadataKey("description".into()));
    }
    if let Some(key) = name.trim().strip_suffix(" (metadata)") {
        return Some(Column::MetadataKey(key.to_owned()));
    }
    let ignored = STRIPE_IGNORED.contains(&folded.as_str()) || folded.starts_with("card ");
    ignored.then_some(Column::Ignored)
}

/// A column of this service's export.
fn own_column(name: &str) -> Column {
    if let Some(part) = name.strip_prefix("address.") {
        let part = ["address1", "address2", "city", "region", "zip", "country"]
            .into_iter()
            .find(|known| *known == part)
            .unwrap_or("country");
        return Column::Address(part);
    }
    if is_read_only(name) {
        return Column::Ignored;
    }
    let field = FIELDS
        .iter()
        .map(Field::name)
        .find(|field| *field == name)
        .unwrap_or("externalId");
    match field {
        "metadata" | "customFields" | "shippingAddresses" => Column::Json(field),
        _ => Column::Text(field),
    }
}

/// A cell as it was before the export made it safe to open in a
/// spreadsheet (a `'` before `=`, `+`, `-`, `@`, a tab or a carriage
/// return).
fn unescaped(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if spreadsheet_safe(rest) == cell => rest,
        _ => cell,
    }
}

/// Stripe's single name: the last word is the last name, the rest the
/// first name.
fn split_name(name: &str) -> (Option<&str>, Option<&str>) {
    let name = name.trim();
    match name.rsplit_once(char::is_whitespace) {
        _ if name.is_empty() => (None, None),
        Some((first, last)) => (Some(first.trim_end()), Some(last)),
        None => (Some(name), None),
    }
}

/// The language of the first of Stripe's preferred locales (`fr-FR`,
/// `["fr-FR","en"]`), lowercased; null when there is none.
fn first_language(cell: &str) -> Value {
    let first = cell
        .split(',')
        .next()
        .unwrap_or_default()
        .trim_matches(|c: char| c == '[' || c == ']' || c == '"' || c.is_whitespace());
    let language = first.split(['-', '_']).next().unwrap_or_default();
    match language.is_empty() {
        true => Value::Null,
        false => Value::String(language.to_lowercase()),
    }
}

/// Stripe's shipping columns as a list of one shipping address, or null
/// when they are all empty.
fn shipping_address(mut parts: Map<String, Value>) -> Value {
    if parts.is_empty() {
        return Value::Null;
    }
    if let Some(Value::String(name)) = parts.remove("name") {
        let (first, last) = split_name(&name);
        parts.insert("firstName".into(), first.map_or(Value::Null, Value::from));
        parts.insert("lastName".into(), last.map_or(Value::Null, Value::from));
    }
    parts.insert("label".into(), Value::from(SHIPPING_LABEL));
    Value::Array(vec![Value::Object(parts)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_export_header_is_read_back() {
        let columns = Columns::parse(csv_columns()).unwrap();
        assert_eq!(columns.len(), csv_columns().len());
        let mut cells = vec![""; columns.len()];
        let at = |name: &str| csv_columns().iter().position(|c| c == name).unwrap();
        cells[at("id")] = "cus_x";
        cells[at("externalId")] = "crm-1";
        cells[at("firstName")] = "'=Jane";
        cells[at("phoneNumber")] = "+15550100";
        cells[at("address.city")] = "Paris";
        cells[at("metadata")] = r#"{"a":"b"}"#;
        cells[at("revision")] = "3";
        let body = columns.body(&cells).unwrap();
        assert_eq!(body["externalId"], "crm-1");
        assert_eq!(body["firstName"], "=Jane");
        assert_eq!(body["phoneNumber"], "+15550100");
        assert_eq!(body["address"], json!({"city": "Paris"}));
        assert_eq!(body["metadata"], json!({"a": "b"}));
        assert_eq!(body["email"], Value::Null);
        assert!(!body.contains_key("id") && !body.contains_key("revision"));
    }

    #[test]
    fn stripe_columns_are_understood() {
        let columns = Columns::parse(&header(&[
            "id",
            "Email",
            "Name",
            "Description",
            "Card ID",
            "Address City",
            "Preferred Locales",
            "plan_tier (metadata)",
            "Shipping Name",
            "Shipping Address Zip",
        ]))
        .unwrap();
        let body = columns
            .body(&[
                "cus_Abc",
                "ann@example.com",
                "Ann Marie Lee",
                "VIP",
                "card_1",
                "Oslo",
                "nb-NO",
                "gold",
                "Bo Lee",
                "0150",
            ])
            .unwrap();
        assert_eq!(body["externalId"], "cus_Abc");
        assert_eq!(body["firstName"], "Ann Marie");
        assert_eq!(body["lastName"], "Lee");
        assert_eq!(
            body["metadata"],
            json!({"description": "VIP", "plan_tier": "gold"})
        );
        assert_eq!(body["address"], json!({"city": "Oslo"}));
        assert_eq!(body["language"], "nb");
        assert_eq!(
            body["shippingAddresses"],
            json!([{"label": "Shipping", "firstName": "Bo", "lastName": "Lee", "zip": "0150"}])
        );
    }

    #[test]
    fn unknown_and_repeated_columns_are_named() {
        let refused = Columns::parse(&header(&["email", "nickname", "email", "Fax"])).unwrap_err();
        let named: Vec<&str> = refused.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["nickname", "email", "Fax"]);
    }

    #[test]
    fn a_ragged_row_or_bad_json_is_refused() {
        let columns = Columns::parse(&header(&["email", "metadata"])).unwrap();
        assert_eq!(columns.body(&["a@b.co"]).unwrap_err()[0].field, "row");
        assert_eq!(
            columns.body(&["a@b.co", "{nope"]).unwrap_err()[0].field,
            "metadata"
        );
    }
}
