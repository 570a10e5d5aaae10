//! Small disks and private PostgreSQL clusters that a test makes, fills,
//! stops and starts, never touching the shared server. Both need root.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::helpers::run;

/// A tmpfs of `megabytes` mounted at a fresh directory, owned by `owner`.
pub struct SmallDisk {
    pub path: PathBuf,
}

impl SmallDisk {
    pub fn mount(name: &str, megabytes: u32, owner: &str) -> Self {
        let path = std::env::temp_dir().join(format!("clientele_{name}_{}", std::process::id()));
        let _ = std::process::Command::new("umount").arg(&path).output();
        std::fs::create_dir_all(&path).unwrap();
        let options = format!("size={megabytes}m,mode=0700");
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                &options,
                "tmpfs",
                path.to_str().unwrap(),
            ],
        );
        run("chown", &[&format!("{owner}:"), path.to_str().unwrap()]);
        Self { path }
    }

    /// Takes `megabytes` of the disk with a file that [`SmallDisk::free`]
    /// removes again.
    pub fn reserve(&self, megabytes: usize) {
        std::fs::write(self.path.join("reserved"), vec![1u8; megabytes << 20]).unwrap();
    }

    pub fn free(&self) {
        std::fs::remove_file(self.path.join("reserved")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .output();
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A PostgreSQL cluster of the test's own, on a free local port.
pub struct Cluster {
    pub port: u16,
    data: PathBuf,
    bin: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn as_postgres(program: &Path, args: &[&str]) {
    let mut full = vec!["-u", "postgres", "--", program.to_str().unwrap()];
    full.extend_from_slice(args);
    run("runuser", &full);
}

impl Cluster {
    /// Initializes and starts a cluster; `None` (after saying so) when no
    /// PostgreSQL server programs are installed.
    pub fn start(name: &str) -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .max();
        let Some(bin) = bin else {
            eprintln!("SKIPPED: no PostgreSQL server programs under /usr/lib/postgresql");
            return None;
        };
        let data = std::env::temp_dir().join(format!("clientele_{name}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).unwrap();
        run("chown", &["postgres:", data.to_str().unwrap()]);
        let pgdata = data.join("pgdata");
        as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                pgdata.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let cluster = Self {
            port: free_port(),
            data,
            bin,
        };
        cluster.resume();
        Some(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server as an operator would (`-m fast`: open
    /// transactions are rolled back, the ones committed are answered). A
    /// crash (`-m immediate`) can also land between a COMMIT and its answer,
    /// which no client can tell from a failure (see the README's
    /// "Reliability").
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast"]);
    }

    pub fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.data.display()
        );
        let log = self.data.join("log");
        self.pg_ctl(&["start", "-w", "-o", &options, "-l", log.to_str().unwrap()]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        let pgdata = self.data.join("pgdata");
        let mut full = vec!["-D", pgdata.to_str().unwrap()];
        full.extend_from_slice(args);
        as_postgres(&self.bin.join("pg_ctl"), &full);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pgdata = self.data.join("pgdata");
        let _ = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", pgdata.to_str().unwrap(), "stop", "-m", "immediate"])
            .output();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
