//! Bounds on what one request may take.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::error::ApiError;

/// How long an API request may take, reading its body included, so that a
/// slow client cannot hold its connection's work open indefinitely.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout(pub Duration);

/// Answers 408 when the rest of the request takes longer than the timeout.
pub async fn request_timeout<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let timeout = req
        .app_data::<web::Data<RequestTimeout>>()
        .map_or(Duration::MAX, |t| t.0);
    let request = req.request().clone();
    match actix_web::rt::time::timeout(timeout, next.call(req)).await {
        Ok(Ok(response)) => Ok(response.map_into_left_body()),
        Ok(Err(error)) => Ok(ServiceResponse::from_err(error, request).map_into_right_body()),
        Err(_) => {
            Ok(ServiceResponse::from_err(ApiError::RequestTimeout, request).map_into_right_body())
        }
    }
}
