//! Typed extractors: each one parses a part of the request into domain
//! types and documents that part for the OpenAPI document, from the same
//! domain description.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde_json::{Map, Value};
use utoipa::IntoParams;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};

use crate::auth::{Principal, Tenant};
use crate::domain::InvalidField;
use crate::domain::audit::{AUDIT_PARAMETERS, Audit, AuditParams};
use crate::domain::custom_fields::FieldName;
use crate::domain::event::{FEED_PARAMETERS, FeedParams};
use crate::domain::ids::{CustomerId, EndpointId, ImportId, OrganizationId};
use crate::domain::import::{IMPORT_PARAMETERS, ImportParams};
use crate::domain::listing::{ListParams, PARAMETERS};
use crate::domain::preconditions::Condition;
use crate::domain::query;
use crate::domain::reports::{self, Choice, ReportParams};
use crate::domain::schema;
use crate::domain::webhook::{ATTEMPT_PARAMETERS, AttemptParams};
use crate::error::ApiError;
use crate::limits::is_body_timeout;
use crate::telemetry::origin_of;

/// Who acts (the authenticated caller) and from where.
impl FromRequest for Audit {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let principal = Principal::from_request(req, payload).into_inner();
        ready(principal.map(|principal| Audit {
            actor: principal.actor(),
            origin: origin_of(req),
        }))
    }
}

/// The authenticated caller, and what the audit log records of them.
pub struct Caller {
    pub principal: Principal,
    pub audit: Audit,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let principal = Principal::from_request(req, payload).into_inner();
        ready(principal.map(|principal| Caller {
            audit: Audit {
                actor: principal.actor(),
                origin: origin_of(req),
            },
            principal,
        }))
    }
}

/// A JSON object body; anything else is 400 (see [`json_error`]).
pub type JsonObject = web::Json<Map<String, Value>>;

fn path_parameter(name: &str, schema: Value) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(schema::of(schema)))
        .build()
}

/// The organization comes from the credential, which `authorize` has
/// matched with the one in the path; this documents that path parameter.
impl IntoParams for Tenant {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_parameter("organizationId", OrganizationId::schema())]
    }
}

/// The webhook endpoint named in the path. A malformed id names nothing:
/// 404.
#[derive(Debug, Clone, Copy)]
pub struct EndpointPath(pub EndpointId);

impl FromRequest for EndpointPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .match_info()
            .get("endpointId")
            .and_then(EndpointId::parse);
        ready(id.map(Self).ok_or(ApiError::NOT_FOUND))
    }
}

impl IntoParams for EndpointPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_parameter("endpointId", EndpointId::schema())]
    }
}

/// The custom field named in the path. A name no definition could have
/// names nothing: 404.
#[derive(Debug, Clone)]
pub struct FieldPath(pub FieldName);

impl FromRequest for FieldPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let name = req
            .match_info()
            .get("name")
            .and_then(|name| FieldName::parse(name).ok());
        ready(name.map(Self).ok_or(ApiError::NOT_FOUND))
    }
}

impl IntoParams for FieldPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_parameter("name", FieldName::schema())]
    }
}

/// The customer named in the path. A malformed id names nothing: 404.
#[derive(Debug, Clone, Copy)]
pub struct CustomerPath(pub CustomerId);

impl FromRequest for CustomerPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .match_info()
            .get("customerId")
            .and_then(CustomerId::parse);
        ready(id.map(Self).ok_or(ApiError::NOT_FOUND))
    }
}

impl IntoParams for CustomerPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_parameter("customerId", CustomerId::schema())]
    }
}

/// The import named in the path. A malformed id names nothing: 404.
#[derive(Debug, Clone, Copy)]
pub struct ImportPath(pub ImportId);

impl FromRequest for ImportPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.match_info().get("importId").and_then(ImportId::parse);
        ready(id.map(Self).ok_or(ApiError::NOT_FOUND))
    }
}

impl IntoParams for ImportPath {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_parameter("importId", ImportId::schema())]
    }
}

/// An import's query string (`mode`, `dryRun`): every unknown, repeated or
/// bad parameter is a 422 naming it.
pub struct ImportQuery(pub ImportParams);

impl FromRequest for ImportQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query_pairs(req).and_then(|pairs| Ok(Self(ImportParams::parse(&pairs)?))))
    }
}

impl IntoParams for ImportQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        query_parameters(&IMPORT_PARAMETERS)
    }
}

/// The list's query string, parsed into [`ListParams`]: every unknown,
/// repeated or bad parameter is a 422 naming it.
pub struct ListQuery(pub ListParams);

impl FromRequest for ListQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query_pairs(req).and_then(|pairs| Ok(Self(ListParams::parse(&pairs)?))))
    }
}

impl IntoParams for ListQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        query_parameters(&PARAMETERS)
    }
}

/// A report's query string (export, stats): the list's filters and the
/// report's own choice `C`.
pub struct ReportQuery<C>(pub ReportParams<C>);

impl<C: Choice> FromRequest for ReportQuery<C> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query_pairs(req).and_then(|pairs| Ok(Self(ReportParams::parse(&pairs)?))))
    }
}

impl<C: Choice> IntoParams for ReportQuery<C> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let own = ParameterBuilder::new()
            .name(C::PARAMETER)
            .parameter_in(ParameterIn::Query)
            .required(match C::REQUIRED {
                true => Required::True,
                false => Required::False,
            })
            .description(Some(C::DESCRIPTION))
            .schema(Some(schema::of(C::schema())))
            .build();
        let filters = PARAMETERS.iter().filter(|p| reports::is_filter(p.name));
        std::iter::once(own)
            .chain(query_parameters(filters))
            .collect()
    }
}

/// The document's query parameters, from the table the parser reads.
fn query_parameters<'a, P: 'a>(
    table: impl IntoIterator<Item = &'a query::Parameter<P>>,
) -> Vec<Parameter> {
    table
        .into_iter()
        .map(|parameter| {
            ParameterBuilder::new()
                .name(parameter.name)
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(parameter.description))
                .schema(Some(schema::of((parameter.schema)())))
                .build()
        })
        .collect()
}

/// The decoded pairs of the query string.
fn query_pairs(req: &HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| ApiError::Malformed("The query string could not be decoded.".into()))
}

/// The change feed's query string, parsed into [`FeedParams`].
pub struct FeedQuery(pub FeedParams);

impl FromRequest for FeedQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query_pairs(req).and_then(|pairs| Ok(Self(FeedParams::parse(&pairs)?))))
    }
}

impl IntoParams for FeedQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        query_parameters(&FEED_PARAMETERS)
    }
}

/// The audit log's query string, parsed into [`AuditParams`].
pub struct AuditQuery(pub AuditParams);

impl FromRequest for AuditQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query_pairs(req).and_then(|pairs| Ok(Self(AuditParams::parse(&pairs)?))))
    }
}

impl IntoParams for AuditQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        query_parameters(&AUDIT_PARAMETERS)
    }
}

/// The deliveries listing's query string, parsed into [`AttemptParams`].
pub struct AttemptQuery(pub AttemptParams);

impl FromRequest for AttemptQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(query_pairs(req).and_then(|pairs| Ok(Self(AttemptParams::parse(&pairs)?))))
    }
}

impl IntoParams for AttemptQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        query_parameters(&ATTEMPT_PARAMETERS)
    }
}

/// A precondition header, `If-Match` or `If-None-Match`: a list of entity
/// tags or `*`; anything else is 422 naming the header.
fn condition(req: &HttpRequest, name: &'static str) -> Result<Option<Condition>, ApiError> {
    let Some(value) = req.headers().get(name) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(Condition::parse)
        .map(Some)
        .ok_or_else(|| {
            ApiError::Invalid(vec![InvalidField {
                field: name.into(),
                message: "must be * or a list of entity tags such as \"3\"".into(),
            }])
        })
}

/// `If-Match` on a write: the revisions it may apply to.
pub struct IfMatch(pub Option<Condition>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(condition(req, "If-Match").map(Self))
    }
}

/// `If-None-Match` on a read: revisions the client already holds.
pub struct IfNoneMatch(pub Option<Condition>);

impl FromRequest for IfNoneMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(condition(req, "If-None-Match").map(Self))
    }
}

/// An entity-tag list, as the document describes `If-Match` and
/// `If-None-Match`.
fn condition_schema() -> Value {
    serde_json::json!({"type": "string", "pattern": Condition::PATTERN, "examples": ["\"3\"", "*"]})
}

impl IntoParams for IfMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![super::answers::header_parameter(
            "If-Match",
            "Write only if the customer is at one of these revisions (`\"3\"`, a list, or `*`; strong \
             comparison: a weak tag never matches): a compare-and-set. Otherwise 412 with `currentRevision`.",
            condition_schema(),
        )]
    }
}

impl IntoParams for IfNoneMatch {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![super::answers::header_parameter(
            "If-None-Match",
            "Answer 304 without a body when the customer is at one of these revisions (weak comparison).",
            condition_schema(),
        )]
    }
}

/// Maps the JSON extractor's failures onto problems.
pub fn json_error(error: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let problem = match &error {
        E::Payload(e) if is_body_timeout(e) => ApiError::RequestTimeout,
        E::Overflow { .. } | E::OverflowKnownLength { .. } => ApiError::TOO_LARGE,
        E::ContentType => ApiError::NOT_JSON,
        E::Deserialize(e) if e.is_data() => {
            ApiError::Malformed("The request body must be a JSON object.".into())
        }
        E::Deserialize(e) => ApiError::Malformed(format!(
            "The request body is not valid JSON (line {}, column {}).",
            e.line(),
            e.column()
        )),
        _ => ApiError::Malformed("The request body could not be read.".into()),
    };
    problem.into()
}

/// A query string that cannot be decoded at all.
pub fn query_error(_: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::Malformed("The query string could not be decoded.".into()).into()
}
