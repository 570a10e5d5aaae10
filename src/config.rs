//! Layered configuration: `config/default.toml` (built in, and read from
//! disk when present), then `config/{CLIENTELE_ENV}.toml`, then `CLIENTELE_*`
//! environment variables.

use std::fmt;

use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const BUILT_IN_DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Clone, Deserialize)]
pub struct Settings {
    /// `development` unless `CLIENTELE_ENV` says otherwise.
    #[serde(skip)]
    pub environment: String,
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub bind: String,
    /// `postgres://…` selects PostgreSQL; `sqlite://path` or a path, SQLite.
    pub database_url: String,
    pub database_pool_size: u32,
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
    /// How long an API request may take, reading its body included.
    pub request_timeout_seconds: u64,
}

pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Settings {
    pub fn load() -> Result<Self, config::ConfigError> {
        let environment = std::env::var("CLIENTELE_ENV").unwrap_or_else(|_| "development".into());
        let mut settings: Settings = Config::builder()
            .add_source(File::from_str(BUILT_IN_DEFAULTS, FileFormat::Toml))
            .add_source(File::with_name("config/default").required(false))
            .add_source(File::with_name(&format!("config/{environment}")).required(false))
            .add_source(
                Environment::with_prefix("CLIENTELE")
                    .prefix_separator("_")
                    .try_parsing(true),
            )
            .build()?
            .try_deserialize()?;
        settings.environment = environment;
        if settings
            .jwt_secret
            .as_ref()
            .is_some_and(|s| s.expose_secret().is_empty())
        {
            settings.jwt_secret = None;
        }
        Ok(settings)
    }

    /// Whether the settings can run; says what is wrong otherwise.
    pub fn check(&self) -> Result<(), String> {
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
        if self.request_timeout_seconds == 0 {
            return Err("request_timeout_seconds must be at least 1".into());
        }
        if !(1..=60).contains(&self.auth_cache_seconds) {
            return Err("auth_cache_seconds must be from 1 to 60".into());
        }
        Ok(())
    }

    /// The first-run bootstrap never runs in production, whatever the files say.
    pub fn bootstrap_enabled(&self) -> bool {
        self.bootstrap && !self.is_production()
    }

    pub fn is_production(&self) -> bool {
        self.environment == "production"
    }
}

/// Never prints the database URL, which may hold a password.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("environment", &self.environment)
            .field("bind", &self.bind)
            .field("database_url", &"[redacted]")
            .field("database_pool_size", &self.database_pool_size)
            .field("workers", &self.workers)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("bootstrap", &self.bootstrap)
            .field("auth_cache_seconds", &self.auth_cache_seconds)
            .field("request_timeout_seconds", &self.request_timeout_seconds)
            .finish()
    }
}
