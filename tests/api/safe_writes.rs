//! Safe writes for integrations (contract section 8): Idempotency-Key,
//! revisions as ETags, externalId and cursor pages.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::helpers::{Backend, Response, TestApp, on_both_backends};

pub fn with_key(
    app: &TestApp,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&Value>,
) -> Response {
    with_key_via(app, app, method, path, key, body)
}

/// A request with `app`'s key sent to `server`: another instance over
/// `app`'s database.
fn with_key_via(
    server: &TestApp,
    app: &TestApp,
    method: &str,
    path: &str,
    key: &str,
    body: Option<&Value>,
) -> Response {
    let auth = format!("ApiKey {}", app.api_key);
    let text = body.map(Value::to_string);
    let mut headers = vec![("authorization", auth.as_str()), ("idempotency-key", key)];
    if text.is_some() {
        headers.push(("content-type", "application/json"));
    }
    server.request(
        method,
        path,
        &headers,
        text.as_ref().map(|t| ("application/json", t.as_bytes())),
    )
}

fn with_header(
    app: &TestApp,
    method: &str,
    path: &str,
    name: &str,
    value: &str,
    body: Option<&Value>,
) -> Response {
    let auth = format!("ApiKey {}", app.api_key);
    let text = body.map(Value::to_string);
    app.request(
        method,
        path,
        &[("authorization", auth.as_str()), (name, value)],
        text.as_ref().map(|t| ("application/json", t.as_bytes())),
    )
}

on_both_backends! {
    fn a_retried_create_replays_its_answer_byte_for_byte(app: &TestApp) {
        let body = json!({"firstName": "Once", "metadata": {"a": "1", "b": "2"}});
        let first = with_key(app, "POST", &app.customers_path(), "order-17", Some(&body));
        assert_eq!(first.status, 201, "{}", first.text);
        assert_eq!(first.header("idempotent-replayed"), None);
        // Key order and whitespace do not matter.
        let reordered: Value = serde_json::from_str(r#"{ "metadata": {"b": "2", "a": "1"}, "firstName": "Once" }"#).unwrap();
        let again = with_key(app, "POST", &app.customers_path(), "order-17", Some(&reordered));
        assert_eq!(again.status, 201);
        assert_eq!(again.text, first.text, "not the same bytes");
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.header("location"), first.header("location"));
        assert_eq!(again.header("etag"), Some("\"1\""));
        assert_eq!(app.list("includeTotal=true")["total"], 1);
        // Replayed as it was, even after the customer changed.
        let id = first.json()["id"].as_str().unwrap().to_owned();
        assert_eq!(app.put_json(&app.customer_path(&id), &json!({"firstName": "Changed"})).status, 200);
        assert_eq!(with_key(app, "POST", &app.customers_path(), "order-17", Some(&body)).text, first.text);

        let reused = with_key(app, "POST", &app.customers_path(), "order-17", Some(&json!({"firstName": "Other"})));
        let problem = reused.problem(422);
        assert_eq!(problem["type"], "/problems/idempotency-key-reused");
        assert_eq!(problem["invalidFields"][0]["field"], "Idempotency-Key");
        let other_path = with_key(app, "PUT", &app.customer_path(&id), "order-17", Some(&body));
        other_path.problem(422);
        assert_eq!(app.list("includeTotal=true")["total"], 1);

        // Another organization's key of the same name is its own.
        let (other_org, other_key) = app.create_organization("Other");
        let theirs = app.request("POST", &format!("/v1/public-api/organizations/{other_org}/customers"),
            &[("authorization", &format!("ApiKey {other_key}")), ("idempotency-key", "order-17")],
            Some(("application/json", body.to_string().as_bytes())));
        assert_eq!(theirs.status, 201);
        assert_eq!(theirs.header("idempotent-replayed"), None);
        assert_ne!(theirs.json()["id"], first.json()["id"]);
    }

    fn keys_are_checked_and_unkept_failures_free_them(app: &TestApp) {
        for bad in ["has space", &"k".repeat(256), "é"] {
            let response = with_key(app, "POST", &app.customers_path(), bad, Some(&json!({})));
            assert_eq!(response.invalid_fields(), ["Idempotency-Key"], "{bad:?}");
        }
        // A 422 is not kept: the client fixes the body and retries with the key.
        let invalid = with_key(app, "POST", &app.customers_path(), "fix-me", Some(&json!({"language": "xx"})));
        invalid.problem(422);
        let fixed = with_key(app, "POST", &app.customers_path(), "fix-me", Some(&json!({"language": "en"})));
        assert_eq!(fixed.status, 201, "{}", fixed.text);
        // A 404 found while running is kept.
        let missing = app.customer_path("cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e");
        let first = with_key(app, "PUT", &missing, "put-missing", Some(&json!({})));
        first.problem(404);
        let again = with_key(app, "PUT", &missing, "put-missing", Some(&json!({})));
        assert_eq!((again.status, again.header("idempotent-replayed")), (404, Some("true")));
        // A DELETE's 204 is replayed, not turned into a 404.
        let id = app.create_customer(&json!({}))["id"].as_str().unwrap().to_owned();
        assert_eq!(with_key(app, "DELETE", &app.customer_path(&id), "delete-once", None).status, 204);
        let again = with_key(app, "DELETE", &app.customer_path(&id), "delete-once", None);
        assert_eq!((again.status, again.header("idempotent-replayed"), again.text.as_str()), (204, Some("true"), ""));
        // A key older than the window runs afresh.
        let first = with_key(app, "POST", &app.customers_path(), "old", Some(&json!({})));
        app.execute_sql("UPDATE idempotency_keys SET created_at = '2000-01-01 00:00:00' WHERE key = 'old'");
        let fresh = with_key(app, "POST", &app.customers_path(), "old", Some(&json!({})));
        assert_eq!(fresh.header("idempotent-replayed"), None);
        assert_ne!(fresh.json()["id"], first.json()["id"]);
    }

    fn concurrent_requests_with_one_key_run_once(app: &TestApp) {
        let outcomes = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..16 {
                scope.spawn(|| {
                    let response = with_key(app, "POST", &app.customers_path(), "racing", Some(&json!({"firstName": "Racer"})));
                    let replayed = response.header("idempotent-replayed").is_some();
                    if response.status == 409 {
                        assert_eq!(response.problem(409)["type"], "/problems/idempotency-key-in-use");
                        assert_eq!(response.header("retry-after"), Some("1"));
                    }
                    outcomes.lock().unwrap().push((response.status, replayed));
                });
            }
        });
        let outcomes = outcomes.into_inner().unwrap();
        assert_eq!(outcomes.iter().filter(|o| **o == (201, false)).count(), 1, "{outcomes:?}");
        assert!(outcomes.iter().all(|o| matches!(o, (201, _) | (409, false))), "{outcomes:?}");
        assert_eq!(app.list("includeTotal=true")["total"], 1);
    }

    fn revisions_are_etags(app: &TestApp) {
        let created = app.post_json(&app.customers_path(), &json!({"firstName": "Tag"}));
        assert_eq!(created.header("etag"), Some("\"1\""));
        let path = app.customer_path(created.json()["id"].as_str().unwrap());
        assert_eq!(app.get(&path).header("etag"), Some("\"1\""));
        for held in ["\"1\"", "W/\"1\"", "\"7\", \"1\"", "*"] {
            let response = with_header(app, "GET", &path, "if-none-match", held, None);
            assert_eq!((response.status, response.text.as_str()), (304, ""), "{held}");
            assert_eq!(response.header("etag"), Some("\"1\""));
        }
        // An empty list (RFC 9110 allows one) holds nothing.
        for none in ["\"2\"", "", " , "] {
            let response = with_header(app, "GET", &path, "if-none-match", none, None);
            assert_eq!((response.status, response.header("etag")), (200, Some("\"1\"")), "{none:?}");
            assert_eq!(response.json()["firstName"], "Tag");
        }

        let changed = with_header(app, "PUT", &path, "if-match", "\"1\"", Some(&json!({"lastName": "One"})));
        assert_eq!((changed.status, changed.header("etag")), (200, Some("\"2\"")));
        for stale in ["\"1\"", "W/\"2\"", "\"5\", \"3\"", ""] {
            let refused = with_header(app, "PUT", &path, "if-match", stale, Some(&json!({"lastName": "Lost"})));
            let problem = refused.problem(412);
            assert_eq!(problem["type"], "/problems/precondition-failed");
            assert_eq!(problem["currentRevision"], 2, "{stale}");
        }
        assert_eq!(app.get(&path).json()["lastName"], "One");
        assert_eq!(with_header(app, "PUT", &path, "if-match", "\"9\", \"2\"", Some(&json!({}))).status, 200);
        assert_eq!(with_header(app, "PUT", &path, "if-match", "*", Some(&json!({}))).status, 200);
        let malformed = with_header(app, "PUT", &path, "if-match", "nonsense", Some(&json!({})));
        assert_eq!(malformed.invalid_fields(), ["If-Match"]);
        // Refused before its body may have been read: the connection is not reused.
        assert_eq!(malformed.header("connection"), Some("close"));
        with_header(app, "DELETE", &path, "if-match", "\"1\"", None).problem(412);
        assert_eq!(app.get(&path).status, 200);
        assert_eq!(with_header(app, "DELETE", &path, "if-match", "\"4\"", None).status, 204);
        // Deleted: nothing to compare with, whatever the client holds.
        for held in ["\"4\"", "*"] {
            with_header(app, "GET", &path, "if-none-match", held, None).problem(404);
        }
    }

    fn external_ids_are_unique_among_live_customers(app: &TestApp) {
        let first = app.create_customer(&json!({"externalId": "CRM-42"}));
        assert_eq!(first["externalId"], "CRM-42");
        let taken = app.post_json(&app.customers_path(), &json!({"externalId": "CRM-42", "firstName": "Second"}));
        let problem = taken.problem(409);
        assert_eq!(problem["type"], "/problems/conflict");
        assert_eq!(problem["existingCustomerId"], first["id"]);
        // Case-sensitive and exact.
        let lower = app.create_customer(&json!({"externalId": "crm-42"}));
        let path = app.customer_path(lower["id"].as_str().unwrap());
        let moved = app.put_json(&path, &json!({"externalId": "CRM-42", "firstName": "Moved"}));
        assert_eq!(moved.problem(409)["existingCustomerId"], first["id"]);
        assert_eq!(app.get(&path).json(), lower, "a refused PUT changed something");
        for bad in [json!(""), json!(" CRM"), json!("x".repeat(129)), json!(42)] {
            assert_eq!(app.post_json(&app.customers_path(), &json!({"externalId": bad})).invalid_fields(), ["externalId"]);
        }
        let found = app.list("externalId=CRM-42");
        assert_eq!(found["data"].as_array().unwrap().len(), 1);
        assert_eq!(found["data"][0]["id"], first["id"]);
        // A deleted customer's reference is free again.
        assert_eq!(app.delete(&app.customer_path(first["id"].as_str().unwrap())).status, 204);
        let reused = app.put_json(&path, &json!({"externalId": "CRM-42"}));
        assert_eq!(reused.status, 200, "{}", reused.text);
        assert_eq!(app.list("externalId=CRM-42")["data"][0]["id"], lower["id"]);
        assert_eq!(app.list("externalId=crm-42")["data"].as_array().unwrap().len(), 0);
        // A hosted-form token may not set it.
        let token = crate::auth::mint_token(app, json!({"scopes": ["customers:write"], "customerId": lower["id"]}));
        let forbidden = app.send_as(Some(&format!("Bearer {token}")), "PUT", &path,
            Some(("application/json", json!({"externalId": "mine"}).to_string().as_bytes())));
        assert_eq!(forbidden.problem(403)["forbiddenFields"], json!(["externalId"]));
    }

    fn racing_creates_for_one_external_id_give_one_customer(app: &TestApp) {
        let outcomes = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for n in 0..12 {
                let outcomes = &outcomes;
                scope.spawn(move || {
                    let response = app.post_json(&app.customers_path(), &json!({"externalId": "RACE", "firstName": format!("r{n}")}));
                    outcomes.lock().unwrap().push((response.status, response.json()));
                });
            }
        });
        let outcomes = outcomes.into_inner().unwrap();
        let winners: Vec<&Value> = outcomes.iter().filter(|(s, _)| *s == 201).map(|(_, b)| b).collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        for (status, body) in &outcomes {
            if *status != 201 {
                assert_eq!((*status, &body["existingCustomerId"]), (409, &winners[0]["id"]));
            }
        }
        assert_eq!(app.list("externalId=RACE&includeTotal=true")["total"], 1);
    }

    fn cursors_walk_every_order_both_ways_exactly_once(app: &TestApp) {
        let mut all = BTreeSet::new();
        for n in 0..23 {
            let customer = app.create_customer(&json!({"firstName": format!("c{n}"), "lastName": "Walker"}));
            all.insert(customer["id"].as_str().unwrap().to_owned());
        }
        // A few updates so that the updatedTime orders differ from creation.
        for id in all.iter().step_by(5) {
            app.put_json(&app.customer_path(id), &json!({})).json();
        }
        for sort in ["-createdTime", "createdTime", "-updatedTime", "updatedTime"] {
            let page = |cursor: &str| app.list(&format!("limit=7&sort={sort}&q=walker{cursor}"));
            let ids = |page: &Value| -> Vec<String> {
                page["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
            };
            let everything = ids(&app.list(&format!("limit=100&sort={sort}")));
            let mut forward = Vec::new();
            let mut current = page("");
            loop {
                forward.extend(ids(&current));
                if current["hasMore"] == false {
                    break;
                }
                current = page(&format!("&startingAfter={}", forward.last().unwrap()));
            }
            assert_eq!(forward, everything, "{sort} forwards");
            let mut backward: Vec<String> = Vec::new();
            let mut current = page(&format!("&endingBefore={}", everything.last().unwrap()));
            let mut pages = vec![ids(&current)];
            while current["hasMore"] == true {
                current = page(&format!("&endingBefore={}", pages.last().unwrap()[0]));
                pages.push(ids(&current));
            }
            for page in pages.into_iter().rev() {
                backward.extend(page);
            }
            backward.push(everything.last().unwrap().clone());
            assert_eq!(backward, everything, "{sort} backwards");
        }
        // An anchor deleted since still marks its place.
        let first_page = app.list("limit=5");
        let anchor = first_page["data"][4]["id"].as_str().unwrap().to_owned();
        let expected = app.list(&format!("limit=5&startingAfter={anchor}"));
        assert_eq!(app.delete(&app.customer_path(&anchor)).status, 204);
        assert_eq!(app.list(&format!("limit=5&startingAfter={anchor}"))["data"], expected["data"]);
        // Unknown anchors, both cursors, a cursor with an offset: 422.
        let unknown = "cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e";
        let get = |query: &str| app.get(&format!("{}?{query}", app.customers_path()));
        assert_eq!(get(&format!("startingAfter={unknown}")).invalid_fields(), ["startingAfter"]);
        assert_eq!(get(&format!("endingBefore={unknown}")).invalid_fields(), ["endingBefore"]);
        let mut both = get(&format!("startingAfter={anchor}&endingBefore={anchor}")).invalid_fields();
        both.sort();
        assert_eq!(both, ["endingBefore", "startingAfter"]);
        assert_eq!(get(&format!("startingAfter={anchor}&offset=3")).invalid_fields(), ["startingAfter", "offset"]);
        let (other_org, other_key) = app.create_organization("Other");
        let theirs = app.send_as(Some(&format!("ApiKey {other_key}")), "GET",
            &format!("/v1/public-api/organizations/{other_org}/customers?startingAfter={anchor}"), None);
        assert_eq!(theirs.invalid_fields(), ["startingAfter"], "another organization's customer is no anchor");
    }
}

/// A key met first on another instance: this one has not seen it, writes
/// at once, and learns from the key's primary key to replay, refuse or run
/// afresh, exactly as the instance that kept the answer would.
mod keys_kept_by_another_instance {
    use super::*;

    fn run(backend: Backend) {
        let Some(one) = TestApp::spawn(backend) else {
            return;
        };
        let body = json!({"firstName": "Elsewhere"});
        let kept = with_key(&one, "POST", &one.customers_path(), "cross", Some(&body));
        assert_eq!(kept.status, 201, "{}", kept.text);

        // Each server here is a fresh instance that never met the key.
        let post_via = |server: &TestApp, body: &Value| {
            with_key_via(
                server,
                &one,
                "POST",
                &one.customers_path(),
                "cross",
                Some(body),
            )
        };
        let two = TestApp::spawn_at(&one.database_url);
        let replayed = post_via(&two, &body);
        assert_eq!(
            (replayed.status, replayed.header("idempotent-replayed")),
            (201, Some("true"))
        );
        assert_eq!(replayed.text, kept.text);
        let reused = post_via(&TestApp::spawn_at(&one.database_url), &json!({}));
        assert_eq!(
            reused.problem(422)["type"],
            "/problems/idempotency-key-reused"
        );
        assert_eq!(one.list("includeTotal=true")["total"], 1);

        one.execute_sql(
            "UPDATE idempotency_keys SET created_at = '2000-01-01 00:00:00' WHERE key = 'cross'",
        );
        let fresh = post_via(&TestApp::spawn_at(&one.database_url), &body);
        assert_eq!(
            (fresh.status, fresh.header("idempotent-replayed")),
            (201, None)
        );
        assert_ne!(fresh.json()["id"], kept.json()["id"]);
        assert_eq!(
            post_via(&two, &body).text,
            fresh.text,
            "the renewed answer is replayed"
        );
        assert_eq!(one.list("includeTotal=true")["total"], 2);
    }

    crate::helpers::run_on_both_backends!();
}
