//! An import survives SIGKILL (contract section 15): a 200,000-row import
//! runs in the real binary, which is killed at a random moment three times
//! while it writes, and started again; the import goes on from its last
//! committed batch, and in the end every row made exactly one customer,
//! one event and one audit event.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{Backend, texts_at};
use crate::process::{Server, Setup, http, random_millis, sigkill};

const ROWS: usize = 200_000;

fn count(url: &str, sql: &str) -> i64 {
    texts_at(url, &format!("SELECT CAST(({sql}) AS TEXT) AS t"))[0]
        .parse()
        .unwrap()
}

fn status(server: &Server, path: &str, auth: &str) -> Value {
    http()
        .get(&server.url(path))
        .header("authorization", auth)
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap()
}

fn killed_during_an_import(backend: Backend) {
    let Some(setup) = Setup::new(backend, "import_crash", &[]) else {
        return;
    };
    let (org, auth) = (&setup.org, &setup.auth);
    let mut file = String::from("externalId,firstName,email\n");
    for n in 0..ROWS {
        file.push_str(&format!("row-{n},Row {n},row{n}@example.com\n"));
    }
    let mut server = setup.start();
    let url = &setup.database.url;
    let imports = format!("/v1/public-api/organizations/{org}/customers/imports");
    let started: Value = http()
        .post(&server.url(&imports))
        .header("authorization", auth)
        .header("content-type", "text/csv")
        .send(file.as_bytes())
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let path = format!("{imports}/{}", started["id"].as_str().unwrap());
    let mut killed_at = Vec::new();
    for _ in 0..3 {
        // Once the import is writing again (after the dead instance's lease
        // ran out), a kill at a random moment.
        let before = status(&server, &path, auth)["rowsDone"].as_i64().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while status(&server, &path, auth)["rowsDone"].as_i64().unwrap() == before {
            assert!(Instant::now() < deadline, "the import did not go on");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(random_millis(200, 4000));
        sigkill(&server.child);
        server.stop();
        killed_at.push(count(url, "SELECT count(*) FROM customers"));
        server = setup.start();
    }
    assert!(
        killed_at.iter().any(|done| *done < ROWS as i64),
        "no kill came before the end: {killed_at:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(300);
    let ended = loop {
        let now = status(&server, &path, auth);
        if !now["finishedTime"].is_null() {
            break now;
        }
        assert!(Instant::now() < deadline, "the import did not end: {now}");
        std::thread::sleep(Duration::from_millis(200));
    };
    server.stop();
    assert_eq!(ended["status"], "succeeded", "{ended}");
    assert_eq!(ended["rowsDone"], ROWS, "{ended}");
    assert_eq!(ended["created"], ROWS, "{ended}");
    assert_eq!(count(url, "SELECT count(*) FROM customers"), ROWS as i64);
    assert_eq!(
        count(url, "SELECT count(DISTINCT external_id) FROM customers"),
        ROWS as i64
    );
    assert_eq!(
        count(
            url,
            "SELECT count(*) FROM events WHERE type = 'customer.created'"
        ),
        ROWS as i64
    );
    assert_eq!(
        count(url, "SELECT count(DISTINCT customer_id) FROM events"),
        ROWS as i64
    );
    assert_eq!(
        count(
            url,
            "SELECT count(*) FROM audit_events WHERE action = 'customer.created'"
        ),
        ROWS as i64
    );
    setup.assert_each_customer_audited(ROWS);
    eprintln!("{backend:?}: killed at {killed_at:?} customers of {ROWS}");
}

#[test]
fn sqlite_kills_during_an_import_lose_and_double_no_row() {
    killed_during_an_import(Backend::Sqlite);
}

#[test]
fn postgres_kills_during_an_import_lose_and_double_no_row() {
    killed_during_an_import(Backend::Postgres);
}
