//! Query strings: each parameter is written once, as a [`Parameter`] that
//! both the parser and the OpenAPI document read.

use std::collections::HashSet;

use serde_json::Value;

use super::invalid::InvalidFields;

/// More query parameters than any request needs are refused at once.
pub const MAX_PARAMETERS: usize = 32;

/// One query parameter of a request whose parameters are a `P`: its name,
/// how it is parsed into them, and how the document describes it.
pub struct Parameter<P> {
    pub name: &'static str,
    pub description: &'static str,
    pub parse: fn(&mut P, &str) -> Result<(), String>,
    pub schema: fn() -> Value,
}

/// Parses decoded query pairs into `params` by `parameters`: every unknown
/// or repeated parameter and every bad value is named in the complaints.
pub fn parse_query<P>(
    pairs: &[(String, String)],
    parameters: &[Parameter<P>],
    mut params: P,
) -> (P, InvalidFields) {
    let mut errors = InvalidFields::default();
    if pairs.len() > MAX_PARAMETERS {
        errors.push(
            "query",
            format!("at most {MAX_PARAMETERS} parameters are accepted"),
        );
        return (params, errors);
    }
    let mut seen: HashSet<&str> = HashSet::new();
    for (name, value) in pairs {
        if !seen.insert(name) {
            errors.push(name.as_str(), "must be given at most once");
            continue;
        }
        let outcome = match parameters.iter().find(|p| p.name == name) {
            Some(parameter) => (parameter.parse)(&mut params, value),
            None => Err("unknown parameter".into()),
        };
        if let Err(message) = outcome {
            errors.push(name.as_str(), message);
        }
    }
    (params, errors)
}
