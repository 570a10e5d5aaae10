//! The `clientele` binary itself: the admin commands, the first-run
//! bootstrap, the production checks, and what its log never holds.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, JWT_SECRET, TestApp, on_both_backends};
use crate::process::{Server, clientele, http, scratch_dir};

/// Runs an admin command against `app`'s database and parses its output,
/// asserting success.
fn admin(app: &TestApp, args: &[&str]) -> Value {
    let output = clientele(
        args,
        &[("CLIENTELE_DATABASE_URL", &app.database_url)],
        &std::env::temp_dir(),
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}");
    serde_json::from_str(&stdout).unwrap()
}

/// Runs an admin command that must fail, and returns its stderr.
fn admin_fails(app: &TestApp, args: &[&str]) -> String {
    let output = clientele(
        args,
        &[("CLIENTELE_DATABASE_URL", &app.database_url)],
        &std::env::temp_dir(),
    );
    assert!(!output.status.success(), "{args:?} succeeded");
    assert!(
        output.stdout.is_empty(),
        "{args:?} printed {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stderr).unwrap()
}

on_both_backends! {
    fn the_admin_commands_manage_organizations_and_keys(app: &TestApp) {
        let created = admin(app, &["org", "create", "--name", "Acme"]);
        let org = created["organizationId"].as_str().unwrap();
        assert!(org.starts_with("org_"));
        assert!(created["keyId"].as_str().unwrap().starts_with("key_"));
        assert!(created["apiKey"].as_str().unwrap().starts_with("ck_key_"));
        assert!(created["testKeyId"].as_str().unwrap().starts_with("key_"));
        assert!(created["testApiKey"].as_str().unwrap().starts_with("ck_test_key_"));
        assert_eq!(created.as_object().unwrap().len(), 5);

        let reader = admin(app, &["key", "create", "--organization", org, "--name", "reporting", "--scopes", "customers:read"]);
        assert_eq!(reader.as_object().unwrap().keys().collect::<Vec<_>>(), ["apiKey", "keyId", "mode"]);
        assert_eq!(reader["mode"], "live");
        let reader_key = reader["apiKey"].as_str().unwrap();
        let path = format!("/v1/public-api/organizations/{org}/customers");
        let as_reader = format!("ApiKey {reader_key}");
        assert_eq!(app.send_as(Some(&as_reader), "GET", &path, None).status, 200);
        let body = json!({}).to_string();
        assert_eq!(app.send_as(Some(&as_reader), "POST", &path, Some(("application/json", body.as_bytes()))).status, 403);
        let as_admin = format!("ApiKey {}", created["apiKey"].as_str().unwrap());
        assert_eq!(app.send_as(Some(&as_admin), "POST", &path, Some(("application/json", body.as_bytes()))).status, 201);

        let unused = admin(app, &["key", "create", "--organization", org]);
        let listed = admin(app, &["key", "list", "--organization", org]);
        let keys = listed["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 4);
        for key in keys {
            let mut fields: Vec<&String> = key.as_object().unwrap().keys().collect();
            fields.sort();
            assert_eq!(fields, ["createdTime", "keyId", "lastUsedTime", "mode", "name", "previousSecretExpiresTime", "revokedTime", "scopes"]);
            crate::customers_create::assert_api_time(&key["createdTime"]);
            assert_eq!(key["revokedTime"], Value::Null);
        }
        let modes: Vec<&Value> = keys.iter().map(|key| &key["mode"]).collect();
        assert_eq!(modes, [&json!("live"), &json!("test"), &json!("live"), &json!("live")]);
        assert_eq!(keys[2]["name"], "reporting");
        assert_eq!(keys[2]["scopes"], json!(["customers:read"]));
        assert_eq!(keys[3]["scopes"], json!(["customers:read", "customers:write", "tokens:create"]));
        let text = listed.to_string();
        assert!(!text.contains("ck_") && !text.contains("argon2") && !text.contains(reader_key));

        let unused_id = unused["keyId"].as_str().unwrap();
        assert_eq!(admin(app, &["key", "revoke", unused_id]), json!({"keyId": unused_id, "revoked": true}));
        assert_eq!(admin(app, &["key", "revoke", unused_id]), json!({"keyId": unused_id, "revoked": true}));
        let as_revoked = format!("ApiKey {}", unused["apiKey"].as_str().unwrap());
        app.send_as(Some(&as_revoked), "GET", &path, None).problem(401);
        let listed = admin(app, &["key", "list", "--organization", org]);
        crate::customers_create::assert_api_time(&listed["keys"][3]["revokedTime"]);
    }

    fn the_admin_commands_refuse_bad_input(app: &TestApp) {
        let unknown_org = "org_0193a3c2d1007c2e8a1b2c3d4e5f6a7b";
        assert!(admin_fails(app, &["key", "create", "--organization", unknown_org]).contains("no organization"));
        assert!(admin_fails(app, &["key", "list", "--organization", unknown_org]).contains("no organization"));
        assert!(admin_fails(app, &["key", "create", "--organization", "acme"]).contains("organization id"));
        let org = app.organization_id.as_str();
        assert!(admin_fails(app, &["key", "create", "--organization", org, "--scopes", "customers:admin"]).contains("customers:admin"));
        assert!(admin_fails(app, &["key", "create", "--organization", org, "--scopes", ""]).contains("scope"));
        assert!(admin_fails(app, &["key", "revoke", "key_nope"]).contains("key id"));
        assert!(admin_fails(app, &["key", "revoke", "key_0193a3c2d1007c2e8a1b2c3d4e5f6a7b"]).contains("no key"));
        assert!(admin_fails(app, &["org", "create", "--name", "  "]).contains("empty"));
        assert!(admin_fails(app, &["org", "create"]).contains("--name"));
        assert!(admin_fails(app, &["frobnicate"]).contains("frobnicate"));
    }
}

on_both_backends! {
    fn the_user_commands_invite_list_and_disable_people(app: &TestApp) {
        let org = app.organization_id.as_str();
        let invited = admin(app, &["user", "invite", "--organization", org, "--email", "Dana@Example.com", "--role", "developer"]);
        assert_eq!(invited.as_object().unwrap().keys().collect::<Vec<_>>(), ["inviteUrl", "userId"]);
        let user_id = invited["userId"].as_str().unwrap().to_owned();
        assert!(user_id.starts_with("usr_"));
        let url = invited["inviteUrl"].as_str().unwrap();
        assert!(url.starts_with("http://127.0.0.1:8080/console/invite/"), "{url}");
        let secret = url.rsplit('/').next().unwrap();
        assert_eq!(secret.len(), 64);
        // The link works once, on the server it names (here, the test's).
        let person = crate::people::Person::new(app, "Dana@Example.com");
        assert_eq!(person.post_form(&format!("/console/invite/{secret}"), &[("password", crate::people::PASSWORD)]).status, 303);
        let operator = admin(app, &["user", "invite", "--platform", "--email", "ops@example.com"]);
        let listed = admin(app, &["user", "list", "--organization", org]);
        let people = listed["users"].as_array().unwrap();
        assert_eq!(people.len(), 1);
        assert_eq!(people[0]["email"], "Dana@Example.com");
        assert_eq!(people[0]["role"], "developer");
        assert_eq!(people[0]["status"], "active");
        assert_eq!(people[0]["twoStep"], false);
        let platform = admin(app, &["user", "list", "--platform"]);
        assert_eq!(platform["users"][0]["userId"], operator["userId"]);
        assert_eq!(platform["users"][0]["status"], "invited");
        assert_eq!(platform["users"][0]["role"], "operator");
        assert!(!listed.to_string().contains("argon2") && !listed.to_string().contains(secret));
        assert_eq!(admin(app, &["user", "disable", &user_id]), json!({"userId": user_id, "disabled": true}));
        assert_eq!(admin(app, &["user", "list", "--organization", org])["users"][0]["status"], "disabled");
        assert_eq!(person.get("/console/account").status, 303);
        // Bad input, named.
        assert!(admin_fails(app, &["user", "invite", "--organization", org, "--email", "x@y.co", "--role", "king"]).contains("owner, developer, support, analyst"));
        assert!(admin_fails(app, &["user", "invite", "--organization", org, "--email", "not-an-email", "--role", "owner"]).contains("email"));
        assert!(admin_fails(app, &["user", "invite", "--organization", org, "--platform", "--email", "x@y.co"]).contains("cannot be used with"));
        assert!(admin_fails(app, &["user", "invite", "--organization", org, "--email", "dana@example.com", "--role", "owner"]).contains("An account with this email exists"));
        assert!(admin_fails(app, &["user", "disable", "usr_0193a3c2d1027e4fab3c4d5e6f7a8b9c"]).contains("no person"));
    }
}

/// Key records are reloaded every second: what a roll did on another
/// process is seen within it.
fn short_cache(settings: &mut clientele::config::Settings) {
    settings.auth_cache_seconds = 1;
}

on_both_backends! {
    with short_cache;

    fn a_rolled_key_keeps_its_old_secret_for_the_grace_period(app: &TestApp) {
        let path = format!("/v1/public-api/organizations/{}/customers", app.organization_id);
        let first = admin(app, &["key", "create", "--organization", &app.organization_id, "--scopes", "customers:read"]);
        let key_id = first["keyId"].as_str().unwrap().to_owned();
        let auth = |key: &Value| format!("ApiKey {}", key["apiKey"].as_str().unwrap());
        assert_eq!(app.send_as(Some(&auth(&first)), "GET", &path, None).status, 200);
        let second = admin(app, &["key", "roll", &key_id, "--grace", "1h"]);
        assert_eq!(second["keyId"], key_id.as_str());
        assert_ne!(second["apiKey"], first["apiKey"]);
        crate::customers_create::assert_api_time(&second["previousSecretExpiresTime"]);
        std::thread::sleep(Duration::from_millis(1_500));
        assert_eq!(app.send_as(Some(&auth(&first)), "GET", &path, None).status, 200, "the old secret, within its grace");
        assert_eq!(app.send_as(Some(&auth(&second)), "GET", &path, None).status, 200);
        let third = admin(app, &["key", "roll", &key_id, "--grace", "now"]);
        std::thread::sleep(Duration::from_millis(1_500));
        app.send_as(Some(&auth(&second)), "GET", &path, None).problem(401);
        app.send_as(Some(&auth(&first)), "GET", &path, None).problem(401);
        assert_eq!(app.send_as(Some(&auth(&third)), "GET", &path, None).status, 200);
        let listed = admin(app, &["key", "list", "--organization", &app.organization_id]);
        let key = listed["keys"].as_array().unwrap().iter().find(|k| k["keyId"] == key_id.as_str()).unwrap().clone();
        assert_eq!(key["scopes"], json!(["customers:read"]));
        crate::customers_create::assert_api_time(&key["previousSecretExpiresTime"]);
        crate::customers_create::assert_api_time(&key["lastUsedTime"]);
        assert!(admin_fails(app, &["key", "roll", &key_id, "--grace", "forever"]).contains("24h"));
        admin(app, &["key", "revoke", &key_id]);
        assert!(admin_fails(app, &["key", "roll", &key_id]).contains("no live key"));
    }
}

#[test]
fn the_first_run_creates_an_organization_once() {
    let dir = scratch_dir("bootstrap");
    let env = [("CLIENTELE_DATABASE_URL", "sqlite://first.db")];
    let server = Server::start(&env, &dir).unwrap();
    let created = server.first_stdout_line();
    let (org, key) = (
        created["organizationId"].as_str().unwrap(),
        created["apiKey"].as_str().unwrap(),
    );
    assert!(created["keyId"].as_str().unwrap().starts_with("key_"));
    let mut response = http()
        .post(server.url(&format!("/v1/public-api/organizations/{org}/tokens")))
        .header("authorization", format!("ApiKey {key}"))
        .send_json(json!({"scopes": ["customers:read", "customers:write"]}))
        .unwrap();
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.body_mut().read_to_string().unwrap()
    );
    let (_, stderr) = server.stop();
    assert!(!stderr.contains(key), "the key reached the log");
    assert!(
        stderr.contains("random secret"),
        "no warning about the generated JWT secret"
    );

    let again = Server::start(&env, &dir).unwrap();
    let (stdout, _) = again.stop();
    assert_eq!(stdout, "", "the second run printed something");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn production_refuses_to_start_without_a_strong_jwt_secret() {
    let dir = scratch_dir("production");
    let base = [
        ("CLIENTELE_ENV", "production"),
        ("CLIENTELE_DATABASE_URL", "sqlite://prod.db"),
    ];
    let missing = Server::start(&base, &dir)
        .err()
        .expect("started without a secret");
    assert!(missing.contains("CLIENTELE_JWT_SECRET"), "{missing}");
    let short = [base[0], base[1], ("CLIENTELE_JWT_SECRET", "short")];
    let output = Server::start(&short, &dir)
        .err()
        .expect("started with a short secret");
    assert!(
        output.contains("at least 32 bytes") && !output.contains("short\n"),
        "{output}"
    );
    let strong = [base[0], base[1], ("CLIENTELE_JWT_SECRET", JWT_SECRET)];
    let server = Server::start(&strong, &dir).unwrap();
    assert_eq!(
        http().get(server.url("/health")).call().unwrap().status(),
        200
    );
    let (stdout, stderr) = server.stop();
    assert_eq!(stdout, "", "production bootstrapped an organization");
    assert!(!stderr.contains(JWT_SECRET));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn no_secret_ever_reaches_the_log() {
    let dir = scratch_dir("log");
    let env = [
        ("CLIENTELE_DATABASE_URL", "sqlite://log.db"),
        ("CLIENTELE_JWT_SECRET", JWT_SECRET),
        ("CLIENTELE_BOOTSTRAP", "false"),
        ("RUST_LOG", "trace"),
    ];
    let created: Value =
        serde_json::from_slice(&clientele(&["org", "create", "--name", "Log"], &env, &dir).stdout)
            .unwrap();
    let (org, key) = (
        created["organizationId"].as_str().unwrap(),
        created["apiKey"].as_str().unwrap(),
    );
    let server = Server::start(&env, &dir).unwrap();
    let agent = http();
    let customers = server.url(&format!("/v1/public-api/organizations/{org}/customers"));
    let tokens = server.url(&format!("/v1/public-api/organizations/{org}/tokens"));
    let as_key = format!("ApiKey {key}");
    let wrong = format!("ApiKey {}{}", &key[..key.len() - 64], "0".repeat(64));
    let token = agent
        .post(&tokens)
        .header("authorization", &as_key)
        .send_json(json!({"scopes": ["customers:read"]}))
        .unwrap()
        .body_mut()
        .read_json::<Value>()
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for auth in [
        as_key.clone(),
        wrong.clone(),
        format!("Bearer {token}"),
        format!("Bearer {token}x"),
        "ApiKey".into(),
    ] {
        let _ = agent
            .get(&customers)
            .header("authorization", &auth)
            .call()
            .unwrap();
        let _ = agent
            .post(&customers)
            .header("authorization", &auth)
            .send("{oops")
            .unwrap();
    }
    let (stdout, stderr) = server.stop();
    let log = format!("{stdout}{stderr}");
    assert!(
        log.contains("/customers"),
        "the log is not being captured: {log}"
    );
    let secret_part = &key[key.len() - 64..];
    let token_signature = token.rsplit('.').next().unwrap();
    for secret in [
        key,
        secret_part,
        &wrong[7..],
        &token,
        token_signature,
        JWT_SECRET,
        "$argon2",
    ] {
        assert!(!log.contains(secret), "the log holds a secret: {secret}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A server on SQLite with a request in flight on `stream`: its head and the
/// first 5 bytes of `IN_FLIGHT_BODY` are sent, the rest is not.
struct InFlight {
    server: Server,
    stream: std::net::TcpStream,
    dir: PathBuf,
}

const IN_FLIGHT_BODY: &[u8] = br#"{"firstName": "In flight"}"#;

impl InFlight {
    fn start(name: &str) -> InFlight {
        let dir = scratch_dir(name);
        let env = [
            ("CLIENTELE_DATABASE_URL", "sqlite://stop.db"),
            ("CLIENTELE_JWT_SECRET", JWT_SECRET),
        ];
        let server = Server::start(&env, &dir).unwrap();
        let bootstrap = server.first_stdout_line();
        let (org, key) = (
            bootstrap["organizationId"].as_str().unwrap(),
            bootstrap["apiKey"].as_str().unwrap(),
        );

        // One connection, already served once (so the server has accepted it
        // and the key is verified) before the stop arrives.
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let path = format!("/v1/public-api/organizations/{org}/customers");
        let warm = format!(
            "GET {path}?limit=1 HTTP/1.1\r\nhost: x\r\nauthorization: ApiKey {key}\r\n\r\n"
        );
        stream.write_all(warm.as_bytes()).unwrap();
        let mut seen = Vec::new();
        let mut buffer = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("hasMore") {
            let n = stream.read(&mut buffer).unwrap();
            assert!(
                n > 0,
                "the connection closed: {}",
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(&buffer[..n]);
        }
        assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"));

        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: ApiKey {key}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            IN_FLIGHT_BODY.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&IN_FLIGHT_BODY[..5]).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        InFlight {
            server,
            stream,
            dir,
        }
    }

    fn signal(&self, signal: &str) {
        let pid = self.server.child.id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(sent.success());
    }

    /// Sends the rest of the body; the answer, empty if the connection was
    /// closed (the write itself may fail then).
    fn finish(&mut self) -> String {
        let _ = self.stream.write_all(&IN_FLIGHT_BODY[5..]);
        let mut answer = String::new();
        let _ = self.stream.read_to_string(&mut answer);
        answer
    }

    fn exit_status(&mut self) -> std::process::ExitStatus {
        self.server.child.wait().unwrap()
    }

    fn log(self) -> String {
        let (_, log) = self.server.stop();
        std::fs::remove_dir_all(self.dir).unwrap();
        log
    }
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_then_exits_0() {
    let mut in_flight = InFlight::start("sigterm");
    in_flight.signal("-TERM");
    std::thread::sleep(Duration::from_millis(500));
    let answer = in_flight.finish();
    let status = in_flight.exit_status();
    let log = in_flight.log();
    assert!(
        answer.starts_with("HTTP/1.1 201") && answer.contains("In flight"),
        "answer {answer:?}, {status}, server log:\n{log}"
    );
    assert!(status.success(), "exit status {status}");
    assert!(log.contains("graceful shutdown"), "{log}");
}

#[test]
fn sigint_stops_at_once_without_finishing_requests() {
    let mut in_flight = InFlight::start("sigint");
    in_flight.signal("-INT");
    let status = in_flight.exit_status();
    let answer = in_flight.finish();
    let log = in_flight.log();
    assert_eq!(answer, "", "server log:\n{log}");
    assert!(status.success(), "exit status {status}");
    assert!(log.contains("forced shutdown"), "{log}");
}

#[test]
fn a_logged_cause_carries_its_request_id() {
    let Some(database) = crate::helpers::TestDatabase::create(crate::helpers::Backend::Postgres)
    else {
        return;
    };
    let base = crate::helpers::postgres_url().unwrap();
    let proxy = crate::proxy::Proxy::start(crate::helpers::postgres_authority(base).to_owned());
    let via = database.url.replacen(
        crate::helpers::postgres_authority(base),
        &format!("127.0.0.1:{}", proxy.port),
        1,
    );
    let dir = scratch_dir("cause");
    let env = [
        ("CLIENTELE_DATABASE_URL", via.as_str()),
        ("CLIENTELE_JWT_SECRET", JWT_SECRET),
        ("CLIENTELE_BOOTSTRAP", "false"),
    ];
    let created: Value = serde_json::from_slice(
        &clientele(&["org", "create", "--name", "Cause"], &env, &dir).stdout,
    )
    .unwrap();
    let (org, key) = (
        created["organizationId"].as_str().unwrap(),
        created["apiKey"].as_str().unwrap(),
    );
    let server = Server::start(&env, &dir).unwrap();
    let customers = server.url(&format!("/v1/public-api/organizations/{org}/customers"));
    let as_key = format!("ApiKey {key}");
    let ok = http()
        .get(&customers)
        .header("authorization", &as_key)
        .call()
        .unwrap();
    assert_eq!(ok.status(), 200);
    proxy.cut();
    let failed = http()
        .get(&customers)
        .header("authorization", &as_key)
        .header("x-request-id", "trace-cause-42")
        .call()
        .unwrap();
    assert_eq!(failed.status(), 503);
    assert_eq!(failed.headers()["retry-after"], "1");
    let (_, log) = server.stop();
    let cause = log
        .lines()
        .find(|line| line.contains("request_id=trace-cause-42") && !line.contains(" 503 "))
        .unwrap_or_else(|| panic!("no cause logged with the request id:\n{log}"));
    assert!(cause.contains("database unavailable"), "{cause}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_global_flags_override_the_environment_and_org_list_shows_organizations() {
    let dir = scratch_dir("flags");
    let env = [("CLIENTELE_DATABASE_URL", "sqlite://from-env.db")];
    let created = clientele(
        &[
            "--database-url",
            "sqlite://from-flag.db",
            "org",
            "create",
            "--name",
            "Flagged",
        ],
        &env,
        &dir,
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let log = String::from_utf8(
        clientele(
            &["org", "list", "--database-url", "sqlite://from-flag.db"],
            &env,
            &dir,
        )
        .stderr,
    )
    .unwrap();
    let listed: Value = serde_json::from_slice(
        &clientele(
            &["org", "list", "--database-url", "sqlite://from-flag.db"],
            &env,
            &dir,
        )
        .stdout,
    )
    .unwrap();
    let organizations = listed["organizations"].as_array().unwrap();
    assert_eq!(organizations.len(), 1);
    assert_eq!(
        organizations[0]["organizationId"],
        created["organizationId"]
    );
    assert_eq!(organizations[0]["name"], "Flagged");
    crate::customers_create::assert_api_time(&organizations[0]["createdTime"]);
    assert!(
        !dir.join("from-env.db").exists(),
        "the environment's database was opened"
    );
    let opened = format!("SQLite file {}", dir.join("from-flag.db").display());
    assert!(
        log.contains(&opened),
        "the opened file is not logged: {log}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn help_describes_every_option_and_names_every_variable() {
    let dir = scratch_dir("help");
    let help = String::from_utf8(clientele(&["--help"], &[], &dir).stdout).unwrap();
    for line in include_str!("../../config/default.toml").lines() {
        if let Some(rest) = line.strip_prefix("# CLIENTELE_") {
            let variable = format!("CLIENTELE_{}", rest.split(':').next().unwrap());
            assert!(
                help.contains(&variable),
                "--help does not name {variable}:\n{help}"
            );
        }
    }
    for expected in [
        "CLIENTELE_ENV",
        "RUST_LOG",
        "--database-url <URL>",
        "--bind <ADDRESS>",
    ] {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }
    let create =
        String::from_utf8(clientele(&["key", "create", "--help"], &[], &dir).stdout).unwrap();
    for option in ["--organization", "--name", "--scopes"] {
        let line = create
            .lines()
            .find(|l| l.trim_start().starts_with(option))
            .unwrap();
        assert!(
            line.split_whitespace().count() > 2,
            "{option} has no help: {line}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unknown_url_scheme_is_refused_by_name() {
    let dir = scratch_dir("scheme");
    let output = clientele(
        &["org", "list"],
        &[("CLIENTELE_DATABASE_URL", "mysql://db/x")],
        &dir,
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("\"mysql\"") && stderr.contains("not supported"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "a file was created"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_busy_port_loses_no_first_run_key() {
    let dir = scratch_dir("busy");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = busy.local_addr().unwrap().to_string();
    let env = [("CLIENTELE_DATABASE_URL", "sqlite://first.db")];
    let failed = clientele(&["--bind", &address], &env, &dir);
    assert!(!failed.status.success());
    assert!(
        failed.stdout.is_empty(),
        "a key was printed by a server that never ran"
    );
    assert!(String::from_utf8_lossy(&failed.stderr).contains("cannot listen"));
    let listed: Value =
        serde_json::from_slice(&clientele(&["org", "list"], &env, &dir).stdout).unwrap();
    assert_eq!(
        listed["organizations"],
        json!([]),
        "the failed start created an organization"
    );
    drop(busy);
    let server = Server::start(&env, &dir).unwrap();
    let created = server.first_stdout_line();
    let key = created["apiKey"].as_str().unwrap();
    let org = created["organizationId"].as_str().unwrap();
    let answer = http()
        .get(server.url(&format!("/v1/public-api/organizations/{org}/customers")))
        .header("authorization", format!("ApiKey {key}"))
        .call()
        .unwrap();
    assert_eq!(answer.status(), 200);
    server.stop();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn malformed_requests_are_logged_at_debug_only() {
    let dir = scratch_dir("malformed");
    let env = [
        ("CLIENTELE_DATABASE_URL", "sqlite://m.db"),
        ("CLIENTELE_JWT_SECRET", JWT_SECRET),
    ];
    let server = Server::start(&env, &dir).unwrap();
    for garbage in [
        "NOT HTTP AT ALL\r\n\r\n",
        "GET / HTTP/1.1\r\nbad header\r\n\r\n",
        "\u{1}\u{2}\u{3}\r\n\r\n",
    ] {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream.write_all(garbage.as_bytes()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
    let (_, log) = server.stop();
    let loud: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" ERROR ") || l.contains(" WARN "))
        .collect();
    assert!(
        loud.is_empty(),
        "a client's malformed request was logged loudly: {loud:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
