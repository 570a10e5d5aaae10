//! The read replica (contract section 12): lists, search, exports and stats
//! read there while it answers, everything else on the primary; while it
//! does not answer, those reads run on the primary and `/ready` says so.
//! PostgreSQL only: a replica is a PostgreSQL feature.

use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::helpers::{Backend, TestApp, TestDatabase, ids};

#[test]
fn reads_run_on_the_replica_and_everything_else_on_the_primary() {
    let Some(app) = TestApp::spawn(Backend::Postgres) else {
        return;
    };
    // A "replica" whose data differs from the primary's: what an answer
    // holds tells which database gave it.
    let replica = TestDatabase::create(Backend::Postgres).unwrap();
    let server = TestApp::spawn_at_with(&app.database_url, |s| {
        s.database_read_url = Some(replica.url.clone().into());
    });
    let only_on_replica = "cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e";
    clientele::store::connect(&replica.url)
        .unwrap()
        .batch_execute(&format!(
            "INSERT INTO organizations (id, name, created_at) VALUES ('{0}', 'Copy', '2026-01-01 00:00:00');
             INSERT INTO customers (organization_id, id, first_name, name_search, country, revision, created_at, updated_at, livemode)
             VALUES ('{0}', '{only_on_replica}', 'Replica', 'replica', 'FR', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00', TRUE);
             INSERT INTO customer_counts (organization_id, livemode, deleted, created_day, country, language, total)
             VALUES ('{0}', TRUE, FALSE, '2026-01-01', 'FR', '', 1)",
            server.organization_id
        ))
        .unwrap();

    let written = server.create_customer(&json!({"firstName": "Primary"}));
    let id = written["id"].as_str().unwrap();
    assert_eq!(server.get(&server.customer_path(id)).json(), written);
    server
        .get(&server.customer_path(only_on_replica))
        .problem(404);
    assert_eq!(ids(&server.list("")), [only_on_replica]);
    assert_eq!(ids(&server.list("q=replica")), [only_on_replica]);
    let export = server.get(&format!("{}/export", server.customers_path()));
    assert!(
        export.text.contains(only_on_replica) && !export.text.contains(id),
        "{}",
        export.text
    );
    let stats = server.get(&format!(
        "{}/stats?groupBy=country",
        server.customers_path()
    ));
    assert_eq!(
        stats.json(),
        json!({"groups": [{"key": "FR", "count": 1}], "total": 1})
    );
    let ready = server.get("/ready");
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["replica"], "ready");
    // Without a replica, /ready does not mention one.
    assert_eq!(app.get("/ready").json().get("replica"), None);
}

#[test]
fn reads_fall_back_to_the_primary_while_the_replica_does_not_answer() {
    let Some(app) = TestApp::spawn(Backend::Postgres) else {
        return;
    };
    // Nothing listens on port 1.
    let server = TestApp::spawn_at_with(&app.database_url, |s| {
        s.database_read_url = Some("postgres://postgres@127.0.0.1:1/gone".to_owned().into());
    });
    let written =
        server.create_customer(&json!({"firstName": "Primary", "address": {"country": "DE"}}));
    let id = written["id"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(ids(&server.list("")), [id]);
    }
    let export = server.get(&format!("{}/export", server.customers_path()));
    assert_eq!(export.status, 200, "{}", export.text);
    assert!(export.text.contains(id));
    let stats = server.get(&format!(
        "{}/stats?groupBy=country",
        server.customers_path()
    ));
    assert_eq!(stats.json()["total"], 1);
    let ready = server.get("/ready");
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.json()["replica"], "unavailable");
    assert_eq!(ready.json()["status"], "ready");
}
