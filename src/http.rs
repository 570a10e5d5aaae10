//! Conventions of HTTP that hold for every route.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

use actix_web::ResponseError;

use crate::error::ApiError;

/// HEAD is answered wherever GET is (RFC 9110): routed as GET, and the
/// server sends the head of the answer without its body (actix knows the
/// request was a HEAD from its head, whatever the routing saw).
pub async fn head_as_get<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// API answers (customers, tokens, events, errors) are never stored by a
/// cache on the way.
pub async fn no_store<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let mut response = next.call(req).await?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// No answer is sniffed for another content type than it declares: every
/// answer says `X-Content-Type-Options: nosniff`.
pub async fn nosniff<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let mut response = next.call(req).await?;
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// What Swagger UI's pages may load: their own files, and the `data:`
/// images and style attributes Swagger UI draws with; no script but its
/// own files, nothing framed, no form sent elsewhere.
const DOCS_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Swagger UI's answers carry [`DOCS_POLICY`] as their
/// `Content-Security-Policy`.
pub async fn docs_policy<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let mut response = next.call(req).await?;
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_POLICY),
    );
    Ok(response)
}

/// What the console's pages may load: their own files only; no inline
/// script or style, nothing framed, no form sent elsewhere (contract
/// section 14).
const CONSOLE_POLICY: &str = "default-src 'self'; script-src 'self'; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Every console answer carries [`CONSOLE_POLICY`] as its
/// `Content-Security-Policy`, and `Referrer-Policy: same-origin`.
pub async fn console_policy<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONSOLE_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    Ok(response)
}

/// Files whose name changes with their content may be kept for a year: the
/// `no-store` of the pages around them is replaced.
pub async fn cacheable<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let mut response = next.call(req).await?;
    if response.status().is_success() {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    Ok(response)
}

/// A 404 from a service of another crate (Swagger UI's files) answered as
/// every other 404 is: problem+json.
pub async fn problem_for_not_found<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let response = next.call(req).await?;
    if response.status() != actix_web::http::StatusCode::NOT_FOUND {
        return Ok(response.map_into_left_body());
    }
    let (req, _) = response.into_parts();
    Ok(ServiceResponse::new(req, ApiError::NOT_FOUND.error_response()).map_into_right_body())
}
