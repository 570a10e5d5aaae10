//! API key material: `ck_<key id>_<secret>`, with 256 bits of secret from
//! the OS random source. Only an argon2id hash of the secret is stored.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use std::time::Duration;

use crate::domain::audit::{Action, Audit, Target};
use crate::domain::ids::{KeyId, OrganizationId};
use crate::domain::refusal::Refusal;
use crate::domain::scopes::Scopes;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;
use crate::store::{self, DbConnection, StoreError, api_keys, audit, organizations};

/// What every API key starts with.
pub const PREFIX: &str = "ck_";
/// What follows [`PREFIX`] in a test-mode key (contract section 11).
pub const TEST_MARK: &str = "test_";
const SECRET_BYTES: usize = 32;

/// A key just made: the full key is shown once, then only its hash remains.
pub struct GeneratedKey {
    pub id: KeyId,
    pub api_key: SecretString,
    pub secret_hash: String,
}

pub fn generate(livemode: bool) -> GeneratedKey {
    with_new_secret(KeyId::generate(), livemode)
}

/// A new secret for the key `id`.
fn with_new_secret(id: KeyId, livemode: bool) -> GeneratedKey {
    let mark = if livemode { "" } else { TEST_MARK };
    let secret = random_hex(SECRET_BYTES);
    GeneratedKey {
        id,
        api_key: format!("{PREFIX}{mark}{id}_{secret}").into(),
        secret_hash: hash(&secret),
    }
}

/// An argon2id hash (default parameters, a random salt) of `secret`: what
/// is stored of key secrets and passwords. Slow by design.
pub fn hash(secret: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any input")
        .to_string()
}

/// `bytes` bytes from the OS random source, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// A key that was just stored: the only time its secret is known.
pub struct IssuedKey {
    pub key_id: KeyId,
    pub api_key: SecretString,
    pub livemode: bool,
}

/// Makes and stores a key for `org`, with its audit event.
pub fn issue(
    conn: &mut DbConnection,
    org: OrganizationId,
    name: Option<&str>,
    scopes: Scopes,
    livemode: bool,
    by: &Audit,
) -> Result<IssuedKey, StoreError> {
    let key = generate(livemode);
    let new = api_keys::NewApiKey {
        id: key.id,
        name,
        scopes,
        secret_hash: key.secret_hash,
        token_ref: random_hex(16),
        livemode,
    };
    api_keys::insert(conn, org, new)?;
    let tenant = Tenant {
        organization_id: org,
        livemode,
    };
    audit::record(
        conn,
        tenant,
        by,
        Action::KeyCreated,
        Target::new("key", key.id),
        None,
    )?;
    Ok(IssuedKey {
        key_id: key.id,
        api_key: key.api_key,
        livemode,
    })
}

/// How long a rolled key's old secret keeps working: `now`, or a number of seconds, minutes, hours or days (`24h`, `7d`), up to 30 days.
pub fn grace(text: &str) -> Result<Duration, String> {
    if text == "now" {
        return Ok(Duration::ZERO);
    }
    let unit = |suffix: char, seconds: u64| {
        text.strip_suffix(suffix)
            .and_then(|n| n.parse::<u64>().ok())
            .map(|n| Duration::from_secs(n.saturating_mul(seconds)))
    };
    [('s', 1), ('m', 60), ('h', 3600), ('d', 86_400)]
        .into_iter()
        .find_map(|(suffix, seconds)| unit(suffix, seconds))
        .filter(|grace| *grace <= Duration::from_secs(30 * 86_400))
        .ok_or_else(|| "now, or a number of s, m, h or d up to 30d (24h, 7d)".into())
}

/// Gives a key a new secret, keeping its id, name, scopes and the tokens it
/// minted; the old secret keeps working for `grace` (then it is refused
/// everywhere within a key record's cache lifetime). Refused for a key
/// that does not exist or is revoked (in `org`, when given).
pub fn roll(
    conn: &mut DbConnection,
    org: Option<OrganizationId>,
    id: KeyId,
    grace: Duration,
    by: &Audit,
) -> Result<IssuedKey, StoreError> {
    let current = api_keys::find_for_authentication(conn, id)?
        .filter(|key| key.revoked_time.is_none())
        .filter(|key| org.is_none_or(|org| key.organization_id == org))
        .ok_or(Refusal::NotFound)?;
    let key = with_new_secret(id, current.livemode);
    api_keys::roll(
        conn,
        id,
        &key.secret_hash,
        &current.secret_hash,
        Time::now().plus(grace),
    )?;
    let tenant = Tenant {
        organization_id: current.organization_id,
        livemode: current.livemode,
    };
    audit::record(
        conn,
        tenant,
        by,
        Action::KeyRolled,
        Target::new("key", id),
        None,
    )?;
    Ok(IssuedKey {
        key_id: id,
        api_key: key.api_key,
        livemode: current.livemode,
    })
}

/// Revokes a key (the first revocation's time is kept), with its audit
/// event the first time; refused for a key that does not exist (in `org`,
/// when given).
pub fn revoke(
    conn: &mut DbConnection,
    org: Option<OrganizationId>,
    id: KeyId,
    by: &Audit,
) -> Result<(), StoreError> {
    let key = api_keys::find_for_authentication(conn, id)?
        .filter(|key| org.is_none_or(|org| key.organization_id == org))
        .ok_or(Refusal::NotFound)?;
    if api_keys::revoke(conn, id)? {
        let tenant = Tenant {
            organization_id: key.organization_id,
            livemode: key.livemode,
        };
        audit::record(
            conn,
            tenant,
            by,
            Action::KeyRevoked,
            Target::new("key", id),
            None,
        )?;
    }
    Ok(())
}

/// A new organization and its first keys, each holding every scope.
pub struct NewOrganization {
    pub organization_id: OrganizationId,
    pub live: IssuedKey,
    pub test: IssuedKey,
}

/// Creates an organization with a live key and a test key holding every
/// scope, in a transaction of its own.
pub fn create_organization(
    conn: &mut DbConnection,
    name: &str,
    by: &Audit,
) -> Result<NewOrganization, StoreError> {
    store::in_transaction_run_again(conn, |conn| organization_with_keys(conn, name, by))
}

/// [`create_organization`] inside the caller's transaction.
pub fn organization_with_keys(
    conn: &mut DbConnection,
    name: &str,
    by: &Audit,
) -> Result<NewOrganization, StoreError> {
    let org = organizations::create(conn, name, by)?;
    Ok(NewOrganization {
        organization_id: org,
        live: issue(conn, org, Some("initial key"), Scopes::all(), true, by)?,
        test: issue(
            conn,
            org,
            Some("initial test key"),
            Scopes::all(),
            false,
            by,
        )?,
    })
}

/// The first run: on a database without organizations, create one.
pub fn bootstrap(conn: &mut DbConnection) -> Result<Option<NewOrganization>, StoreError> {
    match organizations::count(conn)? {
        0 => create_organization(conn, "Default organization", &Audit::cli()).map(Some),
        _ => Ok(None),
    }
}

/// A presented key, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presented<'a> {
    pub id: KeyId,
    pub secret: &'a str,
    /// Whether it is shaped as a live key (no `test_` mark).
    pub livemode: bool,
}

/// Splits a presented key into its id, secret and mode; `None` unless it has
/// the exact shape this service hands out.
pub fn parse(presented: &str) -> Option<Presented<'_>> {
    let rest = presented.strip_prefix(PREFIX)?;
    let (rest, livemode) = match rest.strip_prefix(TEST_MARK) {
        Some(rest) => (rest, false),
        None => (rest, true),
    };
    let (id, secret) = rest.split_at_checked(KeyId::PREFIX.len() + 33)?;
    let secret = secret.strip_prefix('_')?;
    let well_formed = secret.len() == SECRET_BYTES * 2
        && secret
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    well_formed.then_some(())?;
    Some(Presented {
        id: KeyId::parse(id)?,
        secret,
        livemode,
    })
}

/// Whether `secret` matches the stored hash. Deliberately slow (argon2id):
/// call it off the async executor, and rarely.
pub fn verify(secret: &SecretString, secret_hash: &str) -> bool {
    PasswordHash::new(secret_hash)
        .map(|hash| {
            Argon2::default()
                .verify_password(secret.expose_secret().as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fast digest of a presented credential, to remember it by without
/// keeping the credential itself.
pub fn fingerprint(presented: &str) -> [u8; 32] {
    Sha256::digest(presented.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_verify() {
        let key = generate(true);
        let text = key.api_key.expose_secret();
        assert!(text.starts_with("ck_key_"));
        let Presented {
            id,
            secret,
            livemode,
        } = parse(text).unwrap();
        assert_eq!(id, key.id);
        assert!(livemode);
        let test = generate(false);
        assert!(test.api_key.expose_secret().starts_with("ck_test_key_"));
        assert!(!parse(test.api_key.expose_secret()).unwrap().livemode);
        assert!(key.secret_hash.starts_with("$argon2id$"));
        assert!(!key.secret_hash.contains(secret));
        assert!(verify(&secret.to_owned().into(), &key.secret_hash));
        let mut wrong = secret.to_owned();
        wrong.replace_range(0..1, if wrong.starts_with('0') { "1" } else { "0" });
        assert!(!verify(&wrong.into(), &key.secret_hash));
    }

    #[test]
    fn rejects_other_shapes() {
        let key = generate(true);
        let text = key.api_key.expose_secret();
        assert!(parse(&text[1..]).is_none());
        assert!(parse(&format!("{text}0")).is_none());
        assert!(parse(&text[..text.len() - 1]).is_none());
        assert!(parse(&text.to_uppercase()).is_none());
        assert!(parse(&text.replacen("_key_", "_org_", 1)).is_none());
        assert!(parse("ck_").is_none());
        assert!(parse("").is_none());
        assert!(parse("ck_key_é").is_none());
    }
}
