//! Shipping addresses (contract section 11): a labelled list of at most 10,
//! section 3's rules per part, named by index in 422s, replaced whole.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, on_both_backends};

fn entry(label: &str) -> Value {
    json!({"label": label, "firstName": "Jane", "lastName": "Doe", "phoneNumber": "+1 555 0100",
           "address1": "1 Main St", "city": "Springfield", "zip": "62701", "country": "US"})
}

on_both_backends! {
    fn a_customer_keeps_labelled_addresses(app: &TestApp) {
        let none = app.create_customer(&json!({"firstName": "A"}));
        assert_eq!(none["shippingAddresses"], json!([]));
        let null = app.create_customer(&json!({"firstName": "B", "shippingAddresses": null}));
        assert_eq!(null["shippingAddresses"], json!([]));

        let customer = app.create_customer(&json!({
            "firstName": "Jane",
            "address": {"city": "Billing Town", "country": "US"},
            "shippingAddresses": [entry(" Home "), {"label": "Office", "country": "DE", "city": "Berlin"}],
        }));
        let list = customer["shippingAddresses"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0], json!({"label": "Home", "firstName": "Jane", "lastName": "Doe",
                                   "phoneNumber": "+15550100", "address1": "1 Main St", "address2": null,
                                   "city": "Springfield", "region": null, "zip": "62701", "country": "US"}));
        assert_eq!(list[1]["label"], "Office");
        assert_eq!(list[1]["firstName"], Value::Null);
        assert_eq!(customer["address"]["city"], "Billing Town");
        let id = customer["id"].as_str().unwrap();
        assert_eq!(app.get(&app.customer_path(id)).json(), customer);

        // PUT replaces the list whole; the billing address is untouched.
        let replaced = app.put_json(&app.customer_path(id), &json!({"shippingAddresses": [entry("Cabin")]}));
        assert_eq!(replaced.status, 200, "{}", replaced.text);
        let replaced = replaced.json();
        let labels: Vec<&str> = replaced["shippingAddresses"].as_array().unwrap()
            .iter().map(|a| a["label"].as_str().unwrap()).collect();
        assert_eq!(labels, ["Cabin"]);
        assert_eq!(replaced["address"]["city"], "Billing Town");
        let cleared = app.put_json(&app.customer_path(id), &json!({"shippingAddresses": []}));
        assert_eq!(cleared.json()["shippingAddresses"], json!([]));

        // Ten is the most; the search does not look into shipping addresses.
        let ten: Vec<Value> = (0..10).map(|i| entry(&format!("Place {i}"))).collect();
        let full = app.put_json(&app.customer_path(id), &json!({"shippingAddresses": ten}));
        assert_eq!(full.status, 200, "{}", full.text);
        assert_eq!(app.list("q=Springfield")["data"], json!([]));
        assert_eq!(app.list("q=Jane")["data"].as_array().unwrap().len(), 1);
    }

    fn every_bad_entry_is_named_by_index(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Jane", "shippingAddresses": [entry("Home")]}));
        let id = customer["id"].as_str().unwrap();
        let eleven: Vec<Value> = (0..11).map(|i| entry(&format!("Place {i}"))).collect();
        let with_bad = |index: usize, part: &str, value: Value| {
            let mut list = vec![entry("A"), entry("B"), entry("C")];
            list[index][part] = value;
            list
        };
        for (list, fields) in [
            (json!(eleven), vec!["shippingAddresses"]),
            (json!("Home"), vec!["shippingAddresses"]),
            (json!([1]), vec!["shippingAddresses.0"]),
            (json!(with_bad(2, "zip", json!("z".repeat(11)))), vec!["shippingAddresses.2.zip"]),
            (json!(with_bad(2, "country", json!("XX"))), vec!["shippingAddresses.2.country"]),
            (json!(with_bad(1, "phoneNumber", json!("call me"))), vec!["shippingAddresses.1.phoneNumber"]),
            (json!(with_bad(0, "firstName", json!("a".repeat(46)))), vec!["shippingAddresses.0.firstName"]),
            (json!(with_bad(0, "city", json!("a".repeat(46)))), vec!["shippingAddresses.0.city"]),
            (json!(with_bad(1, "label", json!(""))), vec!["shippingAddresses.1.label"]),
            (json!(with_bad(1, "label", json!("a".repeat(41)))), vec!["shippingAddresses.1.label"]),
            (json!(with_bad(1, "label", json!(null))), vec!["shippingAddresses.1.label"]),
            (json!(with_bad(1, "nickname", json!("x"))), vec!["shippingAddresses.1.nickname"]),
            (json!(with_bad(2, "label", json!("a"))), vec!["shippingAddresses.2.label"]),
            (json!([{"country": "US"}, entry("HOME"), entry("home")]), vec!["shippingAddresses.0.label", "shippingAddresses.2.label"]),
        ] {
            let body = json!({"shippingAddresses": list});
            let mut named = app.put_json(&app.customer_path(id), &body).invalid_fields();
            named.sort();
            assert_eq!(named, fields, "{body}");
            let mut created = app.post_json(&app.customers_path(), &body).invalid_fields();
            created.sort();
            assert_eq!(created, fields, "{body}");
        }
        assert_eq!(app.get(&app.customer_path(id)).json(), customer, "a refused PUT changed something");
        assert_eq!(app.list("includeTotal=true")["total"], 1);
    }

    fn a_payer_token_may_change_its_shipping_addresses(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Jane"}));
        let id = customer["id"].as_str().unwrap();
        let token = crate::auth::mint_token(app, json!({"scopes": ["customers:read", "customers:write"],
                                                        "customerId": id, "fields": ["shippingAddresses"]}));
        let body = json!({"shippingAddresses": [entry("Home")]}).to_string();
        let response = app.send_as(Some(&format!("Bearer {token}")), "PUT", &app.customer_path(id),
                                   Some(("application/json", body.as_bytes())));
        assert_eq!(response.status, 200, "{}", response.text);
        assert_eq!(response.json()["shippingAddresses"][0]["label"], "Home");
        let body = json!({"firstName": "Mallory"}).to_string();
        let refused = app.send_as(Some(&format!("Bearer {token}")), "PUT", &app.customer_path(id),
                                  Some(("application/json", body.as_bytes())));
        assert_eq!(refused.problem(403)["forbiddenFields"], json!(["firstName"]));
    }
}
