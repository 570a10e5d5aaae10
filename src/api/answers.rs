//! Writes answered through kept answers: with an `Idempotency-Key`, a
//! write's answer commits in the same transaction as the write and is
//! replayed to a retry byte for byte (contract section 8); without one, the
//! same answer is simply sent.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};
use std::future::{Ready, ready};
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};

use crate::domain::InvalidField;
use crate::domain::customer::Customer;
use crate::domain::idempotency::{IdempotencyKey, fingerprint};
use crate::domain::preconditions::etag;
use crate::domain::refusal::Refusal;
use crate::domain::tenant::Tenant;
use crate::error::ApiError;
use crate::store::idempotency::{self, Found, KeptAnswer};
use crate::store::{Database, DbConnection, StoreError};

/// How long an answer is kept (`CLIENTELE_IDEMPOTENCY_HOURS`).
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyWindow(pub Duration);

pub const REPLAYED: &str = "Idempotent-Replayed";

/// The request's `Idempotency-Key`, if any (422 naming the header when it
/// is not 1..=255 visible ASCII characters), with what its fingerprint
/// needs of the request.
pub struct Idempotency {
    key: Option<IdempotencyKey>,
    method: String,
    path: String,
    window: Duration,
    keys: web::Data<RecentKeys>,
}

impl FromRequest for Idempotency {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = req.headers().get(IdempotencyKey::HEADER).map(|value| {
            value
                .to_str()
                .map_err(|_| "must be visible ASCII".to_owned())
        });
        ready(Self::of(req, raw.transpose()))
    }
}

impl Idempotency {
    /// The key `raw` (a header's, or a console form's hidden field) for the
    /// request `req`: 422 naming the header unless it is 1..=255 visible
    /// ASCII characters.
    pub fn of(req: &HttpRequest, raw: Result<Option<&str>, String>) -> Result<Self, ApiError> {
        let key = raw
            .and_then(|raw| raw.map(IdempotencyKey::parse).transpose())
            .map_err(|message| {
                ApiError::Invalid(vec![InvalidField {
                    field: IdempotencyKey::HEADER.into(),
                    message,
                }])
            })?;
        let window = req
            .app_data::<web::Data<IdempotencyWindow>>()
            .map_or(Duration::from_secs(24 * 3600), |w| w.0);
        let keys = req
            .app_data::<web::Data<RecentKeys>>()
            .cloned()
            .unwrap_or_default();
        Ok(Self {
            key,
            method: req.method().to_string(),
            path: req.path().to_owned(),
            window,
            keys,
        })
    }
}

/// The answer of a write that returned a customer.
pub fn customer(status: StatusCode, customer: &Customer, with_location: bool) -> KeptAnswer {
    KeptAnswer {
        status: status.as_u16(),
        location: with_location.then(|| {
            format!(
                "/v1/public-api/organizations/{}/customers/{}",
                customer.organization_id, customer.id
            )
        }),
        etag: Some(etag(customer.revision)),
        body: serde_json::to_string(customer).unwrap_or_default(),
    }
}

/// A write's answer with no body.
pub fn no_content() -> KeptAnswer {
    KeptAnswer {
        status: StatusCode::NO_CONTENT.as_u16(),
        location: None,
        etag: None,
        body: String::new(),
    }
}

/// What a write that ran and refused (404, 409, 412) keeps: the problem it
/// is answered with.
fn refused(refusal: &Refusal) -> KeptAnswer {
    let error = ApiError::Refused(refusal.clone());
    KeptAnswer {
        status: error.status().as_u16(),
        location: None,
        etag: None,
        body: error.problem_json(),
    }
}

/// Any JSON answer.
pub fn json(status: StatusCode, body: &impl serde::Serialize) -> KeptAnswer {
    KeptAnswer {
        status: status.as_u16(),
        location: None,
        etag: None,
        body: serde_json::to_string(body).unwrap_or_default(),
    }
}

/// The response of a kept or fresh answer.
pub fn response(answer: KeptAnswer, replayed: bool) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    if let Some(location) = answer.location {
        response.insert_header((header::LOCATION, location));
    }
    if let Some(etag) = answer.etag {
        response.insert_header((header::ETAG, etag));
    }
    if replayed {
        response.insert_header((REPLAYED, "true"));
    }
    if answer.body.is_empty() {
        return response.finish();
    }
    let problem = status.is_client_error() || status.is_server_error();
    response.content_type(match problem {
        true => "application/problem+json",
        false => "application/json",
    });
    response.body(answer.body)
}

impl utoipa::IntoParams for Idempotency {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![header_parameter(
            IdempotencyKey::HEADER,
            "Makes a retry safe: the first request with a key runs, and its answer is kept and \
             replayed to every retry with the same key and request (`Idempotent-Replayed: true`). \
             1 to 255 visible ASCII characters.",
            json!({"type": "string", "pattern": "^[!-~]{1,255}$", "examples": ["order-1017-attempt"]}),
        )]
    }
}

/// A request header, for the document.
pub fn header_parameter(name: &str, description: &str, schema: Value) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(crate::domain::schema::of(schema)))
        .build()
}

impl Idempotency {
    /// Runs `write` in one transaction and answers what it returns. With a
    /// key: a kept answer is replayed without running anything; otherwise
    /// the write runs and its answer is kept in the write's own
    /// transaction, and so is its refusal (404, 409, 412: the request ran).
    /// Any other error keeps nothing: the client may fix it and retry.
    pub async fn respond<F>(
        self,
        db: &Database,
        tenant: Tenant,
        body: Option<&Map<String, Value>>,
        write: F,
    ) -> Result<HttpResponse, ApiError>
    where
        F: Fn(&mut DbConnection) -> Result<KeptAnswer, StoreError> + Send + Sync + 'static,
    {
        let (answer, replayed) = self.answer(db, tenant, body, write).await?;
        Ok(response(answer, replayed))
    }

    /// [`Idempotency::respond`]'s answer, and whether it was replayed: for
    /// the console, which shows a page rather than the answer.
    pub async fn answer<F>(
        self,
        db: &Database,
        tenant: Tenant,
        body: Option<&Map<String, Value>>,
        write: F,
    ) -> Result<(KeptAnswer, bool), ApiError>
    where
        F: Fn(&mut DbConnection) -> Result<KeptAnswer, StoreError> + Send + Sync + 'static,
    {
        let Some(key) = self.key.as_ref().map(|key| key.as_str().to_owned()) else {
            return Ok((db.transaction(write).await?, false));
        };
        let print = fingerprint(&self.method, &self.path, body);
        let write = Arc::new(write);
        // A key this process has not met lately is almost always new: the
        // write runs at once, without a lookup first, and the key's primary
        // key says when an answer was kept after all. A key met before is
        // looked up first, so that a replay costs one read.
        if !self.keys.met(tenant, &key) {
            match self.run(db, tenant, &key, &print, false, &write).await {
                Err(ApiError::IdempotencyKeyInUse) => {}
                outcome => return outcome,
            }
        }
        let found = {
            let (key, print, window) = (key.clone(), print.clone(), self.window);
            db.run(move |conn| idempotency::find(conn, tenant, &key, &print, window))
                .await?
        };
        if matches!(found, Found::Answer(_) | Found::Reused) {
            self.keys.meet(tenant, &key);
        }
        let expired = match found {
            Found::Answer(answer) => return Ok((answer, true)),
            Found::Reused => return Err(ApiError::IdempotencyKeyReused),
            Found::Expired => true,
            Found::Nothing => false,
        };
        self.run(db, tenant, &key, &print, expired, &write).await
    }

    /// Runs `write` and keeps its answer under `key`, after deleting the
    /// key's expired answer when `expired`. 409 when the key is running in
    /// this process, or was kept meanwhile by another request.
    async fn run<F>(
        &self,
        db: &Database,
        tenant: Tenant,
        key: &str,
        print: &str,
        expired: bool,
        write: &Arc<F>,
    ) -> Result<(KeptAnswer, bool), ApiError>
    where
        F: Fn(&mut DbConnection) -> Result<KeptAnswer, StoreError> + Send + Sync + 'static,
    {
        // Retries of a finished request replay, however many at once. A
        // second request with a key that is running here is told so rather
        // than kept waiting; one on another instance meets the key's
        // primary key when it keeps its answer, and rolls back.
        let _running = self
            .keys
            .enter(tenant, key)
            .ok_or(ApiError::IdempotencyKeyInUse)?;
        let (owned_key, owned_print, write) = (key.to_owned(), print.to_owned(), write.clone());
        let outcome = db
            .transaction(move |conn| {
                if expired {
                    idempotency::forget(conn, tenant, &owned_key)?;
                }
                let answer = match write(conn) {
                    Ok(answer) => Ok(answer),
                    Err(StoreError::Refused(refusal)) => Err(refusal),
                    Err(error) => return Err(error),
                };
                let kept = match &answer {
                    Ok(answer) => answer,
                    Err(refusal) => &refused(refusal),
                };
                idempotency::keep(conn, tenant, &owned_key, &owned_print, kept)?;
                Ok(answer)
            })
            .await;
        match outcome {
            Ok(answer) => {
                self.keys.meet(tenant, key);
                Ok((answer?, false))
            }
            Err(StoreError::UniqueViolation { .. }) => Err(ApiError::IdempotencyKeyInUse),
            Err(error) => Err(error.into()),
        }
    }
}

/// What this process knows of Idempotency-Keys: those of requests running
/// here, and (by a hash, at most [`MET_KEYS`]) those it lately met with a
/// kept answer. Forgetting a met key only costs its next retry a write
/// that rolls back.
pub struct RecentKeys {
    running: Mutex<HashSet<(Tenant, String)>>,
    met: moka::sync::Cache<u64, ()>,
    hasher: RandomState,
}

const MET_KEYS: u64 = 100_000;

impl Default for RecentKeys {
    fn default() -> Self {
        Self {
            running: Mutex::default(),
            met: moka::sync::Cache::new(MET_KEYS),
            hasher: RandomState::new(),
        }
    }
}

impl RecentKeys {
    fn meet(&self, tenant: Tenant, key: &str) {
        self.met.insert(self.hasher.hash_one((tenant, key)), ());
    }

    fn met(&self, tenant: Tenant, key: &str) -> bool {
        self.met.contains_key(&self.hasher.hash_one((tenant, key)))
    }
}

/// A key marked as running until dropped.
struct Running {
    keys: web::Data<RecentKeys>,
    entry: (Tenant, String),
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut keys) = self.keys.running.lock() {
            keys.remove(&self.entry);
        }
    }
}

trait Enter {
    fn enter(&self, tenant: Tenant, key: &str) -> Option<Running>;
}

impl Enter for web::Data<RecentKeys> {
    /// Marks the key as running; `None` when it already is.
    fn enter(&self, tenant: Tenant, key: &str) -> Option<Running> {
        let entry = (tenant, key.to_owned());
        let fresh = self.running.lock().ok()?.insert(entry.clone());
        fresh.then(|| Running {
            keys: self.clone(),
            entry,
        })
    }
}
