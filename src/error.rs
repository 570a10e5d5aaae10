//! The one error type of the HTTP layer, and the only place where statuses
//! are chosen. Every error is answered as `application/problem+json`
//! (RFC 9457). A cause is never sent: it travels with the response to the
//! request's log line ([`crate::telemetry`]), next to the request id.

use std::fmt;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::InvalidField;
use crate::domain::customer::Refused;
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::CustomerId;
use crate::store::StoreError;

#[derive(Debug)]
pub enum ApiError {
    /// 400: a body that is not JSON, or not the JSON shape asked for.
    Malformed(String),
    /// 401: a missing, malformed, unknown, revoked or expired credential.
    Unauthorized,
    /// 403: a valid credential that may not do this here.
    Forbidden(&'static str),
    /// 403: a body naming fields this credential may not change.
    ForbiddenFields(Vec<String>),
    /// 404: no such route, or no such record in this organization.
    NotFound,
    /// 405, with the methods the route allows.
    MethodNotAllowed(&'static str),
    /// 408: the body did not arrive within the request timeout.
    RequestTimeout,
    /// 409: another live customer holds the externalId.
    Conflict { existing: CustomerId },
    /// 409: a record of this name exists (a custom field's definition).
    NameTaken(&'static str),
    /// 409: the first request with this Idempotency-Key is still running.
    IdempotencyKeyInUse,
    /// 409: a limit on how many records an organization may have.
    LimitReached(&'static str),
    /// 412: `If-Match` named other revisions than the current one.
    PreconditionFailed { current: i32 },
    /// 413: a body over the limit.
    PayloadTooLarge,
    /// 415: a body that is not `application/json`.
    UnsupportedMediaType,
    /// 422: fields or parameters that break the contract's rules.
    Invalid(Vec<InvalidField>),
    /// 422: the Idempotency-Key was used for another method, path or body.
    IdempotencyKeyReused,
    /// 429: too many requests (or wrong secrets) for now; retry after this
    /// many seconds.
    RateLimited { retry_after: u64 },
    /// 503: the database does not answer; the cause is logged.
    Unavailable(String),
    /// 503: the server is stopping and takes no new request.
    ShuttingDown,
    /// 507: the storage is full; the cause is logged.
    StorageFull(String),
    /// 500: a bug, never caused by what a client sends; the cause is logged.
    Internal(String),
}

/// Why a request failed on the server's side, for its log line.
#[derive(Debug, Clone)]
pub struct Cause {
    pub text: String,
    pub level: log::Level,
}

/// The seconds a client is asked to wait before retrying a 503.
const RETRY_AFTER_SECONDS: &str = "1";

impl ApiError {
    fn kind(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::Malformed(_) => (
                StatusCode::BAD_REQUEST,
                "malformed-request",
                "The request is malformed.",
            ),
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication is required.",
            ),
            Self::Forbidden(_) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "The credential does not allow this.",
            ),
            Self::ForbiddenFields(_) => (
                StatusCode::FORBIDDEN,
                "forbidden-field",
                "The credential may not change these fields.",
            ),
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "not-found",
                "The resource was not found.",
            ),
            Self::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "The method is not allowed on this resource.",
            ),
            Self::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "The request took too long.",
            ),
            Self::Conflict { .. } => (
                StatusCode::CONFLICT,
                "conflict",
                "Another customer holds this externalId.",
            ),
            Self::NameTaken(_) => (
                StatusCode::CONFLICT,
                "conflict",
                "A record of this name exists.",
            ),
            Self::IdempotencyKeyInUse => (
                StatusCode::CONFLICT,
                "idempotency-key-in-use",
                "A request with this Idempotency-Key is still running.",
            ),
            Self::LimitReached(_) => (
                StatusCode::CONFLICT,
                "limit-reached",
                "The organization has reached a limit.",
            ),
            Self::PreconditionFailed { .. } => (
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "The customer is not at the revision If-Match names.",
            ),
            Self::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "The Idempotency-Key was used for another request.",
            ),
            Self::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests.",
            ),
            Self::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "The request body is too large.",
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The request body must be JSON.",
            ),
            Self::Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid data was sent.",
            ),
            Self::Unavailable(_) | Self::ShuttingDown => (
                StatusCode::SERVICE_UNAVAILABLE,
                "service-unavailable",
                "The service is temporarily unavailable.",
            ),
            Self::StorageFull(_) => (
                StatusCode::INSUFFICIENT_STORAGE,
                "storage-full",
                "The storage is full.",
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "An internal error occurred.",
            ),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Malformed(detail) => detail.clone(),
            Self::Unauthorized => {
                "Send a valid credential: Authorization: ApiKey <key> or Bearer <token>.".into()
            }
            Self::Forbidden(detail) => (*detail).into(),
            Self::ForbiddenFields(fields) => format!(
                "This token may not change {}; nothing was changed.",
                fields.join(", ")
            ),
            Self::NotFound => "Nothing exists at this address in this organization.".into(),
            Self::MethodNotAllowed(allow) => format!("Allowed methods: {allow}."),
            Self::RequestTimeout => {
                "The request body did not arrive within the request timeout; nothing was done."
                    .into()
            }
            Self::Conflict { existing } => {
                format!("{existing} already holds this externalId; nothing was changed.")
            }
            Self::IdempotencyKeyInUse => {
                "The first request with this Idempotency-Key has not finished; retry shortly."
                    .into()
            }
            Self::LimitReached(detail) | Self::NameTaken(detail) => (*detail).into(),
            Self::PreconditionFailed { current } => {
                format!("The customer is at revision {current}; nothing was changed.")
            }
            Self::IdempotencyKeyReused => "This Idempotency-Key was first used with another \
                method, path or body; use a new key for a new request."
                .into(),
            Self::RateLimited { retry_after } => {
                format!("Too many requests for now; nothing was done. Retry after {retry_after} s.")
            }
            Self::PayloadTooLarge => "The request body must be at most 64 KiB.".into(),
            Self::UnsupportedMediaType => {
                "Send the body with Content-Type: application/json.".into()
            }
            Self::Invalid(fields) if fields.len() == 1 => "1 field is invalid.".into(),
            Self::Invalid(fields) => format!("{} fields are invalid.", fields.len()),
            Self::Unavailable(_) => "The database is not answering; retry later.".into(),
            Self::ShuttingDown => {
                "This server is stopping and did not run the request; retry it.".into()
            }
            Self::StorageFull(_) => {
                "Nothing was stored: the storage is full. Retry once space is freed.".into()
            }
            Self::Internal(_) => "The error was logged.".into(),
        }
    }

    fn cause(&self) -> Option<Cause> {
        let (text, level) = match self {
            Self::Unavailable(text) => (text, log::Level::Warn),
            Self::StorageFull(text) | Self::Internal(text) => (text, log::Level::Error),
            _ => return None,
        };
        Some(Cause {
            text: text.clone(),
            level,
        })
    }
}

/// An RFC 9457 problem, as every error is answered.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"type": "/problems/not-found", "title": "The resource was not found.", "status": 404,
    "detail": "Nothing exists at this address in this organization."}))]
pub struct Problem<'a> {
    /// A relative URI naming the kind of problem, e.g. `/problems/validation`.
    #[schema(example = "/problems/not-found")]
    r#type: String,
    title: &'static str,
    #[schema(minimum = 400, maximum = 599)]
    status: u16,
    detail: String,
    /// On 422 only (documented there by `ValidationProblem`): every invalid
    /// field or parameter, nested ones with dots.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    invalid_fields: Option<&'a [InvalidField]>,
    /// On `/problems/forbidden-field` only: every field of the body that the
    /// credential may not change.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    forbidden_fields: Option<&'a [String]>,
    /// On `/problems/conflict` only: the live customer holding the externalId.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<String>, example = "cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e")]
    existing_customer_id: Option<CustomerId>,
    /// On `/problems/precondition-failed` only: the customer's revision now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, minimum = 1)]
    current_revision: Option<i32>,
}

impl ApiError {
    /// The problem+json body of this error, as answered (and as kept for an
    /// idempotent replay).
    pub fn problem_json(&self) -> String {
        let (status, kind, title) = self.kind();
        let reused = [InvalidField {
            field: IdempotencyKey::HEADER.into(),
            message: "was used for another method, path or body".into(),
        }];
        let problem = Problem {
            r#type: format!("/problems/{kind}"),
            title,
            status: status.as_u16(),
            detail: self.detail(),
            invalid_fields: match self {
                Self::Invalid(fields) => Some(fields),
                Self::IdempotencyKeyReused => Some(&reused),
                _ => None,
            },
            forbidden_fields: match self {
                Self::ForbiddenFields(fields) => Some(fields),
                _ => None,
            },
            existing_customer_id: match self {
                Self::Conflict { existing } => Some(*existing),
                _ => None,
            },
            current_revision: match self {
                Self::PreconditionFailed { current } => Some(*current),
                _ => None,
            },
        };
        serde_json::to_string(&problem).unwrap_or_default()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind().0
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        match self {
            Self::MethodNotAllowed(allow) => {
                response.insert_header((header::ALLOW, *allow));
            }
            Self::Unauthorized => {
                response.insert_header((header::WWW_AUTHENTICATE, "ApiKey, Bearer"));
            }
            Self::Unavailable(_) | Self::ShuttingDown | Self::IdempotencyKeyInUse => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
            }
            Self::RateLimited { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            _ => {}
        }
        let mut response = response.body(self.problem_json());
        if let Some(cause) = self.cause() {
            response.extensions_mut().insert(cause);
        }
        response
    }
}

impl From<Refused> for ApiError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Forbidden(fields) => Self::ForbiddenFields(fields),
            Refused::Invalid(fields) => Self::Invalid(fields),
        }
    }
}

impl From<Vec<InvalidField>> for ApiError {
    fn from(fields: Vec<InvalidField>) -> Self {
        Self::Invalid(fields)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(_) | StoreError::Abandoned | StoreError::Conflict(_) => {
                Self::Unavailable(error.to_string())
            }
            StoreError::StorageFull(_) => Self::StorageFull(error.to_string()),
            StoreError::UniqueViolation { .. } | StoreError::Failed(_) => {
                Self::Internal(error.to_string())
            }
        }
    }
}
