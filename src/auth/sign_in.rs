//! People signing in, and the sessions they then use, in a way no one can
//! turn against a member by guessing (contract section 13).
//!
//! - A password is argon2id, verified under the same budget as key secrets
//!   (one of the [`super::authenticator::ARGON2_AT_ONCE`] permits, on a
//!   thread of its own; none free: 429 with `Retry-After: 1`).
//! - Wrong passwords are counted per account *and* client address
//!   ([`PER_ACCOUNT_AND_ADDRESS`] a minute) and per address across accounts
//!   ([`PER_ADDRESS`]); the attempt is reserved before argon2 runs, so a
//!   flood from one address runs it a bounded number of times a minute.
//! - A browser that signed in to an account before holds a device cookie
//!   for it; its attempts skip the two throttles above (they have their own
//!   budget, [`PER_DEVICE`]), so a member is not locked out by someone
//!   else's guesses.
//! - An unknown email runs argon2 against a dummy hash: the answer and its
//!   time do not tell whether an account exists.
//! - Sessions are read from the database on every request, so a sign-out,
//!   a disable or a password change holds on every instance at once.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::authenticator::Authenticator;
use super::keys;
use super::people::{People, SessionTimeouts, digest, recovery_code_hash, totp_step};
use super::principal::{Credential, Principal};
use crate::domain::audit::{Action, Audit, Origin};
use crate::domain::contact::fold_case;
use crate::domain::ids::{OrganizationId, UserId};
use crate::domain::time::Time;
use crate::error::ApiError;
use crate::store::StoreError;
use crate::store::sessions::{self, Found, Session};
use crate::store::users::{self, User};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "clientele_session";
/// The device cookie's name ([`super::people::DeviceCookies`]).
pub const DEVICE_COOKIE: &str = "clientele_device";
/// The header the console's scripts send the anti-forgery token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Wrong passwords per account, client address and minute.
pub const PER_ACCOUNT_AND_ADDRESS: u32 = 5;
/// Wrong passwords per client address and minute, across accounts.
pub const PER_ADDRESS: u32 = 20;
/// Wrong passwords per account and minute from browsers that hold the
/// account's device cookie.
pub const PER_DEVICE: u32 = 5;
/// Wrong two-step codes per account and minute.
pub const CODES_PER_MINUTE: u32 = 5;
const MINUTE: Duration = Duration::from_secs(60);
/// How long a sign-in waits for an argon2 permit before it is told to
/// retry.
const PERMIT_WAIT: Duration = Duration::from_secs(3);
/// How long a throttled sign-in waits for its answer. A flood's
/// connections then ask once a second each instead of as fast as they are
/// answered, and the cores go on serving members (a wait costs a timer,
/// not a thread; the server's connection limit bounds how many wait).
const THROTTLED_WAIT: Duration = Duration::from_secs(1);

/// Why a sign-in did not succeed.
#[derive(Debug)]
pub enum SignInError {
    /// A wrong email or password: one answer for both.
    Wrong,
    /// Too many wrong attempts lately: retry after this many seconds.
    Throttled(u64),
    /// No argon2 permit now: retry in a second.
    Busy,
    Store(StoreError),
}

impl From<StoreError> for SignInError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// A sign-in attempt.
pub struct Attempt<'a> {
    pub email: &'a str,
    pub password: SecretString,
    pub origin: Origin,
    pub client: Option<IpAddr>,
    /// The browser's device cookie, if it sent one.
    pub device: Option<&'a str>,
}

/// A counter's slot, reserved before the work it limits; given back when
/// the attempt succeeds.
struct Reserved(Vec<Arc<AtomicU32>>);

impl Reserved {
    fn release(self) {
        for counter in self.0 {
            counter.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Takes a slot of each counter under its limit, or none at all.
fn reserve(counters: Vec<(Arc<AtomicU32>, u32)>) -> Option<Reserved> {
    let mut taken = Vec::new();
    for (counter, limit) in counters {
        if counter.fetch_add(1, Ordering::AcqRel) >= limit {
            counter.fetch_sub(1, Ordering::AcqRel);
            Reserved(taken).release();
            return None;
        }
        taken.push(counter);
    }
    Some(Reserved(taken))
}

/// A hash no password matches, for accounts that do not exist.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| keys::hash(&keys::random_hex(16)))
}

impl Authenticator {
    fn people(&self) -> &People {
        &self.inner.people
    }

    /// A throttled attempt's answer, after [`THROTTLED_WAIT`].
    async fn throttled(&self) -> SignInError {
        self.inner.refused.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(THROTTLED_WAIT).await;
        SignInError::Throttled(MINUTE.as_secs())
    }

    /// Checks an email and password: the account, when both are right and
    /// it may sign in. Every answer but success looks the same to the
    /// client and takes as long, whether or not the account exists.
    pub async fn sign_in(&self, attempt: Attempt<'_>) -> Result<User, SignInError> {
        let email = fold_case(attempt.email.trim());
        let people = self.people();
        let guessers = || {
            vec![
                (
                    people
                        .by_account
                        .get_with((email.clone(), attempt.client), Default::default),
                    PER_ACCOUNT_AND_ADDRESS,
                ),
                (
                    people.by_address.get_with(attempt.client, Default::default),
                    PER_ADDRESS,
                ),
            ]
        };
        // The count is taken before anything else is done, the database
        // included, so a refused guess costs next to nothing.
        let holder = attempt
            .device
            .and_then(|cookie| people.devices.holder(cookie));
        let device = (
            people.by_device.get_with(email.clone(), Default::default),
            PER_DEVICE,
        );
        let Some(mut reserved) = (match holder {
            Some(_) => reserve(vec![device]),
            None => reserve(guessers()),
        }) else {
            return Err(self.throttled().await);
        };
        let db = self.inner.db.clone();
        let lookup = email.clone();
        let user = db
            .run(move |conn| users::find_by_email(conn, &lookup))
            .await?;
        // Another account's device cookie exempts nothing.
        if holder.is_some() && holder != user.as_ref().map(|u| u.id) {
            reserved.release();
            reserved = match reserve(guessers()) {
                Some(reserved) => reserved,
                None => return Err(self.throttled().await),
            };
        }
        let hash = user
            .as_ref()
            .filter(|u| u.is_active())
            .and_then(|u| u.password_hash.clone())
            .unwrap_or_else(|| dummy_hash().to_owned());
        let matches = match self.argon2(attempt.password, hash).await {
            Some(matches) => matches,
            None => {
                Reserved::release(reserved);
                self.inner.refused.fetch_add(1, Ordering::Relaxed);
                return Err(SignInError::Busy);
            }
        };
        match (matches, user) {
            (true, Some(user)) if user.is_active() => {
                reserved.release();
                Ok(user)
            }
            (_, user) => {
                if let Some(user) = user {
                    let by = Audit {
                        actor: users::actor_of(&user),
                        origin: attempt.origin,
                    };
                    db.transaction(move |conn| {
                        users::record_sign_in(conn, &user, &by, Action::SignInFailed)
                    })
                    .await?;
                }
                Err(SignInError::Wrong)
            }
        }
    }

    /// Whether `password` is the user's (a password change asks for it),
    /// under the same budget as a sign-in from a trusted device.
    pub async fn verify_password(
        &self,
        user: &User,
        password: SecretString,
    ) -> Result<bool, SignInError> {
        let counter = self
            .people()
            .by_device
            .get_with(user.email.to_lowercase(), Default::default);
        let Some(reserved) = reserve(vec![(counter, PER_DEVICE)]) else {
            return Err(self.throttled().await);
        };
        let hash = user
            .password_hash
            .clone()
            .unwrap_or_else(|| dummy_hash().to_owned());
        match self.argon2(password, hash).await {
            Some(true) => {
                reserved.release();
                Ok(true)
            }
            Some(false) => Ok(false),
            None => {
                reserved.release();
                Err(SignInError::Busy)
            }
        }
    }

    /// One argon2 run of `password` against `hash`, on a thread of its own
    /// while it holds a permit; `None` when no permit came within
    /// [`PERMIT_WAIT`]. Unlike a key's first use, a sign-in waits for its
    /// turn: the throttles already bound how many attempts can wait, so a
    /// member's attempt is not refused because a guesser's run was under
    /// way.
    async fn argon2(&self, password: SecretString, hash: String) -> Option<bool> {
        let permit = self.inner.argon2.clone().acquire_owned();
        let permit = tokio::time::timeout(PERMIT_WAIT, permit).await.ok()?.ok()?;
        self.inner.verifications.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let matches = keys::verify(&password, &hash);
            drop(permit);
            let _ = sender.send(matches);
        });
        receiver.await.ok()
    }

    /// Checks a two-step code, an authenticator app's (each 30 s step
    /// accepted once) or a recovery code (each accepted once), for `user`.
    pub async fn second_step(&self, user: &User, code: &str) -> Result<bool, SignInError> {
        let counter = self.people().codes.get_with(user.id, Default::default);
        let Some(reserved) = reserve(vec![(counter, CODES_PER_MINUTE)]) else {
            return Err(self.throttled().await);
        };
        let Some(secret) = user.totp_secret.clone() else {
            return Ok(false);
        };
        let (id, code, recovery) = (user.id, code.to_owned(), recovery_code_hash(code));
        let user = user.clone();
        let accepted = self
            .inner
            .db
            .transaction(move |conn| match totp_step(&secret, &code) {
                Some(step) => users::use_totp_step(conn, id, step),
                None => users::use_recovery_code(conn, &user, &recovery),
            })
            .await?;
        if accepted {
            reserved.release();
        }
        Ok(accepted)
    }

    /// A seal over `text` ([`DeviceCookies::seal`]).
    pub fn seal(&self, text: &str) -> String {
        self.people().devices.seal(text)
    }

    /// Whether `seal` is this server's seal over `text`.
    pub fn sealed(&self, text: &str, seal: &str) -> bool {
        self.people().devices.sealed(text, seal)
    }

    /// A device cookie for a browser `user` just signed in from.
    pub fn device_cookie(&self, user: UserId) -> String {
        self.people().devices.issue(user)
    }

    pub fn session_timeouts(&self) -> SessionTimeouts {
        self.people().timeouts
    }

    /// The session a cookie names, with its person and organization;
    /// `None` when there is none or it timed out (then it is ended).
    ///
    /// Cached like keys: a session read lately costs no query. Every
    /// instance looks for ended or changed sessions, people and
    /// organizations ten times a second ([`Authenticator::watch_sessions`])
    /// and forgets its cached sessions when anything moved; the instance
    /// that ends or changes one forgets at once. A session's last use is
    /// written in the background, at most every tenth of the idle timeout
    /// (and at least every minute).
    pub async fn session(&self, cookie: &str) -> Result<Option<Arc<Found>>, ApiError> {
        let id = digest(cookie);
        let people = self.people();
        let found = match people.sessions.get(&id) {
            Some(found) => found,
            None => {
                let lookup = id.clone();
                let Some(found) = self
                    .inner
                    .db
                    .run(move |conn| sessions::find(conn, &lookup))
                    .await?
                else {
                    return Ok(None);
                };
                let found = Arc::new(found);
                people.sessions.insert(id.clone(), found.clone());
                found
            }
        };
        let (session, user, timeouts) = (&found.session, &found.user, people.timeouts);
        let now = Time::now();
        let idle = now.minus(timeouts.idle) > session.last_seen_time;
        let old = now.minus(timeouts.absolute) > session.created_time;
        if idle || old || !user.is_active() {
            people.sessions.invalidate(&id);
            self.inner
                .db
                .run(move |conn| sessions::end(conn, &id))
                .await?;
            return Ok(None);
        }
        let touch_every = (timeouts.idle / 10).min(MINUTE);
        if now.minus(touch_every) > session.last_seen_time {
            let mut touched = (*found).clone();
            touched.session.last_seen_time = now;
            people.sessions.insert(id.clone(), Arc::new(touched));
            let db = self.inner.db.clone();
            actix_web::rt::spawn(async move {
                if let Err(e) = db.run(move |conn| sessions::touch(conn, &id)).await {
                    log::warn!("could not note a session's use: {e}");
                }
            });
        }
        Ok(Some(found))
    }

    /// Forgets the sessions this instance cached, after it changed one or
    /// a person's standing: its next request reads them afresh.
    pub fn forget_sessions(&self) {
        self.people().sessions.invalidate_all();
    }

    /// Looks whether sessions, people or organizations changed since the
    /// last look (on any instance) and, if so, forgets every cached
    /// session. Run ten times a second: a sign-out, a disable, a role or a
    /// mode change holds on every instance within about a tenth of a
    /// second, for one small query per tenth of a second per instance.
    pub async fn watch_sessions(&self) -> Result<(), StoreError> {
        let now = self.inner.db.run(sessions::signal).await?;
        let mut seen = self.people().signal.lock().await;
        if seen.as_ref().is_some_and(|seen| *seen != now) {
            self.forget_sessions();
        }
        *seen = Some(now);
        Ok(())
    }
}

/// The principal a signed-in person acts as in `organization` (their own;
/// any, for an operator).
pub fn person(session: &Session, user: &User, organization: OrganizationId) -> Principal {
    Principal {
        organization_id: organization,
        scopes: user.role.scopes(),
        credential: Credential::Person {
            user_id: user.id,
            email: Arc::from(user.email.as_str()),
            role: user.role,
            session: Arc::from(session.id.as_str()),
        },
        livemode: session.livemode,
    }
}

/// The secret of a new session's cookie, and its id (the digest stored).
pub fn new_session_secret() -> (SecretString, String) {
    let secret = keys::random_hex(32);
    let id = digest(&secret);
    (SecretString::from(secret), id)
}

/// `secret` as it is compared: exposed only to hash it.
pub fn session_id(secret: &SecretString) -> String {
    digest(secret.expose_secret())
}
