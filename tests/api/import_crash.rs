//! An import survives SIGKILL (contract section 15): a 200,000-row import
//! runs in the real binary, which is killed at a random moment three times
//! while it writes, and started again; the import goes on from its last
//! committed batch, and in the end every row made exactly one customer,
//! one event and one audit event.

use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::helpers::{Backend, JWT_SECRET, TestDatabase, texts_at};
use crate::process::{Server, clientele, http, scratch_dir};

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

fn random_millis(from: u64, spread: u64) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    Duration::from_millis(from + u64::from(nanos) % spread)
}

fn killed_during_an_import(backend: Backend) {
    let Some(database) = TestDatabase::create(backend) else {
        return;
    };
    let dir = scratch_dir(&format!("import_crash_{backend:?}"));
    let env = [
        ("CLIENTELE_DATABASE_URL", database.url.as_str()),
        ("CLIENTELE_JWT_SECRET", JWT_SECRET),
        ("CLIENTELE_BOOTSTRAP", "false"),
    ];
    let created: Value = serde_json::from_slice(
        &clientele(&["org", "create", "--name", "Crash"], &env, &dir).stdout,
    )
    .unwrap();
    let org = created["organizationId"].as_str().unwrap().to_owned();
    let auth = format!("ApiKey {}", created["apiKey"].as_str().unwrap());
    let mut file = String::from("externalId,firstName,email\n");
    for n in 0..ROWS {
        file.push_str(&format!("row-{n},Row {n},row{n}@example.com\n"));
    }
    let mut server = Server::start(&env, &dir).unwrap();
    let imports = format!("/v1/public-api/organizations/{org}/customers/imports");
    let started: Value = http()
        .post(&server.url(&imports))
        .header("authorization", &auth)
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
        let before = status(&server, &path, &auth)["rowsDone"].as_i64().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while status(&server, &path, &auth)["rowsDone"].as_i64().unwrap() == before {
            assert!(Instant::now() < deadline, "the import did not go on");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(random_millis(200, 4000));
        let pid = server.child.id().to_string();
        let kill = Command::new("kill").args(["-KILL", &pid]).status().unwrap();
        assert!(kill.success());
        server.stop();
        killed_at.push(count(&database.url, "SELECT count(*) FROM customers"));
        server = Server::start(&env, &dir).unwrap();
    }
    assert!(
        killed_at.iter().any(|done| *done < ROWS as i64),
        "no kill came before the end: {killed_at:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(300);
    let ended = loop {
        let now = status(&server, &path, &auth);
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
    let url = &database.url;
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
    let sorted = |sql: &str| {
        let mut ids = texts_at(url, sql);
        ids.sort();
        ids
    };
    assert_eq!(
        sorted("SELECT target_id AS t FROM audit_events WHERE action = 'customer.created'"),
        sorted("SELECT id AS t FROM customers"),
        "audit events without their customer, or customers without one"
    );
    std::fs::remove_dir_all(dir).unwrap();
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
