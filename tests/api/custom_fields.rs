//! Custom fields (contract section 10): definitions, typed values on
//! customers, the typed filter, deletion with every value, and the
//! definitions cache across instances.

use std::time::{Duration, Instant};

use clientele::domain::scopes::Scope;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, ids, on_both_backends};

pub fn fields_path(app: &TestApp) -> String {
    format!(
        "/v1/public-api/organizations/{}/custom-fields",
        app.organization_id
    )
}

fn field_path(app: &TestApp, name: &str) -> String {
    format!("{}/{name}", fields_path(app))
}

/// Defines a field, asserting 201; the definition.
pub fn define(app: &TestApp, body: Value) -> Value {
    let response = app.post_json(&fields_path(app), &body);
    assert_eq!(response.status, 201, "{body}: {}", response.text);
    response.json()
}

/// One field of every type.
fn define_every_type(app: &TestApp) {
    for body in [
        json!({"name": "nickname", "type": "string", "maxLength": 5}),
        json!({"name": "visits", "type": "integer"}),
        json!({"name": "score", "type": "number"}),
        json!({"name": "vip", "type": "boolean"}),
        json!({"name": "birthday", "type": "date"}),
        json!({"name": "seenAt", "type": "datetime"}),
        json!({"name": "loyaltyTier", "type": "enum", "allowedValues": ["gold", "silver"], "description": "Tier"}),
    ] {
        define(app, body);
    }
}

on_both_backends! {
    fn definitions_follow_the_rules(app: &TestApp) {
        let created = define(app, json!({"name": "loyaltyTier", "type": "enum",
                                         "allowedValues": ["gold", "silver"], "description": "Tier"}));
        let mut keys: Vec<&String> = created.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["allowedValues", "createdTime", "description", "name", "type", "updatedTime"]);
        assert_eq!(created["allowedValues"], json!(["gold", "silver"]));
        crate::customers_create::assert_api_time(&created["createdTime"]);
        let text = define(app, json!({"name": "note", "type": "string"}));
        assert_eq!(text["maxLength"], 500);
        assert_eq!(text["description"], Value::Null);

        let invalid = |body: Value, field: &str| {
            let response = app.post_json(&fields_path(app), &body);
            assert_eq!(response.invalid_fields(), [field], "{body}");
        };
        for name in ["1abc", "a-b", "", "_x", "ä", &"a".repeat(41)] {
            invalid(json!({"name": name, "type": "string"}), "name");
        }
        invalid(json!({"type": "string"}), "name");
        invalid(json!({"name": "x", "type": "text"}), "type");
        invalid(json!({"name": "x"}), "type");
        invalid(json!({"name": "x", "type": "string", "maxLength": 0}), "maxLength");
        invalid(json!({"name": "x", "type": "string", "maxLength": 501}), "maxLength");
        invalid(json!({"name": "x", "type": "integer", "maxLength": 5}), "maxLength");
        invalid(json!({"name": "x", "type": "enum"}), "allowedValues");
        invalid(json!({"name": "x", "type": "enum", "allowedValues": []}), "allowedValues");
        invalid(json!({"name": "x", "type": "enum", "allowedValues": ["a", "a"]}), "allowedValues");
        invalid(json!({"name": "x", "type": "enum", "allowedValues": [""]}), "allowedValues");
        invalid(json!({"name": "x", "type": "enum", "allowedValues": ["a".repeat(101)]}), "allowedValues");
        let too_many: Vec<String> = (0..101).map(|i| format!("v{i}")).collect();
        invalid(json!({"name": "x", "type": "enum", "allowedValues": too_many}), "allowedValues");
        invalid(json!({"name": "x", "type": "string", "allowedValues": ["a"]}), "allowedValues");
        invalid(json!({"name": "x", "type": "string", "createdTime": "2026-01-01T00:00:00Z"}), "createdTime");

        let taken = app.post_json(&fields_path(app), &json!({"name": "loyaltyTier", "type": "string"}));
        assert_eq!(taken.problem(409)["type"], "/problems/conflict");

        // Read back: one and all, by name; an unknown name is 404.
        assert_eq!(app.get(&field_path(app, "loyaltyTier")).json(), created);
        let listed = app.get(&fields_path(app)).json();
        let names: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["loyaltyTier", "note"]);
        app.get(&field_path(app, "nothing")).problem(404);
        app.put_json(&field_path(app, "nothing"), &json!({"description": "x"})).problem(404);
        app.delete(&field_path(app, "nothing")).problem(404);

        // Allowed changes: the description, more allowed values, a longer maxLength.
        let changed = app.put_json(&field_path(app, "loyaltyTier"),
                                   &json!({"description": "Loyalty", "allowedValues": ["gold", "silver", "bronze"]}));
        assert_eq!(changed.status, 200, "{}", changed.text);
        assert_eq!(changed.json()["allowedValues"], json!(["gold", "silver", "bronze"]));
        assert_eq!(changed.json()["description"], "Loyalty");
        assert_eq!(app.put_json(&field_path(app, "note"), &json!({"maxLength": 501})).invalid_fields(), ["maxLength"]);
        assert_eq!(app.put_json(&field_path(app, "note"), &json!({"maxLength": 600})).invalid_fields(), ["maxLength"]);
        let longer = app.put_json(&field_path(app, "note"), &json!({"maxLength": 500}));
        assert_eq!(longer.status, 200, "{}", longer.text);
        // Nothing else: no removed value, no shorter maxLength, no new type or name.
        let refused = |name: &str, body: Value, field: &str| {
            let before = app.get(&field_path(app, name)).json();
            assert_eq!(app.put_json(&field_path(app, name), &body).invalid_fields(), [field], "{body}");
            assert_eq!(app.get(&field_path(app, name)).json(), before, "a refused change changed {name}");
        };
        refused("loyaltyTier", json!({"allowedValues": ["gold"]}), "allowedValues");
        refused("loyaltyTier", json!({"type": "string"}), "type");
        refused("loyaltyTier", json!({"name": "tier"}), "name");
        refused("note", json!({"maxLength": 10}), "maxLength");
        refused("note", json!({"allowedValues": ["a"]}), "allowedValues");

        // Reading needs customers:read; changing needs custom-fields:write.
        let reader = format!("ApiKey {}", app.create_key(&[Scope::CustomersRead]));
        assert_eq!(app.send_as(Some(&reader), "GET", &fields_path(app), None).status, 200);
        assert_eq!(app.send_as(Some(&reader), "GET", &field_path(app, "note"), None).status, 200);
        let body = json!({"name": "y", "type": "string"}).to_string();
        app.send_as(Some(&reader), "POST", &fields_path(app), Some(("application/json", body.as_bytes()))).problem(403);
        app.send_as(Some(&reader), "DELETE", &field_path(app, "note"), None).problem(403);
        let writer = format!("ApiKey {}", app.create_key(&[Scope::CustomFieldsWrite]));
        let made = app.send_as(Some(&writer), "POST", &fields_path(app), Some(("application/json", body.as_bytes())));
        assert_eq!(made.status, 201, "{}", made.text);
        app.send_as(Some(&writer), "GET", &customers_path(app), None).problem(403);
    }

    fn an_organization_has_at_most_fifty(app: &TestApp) {
        for i in 0..50 {
            define(app, json!({"name": format!("f{i}"), "type": "boolean"}));
        }
        let response = app.post_json(&fields_path(app), &json!({"name": "f50", "type": "boolean"}));
        assert_eq!(response.problem(409)["type"], "/problems/limit-reached");
        assert_eq!(app.get(&fields_path(app)).json()["data"].as_array().unwrap().len(), 50);
        assert_eq!(app.delete(&field_path(app, "f7")).status, 204);
        define(app, json!({"name": "f50", "type": "boolean"}));
        // Another organization counts its own.
        let (other_org, other_key) = app.create_organization("Other");
        let other = format!("/v1/public-api/organizations/{other_org}/custom-fields");
        let body = json!({"name": "f0", "type": "boolean"}).to_string();
        let response = app.send_as(Some(&format!("ApiKey {other_key}")), "POST", &other,
                                   Some(("application/json", body.as_bytes())));
        assert_eq!(response.status, 201, "{}", response.text);
    }

    fn customers_carry_typed_values(app: &TestApp) {
        define_every_type(app);
        let plain = app.create_customer(&json!({"firstName": "Plain"}));
        assert_eq!(plain["customFields"], Value::Null);

        let values = json!({"nickname": "Jo", "visits": 7, "score": 4.5, "vip": true,
                            "birthday": "1990-02-28", "seenAt": "2026-11-22T10:00:00+01:00",
                            "loyaltyTier": "gold"});
        let customer = app.create_customer(&json!({"firstName": "Jane", "customFields": values}));
        let stored = &customer["customFields"];
        assert_eq!(stored["nickname"], "Jo");
        assert_eq!(stored["visits"], 7);
        assert_eq!(stored["score"], 4.5);
        assert_eq!(stored["vip"], true);
        assert_eq!(stored["birthday"], "1990-02-28");
        // Answered in section 3's format: UTC, milliseconds.
        assert_eq!(stored["seenAt"], "2026-11-22T09:00:00.000Z");
        assert_eq!(stored["loyaltyTier"], "gold");
        let id = customer["id"].as_str().unwrap();
        assert_eq!(app.get(&app.customer_path(id)).json()["customFields"], *stored);

        // Every bad value and unknown name named in one 422; nothing changes.
        let bad = json!({"nickname": "Johnny", "visits": 1.5, "score": "high", "vip": "yes",
                         "birthday": "1990-02-30", "seenAt": "yesterday", "loyaltyTier": "platinum",
                         "shoeSize": 42});
        let mut named = app.put_json(&app.customer_path(id), &json!({"customFields": bad})).invalid_fields();
        named.sort();
        let mut expected: Vec<String> = ["nickname", "visits", "score", "vip", "birthday", "seenAt", "loyaltyTier", "shoeSize"]
            .iter().map(|n| format!("customFields.{n}")).collect();
        expected.sort();
        assert_eq!(named, expected);
        for wrong in [json!({"visits": 9_223_372_036_854_775_808u64}), json!({"visits": "7"}), json!({"visits": null})] {
            let response = app.post_json(&app.customers_path(), &json!({"customFields": wrong}));
            assert_eq!(response.invalid_fields(), ["customFields.visits"], "{wrong}");
        }
        assert_eq!(app.post_json(&app.customers_path(), &json!({"customFields": []})).invalid_fields(), ["customFields"]);
        assert_eq!(app.get(&app.customer_path(id)).json(), customer);

        // PUT replaces the object whole; null and {} clear it.
        let replaced = app.put_json(&app.customer_path(id), &json!({"customFields": {"vip": false}}));
        assert_eq!(replaced.status, 200, "{}", replaced.text);
        assert_eq!(replaced.json()["customFields"], json!({"vip": false}));
        for empty in [json!(null), json!({})] {
            let cleared = app.put_json(&app.customer_path(id), &json!({"customFields": empty}));
            assert_eq!(cleared.json()["customFields"], Value::Null, "{empty}");
        }
    }

    fn the_filter_compares_as_the_type(app: &TestApp) {
        define_every_type(app);
        let a = app.create_customer(&json!({"firstName": "A", "externalId": "a", "customFields":
            {"visits": 7, "score": 2.5, "vip": true, "birthday": "1990-02-28",
             "seenAt": "2026-11-22T10:00:00Z", "loyaltyTier": "gold", "nickname": "Jo"}}));
        let b = app.create_customer(&json!({"firstName": "B", "customFields":
            {"visits": 70, "score": 2, "vip": false, "loyaltyTier": "silver", "nickname": "jo"}}));
        app.create_customer(&json!({"firstName": "C"}));
        let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
        for (query, expected) in [
            ("customFields.visits=7", vec![a]),
            ("customFields.visits=007", vec![a]),
            ("customFields.visits=%2B7", vec![a]),
            ("customFields.visits=70", vec![b]),
            ("customFields.score=2.50", vec![a]),
            ("customFields.score=2", vec![b]),
            ("customFields.score=2.0", vec![b]),
            ("customFields.vip=true", vec![a]),
            ("customFields.vip=false", vec![b]),
            ("customFields.birthday=1990-02-28", vec![a]),
            ("customFields.seenAt=2026-11-22T11:00:00%2B01:00", vec![a]),
            ("customFields.loyaltyTier=silver", vec![b]),
            ("customFields.nickname=Jo", vec![a]),
            ("customFields.vip=true&customFields.visits=70", vec![]),
            ("customFields.vip=true&externalId=a", vec![a]),
            ("customFields.vip=true&externalId=b", vec![]),
        ] {
            let page = app.list(&format!("{query}&includeTotal=true"));
            assert_eq!(ids(&page), expected, "{query}");
            assert_eq!(page["total"], expected.len(), "{query}");
        }
        for (query, field) in [
            ("customFields.shoeSize=42", "customFields.shoeSize"),
            ("customFields.visits=seven", "customFields.visits"),
            ("customFields.vip=yes", "customFields.vip"),
            ("customFields.birthday=1990-02-30", "customFields.birthday"),
            ("customFields.loyaltyTier=platinum", "customFields.loyaltyTier"),
            ("customFields.=x", "customFields."),
        ] {
            let response = app.get(&format!("{}?{query}", app.customers_path()));
            assert_eq!(response.invalid_fields(), [field], "{query}");
        }
        // Deleted customers are not found by their values.
        assert_eq!(app.delete(&app.customer_path(b)).status, 204);
        assert_eq!(ids(&app.list("customFields.vip=false")), Vec::<&str>::new());
    }

    fn deleting_a_definition_removes_every_value(app: &TestApp) {
        define_every_type(app);
        let customer = app.create_customer(&json!({"firstName": "A", "customFields": {"visits": 7, "vip": true}}));
        let id = customer["id"].as_str().unwrap();
        assert_eq!(app.delete(&field_path(app, "visits")).status, 204);
        app.get(&field_path(app, "visits")).problem(404);
        assert_eq!(app.get(&app.customer_path(id)).json()["customFields"], json!({"vip": true}));
        assert_eq!(app.get(&format!("{}?customFields.visits=7", app.customers_path())).invalid_fields(),
                   ["customFields.visits"]);
        // A new definition of the same name starts empty.
        define(app, json!({"name": "visits", "type": "integer"}));
        assert_eq!(ids(&app.list("customFields.visits=7")), Vec::<&str>::new());
        assert_eq!(app.get(&app.customer_path(id)).json()["customFields"], json!({"vip": true}));
        assert_eq!(app.delete(&field_path(app, "vip")).status, 204);
        assert_eq!(app.get(&app.customer_path(id)).json()["customFields"], Value::Null);
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM custom_field_values"), 0);
    }

    fn a_payer_token_never_writes_custom_fields(app: &TestApp) {
        define(app, json!({"name": "vip", "type": "boolean"}));
        let customer = app.create_customer(&json!({"firstName": "A"}));
        let id = customer["id"].as_str().unwrap();
        let token = crate::auth::mint_token(app, json!({"scopes": ["customers:read", "customers:write"], "customerId": id}));
        let body = json!({"customFields": {"vip": true}}).to_string();
        let response = app.send_as(Some(&format!("Bearer {token}")), "PUT", &app.customer_path(id),
                                   Some(("application/json", body.as_bytes())));
        assert_eq!(response.problem(403)["forbiddenFields"], json!(["customFields"]), "{}", response.text);
        let minted = crate::auth::mint(app, &format!("ApiKey {}", app.api_key),
                                       json!({"scopes": ["customers:write"], "customerId": id, "fields": ["customFields"]}));
        assert_eq!(minted.invalid_fields(), ["fields"]);
    }
}

fn customers_path(app: &TestApp) -> String {
    app.customers_path()
}

/// A definition made on one instance is used at once there, and on another
/// instance over the same database within the auth cache's lifetime (1 s
/// here), never later.
mod definitions_cache {
    use super::*;

    fn run(backend: Backend) {
        let Some(one) = TestApp::spawn_with(backend, |s| s.auth_cache_seconds = 1) else {
            return;
        };
        let two = TestApp::spawn_at_with(&one.database_url, |s| s.auth_cache_seconds = 1);
        let auth = format!("ApiKey {}", one.api_key);
        let create_on = |app: &TestApp, fields: Value| {
            let body = json!({"customFields": fields}).to_string();
            app.send_as(
                Some(&auth),
                "POST",
                &one.customers_path(),
                Some(("application/json", body.as_bytes())),
            )
        };
        // The other instance has read (and cached) the definitions: none.
        assert_eq!(
            create_on(&two, json!({"tier": "gold"})).invalid_fields(),
            ["customFields.tier"]
        );

        define(&one, json!({"name": "tier", "type": "string"}));
        assert_eq!(create_on(&one, json!({"tier": "gold"})).status, 201);
        let defined = Instant::now();
        loop {
            // Staleness counts to when the request was sent: a slow answer
            // (Citus on two busy cores) does not make the cache stale.
            let sent = defined.elapsed();
            let response = create_on(&two, json!({"tier": "gold"}));
            if response.status == 201 {
                break;
            }
            assert_eq!(response.invalid_fields(), ["customFields.tier"]);
            assert!(
                sent < Duration::from_millis(1500),
                "stale for a request sent {sent:?} after the change"
            );
            std::thread::sleep(Duration::from_millis(50));
        }

        // A type change by delete and redefine, seen the same way.
        assert_eq!(one.delete(&field_path(&one, "tier")).status, 204);
        define(&one, json!({"name": "tier", "type": "integer"}));
        assert_eq!(
            create_on(&one, json!({"tier": "gold"})).invalid_fields(),
            ["customFields.tier"]
        );
        let redefined = Instant::now();
        loop {
            // Staleness counts to when the request was sent: a slow answer
            // (Citus on two busy cores) does not make the cache stale.
            let sent = redefined.elapsed();
            let response = create_on(&two, json!({"tier": "gold"}));
            if response.status == 422 {
                break;
            }
            assert_eq!(response.status, 201, "{}", response.text);
            assert!(
                sent < Duration::from_millis(1500),
                "stale for a request sent {sent:?} after the change"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    crate::helpers::run_on_both_backends!();
}
