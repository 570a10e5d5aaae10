//! The `clientele` binary as a process: run a command, or start the server
//! and capture its output.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

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
