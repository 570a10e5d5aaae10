//! The one error type of the HTTP layer, and the only place where statuses
//! are chosen. Every error is answered as `application/problem+json`
//! (RFC 9457). A cause is never sent: it travels with the response to the
//! request's log line ([`crate::telemetry`]), next to the request id.

use std::borrow::Cow;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::InvalidField;
use crate::domain::customer::Refused;
use crate::domain::idempotency::IdempotencyKey;
use crate::domain::ids::CustomerId;
use crate::domain::refusal::Refusal;
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
    /// 404, 409, 412: what a write found when it ran, or a read found
    /// missing (404 also answers unknown routes).
    Refused(Refusal),
    /// 405, with the methods the route allows.
    MethodNotAllowed(&'static str),
    /// 408: the body did not arrive within the request timeout.
    RequestTimeout,
    /// 409: the first request with this Idempotency-Key is still running.
    IdempotencyKeyInUse,
    /// 413: a body over its limit, in bytes ([`MAX_BODY_BYTES`] but for an
    /// import's file).
    PayloadTooLarge { max_bytes: u64 },
    /// 415: a body not sent as one of these media types.
    UnsupportedMediaType(&'static str),
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

impl ApiError {
    /// 404: no such route, or no such record in this organization.
    pub const NOT_FOUND: Self = Self::Refused(Refusal::NotFound);
    /// 415: a body that is not JSON.
    pub const NOT_JSON: Self = Self::UnsupportedMediaType("application/json");
    /// 413: a body over [`MAX_BODY_BYTES`].
    pub const TOO_LARGE: Self = Self::PayloadTooLarge {
        max_bytes: MAX_BODY_BYTES as u64,
    };
}

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why a request failed on the server's side, for its log line.
#[derive(Debug, Clone)]
pub struct Cause {
    pub text: String,
    pub level: log::Level,
}

/// The seconds a client is asked to wait before retrying a 503 or a key in
/// use.
const RETRY_AFTER_SECONDS: u64 = 1;

/// Everything an error is answered with: its status, its problem body,
/// the headers it carries, and the cause to log.
struct Spec<'a> {
    status: StatusCode,
    problem: Problem<'a>,
    headers: Vec<(HeaderName, String)>,
    cause: Option<Cause>,
}

impl<'a> Spec<'a> {
    fn new(status: StatusCode, kind: &str, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            problem: Problem {
                r#type: format!("/problems/{kind}"),
                title,
                status: status.as_u16(),
                detail: detail.into(),
                invalid_fields: None,
                forbidden_fields: None,
                existing_customer_id: None,
                current_revision: None,
            },
            headers: Vec::new(),
            cause: None,
        }
    }

    fn header(mut self, name: HeaderName, value: impl ToString) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    fn logged(mut self, text: &str, level: log::Level) -> Self {
        self.cause = Some(Cause {
            text: text.to_owned(),
            level,
        });
        self
    }
}

impl ApiError {
    /// Every variant's status, problem type, title, detail, extension
    /// members and headers, side by side: a new kind of problem is one
    /// variant and one arm here (and a sample in [`ApiError::samples`] when
    /// its status is new to the document).
    fn spec(&self) -> Spec<'_> {
        use StatusCode as S;
        match self {
            Self::Malformed(detail) => Spec::new(
                S::BAD_REQUEST,
                "malformed-request",
                "The request is malformed.",
                detail,
            ),
            Self::Unauthorized => Spec::new(
                S::UNAUTHORIZED,
                "unauthorized",
                "Authentication is required.",
                "Send a valid credential: Authorization: ApiKey <key> or Bearer <token>.",
            )
            .header(header::WWW_AUTHENTICATE, "ApiKey, Bearer"),
            Self::Forbidden(detail) => Spec::new(
                S::FORBIDDEN,
                "forbidden",
                "The credential does not allow this.",
                *detail,
            ),
            Self::ForbiddenFields(fields) => {
                let mut spec = Spec::new(
                    S::FORBIDDEN,
                    "forbidden-field",
                    "The credential may not change these fields.",
                    format!(
                        "This token may not change {}; nothing was changed.",
                        fields.join(", ")
                    ),
                );
                spec.problem.forbidden_fields = Some(fields);
                spec
            }
            Self::Refused(Refusal::NotFound) => Spec::new(
                S::NOT_FOUND,
                "not-found",
                "The resource was not found.",
                "Nothing exists at this address in this organization.",
            ),
            Self::Refused(Refusal::ExternalIdTaken { existing }) => {
                let mut spec = Spec::new(
                    S::CONFLICT,
                    "conflict",
                    "Another customer holds this externalId.",
                    format!("{existing} already holds this externalId; nothing was changed."),
                );
                spec.problem.existing_customer_id = Some(*existing);
                spec
            }
            Self::Refused(Refusal::NameTaken(detail)) => Spec::new(
                S::CONFLICT,
                "conflict",
                "A record of this name exists.",
                *detail,
            ),
            Self::Refused(Refusal::Conflict(detail)) => Spec::new(
                S::CONFLICT,
                "conflict",
                "The request conflicts with the records as they are.",
                *detail,
            ),
            Self::Refused(Refusal::LimitReached(detail)) => Spec::new(
                S::CONFLICT,
                "limit-reached",
                "The organization has reached a limit.",
                *detail,
            ),
            Self::Refused(Refusal::RevisionMismatch { current }) => {
                let mut spec = Spec::new(
                    S::PRECONDITION_FAILED,
                    "precondition-failed",
                    "The customer is not at the revision If-Match names.",
                    format!("The customer is at revision {current}; nothing was changed."),
                );
                spec.problem.current_revision = Some(*current);
                spec
            }
            Self::MethodNotAllowed(allow) => Spec::new(
                S::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "The method is not allowed on this resource.",
                format!("Allowed methods: {allow}."),
            )
            .header(header::ALLOW, allow),
            Self::RequestTimeout => Spec::new(
                S::REQUEST_TIMEOUT,
                "request-timeout",
                "The request took too long.",
                "The request body did not arrive within the request timeout; nothing was done.",
            ),
            Self::IdempotencyKeyInUse => Spec::new(
                S::CONFLICT,
                "idempotency-key-in-use",
                "A request with this Idempotency-Key is still running.",
                "The first request with this Idempotency-Key has not finished; retry shortly.",
            )
            .header(header::RETRY_AFTER, RETRY_AFTER_SECONDS),
            Self::PayloadTooLarge { max_bytes } => Spec::new(
                S::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "The request body is too large.",
                format!("The request body must be at most {} KiB.", max_bytes / 1024),
            ),
            Self::UnsupportedMediaType(expected) => Spec::new(
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The request body is not of a media type this route takes.",
                format!("Send the body with Content-Type: {expected}."),
            ),
            Self::Invalid(fields) => {
                let mut spec = Spec::new(
                    S::UNPROCESSABLE_ENTITY,
                    "validation",
                    "Invalid data was sent.",
                    match fields.len() {
                        1 => "1 field is invalid.".to_owned(),
                        n => format!("{n} fields are invalid."),
                    },
                );
                spec.problem.invalid_fields = Some(Cow::Borrowed(fields));
                spec
            }
            Self::IdempotencyKeyReused => {
                let mut spec = Spec::new(
                    S::UNPROCESSABLE_ENTITY,
                    "idempotency-key-reused",
                    "The Idempotency-Key was used for another request.",
                    "This Idempotency-Key was first used with another method, path or body; \
                     use a new key for a new request.",
                );
                spec.problem.invalid_fields = Some(Cow::Owned(vec![InvalidField {
                    field: IdempotencyKey::HEADER.into(),
                    message: "was used for another method, path or body".into(),
                }]));
                spec
            }
            Self::RateLimited { retry_after } => Spec::new(
                S::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests.",
                format!(
                    "Too many requests for now; nothing was done. Retry after {retry_after} s."
                ),
            )
            .header(header::RETRY_AFTER, retry_after),
            Self::Unavailable(cause) => Spec::new(
                S::SERVICE_UNAVAILABLE,
                "service-unavailable",
                "The service is temporarily unavailable.",
                "The database is not answering; retry later.",
            )
            .header(header::RETRY_AFTER, RETRY_AFTER_SECONDS)
            .logged(cause, log::Level::Warn),
            Self::ShuttingDown => Spec::new(
                S::SERVICE_UNAVAILABLE,
                "service-unavailable",
                "The service is temporarily unavailable.",
                "This server is stopping and did not run the request; retry it.",
            )
            .header(header::RETRY_AFTER, RETRY_AFTER_SECONDS),
            Self::StorageFull(cause) => Spec::new(
                S::INSUFFICIENT_STORAGE,
                "storage-full",
                "The storage is full.",
                "Nothing was stored: the storage is full. Retry once space is freed.",
            )
            .logged(cause, log::Level::Error),
            Self::Internal(cause) => Spec::new(
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "An internal error occurred.",
                "The error was logged.",
            )
            .logged(cause, log::Level::Error),
        }
    }

    /// One error of each status that carries headers, for the document: an
    /// operation that can answer a status documents the headers these carry.
    fn samples() -> [ApiError; 5] {
        [
            Self::Unauthorized,
            Self::MethodNotAllowed("GET"),
            Self::IdempotencyKeyInUse,
            Self::RateLimited { retry_after: 1 },
            Self::Unavailable(String::new()),
        ]
    }

    /// The headers an answer of `status` may carry, each with what it
    /// means (for the document).
    pub fn documented_headers(status: u16) -> Vec<(&'static str, &'static str)> {
        let mut found = Vec::new();
        for sample in Self::samples() {
            let spec = sample.spec();
            for (name, _) in spec.headers.iter().filter(|_| spec.status == status) {
                let documented = match *name {
                    header::WWW_AUTHENTICATE => ("WWW-Authenticate", "`ApiKey, Bearer`"),
                    header::ALLOW => ("Allow", "The methods this path serves."),
                    header::RETRY_AFTER => ("Retry-After", "Seconds to wait before retrying."),
                    _ => continue,
                };
                if !found.contains(&documented) {
                    found.push(documented);
                }
            }
        }
        found
    }

    /// The problem+json body of this error, as answered (and as kept for an
    /// idempotent replay).
    pub fn problem_json(&self) -> String {
        serde_json::to_string(&self.spec().problem).unwrap_or_default()
    }

    pub fn status(&self) -> StatusCode {
        self.spec().status
    }

    /// The problem's title, `The resource was not found.`
    pub fn title(&self) -> &'static str {
        self.spec().problem.title
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
    invalid_fields: Option<Cow<'a, [InvalidField]>>,
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

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec().problem.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.spec().status
    }

    fn error_response(&self) -> HttpResponse {
        let spec = self.spec();
        let mut response = HttpResponse::build(spec.status);
        response.content_type("application/problem+json");
        for (name, value) in &spec.headers {
            response.insert_header((name.clone(), value.as_str()));
        }
        let mut response = response.body(self.problem_json());
        if let Some(cause) = spec.cause {
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

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Refused(refusal) => Self::Refused(refusal),
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
