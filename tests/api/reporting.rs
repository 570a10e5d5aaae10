//! Reporting and privacy (contract section 12): deleted customers in lists
//! for reporting, restore, and erase.

use clientele::domain::scopes::Scope;
use serde_json::{Value, json};

use crate::events::feed_until;
use crate::helpers::{Backend, TestApp, ids, on_both_backends};
use crate::safe_writes::with_key;

fn id(customer: &Value) -> &str {
    customer["id"].as_str().unwrap()
}

fn post(app: &TestApp, path: &str) -> crate::helpers::Response {
    app.send("POST", path, None)
}

on_both_backends! {
    fn deleted_customers_are_listed_for_reporting(app: &TestApp) {
        let kept = app.create_customer(&json!({"firstName": "Kept"}));
        assert_eq!(kept["deletedTime"], Value::Null);
        assert_eq!(kept["erasedTime"], Value::Null);
        let gone = app.create_customer(&json!({"firstName": "Gone"}));
        assert_eq!(app.delete(&app.customer_path(id(&gone))).status, 204);

        assert_eq!(ids(&app.list("")), [id(&kept)]);
        let all = app.list("includeDeleted=true&includeTotal=true&sort=createdTime");
        assert_eq!(ids(&all), [id(&kept), id(&gone)]);
        assert_eq!(all["total"], 2);
        let deleted_time = all["data"][1]["deletedTime"].as_str().unwrap().to_owned();
        crate::customers_create::assert_api_time(&all["data"][1]["deletedTime"]);
        assert_eq!(all["data"][1]["erasedTime"], Value::Null);
        assert_eq!(all["data"][0]["deletedTime"], Value::Null);

        // A deletion range leaves live customers out.
        let deleted = app.list(&format!("includeDeleted=true&deletedFrom={deleted_time}"));
        assert_eq!(ids(&deleted), [id(&gone)]);
        assert!(ids(&app.list(&format!("includeDeleted=true&deletedTo={deleted_time}"))).is_empty());
        // A deletion range holds deleted customers only, with or without
        // includeDeleted.
        assert_eq!(ids(&app.list(&format!("deletedFrom={deleted_time}"))), [id(&gone)]);
        assert_eq!(ids(&app.list("includeDeleted=false&deletedTo=9999-01-01T00:00:00Z")), [id(&gone)]);

        // includeDeleted needs reports:read; the plain list does not.
        let reader = format!("ApiKey {}", app.create_key(&[Scope::CustomersRead]));
        let path = format!("{}?includeDeleted=true", app.customers_path());
        let forbidden = app.send_as(Some(&reader), "GET", &path, None).problem(403);
        assert!(forbidden["detail"].as_str().unwrap().contains("reports:read"));
        let ranged = format!("{}?deletedTo={deleted_time}", app.customers_path());
        app.send_as(Some(&reader), "GET", &ranged, None).problem(403);
        assert_eq!(app.send_as(Some(&reader), "GET", &app.customers_path(), None).status, 200);
    }

    fn lists_filter_by_update_time(app: &TestApp) {
        let untouched = app.create_customer(&json!({"firstName": "Untouched"}));
        let changed = app.create_customer(&json!({"firstName": "Changed"}));
        std::thread::sleep(std::time::Duration::from_millis(5));
        let updated = app.put_json(&app.customer_path(id(&changed)), &json!({"lastName": "Later"})).json();
        let at = updated["updatedTime"].as_str().unwrap();
        assert_eq!(ids(&app.list(&format!("updatedFrom={at}"))), [id(&changed)]);
        assert_eq!(ids(&app.list(&format!("updatedTo={at}"))), [id(&untouched)]);
        let bad = app.get(&format!("{}?updatedFrom=yesterday", app.customers_path()));
        assert_eq!(bad.invalid_fields(), ["updatedFrom"]);
    }

    fn restore_brings_a_deleted_customer_back(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Back", "externalId": "crm-1"}));
        let path = app.customer_path(id(&customer));
        assert_eq!(app.delete(&path).status, 204);
        let restored = post(app, &format!("{path}/restore"));
        assert_eq!(restored.status, 200, "{}", restored.text);
        assert_eq!(restored.header("etag"), Some("\"2\""));
        let body = restored.json();
        assert_eq!(body["revision"], 2);
        assert_eq!(body["deletedTime"], Value::Null);
        assert_eq!(body["firstName"], "Back");
        assert_eq!(body["externalId"], "crm-1");
        assert_eq!(app.get(&path).json(), body);
        assert_eq!(ids(&app.list("externalId=crm-1")), [id(&customer)]);
        // A live customer is answered as it is.
        let again = post(app, &format!("{path}/restore"));
        assert_eq!(again.status, 200);
        assert_eq!(again.json(), body);

        let types: Vec<String> = feed_until(app, "", 3)
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(types, ["customer.created", "customer.deleted", "customer.restored"]);

        // If-Match, strongly, on the deleted customer.
        assert_eq!(app.delete(&path).status, 204);
        let auth = format!("ApiKey {}", app.api_key);
        let stale = app.request("POST", &format!("{path}/restore"), &[("authorization", &auth), ("if-match", "\"1\"")], None);
        assert_eq!(stale.problem(412)["currentRevision"], 2);
        let fresh = app.request("POST", &format!("{path}/restore"), &[("authorization", &auth), ("if-match", "\"1\", \"2\"")], None);
        assert_eq!(fresh.status, 200, "{}", fresh.text);
        assert_eq!(fresh.json()["revision"], 3);

        post(app, &format!("{}/restore", app.customer_path("cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e"))).problem(404);
    }

    fn restore_refuses_a_taken_reference_and_old_deletions(app: &TestApp) {
        let first = app.create_customer(&json!({"externalId": "crm-2"}));
        assert_eq!(app.delete(&app.customer_path(id(&first))).status, 204);
        let second = app.create_customer(&json!({"externalId": "crm-2"}));
        let taken = post(app, &format!("{}/restore", app.customer_path(id(&first)))).problem(409);
        assert_eq!(taken["existingCustomerId"], id(&second));
        assert_eq!(ids(&app.list("externalId=crm-2")), [id(&second)]);

        // Deleted longer ago than the window (30 days): gone for good.
        let old = app.create_customer(&json!({"firstName": "Old"}));
        assert_eq!(app.delete(&app.customer_path(id(&old))).status, 204);
        app.execute_sql(&format!(
            "UPDATE customers SET deleted_at = '2020-01-01 00:00:00' WHERE id = '{}'",
            id(&old)
        ));
        post(app, &format!("{}/restore", app.customer_path(id(&old)))).problem(404);
        // Restoring needs customers:write.
        let reader = format!("ApiKey {}", app.create_key(&[Scope::CustomersRead]));
        let path = format!("{}/restore", app.customer_path(id(&second)));
        app.send_as(Some(&reader), "POST", &path, None).problem(403);
    }

    fn erase_removes_personal_data_everywhere(app: &TestApp) {
        let body = json!({
            "firstName": "Jane", "lastName": "Doe", "email": "jane.doe@example.com",
            "phoneNumber": "+15550100", "language": "en", "externalId": "crm-9",
            "address": {"address1": "123 Main St", "city": "Springfield", "zip": "62701", "country": "US"},
            "shippingAddresses": [{"label": "home", "address1": "1 Elm St", "country": "US"}],
            "metadata": {"note": "Jane's account"},
        });
        let created = with_key(app, "POST", &app.customers_path(), "create-jane", Some(&body));
        assert_eq!(created.status, 201, "{}", created.text);
        let customer = created.json();
        let path = app.customer_path(id(&customer));
        let updated = app.put_json(&path, &json!({"email": "jane@doe.family", "lastName": "Roe"}));
        assert_eq!(updated.status, 200);

        // Erasing needs customers:erase (every other scope is not enough).
        let writer = format!("ApiKey {}", app.create_key(&[Scope::CustomersRead, Scope::CustomersWrite, Scope::ReportsRead]));
        app.send_as(Some(&writer), "POST", &format!("{path}/erase"), None).problem(403);

        let erased = post(app, &format!("{path}/erase"));
        assert_eq!(erased.status, 204, "{}", erased.text);
        assert!(erased.text.is_empty());
        app.get(&path).problem(404);
        let listed = app.list("includeDeleted=true");
        let record = &listed["data"][0];
        assert_eq!(record["id"], id(&customer));
        for field in ["firstName", "lastName", "email", "phoneNumber", "externalId", "metadata", "customFields"] {
            assert_eq!(record[field], Value::Null, "{field}");
        }
        assert_eq!(record["address"], json!({"address1": null, "address2": null, "city": null, "region": null, "zip": null, "country": "US"}));
        assert_eq!(record["shippingAddresses"], json!([]));
        assert_eq!(record["language"], "en");
        assert_eq!(record["revision"], 3);
        crate::customers_create::assert_api_time(&record["erasedTime"]);
        assert_eq!(record["deletedTime"], record["erasedTime"]);
        // What search derived is gone too.
        for query in ["q=jane", "q=5550100", "email=jane@doe.family", "externalId=crm-9"] {
            assert!(ids(&app.list(&format!("includeDeleted=true&{query}"))).is_empty(), "{query}");
        }
        let derived = format!(
            "SELECT count(*) AS n FROM customers WHERE id = '{}' AND name_search IS NULL AND email_search IS NULL AND phone_search IS NULL",
            id(&customer)
        );
        assert_eq!(app.count_rows(&derived), 1);

        // Its earlier events are redacted; the erase's event tells ids and times.
        let events = feed_until(app, &format!("&customerId={}", id(&customer)), 3);
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["customer.created", "customer.updated", "customer.erased"]);
        let text = serde_json::to_string(&events).unwrap();
        for personal in ["Jane", "Doe", "Roe", "jane", "5550100", "Main St", "Elm St", "crm-9", "account"] {
            assert!(!text.contains(personal), "{personal} is still in the events: {text}");
        }
        assert_eq!(events[0]["data"]["object"]["address"]["country"], "US");
        assert_eq!(events[1]["data"]["previousAttributes"], json!({"email": null, "lastName": null}));
        let told: Vec<&String> = events[2]["data"]["object"].as_object().unwrap().keys().collect();
        assert_eq!(told, ["createdTime", "deletedTime", "erasedTime", "id", "livemode", "organizationId", "revision", "updatedTime"]);

        // The kept answer of the create replays redacted.
        let replay = with_key(app, "POST", &app.customers_path(), "create-jane", Some(&body));
        assert_eq!(replay.status, 201);
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert!(!replay.text.contains("Jane"), "{}", replay.text);
        assert_eq!(replay.json()["id"], id(&customer));

        // Again: 204, and nothing changes. It cannot be restored.
        assert_eq!(post(app, &format!("{path}/erase")).status, 204);
        assert_eq!(app.list("includeDeleted=true")["data"][0], *record);
        post(app, &format!("{path}/restore")).problem(404);
        post(app, &format!("{}/erase", app.customer_path("cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e"))).problem(404);
    }

    fn a_deleted_customer_can_be_erased(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Deleted", "address": {"city": "Paris"}}));
        let path = app.customer_path(id(&customer));
        assert_eq!(app.delete(&path).status, 204);
        let deleted_time = app.list("includeDeleted=true")["data"][0]["deletedTime"].clone();
        assert_eq!(post(app, &format!("{path}/erase")).status, 204);
        let record = app.list("includeDeleted=true")["data"][0].clone();
        // It stays deleted when it was; an address with no country is null.
        assert_eq!(record["deletedTime"], deleted_time);
        assert_eq!(record["address"], Value::Null);
        assert_eq!(record["firstName"], Value::Null);
    }
}

on_both_backends! { with crate::webhooks::fast_retries;
    fn erase_redacts_deliveries_not_yet_made(app: &TestApp) {
        // The receiver refuses every delivery until the customer is erased.
        let accepting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = accepting.clone();
        let receiver = crate::receiver::Receiver::scripted(move |_, _| {
            match open.load(std::sync::atomic::Ordering::SeqCst) {
                true => crate::receiver::Reply::OK,
                false => crate::receiver::Reply::status(500),
            }
        });
        crate::webhooks::create_endpoint(app, &receiver.url(), json!(["*"]));
        let customer = app.create_customer(&json!({"firstName": "Jane", "email": "jane@example.com"}));
        let wait = std::time::Duration::from_secs(20);
        let refused = receiver.wait_for_count(1, wait);
        assert!(refused[0].body.contains("Jane"));

        assert_eq!(post(app, &format!("{}/erase", app.customer_path(id(&customer)))).status, 204);
        let erased_at = std::time::Instant::now();
        accepting.store(true, std::sync::atomic::Ordering::SeqCst);
        let received = receiver.wait_for(wait, |r| r.iter().any(|r| r.json()["type"] == "customer.erased"));
        let after: Vec<Value> = received.iter().filter(|r| r.arrived > erased_at).map(|r| r.json()).collect();
        let types: Vec<&str> = after.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["customer.created", "customer.erased"]);
        assert_eq!(after[0]["data"]["object"]["firstName"], Value::Null);
        assert_eq!(after[0]["data"]["object"]["email"], Value::Null);
        assert_eq!(after[0]["id"], refused[0].json()["id"]);
    }
}
