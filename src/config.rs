//! Layered configuration: `config/default.toml` (built in, and read from
//! disk when present), then `config/{CLIENTELE_ENV}.toml`, then `CLIENTELE_*`
//! environment variables. Every setting is written once, in [`Settings`];
//! its default is in `config/default.toml`.

use std::str::FromStr;

use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::store::Synchronous;

const BUILT_IN_DEFAULTS: &str = include_str!("../config/default.toml");

/// Which rules apply: production turns the first-run bootstrap off and
/// requires a JWT secret, whatever the files say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    #[default]
    Development,
    Production,
    Test,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
            Self::Test => "test",
        }
    }
}

impl FromStr for Profile {
    type Err = String;

    /// Case-insensitive: `Production` is production, never a development
    /// profile by accident; an unknown name is refused.
    fn from_str(name: &str) -> Result<Self, String> {
        [Self::Development, Self::Production, Self::Test]
            .into_iter()
            .find(|profile| profile.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| {
                format!("CLIENTELE_ENV={name:?} is not a profile: development, production or test")
            })
    }
}

/// `Debug` prints secrets as `[REDACTED]` (`SecretString`).
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// Set from `CLIENTELE_ENV`, not from the files.
    #[serde(skip)]
    pub profile: Profile,
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub bind: String,
    /// `postgres://…` selects PostgreSQL; `sqlite://path` or a path, SQLite.
    /// A secret: it may hold a password.
    pub database_url: SecretString,
    pub database_pool_size: u32,
    /// A PostgreSQL read replica for lists, search, exports and stats;
    /// a secret like the primary's URL.
    #[serde(default)]
    pub database_read_url: Option<SecretString>,
    /// SQLite's durability: `full` (every acknowledged commit survives an
    /// OS crash or power loss) or `normal` (faster; the last ones may not).
    pub sqlite_synchronous: Synchronous,
    /// How often the SQLite WAL is checkpointed and truncated, in seconds.
    pub sqlite_checkpoint_seconds: u64,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// HS256 key for tokens, at least 32 bytes. Required in production;
    /// elsewhere a random one is made at start when absent.
    #[serde(default)]
    pub jwt_secret: Option<SecretString>,
    /// On an empty database, create an organization and a key and print
    /// them once. Always off in production.
    pub bootstrap: bool,
    /// How long verified keys and key records are remembered (1..=60 s):
    /// the longest a revoked key keeps working on another instance.
    pub auth_cache_seconds: u64,
    /// How long an API request's body may take to arrive (408 after).
    pub request_timeout_seconds: u64,
    /// How long the answer of a request with an Idempotency-Key is kept and
    /// replayed (1..=168 hours).
    pub idempotency_hours: u64,
    /// How long events are kept in the feed, in days.
    pub event_retention_days: u64,
    /// How long after its deletion a customer may be restored, in days.
    pub restore_days: u64,
    /// The first wait before a webhook delivery is retried, in seconds;
    /// each later one doubles, up to an hour.
    pub webhook_retry_base_seconds: u64,
    /// Let webhook endpoints be plain http and point at private addresses
    /// in production too (outside production they always may).
    pub webhook_allow_private: bool,
    /// Requests per second each credential's key may make (a token bucket
    /// per key, per instance), and how many at once above that.
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
    /// PostgreSQL's statement timeout, in seconds.
    pub statement_timeout_seconds: u64,
    /// Connections one organization's requests may hold at once; 0 means
    /// one fewer than the pool (at least one).
    pub organization_connections: u32,
    /// Serve `/metrics` on this address only (not on `bind`); empty: on
    /// `bind`.
    pub metrics_bind: String,
    /// When set, `/metrics` needs `Authorization: Bearer <this>`.
    #[serde(default)]
    pub metrics_token: Option<SecretString>,
    /// The address people reach the service at, for invite links; empty:
    /// `http://` and `bind`.
    pub public_url: String,
    /// A console session ends after this long unused (fractions allowed).
    pub session_idle_minutes: f64,
    /// A console session ends this long after sign-in, used or not.
    pub session_absolute_hours: f64,
    /// How long audit events are kept, in days.
    pub audit_retention_days: u64,
    /// The largest file an import takes, in MiB.
    pub import_max_mb: u64,
}

pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Settings {
    pub fn load() -> Result<Self, String> {
        let profile: Profile =
            std::env::var("CLIENTELE_ENV").map_or(Ok(Profile::default()), |name| name.parse())?;
        let settings = Config::builder()
            .add_source(File::from_str(BUILT_IN_DEFAULTS, FileFormat::Toml))
            .add_source(File::with_name("config/default").required(false))
            .add_source(File::with_name(&format!("config/{}", profile.name())).required(false))
            // Values stay text until a setting's type asks for more, so a
            // secret of digits is never read as a number.
            .add_source(Environment::with_prefix("CLIENTELE").prefix_separator("_"))
            .build()
            .and_then(Config::try_deserialize::<Settings>)
            .map_err(|e| e.to_string())?;
        Ok(settings.with_profile(profile))
    }

    /// The built-in defaults alone, for tests and tools that set the rest.
    pub fn defaults() -> Self {
        Config::builder()
            .add_source(File::from_str(BUILT_IN_DEFAULTS, FileFormat::Toml))
            .build()
            .and_then(Config::try_deserialize::<Settings>)
            .expect("the built-in defaults deserialize")
    }

    fn with_profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        if self
            .jwt_secret
            .as_ref()
            .is_some_and(|s| s.expose_secret().is_empty())
        {
            self.jwt_secret = None;
        }
        if self
            .metrics_token
            .as_ref()
            .is_some_and(|s| s.expose_secret().is_empty())
        {
            self.metrics_token = None;
        }
        if self
            .database_read_url
            .as_ref()
            .is_some_and(|s| s.expose_secret().trim().is_empty())
        {
            self.database_read_url = None;
        }
        self
    }

    /// Whether the settings can run; says what is wrong otherwise.
    pub fn check(&self) -> Result<(), String> {
        crate::store::check_url(self.database_url.expose_secret())?;
        if let Some(read) = &self.database_read_url {
            let both = [self.database_url.expose_secret(), read.expose_secret()];
            if !both.into_iter().all(crate::store::is_postgres) {
                return Err(
                    "CLIENTELE_DATABASE_READ_URL is a PostgreSQL replica of a PostgreSQL database"
                        .into(),
                );
            }
        }
        match &self.jwt_secret {
            None if self.is_production() => {
                return Err("CLIENTELE_JWT_SECRET is required in production".into());
            }
            Some(secret) if secret.expose_secret().len() < MIN_JWT_SECRET_BYTES => {
                return Err(format!(
                    "CLIENTELE_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes"
                ));
            }
            _ => {}
        }
        if self.sqlite_checkpoint_seconds == 0 {
            return Err("sqlite_checkpoint_seconds must be at least 1".into());
        }
        if !(1..=168).contains(&self.idempotency_hours) {
            return Err("idempotency_hours must be from 1 to 168".into());
        }
        if self.event_retention_days == 0 || self.webhook_retry_base_seconds == 0 {
            return Err(
                "event_retention_days and webhook_retry_base_seconds must be at least 1".into(),
            );
        }
        if self.restore_days == 0 {
            return Err("restore_days must be at least 1".into());
        }
        if self.request_timeout_seconds == 0 {
            return Err("request_timeout_seconds must be at least 1".into());
        }
        if self.rate_limit_per_second == 0 || self.rate_limit_burst == 0 {
            return Err("rate_limit_per_second and rate_limit_burst must be at least 1".into());
        }
        if self.statement_timeout_seconds == 0 {
            return Err("statement_timeout_seconds must be at least 1".into());
        }
        if !(1..=60).contains(&self.auth_cache_seconds) {
            return Err("auth_cache_seconds must be from 1 to 60".into());
        }
        let positive = |minutes: f64| minutes.is_finite() && minutes > 0.0;
        if !positive(self.session_idle_minutes) || !positive(self.session_absolute_hours) {
            return Err("session_idle_minutes and session_absolute_hours must be above 0".into());
        }
        if self.audit_retention_days == 0 {
            return Err("audit_retention_days must be at least 1".into());
        }
        if self.import_max_mb == 0 {
            return Err("import_max_mb must be at least 1".into());
        }
        Ok(())
    }

    /// How connections are set up.
    pub fn tuning(&self) -> crate::store::Tuning {
        crate::store::Tuning {
            synchronous: self.sqlite_synchronous,
            statement_timeout: Some(std::time::Duration::from_secs(
                self.statement_timeout_seconds,
            )),
            organization_connections: self.organization_connections as usize,
        }
    }

    pub fn idempotency_window(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.idempotency_hours * 3600)
    }

    pub fn event_retention(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.event_retention_days * 24 * 3600)
    }

    pub fn restore_window(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.restore_days * 24 * 3600)
    }

    pub fn audit_retention(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.audit_retention_days * 24 * 3600)
    }

    /// The largest file an import takes, in bytes.
    pub fn import_max_bytes(&self) -> u64 {
        self.import_max_mb.saturating_mul(1024 * 1024)
    }

    /// How long a console session lasts unused, and at most.
    pub fn session_timeouts(&self) -> (std::time::Duration, std::time::Duration) {
        (
            std::time::Duration::from_secs_f64(self.session_idle_minutes * 60.0),
            std::time::Duration::from_secs_f64(self.session_absolute_hours * 3600.0),
        )
    }

    /// Where people reach the console: `public_url`, or the bound address.
    pub fn public_url(&self) -> String {
        match self.public_url.trim().trim_end_matches('/') {
            "" => format!("http://{}", self.bind),
            url => url.to_owned(),
        }
    }

    /// Whether the session cookie is sent over https only: always, but in
    /// development on a loopback address (a browser on the same machine,
    /// plain http).
    pub fn secure_cookies(&self) -> bool {
        let loopback = self
            .bind
            .parse::<std::net::SocketAddr>()
            .is_ok_and(|address| address.ip().is_loopback())
            || self.bind.starts_with("localhost:");
        self.is_production() || !loopback
    }

    /// Webhook endpoints may be http and private outside production, or
    /// when the setting allows it.
    pub fn webhook_policy(&self) -> crate::domain::webhook::UrlPolicy {
        crate::domain::webhook::UrlPolicy {
            allow_private: self.webhook_allow_private || !self.is_production(),
        }
    }

    /// The first-run bootstrap never runs in production, whatever the files say.
    pub fn bootstrap_enabled(&self) -> bool {
        self.bootstrap && !self.is_production()
    }

    pub fn is_production(&self) -> bool {
        self.profile == Profile::Production
    }
}

/// The environment variables, from the comments of the built-in defaults
/// (`# CLIENTELE_NAME: what it does`), for `--help`.
pub fn environment_help() -> String {
    let mut help = String::from(
        "Environment (each overrides config/default.toml and config/{CLIENTELE_ENV}.toml):\n",
    );
    help.push_str("  CLIENTELE_ENV: the profile: development (default), production or test\n");
    for line in BUILT_IN_DEFAULTS.lines() {
        if let Some(variable) = line.strip_prefix("# CLIENTELE_") {
            help.push_str(&format!("  CLIENTELE_{variable}\n"));
        }
    }
    help.push_str("  RUST_LOG: the log filter (env_logger), info by default\n");
    help
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_replica_is_postgresql_behind_postgresql() {
        let mut settings = Settings::defaults();
        settings.database_read_url = Some("postgres://replica/db".to_owned().into());
        assert!(
            settings
                .check()
                .unwrap_err()
                .contains("CLIENTELE_DATABASE_READ_URL")
        );
        settings.database_url = "postgres://primary/db".to_owned().into();
        assert_eq!(settings.check(), Ok(()));
        settings.database_read_url = Some("sqlite://copy.db".to_owned().into());
        assert!(settings.check().is_err());
    }

    #[test]
    fn profiles_are_case_insensitive_and_unknown_ones_refused() {
        assert_eq!("Production".parse(), Ok(Profile::Production));
        assert_eq!(" development ".parse(), Ok(Profile::Development));
        assert!("prod".parse::<Profile>().is_err());
    }

    #[test]
    fn debug_never_prints_secrets() {
        let mut settings = Settings::defaults();
        settings.database_url = "postgres://user:hunter2@db/x".to_owned().into();
        settings.jwt_secret = Some("a-jwt-secret-of-at-least-32-bytes!!".to_owned().into());
        let printed = format!("{settings:?}");
        assert!(
            !printed.contains("hunter2") && !printed.contains("a-jwt-secret"),
            "{printed}"
        );
    }
}
