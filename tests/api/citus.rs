//! Serving through Citus: a worker that is down answers 503 for the
//! organizations whose rows it holds, and only for them. It stops a worker
//! of the shared test cluster, so it runs alone: CI runs it after the suite
//! (`cargo test --test api -- --ignored citus`).

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Backend, TestApp, citus, run};

/// The Debian cluster (`version name`) listening on `port`.
fn cluster_on(port: &str) -> (String, String) {
    let listing = Command::new("pg_lsclusters")
        .arg("-h")
        .output()
        .unwrap()
        .stdout;
    String::from_utf8(listing)
        .unwrap()
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|fields| fields.get(2) == Some(&port))
        .map(|fields| (fields[0].to_owned(), fields[1].to_owned()))
        .unwrap_or_else(|| panic!("no cluster on port {port}"))
}

/// Starts the worker again however the test ends.
struct Stopped(String, String);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &self.0, &self.1, "start"])
            .status();
    }
}

#[test]
#[ignore = "stops a worker of the shared Citus cluster; CI runs it alone"]
fn citus_a_worker_down_answers_503_for_its_organizations_only() {
    if !citus() {
        eprintln!("SKIPPED: not on Citus (CLIENTELE_TEST_CITUS=1)");
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).unwrap();
    let worker_of = |org: &str| {
        app.texts(&format!(
            "SELECT nodeport::text AS t FROM citus_shards WHERE table_name = 'customers'::regclass \
             AND shardid = get_shard_id_for_distribution_column('customers', '{org}')"
        ))
        .remove(0)
    };
    let mine = worker_of(&app.organization_id);
    let (other, other_key) = (0..50)
        .map(|n| app.create_organization(&format!("Elsewhere {n}")))
        .find(|(org, _)| worker_of(org) != mine)
        .expect("no organization landed on the other worker");
    let other_path = format!("/v1/public-api/organizations/{other}/customers");
    let as_other = format!("ApiKey {other_key}");
    app.create_customer(&json!({"firstName": "Mine"}));
    let created = app.send_as(
        Some(&as_other),
        "POST",
        &other_path,
        Some(("application/json", b"{}")),
    );
    assert_eq!(created.status, 201, "{}", created.text);

    let (version, name) = cluster_on(&mine);
    run(
        "pg_ctlcluster",
        &[
            "--skip-systemctl-redirect",
            &version,
            &name,
            "stop",
            "-m",
            "fast",
        ],
    );
    let stopped = Stopped(version, name);
    app.get(&app.customers_path()).problem(503);
    let theirs = app.send_as(Some(&as_other), "GET", &other_path, None);
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    assert_eq!(theirs.json()["data"].as_array().unwrap().len(), 1);
    let ready = app.get("/ready");
    assert_eq!(ready.status, 200, "{}", ready.text);
    let readiness = ready.json();
    assert_eq!(readiness["status"], "degraded");
    let down: Vec<&str> = readiness["workers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["ready"] == false)
        .map(|w| w["node"].as_str().unwrap())
        .collect();
    assert_eq!(down, [format!("127.0.0.1:{mine}")]);

    drop(stopped);
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.get(&app.customers_path()).status != 200 {
        assert!(
            Instant::now() < deadline,
            "the worker's organizations did not come back"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(app.get("/ready").json()["status"], "ready");
}

/// A server pointed at a worker would take node-local advisory locks (the
/// sequencer's, the migrations') that a server on the coordinator never
/// sees: it refuses to start, saying why. Runs in the Citus suite.
#[test]
fn postgres_a_citus_worker_url_is_refused() {
    if !citus() {
        return;
    }
    let coordinator = crate::helpers::postgres_url().unwrap();
    let worker = crate::helpers::texts_at(
        coordinator,
        "SELECT nodename || ':' || nodeport AS t FROM pg_dist_node WHERE groupid > 0 ORDER BY nodeport LIMIT 1",
    )
    .remove(0);
    let authority = crate::helpers::postgres_authority(coordinator);
    let worker_url = coordinator.replacen(authority, &worker, 1);
    let dir = std::env::temp_dir();
    for args in [&["migrate"][..], &["org", "list"][..]] {
        let output = crate::process::clientele(
            args,
            &[("CLIENTELE_DATABASE_URL", worker_url.as_str())],
            &dir,
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} ran on a worker");
        assert!(
            stderr.contains("Citus worker") && stderr.contains("coordinator"),
            "{stderr}"
        );
    }
}

/// `clientele citus status`: every node with its shards and bytes, and the
/// largest organizations, each with the node that holds its shard. Runs in
/// the Citus suite.
#[test]
fn postgres_citus_status_names_each_node_and_where_the_largest_organizations_live() {
    if !citus() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).unwrap();
    for n in 0..3 {
        app.create_customer(&json!({"firstName": format!("Placed {n}")}));
    }
    let output = crate::process::clientele(
        &["citus", "status"],
        &[("CLIENTELE_DATABASE_URL", app.database_url.as_str())],
        &std::env::temp_dir(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let nodes = status["nodes"].as_array().unwrap();
    let workers: Vec<&serde_json::Value> = nodes.iter().filter(|n| n["role"] == "worker").collect();
    assert!(workers.len() >= 2, "{status}");
    assert!(
        workers
            .iter()
            .all(|w| w["shards"].as_i64() > Some(0) && w["bytes"].as_i64() > Some(0)),
        "{status}"
    );
    let ours = status["largestOrganizations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["organizationId"] == app.organization_id.as_str())
        .unwrap_or_else(|| panic!("{status}"));
    assert_eq!(ours["customers"], 3);
    // The node named holds the organization's rows.
    let node = ours["node"].as_str().unwrap();
    assert!(nodes.iter().any(|n| n["node"] == node), "{status}");
    let held = crate::helpers::texts_at(
        &app.database_url,
        &format!(
            "SELECT nodename || ':' || nodeport AS t FROM citus_shards \
             WHERE shardid = get_shard_id_for_distribution_column('customers', '{}')",
            app.organization_id
        ),
    );
    assert_eq!(held, [node]);
}
