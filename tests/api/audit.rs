//! The audit log (contract section 13): exactly one audit event per action,
//! whoever acts (an API key, a token, a member, an operator, the command
//! line), with its actor, target and request id; no personal value in any
//! of them; the list's filters and pages.

use clientele::domain::people::Role;
use clientele::domain::scopes::Scope;
use serde_json::{Value, json};

use crate::helpers::{Backend, Response, TestApp, on_both_backends};
use crate::people::{PASSWORD, Person, hidden, member};

/// The key id inside an API key (`ck_key_<32 hex>_…`).
fn key_id(api_key: &str) -> String {
    let start = api_key.find("key_").unwrap();
    api_key[start..start + 36].to_owned()
}

fn audit_log(app: &TestApp, query: &str) -> Vec<Value> {
    let path = format!(
        "/v1/public-api/organizations/{}/audit-events?{query}",
        app.organization_id
    );
    let page = app.get(&path);
    assert_eq!(page.status, 200, "{}", page.text);
    page.json()["data"].as_array().unwrap().clone()
}

/// Every audit event of the test's organization, newest first.
fn everything(app: &TestApp) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = String::new();
    loop {
        let page = audit_log(app, &format!("limit=100{after}"));
        let done = page.len() < 100;
        if let Some(last) = page.last() {
            after = format!("&startingAfter={}", last["id"].as_str().unwrap());
        }
        all.extend(page);
        if done {
            return all;
        }
    }
}

/// Sends with an API key and a request id of the test's choosing.
fn keyed(
    app: &TestApp,
    method: &str,
    path: &str,
    body: Option<Value>,
    request_id: &str,
) -> Response {
    let auth = format!("ApiKey {}", app.api_key);
    let text = body.map(|b| b.to_string());
    let answer = app.request(
        method,
        path,
        &[("authorization", &auth), ("x-request-id", request_id)],
        text.as_ref().map(|t| ("application/json", t.as_bytes())),
    );
    assert!(answer.status < 300, "{method} {path}: {}", answer.text);
    answer
}

fn cli(app: &TestApp, args: &[&str]) -> Value {
    let output = crate::process::clientele(
        args,
        &[("CLIENTELE_DATABASE_URL", &app.database_url)],
        &std::env::temp_dir(),
    );
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// An action's audit event as a test expects it: the request id, the
/// action, the actor's type and id, the target's type and id.
type Expected = (
    String,
    &'static str,
    &'static str,
    String,
    &'static str,
    Option<String>,
);

on_both_backends! {
    fn every_action_writes_exactly_one_audit_event_with_its_actor_target_and_request_id(app: &TestApp) {
        let base = format!("/v1/public-api/organizations/{}", app.organization_id);
        let key = key_id(&app.api_key);
        // (request id, action, actor type, actor id, target type, target id)
        let mut expected: Vec<Expected> = Vec::new();
        let mut expect = |id: &str, action: &'static str, actor: &'static str, actor_id: &str, target: &'static str, target_id: Option<String>| {
            expected.push((id.to_owned(), action, actor, actor_id.to_owned(), target, target_id));
        };

        // Through the API, with a key.
        let customer = keyed(app, "POST", &format!("{base}/customers"), Some(json!({"firstName": "Audited"})), "req-create").json();
        let id = customer["id"].as_str().unwrap().to_owned();
        expect("req-create", "customer.created", "apiKey", &key, "customer", Some(id.clone()));
        keyed(app, "PUT", &format!("{base}/customers/{id}"), Some(json!({"lastName": "Person", "email": "a@b.co"})), "req-update");
        expect("req-update", "customer.updated", "apiKey", &key, "customer", Some(id.clone()));
        keyed(app, "DELETE", &format!("{base}/customers/{id}"), None, "req-delete");
        expect("req-delete", "customer.deleted", "apiKey", &key, "customer", Some(id.clone()));
        keyed(app, "POST", &format!("{base}/customers/{id}/restore"), None, "req-restore");
        expect("req-restore", "customer.restored", "apiKey", &key, "customer", Some(id.clone()));
        keyed(app, "GET", &format!("{base}/customers/export?format=csv"), None, "req-export");
        expect("req-export", "customers.exported", "apiKey", &key, "customers", None);
        keyed(app, "GET", &format!("{base}/customers?includeDeleted=true"), None, "req-deleted-list");
        expect("req-deleted-list", "customers.listed_with_deleted", "apiKey", &key, "customers", None);
        keyed(app, "POST", &format!("{base}/customers/{id}/erase"), None, "req-erase");
        expect("req-erase", "customer.erased", "apiKey", &key, "customer", Some(id.clone()));
        keyed(app, "POST", &format!("{base}/tokens"), Some(json!({"scopes": ["customers:read"]})), "req-token");
        expect("req-token", "token.created", "apiKey", &key, "token", None);
        let endpoint = keyed(app, "POST", &format!("{base}/webhook-endpoints"), Some(json!({"url": "https://example.com/h", "events": ["*"]})), "req-endpoint").json();
        let endpoint = endpoint["id"].as_str().unwrap().to_owned();
        expect("req-endpoint", "webhook_endpoint.created", "apiKey", &key, "webhookEndpoint", Some(endpoint.clone()));
        keyed(app, "PUT", &format!("{base}/webhook-endpoints/{endpoint}"), Some(json!({"enabled": false})), "req-endpoint-put");
        expect("req-endpoint-put", "webhook_endpoint.updated", "apiKey", &key, "webhookEndpoint", Some(endpoint.clone()));
        keyed(app, "DELETE", &format!("{base}/webhook-endpoints/{endpoint}"), None, "req-endpoint-delete");
        expect("req-endpoint-delete", "webhook_endpoint.deleted", "apiKey", &key, "webhookEndpoint", Some(endpoint));
        keyed(app, "POST", &format!("{base}/custom-fields"), Some(json!({"name": "tier", "type": "string"})), "req-field");
        expect("req-field", "custom_field.created", "apiKey", &key, "customField", Some("tier".into()));
        keyed(app, "PUT", &format!("{base}/custom-fields/tier"), Some(json!({"description": "Tier"})), "req-field-put");
        expect("req-field-put", "custom_field.updated", "apiKey", &key, "customField", Some("tier".into()));
        keyed(app, "DELETE", &format!("{base}/custom-fields/tier"), None, "req-field-delete");
        expect("req-field-delete", "custom_field.deleted", "apiKey", &key, "customField", Some("tier".into()));

        // Through the console, as a member.
        let owner = member(app, "auditor@example.com", Some(Role::Owner));
        let account = owner.get("/console/account");
        let owner_id = account.text.split("usr_").nth(1).map(|rest| format!("usr_{}", &rest[..32]));
        let members = owner.get("/console/members").text;
        let owner_id = owner_id.unwrap_or_else(|| {
            let at = members.find("/console/members/usr_").unwrap() + "/console/members/".len();
            members[at..at + 36].to_owned()
        });
        let csrf = owner.csrf();
        let made = owner.send("POST", &format!("/console/api{base}/customers"), &[("x-csrf-token", &csrf), ("x-request-id", "req-console-create")],
            Some(("application/json", json!({"firstName": "By hand"}).to_string())));
        assert_eq!(made.status, 201);
        let by_hand = made.json()["id"].as_str().unwrap().to_owned();
        expect("req-console-create", "customer.created", "member", &owner_id, "customer", Some(by_hand));
        let body = |pairs: &[(&str, &str)]| url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let form = "application/x-www-form-urlencoded";
        let answer = owner.send("POST", "/console/settings/two-step", &[("x-request-id", "req-settings")], Some((form, body(&[("csrf", &csrf)]))));
        assert_eq!(answer.status, 303);
        expect("req-settings", "settings.updated", "member", &owner_id, "organization", Some(app.organization_id.clone()));
        let invited = owner.send("POST", "/console/members", &[("x-request-id", "req-invite")], Some((form, body(&[("csrf", &csrf), ("email", "new@example.com"), ("role", "support")]))));
        assert_eq!(invited.status, 200, "{}", invited.text);
        let new_member = cli(app, &["user", "list", "--organization", &app.organization_id])["users"]
            .as_array().unwrap().iter().find(|u| u["email"] == "new@example.com").unwrap()["userId"].as_str().unwrap().to_owned();
        expect("req-invite", "member.invited", "member", &owner_id, "member", Some(new_member.clone()));
        let link = invited.text.split("/console/invite/").nth(1).unwrap().split('<').next().unwrap().to_owned();
        let newcomer = Person::new(app, "new@example.com");
        let joined = newcomer.send("POST", &format!("/console/invite/{link}"), &[("x-request-id", "req-join")], Some((form, body(&[("password", PASSWORD)]))));
        assert_eq!(joined.status, 303);
        expect("req-join", "member.joined", "member", &new_member, "member", Some(new_member.clone()));
        // Joining signs the person in: a second action of the same request.
        expect("req-join", "sign_in.succeeded", "member", &new_member, "member", Some(new_member.clone()));
        let role = owner.send("POST", &format!("/console/members/{new_member}/role"), &[("x-request-id", "req-role")], Some((form, body(&[("csrf", &csrf), ("role", "analyst")]))));
        assert_eq!(role.status, 303);
        expect("req-role", "member.role_changed", "member", &owner_id, "member", Some(new_member.clone()));
        let wrong = Person::new(app, "new@example.com").send("POST", "/console/sign-in", &[("x-request-id", "req-wrong")], Some((form, body(&[("email", "new@example.com"), ("password", "not it at all")]))));
        assert_eq!(wrong.status, 401);
        expect("req-wrong", "sign_in.failed", "member", &new_member, "member", Some(new_member.clone()));
        let right = Person::new(app, "new@example.com").send("POST", "/console/sign-in", &[("x-request-id", "req-right")], Some((form, body(&[("email", "new@example.com"), ("password", PASSWORD)]))));
        assert_eq!(right.status, 303);
        expect("req-right", "sign_in.succeeded", "member", &new_member, "member", Some(new_member.clone()));
        let setup = newcomer.get("/console/two-step");
        let (secret, proof, their_csrf) = (hidden(&setup.text, "secret"), hidden(&setup.text, "proof"), newcomer.csrf());
        let code = clientele::auth::people::current_code(&secret).unwrap();
        let enrolled = newcomer.send("POST", "/console/two-step", &[("x-request-id", "req-enroll")], Some((form, body(&[("csrf", &their_csrf), ("secret", &secret), ("proof", &proof), ("code", &code)]))));
        assert_eq!(enrolled.status, 200);
        expect("req-enroll", "two_step.enrolled", "member", &new_member, "member", Some(new_member.clone()));
        let codes = enrolled.text.split("<ul class=\"codes\">").nth(1).unwrap();
        let recovery = codes.split("<li>").nth(1).unwrap().split('<').next().unwrap().to_owned();
        let removed = newcomer.send("POST", "/console/two-step/remove", &[("x-request-id", "req-unenroll")], Some((form, body(&[("csrf", &their_csrf), ("code", &recovery)]))));
        assert_eq!(removed.status, 303);
        expect("req-unenroll", "two_step.removed", "member", &new_member, "member", Some(new_member.clone()));
        let changed = newcomer.send("POST", "/console/password", &[("x-request-id", "req-password")], Some((form, body(&[("csrf", &their_csrf), ("current", PASSWORD), ("password", "a brand new long passphrase")]))));
        assert_eq!(changed.status, 303);
        expect("req-password", "password.changed", "member", &new_member, "member", Some(new_member.clone()));
        let disabled = owner.send("POST", &format!("/console/members/{new_member}/disable"), &[("x-request-id", "req-disable")], Some((form, body(&[("csrf", &csrf)]))));
        assert_eq!(disabled.status, 303);
        expect("req-disable", "member.disabled", "member", &owner_id, "member", Some(new_member.clone()));

        // An operator's read of the organization, through the console.
        let operator = member(app, "operator@example.com", None);
        let operator_id = cli(app, &["user", "list", "--platform"])["users"][0]["userId"].as_str().unwrap().to_owned();
        let read = operator.send("GET", &format!("/console/api{base}/customers"), &[("x-request-id", "req-operator")], None);
        assert_eq!(read.status, 200);
        expect("req-operator", "organization.viewed", "operator", &operator_id, "organization", Some(app.organization_id.clone()));

        let log = everything(app);
        for (request_id, action, actor, actor_id, target, target_id) in &expected {
            let found: Vec<&Value> = log
                .iter()
                .filter(|event| event["requestId"] == *request_id.as_str() && event["action"] == *action)
                .collect();
            assert_eq!(found.len(), 1, "{request_id}: {found:?}");
            let event = found[0];
            assert_eq!(event["action"], *action, "{request_id}");
            assert_eq!(event["actor"]["type"], *actor, "{request_id}");
            assert_eq!(event["actor"]["id"], *actor_id.as_str(), "{request_id}");
            assert_eq!(event["target"]["type"], *target, "{request_id}");
            assert_eq!(event["target"]["id"], json!(target_id), "{request_id}");
            assert_eq!(event["ip"], "127.0.0.1");
            assert!(event["id"].as_str().unwrap().starts_with("aud_"));
        }
        assert_eq!(log.iter().find(|e| e["requestId"] == "req-update").unwrap()["fields"], json!(["email", "lastName"]));

        // Through the command line: no request, actor `cli`.
        let made = cli(app, &["key", "create", "--organization", &app.organization_id, "--scopes", "customers:read"]);
        let new_key = made["keyId"].as_str().unwrap().to_owned();
        cli(app, &["key", "roll", &new_key, "--grace", "1h"]);
        cli(app, &["key", "revoke", &new_key]);
        let log = everything(app);
        for action in ["key.created", "key.rolled", "key.revoked"] {
            let found: Vec<&Value> = log.iter().filter(|e| e["action"] == action && e["target"]["id"] == new_key.as_str()).collect();
            assert_eq!(found.len(), 1, "{action}");
            assert_eq!(found[0]["actor"], json!({"type": "cli", "id": null}));
            assert_eq!(found[0]["requestId"], Value::Null);
        }
        // The requests driven here recorded what they did, and nothing more.
        let driven = log
            .iter()
            .filter(|e| e["requestId"].as_str().is_some_and(|id| id.starts_with("req-")))
            .count();
        assert_eq!(driven, expected.len(), "{log:#?}");
    }

    fn no_audit_event_holds_a_personal_value(app: &TestApp) {
        let base = format!("/v1/public-api/organizations/{}", app.organization_id);
        assert_eq!(app.post_json(&format!("{base}/custom-fields"), &json!({"name": "nickname", "type": "string"})).status, 201);
        let values = ["Zebulon", "Quixotic", "zebulon.q@example.org", "+4915112345678", "PRIVATE-STREET 9", "Quietville", "ZZ-REGION", "99999",
            "crm-secret-77", "meta-secret-value", "custom-secret-value", "ship-label-secret"];
        let customer = app.create_customer(&json!({
            "firstName": values[0], "lastName": values[1], "email": values[2], "phoneNumber": values[3],
            "address": {"address1": values[4], "city": values[5], "region": values[6], "zip": values[7], "country": "DE"},
            "externalId": values[8], "metadata": {"note": values[9]}, "customFields": {"nickname": values[10]},
            "shippingAddresses": [{"label": values[11], "city": values[5]}],
        }));
        let id = customer["id"].as_str().unwrap();
        assert_eq!(app.put_json(&app.customer_path(id), &json!({"firstName": "Zebulonius", "email": "other.secret@example.org"})).status, 200);
        assert_eq!(app.get(&format!("{base}/customers/export")).status, 200);
        assert_eq!(app.get(&format!("{base}/customers?includeDeleted=true&email=zebulon.q@example.org")).status, 200);
        assert_eq!(app.delete(&app.customer_path(id)).status, 204);
        let member = member(app, "witness@example.com", Some(Role::Owner));
        assert_eq!(member.sign_in("wrong password entirely").status, 401);
        let everything = app.texts(
            "SELECT COALESCE(action, '') || '|' || COALESCE(actor_id, '') || '|' || COALESCE(target_id, '') || '|' || \
             COALESCE(fields, '') || '|' || COALESCE(request_id, '') || '|' || COALESCE(user_agent, '') AS t FROM audit_events",
        );
        assert!(everything.len() >= 6);
        for row in &everything {
            for value in values.iter().chain(&["Zebulonius", "other.secret@example.org", "wrong password entirely"]) {
                assert!(!row.to_lowercase().contains(&value.to_lowercase()), "{value} in {row}");
            }
        }
    }

    fn the_audit_log_filters_and_pages(app: &TestApp) {
        let mut ids = Vec::new();
        for n in 0..5 {
            ids.push(app.create_customer(&json!({"firstName": format!("Paged {n}")}))["id"].as_str().unwrap().to_owned());
        }
        for id in &ids[..2] {
            assert_eq!(app.put_json(&app.customer_path(id), &json!({"lastName": "Changed"})).status, 200);
        }
        let updated = audit_log(app, "action=customer.updated");
        assert_eq!(updated.len(), 2);
        assert_eq!(updated[0]["target"]["id"], ids[1].as_str(), "newest first");
        let about_one = audit_log(app, &format!("targetId={}", ids[0]));
        let actions: Vec<&str> = about_one.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["customer.updated", "customer.created"]);
        let by_key = audit_log(app, &format!("actorId={}&action=customer.created", key_id(&app.api_key)));
        assert_eq!(by_key.len(), 5);
        // Pages of two, newest first, each event once.
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let page = app.get(&format!("/v1/public-api/organizations/{}/audit-events?limit=2&action=customer.created{after}", app.organization_id)).json();
            let data = page["data"].as_array().unwrap();
            seen.extend(data.iter().map(|e| e["target"]["id"].as_str().unwrap().to_owned()));
            if page["hasMore"] == false {
                break;
            }
            after = format!("&startingAfter={}", data.last().unwrap()["id"].as_str().unwrap());
        }
        let mut newest_first = ids.clone();
        newest_first.reverse();
        assert_eq!(seen, newest_first);
        // A time range.
        let first_time = audit_log(app, &format!("targetId={}&action=customer.created", ids[2]))[0]["time"].as_str().unwrap().to_owned();
        let from = audit_log(app, &format!("action=customer.created&from={first_time}"));
        assert!(from.len() >= 3 && from.len() <= 5, "{}", from.len());
        let to = audit_log(app, &format!("action=customer.created&to={first_time}"));
        assert_eq!(to.len() + from.len(), 5);
        assert!(audit_log(app, "from=2999-01-01T00:00:00Z").is_empty());
        // Bad parameters, and the scope.
        let bad = app.get(&format!("/v1/public-api/organizations/{}/audit-events?action=nope&limit=0&actorId=me", app.organization_id));
        assert_eq!(bad.invalid_fields(), ["action", "limit", "actorId"]);
        let reader = format!("ApiKey {}", app.create_key(&[Scope::CustomersRead]));
        app.send_as(Some(&reader), "GET", &format!("/v1/public-api/organizations/{}/audit-events", app.organization_id), None).problem(403);
        // A test key sees the test-mode log.
        let test_key = format!("ApiKey {}", app.create_key_in_mode(&Scope::ALL, false));
        let test_log = app.send_as(Some(&test_key), "GET", &format!("/v1/public-api/organizations/{}/audit-events", app.organization_id), None).json();
        assert!(test_log["data"].as_array().unwrap().iter().all(|e| e["livemode"] == false));
    }
}

/// The retention's prune deletes a batch of the oldest events per
/// statement, and every old one once run until a batch comes up short;
/// newer events stay.
mod pruning_takes_old_events_a_batch_at_a_time {
    use std::time::Duration;

    use clientele::domain::audit::{Action, Audit, Target};
    use clientele::domain::ids::OrganizationId;
    use clientele::domain::tenant::Tenant;
    use clientele::store::{self, audit::PRUNE_BATCH};

    use super::*;

    fn run(backend: Backend) {
        let Some(app) = TestApp::spawn(backend) else {
            return;
        };
        let tenant = Tenant {
            organization_id: OrganizationId::parse(&app.organization_id).unwrap(),
            livemode: true,
        };
        let mut conn = store::connect(&app.database_url).unwrap();
        let record = |conn: &mut store::DbConnection, n: usize| {
            store::in_transaction_run_again(conn, |conn| {
                for _ in 0..n {
                    let target = Target::new("organization", tenant.organization_id);
                    store::audit::record(
                        conn,
                        tenant,
                        &Audit::cli(),
                        Action::OrganizationViewed,
                        target,
                        None,
                    )?;
                }
                Ok(())
            })
            .unwrap()
        };
        record(&mut conn, 2 * PRUNE_BATCH + 3);
        // The old events are a second older than the retention; the new ones
        // stay younger than it for two seconds of prunes, however loaded
        // the machine (a 1 s margin failed once in CI).
        std::thread::sleep(Duration::from_millis(3000));
        record(&mut conn, 2);
        let retention = Duration::from_millis(2000);
        let batches: Vec<usize> = (0..4)
            .map(|_| store::audit::prune(&mut conn, retention).unwrap())
            .collect();
        // The third also takes what the test's setup recorded.
        assert_eq!(
            (batches[0], batches[1], batches[3]),
            (PRUNE_BATCH, PRUNE_BATCH, 0),
            "{batches:?}"
        );
        assert!((3..PRUNE_BATCH).contains(&batches[2]), "{batches:?}");
        assert_eq!(everything(&app).len(), 2);
    }

    crate::helpers::run_on_both_backends!();
}
