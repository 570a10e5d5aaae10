//! A crash at any moment loses no kept answer and runs no request twice:
//! writers create customers with Idempotency-Keys, the real binary is
//! killed with SIGKILL at a random moment, restarted, and every request that
//! got no answer is retried with its key; then there is exactly one
//! customer per key. Three crashes per database.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::Backend;
use crate::process::{Setup, http, random_millis, sigkill};

fn create(url: &str, auth: &str, key: &str) -> Result<u16, String> {
    http()
        .post(url)
        .header("authorization", auth)
        .header("idempotency-key", key)
        .send_json(json!({"firstName": key}))
        .and_then(|mut response| {
            response.body_mut().read_to_string()?;
            Ok(response.status().as_u16())
        })
        .map_err(|e| e.to_string())
}

fn crash_and_retry(backend: Backend) {
    let Some(setup) = Setup::new(backend, "crash", &[]) else {
        return;
    };
    let (org, auth) = (&setup.org, &setup.auth);
    // Every key sent, and whether it was answered 201.
    let sent: Mutex<BTreeMap<String, bool>> = Mutex::new(BTreeMap::new());
    for round in 0..3 {
        let server = setup.start();
        let url = server.url(&format!("/v1/public-api/organizations/{org}/customers"));
        let killed = AtomicBool::new(false);
        std::thread::scope(|scope| {
            for client in 0..16 {
                let (url, sent, killed) = (&url, &sent, &killed);
                scope.spawn(move || {
                    for n in 0.. {
                        let key = format!("r{round}c{client}n{n}");
                        sent.lock().unwrap().insert(key.clone(), false);
                        let answered = create(url, auth, &key);
                        if let Ok(status) = answered {
                            assert!(matches!(status, 201 | 503), "{key}: {status}");
                            sent.lock().unwrap().insert(key, status == 201);
                        }
                        if killed.load(Ordering::SeqCst) {
                            return;
                        }
                    }
                });
            }
            std::thread::sleep(random_millis(300, 900));
            sigkill(&server.child);
            killed.store(true, Ordering::SeqCst);
        });
        server.stop();
    }
    // Retry every request that got no 201 answer, with its key.
    let server = setup.start();
    let url = server.url(&format!("/v1/public-api/organizations/{org}/customers"));
    let sent = sent.into_inner().unwrap();
    let unanswered: Vec<&String> = sent
        .iter()
        .filter(|(_, ok)| !**ok)
        .map(|(key, _)| key)
        .collect();
    assert!(!unanswered.is_empty(), "no request was cut by the kills");
    // A 503 asks the client to retry, and a client does: on a loaded Citus
    // cluster a statement may meet the timeout (a write that loses a
    // deadlock is run again by the server itself). What must hold is the
    // count below, and that every key is answered 201 in the end.
    let refused: Vec<String> = unanswered
        .iter()
        .filter_map(|key| {
            let mut answer = create(&url, auth, key);
            for _ in 0..3 {
                if answer != Ok(503) {
                    break;
                }
                std::thread::sleep(Duration::from_secs(1));
                answer = create(&url, auth, key);
            }
            (answer != Ok(201)).then(|| format!("{key}: {answer:?}"))
        })
        .collect();
    if !refused.is_empty() {
        // The server's own account of why (a 503 logs its cause).
        let (_, log) = server.stop();
        let warnings: Vec<&str> = log.lines().filter(|l| !l.contains(" INFO ")).collect();
        panic!(
            "retries not answered 201: {refused:?}\nserver log:\n{}",
            warnings.join("\n")
        );
    }
    let list = server.url(&format!(
        "/v1/public-api/organizations/{org}/customers?limit=1&includeTotal=true"
    ));
    let total = http()
        .get(&list)
        .header("authorization", auth)
        .call()
        .unwrap()
        .body_mut()
        .read_json::<Value>()
        .unwrap()["total"]
        .clone();
    server.stop();
    let stored = crate::shutdown::stored_markers_counted(&setup.database.url);
    let doubled: Vec<_> = stored.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(
        doubled.is_empty(),
        "keys that made two customers: {doubled:?}"
    );
    let missing: Vec<_> = sent
        .keys()
        .filter(|key| !stored.contains_key(*key))
        .take(5)
        .collect();
    assert!(
        missing.is_empty(),
        "keys with no customer after their retry: {missing:?}"
    );
    assert_eq!(
        total,
        sent.len(),
        "{} keys, {unanswered:?} retried",
        sent.len()
    );
    setup.assert_each_customer_audited(sent.len());
}

#[test]
fn sqlite_crashes_run_no_idempotent_request_twice() {
    crash_and_retry(Backend::Sqlite);
}

#[test]
fn postgres_crashes_run_no_idempotent_request_twice() {
    crash_and_retry(Backend::Postgres);
}
