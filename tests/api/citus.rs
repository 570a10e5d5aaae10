//! Serving through Citus: a worker that is down answers 503 for the
//! organizations whose rows it holds, and only for them. It stops a worker
//! of the shared test cluster, so it runs alone: CI runs it after the suite
//! (`cargo test --test api -- --ignored citus`).

use std::process::Command;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
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

/// `url` (the coordinator's, with the test's schema) pointed at the first
/// worker instead.
fn on_a_worker(url: &str) -> String {
    let worker = crate::helpers::texts_at(
        url,
        "SELECT nodename || ':' || nodeport AS t FROM pg_dist_node WHERE groupid > 0 ORDER BY nodeport LIMIT 1",
    )
    .remove(0);
    url.replacen(crate::helpers::postgres_authority(url), &worker, 1)
}

/// Servers on different nodes of one cluster (here the coordinator and a
/// worker) take the sequencer's turn from one another: writers spread over
/// both, and a poller reading the feed through the worker's server, see
/// every event once and in order (with node-local advisory locks, both
/// servers numbered the same events). The worker's server starts without
/// migrating. Runs in the Citus suite.
#[test]
fn postgres_servers_on_two_citus_nodes_share_one_feed() {
    if !citus() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).unwrap();
    let worker = TestApp::spawn_at(&on_a_worker(&app.database_url)).acting_for(&app);
    crate::events::a_poller_sees_every_event_once(&[&app, &worker], &worker, 16, 20);
}

/// The sequencer's turn is a row lock, which every node honours: while a
/// transaction on a worker holds it (as another instance's sequencer
/// would), a server on the coordinator numbers nothing; once it ends, the
/// server numbers the waiting event. (A node-local advisory lock let both
/// number the same events.) Runs in the Citus suite.
#[test]
fn postgres_the_sequencers_turn_holds_across_citus_nodes() {
    if !citus() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).unwrap();
    let mut elsewhere = PgConnection::establish(&on_a_worker(&app.database_url)).unwrap();
    elsewhere
        .batch_execute("BEGIN; SELECT name FROM turns WHERE organization_id = '' FOR UPDATE")
        .unwrap();
    app.create_customer(&json!({"firstName": "Waiting"}));
    let numbered = "SELECT count(*) AS n FROM events WHERE sequence IS NOT NULL";
    // Ten of the sequencer's periods.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        app.count_rows(numbered),
        0,
        "numbered while another node held the turn"
    );
    elsewhere.batch_execute("COMMIT").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.count_rows(numbered) == 0 {
        assert!(
            Instant::now() < deadline,
            "never numbered after the turn was free"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A worker runs no migration (DDL goes through the coordinator): while one
/// is pending, a server or command pointed at a worker is refused, naming
/// it and what to do. Runs in the Citus suite.
#[test]
fn postgres_a_citus_worker_is_refused_while_migrations_are_pending() {
    if !citus() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).unwrap();
    let newest = app
        .texts("SELECT max(version) AS t FROM __diesel_schema_migrations")
        .remove(0);
    app.execute_sql(&format!(
        "DELETE FROM __diesel_schema_migrations WHERE version = '{newest}'"
    ));
    let worker_url = on_a_worker(&app.database_url);
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
            stderr.contains("Citus worker")
                && stderr.contains("1 migrations are pending")
                && stderr.contains("coordinator"),
            "{stderr}"
        );
    }
    // Once the coordinator knows it as run, the worker serves.
    app.execute_sql(&format!(
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('{newest}')"
    ));
    let listed = crate::process::clientele(
        &["org", "list"],
        &[("CLIENTELE_DATABASE_URL", worker_url.as_str())],
        &dir,
    );
    assert!(listed.status.success(), "{listed:?}");
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

/// The growth commands check before they change anything: an existing
/// worker is left as it is, a node that does not answer is refused, moves
/// and splits are refused while a node is not at `wal_level = logical`
/// (the suite's cluster is not), and a worker's URL is refused. Moves
/// themselves are proven by `.ci/citus_growth.py` on a cluster of its own.
/// Runs in the Citus suite.
#[test]
fn postgres_citus_growth_commands_check_before_they_change_anything() {
    if !citus() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).unwrap();
    let dir = std::env::temp_dir();
    let run = |url: &str, args: &[&str]| {
        let output = crate::process::clientele(args, &[("CLIENTELE_DATABASE_URL", url)], &dir);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let json = serde_json::from_slice::<serde_json::Value>(&output.stdout).ok();
        (output.status.success(), json, stderr)
    };
    let url = app.database_url.as_str();
    let worker = crate::helpers::postgres_authority(&on_a_worker(url)).to_owned();
    let (ok, added, stderr) = run(url, &["citus", "add-worker", &worker]);
    assert!(ok, "{stderr}");
    let added = added.unwrap();
    assert_eq!(added["added"], false, "{added}");
    assert_eq!(added["node"], worker.as_str());

    let (ok, _, stderr) = run(url, &["citus", "add-worker", "127.0.0.1:1"]);
    assert!(!ok);
    assert!(stderr.contains("127.0.0.1:1 does not answer"), "{stderr}");
    assert_eq!(
        app.count_rows("SELECT count(*) AS n FROM pg_dist_node WHERE nodeport = 1"),
        0
    );

    let (ok, _, stderr) = run(url, &["citus", "add-worker", "no-port"]);
    assert!(!ok);
    assert!(stderr.contains("HOST:PORT"), "{stderr}");

    if app.texts("SELECT current_setting('wal_level') AS t") != ["logical"] {
        let shards = app.texts(
            "SELECT shardid::text || ':' || nodeport::text AS t FROM citus_shards \
             WHERE table_name = 'customers'::regclass ORDER BY 1",
        );
        for args in [
            &["citus", "rebalance"][..],
            &["citus", "isolate", &app.organization_id, "--to", &worker][..],
        ] {
            let (ok, _, stderr) = run(url, args);
            assert!(!ok, "{args:?}");
            assert!(
                stderr.contains("refused before changing anything") && stderr.contains("wal_level"),
                "{stderr}"
            );
        }
        let after = app.texts(
            "SELECT shardid::text || ':' || nodeport::text AS t FROM citus_shards \
             WHERE table_name = 'customers'::regclass ORDER BY 1",
        );
        assert_eq!(shards, after, "a refused command moved or split a shard");
    }

    let (ok, _, stderr) = run(&on_a_worker(url), &["citus", "rebalance"]);
    assert!(!ok);
    assert!(
        stderr.contains("Citus worker") && stderr.contains("coordinator"),
        "{stderr}"
    );
}

/// The text column `t` of the one row `sql` selects on `conn`.
fn text_on(conn: &mut PgConnection, sql: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    diesel::RunQueryDsl::get_result::<Text>(diesel::sql_query(sql), conn)
        .unwrap()
        .t
}

/// A shard move never cuts over in the middle of a write: an update whose
/// transaction has begun (here held at its `SELECT … FOR UPDATE` by another
/// session's row lock) holds the move of its shard back until it commits,
/// and it is stored, on the new placement. Without the write's share of the
/// shard group's lock, the move went ahead under it and the update, though
/// answered 200, went to the placement the move left. Runs in the Citus
/// suite.
#[test]
fn postgres_a_shard_move_waits_for_a_write_in_progress() {
    if !citus() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).unwrap();
    let customer = app.create_customer(&json!({"firstName": "Moving"}));
    let id = customer["id"].as_str().unwrap();
    let shard = app
        .texts(&format!(
            "SELECT get_shard_id_for_distribution_column('customers', '{}')::text AS t",
            app.organization_id
        ))
        .remove(0);
    let placed = |shard: &str| {
        app.texts(&format!(
            "SELECT nodename || ':' || nodeport AS t FROM citus_shards WHERE shardid = {shard}"
        ))
        .remove(0)
    };
    let from = placed(&shard);
    let to = app
        .texts(&format!(
            "SELECT nodename || ':' || nodeport AS t FROM pg_dist_node \
             WHERE groupid > 0 AND isactive AND nodename || ':' || nodeport <> '{from}' LIMIT 1"
        ))
        .remove(0);
    let (from_host, from_port) = from.split_once(':').unwrap();
    let (to_host, to_port) = to.split_once(':').unwrap();

    let mut holder = PgConnection::establish(&app.database_url).unwrap();
    let holder_gpid = text_on(&mut holder, "SELECT citus_backend_gpid()::text AS t");
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT id FROM customers WHERE organization_id = '{}' AND id = '{id}' FOR UPDATE",
            app.organization_id
        ))
        .unwrap();
    let mut mover = PgConnection::establish(&app.database_url).unwrap();
    let mover_pid = text_on(&mut mover, "SELECT pg_backend_pid()::text AS t");
    let holder_pid = text_on(&mut holder, "SELECT pg_backend_pid()::text AS t");
    let waits_until = |sql: &str, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while app.count_rows(sql) == 0 {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    std::thread::scope(|scope| {
        let update =
            scope.spawn(|| app.put_json(&app.customer_path(id), &json!({"lastName": "Moved"})));
        waits_until(
            &format!(
                "SELECT count(*) AS n FROM citus_lock_waits WHERE blocking_gpid = {holder_gpid}"
            ),
            "the update never waited for the row",
        );
        // Moves are distributed DDL: taken in turn with the suite's schemas.
        let ddl_lock = crate::helpers::CITUS_DDL_LOCK;
        mover
            .batch_execute(&format!("SELECT pg_advisory_lock({ddl_lock})"))
            .unwrap();
        let shard = &shard;
        let moved = scope.spawn(move || {
            let moved = mover.batch_execute(&format!(
                "SELECT citus_move_shard_placement({shard}, '{from_host}', {from_port}, \
                   '{to_host}', {to_port}, shard_transfer_mode => 'block_writes')"
            ));
            mover
                .batch_execute(&format!("SELECT pg_advisory_unlock({ddl_lock})"))
                .unwrap();
            moved.map_err(|e| e.to_string())
        });
        waits_until(
            &format!(
                "SELECT count(*) AS n FROM unnest(pg_blocking_pids({mover_pid})) AS p \
                 WHERE p <> {holder_pid}"
            ),
            "the move never waited for the update in progress",
        );
        assert!(
            !update.is_finished(),
            "the update ended while the move waited for it"
        );
        holder.batch_execute("COMMIT").unwrap();
        let update = update.join().unwrap();
        assert_eq!(update.status, 200, "{}", update.text);
        moved.join().unwrap().unwrap();
    });
    assert_eq!(placed(&shard), to, "the shard did not move");
    let stored = app.get(&app.customer_path(id)).json();
    assert_eq!(stored["lastName"], "Moved", "{stored}");
    assert_eq!(
        stored["revision"],
        customer["revision"].as_i64().unwrap() + 1
    );
}
