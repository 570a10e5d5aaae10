//! Bounds on a request's life: how long its body may take to arrive, and
//! what happens to requests once the server has begun to stop.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use futures_core::Stream;
use tokio::time::Sleep;

use crate::error::ApiError;

/// How long a request's body may take to arrive.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// Gives the request's body a deadline: a body still arriving when it
/// passes fails to read, which the extractors answer with 408. Only the
/// body is timed: once a request's work has begun it is never cut short,
/// so an answer always tells what happened to the write (the work itself
/// is bounded by the wait for a connection and the database's timeouts).
pub async fn body_deadline<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    if let Some(timeout) = req.app_data::<web::Data<BodyTimeout>>().map(|t| t.0) {
        let body = Deadline {
            body: req.take_payload(),
            deadline: Box::pin(tokio::time::sleep(timeout)),
            expired: false,
        };
        req.set_payload(Payload::Stream {
            payload: Box::pin(body),
        });
    }
    next.call(req).await
}

struct Deadline {
    body: Payload,
    deadline: Pin<Box<Sleep>>,
    expired: bool,
}

/// How a body that missed its deadline fails; `error::json_error` answers
/// it with 408.
pub fn is_body_timeout(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(e) if e.kind() == io::ErrorKind::TimedOut)
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(chunk) = Pin::new(&mut this.body).poll_next(cx) {
            return Poll::Ready(chunk);
        }
        match this.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.expired = true;
                let late =
                    io::Error::new(io::ErrorKind::TimedOut, "the body did not arrive in time");
                Poll::Ready(Some(Err(PayloadError::Io(late))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Set once the server has begun a graceful stop.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn begin(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Once the server is stopping, a request that arrives (on a connection
/// kept alive from before) is refused with 503 and `Connection: close`
/// without running, and every answer still to be given closes its
/// connection: what was started finishes and is answered, nothing new
/// starts, and no client is left with a write it cannot know the fate of.
pub async fn refuse_when_draining<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let draining = req
        .app_data::<web::Data<Draining>>()
        .map(|d| d.get_ref().clone());
    let Some(draining) = draining else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    if draining.is_draining() {
        return Ok(req
            .error_response(ApiError::ShuttingDown)
            .map_into_right_body());
    }
    let mut response = next.call(req).await?;
    if draining.is_draining() {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(response.map_into_left_body())
}
