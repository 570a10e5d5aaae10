//! The console's pages over HTTP (contract section 14), as a browser with
//! its cookies sends them: each role reaches its pages and the server
//! refuses the rest whatever the buttons show; stored markup is text; a
//! form sent twice changes things once; an edit at an old revision, an
//! erase without its typed id and a form without the session's
//! anti-forgery token are refused and change nothing. The flows in a real
//! browser are in tests/browser.

use clientele::domain::people::Role;
use serde_json::json;

use crate::helpers::{Backend, TestApp, on_both_backends};
use crate::people::{Person, hidden, member};

const CSP: &str = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// An operator looking at the test's organization.
fn operator(app: &TestApp) -> Person {
    let operator = member(app, "c.operator@example.com", None);
    let csrf = operator.csrf();
    let path = format!("/console/organizations/{}/view", app.organization_id);
    assert_eq!(operator.post_form(&path, &[("csrf", &csrf)]).status, 303);
    operator
}

on_both_backends! {
    fn each_role_reaches_its_pages_and_is_refused_the_rest(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Paged"}));
        let id = customer["id"].as_str().unwrap();
        let people = [
            ("owner", member(app, "c.owner@example.com", Some(Role::Owner))),
            ("developer", member(app, "c.dev@example.com", Some(Role::Developer))),
            ("support", member(app, "c.support@example.com", Some(Role::Support))),
            ("analyst", member(app, "c.analyst@example.com", Some(Role::Analyst))),
            ("operator", operator(app)),
        ];
        let pages: Vec<(String, &[&str])> = vec![
            ("/console/customers".into(), &["owner", "developer", "support", "analyst", "operator"]),
            (format!("/console/customers/{id}"), &["owner", "developer", "support", "analyst", "operator"]),
            ("/console/customers/new".into(), &["owner", "support"]),
            (format!("/console/customers/{id}/edit"), &["owner", "support"]),
            ("/console/reports".into(), &["owner", "analyst", "operator"]),
            ("/console/developers/webhooks".into(), &["owner", "developer", "operator"]),
            ("/console/developers/keys".into(), &["owner", "developer", "operator"]),
            ("/console/developers/custom-fields".into(), &["owner", "developer", "support", "analyst", "operator"]),
            ("/console/developers/events".into(), &["owner", "developer", "operator"]),
            ("/console/members".into(), &["owner"]),
        ];
        for (path, allowed) in &pages {
            for (role, person) in &people {
                let page = person.get(path);
                let expected = if allowed.contains(role) { 200 } else { 403 };
                assert_eq!(page.status, expected, "{role} GET {path}: {}", page.text);
                assert_eq!(page.header("content-security-policy"), Some(CSP), "{path}");
                assert_eq!(page.header("referrer-policy"), Some("same-origin"));
                assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
            }
        }
        // Forms sent by hand: the server decides, not the buttons.
        for (role, person) in &people {
            let csrf = person.csrf();
            let created = person.post_form("/console/customers", &[("csrf", &csrf), ("firstName", "ByHand")]);
            let may = ["owner", "support"].contains(role);
            assert_eq!(created.status, if may { 303 } else { 403 }, "{role}: {}", created.text);
            let key = person.post_form("/console/developers/keys", &[("csrf", &csrf), ("scopes", "customers:read")]);
            let may = ["owner", "developer"].contains(role);
            assert_eq!(key.status, if may { 201 } else { 403 }, "{role}: {}", key.text);
            let erase = person.post_form(&format!("/console/customers/{id}/erase"), &[("csrf", &csrf), ("confirm", "cus_nope")]);
            assert_eq!(erase.status, if *role == "owner" { 422 } else { 403 }, "{role}: {}", erase.text);
        }
        let listed = app.get(&format!("{}?q=byhand", app.customers_path()));
        assert_eq!(listed.json()["data"].as_array().unwrap().len(), 2, "the owner's and support's");
        let viewed = app.get(&format!("/v1/public-api/organizations/{}/audit-events?action=organization.viewed", app.organization_id));
        assert!(!viewed.json()["data"].as_array().unwrap().is_empty(), "{}", viewed.text);
    }

    fn stored_markup_is_shown_as_text(app: &TestApp) {
        let hostile = app.create_customer(&json!({
            "firstName": "<img src=x onerror=alert(1)>",
            "metadata": {"note": "<script>alert(2)</script>"},
            "shippingAddresses": [{"label": "\"><svg onload=alert(3)>", "country": "DE"}],
        }));
        let owner = member(app, "c.owner@example.com", Some(Role::Owner));
        for path in [format!("/console/customers/{}", hostile["id"].as_str().unwrap()), "/console/customers".into()] {
            let page = owner.get(&path);
            assert_eq!(page.status, 200);
            assert!(page.text.contains("&#60;img src=x onerror=alert(1)&#62;"), "{}", page.text);
            for raw in ["<img src=x", "<script>alert", "<svg onload"] {
                assert!(!page.text.contains(raw), "{path} holds {raw}");
            }
        }
    }

    fn a_form_sent_twice_creates_once(app: &TestApp) {
        let owner = member(app, "c.owner@example.com", Some(Role::Owner));
        let csrf = owner.csrf();
        let form = [("csrf", csrf.as_str()), ("idempotency", "form-1"), ("firstName", "Twice"), ("email", "twice@example.com")];
        let first = owner.post_form("/console/customers", &form);
        let second = owner.post_form("/console/customers", &form);
        assert_eq!((first.status, second.status), (303, 303));
        assert_eq!(first.header("location"), second.header("location"));
        let listed = app.get(&format!("{}?email=twice@example.com", app.customers_path()));
        assert_eq!(listed.json()["data"].as_array().unwrap().len(), 1);
    }

    fn refused_fields_are_named_next_to_their_inputs_and_change_nothing(app: &TestApp) {
        let owner = member(app, "c.owner@example.com", Some(Role::Owner));
        let csrf = owner.csrf();
        let page = owner.post_form("/console/customers", &[("csrf", &csrf), ("firstName", "Ada"), ("email", "nope"), ("address.country", "XX"), ("metadata", "{")]);
        assert_eq!(page.status, 422, "{}", page.text);
        for id in ["f-email-error", "f-address-country-error", "f-metadata-error"] {
            assert!(page.text.contains(&format!("id=\"{id}\"")), "no {id} in {}", page.text);
        }
        assert!(page.text.contains("value=\"Ada\""), "what was typed is kept");
        assert_eq!(app.get(&app.customers_path()).json()["data"].as_array().unwrap().len(), 0);
    }

    fn an_edit_at_an_old_revision_is_refused(app: &TestApp) {
        let owner = member(app, "c.owner@example.com", Some(Role::Owner));
        let customer = app.create_customer(&json!({"firstName": "Old"}));
        let id = customer["id"].as_str().unwrap();
        let form = owner.get(&format!("/console/customers/{id}/edit"));
        let revision = hidden(&form.text, "revision");
        assert_eq!(revision, "1");
        assert_eq!(app.put_json(&app.customer_path(id), &json!({"firstName": "Meanwhile"})).status, 200);
        let csrf = hidden(&form.text, "csrf");
        let sent = owner.post_form(&format!("/console/customers/{id}"), &[("csrf", &csrf), ("revision", &revision), ("firstName", "Mine")]);
        assert_eq!(sent.status, 412, "{}", sent.text);
        assert!(sent.text.contains("Someone changed this customer"));
        assert_eq!(app.get(&app.customer_path(id)).json()["firstName"], "Meanwhile");
    }

    fn erase_runs_only_with_the_typed_id(app: &TestApp) {
        let owner = member(app, "c.owner@example.com", Some(Role::Owner));
        let customer = app.create_customer(&json!({"firstName": "Erasable", "email": "erase@example.com"}));
        let id = customer["id"].as_str().unwrap();
        let csrf = owner.csrf();
        let path = format!("/console/customers/{id}/erase");
        assert_eq!(owner.post_form(&path, &[("csrf", &csrf), ("confirm", "")]).status, 422);
        assert_eq!(app.get(&app.customer_path(id)).json()["email"], "erase@example.com");
        assert_eq!(owner.post_form(&path, &[("csrf", &csrf), ("confirm", id)]).status, 303);
        let page = owner.get(&format!("/console/customers/{id}"));
        assert!(page.text.contains("personal data was erased"), "{}", page.text);
        assert!(!page.text.contains("erase@example.com"));
    }

    fn forms_without_the_session_token_are_refused(app: &TestApp) {
        let owner = member(app, "c.owner@example.com", Some(Role::Owner));
        let customer = app.create_customer(&json!({"firstName": "Kept"}));
        let id = customer["id"].as_str().unwrap();
        for path in [
            "/console/customers".to_owned(),
            format!("/console/customers/{id}/delete"),
            "/console/customers/bulk".into(),
            "/console/mode".into(),
            "/console/developers/keys".into(),
        ] {
            let sent = owner.post_form(&path, &[("csrf", "forged"), ("ids", id), ("action", "delete")]);
            assert_eq!(sent.status, 403, "{path}: {}", sent.text);
        }
        assert_eq!(app.get(&app.customer_path(id)).status, 200);
    }

    fn bulk_delete_and_export_take_the_selected_rows(app: &TestApp) {
        let owner = member(app, "c.owner@example.com", Some(Role::Owner));
        let ids: Vec<String> = (0..3)
            .map(|i| app.create_customer(&json!({"firstName": format!("Bulk{i}")}))["id"].as_str().unwrap().to_owned())
            .collect();
        let csrf = owner.csrf();
        let export = owner.post_form("/console/customers/bulk", &[("csrf", &csrf), ("action", "export"), ("ids", &ids[0]), ("ids", &ids[2])]);
        assert_eq!(export.status, 200, "{}", export.text);
        assert_eq!(export.text.lines().count(), 3, "a header and two rows: {}", export.text);
        assert!(export.text.contains("Bulk0") && export.text.contains("Bulk2") && !export.text.contains("Bulk1"));
        let deleted = owner.post_form("/console/customers/bulk", &[("csrf", &csrf), ("action", "delete"), ("ids", &ids[0]), ("ids", &ids[1]), ("back", "/console/customers")]);
        assert_eq!(deleted.status, 303);
        assert_eq!(deleted.header("location"), Some("/console/customers?done=deleted-2"));
        let left = app.get(&app.customers_path()).json();
        assert_eq!(left["data"].as_array().unwrap().len(), 1);
        let exported = app.get(&format!("/v1/public-api/organizations/{}/audit-events?action=customers.exported", app.organization_id));
        assert_eq!(exported.json()["data"].as_array().unwrap().len(), 1);
    }

    fn the_test_mode_switch_shows_test_data_only(app: &TestApp) {
        let owner = member(app, "c.owner@example.com", Some(Role::Owner));
        app.create_customer(&json!({"firstName": "Livecustomer"}));
        let test_key = app.create_key_in_mode(&[clientele::domain::scopes::Scope::CustomersWrite], false);
        let created = app.send_as(Some(&format!("ApiKey {test_key}")), "POST", &app.customers_path(), Some(("application/json", br#"{"firstName": "Testcustomer"}"#)));
        assert_eq!(created.status, 201, "{}", created.text);
        let live = owner.get("/console/customers");
        assert!(live.text.contains("Livecustomer") && !live.text.contains("Testcustomer"));
        assert!(!live.text.contains("Test mode:"));
        let csrf = owner.csrf();
        let switched = owner.post_form("/console/mode", &[("csrf", &csrf), ("back", "/console/customers")]);
        assert_eq!(switched.header("location"), Some("/console/customers"));
        let test = owner.get("/console/customers");
        assert!(test.text.contains("Testcustomer") && !test.text.contains("Livecustomer"), "{}", test.text);
        assert!(test.text.contains("Test mode:"));
        // Elsewhere than the console is never a place to return to.
        let away = owner.post_form("/console/mode", &[("csrf", &csrf), ("back", "//evil.example/")]);
        assert_eq!(away.header("location"), Some("/console"));
    }
}
