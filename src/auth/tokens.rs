//! Short-lived tokens: HS256 JWTs keyed with the UTF-8 bytes of the
//! configured secret, the algorithm pinned, `iss`, `aud`, `exp` and `iat`
//! all checked.

use std::fmt;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::domain::customer::FieldSet;
use crate::domain::ids::{CustomerId, OrganizationId};
use crate::domain::scopes::Scopes;
use crate::domain::time::Time;
use crate::domain::token_request::{MAX_EXPIRES_IN, TokenRequest};

pub const ISSUER: &str = "clientele";
pub const AUDIENCE: &str = "clientele-public-api";
/// Tolerated clock difference between instances, in seconds.
const LEEWAY: u64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    /// The organization.
    sub: String,
    /// The minting key, by its opaque reference (never its id, which is
    /// half of the key): revoking the key ends the token.
    #[serde(rename = "ref")]
    key_ref: String,
    /// Space-separated scopes.
    scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cus: Option<String>,
    /// On a token bound to a customer minted with `fields`: the fields it
    /// may change, space-separated (absent: every field a payer may change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fld: Option<String>,
    iat: i64,
    exp: i64,
}

/// What a valid token grants.
#[derive(Debug, Clone, Copy)]
pub struct TokenGrant {
    pub organization_id: OrganizationId,
    pub key_ref: KeyRef,
    pub scopes: Scopes,
    pub customer_id: Option<CustomerId>,
    /// What it may change of a customer.
    pub fields: FieldSet,
    /// `exp`, in seconds since the epoch.
    pub expires_at: i64,
}

/// What tokens name their minting key by: 128 random bits, stored with the
/// key, so that a token shows nothing about the key itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyRef(u128);

impl KeyRef {
    /// 32 lowercase hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        hex.then(|| u128::from_str_radix(text, 16).ok())
            .flatten()
            .map(Self)
    }
}

impl fmt::Display for KeyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl TokenGrant {
    /// Whether the token is past its expiry, with the leeway `verify` allows.
    pub fn expired(&self) -> bool {
        self.expires_at < Utc::now().timestamp() - LEEWAY as i64
    }
}

pub struct TokenSigner {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenSigner {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        validation.leeway = LEEWAY;
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
        }
    }

    /// Mints a token for `request` on behalf of `key`; returns it with its
    /// expiry time.
    pub fn mint(
        &self,
        organization_id: OrganizationId,
        key_ref: KeyRef,
        request: &TokenRequest,
    ) -> (SecretString, Time) {
        let issued = Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: organization_id.to_string(),
            key_ref: key_ref.to_string(),
            scope: request.scopes.to_string(),
            cus: request.customer_id.map(|c| c.to_string()),
            fld: request.fields.map(|fields| fields.names().join(" ")),
            iat: issued,
            exp: issued + request.expires_in,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing of plain claims cannot fail");
        let expires = Time::from_utc(DateTime::from_timestamp(claims.exp, 0).unwrap_or_default());
        (token.into(), expires)
    }

    /// The grant of a valid token; `None` for anything else (bad signature,
    /// other algorithm, wrong issuer or audience, expired, issued in the
    /// future, living longer than any token this service mints).
    pub fn verify(&self, token: &str) -> Option<TokenGrant> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        let now = Utc::now().timestamp();
        let plausible =
            claims.iat <= now + LEEWAY as i64 && claims.exp - claims.iat <= MAX_EXPIRES_IN;
        plausible.then_some(())?;
        let customer_id = match claims.cus {
            Some(id) => Some(CustomerId::parse(&id)?),
            None => None,
        };
        let fields = match (customer_id, claims.fld) {
            (Some(_), Some(names)) => FieldSet::parse_payer_names(names.split(' ')).ok()?,
            (Some(_), None) => FieldSet::payer(),
            (None, None) => FieldSet::all(),
            (None, Some(_)) => return None,
        };
        Some(TokenGrant {
            organization_id: OrganizationId::parse(&claims.sub)?,
            key_ref: KeyRef::parse(&claims.key_ref)?,
            scopes: Scopes::parse_list(&claims.scope, ' ').ok()?,
            customer_id,
            fields,
            expires_at: claims.exp,
        })
    }
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSigner([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::scopes::Scope;

    fn signer(secret: &str) -> TokenSigner {
        TokenSigner::new(&secret.to_owned().into())
    }

    fn request() -> TokenRequest {
        TokenRequest {
            scopes: [Scope::CustomersRead].into_iter().collect(),
            customer_id: Some(CustomerId::generate()),
            fields: Some(FieldSet::parse_payer_names(["email"]).unwrap()),
            expires_in: 900,
        }
    }

    #[test]
    fn round_trip() {
        let signer = signer("a-secret-of-at-least-thirty-two-bytes");
        let (org, key) = (OrganizationId::generate(), KeyRef(7));
        let request = request();
        let (token, expires) = signer.mint(org, key, &request);
        let grant = signer.verify(token.expose_secret()).unwrap();
        assert_eq!(grant.organization_id, org);
        assert_eq!(grant.key_ref, key);
        assert_eq!(grant.scopes, request.scopes);
        assert_eq!(grant.customer_id, request.customer_id);
        assert_eq!(grant.fields.names(), ["email"]);
        let expires = expires.naive().and_utc().timestamp();
        assert_eq!(grant.expires_at, expires);
        assert!(!grant.expired());
        let lifetime = expires - Utc::now().timestamp();
        assert!((895..=900).contains(&lifetime));
    }

    #[test]
    fn expiry_allows_the_same_leeway_as_verification() {
        let now = Utc::now().timestamp();
        let grant = |expires_at| TokenGrant {
            organization_id: OrganizationId::generate(),
            key_ref: KeyRef(7),
            scopes: Scopes::all(),
            customer_id: None,
            fields: FieldSet::all(),
            expires_at,
        };
        assert!(!grant(now + 60).expired());
        assert!(!grant(now - LEEWAY as i64 + 1).expired());
        assert!(grant(now - LEEWAY as i64 - 1).expired());
    }

    #[test]
    fn key_refs_are_32_hex_digits() {
        let text = "0123456789abcdef0123456789abcdef";
        assert_eq!(KeyRef::parse(text).unwrap().to_string(), text);
        for bad in [
            "",
            "0123456789ABCDEF0123456789ABCDEF",
            &text[1..],
            "+123456789abcdef0123456789abcdef",
        ] {
            assert!(KeyRef::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn another_secret_fails() {
        let (token, _) = signer("a-secret-of-at-least-thirty-two-bytes").mint(
            OrganizationId::generate(),
            KeyRef(7),
            &request(),
        );
        assert!(
            signer("another-secret-of-at-least-32-bytes!")
                .verify(token.expose_secret())
                .is_none()
        );
    }
}
