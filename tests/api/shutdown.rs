//! SIGTERM under load finishes what it started: 100 writers on kept-alive
//! connections keep the real binary busy through a SIGTERM; afterwards every
//! committed write was answered 2xx and every 2xx answer was committed.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::Backend;
use crate::process::{Setup, http};

/// How many customers the database at `url` holds of each first name.
pub fn stored_markers_counted(url: &str) -> std::collections::BTreeMap<String, usize> {
    #[derive(diesel::QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    use diesel::RunQueryDsl;
    let query = diesel::sql_query("SELECT first_name AS t FROM customers");
    let rows: Vec<Text> = match clientele::store::connect(url).unwrap() {
        clientele::store::DbConnection::Pg(mut pg) => query.load(&mut pg).unwrap(),
        clientele::store::DbConnection::Sqlite(mut sqlite) => query.load(&mut sqlite).unwrap(),
    };
    let mut counted = std::collections::BTreeMap::new();
    for row in rows {
        *counted.entry(row.t).or_default() += 1;
    }
    counted
}

fn stored_markers(url: &str) -> BTreeSet<String> {
    stored_markers_counted(url).into_keys().collect()
}

fn writers_through_a_sigterm(backend: Backend) {
    let Some(setup) = Setup::new(backend, "sigterm_load", &[]) else {
        return;
    };
    let (org, key) = (&setup.org, setup.auth.as_str());
    let mut server = setup.start();
    let customers = server.url(&format!("/v1/public-api/organizations/{org}/customers"));
    let answers = Mutex::new(Vec::<(String, Result<u16, String>)>::new());
    let signalled = AtomicBool::new(false);
    let after_signal = Mutex::new(0usize);
    std::thread::scope(|scope| {
        for writer in 0..100 {
            let (customers, key, answers, signalled, after_signal) =
                (&customers, key, &answers, &signalled, &after_signal);
            scope.spawn(move || {
                // One agent per writer: its connection is kept alive.
                let agent = http();
                let mut failures = 0;
                for n in 0.. {
                    let marker = format!("w{writer}n{n}");
                    let outcome = agent
                        .post(customers)
                        .header("authorization", key)
                        .send_json(json!({"firstName": marker}))
                        .and_then(|mut response| {
                            // Read to the end, so that the connection is reused.
                            response.body_mut().read_to_string()?;
                            Ok(response.status().as_u16())
                        })
                        .map_err(|e| e.to_string());
                    if signalled.load(Ordering::SeqCst) {
                        *after_signal.lock().unwrap() += 1;
                    }
                    let failed = !matches!(outcome, Ok(201));
                    answers.lock().unwrap().push((marker, outcome));
                    // Refused (503) or cut off: the server is going away.
                    failures = if failed { failures + 1 } else { 0 };
                    if failures == 3 {
                        return;
                    }
                    if failed {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        signalled.store(true, Ordering::SeqCst);
        let pid = server.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(35);
        let status = loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop within the shutdown window"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "exit status {status}");
    });
    let answers = answers.into_inner().unwrap();
    let acknowledged: BTreeSet<String> = answers
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Ok(201)))
        .map(|(marker, _)| marker.clone())
        .collect();
    for (marker, outcome) in &answers {
        assert!(
            matches!(outcome, Ok(201) | Ok(503) | Err(_)),
            "{marker}: {outcome:?}"
        );
    }
    assert!(
        acknowledged.len() > 100,
        "only {} creates before the stop",
        acknowledged.len()
    );
    assert!(
        *after_signal.lock().unwrap() >= 100,
        "the writers were not busy through the SIGTERM"
    );
    let stored = stored_markers(&setup.database.url);
    let unanswered: Vec<_> = stored.difference(&acknowledged).take(5).collect();
    assert!(
        unanswered.is_empty(),
        "committed without a 2xx answer: {unanswered:?}"
    );
    let lost: Vec<_> = acknowledged.difference(&stored).take(5).collect();
    assert!(lost.is_empty(), "answered 201 but not committed: {lost:?}");
    let (_, log) = server.stop();
    assert!(log.contains("graceful shutdown"), "{log}");
}

#[test]
fn sqlite_writers_through_a_sigterm_lose_and_invent_nothing() {
    writers_through_a_sigterm(Backend::Sqlite);
}

#[test]
fn postgres_writers_through_a_sigterm_lose_and_invent_nothing() {
    writers_through_a_sigterm(Backend::Postgres);
}
