//! The custom-field definitions page: every definition, create, delete.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::{Map, Value, json};

use super::developers::{Section, sections};
use super::form::{self, Pairs};
use super::session::{Chrome, PageError, Signed, render};
use super::shown;
use super::sign_in::see_other;
use crate::domain::InvalidField;
use crate::domain::custom_fields::{FieldType, NewDefinition};
use crate::domain::scopes::Scope;
use crate::error::ApiError;
use crate::store::Database;
use crate::store::custom_fields::{self, DefinitionCache};

struct DefinitionRow {
    name: String,
    kind: &'static str,
    detail: String,
    description: String,
    created: String,
}

/// What the create form held, and what was wrong with each field.
#[derive(Default)]
struct Sent {
    name: String,
    kind: String,
    max_length: String,
    allowed_values: String,
    description: String,
    errors: Vec<(String, String)>,
}

impl Sent {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, message)| message.as_str())
    }
}

#[derive(Template)]
#[template(path = "custom_fields.html")]
struct FieldsPage {
    chrome: Chrome,
    sections: Vec<Section>,
    csrf: String,
    key: String,
    definitions: Vec<DefinitionRow>,
    types: [&'static str; 7],
    sent: Sent,
    problems: Vec<String>,
    may_write: bool,
}

async fn page(
    req: &HttpRequest,
    signed: &Signed,
    db: &Database,
    status: StatusCode,
    sent: Sent,
    problems: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.reading(req, db, Scope::CustomersRead).await?;
    let principal = signed.principal()?;
    let org = tenant.organization_id;
    let listed = db.run(move |conn| custom_fields::list(conn, org)).await?;
    let page = FieldsPage {
        chrome: Chrome::signed("Custom fields", signed, "developers"),
        sections: sections(signed, "/console/developers/custom-fields"),
        csrf: signed.csrf(),
        key: crate::auth::keys::random_hex(16),
        definitions: listed
            .into_iter()
            .map(|definition| DefinitionRow {
                name: definition.name.as_str().to_owned(),
                kind: definition.kind.name(),
                detail: match &definition.kind {
                    FieldType::String { max_length } => format!("at most {max_length} characters"),
                    FieldType::Enum { allowed_values } => allowed_values.join(", "),
                    _ => String::new(),
                },
                description: definition.description.clone().unwrap_or_default(),
                created: shown(definition.created_time),
            })
            .collect(),
        types: FieldType::NAMES,
        sent,
        problems,
        may_write: !principal.read_only() && principal.require(Scope::CustomFieldsWrite).is_ok(),
    };
    render(status, &page)
}

/// `GET /console/developers/custom-fields`
pub async fn list(
    req: HttpRequest,
    signed: Signed,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    page(
        &req,
        &signed,
        &db,
        StatusCode::OK,
        Sent::default(),
        Vec::new(),
    )
    .await
}

/// `POST /console/developers/custom-fields`: the API's create, from a form
/// (`allowedValues` one per line or comma-separated).
pub async fn create(
    req: HttpRequest,
    signed: Signed,
    pairs: Pairs,
    db: web::Data<Database>,
    cache: web::Data<DefinitionCache>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::CustomFieldsWrite)?;
    let mut sent = Sent {
        name: pairs.get("name").trim().to_owned(),
        kind: pairs.get("type").to_owned(),
        max_length: pairs.get("maxLength").trim().to_owned(),
        allowed_values: pairs.get("allowedValues").to_owned(),
        description: pairs.get("description").trim().to_owned(),
        errors: Vec::new(),
    };
    let mut body = Map::new();
    body.insert("name".into(), json!(sent.name));
    body.insert("type".into(), json!(sent.kind));
    if !sent.max_length.is_empty() {
        let length = sent
            .max_length
            .parse::<i64>()
            .map_or(json!(sent.max_length), |n| json!(n));
        body.insert("maxLength".into(), length);
    }
    if !sent.allowed_values.trim().is_empty() {
        let values: Vec<Value> = sent
            .allowed_values
            .split(['\n', ','])
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| json!(v))
            .collect();
        body.insert("allowedValues".into(), Value::Array(values));
    }
    if !sent.description.is_empty() {
        body.insert("description".into(), json!(sent.description));
    }
    let by = signed.audit(&req);
    let made = match NewDefinition::from_json(&body) {
        Ok(new) => {
            form::idempotency(&req, &pairs)?
                .answer(&db, tenant, Some(&body), move |conn| {
                    let definition = custom_fields::create(conn, tenant, &new, &by)?;
                    Ok(crate::api::answers::json(
                        StatusCode::CREATED,
                        &definition.to_json(),
                    ))
                })
                .await
        }
        Err(invalid) => Err(ApiError::Invalid(invalid)),
    };
    cache.forget(tenant.organization_id);
    match made {
        Ok(_) => Ok(see_other("/console/developers/custom-fields")),
        Err(ApiError::Invalid(invalid)) => {
            sent.errors = invalid
                .into_iter()
                .map(|InvalidField { field, message }| {
                    (
                        field.split('[').next().unwrap_or_default().to_owned(),
                        message,
                    )
                })
                .collect();
            page(
                &req,
                &signed,
                &db,
                StatusCode::UNPROCESSABLE_ENTITY,
                sent,
                Vec::new(),
            )
            .await
        }
        Err(
            error @ (ApiError::Refused(_)
            | ApiError::IdempotencyKeyReused
            | ApiError::IdempotencyKeyInUse),
        ) => {
            let status = error.status();
            page(&req, &signed, &db, status, sent, vec![error.to_string()]).await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /console/developers/custom-fields/{name}/delete`: the definition,
/// and its value in every customer.
pub async fn delete(
    req: HttpRequest,
    signed: Signed,
    name: web::Path<String>,
    pairs: Pairs,
    db: web::Data<Database>,
    cache: web::Data<DefinitionCache>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::CustomFieldsWrite)?;
    let by = signed.audit(&req);
    let name = name.into_inner();
    let deleted = db
        .transaction(move |conn| custom_fields::delete(conn, tenant, &name, &by))
        .await;
    cache.forget(tenant.organization_id);
    deleted?;
    Ok(see_other("/console/developers/custom-fields"))
}
