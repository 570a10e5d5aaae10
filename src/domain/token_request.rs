//! The body of `POST .../tokens`.

use serde_json::{Map, Value, json};

use super::customer::FieldSet;
use super::ids::CustomerId;
use super::invalid::{InvalidField, InvalidFields};
use super::schema::whole_number;
use super::scopes::{Scope, Scopes};

pub const DEFAULT_EXPIRES_IN: i64 = 900;
pub const MIN_EXPIRES_IN: i64 = 60;
pub const MAX_EXPIRES_IN: i64 = 3600;

/// What a token is asked for: its scopes, optionally one customer it is
/// bound to, and its lifetime in seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    pub scopes: Scopes,
    pub customer_id: Option<CustomerId>,
    /// With `customer_id`: fewer fields than a payer may change.
    pub fields: Option<FieldSet>,
    pub expires_in: i64,
}

impl TokenRequest {
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, Vec<InvalidField>> {
        let mut errors = InvalidFields::default();
        let mut request = Self {
            scopes: Scopes::default(),
            customer_id: None,
            fields: None,
            expires_in: DEFAULT_EXPIRES_IN,
        };
        if !body.contains_key("scopes") {
            errors.push("scopes", "is required");
        }
        for (name, value) in body {
            match name.as_str() {
                "scopes" => match parse_scopes(value) {
                    Ok(scopes) => request.scopes = scopes,
                    Err(message) => errors.push("scopes", message),
                },
                "customerId" => match value {
                    Value::Null => {}
                    Value::String(id) => match CustomerId::parse(id) {
                        Some(id) => request.customer_id = Some(id),
                        None => errors.push("customerId", "must be a customer id (cus_…)"),
                    },
                    _ => errors.push("customerId", "must be a customer id or null"),
                },
                "fields" => match parse_fields(value) {
                    Ok(fields) => request.fields = Some(fields),
                    Err(message) => errors.push("fields", message),
                },
                "expiresIn" => match whole_number(value) {
                    Some(seconds) if (MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(&seconds) => {
                        request.expires_in = seconds
                    }
                    _ => errors.push(
                        "expiresIn",
                        format!("must be an integer from {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN}"),
                    ),
                },
                _ => errors.push(name.as_str(), "unknown field"),
            }
        }
        if request.fields.is_some() && request.customer_id.is_none() {
            errors.push(
                "fields",
                "narrows a token bound to a customer: give customerId too",
            );
        }
        errors.into_result(request)
    }
}

/// `fields`: names of fields a payer may change.
fn parse_fields(value: &Value) -> Result<FieldSet, String> {
    let Value::Array(names) = value else {
        return Err("must be an array of field names".into());
    };
    let names: Option<Vec<&str>> = names.iter().map(Value::as_str).collect();
    let names = names.ok_or("must be an array of field names")?;
    if names.is_empty() {
        return Err("must name at least one field".into());
    }
    FieldSet::parse_payer_names(names)
}

impl TokenRequest {
    /// The JSON Schema of the request body.
    pub fn schema() -> Value {
        let grantable: Vec<&str> = Scope::ALL
            .into_iter()
            .filter(|scope| *scope != Scope::TokensCreate)
            .map(Scope::as_str)
            .collect();
        let mut customer_id = CustomerId::schema();
        customer_id["type"] = json!(["string", "null"]);
        customer_id["description"] =
            json!("Binds the token to one customer: it may then only GET and PUT that customer.");
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["scopes"],
            "properties": {
                "scopes": {
                    "type": "array", "minItems": 1,
                    "items": {"type": "string", "enum": grantable, "x-enum-varnames": grantable.iter()
                        .map(|scope| scope.replace(':', "_").to_uppercase()).collect::<Vec<_>>()},
                    "description": "A subset of the minting key's scopes (403 otherwise)."
                },
                "customerId": customer_id,
                "fields": {
                    "type": "array", "minItems": 1,
                    "items": {"type": "string", "enum": FieldSet::payer().names()},
                    "description": "With customerId: the fields the token may change, fewer than every field a payer may change (the default). A PUT naming any other field is 403 /problems/forbidden-field."
                },
                "expiresIn": {"type": "integer", "minimum": MIN_EXPIRES_IN, "maximum": MAX_EXPIRES_IN,
                              "default": DEFAULT_EXPIRES_IN, "description": "Lifetime in seconds."}
            },
            "examples": [{"scopes": ["customers:read", "customers:write"], "customerId": CustomerId::EXAMPLE, "expiresIn": DEFAULT_EXPIRES_IN}]
        })
    }
}

fn parse_scopes(value: &Value) -> Result<Scopes, String> {
    let Value::Array(names) = value else {
        return Err("must be an array of scope names".into());
    };
    let mut scopes = Vec::with_capacity(names.len());
    for name in names {
        let scope = name
            .as_str()
            .and_then(Scope::parse)
            .ok_or_else(|| format!("unknown scope {name}"))?;
        if scope == Scope::TokensCreate {
            return Err("tokens cannot mint tokens: tokens:create is for API keys".into());
        }
        scopes.push(scope);
    }
    if scopes.is_empty() {
        return Err("must name at least one scope".into());
    }
    Ok(scopes.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<TokenRequest, Vec<String>> {
        TokenRequest::from_json(body.as_object().unwrap())
            .map_err(|e| e.into_iter().map(|f| f.field).collect())
    }

    #[test]
    fn defaults_and_bounds() {
        let request = parse(json!({"scopes": ["customers:read"]})).unwrap();
        assert_eq!(request.expires_in, 900);
        assert_eq!(request.customer_id, None);
        assert_eq!(
            parse(json!({"scopes": ["customers:read"], "expiresIn": 60}))
                .unwrap()
                .expires_in,
            60
        );
        assert_eq!(
            parse(json!({"scopes": ["customers:read"], "expiresIn": 3600}))
                .unwrap()
                .expires_in,
            3600
        );
        assert_eq!(
            parse(json!({"scopes": ["customers:read"], "expiresIn": 135.0}))
                .unwrap()
                .expires_in,
            135
        );
        for bad in [
            json!(59),
            json!(3601),
            json!("900"),
            json!(900.5),
            json!(59.0),
        ] {
            assert_eq!(
                parse(json!({"scopes": ["customers:read"], "expiresIn": bad})).unwrap_err(),
                ["expiresIn"]
            );
        }
    }

    #[test]
    fn rejects_bad_scopes_and_fields() {
        assert_eq!(parse(json!({})).unwrap_err(), ["scopes"]);
        assert_eq!(parse(json!({"scopes": []})).unwrap_err(), ["scopes"]);
        assert_eq!(
            parse(json!({"scopes": ["customers:admin"]})).unwrap_err(),
            ["scopes"]
        );
        assert_eq!(
            parse(json!({"scopes": ["tokens:create"]})).unwrap_err(),
            ["scopes"]
        );
        assert_eq!(
            parse(json!({"scopes": "customers:read"})).unwrap_err(),
            ["scopes"]
        );
        assert_eq!(
            parse(json!({"scopes": ["customers:read"], "customerId": "x"})).unwrap_err(),
            ["customerId"]
        );
        assert_eq!(
            parse(json!({"scopes": ["customers:read"], "organizationId": "org_x"})).unwrap_err(),
            ["organizationId"]
        );
    }
}
