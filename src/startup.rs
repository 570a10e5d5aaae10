//! Builds the HTTP server: checks settings, migrates, bootstraps, routes.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{Logger, from_fn};
use actix_web::{App, HttpServer, web};
use secrecy::SecretString;

use crate::api;
use crate::auth::Authenticator;
use crate::auth::keys::{self, IssuedKey};
use crate::config::Settings;
use crate::domain::ids::OrganizationId;
use crate::error::{json_error, path_error, query_error};
use crate::store::Database;
use crate::telemetry::{self, Metrics, RequestTimeout};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

pub struct Application {
    port: u16,
    server: Server,
    authenticator: Authenticator,
    bootstrapped: Option<(OrganizationId, IssuedKey)>,
}

impl Application {
    /// Migrates the database, runs the first-run bootstrap when enabled, and
    /// binds the listener; the server runs once
    /// [`Application::run_until_stopped`] is awaited. Must be called inside
    /// an actix (tokio) runtime.
    pub fn build(settings: &Settings) -> Result<Self, StartupError> {
        settings.check()?;
        let applied = Database::migrate(&settings.database_url)?;
        if !applied.is_empty() {
            log::info!("applied migrations: {}", applied.join(", "));
        }
        let db = Database::open(&settings.database_url, settings.database_pool_size);
        let bootstrapped = match settings.bootstrap_enabled() {
            true => db.run_blocking(keys::bootstrap)?,
            false => None,
        };
        let jwt_secret = settings.jwt_secret.clone().unwrap_or_else(|| {
            log::warn!("CLIENTELE_JWT_SECRET is not set: using a random secret; tokens will not survive a restart");
            SecretString::from(keys::random_hex(32))
        });
        let authenticator = Authenticator::new(
            db.clone(),
            &jwt_secret,
            Duration::from_secs(settings.auth_cache_seconds),
        );

        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let db = web::Data::new(db);
        let auth = web::Data::new(authenticator.clone());
        let metrics = web::Data::new(Metrics::new());
        let timeout = web::Data::new(RequestTimeout(Duration::from_secs(
            settings.request_timeout_seconds,
        )));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(db.clone())
                .app_data(auth.clone())
                .app_data(metrics.clone())
                .app_data(timeout.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(MAX_BODY_BYTES)
                        .error_handler(json_error),
                )
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .wrap(from_fn(telemetry::track))
                .wrap(from_fn(telemetry::request_id))
                // The path only: query strings may hold search terms and
                // emails, and headers hold credentials.
                .wrap(
                    Logger::new("%{method}xi %U %s %b %Dms request_id=%{x-request-id}o")
                        .custom_request_replace("method", |req| req.method().to_string()),
                )
                .configure(api::routes)
                .default_service(web::to(api::not_found))
        });
        // Request heads must arrive promptly; SIGTERM lets requests in
        // flight finish for up to 30 s, then exits 0 (SIGINT stops at once).
        let server = server
            .client_request_timeout(Duration::from_secs(5))
            .client_disconnect_timeout(Duration::from_secs(1))
            .shutdown_timeout(30)
            // Database work waits in this queue rather than as extra threads
            // blocked on the pool: a thread per connection in the pool, and a
            // few more for argon2 and key lookups.
            .worker_max_blocking_threads(settings.database_pool_size as usize + 4);
        let server = match settings.workers {
            0 => server,
            n => server.workers(n),
        };
        let server = server.listen(listener)?.run();
        Ok(Self {
            port,
            server,
            authenticator,
            bootstrapped,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server from elsewhere.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    /// The organization and key the first-run bootstrap created, if it ran;
    /// taken once, so that the key is shown once.
    pub fn take_bootstrapped(&mut self) -> Option<(OrganizationId, IssuedKey)> {
        self.bootstrapped.take()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
