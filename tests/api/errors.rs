//! Malformed requests: every error is problem+json and nothing answers 500.

use serde_json::json;

use crate::helpers::{Backend, TestApp, on_both_backends};

on_both_backends! {
    fn malformed_bodies_are_400(app: &TestApp) {
        let path = app.customers_path();
        for body in [&b"{\"firstName\": "[..], b"not json", b"", b"{\"a\":1}}", b"\"\\ud800\""] {
            let response = app.send("POST", &path, Some(("application/json", body)));
            assert_eq!(response.problem(400)["type"], "/problems/malformed-request", "{body:?}");
        }
        for body in ["[]", "\"Jane\"", "42", "null"] {
            app.send("POST", &path, Some(("application/json", body.as_bytes()))).problem(400);
        }
        let deep = format!("{{\"metadata\": {}{}}}", "[".repeat(200), "]".repeat(200));
        app.send("POST", &path, Some(("application/json", deep.as_bytes()))).problem(400);
        assert_eq!(app.list("includeTotal=true")["total"], 0);
    }

    fn bodies_that_are_not_json_are_415(app: &TestApp) {
        let path = app.customers_path();
        app.send("POST", &path, Some(("text/plain", b"{}"))).problem(415);
        app.send("POST", &path, Some(("application/x-www-form-urlencoded", b"firstName=Jane"))).problem(415);
        app.send("POST", &path, None).problem(415);
        let created = app.create_customer(&json!({}));
        app.send("PUT", &app.customer_path(created["id"].as_str().unwrap()), Some(("text/plain", b"{}"))).problem(415);
        let ok = app.send("POST", &path, Some(("application/json; charset=utf-8", b"{}")));
        assert_eq!(ok.status, 201);
    }

    fn bodies_over_64_kib_are_413(app: &TestApp) {
        let filler = "x".repeat(64 * 1024);
        let body = format!("{{\"firstName\": \"{filler}\"}}");
        app.send("POST", &app.customers_path(), Some(("application/json", body.as_bytes()))).problem(413);
        assert_eq!(app.list("includeTotal=true")["total"], 0);
        // Just under the limit, the body is read and judged on its fields.
        let body = format!("{{\"metadata\": {{\"k\": \"{}\"}}}}", "x".repeat(60 * 1024));
        let response = app.send("POST", &app.customers_path(), Some(("application/json", body.as_bytes())));
        assert_eq!(response.invalid_fields(), ["metadata.k"]);
    }

    fn unknown_routes_are_404_and_wrong_methods_405(app: &TestApp) {
        for path in ["/", "/nope", "/v1/public-api/organizations", "/v1/public-api/organizations/x/customers/y/z"] {
            assert_eq!(app.get(path).problem(404)["type"], "/problems/not-found", "{path}");
        }
        let response = app.send("PATCH", &app.customers_path(), Some(("application/json", b"{}")));
        assert_eq!(response.problem(405)["type"], "/problems/method-not-allowed");
        assert_eq!(response.header("allow"), Some("GET, POST"));
        let item = app.customer_path("cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e");
        let response = app.send("POST", &item, Some(("application/json", b"{}")));
        response.problem(405);
        assert_eq!(response.header("allow"), Some("GET, PUT, DELETE"));
        assert_eq!(app.send("DELETE", "/health", None).problem(405).get("invalidFields"), None);
    }

    fn malformed_and_unknown_ids_are_404(app: &TestApp) {
        let created = app.create_customer(&json!({}));
        let id = created["id"].as_str().unwrap();
        for bad in [id.to_uppercase(), id.replace("cus_", "org_"), format!("{id}0"), "cus_".into(), "%00".into(), "cus_0193a3c2-e4f8-7b6a-9d5e-1f0c2b3a4d5e".into()] {
            app.get(&app.customer_path(&bad)).problem(404);
        }
        // Another organization's path is 403 whether it exists or not.
        let unknown_org = "/v1/public-api/organizations/org_0193a3c2d1007c2e8a1b2c3d4e5f6a7b/customers";
        app.get(unknown_org).problem(403);
        app.get("/v1/public-api/organizations/not-an-org/customers").problem(403);
    }

    fn hostile_text_never_causes_a_server_error(app: &TestApp) {
        let nul = app.post_json(&app.customers_path(), &json!({"firstName": "a\u{0}b", "metadata": {"a\u{0}": "b"}}));
        assert_eq!(nul.invalid_fields().len(), 2);
        for q in ["%00", "a%00b", "%27%3B%20DROP%20TABLE%20customers%3B--", "%FF%FE", "%E2%80%AE"] {
            let response = app.get(&format!("{}?q={q}", app.customers_path()));
            assert!(response.status == 200 || response.status == 422, "q={q}: {}", response.text);
        }
        let response = app.get(&format!("{}?email=%00", app.customers_path()));
        assert_eq!(response.invalid_fields(), ["email"]);
        let sneaky = app.create_customer(&json!({"lastName": "O'Brien; DROP TABLE customers;--"}));
        assert_eq!(sneaky["lastName"], "O'Brien; DROP TABLE customers;--");
        assert_eq!(app.list("includeTotal=true")["total"], 1);
    }
}
