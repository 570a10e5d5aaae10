//! People (contract section 13): invites, passwords, two-step sign-in,
//! sessions and their anti-forgery tokens, roles enforced on every route,
//! the last owner, disabled members, and sign-in under attack.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use clientele::auth::people::{self, current_code};
use clientele::domain::audit::Audit;
use clientele::domain::ids::OrganizationId;
use clientele::domain::people::Role;
use clientele::store;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{Backend, Response, TestApp, on_both_backends};

pub const PASSWORD: &str = "correct horse battery staple";

/// A person with a browser: cookies kept between requests, redirects not
/// followed (their cookies and targets are what the tests look at).
pub struct Person {
    pub email: String,
    pub address: String,
    cookies: RefCell<BTreeMap<String, String>>,
    agent: ureq::Agent,
}

impl Person {
    pub fn new(app: &TestApp, email: &str) -> Self {
        Self {
            email: email.to_owned(),
            address: app.address.clone(),
            cookies: RefCell::default(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .max_idle_age(Duration::from_secs(2))
                .build()
                .new_agent(),
        }
    }

    /// The same person's browser, talking to another server.
    pub fn at(&self, app: &TestApp) -> Self {
        let other = Self::new(app, &self.email);
        *other.cookies.borrow_mut() = self.cookies.borrow().clone();
        other
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.borrow().get(name).cloned()
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, String)>,
    ) -> Response {
        let url = format!("{}{path}", self.address);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        let cookies: Vec<String> = self
            .cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !cookies.is_empty() {
            request = request.header("cookie", cookies.join("; "));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let result = match body {
            Some((content_type, text)) => self.agent.run(
                request
                    .header("content-type", content_type)
                    .body(text.into_bytes())
                    .unwrap(),
            ),
            None => self.agent.run(request.body(()).unwrap()),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let mut headers = Vec::new();
        for (name, value) in response.headers() {
            let value = value.to_str().unwrap_or_default().to_owned();
            if name.as_str().eq_ignore_ascii_case("set-cookie") {
                let pair = value.split(';').next().unwrap_or_default();
                if let Some((key, cookie)) = pair.split_once('=') {
                    let removed = value.contains("Max-Age=0") || cookie.is_empty();
                    match removed {
                        true => self.cookies.borrow_mut().remove(key),
                        false => self
                            .cookies
                            .borrow_mut()
                            .insert(key.to_owned(), cookie.to_owned()),
                    };
                }
            }
            headers.push((name.to_string(), value));
        }
        Response {
            status: response.status().as_u16(),
            headers,
            text: response.body_mut().read_to_string().unwrap(),
        }
    }

    pub fn get(&self, path: &str) -> Response {
        self.send("GET", path, &[], None)
    }

    /// Posts a form, as a browser does.
    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(
            "POST",
            path,
            &[],
            Some(("application/x-www-form-urlencoded", body)),
        )
    }

    pub fn sign_in(&self, password: &str) -> Response {
        self.post_form(
            "/console/sign-in",
            &[("email", &self.email), ("password", password)],
        )
    }

    /// The anti-forgery token of the current session, read from a page.
    pub fn csrf(&self) -> String {
        let page = self.get("/console/account");
        assert_eq!(page.status, 200, "{}", page.text);
        hidden(&page.text, "csrf")
    }

    /// A request to the API through the console, with the session and its
    /// anti-forgery token.
    pub fn api(&self, method: &str, path: &str, body: Option<&Value>) -> Response {
        let csrf = self.csrf();
        let headers = [("x-csrf-token", csrf.as_str())];
        self.send(
            method,
            &format!("/console/api{path}"),
            &headers,
            body.map(|b| ("application/json", b.to_string())),
        )
    }
}

/// The value of the hidden input `name` in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// Invites `email` to the test's organization as `role` (or as an operator
/// with `None`); the invite link's secret.
pub fn invite(app: &TestApp, email: &str, role: Option<Role>) -> String {
    let mut conn = store::connect(&app.database_url).unwrap();
    let org = role.map(|_| OrganizationId::parse(&app.organization_id).unwrap());
    let invitation = store::in_transaction_run_again(&mut conn, |conn| {
        people::invite(
            conn,
            org,
            email,
            role.unwrap_or(Role::Operator),
            &Audit::cli(),
        )
    })
    .unwrap();
    invitation.secret.expose_secret().to_owned()
}

/// A person of `role` who accepted their invite and is signed in.
pub fn member(app: &TestApp, email: &str, role: Option<Role>) -> Person {
    let secret = invite(app, email, role);
    let person = Person::new(app, email);
    let joined = person.post_form(
        &format!("/console/invite/{secret}"),
        &[("password", PASSWORD)],
    );
    assert_eq!(joined.status, 303, "{}", joined.text);
    assert!(person.cookie("clientele_session").is_some());
    person
}

fn organization_path(app: &TestApp) -> String {
    format!("/v1/public-api/organizations/{}", app.organization_id)
}

on_both_backends! {
    fn an_invite_works_once_and_a_weak_password_is_refused_with_the_reason(app: &TestApp) {
        let secret = invite(app, "new.member@example.com", Some(Role::Support));
        let person = Person::new(app, "new.member@example.com");
        let page = person.get(&format!("/console/invite/{secret}"));
        assert_eq!(page.status, 200);
        assert!(page.text.contains("new.member@example.com") && page.text.contains("Test organization"));
        let weak = person.post_form(&format!("/console/invite/{secret}"), &[("password", "password1234")]);
        assert_eq!(weak.status, 422);
        assert!(weak.text.contains("Password is too easy to guess"), "{}", weak.text);
        let short = person.post_form(&format!("/console/invite/{secret}"), &[("password", "short")]);
        assert!(short.text.contains("at least 12 characters"));
        assert!(person.cookie("clientele_session").is_none());
        let joined = person.post_form(&format!("/console/invite/{secret}"), &[("password", PASSWORD)]);
        assert_eq!(joined.status, 303);
        assert_eq!(joined.header("location"), Some("/console"));
        let cookie = joined.headers.iter().find(|(n, v)| n == "set-cookie" && v.starts_with("clientele_session=")).unwrap();
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
            assert!(cookie.1.contains(flag), "{}", cookie.1);
        }
        // Bound to 127.0.0.1 in a test profile: no Secure (plain http on loopback).
        assert!(!cookie.1.contains("Secure"), "{}", cookie.1);
        assert!(person.get("/console/account").text.contains("support"));
        // Once.
        let again = Person::new(app, "someone.else@example.com");
        assert_eq!(again.get(&format!("/console/invite/{secret}")).status, 404);
        assert_eq!(again.post_form(&format!("/console/invite/{secret}"), &[("password", PASSWORD)]).status, 404);
        assert!(again.cookie("clientele_session").is_none());
        // A second account for the same email is refused.
        let mut conn = store::connect(&app.database_url).unwrap();
        let org = OrganizationId::parse(&app.organization_id).unwrap();
        let taken = store::in_transaction_run_again(&mut conn, |conn| {
            people::invite(conn, Some(org), "NEW.member@example.com", Role::Analyst, &Audit::cli())
        });
        assert!(taken.is_err());
    }

    fn a_wrong_email_and_a_wrong_password_look_the_same_and_cost_the_same(app: &TestApp) {
        member(app, "real@example.com", Some(Role::Owner));
        let before = app.authenticator.verifications();
        let unknown = Person::new(app, "nobody@example.com").sign_in(PASSWORD);
        let after_unknown = app.authenticator.verifications();
        let wrong = Person::new(app, "real@example.com").sign_in("not the password at all");
        let after_wrong = app.authenticator.verifications();
        assert_eq!((unknown.status, wrong.status), (401, 401));
        assert_eq!(unknown.text.replace("nobody@example.com", "X"), wrong.text.replace("real@example.com", "X"));
        assert!(unknown.text.contains("The email or the password is wrong."));
        // argon2 ran once for each: an unknown account costs what a known one does.
        assert_eq!(after_unknown - before, 1);
        assert_eq!(after_wrong - after_unknown, 1);
        let right = Person::new(app, "real@example.com");
        assert_eq!(right.sign_in(PASSWORD).status, 303);
        assert_eq!(right.get("/console/account").status, 200);
    }

    fn requests_that_change_anything_need_the_anti_forgery_token(app: &TestApp) {
        let owner = member(app, "owner@example.com", Some(Role::Owner));
        let path = format!("/console/api{}/customers", organization_path(app));
        let body = Some(("application/json", json!({"firstName": "Forged"}).to_string()));
        owner.send("POST", &path, &[], body.clone()).problem(403);
        owner.send("POST", &path, &[("x-csrf-token", "0123456789abcdef0123456789abcdef")], body.clone()).problem(403);
        let csrf = owner.csrf();
        assert_eq!(owner.send("POST", &path, &[("x-csrf-token", &csrf)], body).status, 201);
        assert_eq!(owner.get(&path).status, 200);
        // Forms too: a sign-out without the session's token is refused.
        assert_eq!(owner.post_form("/console/sign-out", &[("csrf", "forged")]).status, 403);
        assert_eq!(owner.get("/console/account").status, 200);
        // A form posted from another site is refused before anything is read.
        let other_site = owner.send("POST", "/console/sign-in", &[("origin", "https://evil.example")],
            Some(("application/x-www-form-urlencoded", "email=owner%40example.com&password=x".into())));
        assert_eq!(other_site.status, 403);
        // Without the session cookie, the console's API is 401.
        let stranger = Person::new(app, "stranger@example.com");
        stranger.send("GET", &path, &[], None).problem(401);
    }

    fn the_last_owner_keeps_their_role_and_cannot_be_disabled(app: &TestApp) {
        let owner = member(app, "only.owner@example.com", Some(Role::Owner));
        let page = owner.get("/console/members");
        let owner_id = page.text.split("/console/members/").nth(1).unwrap().split('/').next().unwrap().to_owned();
        let csrf = owner.csrf();
        let demote = owner.post_form(&format!("/console/members/{owner_id}/role"), &[("csrf", &csrf), ("role", "analyst")]);
        assert_eq!(demote.status, 409, "{}", demote.text);
        assert!(demote.text.contains("always keeps an owner"));
        let disable = owner.post_form(&format!("/console/members/{owner_id}/disable"), &[("csrf", &csrf)]);
        assert_eq!(disable.status, 409);
        let output = crate::process::clientele(&["user", "disable", &owner_id], &[("CLIENTELE_DATABASE_URL", &app.database_url)], &std::env::temp_dir());
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("always keeps an owner"));
        // With a second owner, the first may step down.
        let second = member(app, "second.owner@example.com", Some(Role::Owner));
        assert_eq!(owner.post_form(&format!("/console/members/{owner_id}/role"), &[("csrf", &csrf), ("role", "analyst")]).status, 303);
        assert!(owner.get("/console/account").text.contains("analyst"));
        // The new role applies to the next request: an analyst manages no members.
        assert_eq!(owner.get("/console/members").status, 403);
        assert_eq!(second.get("/console/members").status, 200);
    }

    fn a_disabled_member_is_signed_out_at_once(app: &TestApp) {
        let owner = member(app, "boss@example.com", Some(Role::Owner));
        let support = member(app, "helper@example.com", Some(Role::Support));
        let path = format!("/console/api{}/customers", organization_path(app));
        assert_eq!(support.get(&path).status, 200);
        let members = owner.get("/console/members").text;
        let row = members.split("<tr>").find(|row| row.contains("helper@example.com")).unwrap();
        let id = row.split("/console/members/").nth(1).unwrap().split('/').next().unwrap().to_owned();
        let csrf = owner.csrf();
        assert_eq!(owner.post_form(&format!("/console/members/{id}/disable"), &[("csrf", &csrf)]).status, 303);
        support.get(&path).problem(401);
        assert_eq!(support.get("/console/account").status, 303);
        assert_eq!(Person::new(app, "helper@example.com").sign_in(PASSWORD).status, 401);
        assert!(owner.get("/console/members").text.contains("disabled"));
    }

    fn a_password_change_ends_the_other_sessions(app: &TestApp) {
        let here = member(app, "changer@example.com", Some(Role::Developer));
        let there = Person::new(app, "changer@example.com");
        assert_eq!(there.sign_in(PASSWORD).status, 303);
        let csrf = here.csrf();
        let wrong = here.post_form("/console/password", &[("csrf", &csrf), ("current", "nope nope nope"), ("password", "another long passphrase here")]);
        assert_eq!(wrong.status, 422);
        let weak = here.post_form("/console/password", &[("csrf", &csrf), ("current", PASSWORD), ("password", "aaaaaaaaaaaa")]);
        assert_eq!(weak.status, 422);
        let changed = here.post_form("/console/password", &[("csrf", &csrf), ("current", PASSWORD), ("password", "another long passphrase here")]);
        assert_eq!(changed.status, 303);
        assert_eq!(here.get("/console/account").status, 200);
        assert_eq!(there.get("/console/account").status, 303);
        assert_eq!(Person::new(app, "changer@example.com").sign_in(PASSWORD).status, 401);
        assert_eq!(Person::new(app, "changer@example.com").sign_in("another long passphrase here").status, 303);
    }

    fn two_step_sign_in_with_an_app_code_or_a_recovery_code(app: &TestApp) {
        let person = member(app, "careful@example.com", Some(Role::Owner));
        let setup = person.get("/console/two-step");
        assert_eq!(setup.status, 200);
        assert!(setup.text.contains("<svg"));
        let secret = hidden(&setup.text, "secret");
        let proof = hidden(&setup.text, "proof");
        let csrf = person.csrf();
        let wrong = person.post_form("/console/two-step", &[("csrf", &csrf), ("secret", &secret), ("proof", &proof), ("code", "000000")]);
        assert_eq!(wrong.status, 422);
        let forged = person.post_form("/console/two-step", &[("csrf", &csrf), ("secret", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), ("proof", &proof), ("code", "000000")]);
        assert_eq!(forged.status, 403);
        let code = current_code(&secret).unwrap();
        let enrolled = person.post_form("/console/two-step", &[("csrf", &csrf), ("secret", &secret), ("proof", &proof), ("code", &code)]);
        assert_eq!(enrolled.status, 200, "{}", enrolled.text);
        let listed = enrolled.text.split("<ul class=\"codes\">").nth(1).unwrap().split("</ul>").next().unwrap();
        let codes: Vec<String> = listed.split("<li>").skip(1).map(|li| li.split('<').next().unwrap().to_owned()).collect();
        assert_eq!(codes.len(), 10, "{}", enrolled.text);

        // The password alone gives a session good for nothing but the code.
        let later = Person::new(app, "careful@example.com");
        let step = later.sign_in(PASSWORD);
        assert_eq!(step.status, 200);
        assert!(step.text.contains("<label for=\"code\">Code</label>"));
        assert_eq!(later.get("/console/account").status, 303);
        let pending_csrf = hidden(&step.text, "csrf");
        assert_eq!(later.post_form("/console/sign-in/code", &[("csrf", &pending_csrf), ("code", "123456")]).status, 401);
        // The code just used to enroll is used: a fresh step's code is needed,
        // so a recovery code signs in here.
        let recovered = later.post_form("/console/sign-in/code", &[("csrf", &pending_csrf), ("code", &codes[0].to_lowercase())]);
        assert_eq!(recovered.status, 303, "{}", recovered.text);
        assert_eq!(later.get("/console/account").status, 200);
        assert!(later.get("/console/account").text.contains("9 recovery codes left"));
        // Each recovery code works once.
        let again = Person::new(app, "careful@example.com");
        let step = again.sign_in(PASSWORD);
        let pending_csrf = hidden(&step.text, "csrf");
        assert_eq!(again.post_form("/console/sign-in/code", &[("csrf", &pending_csrf), ("code", &codes[0])]).status, 401);
        assert_eq!(again.post_form("/console/sign-in/code", &[("csrf", &pending_csrf), ("code", &codes[1])]).status, 303);
    }

    fn an_organization_that_requires_two_step_sends_members_to_set_it_up(app: &TestApp) {
        let owner = member(app, "strict@example.com", Some(Role::Owner));
        let analyst = member(app, "numbers@example.com", Some(Role::Analyst));
        let csrf = owner.csrf();
        // An analyst may not change the setting.
        let analyst_csrf = analyst.csrf();
        assert_eq!(analyst.post_form("/console/settings/two-step", &[("csrf", &analyst_csrf), ("required", "on")]).status, 403);
        assert_eq!(owner.post_form("/console/settings/two-step", &[("csrf", &csrf), ("required", "on")]).status, 303);
        assert_eq!(analyst.get("/console/account").header("location"), Some("/console/two-step"));
        let path = format!("/console/api{}/customers", organization_path(app));
        analyst.get(&path).problem(403);
        assert_eq!(analyst.get("/console/two-step").status, 200);
    }

    fn the_console_api_honours_each_role(app: &TestApp) {
        let base = organization_path(app);
        let customer = app.create_customer(&json!({"firstName": "Matrix"}));
        let id = customer["id"].as_str().unwrap().to_owned();
        let people = [
            ("owner", member(app, "m.owner@example.com", Some(Role::Owner))),
            ("developer", member(app, "m.dev@example.com", Some(Role::Developer))),
            ("support", member(app, "m.support@example.com", Some(Role::Support))),
            ("analyst", member(app, "m.analyst@example.com", Some(Role::Analyst))),
            ("operator", member(app, "m.operator@example.com", None)),
        ];
        // (method, path, body, roles allowed)
        let routes: Vec<(&str, String, Option<Value>, &[&str])> = vec![
            ("GET", format!("{base}/customers"), None, &["owner", "developer", "support", "analyst", "operator"]),
            ("GET", format!("{base}/customers/{id}"), None, &["owner", "developer", "support", "analyst", "operator"]),
            ("POST", format!("{base}/customers"), Some(json!({"firstName": "New"})), &["owner", "support"]),
            ("PUT", format!("{base}/customers/{id}"), Some(json!({"lastName": "Changed"})), &["owner", "support"]),
            ("GET", format!("{base}/customers?includeDeleted=true"), None, &["owner", "analyst", "operator"]),
            ("GET", format!("{base}/customers/export"), None, &["owner", "analyst", "operator"]),
            ("GET", format!("{base}/customers/stats?groupBy=country"), None, &["owner", "analyst", "operator"]),
            ("GET", format!("{base}/events"), None, &["owner", "developer", "operator"]),
            ("GET", format!("{base}/webhook-endpoints"), None, &["owner", "developer", "operator"]),
            ("POST", format!("{base}/webhook-endpoints"), Some(json!({"url": "https://example.com/hook", "events": ["*"]})), &["owner", "developer"]),
            ("GET", format!("{base}/custom-fields"), None, &["owner", "developer", "support", "analyst", "operator"]),
            ("POST", format!("{base}/custom-fields"), Some(json!({"name": "tier", "type": "string"})), &["owner", "developer"]),
            ("GET", format!("{base}/audit-events"), None, &["owner", "operator"]),
            ("POST", format!("{base}/tokens"), Some(json!({"scopes": ["customers:read"]})), &[]),
        ];
        for (method, path, body, allowed) in &routes {
            for (role, person) in &people {
                let answer = person.api(method, path, body.as_ref());
                let expected_allowed = allowed.contains(role);
                match expected_allowed {
                    // Allowed: not refused (a name another role took first is 409).
                    true => assert!(![401, 403].contains(&answer.status) && answer.status < 500, "{role} {method} {path}: {} {}", answer.status, answer.text),
                    false => assert_eq!(answer.status, 403, "{role} {method} {path}: {}", answer.text),
                }
            }
        }
        // Delete, restore and erase, each on a customer of its own.
        for (role, person) in &people {
            let doomed = app.create_customer(&json!({"firstName": "Doomed"}));
            let doomed = doomed["id"].as_str().unwrap();
            let deleted = person.api("DELETE", &format!("{base}/customers/{doomed}"), None);
            assert_eq!(deleted.status == 204, ["owner", "support"].contains(role), "{role} delete: {}", deleted.text);
            app.delete(&app.customer_path(doomed));
            let restored = person.api("POST", &format!("{base}/customers/{doomed}/restore"), None);
            assert_eq!(restored.status == 200, ["owner", "support"].contains(role), "{role} restore: {}", restored.text);
            let erased = person.api("POST", &format!("{base}/customers/{doomed}/erase"), None);
            assert_eq!(erased.status == 204, *role == "owner", "{role} erase: {}", erased.text);
        }
        // A member's credential is confined to their organization: another
        // organization's path is 403; an operator may read it.
        let (other, _) = app.create_organization("Elsewhere");
        let other_path = format!("/v1/public-api/organizations/{other}/customers");
        for (role, person) in &people {
            let answer = person.api("GET", &other_path, None);
            match *role {
                "operator" => assert_eq!(answer.status, 200, "{}", answer.text),
                _ => assert_eq!(answer.status, 403, "{role}: {}", answer.text),
            }
        }
    }
}

/// Idle and absolute timeouts, with short settings.
mod sessions_end_when_idle_and_at_their_absolute_limit {
    use super::*;

    fn run(backend: Backend) {
        let Some(app) = TestApp::spawn_with(backend, |s| {
            s.session_idle_minutes = 1.5 / 60.0;
            s.session_absolute_hours = 4.0 / 3600.0;
        }) else {
            return;
        };
        let person = member(&app, "sleepy@example.com", Some(Role::Support));
        assert_eq!(person.get("/console/account").status, 200);
        std::thread::sleep(Duration::from_millis(2_000));
        assert_eq!(
            person.get("/console/account").status,
            303,
            "idle for 2 s of 1.5"
        );
        // Used every half second, a session still ends at its absolute limit.
        let busy = Person::new(&app, "sleepy@example.com");
        assert_eq!(busy.sign_in(PASSWORD).status, 303);
        let started = std::time::Instant::now();
        while started.elapsed() < Duration::from_millis(3_500) {
            assert_eq!(
                busy.get("/console/account").status,
                200,
                "at {:?}",
                started.elapsed()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        std::thread::sleep(Duration::from_millis(1_000));
        assert_eq!(busy.get("/console/account").status, 303, "past 4 s");
    }

    crate::helpers::run_on_both_backends!();
}

/// Sessions live in the database: a sign-out through one server ends the
/// session on another within a tenth of a second or so (each instance
/// caches sessions, and looks for ended ones ten times a second).
mod a_sign_out_on_one_instance_ends_the_session_on_another {
    use super::*;

    fn run(backend: Backend) {
        let Some(first) = TestApp::spawn(backend) else {
            return;
        };
        let second = TestApp::spawn_at_with(&first.database_url, |_| {});
        let person = member(&first, "roaming@example.com", Some(Role::Owner));
        let elsewhere = person.at(&second);
        assert_eq!(elsewhere.get("/console/account").status, 200);
        let csrf = person.csrf();
        assert_eq!(
            person
                .post_form("/console/sign-out", &[("csrf", &csrf)])
                .status,
            303
        );
        // Each instance looks for ended sessions ten times a second.
        let signed_out = std::time::Instant::now();
        while elsewhere.get("/console/account").status == 200 {
            assert!(
                signed_out.elapsed() < Duration::from_millis(500),
                "still signed in elsewhere"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("signed out elsewhere within {:?}", signed_out.elapsed());
        let path = format!(
            "/console/api/v1/public-api/organizations/{}/customers",
            first.organization_id
        );
        elsewhere.get(&path).problem(401);
    }

    crate::helpers::run_on_both_backends!();
}

/// Wrong passwords from 64 connections, for one account and for many,
/// while the member signs in from a browser they used before and works:
/// they are never refused, and argon2 runs a bounded number of times.
mod guessing_passwords_locks_no_member_out_and_runs_argon2_a_bounded_number_of_times {
    use super::*;

    fn run(backend: Backend) {
        let Some(app) = TestApp::spawn(backend) else {
            return;
        };
        let victim = member(&app, "victim@example.com", Some(Role::Support));
        for n in 0..8 {
            member(
                &app,
                &format!("colleague{n}@example.com"),
                Some(Role::Analyst),
            );
        }
        let before = app.authenticator.verifications();
        let stop = Arc::new(AtomicBool::new(false));
        let refused = Arc::new(AtomicUsize::new(0));
        let attackers: Vec<_> = (0..64)
            .map(|n| {
                let (stop, refused, address) = (stop.clone(), refused.clone(), app.address.clone());
                std::thread::spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .new_agent();
                    while !stop.load(Ordering::Relaxed) {
                        let email = match n % 2 {
                            0 => "victim@example.com".to_owned(),
                            _ => format!("colleague{}@example.com", n % 8),
                        };
                        let answer = agent
                            .post(&format!("{address}/console/sign-in"))
                            .send_form([
                                ("email", email.as_str()),
                                ("password", "guess guess guess"),
                            ])
                            .unwrap();
                        assert!(
                            matches!(answer.status().as_u16(), 401 | 429),
                            "{}",
                            answer.status()
                        );
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(500));
        let path = format!(
            "/console/api/v1/public-api/organizations/{}/customers",
            app.organization_id
        );
        for _ in 0..5 {
            // The member's browser holds the device cookie from its first sign-in.
            assert_eq!(victim.sign_in(PASSWORD).status, 303);
            assert_eq!(victim.get(&path).status, 200);
            assert_eq!(
                victim
                    .api(
                        "POST",
                        &format!(
                            "/v1/public-api/organizations/{}/customers",
                            app.organization_id
                        ),
                        Some(&json!({"firstName": "Still here"}))
                    )
                    .status,
                201
            );
        }
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, Ordering::Relaxed);
        for attacker in attackers {
            attacker.join().unwrap();
        }
        let runs = app.authenticator.verifications() - before;
        let attempts = refused.load(Ordering::Relaxed);
        eprintln!(
            "{attempts} wrong passwords in about 3 s ran argon2 {runs} times (5 of them the member's)"
        );
        // Per minute: 5 per account and address (9 accounts) and 20 per
        // address, whichever is reached first; the member's own 5.
        assert!(
            runs <= 20 + 5,
            "argon2 ran {runs} times for {attempts} attempts"
        );
        // A throttled guess is answered after a second: each of the 64
        // connections asks about once a second once the budgets are spent.
        assert!(
            (64..=64 * 5 + 25).contains(&attempts),
            "{attempts} attempts"
        );
    }

    crate::helpers::run_on_both_backends!();
}

on_both_backends! {
    fn operators_list_create_and_disable_organizations(app: &TestApp) {
        app.create_customer(&json!({"firstName": "Counted"}));
        app.create_customer(&json!({"firstName": "Counted too"}));
        let operator = member(app, "platform@example.com", None);
        let list = operator.get("/console/organizations");
        assert_eq!(list.status, 200, "{}", list.text);
        let row = list.text.split("<tr>").find(|row| row.contains(&app.organization_id)).unwrap();
        assert!(row.contains("<td>Test organization</td>") && row.contains("<td>2</td>"), "{row}");
        // A member is refused the page, whatever their role.
        let owner = member(app, "not.platform@example.com", Some(Role::Owner));
        assert_eq!(owner.get("/console/organizations").status, 403);
        let csrf = operator.csrf();
        let created = operator.post_form("/console/organizations", &[("csrf", &csrf), ("name", "Brand new")]);
        assert_eq!(created.status, 303);
        let location = created.header("location").unwrap().to_owned();
        let new_org = location.split("created=").nth(1).unwrap().to_owned();
        assert!(operator.get(&location).text.contains(&new_org));
        // Disabling refuses the organization's keys and members.
        let output = crate::process::clientele(&["key", "create", "--organization", &new_org], &[("CLIENTELE_DATABASE_URL", &app.database_url)], &std::env::temp_dir());
        let key: Value = serde_json::from_slice(&output.stdout).unwrap();
        let auth = format!("ApiKey {}", key["apiKey"].as_str().unwrap());
        let path = format!("/v1/public-api/organizations/{new_org}/customers");
        assert_eq!(app.send_as(Some(&auth), "GET", &path, None).status, 200);
        assert_eq!(operator.post_form(&format!("/console/organizations/{new_org}/disable"), &[("csrf", &csrf)]).status, 303);
        // Key records are cached for a minute at most; a fresh server has none.
        let fresh = TestApp::spawn_at_with(&app.database_url, |_| {});
        fresh.send_as(Some(&auth), "GET", &path, None).problem(403);
        let row = operator.get("/console/organizations").text;
        let row = row.split("<tr>").find(|row| row.contains(&new_org)).unwrap().to_owned();
        assert!(row.contains("T") && !row.contains("Disable Brand new"), "{row}");
        // An operator changes nothing in an organization, through any route.
        let base = format!("/v1/public-api/organizations/{}", app.organization_id);
        assert_eq!(operator.api("POST", &format!("{base}/customers"), Some(&json!({}))).status, 403);
        assert_eq!(operator.api("GET", &format!("{base}/customers"), None).status, 200);
    }
}
