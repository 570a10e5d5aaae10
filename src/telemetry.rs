//! Request ids, the log line of a failed request's cause, and Prometheus
//! metrics, as middleware around every request.

use std::borrow::Cow;
use std::time::Instant;

use crate::domain::audit::Origin;
use crate::error::{ApiError, Cause};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use actix_web::{HttpMessage, HttpRequest};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use secrecy::{ExposeSecret, SecretString};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
const MAX_REQUEST_ID_LEN: usize = 128;

/// The id of one request: the client's `X-Request-Id` when it is short
/// printable ASCII, else a new UUIDv7.
fn request_id_of(req: &ServiceRequest) -> HeaderValue {
    req.headers()
        .get(&REQUEST_ID)
        .filter(|v| {
            let bytes = v.as_bytes();
            !bytes.is_empty()
                && bytes.len() <= MAX_REQUEST_ID_LEN
                && bytes.iter().all(|b| (0x21..=0x7e).contains(b))
        })
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::now_v7().simple().to_string())
                .expect("hex digits are a valid header value")
        })
}

/// The request's id, for what records it (the audit log).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Where a request came from, for the audit log: its id, the client's
/// address (the peer's: no proxy header is trusted) and its `User-Agent`.
pub fn origin_of(req: &HttpRequest) -> Origin {
    let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
    Origin::new(
        request_id.as_deref(),
        req.peer_addr().map(|peer| peer.ip().to_string()),
        req.headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|agent| agent.to_str().ok()),
    )
}

/// Takes or makes the request id and echoes it on the response, where the
/// access log reads it; logs the cause of a server-side failure with it, so
/// that a logged 500 or 503 can be matched to its request.
pub async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id_of(&req);
    req.extensions_mut().insert(RequestId(
        String::from_utf8_lossy(id.as_bytes()).into_owned(),
    ));
    let mut response = next.call(req).await?;
    if let Some(cause) = response.response().extensions().get::<Cause>() {
        let id = String::from_utf8_lossy(id.as_bytes());
        log::log!(cause.level, "request_id={id} {}", cause.text);
    }
    response.headers_mut().insert(REQUEST_ID, id);
    Ok(response)
}

/// The service's Prometheus metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    key_verifications: IntCounter,
    webhook_deliveries: IntCounterVec,
    webhook_backlog: IntGauge,
    webhook_oldest: prometheus::Gauge,
}

impl Metrics {
    pub fn new() -> Self {
        let requests = IntCounterVec::new(
            Opts::new(
                "clientele_http_requests_total",
                "HTTP requests by route template, method and status.",
            ),
            &["route", "method", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "clientele_http_request_duration_seconds",
                "HTTP request latency by route template and method.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route", "method"],
        )
        .expect("valid metric");
        let pool_connections = IntGauge::new(
            "clientele_db_pool_connections",
            "Open database connections (in use and idle).",
        )
        .expect("valid metric");
        let pool_idle = IntGauge::new(
            "clientele_db_pool_idle_connections",
            "Idle database connections.",
        )
        .expect("valid metric");
        let key_verifications = IntCounter::new(
            "clientele_api_key_verifications_total",
            "argon2 verifications of API key secrets (at most one per key and cache lifetime).",
        )
        .expect("valid metric");
        let webhook_deliveries = IntCounterVec::new(
            Opts::new(
                "clientele_webhook_deliveries_total",
                "Webhook delivery attempts by outcome (delivered, retrying, failed).",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let webhook_backlog = IntGauge::new(
            "clientele_webhook_backlog",
            "Webhook deliveries pending (refreshed every few seconds).",
        )
        .expect("valid metric");
        let webhook_oldest = prometheus::Gauge::new(
            "clientele_webhook_backlog_oldest_seconds",
            "Age of the oldest pending webhook delivery, 0 when none.",
        )
        .expect("valid metric");
        let build_info = IntGaugeVec::new(
            Opts::new("clientele_build_info", "The running build; always 1."),
            &["version"],
        )
        .expect("valid metric");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let registry = Registry::new();
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("metric names are unique");
        for collector in [
            Box::new(build_info) as Box<dyn prometheus::core::Collector>,
            Box::new(requests.clone()),
            Box::new(latency.clone()),
            Box::new(pool_connections.clone()),
            Box::new(pool_idle.clone()),
            Box::new(key_verifications.clone()),
            Box::new(webhook_deliveries.clone()),
            Box::new(webhook_backlog.clone()),
            Box::new(webhook_oldest.clone()),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Self {
            registry,
            requests,
            latency,
            pool_connections,
            pool_idle,
            key_verifications,
            webhook_deliveries,
            webhook_backlog,
            webhook_oldest,
        }
    }

    /// One webhook delivery attempt ended with `outcome`.
    pub fn count_webhook_delivery(&self, outcome: &'static str) {
        self.webhook_deliveries.with_label_values(&[outcome]).inc();
    }

    pub fn set_webhook_backlog(&self, pending: i64, oldest_seconds: f64) {
        self.webhook_backlog.set(pending);
        self.webhook_oldest.set(oldest_seconds);
    }

    fn observe(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let method = method_label(method);
        self.requests
            .with_label_values(&[route, method, status.to_string().as_str()])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    /// The text exposition format, with the pool gauges and the verification
    /// count read now.
    pub fn render(&self, pool_connections: u32, pool_idle: u32, key_verifications: u64) -> String {
        self.pool_connections.set(pool_connections.into());
        self.pool_idle.set(pool_idle.into());
        self.key_verifications
            .inc_by(key_verifications.saturating_sub(self.key_verifications.get()));
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .expect("text encoding into memory cannot fail");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// A request method as a label or log field: the standard ones by name,
/// anything else a client may invent as `_OTHER`, so that no client can make
/// new series or long log lines.
pub fn method_label(method: &Method) -> &'static str {
    const STANDARD: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    STANDARD
        .iter()
        .find(|standard| *standard == method)
        .map_or("_OTHER", |standard| standard.as_str())
}

/// The route template of a request, given to each resource as its data:
/// asking actix (`match_pattern`) would match the path against every route
/// again, with the router's regex engine.
#[derive(Debug, Clone, Copy)]
pub struct RouteTemplate(pub &'static str);

/// Counts and times every request by its route template (`/v1/…/{customerId}`,
/// never the ids themselves, which would explode the label space).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().clone();
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let (route, status) = match &result {
            Ok(response) => {
                let request = response.request();
                let known = request.app_data::<RouteTemplate>().copied();
                let route = match known {
                    Some(RouteTemplate(template)) => Cow::Borrowed(template),
                    None => request
                        .match_pattern()
                        .map_or(Cow::Borrowed("unmatched"), Cow::Owned),
                };
                (route, response.status().as_u16())
            }
            Err(error) => (
                Cow::Borrowed("unmatched"),
                error.as_response_error().status_code().as_u16(),
            ),
        };
        metrics.observe(&route, &method, status, started.elapsed().as_secs_f64());
    }
    result
}

/// Starts logging (env_logger, `RUST_LOG`, `info` by default). Records of
/// the HTTP dispatcher about a client's malformed request (actix logs them
/// at ERROR) are logged at DEBUG: a client can send any number of them, and
/// they say nothing about the server.
pub fn init_logging() {
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).build();
    let max = logger.filter();
    log::set_max_level(max);
    let _ = log::set_boxed_logger(Box::new(ClientErrorsAtDebug(logger)));
}

struct ClientErrorsAtDebug(env_logger::Logger);

impl ClientErrorsAtDebug {
    fn about_a_client(record: &log::Metadata<'_>) -> bool {
        record.target().starts_with("actix_http::h1") && record.level() <= log::Level::Warn
    }
}

impl log::Log for ClientErrorsAtDebug {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !Self::about_a_client(record.metadata()) {
            return self.0.log(record);
        }
        let lowered = log::Record::builder()
            .level(log::Level::Debug)
            .target(record.target())
            .args(*record.args())
            .module_path(record.module_path())
            .file(record.file())
            .line(record.line())
            .build();
        if self.0.enabled(lowered.metadata()) {
            self.0.log(&lowered);
        }
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Who may read `/metrics`: on its own listener only, when one is
/// configured; with a bearer secret, when one is set; otherwise anyone
/// outside production and no one in it.
pub struct MetricsAccess {
    pub port: Option<u16>,
    pub token: Option<SecretString>,
    pub production: bool,
}

impl MetricsAccess {
    /// Whether `req` may read the metrics: `NotFound` where they are not
    /// served, `Unauthorized` without the secret.
    pub fn check(&self, req: &HttpRequest) -> Result<(), ApiError> {
        if let Some(port) = self.port {
            return match req.app_config().local_addr().port() == port {
                true => Ok(()),
                false => Err(ApiError::NOT_FOUND),
            };
        }
        match &self.token {
            Some(token) => {
                let presented = req
                    .headers()
                    .get(actix_web::http::header::AUTHORIZATION)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.strip_prefix("Bearer "))
                    .unwrap_or_default();
                let expected = token.expose_secret().as_bytes();
                match constant_time_eq(presented.as_bytes(), expected) {
                    true => Ok(()),
                    false => Err(ApiError::Unauthorized),
                }
            }
            None if self.production => Err(ApiError::NOT_FOUND),
            None => Ok(()),
        }
    }
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// On the metrics listener, nothing but `/metrics` is served: the API's
/// routes stay on the API's address.
pub async fn metrics_listener_only<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let port = req
        .app_data::<web::Data<MetricsAccess>>()
        .and_then(|access| access.port);
    let on_metrics_port = port.is_some_and(|port| req.app_config().local_addr().port() == port);
    if on_metrics_port && req.path() != crate::api::paths::METRICS {
        return Ok(req
            .error_response(ApiError::NOT_FOUND)
            .map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
