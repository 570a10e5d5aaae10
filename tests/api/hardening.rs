//! Hardening against abuse: what an outsider, a noisy tenant or a careless
//! operator could do, each refused or bounded.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clientele::domain::scopes::Scope;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, on_both_backends};
use crate::process::{Server, clientele, http, scratch_dir};

/// `curl` from a given local address (127.0.0.2 is another client of the
/// same machine); the status.
fn curl_from(source: &str, url: &str, authorization: &str) -> u16 {
    let output = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--interface",
            source,
        ])
        .args(["-H", &format!("authorization: {authorization}"), url])
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&output.stdout).parse().unwrap()
}

fn wrong_secret(key: &str, n: u32) -> String {
    format!("ApiKey {}{n:064x}", &key[..key.len() - 64])
}

/// A key's owner keeps working while an outsider who knows the key id
/// guesses secrets: from the owner's own address (the owner was verified
/// before, which is honoured first) and from another (the throttle counts
/// failures per address).
#[test]
fn an_outsider_cannot_lock_the_owner_out() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| s.auth_cache_seconds = 1) else {
        return;
    };
    let owner = format!("ApiKey {}", app.create_key(&Scope::ALL));
    let url = format!("{}{}", app.address, app.customers_path());
    // A first use from 127.0.0.2, while an outsider at 127.0.0.1 has
    // already used up that address's failures for the key.
    let key = owner.trim_start_matches("ApiKey ").to_owned();
    for n in 0..10 {
        let status = app
            .send_as(
                Some(&wrong_secret(&key, n)),
                "GET",
                &app.customers_path(),
                None,
            )
            .status;
        assert!(status == 401 || status == 429, "{status}");
    }
    assert_eq!(
        curl_from("127.0.0.2", &url, &owner),
        200,
        "a first use from another address"
    );
    // The outsider goes on from both addresses; the owner calls after its
    // key's record has left the cache each time.
    for round in 0..4 {
        for n in 0..5 {
            curl_from("127.0.0.2", &url, &wrong_secret(&key, 100 + round * 10 + n));
            app.send_as(
                Some(&wrong_secret(&key, 200 + round * 10 + n)),
                "GET",
                &app.customers_path(),
                None,
            );
        }
        std::thread::sleep(Duration::from_millis(1200));
        assert_eq!(
            app.send_as(Some(&owner), "GET", &app.customers_path(), None)
                .status,
            200,
            "round {round}"
        );
        assert_eq!(curl_from("127.0.0.2", &url, &owner), 200, "round {round}");
        let minted = crate::auth::mint(&app, &owner, json!({"scopes": ["customers:read"]}));
        assert_eq!(minted.status, 201, "round {round}: {}", minted.text);
    }
}

on_both_backends! {
    fn a_burst_of_wrong_secrets_runs_argon2_at_most_the_budget(app: &TestApp) {
        let victim = app.create_key(&Scope::ALL);
        let other = format!("ApiKey {}", app.create_key(&Scope::ALL));
        assert_eq!(app.send_as(Some(&other), "GET", &app.customers_path(), None).status, 200);
        let before = app.authenticator.verifications();
        let statuses = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for n in 0..128 {
                let (victim, statuses) = (&victim, &statuses);
                scope.spawn(move || {
                    let answer = app.send_as(Some(&wrong_secret(victim, n)), "GET", &app.customers_path(), None);
                    statuses.lock().unwrap().push(answer.status);
                });
            }
            // Another key's requests go on meanwhile.
            for _ in 0..5 {
                assert_eq!(app.send_as(Some(&other), "GET", &app.customers_path(), None).status, 200);
            }
        });
        let statuses = statuses.into_inner().unwrap();
        assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
        let spent = app.authenticator.verifications() - before;
        assert!(spent <= clientele::auth::MAX_FAILURES_PER_MINUTE as u64, "argon2 ran {spent} times");
    }

    fn argon2_beyond_its_budget_is_refused_unheard(app: &TestApp) {
        // Wrong secrets for many keys at once: each key's own count allows
        // them, the global budget does not.
        let keys: Vec<String> = (0..32).map(|_| app.create_key(&[Scope::CustomersRead])).collect();
        let answers = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for (n, key) in keys.iter().enumerate() {
                let answers = &answers;
                scope.spawn(move || {
                    let answer = app.send_as(Some(&wrong_secret(key, n as u32)), "GET", &app.customers_path(), None);
                    answers.lock().unwrap().push((answer.status, answer.header("retry-after").map(str::to_owned)));
                });
            }
        });
        let answers = answers.into_inner().unwrap();
        assert!(answers.iter().all(|(s, _)| *s == 401 || *s == 429), "{answers:?}");
        assert!(answers.iter().any(|a| *a == (429, Some("1".to_owned()))), "the budget was never reached: {answers:?}");
    }

    fn bounded_complaints_for_unbounded_input(app: &TestApp) {
        let path = app.customers_path();
        let many: Vec<String> = (0..33).map(|n| format!("p{n}=1")).collect();
        let response = app.get(&format!("{path}?{}", many.join("&")));
        assert_eq!(response.invalid_fields(), ["query"]);
        let flood: Vec<String> = (0..2000).map(|n| format!("unknown{n}=1")).collect();
        let response = app.get(&format!("{path}?{}", flood.join("&")));
        assert_eq!(response.status, 422);
        assert!(response.text.len() < 1024, "{} bytes", response.text.len());
        // A long unknown name is echoed cut short.
        let mut body = serde_json::Map::new();
        body.insert("k".repeat(60_000), json!(1));
        for n in 0..100 {
            body.insert(format!("unknown{n}"), json!(1));
        }
        let response = app.post_json(&path, &Value::Object(body));
        assert_eq!(response.status, 422);
        assert!(response.text.len() < 4096, "{} bytes", response.text.len());
        assert_eq!(response.invalid_fields().len(), 20);
        assert_eq!(app.list("includeTotal=true")["total"], 0);
    }

    fn api_answers_are_never_cached(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Private"}));
        let path = app.customer_path(customer["id"].as_str().unwrap());
        for response in [
            app.get(&path),
            app.get(&app.customer_path("cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e")),
            app.send_as(None, "GET", &path, None),
            crate::auth::mint(app, &format!("ApiKey {}", app.api_key), json!({"scopes": ["customers:read"]})),
        ] {
            assert_eq!(response.header("cache-control"), Some("no-store"), "{}", response.status);
        }
    }

    fn times_past_year_9999_compare_as_instants(app: &TestApp) {
        app.create_customer(&json!({"firstName": "Now"}));
        let count = |query: &str| app.list(&format!("{query}&includeTotal=true"))["total"].clone();
        // 9999-12-31T23:59:59-23:59 is in the year 10000: after everything.
        assert_eq!(count("createdFrom=9999-12-31T23:59:59-23:59"), 0);
        assert_eq!(count("createdTo=9999-12-31T23:59:59-23:59"), 1);
        // And 0000-01-01T00:00:00+23:59 before everything.
        assert_eq!(count("createdFrom=0000-01-01T00:00:00%2B23:59"), 1);
        assert_eq!(count("createdTo=0000-01-01T00:00:00%2B23:59"), 0);
    }

    fn swagger_ui_missing_files_are_problems(app: &TestApp) {
        let response = app.get("/docs/no-such-file.js");
        assert_eq!(response.content_type(), "application/problem+json");
        response.problem(404);
        assert_eq!(app.get("/docs/").status, 200);
    }
}

/// A key over its rate limit is answered 429 with `Retry-After`, and every
/// answer tells the policy and what remains; another key is untouched, and
/// the tokens a key minted share its bucket.
#[test]
fn keys_are_rate_limited() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.rate_limit_per_second = 2;
        s.rate_limit_burst = 3;
    }) else {
        return;
    };
    let key = format!("ApiKey {}", app.create_key(&Scope::ALL));
    let path = app.customers_path();
    let token = {
        let minted = crate::auth::mint(&app, &key, json!({"scopes": ["customers:read"]}));
        format!("Bearer {}", minted.json()["token"].as_str().unwrap())
    };
    let mut remaining = Vec::new();
    for _ in 0..2 {
        let answer = app.send_as(Some(&key), "GET", &path, None);
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("ratelimit-policy"), Some("\"key\";q=3;w=2"));
        remaining.push(answer.header("ratelimit").unwrap().to_owned());
    }
    assert_eq!(remaining, ["\"key\";r=1;t=1", "\"key\";r=0;t=1"]);
    // The token drew on the same bucket when it was minted: now empty.
    let refused = app.send_as(Some(&token), "GET", &path, None);
    let problem = refused.problem(429);
    assert_eq!(problem["type"], "/problems/rate-limited");
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert!(
        refused
            .header("ratelimit")
            .unwrap()
            .starts_with("\"key\";r=0;t=")
    );
    // Another key has its own bucket.
    let other = format!("ApiKey {}", app.create_key(&Scope::ALL));
    assert_eq!(app.send_as(Some(&other), "GET", &path, None).status, 200);
    std::thread::sleep(Duration::from_secs(retry_after));
    assert_eq!(app.send_as(Some(&key), "GET", &path, None).status, 200);
}

/// A revoked key stops working on every instance within a second, however
/// recently an instance verified it; its tokens with it.
#[test]
fn a_revocation_reaches_every_instance_within_a_second() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(first) = TestApp::spawn(backend) else {
            continue;
        };
        let second = TestApp::spawn_at(&first.database_url);
        let key = first.create_key(&Scope::ALL);
        let auth = format!("ApiKey {key}");
        let path = first.customers_path();
        let token = crate::auth::mint(&first, &auth, json!({"scopes": ["customers:read"]}));
        let bearer = format!("Bearer {}", token.json()["token"].as_str().unwrap());
        for app in [&first, &second] {
            assert_eq!(app.send_as(Some(&auth), "GET", &path, None).status, 200);
            assert_eq!(app.send_as(Some(&bearer), "GET", &path, None).status, 200);
        }
        let mut conn = clientele::store::connect(&first.database_url).unwrap();
        let key_id = clientele::domain::ids::KeyId::parse(&key[3..39]).unwrap();
        assert!(clientele::store::api_keys::revoke(&mut conn, key_id).unwrap());
        std::thread::sleep(Duration::from_secs(1));
        for app in [&first, &second] {
            app.send_as(Some(&auth), "GET", &path, None).problem(401);
            app.send_as(Some(&bearer), "GET", &path, None).problem(401);
        }
    }
}

/// On PostgreSQL a statement that runs past the timeout is cancelled and
/// answered 503 with Retry-After: here an update waiting for a row lock the
/// test holds.
#[test]
fn a_statement_past_the_timeout_answers_503() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |s| s.statement_timeout_seconds = 1)
    else {
        return;
    };
    let customer = app.create_customer(&json!({"firstName": "Locked"}));
    let id = customer["id"].as_str().unwrap();
    let mut holder = diesel::PgConnection::establish(&app.database_url).unwrap();
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM customers WHERE id = '{id}' FOR UPDATE"
        ))
        .unwrap();
    let started = Instant::now();
    let response = app.put_json(&app.customer_path(id), &json!({"firstName": "Waited"}));
    let problem = response.problem(503);
    assert_eq!(problem["type"], "/problems/service-unavailable");
    assert!(response.header("retry-after").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    holder.batch_execute("ROLLBACK").unwrap();
    assert_eq!(
        app.get(&app.customer_path(id)).json()["firstName"],
        "Locked"
    );
    let response = app.put_json(&app.customer_path(id), &json!({"firstName": "Later"}));
    assert_eq!(response.status, 200, "{}", response.text);
}

/// One organization holding its share of the connections (here three
/// updates waiting on locks the test holds, with a pool of four) does not
/// stop another's requests: its fourth request waits for its own share.
#[test]
fn one_organization_cannot_hold_every_connection() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |s| s.database_pool_size = 4) else {
        return;
    };
    let ids: Vec<String> = (0..4)
        .map(|n| {
            app.create_customer(&json!({"firstName": format!("Held {n}")}))["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let (other_org, other_key) = app.create_organization("Other");
    let other_path = format!("/v1/public-api/organizations/{other_org}/customers");
    let other_auth = format!("ApiKey {other_key}");
    let mut holder = diesel::PgConnection::establish(&app.database_url).unwrap();
    holder
        .batch_execute("BEGIN; SELECT 1 FROM customers FOR UPDATE")
        .unwrap();
    let answers = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for id in &ids {
            let answers = &answers;
            let app = &app;
            scope.spawn(move || {
                let answer = app.put_json(&app.customer_path(id), &json!({"firstName": "Changed"}));
                answers.lock().unwrap().push(answer.status);
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        // The other organization gets the connection left.
        let started = Instant::now();
        let answer = app.send_as(Some(&other_auth), "GET", &other_path, None);
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // The first organization's fourth update found no share left.
        std::thread::sleep(Duration::from_millis(3000));
        holder.batch_execute("ROLLBACK").unwrap();
    });
    let mut answers = answers.into_inner().unwrap();
    answers.sort();
    assert_eq!(answers, [200, 200, 200, 503]);
}

/// A connection to the app for writing HTTP by hand; reads give up after 5 s.
fn raw_connection(app: &TestApp) -> TcpStream {
    let port = app.address.rsplit(':').next().unwrap();
    let stream = TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// Both Content-Length and Transfer-Encoding: 400 and the connection
/// closed, by actix-http before the request reaches the service (so with an
/// empty body, like the other answers to a malformed head).
#[test]
fn ambiguous_framing_is_refused_and_the_connection_closed() {
    let Some(app) = TestApp::spawn(Backend::Sqlite) else {
        return;
    };
    let mut stream = raw_connection(&app);
    let body = "{}";
    // One write: `write!` would send the pieces one by one, and the server
    // may close the connection (as it should) before the last of them.
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        app.customers_path(),
        app.api_key,
        body.len(),
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    // The server closes the connection: the read ends.
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert_eq!(app.list("includeTotal=true")["total"], 0);
}

/// `/metrics` behind a bearer secret when one is set, and not served at
/// all in production without one.
#[test]
fn metrics_need_their_secret_or_their_own_address() {
    let Some(guarded) = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.metrics_token = Some("metrics-secret-0123456789".to_owned().into());
    }) else {
        return;
    };
    guarded.send_as(None, "GET", "/metrics", None).problem(401);
    guarded
        .send_as(Some("Bearer wrong"), "GET", "/metrics", None)
        .problem(401);
    let answer = guarded.send_as(
        Some("Bearer metrics-secret-0123456789"),
        "GET",
        "/metrics",
        None,
    );
    assert_eq!(answer.status, 200);
    let production = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.profile = clientele::config::Profile::Production
    })
    .unwrap();
    production
        .send_as(None, "GET", "/metrics", None)
        .problem(404);
}

/// The binary: a secret of digits is used as written, profile names ignore
/// case and unknown ones are refused, tokens do not carry the key's id, the
/// SQLite file is its owner's only, `/metrics` on its own address, and
/// refused guesses do not fill the log.
#[test]
fn the_binary_takes_its_settings_as_written() {
    let dir = scratch_dir("hardening");
    let digits = "1234567890123456789012345678901234567890";
    let refused = Server::start(
        &[
            ("CLIENTELE_ENV", "prod"),
            ("CLIENTELE_DATABASE_URL", "sqlite://x.db"),
        ],
        &dir,
    )
    .err()
    .expect("started with an unknown profile");
    assert!(refused.contains("prod"), "{refused}");
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_bind = format!("127.0.0.1:{metrics_port}");
    let env = [
        ("CLIENTELE_ENV", "Production"),
        ("CLIENTELE_DATABASE_URL", "sqlite://hardened.db"),
        ("CLIENTELE_JWT_SECRET", digits),
        ("CLIENTELE_METRICS_BIND", metrics_bind.as_str()),
        ("RUST_LOG", "info"),
    ];
    let created: Value = serde_json::from_slice(
        &clientele(&["org", "create", "--name", "Hardened"], &env, &dir).stdout,
    )
    .unwrap();
    let server = Server::start(&env, &dir).unwrap();
    let org = created["organizationId"].as_str().unwrap();
    let key = created["apiKey"].as_str().unwrap();
    let mut minted = http()
        .post(server.url(&format!("/v1/public-api/organizations/{org}/tokens")))
        .header("authorization", format!("ApiKey {key}"))
        .send_json(json!({"scopes": ["customers:read"]}))
        .unwrap();
    let token = minted.body_mut().read_json::<Value>().unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["clientele-public-api"]);
    let claims = jsonwebtoken::decode::<Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(digits.as_bytes()),
        &validation,
    )
    .expect("signed with the secret as written")
    .claims;
    assert_eq!(claims.get("kid"), None);
    assert!(
        !token.contains(&key[3..39]) && !claims.to_string().contains(&key[3..39]),
        "{claims}"
    );
    assert!(
        claims["ref"].as_str().is_some_and(|r| r.len() == 32),
        "{claims}"
    );
    // /metrics is served on its own address only, and nothing else there.
    assert_eq!(
        http().get(server.url("/metrics")).call().unwrap().status(),
        404
    );
    let metrics = format!("http://{metrics_bind}");
    assert_eq!(
        http()
            .get(format!("{metrics}/metrics"))
            .call()
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http()
            .get(format!("{metrics}/health"))
            .call()
            .unwrap()
            .status(),
        404
    );
    // Fifty wrong secrets: no line each.
    for n in 0..50 {
        let auth = format!("ApiKey {}{n:064x}", &key[..key.len() - 64]);
        let status = http()
            .get(server.url(&format!("/v1/public-api/organizations/{org}/customers")))
            .header("authorization", auth)
            .call()
            .unwrap()
            .status();
        assert!(status == 401 || status == 429, "{status}");
    }
    use std::os::unix::fs::PermissionsExt;
    for file in ["hardened.db", "hardened.db-wal", "hardened.db-shm"] {
        let mode = std::fs::metadata(dir.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{file} is {mode:o}");
    }
    let (stdout, stderr) = server.stop();
    assert_eq!(stdout, "", "production printed a key");
    let about_the_key = stderr
        .lines()
        .filter(|l| l.contains(&key[3..39]) && !l.contains(" GET "))
        .count();
    assert!(about_the_key <= 1, "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A body-less route (here DELETE) asked with an empty chunked body, whose
/// last chunk arrives after the answer: the connection stays usable for the
/// next request. Clients send such bodies (ureq does for a POST without
/// one); a server that answered and then dropped the connection unread
/// failed the client's next request on it.
#[test]
fn an_unread_empty_chunked_body_leaves_the_connection_usable() {
    let Some(app) = TestApp::spawn(Backend::Sqlite) else {
        return;
    };
    let id = app.create_customer(&json!({"firstName": "Ada", "lastName": "Lovelace"}))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = app.customer_path(&id);
    let mut stream = raw_connection(&app);
    let head = format!(
        "DELETE {path} HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        app.api_key
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The answer comes before the body has ended.
    let mut answer = Vec::new();
    let mut byte = [0u8];
    while !answer.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "{answer:?}");
        answer.push(byte[0]);
    }
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    let next = format!(
        "0\r\n\r\nGET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: ApiKey {}\r\nConnection: close\r\n\r\n",
        app.api_key
    );
    stream.write_all(next.as_bytes()).unwrap();
    let mut rest = String::new();
    stream.read_to_string(&mut rest).unwrap();
    assert!(rest.starts_with("HTTP/1.1 404"), "{rest:?}");
    assert_eq!(app.get(&path).status, 404);
}

/// A request refused before its body arrived (here: no credential) is
/// answered with `Connection: close`: the unread bytes must not be taken for
/// the next request on the connection, and the client is told not to reuse
/// it rather than meeting a closed socket.
#[test]
fn a_request_refused_before_its_body_arrived_is_told_the_connection_closes() {
    let Some(app) = TestApp::spawn(Backend::Sqlite) else {
        return;
    };
    let mut stream = raw_connection(&app);
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        app.customers_path()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
}
