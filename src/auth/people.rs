//! What people's credentials are made of: invite links, TOTP secrets and
//! their QR codes, recovery codes, and the device cookie that exempts a
//! browser which signed in before from the throttles guessers meet.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use moka::sync::Cache;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::keys::random_hex;
use crate::domain::audit::Audit;
use crate::domain::ids::{OrganizationId, UserId};
use crate::domain::people::{Role, normalized_code};
use crate::domain::time::Time;
use crate::store::sessions::{Found, Signal};
use crate::store::users::{self, Invite};
use crate::store::{DbConnection, StoreError};

/// How long an invite link works.
pub const INVITE_VALID: Duration = Duration::from_secs(72 * 3600);
/// How long sign-in's counts are kept.
const MINUTE: Duration = Duration::from_secs(60);

/// How many recovery codes a person gets with two-step sign-in.
pub const RECOVERY_CODES: usize = 10;
/// How long a device cookie exempts its browser from the throttles.
pub const DEVICE_VALID: Duration = Duration::from_secs(365 * 24 * 3600);

/// The SHA-256 of a secret that is random enough not to need argon2 (an
/// invite link's, a session's, a recovery code's), as hex.
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new invite: the person's id and the link's secret (shown once).
pub struct Invitation {
    pub user_id: UserId,
    pub secret: SecretString,
}

impl Invitation {
    /// The link the invitee opens: `{base}/console/invite/{secret}`.
    pub fn url(&self, base: &str) -> String {
        format!("{base}/console/invite/{}", self.secret.expose_secret())
    }
}

/// Invites `email` to `org` (an operator when `None`) as `role`, with a link
/// that works once, for [`INVITE_VALID`].
pub fn invite(
    conn: &mut DbConnection,
    org: Option<OrganizationId>,
    email: &str,
    role: Role,
    by: &Audit,
) -> Result<Invitation, StoreError> {
    let secret = random_hex(32);
    let user_id = users::invite(
        conn,
        &Invite {
            organization_id: org,
            email,
            role,
            invite_hash: digest(&secret),
            expires: Time::now().plus(INVITE_VALID),
        },
        by,
    )?;
    Ok(Invitation {
        user_id,
        secret: SecretString::from(secret),
    })
}

/// A new TOTP secret: 160 random bits, as base32 (what authenticator apps
/// are given, and what is stored).
pub fn new_totp_secret() -> String {
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    Secret::from(bytes.to_vec()).to_base32()
}

/// RFC 6238 with what every authenticator app assumes: SHA-1, 6 digits,
/// 30 s steps, one step of clock skew either way.
fn totp(secret: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(secret)
        .build()
        .ok()
}

/// The 30 s step `code` is valid for under `secret`, now; none when it is
/// not a current code.
pub fn totp_step(secret: &str, code: &str) -> Option<i64> {
    let code = normalized_code(code);
    totp(secret)?
        .check_current(&code)
        .and_then(|step| i64::try_from(step).ok())
}

/// The code for `secret` at this moment (for tests and tools that act as
/// an authenticator app).
pub fn current_code(secret: &str) -> Option<String> {
    totp(secret).map(|totp| totp.generate_current().to_string())
}

/// The `otpauth://` URL an authenticator app scans.
pub fn otpauth_url(secret: &str, email: &str) -> String {
    let label: String =
        url::form_urlencoded::byte_serialize(format!("clientele:{email}").as_bytes()).collect();
    format!(
        "otpauth://totp/{label}?secret={secret}&issuer=clientele&algorithm=SHA1&digits=6&period=30"
    )
}

/// The URL as a QR code, an SVG drawn here (no image library, no service).
pub fn qr_svg(url: &str) -> String {
    qrcode::QrCode::new(url.as_bytes())
        .map(|code| {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .build();
            // Drop the XML prologue: the SVG goes inside an HTML page.
            match svg.find("<svg") {
                Some(start) => svg[start..].to_owned(),
                None => svg,
            }
        })
        .unwrap_or_default()
}

/// Ten recovery codes, `XXXXX-XXXXX` of base32 (50 random bits each).
pub fn recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 7];
            OsRng.fill_bytes(&mut bytes);
            let text = Secret::from(bytes.to_vec()).to_base32();
            format!("{}-{}", &text[..5], &text[5..10])
        })
        .collect()
}

/// What is stored of a recovery code: the digest of its normalized form.
pub fn recovery_code_hash(code: &str) -> String {
    digest(&normalized_code(code))
}

/// How long a session lasts unused, and at most.
#[derive(Debug, Clone, Copy)]
pub struct SessionTimeouts {
    pub idle: Duration,
    pub absolute: Duration,
}

/// Sign-in's state in the authenticator.
pub struct People {
    pub(super) devices: DeviceCookies,
    /// Wrong passwords by account and client address, by address, by
    /// account from trusted devices, and wrong two-step codes by person;
    /// each count forgotten a minute after it starts.
    pub(super) by_account: Cache<(String, Option<IpAddr>), Arc<AtomicU32>>,
    pub(super) by_address: Cache<Option<IpAddr>, Arc<AtomicU32>>,
    pub(super) by_device: Cache<String, Arc<AtomicU32>>,
    pub(super) codes: Cache<UserId, Arc<AtomicU32>>,
    pub timeouts: SessionTimeouts,
    /// Sessions read lately, by id: trusted for at most the cache lifetime,
    /// and forgotten when [`crate::store::sessions::Signal`] moves.
    pub(super) sessions: Cache<String, Arc<Found>>,
    pub(super) signal: tokio::sync::Mutex<Option<Signal>>,
}

impl People {
    pub fn new(
        jwt_secret: &SecretString,
        timeouts: SessionTimeouts,
        cache_lifetime: Duration,
    ) -> Self {
        Self {
            devices: DeviceCookies::new(jwt_secret),
            by_account: minute(),
            by_address: minute(),
            by_device: minute(),
            codes: minute(),
            timeouts,
            sessions: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(cache_lifetime)
                .build(),
            signal: tokio::sync::Mutex::new(None),
        }
    }
}

/// Counts that are forgotten a minute after they start.
fn minute<K, V>() -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(100_000)
        .time_to_live(MINUTE)
        .build()
}

/// Signs and checks device cookies: `{user id}.{unix seconds}.{HMAC}`, keyed
/// by a key derived from the JWT secret.
#[derive(Clone)]
pub struct DeviceCookies {
    key: [u8; 32],
}

impl DeviceCookies {
    pub fn new(jwt_secret: &SecretString) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(jwt_secret.expose_secret().as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(b"clientele device cookies");
        Self {
            key: mac.finalize().into_bytes().into(),
        }
    }

    fn mac(&self, text: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes a 32-byte key");
        mac.update(text.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A seal over `text`: proves later that this server wrote it (a
    /// two-step secret shown in a form and sent back with the code).
    pub fn seal(&self, text: &str) -> String {
        self.mac(&format!("seal:{text}"))
    }

    /// Whether `seal` is [`DeviceCookies::seal`] of `text`.
    pub fn sealed(&self, text: &str, seal: &str) -> bool {
        subtle_compare::eq(self.seal(text).as_bytes(), seal.as_bytes())
    }

    /// A cookie for a browser `user` just signed in from.
    pub fn issue(&self, user: UserId) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let text = format!("{user}.{now}");
        format!("{text}.{}", self.mac(&text))
    }

    /// The person a cookie was issued to, if it is genuine and not older
    /// than [`DEVICE_VALID`].
    pub fn holder(&self, cookie: &str) -> Option<UserId> {
        let (text, mac) = cookie.rsplit_once('.')?;
        let (user, issued) = text.split_once('.')?;
        let genuine: bool = {
            use subtle_compare::eq;
            eq(self.mac(text).as_bytes(), mac.as_bytes())
        };
        let issued: u64 = issued.parse().ok()?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let fresh = now.saturating_sub(issued) <= DEVICE_VALID.as_secs();
        (genuine && fresh).then(|| UserId::parse(user)).flatten()
    }
}

/// Comparison in time that does not depend on where two values differ.
mod subtle_compare {
    pub fn eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_codes_are_checked_against_rfc_6238() {
        // RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at
        // 59 s gives 94287082 (8 digits), so 287082 with 6.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let totp = totp(&secret).unwrap();
        assert_eq!(totp.generate(59).to_string(), "287082");
        assert!(totp.check("287082", 59).is_some());
        assert!(totp.check("287083", 59).is_none());
        let fresh = new_totp_secret();
        let code = current_code(&fresh).unwrap();
        assert!(totp_step(&fresh, &code).is_some());
        assert!(totp_step(&fresh, &format!("{} {}", &code[..3], &code[3..])).is_some());
    }

    #[test]
    fn device_cookies_name_their_holder_and_resist_forgery() {
        let cookies = DeviceCookies::new(&SecretString::from("a".repeat(32)));
        let user = UserId::generate();
        let cookie = cookies.issue(user);
        assert_eq!(cookies.holder(&cookie), Some(user));
        let other = DeviceCookies::new(&SecretString::from("b".repeat(32)));
        assert_eq!(other.holder(&cookie), None);
        let forged = cookie.replace(&user.to_string(), &UserId::generate().to_string());
        assert_eq!(cookies.holder(&forged), None);
        assert_eq!(cookies.holder("garbage"), None);
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_typed_loosely() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        assert_eq!(
            recovery_code_hash(&codes[0]),
            recovery_code_hash(&codes[0].to_lowercase().replace('-', " "))
        );
        assert!(qr_svg(&otpauth_url(&new_totp_secret(), "a@b.co")).starts_with("<svg"));
    }
}
