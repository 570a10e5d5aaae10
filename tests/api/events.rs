//! The change feed (contract section 9): every change writes its event in
//! its own transaction, and a consumer polling with the last id it saw gets
//! every event exactly once, in an order that keeps each customer's changes
//! in revision order.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clientele::domain::scopes::Scope;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, on_both_backends};

pub fn events_path(app: &TestApp) -> String {
    format!(
        "/v1/public-api/organizations/{}/events",
        app.organization_id
    )
}

/// The feed from the start, every page, once at least `n` events are in it.
pub fn feed_until(app: &TestApp, query: &str, n: usize) -> Vec<Value> {
    feed_until_as(app, &format!("ApiKey {}", app.api_key), query, n)
}

/// [`feed_until`] with another credential.
pub fn feed_until_as(app: &TestApp, auth: &str, query: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let events = whole_feed(app, auth, query);
        if events.len() >= n {
            return events;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the feed has {} events, not {n}",
            events.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn whole_feed(app: &TestApp, auth: &str, query: &str) -> Vec<Value> {
    let mut events: Vec<Value> = Vec::new();
    loop {
        let after = events
            .last()
            .map(|e| format!("&startingAfter={}", e["id"].as_str().unwrap()))
            .unwrap_or_default();
        let path = format!("{}?limit=100{query}{after}", events_path(app));
        let response = app.send_as(Some(auth), "GET", &path, None);
        assert_eq!(response.status, 200, "{}", response.text);
        let page = response.json();
        events.extend(page["data"].as_array().unwrap().iter().cloned());
        if page["hasMore"] == false {
            return events;
        }
    }
}

on_both_backends! {
    fn every_change_writes_its_event(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Ada", "email": "ada@example.com"}));
        let id = customer["id"].as_str().unwrap();
        // In the change's transaction: there as soon as the change answered.
        let stored = format!("SELECT count(*) AS n FROM events WHERE customer_id = '{id}'");
        assert_eq!(app.count_rows(&stored), 1);
        let updated = app.put_json(&app.customer_path(id), &json!({"firstName": "Ada", "email": "ada@lovelace.org", "phoneNumber": "+442071234567"}));
        assert_eq!(updated.status, 200, "{}", updated.text);
        assert_eq!(app.count_rows(&stored), 2);
        // A write that changes nothing is still a change of revision.
        assert_eq!(app.delete(&app.customer_path(id)).status, 204);
        assert_eq!(app.count_rows(&stored), 3);

        let events = feed_until(app, "", 3);
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["customer.created", "customer.updated", "customer.deleted"]);
        for (n, event) in events.iter().enumerate() {
            assert!(event["id"].as_str().unwrap().starts_with("evt_"));
            assert_eq!(event["organizationId"], app.organization_id.as_str());
            assert_eq!(event["customerId"], id);
            assert_eq!(event["livemode"], true);
            crate::customers_create::assert_api_time(&event["createdTime"]);
            if n < 2 {
                assert_eq!(event["revision"], n as i64 + 1);
            }
        }
        assert_eq!(events[0]["data"]["object"], customer);
        assert_eq!(events[1]["data"]["object"], updated.json());
        assert_eq!(
            events[1]["data"]["previousAttributes"],
            json!({"email": "ada@example.com", "phoneNumber": null})
        );
        // The object as it was when deleted.
        assert_eq!(events[2]["data"]["object"]["email"], "ada@lovelace.org");
        assert_eq!(events[2]["data"].get("previousAttributes"), None);
    }

    fn the_feed_filters_and_pages(app: &TestApp) {
        let first = app.create_customer(&json!({"firstName": "One"}));
        let second = app.create_customer(&json!({"firstName": "Two"}));
        let (first, second) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());
        for n in 0..3 {
            let body = json!({"firstName": format!("One {n}")});
            assert_eq!(app.put_json(&app.customer_path(first), &body).status, 200);
        }
        let all = feed_until(app, "", 5);
        assert_eq!(all.len(), 5);

        let updates = feed_until(app, "&type=customer.updated", 3);
        assert!(updates.iter().all(|e| e["type"] == "customer.updated"));
        let of_second = whole_feed(app, &format!("ApiKey {}", app.api_key), &format!("&customerId={second}"));
        assert_eq!(of_second.len(), 1);
        assert_eq!(of_second[0]["customerId"], second);

        // Pages of two, then the rest, following the last id seen.
        let page = app.get(&format!("{}?limit=2", events_path(app))).json();
        assert_eq!(page["data"].as_array().unwrap().len(), 2);
        assert_eq!(page["hasMore"], true);
        let last = page["data"][1]["id"].as_str().unwrap();
        let rest = app.get(&format!("{}?startingAfter={last}", events_path(app))).json();
        assert_eq!(rest["hasMore"], false);
        let ids: Vec<&Value> = page["data"].as_array().unwrap().iter().chain(rest["data"].as_array().unwrap()).map(|e| &e["id"]).collect();
        assert_eq!(ids, all.iter().map(|e| &e["id"]).collect::<Vec<_>>());
        // After the last event, nothing (yet).
        let newest = all[4]["id"].as_str().unwrap();
        let empty = app.get(&format!("{}?startingAfter={newest}", events_path(app))).json();
        assert_eq!(empty, json!({"data": [], "hasMore": false}));
    }

    fn bad_feed_queries_are_named(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Q"}));
        let event = feed_until(app, "", 1)[0]["id"].as_str().unwrap().to_owned();
        let path = events_path(app);
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("type=customer.merged", "type"),
            ("customerId=nope", "customerId"),
            ("startingAfter=cus_0193a3c2e6117e2f9a3b4c5d6e7f8091", "startingAfter"),
            // Well-formed, but no event of this organization.
            ("startingAfter=evt_0193a3c2e6117e2f9a3b4c5d6e7f8091", "startingAfter"),
            ("sort=asc", "sort"),
        ] {
            let response = app.get(&format!("{path}?{query}"));
            assert_eq!(response.status, 422, "{query}: {}", response.text);
            assert_eq!(response.invalid_fields(), [field], "{query}");
        }
        // Another organization's event is no position in this feed.
        let (other_org, other_key) = app.create_organization("Other");
        let other_path = format!("/v1/public-api/organizations/{other_org}/events?startingAfter={event}");
        let response = app.send_as(Some(&format!("ApiKey {other_key}")), "GET", &other_path, None);
        assert_eq!(response.status, 422, "{}", response.text);
        // An event older than the retention is 422 too (the pruner may not
        // have removed it yet).
        app.execute_sql(&format!(
            "UPDATE events SET created_at = '2020-01-01 00:00:00' WHERE id = '{event}'"
        ));
        let response = app.get(&format!("{path}?startingAfter={event}"));
        assert_eq!(response.status, 422, "{}", response.text);
        assert!(customer["id"].is_string());
    }

    fn the_feed_needs_events_read(app: &TestApp) {
        let path = events_path(app);
        let reader = app.create_key(&[Scope::CustomersRead, Scope::CustomersWrite]);
        let response = app.send_as(Some(&format!("ApiKey {reader}")), "GET", &path, None);
        assert_eq!(response.status, 403, "{}", response.text);
        let events = app.create_key(&[Scope::EventsRead]);
        let response = app.send_as(Some(&format!("ApiKey {events}")), "GET", &path, None);
        assert_eq!(response.status, 200, "{}", response.text);
        // One organization's feed never shows another's events.
        let (other_org, other_key) = app.create_organization("Other");
        app.create_customer(&json!({"firstName": "Mine"}));
        feed_until(app, "", 1);
        let other_path = format!("/v1/public-api/organizations/{other_org}/events");
        let response = app.send_as(Some(&format!("ApiKey {other_key}")), "GET", &other_path, None);
        assert_eq!(response.json()["data"], json!([]));
    }

    fn a_poller_sees_every_event_once_while_writers_race(app: &TestApp) {
        a_poller_sees_every_event_once(&[app], app, 8, 6);
    }
}

/// Writers spread over `servers` (instances of one database, each acting
/// for the same organization) race while a poller reads the feed through
/// `poller`: it sees every stored event once, each customer's in revision
/// order. Each of `writers` creates `customers_each` customers and updates
/// each four times.
pub fn a_poller_sees_every_event_once(
    servers: &[&TestApp],
    poller: &TestApp,
    writers: usize,
    customers_each: usize,
) {
    const UPDATES_EACH: usize = 4;
    let app = servers[0];
    let done = AtomicBool::new(false);
    let seen = std::thread::scope(|scope| {
        for writer in 0..writers {
            let app = servers[writer % servers.len()];
            scope.spawn(move || {
                for n in 0..customers_each {
                    let customer =
                        app.create_customer(&json!({"firstName": format!("W{writer} C{n}")}));
                    let path = app.customer_path(customer["id"].as_str().unwrap());
                    for u in 0..UPDATES_EACH {
                        let body = json!({"firstName": format!("W{writer} C{n} U{u}")});
                        assert_eq!(app.put_json(&path, &body).status, 200);
                    }
                }
            });
        }
        let poller = scope.spawn(|| {
            let mut seen: Vec<Value> = Vec::new();
            let mut quiet_rounds = 0;
            loop {
                let after = seen
                    .last()
                    .map(|e| format!("&startingAfter={}", e["id"].as_str().unwrap()))
                    .unwrap_or_default();
                let page = poller
                    .get(&format!("{}?limit=7{after}", events_path(poller)))
                    .json();
                let data = page["data"].as_array().unwrap();
                seen.extend(data.iter().cloned());
                // Once the writers are done, poll on until the feed is
                // quiet for a while (the sequencer runs every 50 ms).
                if done.load(Ordering::SeqCst) && data.is_empty() {
                    quiet_rounds += 1;
                    if quiet_rounds == 20 {
                        return seen;
                    }
                    std::thread::sleep(Duration::from_millis(25));
                } else {
                    quiet_rounds = 0;
                }
            }
        });
        // The writers end with the scope's other threads; wait for them
        // by polling the database.
        let expected = (writers * customers_each * (1 + UPDATES_EACH)) as i64;
        let start = Instant::now();
        while app.count_rows("SELECT count(*) AS n FROM events") < expected {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "writers too slow"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        done.store(true, Ordering::SeqCst);
        poller.join().unwrap()
    });
    let ids: Vec<String> = seen
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an event was seen twice");
    let stored: BTreeSet<String> = app
        .texts("SELECT id AS t FROM events")
        .into_iter()
        .collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        stored,
        "the poller missed events"
    );
    // Each customer's events in revision order.
    let mut last: HashMap<&str, i64> = HashMap::new();
    for event in &seen {
        let revision = event["revision"].as_i64().unwrap();
        let previous = last.insert(event["customerId"].as_str().unwrap(), revision);
        assert_eq!(previous.unwrap_or(0) + 1, revision, "out of order: {event}");
    }
}

/// Events older than the retention are pruned by a background task that
/// runs as a server starts and then every ten minutes.
#[test]
fn old_events_are_pruned() {
    let Some(app) = TestApp::spawn(Backend::Sqlite) else {
        return;
    };
    let customer = app.create_customer(&json!({"firstName": "Old"}));
    app.create_customer(&json!({"firstName": "New"}));
    feed_until(&app, "", 2);
    let id = customer["id"].as_str().unwrap();
    app.execute_sql(&format!(
        "UPDATE events SET created_at = '2020-01-01 00:00:00' WHERE customer_id = '{id}'"
    ));
    // A second server over the same file prunes as it starts.
    let second = TestApp::spawn_at(&app.database_url);
    let start = Instant::now();
    while second.count_rows("SELECT count(*) AS n FROM events") != 1 {
        assert!(start.elapsed() < Duration::from_secs(10), "not pruned");
        std::thread::sleep(Duration::from_millis(50));
    }
}
