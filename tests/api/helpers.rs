//! Spawns the real server on a random port over a fresh database, and talks
//! to it over HTTP.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

use actix_web::dev::ServerHandle;
use clientele::auth::Authenticator;
use clientele::auth::keys;
use clientele::config::Settings;
use clientele::startup::Application;
use clientele::store;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use secrecy::ExposeSecret;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Writes one test body once and runs it on both backends.
macro_rules! on_both_backends {
    ($(fn $name:ident($app:ident: &TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn run($app: &TestApp) $body

                #[test]
                fn sqlite() {
                    if let Some(app) = TestApp::spawn(Backend::Sqlite) {
                        run(&app)
                    }
                }

                #[test]
                fn postgres() {
                    if let Some(app) = TestApp::spawn(Backend::Postgres) {
                        run(&app)
                    }
                }
            }
        )*
    };
}
pub(crate) use on_both_backends;

pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub allow: Option<String>,
    pub www_authenticate: Option<String>,
    pub text: String,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// Asserts a problem+json answer of this status, and returns its body.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(body["type"].as_str().unwrap().starts_with("/problems/"));
        assert!(body["title"].is_string() && body["detail"].is_string());
        body
    }

    /// Asserts a 422 and returns the invalid fields as `field: message`.
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

/// The JWT secret every test server uses, so tests can forge tokens.
pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

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
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
    database: TestDatabase,
}

enum TestDatabase {
    Sqlite(PathBuf),
    Postgres { schema: String },
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
        Self::spawn_inner(backend, None, adjust)
    }

    /// A PostgreSQL-backed server that reaches the database through
    /// 127.0.0.1:`port` (a proxy the test controls).
    pub fn spawn_postgres_via(port: u16) -> Option<Self> {
        Self::spawn_inner(Backend::Postgres, Some(port), |_| {})
    }

    fn spawn_inner(
        backend: Backend,
        via_port: Option<u16>,
        adjust: impl FnOnce(&mut Settings),
    ) -> Option<Self> {
        let unique = format!(
            "{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let (database_url, database) = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("clientele_test_{unique}.db"));
                (
                    format!("sqlite://{}", path.display()),
                    TestDatabase::Sqlite(path),
                )
            }
            Backend::Postgres => {
                let base = postgres_base_url()?;
                let schema = format!("clientele_test_{unique}");
                admin_connection(base)
                    .batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .unwrap();
                let separator = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{separator}options=-csearch_path%3D{schema}%2Cpublic");
                let url = match via_port {
                    Some(port) => {
                        url.replacen(postgres_authority(base), &format!("127.0.0.1:{port}"), 1)
                    }
                    None => url,
                };
                (url, TestDatabase::Postgres { schema })
            }
        };
        let mut settings = Settings {
            environment: "test".into(),
            bind: "127.0.0.1:0".into(),
            database_url: database_url.clone(),
            database_pool_size: 4,
            workers: 1,
            jwt_secret: Some(JWT_SECRET.to_owned().into()),
            bootstrap: false,
            auth_cache_seconds: 60,
            request_timeout_seconds: 30,
        };
        adjust(&mut settings);
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match Application::build(&settings) {
                    Ok(app) => {
                        let started = (app.port(), app.handle(), app.authenticator().clone());
                        tx.send(Ok(started)).unwrap();
                        app.run_until_stopped().await.unwrap();
                    }
                    Err(e) => tx.send(Err(e.to_string())).unwrap(),
                }
            })
        });
        let (port, handle, authenticator) = rx.recv().unwrap().expect("server starts");
        let mut app = Self {
            address: format!("http://127.0.0.1:{port}"),
            organization_id: String::new(),
            api_key: String::new(),
            database_url,
            authenticator,
            credential: None,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .new_agent(),
            handle,
            thread: Some(thread),
            database,
        };
        (app.organization_id, app.api_key) = app.create_organization("Test organization");
        app.credential = Some(format!("ApiKey {}", app.api_key));
        Some(app)
    }

    /// Another tenant in the same database: its id and a key holding every
    /// scope.
    pub fn create_organization(&self, name: &str) -> (String, String) {
        let mut conn = store::connect(&self.database_url).unwrap();
        let (org, key) = keys::create_organization(&mut conn, name).unwrap();
        (org.to_string(), key.api_key.expose_secret().to_owned())
    }

    /// A key of this test's organization with only `scopes`.
    pub fn create_key(&self, scopes: &[clientele::domain::scopes::Scope]) -> String {
        let mut conn = store::connect(&self.database_url).unwrap();
        let org = clientele::domain::ids::OrganizationId::parse(&self.organization_id).unwrap();
        let key = keys::issue(
            &mut conn,
            &org,
            Some("test"),
            scopes.iter().copied().collect(),
        )
        .unwrap();
        key.api_key.expose_secret().to_owned()
    }

    /// Runs SQL directly against this test's database.
    pub fn execute_sql(&self, sql: &str) {
        store::connect(&self.database_url)
            .unwrap()
            .batch_execute(sql)
            .unwrap();
    }

    /// Counts rows with SQL that selects `count(*) AS n`, straight from the
    /// database, for what the API deliberately does not show.
    pub fn count_rows(&self, sql: &str) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let query = diesel::sql_query(sql);
        let rows: Vec<Count> = match store::connect(&self.database_url).unwrap() {
            store::DbConnection::Pg(mut pg) => query.load(&mut pg).unwrap(),
            store::DbConnection::Sqlite(mut sqlite) => query.load(&mut sqlite).unwrap(),
        };
        rows[0].n
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
        let url = format!("{}{path}", self.address);
        fn with<B>(
            builder: ureq::RequestBuilder<B>,
            authorization: Option<&str>,
        ) -> ureq::RequestBuilder<B> {
            match authorization {
                Some(value) => builder.header("authorization", value),
                None => builder,
            }
        }
        let auth = |builder| with(builder, authorization);
        let auth_body = |builder| with(builder, authorization);
        let result = match (method, body) {
            ("GET", None) => auth(self.agent.get(&url)).call(),
            ("DELETE", None) => auth(self.agent.delete(&url)).call(),
            ("HEAD", None) => auth(self.agent.head(&url)).call(),
            (method, body) => {
                let builder = auth_body(match method {
                    "POST" => self.agent.post(&url),
                    "PUT" => self.agent.put(&url),
                    "PATCH" => self.agent.patch(&url),
                    other => panic!("no helper for {other} with a body"),
                });
                match body {
                    Some((content_type, bytes)) => {
                        builder.header("content-type", content_type).send(bytes)
                    }
                    None => builder.send_empty(),
                }
            }
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let (content_type, location, allow) =
            (header("content-type"), header("location"), header("allow"));
        let www_authenticate = header("www-authenticate");
        Response {
            status: response.status().as_u16(),
            content_type: content_type.unwrap_or_default(),
            location,
            allow,
            www_authenticate,
            text: response.body_mut().read_to_string().unwrap(),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        match &self.database {
            TestDatabase::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            TestDatabase::Postgres { schema } => {
                if let Some(base) = postgres_base_url() {
                    let _ = admin_connection(base)
                        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"));
                }
            }
        }
    }
}

/// The PostgreSQL server the suite uses, checked once per run.
fn postgres_base_url() -> Option<&'static str> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        let url = std::env::var("CLIENTELE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        match PgConnection::establish(&url) {
            Ok(mut conn) => {
                prepare_postgres(&mut conn);
                Some(url)
            }
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

/// `host:port` of the test PostgreSQL server.
pub fn postgres_authority(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let after_user = after_scheme
        .rsplit_once('@')
        .map_or(after_scheme, |(_, rest)| rest);
    after_user.split(['/', '?']).next().unwrap()
}

/// The test PostgreSQL server's URL, if it answers.
pub fn postgres_url() -> Option<&'static str> {
    postgres_base_url()
}

fn admin_connection(url: &str) -> PgConnection {
    PgConnection::establish(url).expect("PostgreSQL answered a moment ago")
}

/// Creates pg_trgm once in `public` (concurrent `CREATE EXTENSION`s race),
/// and drops the schemas of earlier runs whose process is gone.
fn prepare_postgres(conn: &mut PgConnection) {
    use diesel::RunQueryDsl;
    use diesel::sql_types::Text;

    #[derive(diesel::QueryableByName)]
    struct Schema {
        #[diesel(sql_type = Text)]
        nspname: String,
    }
    conn.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        .unwrap();
    let stale: Vec<Schema> = diesel::sql_query(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'clientele\\_test\\_%'",
    )
    .load(conn)
    .unwrap();
    for Schema { nspname } in stale {
        let pid = nspname.split('_').nth(2).unwrap_or_default();
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = conn.batch_execute(&format!("DROP SCHEMA {nspname} CASCADE"));
        }
    }
}
