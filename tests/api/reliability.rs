//! Every acknowledgement is true: a write answered 2xx is stored, a write
//! answered anything else is not. Proven by filling the disk, stopping the
//! database under load, and racing writers; the process-level half
//! (SIGTERM under load) is in `shutdown.rs`.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use crate::cluster::{Cluster, SmallDisk};
use crate::helpers::{Backend, TestApp, TestDatabase, on_both_backends, run, running_as_root};

on_both_backends! {
    fn concurrent_puts_on_one_customer_all_apply_in_turn(app: &TestApp) {
        let id = app.create_customer(&json!({"firstName": "Racer"}))["id"].as_str().unwrap().to_owned();
        let path = app.customer_path(&id);
        let (writers, each) = (20, 10);
        let revisions = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for writer in 0..writers {
                let (path, revisions) = (&path, &revisions);
                scope.spawn(move || {
                    for n in 0..each {
                        let response = app.put_json(path, &json!({"lastName": format!("w{writer}n{n}")}));
                        assert_eq!(response.status, 200, "{}", response.text);
                        let body = response.json();
                        assert_eq!(body["lastName"], format!("w{writer}n{n}"));
                        revisions.lock().unwrap().push(body["revision"].as_i64().unwrap());
                    }
                });
            }
        });
        let mut revisions = revisions.into_inner().unwrap();
        revisions.sort();
        let expected: Vec<i64> = (2..=1 + writers * each).collect();
        assert_eq!(revisions, expected, "every PUT applied once, one after the other");
        assert_eq!(app.get(&path).json()["revision"], 1 + writers * each);
    }
}

/// A body big enough, and random enough not to compress (PostgreSQL
/// compresses large values), that a small disk fills within a few hundred
/// creates.
fn bulky(marker: &str) -> Value {
    let mut state = marker.bytes().fold(0x9e37_79b9_7f4a_7c15_u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let mut noise = || {
        (0..400)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                char::from(b'!' + (state >> 58) as u8)
            })
            .collect::<String>()
    };
    let metadata: serde_json::Map<String, Value> =
        (0..20).map(|i| (format!("k{i}"), json!(noise()))).collect();
    json!({"firstName": marker, "metadata": metadata})
}

/// Creates until the disk is full, and then some; returns the markers
/// answered 201. Every answer is 201 or 507.
fn fill(app: &TestApp) -> BTreeSet<String> {
    let mut stored = BTreeSet::new();
    let mut refused = 0;
    for n in 0..5_000 {
        let marker = format!("m{n}");
        let response = app.post_json(&app.customers_path(), &bulky(&marker));
        match response.status {
            201 => {
                stored.insert(marker);
            }
            507 => {
                assert_eq!(response.problem(507)["type"], "/problems/storage-full");
                refused += 1;
                if refused == 50 {
                    return stored;
                }
            }
            other => panic!("create {n} answered {other}: {}", response.text),
        }
    }
    panic!("the disk never filled")
}

/// The rows a full disk holds are exactly those acknowledged; reads keep
/// working; updates and deletes answer 507 and change nothing, or 2xx and
/// are stored; once space is freed, writes work again.
fn check_full_then_freed(app: &TestApp, disk: &SmallDisk) {
    let stored = fill(app);
    assert!(!stored.is_empty(), "nothing fit on the disk");
    let rows: BTreeSet<String> = app
        .texts("SELECT first_name AS t FROM customers")
        .into_iter()
        .collect();
    assert_eq!(rows, stored, "the rows are not the acknowledged creates");
    let page = app.list("limit=100&includeTotal=true");
    assert_eq!(page["total"], stored.len());
    let first = page["data"][0].clone();
    let path = app.customer_path(first["id"].as_str().unwrap());
    let update = app.put_json(&path, &bulky("updated"));
    match update.status {
        200 => assert_eq!(app.get(&path).json()["firstName"], "updated"),
        507 => assert_eq!(app.get(&path).json(), first),
        other => panic!("PUT on a full disk answered {other}: {}", update.text),
    }
    let delete = app.delete(&path);
    match delete.status {
        204 => app.get(&path).problem(404),
        507 => app.get(&path).json(),
        other => panic!("DELETE on a full disk answered {other}: {}", delete.text),
    };

    disk.free();
    let created = app.post_json(&app.customers_path(), &json!({"firstName": "after"}));
    assert_eq!(
        created.status, 201,
        "writes did not recover: {}",
        created.text
    );
    assert_eq!(
        app.get(&app.customer_path(created.json()["id"].as_str().unwrap()))
            .status,
        200
    );
}

#[test]
fn sqlite_on_a_full_disk_acknowledges_only_what_it_stored() {
    if !running_as_root("sqlite_on_a_full_disk_acknowledges_only_what_it_stored") {
        return;
    }
    let disk = SmallDisk::mount("full_sqlite", 3, "root");
    disk.reserve(1);
    let template = TestDatabase::create(Backend::Sqlite).unwrap();
    let path = disk.path.join("clientele.db");
    std::fs::copy(template.url.trim_start_matches("sqlite://"), &path).unwrap();
    let app = TestApp::spawn_at(&format!("sqlite://{}", path.display()));
    check_full_then_freed(&app, &disk);
}

#[test]
fn postgres_with_a_full_tablespace_acknowledges_only_what_it_stored() {
    if !running_as_root("postgres_with_a_full_tablespace_acknowledges_only_what_it_stored") {
        return;
    }
    // A cluster of the test's own: a full tablespace leaves dirty buffers
    // that cannot be written, which a shared server would be stuck with.
    let disk = SmallDisk::mount("full_pg_disk", 12, "postgres");
    let Some(cluster) = Cluster::start("full_pg_cluster") else {
        return;
    };
    // A fresh database takes about 8 MiB of catalogs; the rest is for rows.
    disk.reserve(1);
    let location = disk.path.join("tablespace");
    std::fs::create_dir(&location).unwrap();
    run("chown", &["postgres:", location.to_str().unwrap()]);
    let admin = cluster.url();
    let sql = |statement: &str| run("psql", &[admin.as_str(), "-qc", statement]);
    sql(&format!(
        "CREATE TABLESPACE small LOCATION '{}'",
        location.display()
    ));
    sql("CREATE DATABASE clientele TABLESPACE small");
    let app = TestApp::spawn_at(&crate::helpers::with_database(&admin, "clientele"));
    check_full_then_freed(&app, &disk);
}

#[test]
fn a_database_outage_under_load_answers_503_in_time_and_runs_nothing_unanswered() {
    if !running_as_root(
        "a_database_outage_under_load_answers_503_in_time_and_runs_nothing_unanswered",
    ) {
        return;
    }
    let Some(cluster) = Cluster::start("outage") else {
        return;
    };
    let app = TestApp::spawn_at(&cluster.url());
    app.create_customer(&json!({"firstName": "before"}));
    let stop = AtomicBool::new(false);
    let outage = Mutex::new(None::<(Instant, Instant)>);
    // marker, status, when it was sent, how long it took
    let answers = Mutex::new(Vec::<(String, u16, Instant, Duration)>::new());
    std::thread::scope(|scope| {
        for client in 0..200 {
            let (app, stop, answers) = (&app, &stop, &answers);
            scope.spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let marker = format!("c{client}n{n}");
                    let sent = Instant::now();
                    let response =
                        app.post_json(&app.customers_path(), &json!({"firstName": marker}));
                    answers
                        .lock()
                        .unwrap()
                        .push((marker, response.status, sent, sent.elapsed()));
                    n += 1;
                }
            });
        }
        std::thread::sleep(Duration::from_secs(2));
        let began = Instant::now();
        cluster.stop();
        std::thread::sleep(Duration::from_secs(2));
        let ready = Instant::now();
        let probe = app.get("/ready");
        assert_eq!(probe.problem(503)["type"], "/problems/service-unavailable");
        assert!(
            ready.elapsed() < Duration::from_millis(1500),
            "/ready took {:?}",
            ready.elapsed()
        );
        std::thread::sleep(Duration::from_secs(6));
        cluster.resume();
        *outage.lock().unwrap() = Some((began, Instant::now()));
        let deadline = Instant::now() + Duration::from_secs(20);
        while app.get("/ready").status != 200 {
            assert!(
                Instant::now() < deadline,
                "not ready again after the outage"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, Ordering::SeqCst);
    });
    let answers = answers.into_inner().unwrap();
    let (began, ended) = outage.into_inner().unwrap().unwrap();
    let mut acknowledged = BTreeSet::new();
    let mut unavailable = 0;
    for (marker, status, sent, took) in &answers {
        match status {
            201 => {
                acknowledged.insert(marker.clone());
            }
            503 => unavailable += 1,
            other => panic!("{marker} answered {other}"),
        }
        let during = *sent > began && *sent < ended;
        if during {
            assert!(
                *took < Duration::from_millis(4500),
                "{marker} answered {status} after {took:?}"
            );
        }
    }
    assert!(
        unavailable > 200,
        "only {unavailable} answers were 503: the outage was not met"
    );
    assert!(
        acknowledged.len() > 200,
        "only {} creates succeeded",
        acknowledged.len()
    );
    let stored: BTreeSet<String> = app
        .texts("SELECT first_name AS t FROM customers WHERE first_name <> 'before'")
        .into_iter()
        .collect();
    let unanswered: Vec<_> = stored.difference(&acknowledged).take(5).collect();
    assert!(
        unanswered.is_empty(),
        "stored without a 2xx: {unanswered:?}"
    );
    let lost: Vec<_> = acknowledged.difference(&stored).take(5).collect();
    assert!(lost.is_empty(), "answered 201 but not stored: {lost:?}");
}

/// A write that PostgreSQL picks as the victim of a deadlock had no effect,
/// and is run again rather than answered 503: its client did nothing wrong
/// (on Citus the other side can be a migration in another schema). Here the
/// test holds the write's Idempotency-Key (an uncommitted row) and, once the
/// write waits for it, asks for the customer row the write has updated.
/// The write waited first, so its deadlock check runs first and it is the
/// one rolled back; the test's own update then goes through, which shows
/// the write lost, and the write's 200 shows it ran again.
#[test]
fn a_write_rolled_back_to_break_a_deadlock_runs_again_on_postgres() {
    let Some(app) = TestApp::spawn(Backend::Postgres) else {
        return;
    };
    let id = app.create_customer(&json!({"firstName": "Before"}))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut test = diesel::PgConnection::establish(&app.database_url).unwrap();
    test.batch_execute(&format!(
        "BEGIN; INSERT INTO idempotency_keys (organization_id, livemode, key, fingerprint, status, created_at) \
         VALUES ('{}', true, 'deadlock', 'held by the test', 201, now()::timestamp)",
        app.organization_id
    ))
    .unwrap();
    let authorization = format!("ApiKey {}", app.api_key);
    let path = app.customer_path(&id);
    std::thread::scope(|scope| {
        let write = scope.spawn(|| {
            app.request(
                "PUT",
                &path,
                &[
                    ("authorization", &authorization),
                    ("idempotency-key", "deadlock"),
                ],
                Some(("application/json", br#"{"firstName": "Written"}"#)),
            )
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while app.count_rows(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"idempotency_keys\"%'",
        ) == 0
        {
            assert!(
                Instant::now() < deadline,
                "the write never waited for the key"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        test.batch_execute(&format!(
            "UPDATE customers SET first_name = 'Test' WHERE id = '{id}'"
        ))
        .expect("the write, which waited first, should have been the deadlock's victim");
        test.batch_execute("ROLLBACK").unwrap();
        let response = write.join().unwrap();
        assert_eq!(response.status, 200, "{}", response.text);
        assert_eq!(response.json()["firstName"], "Written");
    });
    let stored = app.get(&app.customer_path(&id)).json();
    assert_eq!(stored["firstName"], "Written");
    assert_eq!(stored["revision"], 2);
    assert_eq!(
        app.count_rows(&format!(
            "SELECT count(*) AS n FROM events WHERE customer_id = '{id}' AND type = 'customer.updated'"
        )),
        1
    );
}
