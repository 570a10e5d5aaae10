//! Turns an `Authorization` header into a [`Principal`], cheaply, in a way
//! no outsider can turn against a key's owner.
//!
//! argon2id is slow by design (tens of milliseconds), so it runs rarely:
//! - a key that passed it is remembered by its digest for an hour of
//!   disuse, and honoured before any throttle (its record, which says
//!   whether it is revoked, is reloaded every cache lifetime, and at once
//!   when any key is revoked: [`Authenticator::watch_revocations`]);
//! - wrong secrets are counted per key id *and client address*, the count
//!   reserved before argon2 runs, so a burst of wrong secrets from one
//!   address runs it at most [`MAX_FAILURES_PER_MINUTE`] times a minute and
//!   others' attempts are untouched;
//! - every argon2 run holds one of [`ARGON2_AT_ONCE`] permits, on a thread
//!   of its own (never the pool database work runs on); a run beyond them
//!   is refused with 429 and `Retry-After` without running;
//! - concurrent requests presenting one key share one run.
//!
//! Verified tokens are remembered by digest too (decoding and checking a
//! JWT costs more than the rest of authentication put together).

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use moka::sync::Cache;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Mutex, Semaphore};

use super::keys;
use super::people::{People, SessionTimeouts};
use super::principal::{Credential, Principal};
use super::tokens::{KeyRef, TokenGrant, TokenSigner};
use crate::domain::ids::{KeyId, OrganizationId};
use crate::domain::scopes::Scopes;
use crate::domain::time::Time;
use crate::error::ApiError;
use crate::store::api_keys::{self, Revocations};
use crate::store::organizations;
use crate::store::{Database, StoreError};

/// Wrong secrets tolerated per key id, client address and minute before
/// further attempts are refused without running argon2.
pub const MAX_FAILURES_PER_MINUTE: u32 = 5;
/// argon2 runs at once, across every key (each takes a core for tens of
/// milliseconds and 19 MiB).
pub const ARGON2_AT_ONCE: usize = 2;
const ENTRIES: u64 = 100_000;
const MINUTE: Duration = Duration::from_secs(60);
/// How long a verified key's digest is remembered without use.
const VERIFIED_IDLE: Duration = Duration::from_secs(3600);

/// What authentication needs to know of a key.
struct KeyState {
    organization_id: OrganizationId,
    scopes: Scopes,
    secret_hash: String,
    /// A rolled key's previous secret, and until when it works.
    previous: Option<(String, Time)>,
    key_ref: Option<KeyRef>,
    revoked: bool,
    livemode: bool,
    /// The organization is disabled: its keys and tokens are refused.
    organization_disabled: bool,
}

impl KeyState {
    fn of(record: api_keys::ApiKey, organization_disabled: bool) -> Self {
        Self {
            organization_id: record.organization_id,
            scopes: record.scopes,
            secret_hash: record.secret_hash,
            previous: record
                .previous_secret_hash
                .zip(record.previous_expires_time),
            key_ref: record.token_ref.as_deref().and_then(KeyRef::parse),
            revoked: record.revoked_time.is_some(),
            livemode: record.livemode,
            organization_disabled,
        }
    }

    /// The previous secret's hash, while it still works.
    fn working_previous(&self) -> Option<&str> {
        self.previous
            .as_ref()
            .filter(|(_, until)| Time::now() < *until)
            .map(|(hash, _)| hash.as_str())
    }

    /// Whether a secret that matched `hash` still opens the key: it is the
    /// current secret, or the previous one within its grace period (a roll
    /// since makes it neither).
    fn accepts(&self, hash: &str) -> bool {
        self.secret_hash == hash || self.working_previous() == Some(hash)
    }
}

enum Presented {
    ApiKey(SecretString),
    Bearer(SecretString),
}

/// `ApiKey <key>`, `Bearer <token>`, or `Bearer <key>` (what generated
/// clients send for a bearer scheme: a `ck_` value is never a JWT, whose
/// first part is base64 of `{`); schemes are case-insensitive.
fn parse_authorization(header: Option<String>) -> Result<Presented, ApiError> {
    let header = SecretString::from(header.ok_or(ApiError::Unauthorized)?);
    let (scheme, value) = header
        .expose_secret()
        .trim()
        .split_once(' ')
        .ok_or(ApiError::Unauthorized)?;
    let value = SecretString::from(value.trim());
    if value.expose_secret().is_empty() {
        return Err(ApiError::Unauthorized);
    }
    let bearer = scheme.eq_ignore_ascii_case("bearer");
    let is_key = value.expose_secret().starts_with(keys::PREFIX);
    if scheme.eq_ignore_ascii_case("apikey") || (bearer && is_key) {
        Ok(Presented::ApiKey(value))
    } else if bearer {
        Ok(Presented::Bearer(value))
    } else {
        Err(ApiError::Unauthorized)
    }
}

#[derive(Clone)]
pub struct Authenticator {
    pub(super) inner: Arc<Inner>,
}

/// Why an argon2 run did not say yes.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    WrongSecret,
    Throttled,
    Busy,
    Failed,
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::WrongSecret => ApiError::Unauthorized,
            Refusal::Throttled => ApiError::RateLimited {
                retry_after: MINUTE.as_secs(),
            },
            Refusal::Busy => ApiError::RateLimited { retry_after: 1 },
            Refusal::Failed => ApiError::Unavailable("the key could not be loaded".into()),
        }
    }
}

pub(super) struct Inner {
    pub(super) db: Database,
    signer: TokenSigner,
    keys: Cache<KeyId, Option<Arc<KeyState>>>,
    keys_by_ref: Cache<KeyRef, Option<KeyId>>,
    /// A presented key that passed argon2, by digest: the hash it matched.
    verified: moka::future::Cache<[u8; 32], Arc<str>>,
    rejected: Cache<[u8; 32], ()>,
    failures: Cache<(KeyId, Option<IpAddr>), Arc<AtomicU32>>,
    pub(super) argon2: Arc<Semaphore>,
    /// Sign-in's throttles and sessions' timeouts ([`super::sign_in`]).
    pub(super) people: People,
    tokens: Cache<[u8; 32], TokenGrant>,
    recorded_use: Cache<KeyId, ()>,
    revocations: Mutex<Option<Revocations>>,
    pub(super) verifications: AtomicU64,
    pub(super) refused: AtomicU64,
}

impl Authenticator {
    /// `cache_lifetime` bounds how long a key's record is trusted without
    /// a look at the database (revocations reach it sooner, see
    /// [`Authenticator::watch_revocations`]).
    pub fn new(
        db: Database,
        jwt_secret: &SecretString,
        cache_lifetime: Duration,
        sessions: SessionTimeouts,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                signer: TokenSigner::new(jwt_secret),
                keys: cache(cache_lifetime),
                keys_by_ref: cache(cache_lifetime),
                verified: moka::future::Cache::builder()
                    .max_capacity(ENTRIES)
                    .time_to_idle(VERIFIED_IDLE)
                    .build(),
                rejected: cache(MINUTE),
                failures: cache(MINUTE),
                argon2: Arc::new(Semaphore::new(ARGON2_AT_ONCE)),
                people: People::new(jwt_secret, sessions, cache_lifetime),
                tokens: cache(cache_lifetime),
                recorded_use: cache(MINUTE),
                revocations: Mutex::new(None),
                verifications: AtomicU64::new(0),
                refused: AtomicU64::new(0),
            }),
        }
    }

    pub fn signer(&self) -> &TokenSigner {
        &self.inner.signer
    }

    /// How many times argon2 has verified a secret since start.
    pub fn verifications(&self) -> u64 {
        self.inner.verifications.load(Ordering::Relaxed)
    }

    /// How many attempts were refused unheard (throttled or over the argon2
    /// budget) since the last call: for a periodic log line rather than
    /// one line per attempt.
    pub fn take_refused(&self) -> u64 {
        self.inner.refused.swap(0, Ordering::Relaxed)
    }

    /// The principal behind an `Authorization` header value, presented
    /// from `client`; 401 for a missing, malformed, unknown, revoked or
    /// expired credential, 429 when wrong secrets for the key came too
    /// often from `client` or argon2 is at its budget.
    pub async fn authenticate(
        &self,
        header: Option<String>,
        client: Option<IpAddr>,
    ) -> Result<Principal, ApiError> {
        let (principal, key_id) = match parse_authorization(header)? {
            Presented::ApiKey(key) => self.api_key(key, client).await?,
            Presented::Bearer(token) => self.token(token).await?,
        };
        self.record_use(key_id);
        Ok(principal)
    }

    async fn api_key(
        &self,
        key: SecretString,
        client: Option<IpAddr>,
    ) -> Result<(Principal, KeyId), ApiError> {
        let presented = keys::parse(key.expose_secret()).ok_or(ApiError::Unauthorized)?;
        let key_id = presented.id;
        let fingerprint = keys::fingerprint(key.expose_secret());
        // An unknown key id is refused without running argon2, and so is a
        // key shaped for the other mode.
        let state = self
            .key_state(key_id)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if state.livemode != presented.livemode {
            return Err(ApiError::Unauthorized);
        }
        let credential = Credential::ApiKey {
            key_id,
            key_ref: state.key_ref,
        };
        let principal = principal(&state, credential)?;
        // A key that passed argon2 before goes first: no throttle applies.
        // A secret a roll replaced works only until its grace period ends.
        if let Some(matched) = self.inner.verified.get(&fingerprint).await {
            return match state.accepts(&matched) {
                true => Ok((principal, key_id)),
                false => Err(ApiError::Unauthorized),
            };
        }
        if self.inner.rejected.contains_key(&fingerprint) {
            return Err(ApiError::Unauthorized);
        }
        let this = self.clone();
        let hashes = (
            state.secret_hash.clone(),
            state.working_previous().map(str::to_owned),
        );
        let verified = self
            .inner
            .verified
            .try_get_with(fingerprint, async move {
                this.verify(key_id, client, key, hashes).await
            })
            .await;
        match verified {
            Ok(_) => Ok((principal, key_id)),
            Err(refusal) => {
                match *refusal {
                    Refusal::WrongSecret => {
                        self.inner.rejected.insert(fingerprint, ());
                        log::debug!("wrong secret presented for key {key_id}");
                    }
                    Refusal::Throttled | Refusal::Busy => {
                        self.inner.refused.fetch_add(1, Ordering::Relaxed);
                        log::debug!("refused an attempt for key {key_id} unheard: {refusal:?}");
                    }
                    Refusal::Failed => {}
                }
                Err((*refusal).into())
            }
        }
    }

    /// One argon2 run for one presented key, shared by every concurrent
    /// request presenting it: the attempt is reserved in the count of
    /// `client`'s failures first, and needs a permit.
    async fn verify(
        &self,
        key_id: KeyId,
        client: Option<IpAddr>,
        key: SecretString,
        (current, previous): (String, Option<String>),
    ) -> Result<Arc<str>, Refusal> {
        let failures = self
            .inner
            .failures
            .get_with((key_id, client), Default::default);
        if failures.fetch_add(1, Ordering::AcqRel) >= MAX_FAILURES_PER_MINUTE {
            failures.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::Throttled);
        }
        let Ok(permit) = self.inner.argon2.clone().try_acquire_owned() else {
            failures.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::Busy);
        };
        self.inner.verifications.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        // A thread of its own: the permit, not the caller, bounds how many
        // run, and a caller that goes away does not stop a run midway.
        std::thread::spawn(move || {
            let secret = keys::parse(key.expose_secret())
                .map(|presented| SecretString::from(presented.secret));
            let matched = secret.and_then(|secret| {
                [Some(current), previous]
                    .into_iter()
                    .flatten()
                    .find(|hash| keys::verify(&secret, hash))
                    .map(Arc::from)
            });
            drop(permit);
            let _ = sender.send(matched);
        });
        match receiver.await {
            Ok(Some(matched)) => {
                failures.fetch_sub(1, Ordering::AcqRel);
                Ok(matched)
            }
            Ok(None) => Err(Refusal::WrongSecret),
            Err(_) => Err(Refusal::Failed),
        }
    }

    async fn token(&self, token: SecretString) -> Result<(Principal, KeyId), ApiError> {
        let grant = self.token_grant(&token)?;
        let key_id = self
            .key_by_ref(grant.key_ref)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let state = self
            .key_state(key_id)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        // The minting key must still be live, of the same organization, and
        // hold every scope the token carries.
        let minted_by_key = state.organization_id == grant.organization_id
            && grant.scopes.is_subset_of(state.scopes);
        if !minted_by_key {
            return Err(ApiError::Unauthorized);
        }
        let key = principal(
            &state,
            Credential::Token {
                key_id,
                customer_id: grant.customer_id,
                fields: grant.fields,
            },
        )?;
        let principal = Principal {
            scopes: grant.scopes,
            ..key
        };
        Ok((principal, key_id))
    }

    /// What a valid token grants: verified (signature, algorithm, claims)
    /// the first time it is seen, then remembered by its digest. Its expiry
    /// is checked on every use; the minting key, by the caller.
    fn token_grant(&self, token: &SecretString) -> Result<TokenGrant, ApiError> {
        let fingerprint = keys::fingerprint(token.expose_secret());
        if let Some(grant) = self.inner.tokens.get(&fingerprint) {
            return match grant.expired() {
                true => Err(ApiError::Unauthorized),
                false => Ok(grant),
            };
        }
        let grant = self
            .inner
            .signer
            .verify(token.expose_secret())
            .ok_or(ApiError::Unauthorized)?;
        self.inner.tokens.insert(fingerprint, grant);
        Ok(grant)
    }

    /// The key's record, from the cache or the database.
    async fn key_state(&self, key_id: KeyId) -> Result<Option<Arc<KeyState>>, ApiError> {
        if let Some(state) = self.inner.keys.get(&key_id) {
            return Ok(state);
        }
        let record = self
            .inner
            .db
            .run(move |conn| {
                let Some(key) = api_keys::find_for_authentication(conn, key_id)? else {
                    return Ok(None);
                };
                let disabled = organizations::is_disabled(conn, key.organization_id)?;
                Ok(Some(KeyState::of(key, disabled)))
            })
            .await?;
        let state = record.map(Arc::new);
        self.inner.keys.insert(key_id, state.clone());
        Ok(state)
    }

    /// The key a token names, from the cache or the database.
    async fn key_by_ref(&self, key_ref: KeyRef) -> Result<Option<KeyId>, ApiError> {
        if let Some(key_id) = self.inner.keys_by_ref.get(&key_ref) {
            return Ok(key_id);
        }
        let text = key_ref.to_string();
        let key_id = self
            .inner
            .db
            .run(move |conn| Ok(api_keys::find_by_token_ref(conn, &text)?.map(|r| r.id)))
            .await?;
        self.inner.keys_by_ref.insert(key_ref, key_id);
        Ok(key_id)
    }

    /// Looks whether a key was revoked since the last look (on any
    /// instance) and, if so, forgets every key record, so that the next
    /// request with the revoked key reloads it. Run twice a second, this
    /// makes a revocation take effect everywhere within a second, at the
    /// cost of one indexed query per half second per instance and nothing
    /// per request.
    pub async fn watch_revocations(&self) -> Result<(), StoreError> {
        let now = self.inner.db.run(api_keys::revocations).await?;
        let mut seen = self.inner.revocations.lock().await;
        if seen.is_some_and(|seen| seen != now) {
            self.inner.keys.invalidate_all();
        }
        *seen = Some(now);
        Ok(())
    }

    /// Notes the key's last use, at most once a minute per key and instance:
    /// never a write per request.
    fn record_use(&self, key_id: KeyId) {
        // A plain read on the hot path; the entry API (a write) only when
        // the key has not been recorded this minute.
        if self.inner.recorded_use.contains_key(&key_id) {
            return;
        }
        let first_this_minute = self
            .inner
            .recorded_use
            .entry(key_id)
            .or_insert_with(|| ())
            .is_fresh();
        if first_this_minute {
            let db = self.inner.db.clone();
            actix_web::rt::spawn(async move {
                if let Err(e) = db.run(move |conn| api_keys::record_use(conn, key_id)).await {
                    log::warn!("could not record the use of key {key_id}: {e}");
                }
            });
        }
    }
}

fn cache<K, V>(lifetime: Duration) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(ENTRIES)
        .time_to_live(lifetime)
        .build()
}

fn principal(state: &KeyState, credential: Credential) -> Result<Principal, ApiError> {
    if state.revoked {
        return Err(ApiError::Unauthorized);
    }
    if state.organization_disabled {
        return Err(ApiError::Forbidden("The organization is disabled."));
    }
    Ok(Principal {
        organization_id: state.organization_id,
        scopes: state.scopes,
        credential,
        livemode: state.livemode,
    })
}
