//! Conventions of HTTP that hold for every route.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

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
