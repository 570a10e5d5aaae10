//! PUT .../customers/{id}: partial changes, nulls, whole replacement,
//! revision and updatedTime.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, on_both_backends};

fn full_customer(app: &TestApp) -> Value {
    app.create_customer(&json!({
        "firstName": "Jane", "lastName": "Doe", "email": "jane@example.com",
        "phoneNumber": "+15550100", "language": "en",
        "address": {"address1": "1 Main St", "city": "Springfield", "country": "US"},
        "metadata": {"crmId": "A-17", "tier": "gold"}
    }))
}

fn put(app: &TestApp, customer: &Value, body: Value) -> Value {
    let response = app.put_json(&app.customer_path(customer["id"].as_str().unwrap()), &body);
    assert_eq!(response.status, 200, "{}", response.text);
    response.json()
}

on_both_backends! {
    fn changes_only_the_fields_present(app: &TestApp) {
        let before = full_customer(app);
        let after = put(app, &before, json!({"lastName": " Smith ", "phoneNumber": "+44 20 7946 0958"}));
        assert_eq!(after["lastName"], "Smith");
        assert_eq!(after["phoneNumber"], "+442079460958");
        for kept in ["id", "organizationId", "firstName", "email", "language", "address", "metadata", "createdTime"] {
            assert_eq!(after[kept], before[kept], "{kept}");
        }
        assert_eq!(app.get(&app.customer_path(before["id"].as_str().unwrap())).json(), after);
    }

    fn null_clears_a_field(app: &TestApp) {
        let before = full_customer(app);
        let after = put(app, &before, json!({"email": null, "address": null, "metadata": null, "firstName": null}));
        for cleared in ["email", "address", "metadata", "firstName"] {
            assert_eq!(after[cleared], Value::Null, "{cleared}");
        }
        assert_eq!(after["lastName"], "Doe");
    }

    fn address_and_metadata_are_replaced_whole(app: &TestApp) {
        let before = full_customer(app);
        let after = put(app, &before, json!({"address": {"zip": "10115", "country": "de"}, "metadata": {"tier": "silver"}}));
        assert_eq!(after["address"], json!({"address1": null, "address2": null, "city": null,
            "region": null, "zip": "10115", "country": "DE"}));
        assert_eq!(after["metadata"], json!({"tier": "silver"}));
    }

    fn every_update_adds_a_revision_and_moves_updated_time(app: &TestApp) {
        let mut customer = full_customer(app);
        for expected in 2..=4 {
            let next = put(app, &customer, json!({}));
            assert_eq!(next["revision"], expected);
            assert!(next["updatedTime"].as_str() > customer["updatedTime"].as_str());
            assert_eq!(next["createdTime"], customer["createdTime"]);
            assert_eq!(next["id"], customer["id"]);
            customer = next;
        }
    }

    fn a_rejected_update_changes_nothing(app: &TestApp) {
        let before = full_customer(app);
        let path = app.customer_path(before["id"].as_str().unwrap());
        let response = app.put_json(&path, &json!({"firstName": "Janet", "language": "xx", "id": "cus_x", "revision": 9}));
        let mut fields = response.invalid_fields();
        fields.sort();
        assert_eq!(fields, ["id", "language", "revision"]);
        assert_eq!(app.get(&path).json(), before);
        let malformed = app.send("PUT", &path, Some(("application/json", b"{\"firstName\": ")));
        malformed.problem(400);
        assert_eq!(app.get(&path).json(), before);
    }

    fn the_search_columns_follow_updates(app: &TestApp) {
        let before = full_customer(app);
        put(app, &before, json!({"firstName": "Janet", "email": "JANET@example.org", "phoneNumber": "+4930123456"}));
        assert_eq!(app.list("q=janet%20doe")["data"].as_array().unwrap().len(), 1);
        assert_eq!(app.list("q=jane%20doe")["data"].as_array().unwrap().len(), 0);
        assert_eq!(app.list("email=janet@EXAMPLE.org")["data"].as_array().unwrap().len(), 1);
        assert_eq!(app.list("email=jane@example.com")["data"].as_array().unwrap().len(), 0);
        assert_eq!(app.list("q=30123")["data"].as_array().unwrap().len(), 1);
        assert_eq!(app.list("q=5550100")["data"].as_array().unwrap().len(), 0);
    }

    fn unknown_customers_answer_404(app: &TestApp) {
        let missing = app.customer_path("cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e");
        app.put_json(&missing, &json!({"firstName": "X"})).problem(404);
        app.put_json(&app.customer_path("not-an-id"), &json!({"firstName": "X"})).problem(404);
        assert_eq!(app.list("includeTotal=true")["total"], 0);
    }
}
