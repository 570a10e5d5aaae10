//! Spawns the real server on a random port over a fresh database, and talks
//! to it over HTTP. Migrations run once per test run: PostgreSQL tests copy
//! a migrated template database, SQLite tests a migrated file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

use clientele::auth::Authenticator;
use clientele::auth::keys;
use clientele::config::{Profile, Settings};
use clientele::domain::audit::Audit;
use clientele::domain::ids::OrganizationId;
use clientele::domain::scopes::Scope;
use clientele::startup::{Application, Stopper};
use clientele::store;
use clientele::tasks::Task;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use secrecy::ExposeSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Writes one test body once and runs it on both backends; after `with
/// adjust;`, on servers whose settings `adjust` changed first.
macro_rules! on_both_backends {
    (with $adjust:path; $(fn $name:ident($app:ident: &TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn run($app: &TestApp) $body

                #[test]
                fn sqlite() {
                    if let Some(app) = TestApp::spawn_with(Backend::Sqlite, $adjust) {
                        run(&app)
                    }
                }

                #[test]
                fn postgres() {
                    if let Some(app) = TestApp::spawn_with(Backend::Postgres, $adjust) {
                        run(&app)
                    }
                }
            }
        )*
    };
    ($(fn $name:ident($app:ident: &TestApp) $body:block)*) => {
        on_both_backends! { with $crate::helpers::default_settings; $(fn $name($app: &TestApp) $body)* }
    };
}
pub(crate) use on_both_backends;

/// The two tests, `sqlite` and `postgres`, of a module whose `run(backend)`
/// starts servers of its own.
macro_rules! run_on_both_backends {
    () => {
        #[test]
        fn sqlite() {
            run($crate::helpers::Backend::Sqlite)
        }

        #[test]
        fn postgres() {
            run($crate::helpers::Backend::Postgres)
        }
    };
}
pub(crate) use run_on_both_backends;

/// An answer, with every header kept.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub text: String,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// Asserts a problem+json answer of this status, and returns its body.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "{}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(body["type"].as_str().unwrap().starts_with("/problems/"));
        assert!(body["title"].is_string() && body["detail"].is_string());
        body
    }

    /// Asserts a 422 and returns the invalid fields' names.
    pub fn invalid_fields(&self) -> Vec<String> {
        let body = self.problem(422);
        assert_eq!(body["type"], "/problems/validation");
        body["invalidFields"]
            .as_array()
            .expect("invalidFields")
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Leaves a test server's settings as `test_settings` made them.
pub fn default_settings(_: &mut Settings) {}

/// The ids of a page's customers, in order.
pub fn ids(page: &Value) -> Vec<&str> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect()
}

/// The JWT secret every test server uses, so tests can forge tokens.
pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

/// The settings of a test server: the built-in defaults, on a random port,
/// with one worker, a known JWT secret and no bootstrap.
pub fn test_settings(database_url: &str) -> Settings {
    let mut settings = Settings::defaults();
    settings.profile = Profile::Test;
    settings.bind = "127.0.0.1:0".into();
    settings.database_url = database_url.to_owned().into();
    settings.workers = 1;
    settings.jwt_secret = Some(JWT_SECRET.to_owned().into());
    settings.bootstrap = false;
    // The tests' own clients are fast; the limit has tests of its own.
    settings.rate_limit_per_second = 1_000_000;
    settings.rate_limit_burst = 1_000_000;
    settings
}

pub struct TestApp {
    pub address: String,
    pub organization_id: String,
    /// A key of `organization_id` holding every scope, sent by default.
    pub api_key: String,
    pub database_url: String,
    pub authenticator: Authenticator,
    /// The Authorization header sent by `get`, `post_json` and friends.
    credential: Option<String>,
    agent: ureq::Agent,
    stopper: Stopper,
    thread: Option<JoinHandle<()>>,
    database: TestDatabase,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl TestApp {
    /// A server over a fresh database with one organization; `None` (after
    /// saying so) when the backend is PostgreSQL and no server answers,
    /// unless CLIENTELE_REQUIRE_POSTGRES=1 makes that a failure.
    pub fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, |_| {})
    }

    /// Like [`TestApp::spawn`], with settings adjusted first.
    pub fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<Self> {
        let database = TestDatabase::create(backend)?;
        let mut settings = test_settings(&database.url);
        adjust(&mut settings);
        Some(Self::start(database, settings, Vec::new))
    }

    /// Like [`TestApp::spawn`], with background tasks of the test's own.
    pub fn spawn_with_tasks(
        backend: Backend,
        tasks: impl FnOnce() -> Vec<Task> + Send + 'static,
    ) -> Option<Self> {
        let database = TestDatabase::create(backend)?;
        let settings = test_settings(&database.url);
        Some(Self::start(database, settings, tasks))
    }

    /// A server over a database the test made itself (a file on a small
    /// disk, a private cluster), migrated by the server at start.
    pub fn spawn_at(database_url: &str) -> Self {
        Self::spawn_at_with(database_url, |_| {})
    }

    /// Like [`TestApp::spawn_at`], with settings adjusted first: another
    /// instance over the same database.
    pub fn spawn_at_with(database_url: &str, adjust: impl FnOnce(&mut Settings)) -> Self {
        let database = TestDatabase {
            url: database_url.to_owned(),
            place: Place::Elsewhere,
        };
        let mut settings = test_settings(database_url);
        adjust(&mut settings);
        Self::start(database, settings, Vec::new)
    }

    /// A PostgreSQL-backed server that reaches the database through
    /// 127.0.0.1:`port` (a proxy the test controls).
    pub fn spawn_postgres_via(port: u16) -> Option<Self> {
        let database = TestDatabase::create(Backend::Postgres)?;
        let base = postgres_url()?;
        let via = database
            .url
            .replacen(postgres_authority(base), &format!("127.0.0.1:{port}"), 1);
        let settings = test_settings(&via);
        Some(Self::start(database, settings, Vec::new))
    }

    fn start(
        database: TestDatabase,
        settings: Settings,
        tasks: impl FnOnce() -> Vec<Task> + Send + 'static,
    ) -> Self {
        let database_url = settings.database_url.expose_secret().to_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match Application::build_with_tasks(&settings, tasks()) {
                    Ok(app) => {
                        let started = (app.port(), app.stopper(), app.authenticator().clone());
                        tx.send(Ok(started)).unwrap();
                        app.run_until_stopped().await.unwrap();
                    }
                    Err(e) => tx.send(Err(e.to_string())).unwrap(),
                }
            })
        });
        let (port, stopper, authenticator) = rx.recv().unwrap().expect("server starts");
        let mut app = Self {
            address: format!("http://127.0.0.1:{port}"),
            organization_id: String::new(),
            api_key: String::new(),
            database_url,
            authenticator,
            credential: None,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                // Under the server's 5 s keep-alive: a pooled connection
                // is never one the server is closing.
                .max_idle_age(std::time::Duration::from_secs(2))
                .build()
                .new_agent(),
            stopper,
            thread: Some(thread),
            database,
        };
        (app.organization_id, app.api_key) = app.create_organization("Test organization");
        app.credential = Some(format!("ApiKey {}", app.api_key));
        app
    }

    /// This server, acting for `tenant`'s organization with its key: another
    /// instance serving the same organization.
    pub fn acting_for(mut self, tenant: &TestApp) -> Self {
        self.organization_id = tenant.organization_id.clone();
        self.api_key = tenant.api_key.clone();
        self.credential = Some(format!("ApiKey {}", self.api_key));
        self
    }

    /// Another tenant in the same database: its id and a key holding every
    /// scope.
    pub fn create_organization(&self, name: &str) -> (String, String) {
        let mut conn = store::connect(&self.database.url).unwrap();
        let created = keys::create_organization(&mut conn, name, &Audit::cli()).unwrap();
        (
            created.organization_id.to_string(),
            created.live.api_key.expose_secret().to_owned(),
        )
    }

    /// A live key of this test's organization with only `scopes`.
    pub fn create_key(&self, scopes: &[Scope]) -> String {
        self.create_key_in_mode(scopes, true)
    }

    /// A key of this test's organization, live or test, with only `scopes`.
    pub fn create_key_in_mode(&self, scopes: &[Scope], livemode: bool) -> String {
        let mut conn = store::connect(&self.database.url).unwrap();
        let org = OrganizationId::parse(&self.organization_id).unwrap();
        let key = store::in_transaction_run_again(&mut conn, |conn| {
            keys::issue(
                conn,
                org,
                Some("test"),
                scopes.iter().copied().collect(),
                livemode,
                &Audit::cli(),
            )
        })
        .unwrap();
        key.api_key.expose_secret().to_owned()
    }

    /// Runs SQL directly against this test's database.
    pub fn execute_sql(&self, sql: &str) {
        store::connect(&self.database.url)
            .unwrap()
            .batch_execute(sql)
            .unwrap();
    }

    /// Counts rows with SQL that selects `count(*) AS n`, straight from the
    /// database, for what the API deliberately does not show.
    pub fn count_rows(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let query = diesel::sql_query(sql);
        let rows: Vec<Count> = match store::connect(&self.database.url).unwrap() {
            store::DbConnection::Pg(mut pg) => query.load(&mut pg).unwrap(),
            store::DbConnection::Sqlite(mut sqlite) => query.load(&mut sqlite).unwrap(),
        };
        rows[0].n
    }

    /// The text column `t` of every row `sql` selects, straight from the
    /// database.
    pub fn texts(&self, sql: &str) -> Vec<String> {
        texts_at(&self.database.url, sql)
    }

    pub fn customers_path(&self) -> String {
        format!(
            "/v1/public-api/organizations/{}/customers",
            self.organization_id
        )
    }

    pub fn customer_path(&self, id: &str) -> String {
        format!("{}/{id}", self.customers_path())
    }

    pub fn get(&self, path: &str) -> Response {
        self.send("GET", path, None)
    }

    pub fn delete(&self, path: &str) -> Response {
        self.send("DELETE", path, None)
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Response {
        self.send(
            "POST",
            path,
            Some(("application/json", body.to_string().as_bytes())),
        )
    }

    pub fn put_json(&self, path: &str, body: &Value) -> Response {
        self.send(
            "PUT",
            path,
            Some(("application/json", body.to_string().as_bytes())),
        )
    }

    /// Creates a customer and returns it, asserting 201.
    pub fn create_customer(&self, body: &Value) -> Value {
        let response = self.post_json(&self.customers_path(), body);
        assert_eq!(response.status, 201, "{}", response.text);
        response.json()
    }

    /// Lists with a raw query string and returns the page, asserting 200.
    pub fn list(&self, query: &str) -> Value {
        let response = self.get(&format!("{}?{query}", self.customers_path()));
        assert_eq!(response.status, 200, "{}", response.text);
        response.json()
    }

    pub fn send(&self, method: &str, path: &str, body: Option<(&str, &[u8])>) -> Response {
        self.send_as(self.credential.as_deref(), method, path, body)
    }

    /// Sends `method path` with `authorization` instead of the default key.
    pub fn send_as(
        &self,
        authorization: Option<&str>,
        method: &str,
        path: &str,
        body: Option<(&str, &[u8])>,
    ) -> Response {
        let mut headers = Vec::new();
        if let Some(value) = authorization {
            headers.push(("authorization", value));
        }
        self.request(method, path, &headers, body)
    }

    /// Sends `method path` with exactly `headers`.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Response {
        let url = format!("{}{path}", self.address);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let result = match body {
            Some((content_type, bytes)) => self.agent.run(
                request
                    .header("content-type", content_type)
                    .body(bytes.to_vec())
                    .unwrap(),
            ),
            // ureq sends a body-less POST as an empty chunked body, as
            // real clients do; the server must keep such connections usable
            // (`hardening::an_unread_empty_chunked_body_…`).
            None => self.agent.run(request.body(()).unwrap()),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        Response {
            status: response.status().as_u16(),
            headers,
            text: response.body_mut().read_to_string().unwrap(),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.stopper.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The text column `t` of every row `sql` selects from the database at `url`.
pub fn texts_at(url: &str, sql: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    let query = diesel::sql_query(sql);
    let rows: Vec<Text> = match store::connect(url).unwrap() {
        store::DbConnection::Pg(mut pg) => query.load(&mut pg).unwrap(),
        store::DbConnection::Sqlite(mut sqlite) => query.load(&mut sqlite).unwrap(),
    };
    rows.into_iter().map(|row| row.t).collect()
}

/// A fresh database of its own for one test, dropped with it.
pub struct TestDatabase {
    pub url: String,
    place: Place,
}

/// Whether the test runs as root, which mounting a small disk or running a
/// private PostgreSQL cluster needs; says so when it does not.
pub fn running_as_root(test: &str) -> bool {
    let uid = std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout;
    let root = String::from_utf8_lossy(&uid).trim() == "0";
    if !root {
        eprintln!("SKIPPED: {test} needs root (mount, a private PostgreSQL cluster)");
    }
    root
}

/// Runs a command and asserts it succeeded.
pub fn run(program: &str, args: &[&str]) {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

enum Place {
    Sqlite(PathBuf),
    Postgres(String),
    /// A schema of the Citus coordinator's database, distributed.
    CitusSchema(String),
    /// Made and removed by the test itself.
    Elsewhere,
}

/// Whether the PostgreSQL tests run on a Citus coordinator
/// (`CLIENTELE_TEST_CITUS=1`, with `CLIENTELE_TEST_DATABASE_URL` naming a
/// database of the coordinator where citus and pg_trgm are installed).
pub fn citus() -> bool {
    std::env::var("CLIENTELE_TEST_CITUS").as_deref() == Ok("1")
}

/// A fresh schema on the Citus coordinator, migrated one migration at a
/// time with every table distributed after each (the order an operator who
/// distributes first and migrates later meets), and its URL.
fn citus_schema(base: &str, name: &str) -> String {
    postgres_template();
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-csearch_path%3D{name}%2Cpublic");
    let mut conn = store::connect(&url).unwrap();
    // Distributed DDL in several schemas at once deadlocks on Citus's own
    // metadata: the tests' schemas are made one at a time.
    conn.batch_execute(&format!(
        "SELECT pg_advisory_lock({CITUS_DDL_LOCK}); CREATE SCHEMA {name}"
    ))
    .unwrap();
    // A migration's DDL can still meet other tests' distributed
    // transactions in Citus's deadlock detector; it rolled back, so it is
    // run again.
    let mut deadlocks = 0;
    loop {
        match store::run_next_migration(&mut conn) {
            Ok(Some(_)) => drop(store::citus::distribute(&mut conn).unwrap()),
            Ok(None) => break,
            Err(e) if e.to_string().contains("deadlock") && deadlocks < 5 => deadlocks += 1,
            Err(e) => panic!("{e}"),
        }
    }
    conn.batch_execute(&format!("SELECT pg_advisory_unlock({CITUS_DDL_LOCK})"))
        .unwrap();
    url
}

/// Serializes the Citus schemas' DDL across tests and test runs.
pub const CITUS_DDL_LOCK: i64 = 7_201_202_614;

impl TestDatabase {
    /// A migrated copy of the template; `None` when PostgreSQL is asked for
    /// and no server answers (see [`postgres_url`]).
    pub fn create(backend: Backend) -> Option<Self> {
        let unique = format!(
            "{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("clientele_test_{unique}.db"));
                std::fs::copy(sqlite_template(), &path).unwrap();
                Some(Self {
                    url: format!("sqlite://{}", path.display()),
                    place: Place::Sqlite(path),
                })
            }
            Backend::Postgres if citus() => {
                let base = postgres_url()?;
                let name = format!("clientele_test_{unique}");
                Some(Self {
                    url: citus_schema(base, &name),
                    place: Place::CitusSchema(name),
                })
            }
            Backend::Postgres => {
                let base = postgres_url()?;
                let name = format!("clientele_test_{unique}");
                admin_connection(base)
                    .batch_execute(&format!(
                        "CREATE DATABASE {name} TEMPLATE {}",
                        postgres_template()
                    ))
                    .unwrap();
                Some(Self {
                    url: with_database(base, &name),
                    place: Place::Postgres(name),
                })
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.place {
            Place::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Place::Postgres(name) => {
                if let Some(base) = postgres_url() {
                    let _ = admin_connection(base)
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
            Place::CitusSchema(name) => {
                if let Some(base) = postgres_url() {
                    let _ = admin_connection(base).batch_execute(&format!(
                        "SELECT pg_advisory_lock({CITUS_DDL_LOCK}); DROP SCHEMA IF EXISTS {name} CASCADE"
                    ));
                }
            }
            Place::Elsewhere => {}
        }
    }
}

/// The PostgreSQL server the suite uses, checked once per run; `None` when
/// none answers, unless CLIENTELE_REQUIRE_POSTGRES=1 makes that a failure.
pub fn postgres_url() -> Option<&'static str> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        let url = std::env::var("CLIENTELE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        match PgConnection::establish(&url) {
            Ok(_) => Some(url),
            Err(e) if std::env::var("CLIENTELE_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
                panic!("CLIENTELE_REQUIRE_POSTGRES=1 but PostgreSQL does not answer: {e}")
            }
            Err(e) => {
                eprintln!("SKIPPED: PostgreSQL tests, no server answers ({e}); set CLIENTELE_TEST_DATABASE_URL");
                None
            }
        }
    })
    .as_deref()
}

/// `host:port` of a PostgreSQL URL.
pub fn postgres_authority(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let after_user = after_scheme
        .rsplit_once('@')
        .map_or(after_scheme, |(_, rest)| rest);
    after_user.split(['/', '?']).next().unwrap()
}

/// `url` naming database `name` instead.
pub fn with_database(url: &str, name: &str) -> String {
    let authority = postgres_authority(url);
    let (head, tail) = url.split_at(url.find(authority).unwrap() + authority.len());
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{head}/{name}{query}")
}

fn admin_connection(url: &str) -> PgConnection {
    PgConnection::establish(url).expect("PostgreSQL answered a moment ago")
}

/// A digest of one backend's migrations: a template is reused only while
/// they are unchanged.
fn migrations_digest(backend: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flat_map(|dir| std::fs::read_dir(dir.unwrap().path()).unwrap())
        .map(|file| file.unwrap().path())
        .collect();
    files.sort();
    let mut digest = Sha256::new();
    for file in files {
        digest.update(
            file.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .as_bytes(),
        );
        digest.update(std::fs::read(&file).unwrap());
    }
    digest.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A migrated SQLite file, made once per test run.
fn sqlite_template() -> &'static PathBuf {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("clientele_template_{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut conn = store::connect(&format!("sqlite://{}", path.display())).unwrap();
        store::run_migrations(&mut conn).unwrap();
        // Back out of WAL mode, so that the file alone holds everything.
        conn.batch_execute("PRAGMA journal_mode = DELETE").unwrap();
        path
    })
}

/// A migrated PostgreSQL template database, named by its migrations' digest
/// and made once (by whichever test run needs it first).
fn postgres_template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let base = postgres_url().expect("PostgreSQL answers");
        let name = format!("clientele_template_{}", migrations_digest("postgres"));
        let mut admin = admin_connection(base);
        // Concurrent test runs take turns to check and make it.
        admin
            .batch_execute("SELECT pg_advisory_lock(7201202612)")
            .unwrap();
        if !database_exists(&mut admin, &name) {
            let building = format!("{name}_building");
            for statement in [
                format!("DROP DATABASE IF EXISTS {building}"),
                format!("CREATE DATABASE {building}"),
            ] {
                admin.batch_execute(&statement).unwrap();
            }
            let mut conn = store::connect(&with_database(base, &building)).unwrap();
            store::run_migrations(&mut conn).unwrap();
            drop(conn);
            admin
                .batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}"))
                .unwrap();
        }
        sweep_stale_databases(&mut admin, &name);
        admin
            .batch_execute("SELECT pg_advisory_unlock(7201202612)")
            .unwrap();
        name
    })
}

fn schemas_like(conn: &mut PgConnection, pattern: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        nspname: String,
    }
    diesel::sql_query("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE $1")
        .bind::<diesel::sql_types::Text, _>(pattern)
        .load::<Name>(conn)
        .unwrap()
        .into_iter()
        .map(|n| n.nspname)
        .collect()
}

fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    names_like(conn, name).iter().any(|n| n == name)
}

fn names_like(conn: &mut PgConnection, pattern: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE $1")
        .bind::<diesel::sql_types::Text, _>(pattern)
        .load::<Name>(conn)
        .unwrap()
        .into_iter()
        .map(|n| n.datname)
        .collect()
}

/// Drops the databases of test runs that ended without dropping theirs
/// (killed, crashed), and templates of other migrations. A run holds an
/// advisory lock keyed by its process id for as long as it lives, so a
/// database whose run holds no lock is stale.
fn sweep_stale_databases(admin: &mut PgConnection, template: &str) {
    static ALIVE: Mutex<Option<PgConnection>> = Mutex::new(None);
    let mut alive = admin_connection(postgres_url().unwrap());
    alive
        .batch_execute(&format!(
            "SELECT pg_advisory_lock(72012026, {})",
            std::process::id()
        ))
        .unwrap();
    *ALIVE.lock().unwrap() = Some(alive);

    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        pid: i64,
    }
    let live: Vec<i64> = diesel::sql_query(
        "SELECT objid::bigint AS pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 72012026 AND objsubid = 2",
    )
    .load::<Pid>(admin)
    .map(|rows| rows.into_iter().map(|p| p.pid).collect())
    .unwrap_or_default();
    let stale = |name: &str| {
        let pid: i64 = name
            .split('_')
            .nth(2)
            .and_then(|p| p.parse().ok())
            .unwrap_or(-1);
        !live.contains(&pid)
    };
    for name in names_like(admin, "clientele\\_test\\_%") {
        if stale(&name) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
    for name in schemas_like(admin, "clientele\\_test\\_%") {
        if stale(&name) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"));
        }
    }
    for name in names_like(admin, "clientele\\_template\\_%") {
        if name != template {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
        }
    }
}
