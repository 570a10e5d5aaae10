//! Webhook endpoints and delivery (contract section 9), to real receivers
//! on local ports: signed, retried with backoff, in each customer's order,
//! never to a disabled or deleted endpoint.

use std::time::{Duration, Instant};

use clientele::config::Profile;
use clientele::domain::scopes::Scope;
use serde_json::{Value, json};

use crate::events::feed_until;
use crate::helpers::{Backend, TestApp, on_both_backends};
use crate::receiver::{Receiver, Reply, verify_signature};

/// Retries one second apart (then two, four…).
pub fn fast_retries(settings: &mut clientele::config::Settings) {
    settings.webhook_retry_base_seconds = 1;
}

pub fn endpoints_path(app: &TestApp) -> String {
    format!(
        "/v1/public-api/organizations/{}/webhook-endpoints",
        app.organization_id
    )
}

fn endpoint_path(app: &TestApp, id: &str) -> String {
    format!("{}/{id}", endpoints_path(app))
}

/// Creates an endpoint; its id and secret.
pub fn create_endpoint(app: &TestApp, url: &str, events: Value) -> (String, String) {
    let response = app.post_json(&endpoints_path(app), &json!({"url": url, "events": events}));
    assert_eq!(response.status, 201, "{}", response.text);
    let body = response.json();
    (
        body["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

/// The endpoint's attempts, newest first (every page).
fn attempts(app: &TestApp, endpoint: &str) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    loop {
        let after = all
            .last()
            .map(|a| format!("&startingAfter={}", a["id"].as_str().unwrap()))
            .unwrap_or_default();
        let path = format!("{}/deliveries?limit=2{after}", endpoint_path(app, endpoint));
        let response = app.get(&path);
        assert_eq!(response.status, 200, "{}", response.text);
        let page = response.json();
        all.extend(page["data"].as_array().unwrap().iter().cloned());
        if page["hasMore"] == false {
            return all;
        }
    }
}

fn wait_for_attempts(app: &TestApp, endpoint: &str, n: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let found = attempts(app, endpoint);
        if found.len() >= n {
            return found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} attempts recorded, not {n}: {found:#?}",
            found.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

const WAIT: Duration = Duration::from_secs(20);

on_both_backends! { with fast_retries;
    fn endpoints_are_managed_and_their_secret_shown_once(app: &TestApp) {
        let path = endpoints_path(app);
        let response = app.post_json(&path, &json!({"url": "https://hooks.example.com/a", "events": ["customer.created", "customer.created"], "description": "CRM"}));
        assert_eq!(response.status, 201, "{}", response.text);
        let created = response.json();
        let id = created["id"].as_str().unwrap();
        assert!(id.starts_with("whe_"));
        assert_eq!(created["url"], "https://hooks.example.com/a");
        assert_eq!(created["events"], json!(["customer.created"]));
        assert_eq!(created["description"], "CRM");
        assert_eq!(created["enabled"], true);
        crate::customers_create::assert_api_time(&created["createdTime"]);
        let secret = created["secret"].as_str().unwrap();
        let hex = secret.strip_prefix("whsec_").unwrap();
        assert!(hex.len() >= 64 && hex.chars().all(|c| c.is_ascii_hexdigit()), "{secret}: under 256 bits");

        let mut shown = created.clone();
        shown.as_object_mut().unwrap().remove("secret");
        assert_eq!(app.get(&endpoint_path(app, id)).json(), shown);
        assert_eq!(app.get(&path).json(), json!({"data": [shown]}));

        let changed = app.put_json(&endpoint_path(app, id), &json!({"url": "https://hooks.example.com/b", "events": ["*"], "description": null, "enabled": false}));
        assert_eq!(changed.status, 200, "{}", changed.text);
        let changed = changed.json();
        assert_eq!((&changed["url"], &changed["events"], &changed["description"], &changed["enabled"]),
                   (&json!("https://hooks.example.com/b"), &json!(["*"]), &Value::Null, &json!(false)));
        assert_eq!(changed.get("secret"), None);
        // PUT changes what it names only.
        let renamed = app.put_json(&endpoint_path(app, id), &json!({"description": "Billing"})).json();
        assert_eq!((&renamed["url"], &renamed["enabled"]), (&changed["url"], &json!(false)));

        assert_eq!(app.delete(&endpoint_path(app, id)).status, 204);
        assert_eq!(app.get(&endpoint_path(app, id)).status, 404);
        assert_eq!(app.delete(&endpoint_path(app, id)).status, 404);
        assert_eq!(app.put_json(&endpoint_path(app, id), &json!({"enabled": true})).status, 404);
        assert_eq!(app.get(&format!("{}/deliveries", endpoint_path(app, id))).status, 404);
    }

    fn at_most_sixteen_endpoints(app: &TestApp) {
        for n in 0..16 {
            create_endpoint(app, &format!("https://hooks.example.com/{n}"), json!(["*"]));
        }
        let refused = app.post_json(&endpoints_path(app), &json!({"url": "https://hooks.example.com/17", "events": ["*"]}));
        let problem = refused.problem(409);
        assert!(problem["type"].as_str().unwrap().ends_with("limit-reached"), "{problem}");
        assert_eq!(app.get(&endpoints_path(app)).json()["data"].as_array().unwrap().len(), 16);
        // Another organization has its own sixteen.
        let (other, key) = app.create_organization("Other");
        let other_path = format!("/v1/public-api/organizations/{other}/webhook-endpoints");
        let body = json!({"url": "https://hooks.example.com/x", "events": ["*"]}).to_string();
        let response = app.send_as(Some(&format!("ApiKey {key}")), "POST", &other_path, Some(("application/json", body.as_bytes())));
        assert_eq!(response.status, 201);
        // Neither sees the other's.
        let response = app.send_as(Some(&format!("ApiKey {key}")), "GET", &other_path, None);
        assert_eq!(response.json()["data"].as_array().unwrap().len(), 1);
        let id = response.json()["data"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(app.get(&endpoint_path(app, &id)).status, 404);
    }

    fn bad_endpoints_are_named(app: &TestApp) {
        let path = endpoints_path(app);
        let long = format!("https://hooks.example.com/{}", "a".repeat(2048));
        for (body, fields) in [
            (json!({"events": ["*"]}), vec!["url"]),
            (json!({"url": "https://hooks.example.com"}), vec!["events"]),
            (json!({"url": "ftp://hooks.example.com", "events": ["*"]}), vec!["url"]),
            (json!({"url": "/relative", "events": ["*"]}), vec!["url"]),
            (json!({"url": long, "events": ["*"]}), vec!["url"]),
            (json!({"url": 7, "events": []}), vec!["events", "url"]),
            (json!({"url": "https://hooks.example.com", "events": ["customer.merged"]}), vec!["events"]),
            (json!({"url": "https://hooks.example.com", "events": "*"}), vec!["events"]),
            (json!({"url": "https://hooks.example.com", "events": ["*"], "enabled": false}), vec!["enabled"]),
            (json!({"url": "https://hooks.example.com", "events": ["*"], "secret": "whsec_mine"}), vec!["secret"]),
            (json!({"url": "https://hooks.example.com", "events": ["*"], "description": "x".repeat(501)}), vec!["description"]),
        ] {
            let response = app.post_json(&path, &body);
            assert_eq!(response.status, 422, "{body}: {}", response.text);
            let mut named = response.invalid_fields();
            named.sort();
            assert_eq!(named, fields, "{body}");
        }
        assert_eq!(app.get(&path).json()["data"], json!([]));
        let (id, _) = create_endpoint(app, "https://hooks.example.com", json!(["*"]));
        let response = app.put_json(&endpoint_path(app, &id), &json!({"enabled": "yes"}));
        assert_eq!(response.invalid_fields(), ["enabled"]);
        let response = app.get(&format!("{}/deliveries?limit=0&startingAfter=evt_x", endpoint_path(app, &id)));
        let mut named = response.invalid_fields();
        named.sort();
        assert_eq!(named, ["limit", "startingAfter"]);
        // The scope.
        let reader = app.create_key(&[Scope::CustomersRead, Scope::EventsRead]);
        let response = app.send_as(Some(&format!("ApiKey {reader}")), "GET", &path, None);
        assert_eq!(response.status, 403);
    }

    fn deliveries_are_signed_and_listed(app: &TestApp) {
        let receiver = Receiver::start();
        let (endpoint, secret) = create_endpoint(app, &receiver.url(), json!(["*"]));
        let customer = app.create_customer(&json!({"firstName": "Signed"}));
        let path = app.customer_path(customer["id"].as_str().unwrap());
        assert_eq!(app.put_json(&path, &json!({"firstName": "Signed", "email": "s@example.com"})).status, 200);
        assert_eq!(app.delete(&path).status, 204);
        let received = receiver.wait_for_count(3, WAIT);
        let events = feed_until(app, "", 3);
        for (request, event) in received.iter().zip(&events) {
            assert_eq!(request.content_type, "application/json");
            assert_eq!(request.json(), *event, "the body is the event as the feed shows it");
            assert_eq!(request.event_id, event["id"].as_str().unwrap());
            let t = verify_signature(request, &secret);
            assert!((t - chrono::Utc::now().timestamp()).abs() < 60, "t={t}");
        }
        let listed = wait_for_attempts(app, &endpoint, 3);
        assert_eq!(listed.len(), 3);
        for (attempt, event) in listed.iter().zip(events.iter().rev()) {
            assert!(attempt["id"].as_str().unwrap().starts_with("wha_"));
            assert_eq!(attempt["eventId"], event["id"]);
            assert_eq!((&attempt["attempt"], &attempt["status"], &attempt["outcome"], &attempt["error"]),
                       (&json!(1), &json!(200), &json!("delivered"), &Value::Null));
            assert!(attempt["durationMs"].as_i64().unwrap() >= 0);
            crate::customers_create::assert_api_time(&attempt["time"]);
        }
        let metrics = app.get("/metrics").text;
        assert!(metrics.contains("clientele_webhook_deliveries_total{outcome=\"delivered\"} 3"), "{metrics}");
        assert!(metrics.contains("clientele_webhook_backlog "), "{metrics}");
        assert!(metrics.contains("clientele_webhook_backlog_oldest_seconds "), "{metrics}");
    }

    fn failures_are_retried_and_each_customer_waits_its_turn(app: &TestApp) {
        // The first event of "Slow" fails twice; everything else is taken.
        let receiver = Receiver::scripted(|received, earlier| {
            let slow_create = received.body.contains("\"firstName\":\"Slow\"") && received.body.contains("customer.created");
            match (slow_create, earlier) {
                (true, 0 | 1) => Reply::status(500),
                _ => Reply::OK,
            }
        });
        let (endpoint, _) = create_endpoint(app, &receiver.url(), json!(["*"]));
        let slow = app.create_customer(&json!({"firstName": "Slow"}));
        let slow_id = slow["id"].as_str().unwrap();
        for n in 0..2 {
            let body = json!({"firstName": "Slow", "lastName": format!("Update {n}")});
            assert_eq!(app.put_json(&app.customer_path(slow_id), &body).status, 200);
        }
        let fast = app.create_customer(&json!({"firstName": "Fast"}));
        let received = receiver.wait_for(WAIT, |r| {
            r.iter().filter(|r| r.json()["customerId"] == slow["id"]).count() == 5
        });
        let of_slow: Vec<(i64, &str)> = received
            .iter()
            .map(|r| r.json())
            .filter(|e| e["customerId"] == slow["id"])
            .map(|e| (e["revision"].as_i64().unwrap(), if e["type"] == "customer.created" { "created" } else { "updated" }))
            .collect();
        assert_eq!(of_slow, [(1, "created"), (1, "created"), (1, "created"), (2, "updated"), (3, "updated")]);
        // Another customer's event did not wait for the retries (they are
        // one then two seconds apart).
        let fast_at = received.iter().position(|r| r.json()["customerId"] == fast["id"]).unwrap();
        let third_try = received.iter().filter(|r| r.json()["customerId"] == slow["id"]).nth(2).unwrap();
        assert!(received[fast_at].arrived < third_try.arrived, "the other customer waited");
        // The retries are spaced by the backoff: 1 s, then 2 s.
        let tries: Vec<Instant> = received.iter().filter(|r| r.json()["customerId"] == slow["id"]).take(3).map(|r| r.arrived).collect();
        assert!(tries[1] - tries[0] >= Duration::from_millis(900), "{:?}", tries[1] - tries[0]);
        assert!(tries[2] - tries[1] >= Duration::from_millis(1900), "{:?}", tries[2] - tries[1]);
        let listed = wait_for_attempts(app, &endpoint, 6);
        let first_event = received
            .iter()
            .find(|r| r.json()["customerId"] == slow["id"])
            .unwrap()
            .event_id
            .as_str();
        let mut of_first: Vec<(i64, Value, String)> = listed
            .iter()
            .filter(|a| a["eventId"] == first_event)
            .map(|a| (a["attempt"].as_i64().unwrap(), a["status"].clone(), a["outcome"].as_str().unwrap().to_owned()))
            .collect();
        of_first.reverse();
        assert_eq!(of_first, [
            (1, json!(500), "retrying".to_owned()),
            (2, json!(500), "retrying".to_owned()),
            (3, json!(200), "delivered".to_owned()),
        ]);
        let metrics = app.get("/metrics").text;
        assert!(metrics.contains("clientele_webhook_deliveries_total{outcome=\"retrying\"} 2"), "{metrics}");
    }

    fn a_delivery_fails_for_good_after_three_days_and_unblocks_the_next(app: &TestApp) {
        let receiver = Receiver::scripted(|received, _| match received.body.contains("customer.created") {
            true => Reply::status(503),
            false => Reply::OK,
        });
        let (endpoint, _) = create_endpoint(app, &receiver.url(), json!(["*"]));
        let customer = app.create_customer(&json!({"firstName": "Doomed"}));
        let path = app.customer_path(customer["id"].as_str().unwrap());
        assert_eq!(app.put_json(&path, &json!({"firstName": "Doomed", "lastName": "Later"})).status, 200);
        receiver.wait_for_count(1, WAIT);
        wait_for_attempts(app, &endpoint, 1);
        // The event is three days old now: its next failure is its last.
        app.execute_sql("UPDATE webhook_deliveries SET created_at = '2020-01-01 00:00:00' WHERE state = 'pending'");
        let received = receiver.wait_for(WAIT, |r| r.iter().any(|r| r.body.contains("customer.updated")));
        let created_tries = received.iter().filter(|r| r.body.contains("customer.created")).count();
        let listed = wait_for_attempts(app, &endpoint, created_tries + 1);
        let outcomes: Vec<&str> = listed.iter().map(|a| a["outcome"].as_str().unwrap()).collect();
        assert_eq!(outcomes[0], "delivered");
        assert_eq!(outcomes[1], "failed", "{outcomes:?}");
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(receiver.received().len(), received.len(), "a failed delivery was tried again");
    }

    fn disabled_and_deleted_endpoints_get_nothing(app: &TestApp) {
        let (disabled_receiver, deleted_receiver, witness) = (Receiver::start(), Receiver::start(), Receiver::start());
        let (disabled, _) = create_endpoint(app, &disabled_receiver.url(), json!(["*"]));
        let (deleted, _) = create_endpoint(app, &deleted_receiver.url(), json!(["*"]));
        create_endpoint(app, &witness.url(), json!(["*"]));
        assert_eq!(app.put_json(&endpoint_path(app, &disabled), &json!({"enabled": false})).status, 200);
        assert_eq!(app.delete(&endpoint_path(app, &deleted)).status, 204);
        app.create_customer(&json!({"firstName": "Quiet"}));
        witness.wait_for_count(1, WAIT);
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(disabled_receiver.received().len(), 0);
        assert_eq!(deleted_receiver.received().len(), 0);
        // An endpoint receives the events that happen while it is enabled.
        assert_eq!(app.put_json(&endpoint_path(app, &disabled), &json!({"enabled": true})).status, 200);
        app.create_customer(&json!({"firstName": "Heard"}));
        let received = disabled_receiver.wait_for_count(1, WAIT);
        assert!(received[0].body.contains("Heard"));
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(disabled_receiver.received().len(), 1);
        assert_eq!(deleted_receiver.received().len(), 0);
    }

    fn what_happened_before_a_disable_is_sent_once_enabled_again(app: &TestApp) {
        // The first event's answer takes a second: the second event is
        // numbered while the endpoint is enabled but not yet sent when it
        // is disabled.
        let receiver = Receiver::scripted(|received, _| match received.body.contains("\"firstName\":\"First\"") {
            true => Reply { status: 200, after: Duration::from_secs(1) },
            false => Reply::OK,
        });
        let (endpoint, _) = create_endpoint(app, &receiver.url(), json!(["*"]));
        app.create_customer(&json!({"firstName": "First"}));
        receiver.wait_for_count(1, WAIT);
        app.create_customer(&json!({"firstName": "Before"}));
        feed_until(app, "", 2);
        assert_eq!(app.put_json(&endpoint_path(app, &endpoint), &json!({"enabled": false})).status, 200);
        app.create_customer(&json!({"firstName": "During"}));
        feed_until(app, "", 3);
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(receiver.received().len(), 1, "a disabled endpoint was sent to");
        assert_eq!(app.put_json(&endpoint_path(app, &endpoint), &json!({"enabled": true})).status, 200);
        app.create_customer(&json!({"firstName": "After"}));
        let received = receiver.wait_for_count(3, WAIT);
        std::thread::sleep(Duration::from_millis(300));
        let names: Vec<String> = receiver.received().iter().map(|r| r.json()["data"]["object"]["firstName"].as_str().unwrap().to_owned()).collect();
        assert_eq!(received.len(), 3);
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.contains(&"Before".to_owned()) && names.contains(&"After".to_owned()), "{names:?}");
        assert!(!names.contains(&"During".to_owned()), "{names:?}");
    }

    fn streams_take_turns_when_more_are_behind_than_a_round_leases(app: &TestApp) {
        // Sixteen streams of one organization stay behind (a busy writer, a
        // receiver that answers after 300 ms); another organization's one
        // event still goes, within a few of their rounds.
        let slow = Receiver::scripted(|_, _| Reply { status: 200, after: Duration::from_millis(300) });
        for _ in 0..16 {
            create_endpoint(app, &slow.url(), json!(["*"]));
        }
        let (other_org, other_key) = app.create_organization("Other");
        let quiet = Receiver::start();
        let other_auth = format!("ApiKey {other_key}");
        let hooks = format!("/v1/public-api/organizations/{other_org}/webhook-endpoints");
        let created = app.send_as(Some(&other_auth), "POST", &hooks,
            Some(("application/json", json!({"url": quiet.url(), "events": ["*"]}).to_string().as_bytes())));
        assert_eq!(created.status, 201, "{}", created.text);
        let writing = std::sync::atomic::AtomicBool::new(true);
        // Until the check is done, and at most 15 s should it fail.
        let until = Instant::now() + Duration::from_secs(15);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while writing.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < until {
                    app.create_customer(&json!({"firstName": "Busy"}));
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            slow.wait_for_count(32, WAIT);
            let customers = format!("/v1/public-api/organizations/{other_org}/customers");
            let answer = app.send_as(Some(&other_auth), "POST", &customers,
                Some(("application/json", json!({"firstName": "Waiting"}).to_string().as_bytes())));
            assert_eq!(answer.status, 201, "{}", answer.text);
            let got = quiet.wait_for_count(1, Duration::from_secs(5));
            writing.store(false, std::sync::atomic::Ordering::Relaxed);
            assert!(got[0].body.contains("Waiting"));
        });
    }

    fn any_event_is_resent_on_request_with_its_id(app: &TestApp) {
        let before = app.create_customer(&json!({"firstName": "Before"}));
        // Numbered before the endpoint exists, so never sent to it unasked.
        feed_until(app, "", 1);
        let receiver = Receiver::start();
        let (endpoint, _) = create_endpoint(app, &receiver.url(), json!(["customer.created"]));
        app.create_customer(&json!({"firstName": "After"}));
        let first = receiver.wait_for_count(1, WAIT);
        let events = feed_until(app, "", 2);
        let older = events.iter().find(|e| e["data"]["object"]["id"] == before["id"]).unwrap()["id"].as_str().unwrap().to_owned();
        let resend = format!("{}/resend", endpoint_path(app, &endpoint));
        // Sent before (the update path) and never sent to it (the insert path).
        for (event, count) in [(first[0].event_id.clone(), 2), (older.clone(), 3)] {
            let response = app.post_json(&resend, &json!({"eventId": event}));
            assert_eq!(response.status, 202, "{}", response.text);
            assert_eq!(response.json(), json!({"endpointId": endpoint, "eventId": event}));
            let received = receiver.wait_for_count(count, Duration::from_secs(5));
            assert_eq!(received[count - 1].event_id, event);
        }
        let listed = wait_for_attempts(app, &endpoint, 3);
        assert_eq!(listed.iter().filter(|a| a["eventId"] == first[0].event_id.as_str()).count(), 2);
        let audit = app.get(&format!("/v1/public-api/organizations/{}/audit-events?action=webhook_delivery.resent", app.organization_id));
        assert_eq!(audit.json()["data"].as_array().unwrap().len(), 2, "{}", audit.text);

        let unknown = "evt_0193a3c2e5f07d1e8f2a3b4c5d6e7f80";
        for (body, status) in [(json!({"eventId": unknown}), 404), (json!({"eventId": "cus_1"}), 422), (json!({}), 422), (json!({"eventId": older, "x": 1}), 422)] {
            let response = app.post_json(&resend, &body);
            assert_eq!(response.status, status, "{body}: {}", response.text);
        }
        let elsewhere = format!("{}/whe_0193a3c2e6117e2f9a3b4c5d6e7f8091/resend", endpoints_path(app));
        assert_eq!(app.post_json(&elsewhere, &json!({"eventId": older})).status, 404);
        let reader = app.create_key(&[Scope::CustomersRead, Scope::EventsRead]);
        let body = json!({"eventId": older}).to_string();
        let as_reader = app.send_as(Some(&format!("ApiKey {reader}")), "POST", &resend, Some(("application/json", body.as_bytes())));
        assert_eq!(as_reader.status, 403);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(receiver.received().len(), 3, "nothing refused was sent");
    }

    fn endpoints_receive_the_types_they_subscribe_to(app: &TestApp) {
        let (deletions, everything) = (Receiver::start(), Receiver::start());
        create_endpoint(app, &deletions.url(), json!(["customer.deleted"]));
        create_endpoint(app, &everything.url(), json!(["*"]));
        let customer = app.create_customer(&json!({"firstName": "Typed"}));
        assert_eq!(app.delete(&app.customer_path(customer["id"].as_str().unwrap())).status, 204);
        everything.wait_for_count(2, WAIT);
        let received = deletions.wait_for_count(1, WAIT);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(deletions.received().len(), 1);
        assert_eq!(received[0].json()["type"], "customer.deleted");
    }
}

/// A timeout is a failed attempt, retried (10 s per attempt, so one test).
#[test]
fn a_receiver_that_does_not_answer_in_ten_seconds_is_retried() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, fast_retries)
        .or_else(|| TestApp::spawn_with(Backend::Sqlite, fast_retries))
    else {
        return;
    };
    let receiver = Receiver::scripted(|_, earlier| match earlier {
        0 => Reply {
            status: 200,
            after: Duration::from_secs(12),
        },
        _ => Reply::OK,
    });
    let (endpoint, _) = create_endpoint(&app, &receiver.url(), json!(["*"]));
    app.create_customer(&json!({"firstName": "Patient"}));
    let received = receiver.wait_for_count(2, Duration::from_secs(30));
    let gap = received[1].arrived - received[0].arrived;
    assert!(gap >= Duration::from_secs(10), "retried after {gap:?}");
    let listed = wait_for_attempts(&app, &endpoint, 2);
    assert_eq!(listed[1]["status"], Value::Null);
    assert_eq!(listed[1]["outcome"], "retrying");
    assert!(
        listed[1]["error"].as_str().unwrap().contains("10 s"),
        "{}",
        listed[1]
    );
    assert!(listed[1]["durationMs"].as_i64().unwrap() >= 10_000);
    assert_eq!(listed[0]["outcome"], "delivered");
}

/// In production, endpoints are https and public: a name that resolves to a
/// loopback or private address is refused when set, and at delivery when it
/// was changed to one behind the API's back.
#[test]
fn production_refuses_private_addresses() {
    use std::net::ToSocketAddrs;
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |settings| {
        settings.profile = Profile::Production;
        settings.webhook_allow_private = false;
        fast_retries(settings);
    }) else {
        return;
    };
    let path = endpoints_path(&app);
    let post = |url: &str| app.post_json(&path, &json!({"url": url, "events": ["*"]}));
    for refused in [
        "http://hooks.example.com/plain",
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.0.0.8/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://100.64.0.1/x",
    ] {
        let response = post(refused);
        assert_eq!(response.status, 422, "{refused}: {}", response.text);
        assert_eq!(response.invalid_fields(), ["url"]);
    }
    // A name (not spelled like localhost) that resolves to a loopback or
    // private address: this machine's own name.
    let host = String::from_utf8(
        std::process::Command::new("hostname")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let host = host.trim();
    let private = (host, 443u16)
        .to_socket_addrs()
        .map(|mut a| a.all(|a| !clientele::domain::webhook::is_public(a.ip())))
        .unwrap_or(false);
    assert!(
        private,
        "{host} should resolve to this machine's own address"
    );
    let receiver = Receiver::start();
    let resolving = format!("https://{host}:{}/hooks", receiver.port);
    assert_eq!(post(&resolving).status, 422);
    // Accepted as a public address, then pointed at this machine directly in
    // the database: the delivery checks the resolved address again.
    let accepted = post("https://93.184.215.14/hooks");
    assert_eq!(accepted.status, 201, "{}", accepted.text);
    let id = accepted.json()["id"].as_str().unwrap().to_owned();
    app.execute_sql(&format!(
        "UPDATE webhook_endpoints SET url = '{resolving}' WHERE id = '{id}'"
    ));
    app.create_customer(&json!({"firstName": "Nobody"}));
    let listed = wait_for_attempts(&app, &id, 1);
    assert_eq!(listed[0]["status"], Value::Null);
    assert_eq!(listed[0]["outcome"], "retrying");
    assert!(
        listed[0]["error"]
            .as_str()
            .unwrap()
            .contains("no public address"),
        "{}",
        listed[0]
    );
    assert!(receiver.received().is_empty());
}
