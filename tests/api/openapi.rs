//! The OpenAPI document is snapshot-tested: any change to the API shows in
//! review as a change to `tests/openapi.json`. Refresh it with
//! `UPDATE_OPENAPI_SNAPSHOT=1 cargo test openapi`.

use serde_json::Value;

use crate::helpers::{Backend, TestApp, on_both_backends};

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openapi.json");

#[test]
fn the_document_matches_its_snapshot() {
    let document = clientele::api::docs::document();
    if std::env::var("UPDATE_OPENAPI_SNAPSHOT").as_deref() == Ok("1") {
        std::fs::write(SNAPSHOT, format!("{document}\n")).unwrap();
    }
    let snapshot = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        snapshot.trim_end() == document,
        "the OpenAPI document changed; review it and run UPDATE_OPENAPI_SNAPSHOT=1 cargo test openapi"
    );
}

#[test]
fn the_document_describes_every_route_and_both_security_schemes() {
    let document: Value = serde_json::from_str(clientele::api::docs::document()).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["ApiKey"]["type"], "apiKey");
    assert_eq!(schemes["ApiKey"]["in"], "header");
    assert_eq!(schemes["ApiKey"]["name"], "Authorization");
    assert_eq!(schemes["Bearer"]["scheme"], "bearer");
    let paths = document["paths"].as_object().unwrap();
    let base = "/v1/public-api/organizations/{organizationId}";
    for (path, methods) in [
        (format!("{base}/customers"), &["get", "post"][..]),
        (
            format!("{base}/customers/{{customerId}}"),
            &["get", "put", "delete"][..],
        ),
        (format!("{base}/tokens"), &["post"][..]),
        ("/health".into(), &["get"][..]),
        ("/ready".into(), &["get"][..]),
        ("/metrics".into(), &["get"][..]),
        ("/openapi.json".into(), &["get"][..]),
    ] {
        for method in methods {
            let operation = &paths[&path][*method];
            assert!(operation.is_object(), "{method} {path} is missing");
            if path.starts_with("/v1") {
                assert!(operation["security"].is_array(), "{method} {path}");
                let problem = &operation["responses"]["401"]["content"]["application/problem+json"];
                assert!(problem.is_object(), "{method} {path} has no 401 problem");
                // Every organization route reads a body, a query or a
                // header that may be invalid.
                assert!(
                    operation["responses"]["422"].is_object(),
                    "{method} {path}: 422 undocumented"
                );
                let parameters = operation["parameters"].as_array().unwrap();
                let mut names: Vec<&str> = parameters
                    .iter()
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                names.sort();
                names.dedup();
                assert_eq!(
                    names.len(),
                    parameters.len(),
                    "{method} {path} repeats a parameter"
                );
            }
        }
    }
    let list = &paths[&format!("{base}/customers")]["get"]["parameters"];
    let limit = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(
        (
            limit["schema"]["minimum"].as_i64(),
            limit["schema"]["maximum"].as_i64()
        ),
        (Some(1), Some(100))
    );
}

on_both_backends! {
    fn the_document_and_swagger_ui_are_served(app: &TestApp) {
        let served = app.get("/openapi.json");
        assert_eq!(served.status, 200);
        assert_eq!(served.content_type(), "application/json");
        assert_eq!(served.text, clientele::api::docs::document());
        let ui = app.get("/docs/");
        assert_eq!(ui.status, 200);
        assert!(ui.content_type().starts_with("text/html") && ui.text.contains("swagger"), "{}", ui.content_type());
        let initializer = app.get("/docs/swagger-initializer.js");
        assert_eq!(initializer.status, 200);
        assert!(initializer.text.contains("/openapi.json"));
        let redirect = app.send("GET", "/docs", None);
        assert_eq!(redirect.status, 200, "the redirect to /docs/ is followed");
        assert!(redirect.text.contains("swagger"));
    }
}
