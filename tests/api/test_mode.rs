//! Test mode (contract section 11): a test key and its tokens see and change
//! only test-mode data, a live key only live data, over every route; the
//! other mode's ids are 404, its events and endpoints invisible.

use std::time::Duration;

use clientele::domain::scopes::Scope;
use serde_json::{Value, json};

use crate::helpers::{Backend, Response, TestApp, on_both_backends};
use crate::receiver::Receiver;

/// One credential of the test's organization.
struct Client<'a> {
    app: &'a TestApp,
    auth: String,
    livemode: bool,
}

impl Client<'_> {
    fn base(&self) -> String {
        format!("/v1/public-api/organizations/{}", self.app.organization_id)
    }

    fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Response {
        self.send_keyed(method, path, body, None)
    }

    fn send_keyed(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Response {
        let path = format!("{}{path}", self.base());
        let text = body.map(Value::to_string);
        let mut headers = vec![("authorization", self.auth.as_str())];
        if let Some(key) = key {
            headers.push(("idempotency-key", key));
        }
        self.app.request(
            method,
            &path,
            &headers,
            text.as_ref().map(|t| ("application/json", t.as_bytes())),
        )
    }

    fn created(&self, path: &str, body: Value) -> Value {
        let response = self.send("POST", path, Some(&body));
        assert_eq!(response.status, 201, "{}", response.text);
        response.json()
    }

    fn ids(&self, path: &str) -> Vec<String> {
        let response = self.send("GET", path, None);
        assert_eq!(response.status, 200, "{path}: {}", response.text);
        response.json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// What one mode made: a customer, an endpoint (to `receiver`), an event.
struct Made {
    customer: String,
    endpoint: String,
    event: String,
    receiver: Receiver,
}

fn make(client: &Client, key: &str) -> Made {
    let receiver = Receiver::start();
    let endpoint = client.created(
        "/webhook-endpoints",
        json!({"url": receiver.url(), "events": ["*"]}),
    );
    assert_eq!(endpoint["livemode"], client.livemode);
    let body = json!({"firstName": if client.livemode { "Live" } else { "Test" }, "externalId": "crm-1",
                      "customFields": {"tier": "gold"}});
    let response = client.send_keyed("POST", "/customers", Some(&body), Some(key));
    assert_eq!(response.status, 201, "{}", response.text);
    let customer = response.json();
    assert_eq!(customer["livemode"], client.livemode);
    let customer = customer["id"].as_str().unwrap().to_owned();
    let events = crate::events::feed_until_as(client.app, &client.auth, "", 1);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["livemode"], client.livemode);
    assert_eq!(events[0]["customerId"], customer);
    Made {
        customer,
        endpoint: endpoint["id"].as_str().unwrap().to_owned(),
        event: events[0]["id"].as_str().unwrap().to_owned(),
        receiver,
    }
}

on_both_backends! {
    fn each_mode_sees_and_changes_only_its_own(app: &TestApp) {
        // Definitions are shared by both modes.
        crate::custom_fields::define(app, json!({"name": "tier", "type": "string"}));
        let live = Client { app, auth: format!("ApiKey {}", app.api_key), livemode: true };
        let test_key = app.create_key_in_mode(&Scope::ALL, false);
        assert!(test_key.starts_with("ck_test_"), "{test_key}");
        let test = Client { app, auth: format!("ApiKey {test_key}"), livemode: false };

        // The same externalId and the same Idempotency-Key in both modes:
        // two customers, no conflict, no replay across modes.
        let mine_live = make(&live, "same-key");
        let mine_test = make(&test, "same-key");
        assert_ne!(mine_live.customer, mine_test.customer);

        // A test key's tokens are test mode too.
        let minted = test.created("/tokens", json!({"scopes": ["customers:read", "customers:write", "customers:erase", "reports:read", "events:read"]}));
        let test_token = Client { app, auth: format!("Bearer {}", minted["token"].as_str().unwrap()), livemode: false };

        for (me, mine, theirs) in [(&live, &mine_live, &mine_test), (&test, &mine_test, &mine_live),
                                   (&test_token, &mine_test, &mine_live)] {
            let mode = if me.livemode { "live" } else { "test" };
            let customer = format!("/customers/{}", theirs.customer);
            let endpoint = format!("/webhook-endpoints/{}", theirs.endpoint);
            let change = json!({"firstName": "Mallory"});
            for (method, path, body) in [
                ("GET", customer.clone(), None),
                ("PUT", customer.clone(), Some(&change)),
                ("DELETE", customer.clone(), None),
                ("POST", format!("{customer}/restore"), None),
                ("POST", format!("{customer}/erase"), None),
                ("GET", endpoint.clone(), None),
                ("PUT", endpoint.clone(), Some(&json!({"description": "x"}))),
                ("DELETE", endpoint.clone(), None),
                ("GET", format!("{endpoint}/deliveries"), None),
            ] {
                let response = me.send(method, &path, body);
                if me.auth.starts_with("Bearer") && path.starts_with("/webhook") {
                    response.problem(403);
                    continue;
                }
                response.problem(404);
                assert!(!response.text.contains(&theirs.customer), "{mode} {method} {path}");
            }
            let token = me.send("POST", "/tokens", Some(&json!({"scopes": ["customers:read"], "customerId": theirs.customer})));
            assert_eq!(token.status, if me.auth.starts_with("Bearer") { 403 } else { 404 }, "{mode}: {}", token.text);

            // Lists, counts and filters hold only this mode's data.
            assert_eq!(me.ids("/customers"), [mine.customer.as_str()], "{mode}");
            assert_eq!(me.send("GET", "/customers?includeTotal=true", None).json()["total"], 1, "{mode}");
            assert_eq!(me.ids("/customers?externalId=crm-1"), [mine.customer.as_str()], "{mode}");
            assert_eq!(me.ids("/customers?customFields.tier=gold"), [mine.customer.as_str()], "{mode}");
            let their_name = if me.livemode { "Test" } else { "Live" };
            assert_eq!(me.ids(&format!("/customers?q={their_name}")), Vec::<String>::new(), "{mode}");
            assert_eq!(me.ids("/customers?includeDeleted=true"), [mine.customer.as_str()], "{mode}");
            let export = me.send("GET", "/customers/export", None);
            let exported: Vec<Value> = export.text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            assert_eq!(exported.len(), 1, "{mode}: {}", export.text);
            assert_eq!(exported[0]["id"], mine.customer.as_str(), "{mode}");
            let stats = me.send("GET", "/customers/stats?groupBy=country&includeDeleted=true", None).json();
            assert_eq!(stats["total"], 1, "{mode}");
            assert_eq!(me.ids("/events"), [mine.event.as_str()], "{mode}");
            assert_eq!(me.ids(&format!("/events?customerId={}", theirs.customer)), Vec::<String>::new(), "{mode}");
            assert_eq!(me.send("GET", &format!("/events?startingAfter={}", theirs.event), None).invalid_fields(),
                       ["startingAfter"], "{mode}");
            assert_eq!(me.send("GET", &format!("/customers?startingAfter={}", theirs.customer), None).invalid_fields(),
                       ["startingAfter"], "{mode}");
            if !me.auth.starts_with("Bearer") {
                assert_eq!(me.ids("/webhook-endpoints"), [mine.endpoint.as_str()], "{mode}");
                // The key replays this mode's answer only.
                let replay = me.send_keyed("POST", "/customers", Some(&json!({"firstName": if me.livemode { "Live" } else { "Test" },
                    "externalId": "crm-1", "customFields": {"tier": "gold"}})), Some("same-key"));
                assert_eq!(replay.header("idempotent-replayed"), Some("true"), "{mode}");
                assert_eq!(replay.json()["id"], mine.customer.as_str(), "{mode}");
            }
        }

        // Each endpoint was told only about its own mode's customer.
        for made in [&mine_live, &mine_test] {
            made.receiver.wait_for_count(1, Duration::from_secs(10));
        }
        std::thread::sleep(Duration::from_millis(500));
        for (made, livemode) in [(&mine_live, true), (&mine_test, false)] {
            let received = made.receiver.received();
            assert_eq!(received.len(), 1, "{livemode}");
            let event = received[0].json();
            assert_eq!(event["livemode"], livemode);
            assert_eq!(event["customerId"], made.customer.as_str());
        }

        // Nothing above changed the other mode's data.
        for (me, mine) in [(&live, &mine_live), (&test, &mine_test)] {
            let customer = me.send("GET", &format!("/customers/{}", mine.customer), None).json();
            assert_eq!(customer["revision"], 1);
            assert_ne!(customer["firstName"], "Mallory");
            assert_eq!(me.send("GET", &format!("/webhook-endpoints/{}", mine.endpoint), None).json()["description"], Value::Null);
        }
    }

    fn a_key_of_one_mode_presented_as_the_other_is_refused(app: &TestApp) {
        let test_key = app.create_key_in_mode(&Scope::ALL, false);
        let as_live = test_key.replacen("ck_test_", "ck_", 1);
        let as_test = app.api_key.replacen("ck_", "ck_test_", 1);
        for forged in [as_live, as_test] {
            let response = app.send_as(Some(&format!("ApiKey {forged}")), "GET", &app.customers_path(), None);
            assert_eq!(response.problem(401)["type"], "/problems/unauthorized");
        }
    }
}
