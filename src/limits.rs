//! Bounds on a request's life: how long its body may take to arrive, how
//! often a key may call, which organization's share of the connections a
//! request draws on, and what happens to requests once the server has begun to stop.

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
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use futures_core::Stream;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use tokio::time::Sleep;

use crate::auth::Principal;
use crate::error::ApiError;
use uuid::Uuid;

/// How long a request's body may take to arrive.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// Gives the request's body a deadline: a body still arriving when it
/// passes fails to read, which the extractors answer with 408. Only the
/// body is timed: once a request's work has begun it is never cut short,
/// so an answer always tells what happened to the write (the work itself
/// is bounded by the wait for a connection and the database's timeouts).
pub async fn body_deadline<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    with_deadline(req, next, false).await
}

/// Like [`body_deadline`], but the deadline is for each piece of the body
/// (an import's file, which may take minutes to arrive): a body that stops
/// arriving for the request timeout fails to read.
pub async fn body_idle_deadline<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    with_deadline(req, next, true).await
}

async fn with_deadline<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
    idle: bool,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    if let Some(timeout) = req.app_data::<web::Data<BodyTimeout>>().map(|t| t.0) {
        let body = Deadline {
            body: req.take_payload(),
            deadline: Box::pin(tokio::time::sleep(timeout)),
            idle: idle.then_some(timeout),
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
    /// When set, each piece that arrives moves the deadline this far on.
    idle: Option<Duration>,
    expired: bool,
}

/// How a body that missed its deadline fails; `api::extract::json_error` answers
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
            if let Some(idle) = this.idle {
                let next = tokio::time::Instant::now() + idle;
                this.deadline.as_mut().reset(next);
            }
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

/// A token bucket per key (an API key and the tokens it minted share one)
/// or person, per instance: `per_second` requests a second, `burst` at
/// once.
pub struct RateLimits {
    limiter: RateLimiter<Uuid, DashMapStateStore<Uuid>, DefaultClock, StateInformationMiddleware>,
    clock: DefaultClock,
    /// `RateLimit-Policy`, the same on every answer (IETF
    /// draft-ietf-httpapi-ratelimit-headers: quota `q` per window `w` s).
    policy: HeaderValue,
}

impl RateLimits {
    pub fn new(per_second: u32, burst: u32) -> Self {
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
        let window = burst.get().div_ceil(per_second.get());
        Self {
            limiter: RateLimiter::dashmap(quota).with_middleware::<StateInformationMiddleware>(),
            clock: DefaultClock::default(),
            policy: HeaderValue::from_str(&format!("\"key\";q={burst};w={window}"))
                .expect("digits and quotes are a valid header value"),
        }
    }

    /// Takes one request from `key`'s bucket: the `RateLimit` header value
    /// (what remains), or how long to wait.
    fn take(&self, key: Uuid) -> Result<HeaderValue, u64> {
        match self.limiter.check_key(&key) {
            Ok(state) => Ok(HeaderValue::from_str(&format!(
                "\"key\";r={};t=1",
                state.remaining_burst_capacity()
            ))
            .expect("digits are a valid header value")),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            }
        }
    }
}

/// Refuses a request whose key has used up its bucket with 429 and
/// `Retry-After`, before anything else is done for it; every answer tells
/// the policy and what remains (`RateLimit-Policy`, `RateLimit`). Runs
/// after [`crate::auth::middleware::authenticate`].
pub async fn rate_limit<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let limits = req.app_data::<web::Data<RateLimits>>().cloned();
    let key = req.extensions().get::<Principal>().map(Principal::bucket);
    let (Some(limits), Some(key)) = (limits, key) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let policy = (
        HeaderName::from_static("ratelimit-policy"),
        limits.policy.clone(),
    );
    match limits.take(key) {
        Ok(remaining) => {
            let mut response = next.call(req).await?;
            let headers = response.headers_mut();
            headers.insert(policy.0, policy.1);
            headers.insert(HeaderName::from_static("ratelimit"), remaining);
            Ok(response.map_into_left_body())
        }
        Err(retry_after) => {
            let mut response = req.error_response(ApiError::RateLimited { retry_after });
            let headers = response.headers_mut();
            headers.insert(policy.0, policy.1);
            headers.insert(
                HeaderName::from_static("ratelimit"),
                HeaderValue::from_str(&format!("\"key\";r=0;t={retry_after}"))
                    .expect("digits are a valid header value"),
            );
            Ok(response.map_into_right_body())
        }
    }
}

/// Runs the rest of the request as its organization's (see
/// [`crate::store::for_organization`]): its database work counts against
/// the organization's share of the connections. Runs after authorization,
/// so the organization is the credential's own.
pub async fn organization_share<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let org = req
        .extensions()
        .get::<Principal>()
        .map(|p| p.organization_id);
    match org {
        Some(org) => crate::store::for_organization(org, next.call(req)).await,
        None => next.call(req).await,
    }
}
