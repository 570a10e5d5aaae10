//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! the response types. Request bodies are described by hand (below) because
//! their rules (trimming, real ISO lists, E.164 with separators) are richer
//! than derive attributes can say; the schemas state exactly what the domain
//! parsers accept, so that a schema-driven client (schemathesis) agrees with
//! the server on every value.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use serde_json::{Value, json};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{ResponseBuilder, Responses};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, HeaderBuilder, ObjectBuilder, RefOr, Schema, Type};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use super::{customers, operations, tokens};
use crate::domain::InvalidField;
use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "clientele",
        description = "A multi-tenant, organization-scoped Customers API. Every route under \
            `/v1/public-api/organizations/{organizationId}` needs `Authorization: ApiKey <key>` or \
            `Authorization: Bearer <token>`; errors are `application/problem+json`.",
    ),
    paths(
        customers::create,
        customers::list,
        customers::get,
        customers::update,
        customers::delete,
        tokens::create,
        operations::health,
        operations::ready,
        operations::metrics,
        openapi_json,
    ),
    components(schemas(Problem, InvalidField)),
    modifiers(&Conventions),
    tags(
        (name = "customers", description = "Customer records of one organization."),
        (name = "tokens", description = "Short-lived tokens for hosted payment forms."),
        (name = "operations", description = "Health, readiness, metrics and this document."),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document (this one).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "getOpenApiDocument",
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object, content_type = "application/json"))
)]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}

/// The document as JSON text, built once.
pub fn document() -> &'static str {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the document serializes")
    })
}

/// What every organization route shares: its security schemes and the
/// problems it may answer.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "ApiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`ApiKey ck_key_…_…`: a secret API key of the organization.",
            ))),
        );
        components.add_security_scheme(
            "Bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A short-lived token from `POST …/tokens`."))
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/v1/") {
                continue;
            }
            let is_item = path.ends_with("{customerId}");
            let is_tokens = path.ends_with("/tokens");
            for (method, operation) in [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("delete", &mut item.delete),
            ] {
                let Some(operation) = operation.as_mut() else {
                    continue;
                };
                let mut security = vec![SecurityRequirement::new("ApiKey", Vec::<String>::new())];
                if !is_tokens {
                    security.push(SecurityRequirement::new("Bearer", Vec::<String>::new()));
                }
                operation.security = Some(security);
                let has_body = matches!(method, "post" | "put");
                let mut problems = vec![
                    (
                        401,
                        "Missing, malformed, unknown, revoked or expired credential.",
                    ),
                    (
                        403,
                        "The credential belongs to another organization or lacks the scope.",
                    ),
                    (
                        408,
                        "The request (its body included) took longer than the request timeout.",
                    ),
                    (
                        422,
                        "Invalid fields or parameters; `invalidFields` names each.",
                    ),
                    (503, "The database is unavailable; retry later."),
                ];
                if has_body {
                    problems.extend([
                        (400, "The body is not a JSON object."),
                        (413, "The body is over 64 KiB."),
                        (415, "The body is not sent as application/json."),
                    ]);
                }
                if is_item || is_tokens {
                    problems.push((404, "No such customer in this organization."));
                }
                if is_item && method == "put" {
                    problems.push((409, "The customer kept changing during the update; retry."));
                }
                add_problems(operation, &problems);
                set_text_patterns(operation);
            }
        }
    }
}

/// Query parameters whose rule (trimmed length, no control characters) is a
/// pattern computed here rather than a literal in an attribute.
fn set_text_patterns(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let max = match parameter.name.as_str() {
            "q" => 100,
            "email" => 254,
            _ => continue,
        };
        if let Some(RefOr::T(Schema::Object(object))) = parameter.schema.as_mut() {
            object.pattern = Some(search_pattern(max));
            object.max_length = None;
        }
    }
}

fn add_problems(operation: &mut Operation, problems: &[(u16, &str)]) {
    let responses: &mut Responses = &mut operation.responses;
    for (status, description) in problems {
        let mut response = ResponseBuilder::new().description(*description).content(
            "application/problem+json",
            Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "Problem",
            )))),
        );
        if *status == 401 {
            response = response.header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some("`ApiKey, Bearer`"))
                    .build(),
            );
        }
        responses
            .responses
            .insert(status.to_string(), RefOr::T(response.build()));
    }
}

/// Unicode White_Space: what `str::trim` removes.
const SPACE: &str = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// C0 and C1 controls (Unicode Cc).
const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

/// A pattern for text that, trimmed, has 1..=`max` characters and no
/// character of `forbidden` (a character-class body).
fn trimmed_pattern(max: usize, forbidden: &str) -> String {
    let inner = format!("[^{forbidden}]");
    let edge = format!("[^{forbidden}{SPACE}]");
    let middle = max.saturating_sub(2);
    format!("^[{SPACE}]*{edge}(?:{inner}{{0,{middle}}}{edge})?[{SPACE}]*$")
}

/// A pattern for text that, trimmed, has at most `max` characters (possibly
/// none) and no NUL.
fn optional_trimmed_pattern(max: usize) -> String {
    let middle = max.saturating_sub(2);
    format!("^[{SPACE}]*(?:[^\\x00{SPACE}](?:[^\\x00]{{0,{middle}}}[^\\x00{SPACE}])?)?[{SPACE}]*$")
}

/// A case-insensitive pattern matching exactly `codes` (two letters each).
fn codes_pattern(codes: impl Iterator<Item = String>) -> String {
    let mut by_first: BTreeMap<char, Vec<char>> = BTreeMap::new();
    for code in codes {
        let mut letters = code.chars();
        let (Some(first), Some(second)) = (letters.next(), letters.next()) else {
            continue;
        };
        by_first
            .entry(first.to_ascii_uppercase())
            .or_default()
            .push(second.to_ascii_uppercase());
    }
    let alternatives: Vec<String> = by_first
        .into_iter()
        .map(|(first, seconds)| {
            let both = |c: char| format!("{c}{}", c.to_ascii_lowercase());
            let class: String = seconds.into_iter().map(both).collect();
            format!("[{}][{class}]", both(first))
        })
        .collect();
    format!("^(?:{})$", alternatives.join("|"))
}

pub fn language_pattern() -> String {
    codes_pattern(
        isolang::languages()
            .filter_map(|l| l.to_639_1())
            .map(str::to_owned),
    )
}

pub fn country_pattern() -> String {
    codes_pattern(isocountry::CountryCode::iter().map(|c| c.alpha2().to_owned()))
}

/// The phone rule, separators included.
pub const PHONE_PATTERN: &str = r"^[ .()-]*\+[ .()-]*[1-9](?:[ .()-]*[0-9]){6,14}[ .()-]*$";

pub fn name_pattern() -> String {
    trimmed_pattern(45, CONTROL)
}

/// A search term or email filter: trimmed, 1..=`max`, no control characters.
pub fn search_pattern(max: usize) -> String {
    trimmed_pattern(max, CONTROL)
}

fn schema_from(value: Value) -> RefOr<Schema> {
    RefOr::T(serde_json::from_value(value).expect("hand-written schemas are valid"))
}

/// The body of `POST` and `PUT` on customers.
pub struct CustomerInput;

impl PartialSchema for CustomerInput {
    fn schema() -> RefOr<Schema> {
        let nullable_text = |pattern: String, example: &str| json!({"type": ["string", "null"], "pattern": pattern, "examples": [example]});
        let part =
            |max: usize, example: &str| nullable_text(optional_trimmed_pattern(max), example);
        schema_from(json!({
            "type": "object",
            "description": "Every field is optional and may be null. On PUT only the fields present change; \
                null clears a field; address and metadata are replaced whole. Read-only and unknown fields are 422.",
            "additionalProperties": false,
            "properties": {
                "firstName": nullable_text(name_pattern(), "Jane"),
                "lastName": nullable_text(name_pattern(), "Doe"),
                "email": {"type": ["string", "null"], "format": "email", "maxLength": 254, "examples": ["jane.doe@example.com"]},
                "phoneNumber": {"type": ["string", "null"], "pattern": PHONE_PATTERN,
                                "description": "E.164 once spaces, dots, dashes and parentheses are removed; stored canonical.",
                                "examples": ["+1-555-0100"]},
                "language": {"type": ["string", "null"], "pattern": language_pattern(),
                             "description": "ISO 639-1, any case; stored lowercase.", "examples": ["en"]},
                "address": {
                    "type": ["object", "null"],
                    "additionalProperties": false,
                    "properties": {
                        "address1": part(60, "123 Main St"),
                        "address2": part(60, "Suite 4"),
                        "city": part(45, "Springfield"),
                        "region": part(45, "IL"),
                        "zip": part(10, "62701"),
                        "country": {"type": ["string", "null"], "pattern": country_pattern(),
                                    "description": "ISO 3166-1 alpha-2, any case; stored uppercase.", "examples": ["US"]}
                    }
                },
                "metadata": {
                    "type": ["object", "null"],
                    "maxProperties": 50,
                    "propertyNames": {"type": "string", "pattern": "^[^\\x00]{1,40}$"},
                    "additionalProperties": {"type": "string", "pattern": "^[^\\x00]{0,500}$"},
                    "examples": [{"crmId": "A-17"}]
                }
            },
            "examples": [{
                "firstName": "Jane", "lastName": "Doe", "email": "jane.doe@example.com",
                "phoneNumber": "+1-555-0100", "language": "en",
                "address": {"address1": "123 Main St", "city": "Springfield", "region": "IL", "zip": "62701", "country": "US"},
                "metadata": {"crmId": "A-17"}
            }]
        }))
    }
}

impl ToSchema for CustomerInput {}

/// The body of `POST …/tokens`.
pub struct TokenInput;

impl PartialSchema for TokenInput {
    fn schema() -> RefOr<Schema> {
        schema_from(json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["scopes"],
            "properties": {
                "scopes": {
                    "type": "array", "minItems": 1,
                    "items": {"type": "string", "enum": ["customers:read", "customers:write"]},
                    "description": "A subset of the minting key's scopes (403 otherwise)."
                },
                "customerId": {"type": ["string", "null"], "pattern": "^cus_[0-9a-f]{32}$",
                               "description": "Binds the token to one customer: it may then only GET and PUT that customer."},
                "expiresIn": {"type": "integer", "minimum": 60, "maximum": 3600, "default": 900,
                              "description": "Lifetime in seconds."}
            },
            "examples": [{"scopes": ["customers:read", "customers:write"], "customerId": "cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e", "expiresIn": 900}]
        }))
    }
}

impl ToSchema for TokenInput {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contact::PhoneNumber;
    use crate::domain::locale::{CountryCode, LanguageCode};

    /// Whether `pattern` (made by `codes_pattern`) lists `code`.
    fn lists(pattern: &str, code: &str) -> bool {
        let mut letters = code.chars();
        let (first, second) = (letters.next().unwrap(), letters.next().unwrap());
        pattern[4..pattern.len() - 2].split('|').any(|alternative| {
            let (head, tail) = alternative[1..alternative.len() - 1]
                .split_once("][")
                .unwrap();
            head.contains(first) && tail.contains(second)
        })
    }

    #[test]
    fn code_patterns_accept_exactly_what_the_parsers_accept() {
        let (languages, countries) = (language_pattern(), country_pattern());
        for first in 'a'..='z' {
            for second in 'a'..='z' {
                for code in [
                    format!("{first}{second}"),
                    format!("{first}{second}").to_uppercase(),
                ] {
                    assert_eq!(
                        lists(&languages, &code),
                        LanguageCode::parse(&code).is_ok(),
                        "{code}"
                    );
                    assert_eq!(
                        lists(&countries, &code),
                        CountryCode::parse(&code).is_ok(),
                        "{code}"
                    );
                }
            }
        }
    }

    #[test]
    fn code_patterns_name_the_real_lists() {
        assert!(lists(&language_pattern(), "en") && lists(&language_pattern(), "ZU"));
        assert!(!lists(&language_pattern(), "xx"));
        assert!(lists(&country_pattern(), "us") && !lists(&country_pattern(), "XK"));
        assert!(PhoneNumber::parse("+1 (555) 010-0").is_ok());
    }
}
