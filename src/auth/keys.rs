//! API key material: `ck_<key id>_<secret>`, with 256 bits of secret from
//! the OS random source. Only an argon2id hash of the secret is stored.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::domain::ids::{KeyId, OrganizationId};
use crate::domain::scopes::Scopes;
use crate::store::{self, DbConnection, StoreError, api_keys, organizations};

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
    let id = KeyId::generate();
    let mark = if livemode { "" } else { TEST_MARK };
    let secret = random_hex(SECRET_BYTES);
    let salt = SaltString::generate(&mut OsRng);
    let secret_hash = Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any input")
        .to_string();
    GeneratedKey {
        id,
        api_key: format!("{PREFIX}{mark}{id}_{secret}").into(),
        secret_hash,
    }
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

/// Makes and stores a key for `org`.
pub fn issue(
    conn: &mut DbConnection,
    org: OrganizationId,
    name: Option<&str>,
    scopes: Scopes,
    livemode: bool,
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
    Ok(IssuedKey {
        key_id: key.id,
        api_key: key.api_key,
        livemode,
    })
}

/// A new organization and its first keys, each holding every scope.
pub struct NewOrganization {
    pub organization_id: OrganizationId,
    pub live: IssuedKey,
    pub test: IssuedKey,
}

/// Creates an organization with a live key and a test key holding every
/// scope.
pub fn create_organization(
    conn: &mut DbConnection,
    name: &str,
) -> Result<NewOrganization, StoreError> {
    store::in_transaction(conn, |conn| {
        let org = organizations::create(conn, name)?;
        Ok(NewOrganization {
            organization_id: org,
            live: issue(conn, org, Some("initial key"), Scopes::all(), true)?,
            test: issue(conn, org, Some("initial test key"), Scopes::all(), false)?,
        })
    })
}

/// The first run: on a database without organizations, create one.
pub fn bootstrap(conn: &mut DbConnection) -> Result<Option<NewOrganization>, StoreError> {
    match organizations::count(conn)? {
        0 => create_organization(conn, "Default organization").map(Some),
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
