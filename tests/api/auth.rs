//! Authentication and tenancy over HTTP: every route against every kind of
//! bad credential, tokens, revocation, and the cost of verification.

use std::time::{Duration, Instant};

use clientele::domain::scopes::Scope;
use serde_json::{Value, json};

use crate::helpers::{Backend, JWT_SECRET, Response, TestApp, on_both_backends};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    List,
    Create,
    Get,
    Update,
    Delete,
    Mint,
}

const ROUTES: [Route; 6] = [
    Route::List,
    Route::Create,
    Route::Get,
    Route::Update,
    Route::Delete,
    Route::Mint,
];

fn call(app: &TestApp, auth: Option<&str>, org: &str, customer: &str, route: Route) -> Response {
    let base = format!("/v1/public-api/organizations/{org}");
    let item = format!("{base}/customers/{customer}");
    let customer_body = json!({"firstName": "Mallory"}).to_string();
    let token_body = json!({"scopes": ["customers:read"]}).to_string();
    let json_body = |body: &String| Some(("application/json", body.as_bytes().to_vec()));
    let (method, path, body) = match route {
        Route::List => ("GET", format!("{base}/customers"), None),
        Route::Create => (
            "POST",
            format!("{base}/customers"),
            json_body(&customer_body),
        ),
        Route::Get => ("GET", item, None),
        Route::Update => ("PUT", item, json_body(&customer_body)),
        Route::Delete => ("DELETE", item, None),
        Route::Mint => ("POST", format!("{base}/tokens"), json_body(&token_body)),
    };
    app.send_as(
        auth,
        method,
        &path,
        body.as_ref().map(|(t, b)| (*t, b.as_slice())),
    )
}

/// A signed token with these claims, as an attacker who knows `secret` would make.
fn forge(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn key_id_of(api_key: &str) -> &str {
    &api_key[3..39]
}

/// What tokens name the key by (never its id).
fn token_ref_of(app: &TestApp, api_key: &str) -> String {
    let sql = format!(
        "SELECT token_ref AS t FROM api_keys WHERE id = '{}'",
        key_id_of(api_key)
    );
    app.texts(&sql).remove(0)
}

fn claims(app: &TestApp, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": "clientele", "aud": "clientele-public-api", "sub": app.organization_id,
           "ref": token_ref_of(app, &app.api_key), "scope": "customers:read customers:write",
           "iat": now - 10, "exp": now + exp_offset})
}

pub fn mint(app: &TestApp, auth: &str, body: Value) -> Response {
    let path = format!(
        "/v1/public-api/organizations/{}/tokens",
        app.organization_id
    );
    app.send_as(
        Some(auth),
        "POST",
        &path,
        Some(("application/json", body.to_string().as_bytes())),
    )
}

pub fn mint_token(app: &TestApp, body: Value) -> String {
    let response = mint(app, &format!("ApiKey {}", app.api_key), body);
    assert_eq!(response.status, 201, "{}", response.text);
    response.json()["token"].as_str().unwrap().to_owned()
}

fn revoke(app: &TestApp, api_key: &str) {
    let mut conn = clientele::store::connect(&app.database_url).unwrap();
    let key = clientele::domain::ids::KeyId::parse(key_id_of(api_key)).unwrap();
    assert!(clientele::store::api_keys::revoke(&mut conn, key).unwrap());
}

on_both_backends! {
    fn every_route_refuses_every_bad_credential(app: &TestApp) {
        let org = app.organization_id.clone();
        let mine = app.create_customer(&json!({"firstName": "Alice", "email": "alice@a.example"}));
        let other_mine = app.create_customer(&json!({"firstName": "Bob"}));
        let (mine_id, other_id) = (mine["id"].as_str().unwrap(), other_mine["id"].as_str().unwrap());
        let (other_org, other_key) = app.create_organization("Other");
        let read_only = app.create_key(&[Scope::CustomersRead]);
        let revoked = app.create_key(&Scope::ALL);
        revoke(app, &revoked);
        let mut wrong_secret = app.api_key.clone();
        let last = wrong_secret.pop().unwrap();
        wrong_secret.push(if last == '0' { '1' } else { '0' });
        let unknown_key = format!("ck_key_{}_{}", "0".repeat(32), "ab".repeat(32));
        let valid_claims = claims(app, 600);
        let expired = forge(JWT_SECRET, claims(app, -60));
        let other_secret = forge("another-secret-that-is-at-least-32-bytes", valid_claims.clone());
        let valid = forge(JWT_SECRET, valid_claims.clone());
        let (header, _, signature) = {
            let parts: Vec<&str> = valid.split('.').collect();
            (parts[0].to_owned(), parts[1].to_owned(), parts[2].to_owned())
        };
        let b64 = |v: &Value| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let mut escalated = valid_claims.clone();
        escalated["sub"] = json!(other_org);
        let tampered = format!("{header}.{}.{signature}", b64(&escalated));
        let alg_none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&valid_claims));
        let bound = mint_token(app, json!({"scopes": ["customers:read", "customers:write"], "customerId": mine_id}));

        let unauthenticated: Vec<(&str, Option<String>)> = vec![
            ("no credential", None),
            ("empty", Some(String::new())),
            ("scheme only", Some("ApiKey".into())),
            ("malformed key", Some("ApiKey not-a-key".into())),
            ("basic", Some("Basic dXNlcjpwYXNz".into())),
            ("malformed token", Some("Bearer not.a.jwt".into())),
            ("unknown key", Some(format!("ApiKey {unknown_key}"))),
            ("wrong secret", Some(format!("ApiKey {wrong_secret}"))),
            ("revoked key", Some(format!("ApiKey {revoked}"))),
            ("expired token", Some(format!("Bearer {expired}"))),
            ("alg none", Some(format!("Bearer {alg_none}"))),
            ("tampered token", Some(format!("Bearer {tampered}"))),
            ("other secret", Some(format!("Bearer {other_secret}"))),
            ("wrong key as bearer", Some(format!("Bearer {wrong_secret}"))),
        ];
        for (case, auth) in &unauthenticated {
            for route in ROUTES {
                let response = call(app, auth.as_deref(), &org, mine_id, route);
                let body = response.problem(401);
                assert_eq!(body["type"], "/problems/unauthorized", "{case} {route:?}");
                assert_eq!(response.header("www-authenticate"), Some("ApiKey, Bearer"), "{case} {route:?}");
            }
        }

        // A generated client's bearer scheme may carry an API key as well.
        let key_as_bearer = format!("Bearer {}", app.api_key);
        assert_eq!(call(app, Some(&key_as_bearer), &org, mine_id, Route::Get).status, 200);
        assert_eq!(call(app, Some(&key_as_bearer), &org, mine_id, Route::Mint).status, 201);

        let read_only = format!("ApiKey {read_only}");
        for (route, status) in [(Route::List, 200), (Route::Get, 200), (Route::Create, 403),
                                (Route::Update, 403), (Route::Delete, 403), (Route::Mint, 403)] {
            assert_eq!(call(app, Some(&read_only), &org, mine_id, route).status, status, "read-only {route:?}");
        }

        let as_other = format!("ApiKey {other_key}");
        for route in ROUTES {
            let response = call(app, Some(&as_other), &org, mine_id, route);
            assert_eq!(response.problem(403)["type"], "/problems/forbidden", "other org's key {route:?}");
            assert!(!response.text.contains("Alice") && !response.text.contains(mine_id));
        }
        for route in [Route::Get, Route::Update, Route::Delete] {
            let response = call(app, Some(&as_other), &other_org, mine_id, route);
            response.problem(404);
            assert!(!response.text.contains("Alice"), "other org's customer id {route:?}");
        }
        for route in [Route::List, Route::Create, Route::Mint] {
            let response = call(app, Some(&as_other), &other_org, mine_id, route);
            assert!(response.status == 200 || response.status == 201, "{route:?}: {}", response.text);
            assert!(!response.text.contains("Alice") && !response.text.contains(mine_id), "{route:?}");
        }

        let bound = format!("Bearer {bound}");
        for route in ROUTES {
            let expected = match route { Route::Get | Route::Update => 200, _ => 403 };
            let on_own = call(app, Some(&bound), &org, mine_id, route);
            assert_eq!(on_own.status, expected, "bound token {route:?} on its customer: {}", on_own.text);
            let on_other = call(app, Some(&bound), &org, other_id, route);
            assert_eq!(on_other.status, 403, "bound token {route:?} on another customer");
            assert!(!on_other.text.contains("Bob"));
        }

        // Nothing above changed anything it was refused.
        let still = app.get(&app.customer_path(other_id)).json();
        assert_eq!(still, other_mine);
        assert_eq!(app.list("includeTotal=true")["total"], 2);
    }

    fn tokens_carry_a_subset_of_the_key(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Jane"}));
        let id = customer["id"].as_str().unwrap();
        let key = format!("ApiKey {}", app.api_key);
        let response = mint(app, &key, json!({"scopes": ["customers:read"], "expiresIn": 60}));
        assert_eq!(response.status, 201, "{}", response.text);
        let body = response.json();
        assert_eq!(body.as_object().unwrap().len(), 2);
        assert_eq!(body["token"].as_str().unwrap().split('.').count(), 3);
        crate::customers_create::assert_api_time(&body["expiresTime"]);
        let expires = chrono::DateTime::parse_from_rfc3339(body["expiresTime"].as_str().unwrap()).unwrap();
        let lifetime = expires.timestamp() - chrono::Utc::now().timestamp();
        assert!((55..=60).contains(&lifetime), "{lifetime}");
        let bearer = format!("Bearer {}", body["token"].as_str().unwrap());
        assert_eq!(app.send_as(Some(&bearer), "GET", &app.customers_path(), None).status, 200);
        assert_eq!(app.send_as(Some(&bearer), "GET", &app.customer_path(id), None).status, 200);
        assert_eq!(app.send_as(Some(&bearer), "DELETE", &app.customer_path(id), None).status, 403);
        assert_eq!(mint(app, &bearer, json!({"scopes": ["customers:read"]})).status, 403);
        assert_eq!(mint(app, &key.replace("ApiKey", "apikey"), json!({"scopes": ["customers:read"]})).status, 201);

        let minter = format!("ApiKey {}", app.create_key(&[Scope::CustomersRead, Scope::TokensCreate]));
        mint(app, &minter, json!({"scopes": ["customers:write"]})).problem(403);
        assert_eq!(mint(app, &minter, json!({"scopes": ["customers:read"]})).status, 201);

        for (body, field) in [
            (json!({}), "scopes"),
            (json!({"scopes": ["tokens:create"]}), "scopes"),
            (json!({"scopes": ["customers:admin"]}), "scopes"),
            (json!({"scopes": ["customers:read"], "expiresIn": 59}), "expiresIn"),
            (json!({"scopes": ["customers:read"], "expiresIn": 3601}), "expiresIn"),
            (json!({"scopes": ["customers:read"], "customerId": "jane"}), "customerId"),
            (json!({"scopes": ["customers:read"], "organizationId": app.organization_id}), "organizationId"),
        ] {
            assert_eq!(mint(app, &key, body.clone()).invalid_fields(), [field], "{body}");
        }
        let unknown = json!({"scopes": ["customers:read"], "customerId": "cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e"});
        mint(app, &key, unknown).problem(404);
        assert_eq!(app.delete(&app.customer_path(id)).status, 204);
        let deleted = json!({"scopes": ["customers:read"], "customerId": id});
        mint(app, &key, deleted).problem(404);
    }

    fn a_token_bound_to_a_customer_can_read_and_update_it(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Jane"}));
        let id = customer["id"].as_str().unwrap();
        let token = mint_token(app, json!({"scopes": ["customers:read", "customers:write"], "customerId": id}));
        let bearer = format!("Bearer {token}");
        let body = json!({"lastName": "Doe"}).to_string();
        let updated = app.send_as(Some(&bearer), "PUT", &app.customer_path(id), Some(("application/json", body.as_bytes())));
        assert_eq!(updated.status, 200, "{}", updated.text);
        assert_eq!(updated.json()["lastName"], "Doe");
        let read_only = mint_token(app, json!({"scopes": ["customers:read"], "customerId": id}));
        let refused = app.send_as(Some(&format!("Bearer {read_only}")), "PUT", &app.customer_path(id), Some(("application/json", body.as_bytes())));
        refused.problem(403);
    }

    fn hosted_form_tokens_change_only_what_a_payer_may(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Jane", "metadata": {"risk": "low"}}));
        let id = customer["id"].as_str().unwrap();
        let path = app.customer_path(id);
        let put = |token: &str, body: Value| {
            let bearer = format!("Bearer {token}");
            app.send_as(Some(&bearer), "PUT", &path, Some(("application/json", body.to_string().as_bytes())))
        };
        let forbidden = |response: Response| -> Vec<String> {
            let problem = response.problem(403);
            assert_eq!(problem["type"], "/problems/forbidden-field");
            problem["forbiddenFields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect()
        };
        let scopes = json!(["customers:read", "customers:write"]);
        let payer = mint_token(app, json!({"scopes": scopes, "customerId": id}));
        assert_eq!(forbidden(put(&payer, json!({"metadata": {"risk": "none"}}))), ["metadata"]);
        assert_eq!(forbidden(put(&payer, json!({"firstName": "Mallory", "metadata": null, "language": "xx"}))), ["metadata"]);
        assert_eq!(app.get(&path).json(), customer, "a refused PUT changed something");
        for (field, value) in [
            ("firstName", json!("Janet")), ("lastName", json!("Doe")), ("email", json!("jane@example.com")),
            ("phoneNumber", json!("+15550100")), ("language", json!("en")), ("address", json!({"city": "Berlin"})),
        ] {
            let response = put(&payer, json!({field: value}));
            assert_eq!(response.status, 200, "{field}: {}", response.text);
        }
        assert_eq!(app.get(&path).json()["metadata"], json!({"risk": "low"}));

        let narrow = mint_token(app, json!({"scopes": scopes, "customerId": id, "fields": ["email", "phoneNumber"]}));
        assert_eq!(put(&narrow, json!({"email": "new@example.com"})).status, 200);
        let revision = app.get(&path).json()["revision"].clone();
        assert_eq!(forbidden(put(&narrow, json!({"firstName": "X"}))), ["firstName"]);
        let mut all = forbidden(put(&narrow, json!({"firstName": "X", "language": "de", "metadata": {}, "email": "a@b.co"})));
        all.sort();
        assert_eq!(all, ["firstName", "language", "metadata"]);
        assert_eq!(app.get(&path).json()["revision"], revision, "a refused PUT changed the revision");

        let key = format!("ApiKey {}", app.api_key);
        for (body, field) in [
            (json!({"scopes": scopes, "customerId": id, "fields": ["metadata"]}), "fields"),
            (json!({"scopes": scopes, "customerId": id, "fields": ["nickname"]}), "fields"),
            (json!({"scopes": scopes, "customerId": id, "fields": []}), "fields"),
            (json!({"scopes": scopes, "customerId": id, "fields": "email"}), "fields"),
            (json!({"scopes": scopes, "fields": ["email"]}), "fields"),
        ] {
            assert_eq!(mint(app, &key, body.clone()).invalid_fields(), [field], "{body}");
        }
        // API keys and tokens bound to no customer may change every field.
        let unbound = mint_token(app, json!({"scopes": scopes}));
        assert_eq!(put(&unbound, json!({"metadata": {"risk": "high"}})).status, 200);
        assert_eq!(app.put_json(&path, &json!({"metadata": {"risk": "low"}})).status, 200);
    }

    fn a_token_already_seen_stops_working_when_it_expires(app: &TestApp) {
        // Verified tokens are remembered; the memory must not outlive `exp`
        // (plus the 5 s of clock leeway every instance allows).
        let expires_in = 1;
        let bearer = format!("Bearer {}", forge(JWT_SECRET, claims(app, expires_in)));
        assert_eq!(app.send_as(Some(&bearer), "GET", &app.customers_path(), None).status, 200);
        std::thread::sleep(Duration::from_secs(expires_in as u64 + 5 + 2));
        app.send_as(Some(&bearer), "GET", &app.customers_path(), None).problem(401);
    }

    fn argon2_runs_once_per_key(app: &TestApp) {
        let key = format!("ApiKey {}", app.create_key(&[Scope::CustomersRead]));
        let before = app.authenticator.verifications();
        for _ in 0..20 {
            assert_eq!(app.send_as(Some(&key), "GET", &app.customers_path(), None).status, 200);
        }
        assert_eq!(app.authenticator.verifications() - before, 1);

        // Many clients presenting a new key at once still cost one verification.
        let key = format!("ApiKey {}", app.create_key(&[Scope::CustomersRead]));
        let before = app.authenticator.verifications();
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..4 {
                        assert_eq!(app.send_as(Some(&key), "GET", &app.customers_path(), None).status, 200);
                    }
                });
            }
        });
        assert_eq!(app.authenticator.verifications() - before, 1);

        // An unknown key id costs none; a repeated wrong secret costs one.
        let before = app.authenticator.verifications();
        let unknown = format!("ApiKey ck_key_{}_{}", "1".repeat(32), "ab".repeat(32));
        let wrong = format!("ApiKey {}{}", &app.api_key[..app.api_key.len() - 64], "cd".repeat(32));
        for _ in 0..10 {
            app.send_as(Some(&unknown), "GET", &app.customers_path(), None).problem(401);
            app.send_as(Some(&wrong), "GET", &app.customers_path(), None).problem(401);
        }
        assert_eq!(app.authenticator.verifications() - before, 1);
    }

    fn guessing_secrets_is_throttled(app: &TestApp) {
        let victim = app.create_key(&Scope::ALL);
        let victim_auth = format!("ApiKey {victim}");
        assert_eq!(app.send_as(Some(&victim_auth), "GET", &app.customers_path(), None).status, 200);
        let before = app.authenticator.verifications();
        let prefix = &victim[..victim.len() - 64];
        for guess in 0..20 {
            let attempt = format!("ApiKey {prefix}{guess:064x}");
            let answer = app.send_as(Some(&attempt), "GET", &app.customers_path(), None);
            match guess < clientele::auth::MAX_FAILURES_PER_MINUTE {
                true => answer.problem(401),
                false => {
                    assert_eq!(answer.header("retry-after"), Some("60"));
                    answer.problem(429)
                }
            };
        }
        let spent = app.authenticator.verifications() - before;
        assert_eq!(spent, clientele::auth::MAX_FAILURES_PER_MINUTE as u64);
        // The owner, already verified, is not locked out.
        assert_eq!(app.send_as(Some(&victim_auth), "GET", &app.customers_path(), None).status, 200);
    }

    fn last_use_is_recorded_at_most_once_a_minute(app: &TestApp) {
        let key = app.create_key(&[Scope::CustomersRead]);
        let used = format!(
            "SELECT count(*) AS n FROM api_keys WHERE id = '{}' AND last_used_at IS NOT NULL",
            key_id_of(&key)
        );
        assert_eq!(app.count_rows(&used), 0);
        let auth = format!("ApiKey {key}");
        assert_eq!(app.send_as(Some(&auth), "GET", &app.customers_path(), None).status, 200);
        let deadline = Instant::now() + Duration::from_secs(5);
        while app.count_rows(&used) == 0 {
            assert!(Instant::now() < deadline, "last_used_at was never written");
            std::thread::sleep(Duration::from_millis(20));
        }
        app.execute_sql(&format!(
            "UPDATE api_keys SET last_used_at = '2000-01-01 00:00:00' WHERE id = '{}'",
            key_id_of(&key)
        ));
        for _ in 0..10 {
            assert_eq!(app.send_as(Some(&auth), "GET", &app.customers_path(), None).status, 200);
        }
        std::thread::sleep(Duration::from_millis(300));
        let untouched = format!(
            "SELECT count(*) AS n FROM api_keys WHERE id = '{}' AND last_used_at = '2000-01-01 00:00:00'",
            key_id_of(&key)
        );
        assert_eq!(app.count_rows(&untouched), 1);
    }
}

/// Revocation is seen within the cache lifetime: set to 1 s here.
mod revocation {
    use super::*;

    fn run(backend: Backend) {
        let Some(app) = TestApp::spawn_with(backend, |s| s.auth_cache_seconds = 1) else {
            return;
        };
        let key = app.create_key(&Scope::ALL);
        let auth = format!("ApiKey {key}");
        assert_eq!(
            app.send_as(Some(&auth), "GET", &app.customers_path(), None)
                .status,
            200
        );
        let token = mint(&app, &auth, json!({"scopes": ["customers:read"]})).json()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let bearer = format!("Bearer {token}");
        assert_eq!(
            app.send_as(Some(&bearer), "GET", &app.customers_path(), None)
                .status,
            200
        );
        revoke(&app, &key);
        std::thread::sleep(Duration::from_millis(1500));
        app.send_as(Some(&auth), "GET", &app.customers_path(), None)
            .problem(401);
        app.send_as(Some(&bearer), "GET", &app.customers_path(), None)
            .problem(401);
        // Other keys of the organization are untouched.
        assert_eq!(app.get(&app.customers_path()).status, 200);
    }

    crate::helpers::run_on_both_backends!();
}
