//! Domain rules state themselves as JSON Schema (each type's `schema()`,
//! next to its parser and limits); this turns such a description into the
//! form the OpenAPI document is built from.

use serde_json::Value;
use utoipa::openapi::{RefOr, Schema};

/// A JSON Schema, as utoipa holds it.
pub fn of(schema: Value) -> RefOr<Schema> {
    RefOr::T(serde_json::from_value(schema).expect("the domain's schemas are valid JSON Schema"))
}

/// `schema`, also allowing null.
pub fn nullable(mut schema: Value) -> Value {
    match schema.get_mut("type") {
        Some(Value::String(kind)) => {
            let kind = std::mem::take(kind);
            schema["type"] = serde_json::json!([kind, "null"]);
        }
        Some(Value::Array(kinds)) if !kinds.contains(&Value::from("null")) => {
            kinds.push("null".into())
        }
        _ => {}
    }
    schema
}

/// An integer, also when written with a zero fraction (`900.0`): JSON
/// Schema counts that as an integer too.
pub fn whole_number(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        let float = value.as_f64()?;
        (float.fract() == 0.0 && float.abs() < 1e15).then_some(float as i64)
    })
}
