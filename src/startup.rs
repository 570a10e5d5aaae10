//! Builds the service: checks settings, binds, migrates, bootstraps, routes;
//! then runs the HTTP server and the background tasks until a signal (or a
//! [`Stopper`]) stops them together.

use std::future::Future;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Logger, from_fn};
use actix_web::{App, HttpServer, web};
use secrecy::{ExposeSecret, SecretString};

use crate::api::answers::{IdempotencyWindow, RecentKeys};
use crate::api::extract::{json_error, query_error};
use crate::api::lifecycle::RestoreWindow;
use crate::api::webhooks::WebhookSettings;
use crate::auth::Authenticator;
use crate::auth::keys::{self, NewOrganization};
use crate::auth::people::SessionTimeouts;
use crate::config::Settings;
use crate::error::MAX_BODY_BYTES;
use crate::limits::{self, BodyTimeout, Draining};
use crate::store::Database;
use crate::store::custom_fields::DefinitionCache;
use crate::store::feed::{self, events};
use crate::store::{self, counts, idempotency};
use crate::tasks::{StopSignal, Supervisor, Task};
use crate::telemetry::{self, Metrics, MetricsAccess};
use crate::webhooks::{self, Dispatcher};
use crate::{api, console, http};
use std::sync::Arc;

/// How long SIGTERM lets requests in flight and background tasks finish.
pub const SHUTDOWN_WINDOW: Duration = Duration::from_secs(30);

pub type StartupError = Box<dyn std::error::Error + Send + Sync>;

pub struct Application {
    port: u16,
    server: Server,
    authenticator: Authenticator,
    bootstrapped: Option<NewOrganization>,
    tasks: Vec<Task>,
    stopper: Stopper,
}

/// Stops the HTTP server and the background tasks together.
#[derive(Clone)]
pub struct Stopper {
    server: ServerHandle,
    tasks: StopSignal,
    draining: Draining,
}

impl Stopper {
    /// Stops taking connections and tells the tasks to stop; `graceful`
    /// lets requests in flight finish (within [`SHUTDOWN_WINDOW`]) while
    /// new ones on open connections are refused (see
    /// [`limits::refuse_when_draining`]). The future resolves once the
    /// server has stopped; dropping it does not cancel the stop.
    pub fn stop(&self, graceful: bool) -> impl Future<Output = ()> + use<> {
        self.draining.begin();
        self.tasks.send();
        self.server.stop(graceful)
    }
}

impl Application {
    /// See [`Application::build_with_tasks`].
    pub fn build(settings: &Settings) -> Result<Self, StartupError> {
        Self::build_with_tasks(settings, Vec::new())
    }

    /// Binds the listener first (a busy port fails before anything is
    /// written), migrates the database, runs the first-run bootstrap when
    /// enabled, and sets up the server and the background tasks (the
    /// service's own and `extra`); they run once
    /// [`Application::run_until_stopped`] is awaited. Must be called inside
    /// an actix (tokio) runtime.
    pub fn build_with_tasks(settings: &Settings, extra: Vec<Task>) -> Result<Self, StartupError> {
        settings.check()?;
        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let metrics_listener = match settings.metrics_bind.trim() {
            "" => None,
            address => Some(
                TcpListener::bind(address)
                    .map_err(|e| format!("cannot listen on {address} for metrics: {e}"))?,
            ),
        };
        let metrics_access = web::Data::new(MetricsAccess {
            port: match &metrics_listener {
                Some(listener) => Some(listener.local_addr()?.port()),
                None => None,
            },
            token: settings.metrics_token.clone(),
            production: settings.is_production(),
        });
        let database_url = settings.database_url.expose_secret();
        let applied = Database::migrate(database_url)?;
        if !applied.is_empty() {
            log::info!("applied migrations: {}", applied.join(", "));
        }
        let mut db = Database::open(database_url, settings.database_pool_size, settings.tuning())?;
        if let Some(read_url) = &settings.database_read_url {
            let read_url = read_url.expose_secret();
            log::info!("read replica: {}", store::describe(read_url));
            db = db.with_replica(read_url, settings.tuning())?;
        }
        let bootstrapped = match settings.bootstrap_enabled() {
            true => db.run_blocking(keys::bootstrap)?,
            false => None,
        };
        let jwt_secret = settings.jwt_secret.clone().unwrap_or_else(|| {
            log::warn!("CLIENTELE_JWT_SECRET is not set: using a random secret; tokens will not survive a restart");
            SecretString::from(keys::random_hex(32))
        });
        let (idle, absolute) = settings.session_timeouts();
        let authenticator = Authenticator::new(
            db.clone(),
            &jwt_secret,
            Duration::from_secs(settings.auth_cache_seconds),
            SessionTimeouts { idle, absolute },
        );

        let metrics = web::Data::new(Metrics::new());
        let mut tasks = service_tasks(settings, &db, &authenticator, metrics.clone().into_inner());
        tasks.extend(extra);
        let db = web::Data::new(db);
        let auth = web::Data::new(authenticator.clone());
        let webhooks = web::Data::new(WebhookSettings {
            policy: settings.webhook_policy(),
            retention: settings.event_retention(),
        });
        let timeout = web::Data::new(BodyTimeout(Duration::from_secs(
            settings.request_timeout_seconds,
        )));
        let idempotency = web::Data::new(IdempotencyWindow(settings.idempotency_window()));
        let recent_keys = web::Data::new(RecentKeys::default());
        let restore_window = web::Data::new(RestoreWindow(settings.restore_window()));
        // Definitions changed on another instance are seen within the
        // lifetime of a cached key.
        let definitions = web::Data::new(DefinitionCache::new(Duration::from_secs(
            settings.auth_cache_seconds,
        )));
        let console_settings = web::Data::new(console::session::ConsoleSettings {
            secure: settings.secure_cookies(),
            public_url: settings.public_url(),
        });
        let report_counts = web::Data::new(console::reports::Counts::default());
        let import_limit = web::Data::new(api::imports::ImportLimit(settings.import_max_bytes()));
        let rate_limits = web::Data::new(limits::RateLimits::new(
            settings.rate_limit_per_second,
            settings.rate_limit_burst,
        ));

        let draining = Draining::default();
        let draining_data = web::Data::new(draining.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(db.clone())
                .app_data(auth.clone())
                .app_data(metrics.clone())
                .app_data(timeout.clone())
                .app_data(draining_data.clone())
                .app_data(idempotency.clone())
                .app_data(recent_keys.clone())
                .app_data(restore_window.clone())
                .app_data(webhooks.clone())
                .app_data(rate_limits.clone())
                .app_data(definitions.clone())
                .app_data(console_settings.clone())
                .app_data(report_counts.clone())
                .app_data(import_limit.clone())
                .app_data(metrics_access.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(MAX_BODY_BYTES)
                        .error_handler(json_error),
                )
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .wrap(from_fn(http::head_as_get))
                .wrap(from_fn(http::nosniff))
                .wrap(from_fn(telemetry::metrics_listener_only))
                .wrap(from_fn(limits::refuse_when_draining))
                .wrap(from_fn(telemetry::track))
                .wrap(from_fn(telemetry::request_id))
                // The path only: query strings may hold search terms and
                // emails, and headers hold credentials.
                .wrap(
                    Logger::new("%{method}xi %U %s %b %Dms request_id=%{x-request-id}o")
                        .custom_request_replace("method", |req| {
                            telemetry::method_label(req.method()).to_owned()
                        }),
                )
                .configure(api::routes)
                .configure(console::routes)
                .default_service(web::to(api::not_found))
        });
        let server = server
            // Signals are handled in `run_until_stopped`, which stops the
            // background tasks too.
            .disable_signals()
            // Request heads must arrive promptly.
            .client_request_timeout(Duration::from_secs(5))
            .client_disconnect_timeout(Duration::from_secs(1))
            .shutdown_timeout(SHUTDOWN_WINDOW.as_secs())
            // Database work waits for a free connection on the async
            // executor (store::Database), so the blocking pool needs a
            // thread per connection, and a few more for argon2.
            .worker_max_blocking_threads(settings.database_pool_size as usize + 4);
        let server = match settings.workers {
            0 => server,
            n => server.workers(n),
        };
        let mut server = server.listen(listener)?;
        if let Some(listener) = metrics_listener {
            log::info!("metrics on {}", listener.local_addr()?);
            server = server.listen(listener)?;
        }
        let server = server.run();
        let stopper = Stopper {
            server: server.handle(),
            tasks: StopSignal::new(),
            draining,
        };
        Ok(Self {
            port,
            server,
            authenticator,
            bootstrapped,
            tasks,
            stopper,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server and its tasks from elsewhere.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    /// The organization and key the first-run bootstrap created, if it ran;
    /// taken once, so that the key is shown once.
    pub fn take_bootstrapped(&mut self) -> Option<NewOrganization> {
        self.bootstrapped.take()
    }

    /// Serves until stopped: SIGTERM stops gracefully (requests in flight
    /// finish within [`SHUTDOWN_WINDOW`], then exit 0); SIGINT and SIGQUIT
    /// stop at once.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let supervisor = Supervisor::start(self.tasks, &self.stopper.tasks);
        let signals = actix_web::rt::spawn(stop_on_signal(self.stopper.clone()));
        let served = self.server.await;
        signals.abort();
        self.stopper.tasks.send();
        supervisor.join(Instant::now() + SHUTDOWN_WINDOW).await;
        served
    }
}

/// How often expired records (idempotency keys) are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// How often each instance looks for revoked keys: a revocation takes
/// effect everywhere within twice this.
const REVOCATIONS_EVERY: Duration = Duration::from_millis(500);

/// How often each instance looks for ended or changed sessions: a sign-out
/// holds everywhere within about this.
const SESSIONS_EVERY: Duration = Duration::from_millis(100);

/// How often the sequencer numbers committed events.
const SEQUENCE_EVERY: Duration = Duration::from_millis(50);
/// How often the changes to the customers' counts are folded into them
/// (reports sum the changes not yet folded, so this bounds their number,
/// not the counts' freshness).
const FOLD_COUNTS_EVERY: Duration = Duration::from_secs(1);
/// How often each instance looks for imports to run (one it started
/// itself is run at once).
const IMPORTS_EVERY: Duration = Duration::from_millis(500);
/// Finished imports, and uploads that never finished, are forgotten this
/// long after.
const IMPORTS_KEPT: Duration = Duration::from_secs(30 * 24 * 3600);
/// Webhook deliveries are given up 3 days after their event.
const GIVE_UP_AFTER: Duration = Duration::from_secs(3 * 24 * 3600);

/// The service's own background tasks.
fn service_tasks(
    settings: &Settings,
    db: &Database,
    authenticator: &Authenticator,
    metrics: Arc<Metrics>,
) -> Vec<Task> {
    let mut tasks = Vec::new();
    let watching = authenticator.clone();
    tasks.push(Task::every("revocations", REVOCATIONS_EVERY, move || {
        let authenticator = watching.clone();
        async move {
            authenticator
                .watch_revocations()
                .await
                .map_err(|e| e.to_string())
        }
    }));
    let watching_sessions = authenticator.clone();
    tasks.push(Task::every("sessions", SESSIONS_EVERY, move || {
        let authenticator = watching_sessions.clone();
        async move {
            authenticator
                .watch_sessions()
                .await
                .map_err(|e| e.to_string())
        }
    }));
    let counting = authenticator.clone();
    tasks.push(Task::every("refused-attempts", Duration::from_secs(60), move || {
        let refused = counting.take_refused();
        async move {
            // One line a minute, however many attempts: a client cannot
            // grow the log by guessing secrets.
            if refused > 0 {
                log::warn!("{refused} authentication attempts refused unheard in the last minute (throttled or over the argon2 budget)");
            }
            Ok(())
        }
    }));
    let folding = db.clone();
    tasks.push(Task::every("fold-counts", FOLD_COUNTS_EVERY, move || {
        let db = folding.clone();
        async move {
            // A full batch means more are waiting: go on at once.
            while db
                .transaction(counts::fold)
                .await
                .map_err(|e| e.to_string())?
                >= counts::FOLD_BATCH as usize
            {}
            Ok(())
        }
    }));
    let sequencing = db.clone();
    tasks.push(Task::every("event-sequencer", SEQUENCE_EVERY, move || {
        let db = sequencing.clone();
        async move {
            // A full batch means more are waiting: go on at once.
            while db
                .transaction(feed::sequence)
                .await
                .map_err(|e| e.to_string())?
                == events::BATCH as usize
            {}
            Ok(())
        }
    }));
    let importing = db.clone();
    tasks.push(Task::new("imports", move |stop| {
        let db = importing.clone();
        async move {
            loop {
                crate::imports::run_waiting(&db, &stop)
                    .await
                    .map_err(|e| e.to_string())?;
                if stop.sleep(IMPORTS_EVERY).await {
                    return Ok(());
                }
            }
        }
    }));
    let pruning_imports = db.clone();
    tasks.push(Task::every("prune-imports", PRUNE_EVERY, move || {
        let db = pruning_imports.clone();
        async move {
            db.transaction(|conn| store::imports::prune(conn, IMPORTS_KEPT))
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }));
    let retention = settings.event_retention();
    let pruning_events = db.clone();
    tasks.push(Task::every("prune-events", PRUNE_EVERY, move || {
        let db = pruning_events.clone();
        async move {
            let pruned = db
                .transaction(move |conn| events::prune(conn, retention))
                .await
                .map_err(|e| e.to_string())?;
            if pruned > 0 {
                log::info!("pruned {pruned} events older than the retention");
            }
            Ok(())
        }
    }));
    let dispatcher = Dispatcher::new(
        db.clone(),
        webhooks::Client::new(settings.webhook_policy()),
        metrics,
        webhooks::Settings {
            retry_base: Duration::from_secs(settings.webhook_retry_base_seconds),
            give_up_after: GIVE_UP_AFTER,
        },
    );
    tasks.push(Task::new("webhook-dispatcher", move |stop| {
        dispatcher.clone().run(stop)
    }));
    let window = settings.idempotency_window();
    let pruning = db.clone();
    tasks.push(Task::every(
        "prune-idempotency-keys",
        PRUNE_EVERY,
        move || {
            let db = pruning.clone();
            async move {
                let pruned = db
                    .run(move |conn| idempotency::prune(conn, window))
                    .await
                    .map_err(|e| e.to_string())?;
                if pruned > 0 {
                    log::info!("pruned {pruned} expired idempotency keys");
                }
                Ok(())
            }
        },
    ));
    let audit_retention = settings.audit_retention();
    let pruning_audit = db.clone();
    tasks.push(Task::every("prune-audit-events", PRUNE_EVERY, move || {
        let db = pruning_audit.clone();
        async move {
            let mut pruned = 0;
            loop {
                let batch = db
                    .transaction(move |conn| store::audit::prune(conn, audit_retention))
                    .await
                    .map_err(|e| e.to_string())?;
                pruned += batch;
                if batch < store::audit::PRUNE_BATCH {
                    break;
                }
            }
            if pruned > 0 {
                log::info!("pruned {pruned} audit events older than the retention");
            }
            Ok(())
        }
    }));
    let (idle, absolute) = settings.session_timeouts();
    let pruning_sessions = db.clone();
    tasks.push(Task::every("prune-sessions", PRUNE_EVERY, move || {
        let db = pruning_sessions.clone();
        async move {
            db.run(move |conn| store::sessions::prune(conn, idle, absolute))
                .await
                .map(drop)
                .map_err(|e| e.to_string())
        }
    }));
    if db.is_sqlite() {
        let db = db.clone();
        let period = Duration::from_secs(settings.sqlite_checkpoint_seconds);
        tasks.push(Task::every("sqlite-checkpoint", period, move || {
            let db = db.clone();
            async move { db.checkpoint().await.map_err(|e| e.to_string()) }
        }));
    }
    tasks
}

async fn stop_on_signal(stopper: Stopper) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    let graceful = tokio::select! {
        _ = terminate.recv() => true,
        _ = interrupt.recv() => false,
        _ = quit.recv() => false,
    };
    match graceful {
        true => log::info!(
            "SIGTERM: graceful shutdown, requests in flight may take up to {} s",
            SHUTDOWN_WINDOW.as_secs()
        ),
        false => log::info!("SIGINT or SIGQUIT: forced shutdown"),
    }
    stopper.stop(graceful).await;
    Ok(())
}
