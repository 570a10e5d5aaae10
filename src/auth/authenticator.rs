//! Turns an `Authorization` header into a [`Principal`], cheaply.
//!
//! argon2id is slow by design (tens of milliseconds), so it runs at most once
//! per presented key per cache lifetime and instance, off the async executor.
//! What is remembered, each for at most the cache lifetime (60 s by default):
//! key records by id (so revocation reaches every instance within it),
//! digests of keys that passed argon2, digests of keys that failed it, a
//! count of failures per key id that stops a client from burning CPU by
//! guessing secrets for a real key id, and the grants of tokens that passed
//! verification, by digest (decoding and checking a JWT costs more than the
//! rest of authentication put together).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use actix_web::web;
use moka::sync::Cache;
use secrecy::{ExposeSecret, SecretString};

use super::tokens::{TokenGrant, TokenSigner};
use super::{Credential, Principal, keys};
use crate::domain::ids::{KeyId, OrganizationId};
use crate::domain::scopes::Scopes;
use crate::error::ApiError;
use crate::store::{Database, StoreError, api_keys};

/// Wrong secrets tolerated per key id and minute before further attempts
/// are refused without running argon2.
pub const MAX_FAILURES_PER_MINUTE: u32 = 5;
const ENTRIES: u64 = 100_000;
const MINUTE: Duration = Duration::from_secs(60);

/// What authentication needs to know of a key.
struct KeyState {
    organization_id: OrganizationId,
    scopes: Scopes,
    secret_hash: String,
    revoked: bool,
}

impl From<api_keys::ApiKey> for KeyState {
    fn from(record: api_keys::ApiKey) -> Self {
        Self {
            organization_id: record.organization_id,
            scopes: record.scopes,
            secret_hash: record.secret_hash,
            revoked: record.revoked_time.is_some(),
        }
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
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    signer: TokenSigner,
    keys: Cache<KeyId, Option<Arc<KeyState>>>,
    verified: Cache<[u8; 32], KeyId>,
    rejected: Cache<[u8; 32], ()>,
    failures: Cache<KeyId, Arc<AtomicU32>>,
    tokens: Cache<[u8; 32], TokenGrant>,
    recorded_use: Cache<KeyId, ()>,
    verifications: AtomicU64,
}

impl Authenticator {
    /// `cache_lifetime` bounds how long a revoked key keeps working on an
    /// instance that did not see the revocation.
    pub fn new(db: Database, jwt_secret: &SecretString, cache_lifetime: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                signer: TokenSigner::new(jwt_secret),
                keys: cache(cache_lifetime),
                verified: cache(cache_lifetime),
                rejected: cache(MINUTE),
                failures: cache(MINUTE),
                tokens: cache(cache_lifetime),
                recorded_use: cache(MINUTE),
                verifications: AtomicU64::new(0),
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

    /// The principal behind an `Authorization` header value; 401 for a
    /// missing, malformed, unknown, revoked or expired credential.
    pub async fn authenticate(&self, header: Option<String>) -> Result<Principal, ApiError> {
        let principal = match parse_authorization(header)? {
            Presented::ApiKey(key) => self.api_key(key).await?,
            Presented::Bearer(token) => self.token(token).await?,
        };
        self.record_use(principal.key_id);
        Ok(principal)
    }

    async fn api_key(&self, key: SecretString) -> Result<Principal, ApiError> {
        let (key_id, _) = keys::parse(key.expose_secret()).ok_or(ApiError::Unauthorized)?;
        let fingerprint = keys::fingerprint(key.expose_secret());
        // The fast path: this exact key passed argon2 and its record is fresh.
        if self.inner.verified.contains_key(&fingerprint)
            && let Some(Some(state)) = self.inner.keys.get(&key_id)
        {
            return principal(&state, key_id, Credential::ApiKey);
        }
        let this = self.clone();
        web::block(move || this.verify_api_key(key_id, fingerprint, &key))
            .await
            .map_err(|e| ApiError::Internal(format!("key verification failed: {e}")))?
    }

    /// The slow path: load the key, then argon2, once for all concurrent
    /// requests presenting the same key.
    fn verify_api_key(
        &self,
        key_id: KeyId,
        fingerprint: [u8; 32],
        key: &SecretString,
    ) -> Result<Principal, ApiError> {
        // An unknown key id is refused without running argon2.
        let state = self.key_state(key_id)?.ok_or(ApiError::Unauthorized)?;
        let principal = principal(&state, key_id, Credential::ApiKey)?;
        if self.inner.rejected.contains_key(&fingerprint) {
            return Err(ApiError::Unauthorized);
        }
        let failures = self.inner.failures.get_with(key_id, Default::default);
        if failures.load(Ordering::Relaxed) >= MAX_FAILURES_PER_MINUTE {
            log::warn!("refusing key {key_id}: too many wrong secrets in the last minute");
            return Err(ApiError::Unauthorized);
        }
        let verified = self.inner.verified.try_get_with(fingerprint, || {
            self.inner.verifications.fetch_add(1, Ordering::Relaxed);
            let (_, secret) = keys::parse(key.expose_secret()).ok_or(())?;
            match keys::verify(&SecretString::from(secret), &state.secret_hash) {
                true => Ok(key_id),
                false => Err(()),
            }
        });
        if verified.is_err() {
            self.inner.rejected.insert(fingerprint, ());
            failures.fetch_add(1, Ordering::Relaxed);
            log::info!("wrong secret presented for key {key_id}");
            return Err(ApiError::Unauthorized);
        }
        Ok(principal)
    }

    async fn token(&self, token: SecretString) -> Result<Principal, ApiError> {
        let grant = self.token_grant(&token)?;
        let state = match self.inner.keys.get(&grant.key_id) {
            Some(state) => state,
            None => {
                let this = self.clone();
                web::block(move || this.key_state(grant.key_id))
                    .await
                    .map_err(|e| ApiError::Internal(format!("key lookup failed: {e}")))??
            }
        }
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
            grant.key_id,
            Credential::Token {
                customer_id: grant.customer_id,
                fields: grant.fields,
            },
        )?;
        Ok(Principal {
            scopes: grant.scopes,
            ..key
        })
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

    /// The key's record, from the cache or (blocking) the database.
    fn key_state(&self, key_id: KeyId) -> Result<Option<Arc<KeyState>>, ApiError> {
        self.inner
            .keys
            .try_get_with(key_id, || {
                let record = self
                    .inner
                    .db
                    .run_blocking(|conn| api_keys::find_for_authentication(conn, key_id))?;
                Ok::<_, StoreError>(record.map(|r| Arc::new(KeyState::from(r))))
            })
            .map_err(|e| ApiError::from((*e).clone()))
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

fn principal(
    state: &KeyState,
    key_id: KeyId,
    credential: Credential,
) -> Result<Principal, ApiError> {
    if state.revoked {
        return Err(ApiError::Unauthorized);
    }
    Ok(Principal {
        organization_id: state.organization_id,
        key_id,
        scopes: state.scopes,
        credential,
    })
}
