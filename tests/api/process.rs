//! The `clientele` binary as a process: run a command, or start the server
//! and capture its output.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{Backend, JWT_SECRET, TestDatabase, texts_at};

pub const BINARY: &str = env!("CARGO_BIN_EXE_clientele");

/// Runs the binary with only the given environment, in `dir`.
pub fn clientele(args: &[&str], env: &[(&str, &str)], dir: &Path) -> Output {
    Command::new(BINARY)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .unwrap()
}

/// A server process, its combined output captured.
pub struct Server {
    pub child: Child,
    pub port: u16,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `clientele` and waits until it listens; `Err` with its output
    /// if it exits first.
    pub fn start(env: &[(&str, &str)], dir: &Path) -> Result<Server, String> {
        let mut child = Command::new(BINARY)
            .env_clear()
            // The tests' own clients are fast; a test may set a limit.
            .env("CLIENTELE_RATE_LIMIT_PER_SECOND", "1000000")
            .env("CLIENTELE_RATE_LIMIT_BURST", "1000000")
            .envs(env.iter().copied())
            .env("CLIENTELE_BIND", "127.0.0.1:0")
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (stdout, stderr) = (
            Arc::new(Mutex::new(String::new())),
            Arc::new(Mutex::new(String::new())),
        );
        let (port_tx, port_rx) = mpsc::channel();
        let collect = |pipe: Box<dyn std::io::Read + Send>,
                       into: Arc<Mutex<String>>,
                       port_tx: mpsc::Sender<Option<u16>>| {
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Some(port) = line.split("(port ").nth(1) {
                        let _ = port_tx.send(port.trim_end_matches(')').parse().ok());
                    }
                    into.lock().unwrap().push_str(&(line + "\n"));
                }
                let _ = port_tx.send(None);
            })
        };
        collect(
            Box::new(child.stdout.take().unwrap()),
            stdout.clone(),
            port_tx.clone(),
        );
        collect(
            Box::new(child.stderr.take().unwrap()),
            stderr.clone(),
            port_tx,
        );
        match port_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(port)) => Ok(Server {
                child,
                port,
                stdout,
                stderr,
            }),
            _ => {
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                Err(format!(
                    "{}{}",
                    stdout.lock().unwrap(),
                    stderr.lock().unwrap()
                ))
            }
        }
    }

    /// The first line the server printed on stdout (the bootstrap line),
    /// waiting for it: stdout and stderr are read by different threads.
    pub fn first_stdout_line(&self) -> Value {
        for _ in 0..100 {
            if let Some(line) = self.stdout.lock().unwrap().lines().next() {
                return serde_json::from_str(line).unwrap();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nothing on stdout");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn stop(mut self) -> (String, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        let stdout = self.stdout.lock().unwrap().clone();
        let stderr = self.stderr.lock().unwrap().clone();
        (stdout, stderr)
    }
}

pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clientele_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Under the server's 5 s keep-alive: a pooled connection
        // is never one the server is closing.
        .max_idle_age(std::time::Duration::from_secs(2))
        .build()
        .new_agent()
}

/// A database of its own, a scratch directory, and an organization made
/// there by the CLI (its id and an API key's `Authorization`), with the
/// settings its servers run with: where the tests that kill the real binary
/// start.
pub struct Setup {
    pub database: TestDatabase,
    pub dir: PathBuf,
    pub org: String,
    pub auth: String,
    settings: Vec<(&'static str, &'static str)>,
}

impl Setup {
    /// `None` when `backend` is not available here. `settings` are added to
    /// the servers' environment.
    pub fn new(
        backend: Backend,
        name: &str,
        settings: &[(&'static str, &'static str)],
    ) -> Option<Self> {
        let database = TestDatabase::create(backend)?;
        let dir = scratch_dir(&format!("{name}_{backend:?}"));
        let mut made = Self {
            database,
            dir,
            org: String::new(),
            auth: String::new(),
            settings: settings.to_vec(),
        };
        let output = clientele(&["org", "create", "--name", name], &made.env(), &made.dir);
        let created: Value = serde_json::from_slice(&output.stdout).unwrap();
        made.org = created["organizationId"].as_str().unwrap().to_owned();
        made.auth = format!("ApiKey {}", created["apiKey"].as_str().unwrap());
        Some(made)
    }

    /// The environment a server of this database runs with.
    pub fn env(&self) -> Vec<(&str, &str)> {
        let mut env = vec![
            ("CLIENTELE_DATABASE_URL", self.database.url.as_str()),
            ("CLIENTELE_JWT_SECRET", JWT_SECRET),
            ("CLIENTELE_BOOTSTRAP", "false"),
        ];
        env.extend(self.settings.iter().copied());
        env
    }

    pub fn start(&self) -> Server {
        Server::start(&self.env(), &self.dir).unwrap()
    }

    /// Every customer has its `customer.created` audit event and every such
    /// event its customer (both commit in one transaction, whenever a kill
    /// came); there are `expected` of them.
    pub fn assert_each_customer_audited(&self, expected: usize) {
        let sorted = |sql: &str| {
            let mut ids = texts_at(&self.database.url, sql);
            ids.sort();
            ids
        };
        let customers = sorted("SELECT id AS t FROM customers");
        let audited =
            sorted("SELECT target_id AS t FROM audit_events WHERE action = 'customer.created'");
        assert_eq!(customers.len(), expected);
        assert_eq!(
            audited, customers,
            "audit events without their customer, or customers without one"
        );
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Kills the process with SIGKILL, as a crash would.
pub fn sigkill(child: &Child) {
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
    assert!(killed.success(), "kill -KILL {pid}");
}

/// `from` milliseconds and a random part of `spread` more.
pub fn random_millis(from: u64, spread: u64) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Duration::from_millis(from + u64::from(nanos) % spread)
}
