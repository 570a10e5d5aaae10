//! Operations: request ids, metrics, readiness across a database outage,
//! request timeouts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Backend, TestApp, on_both_backends, postgres_authority, postgres_url};
use crate::proxy::Proxy;

/// Sends raw bytes and reads the whole answer (the server closes or the
/// read times out).
fn raw_exchange(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buffer[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n")
            && String::from_utf8_lossy(&answer).contains("\"status\"")
        {
            break;
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

on_both_backends! {
    fn request_ids_are_echoed_or_made(app: &TestApp) {
        let path = app.customers_path();
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        let response = agent
            .get(format!("{}{path}", app.address))
            .header("authorization", format!("ApiKey {}", app.api_key))
            .header("x-request-id", "trace-42.abc")
            .call()
            .unwrap();
        assert_eq!(response.headers()["x-request-id"], "trace-42.abc");
        let made = agent
            .get(format!("{}/nope", app.address))
            .header("x-request-id", "x".repeat(129))
            .call()
            .unwrap();
        let id = made.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(made.status(), 404);
        assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        let unauthorized = agent.get(format!("{}{path}", app.address)).call().unwrap();
        assert_eq!(unauthorized.status(), 401);
        assert_eq!(unauthorized.headers()["x-request-id"].len(), 32);
    }

    fn metrics_count_requests_by_route_template(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Metric"}));
        let id = customer["id"].as_str().unwrap();
        assert_eq!(app.get(&app.customer_path(id)).status, 200);
        assert_eq!(app.get(&app.customer_path(id)).status, 200);
        app.get(&app.customer_path("cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e")).problem(404);
        app.get("/nope").problem(404);
        let response = app.get("/metrics");
        assert_eq!(response.status, 200);
        assert!(response.content_type().starts_with("text/plain"), "{}", response.content_type());
        let text = response.text;
        let item = "/v1/public-api/organizations/{organizationId}/customers/{customerId}";
        assert!(text.contains(&format!("clientele_http_requests_total{{method=\"GET\",route=\"{item}\",status=\"200\"}} 2")), "{text}");
        assert!(text.contains(&format!("clientele_http_requests_total{{method=\"GET\",route=\"{item}\",status=\"404\"}} 1")), "{text}");
        assert!(text.contains("route=\"/v1/public-api/organizations/{organizationId}/customers\",status=\"201\"} 1"), "{text}");
        assert!(text.contains("route=\"unmatched\",status=\"404\"} 1"), "{text}");
        assert!(text.contains(&format!("clientele_http_request_duration_seconds_count{{method=\"GET\",route=\"{item}\"}} 3")), "{text}");
        assert!(text.contains("clientele_db_pool_connections ") && text.contains("clientele_db_pool_idle_connections "));
        assert!(text.contains("clientele_api_key_verifications_total 1\n"), "{text}");
        assert!(!text.contains(id) && !text.contains(&app.organization_id), "ids leaked into labels");
    }
}

#[test]
fn a_request_whose_body_never_arrives_gets_408() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| s.request_timeout_seconds = 1) else {
        return;
    };
    let mut stream = TcpStream::connect(app.address.trim_start_matches("http://")).unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: x\r\nauthorization: ApiKey {}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"firstName\"",
        app.customers_path(),
        app.api_key
    );
    stream.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    let answer = raw_exchange(&mut stream);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("application/problem+json") && answer.contains("/problems/request-timeout"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(app.list("includeTotal=true")["total"], 0);
}

#[test]
fn readiness_follows_a_database_outage_without_a_restart() {
    let Some(base) = postgres_url() else {
        return;
    };
    let proxy = Proxy::start(postgres_authority(base).to_owned());
    let app = TestApp::spawn_postgres_via(proxy.port).expect("PostgreSQL answers");
    assert_eq!(app.get("/ready").status, 200);
    let customer = app.create_customer(&json!({"firstName": "Before"}));
    let path = app.customer_path(customer["id"].as_str().unwrap());

    proxy.cut();
    let ready = app.get("/ready");
    assert_eq!(ready.problem(503)["type"], "/problems/service-unavailable");
    assert_eq!(app.get("/health").status, 200);
    app.get(&path).problem(503);
    app.get(&app.customers_path()).problem(503);
    app.post_json(&app.customers_path(), &json!({"firstName": "During"}))
        .problem(503);
    app.put_json(&path, &json!({"firstName": "During"}))
        .problem(503);
    app.delete(&path).problem(503);

    proxy.resume();
    let deadline = Instant::now() + Duration::from_secs(15);
    while app.get("/ready").status != 200 {
        assert!(
            Instant::now() < deadline,
            "not ready again after the outage"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(app.get(&path).json()["firstName"], "Before");
    assert_eq!(app.list("includeTotal=true")["total"], 1);
}

on_both_backends! {
    fn head_is_answered_wherever_get_is(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Head"}));
        let item = app.customer_path(customer["id"].as_str().unwrap());
        for path in ["/health", "/ready", "/openapi.json", "/docs/", "/metrics", item.as_str(), app.customers_path().as_str()] {
            let get = app.send("GET", path, None);
            let head = app.send("HEAD", path, None);
            assert_eq!(head.status, 200, "HEAD {path}");
            assert_eq!(head.text, "", "HEAD {path} sent a body");
            assert_eq!(head.header("content-type"), get.header("content-type"), "HEAD {path}");
        }
        let bare = app.send_as(None, "HEAD", &item, None);
        assert_eq!(bare.status, 401);
    }

    fn odd_methods_make_no_new_series(app: &TestApp) {
        // HTTP clients refuse invented methods: raw requests instead.
        let address = app.address.trim_start_matches("http://");
        for n in 0..1_000 {
            let mut stream = TcpStream::connect(address).unwrap();
            stream.write_all(format!("FOOBAR{n} /health HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes()).unwrap();
            let answer = raw_exchange(&mut stream);
            assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
        }
        let text = app.get("/metrics").text;
        assert!(!text.contains("FOOBAR"), "a client's method became a label");
        assert!(text.contains("method=\"_OTHER\",route=\"/health\",status=\"405\"} 1000"), "{text}");
        assert!(text.contains(&format!("clientele_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))), "{text}");
        assert!(text.contains("process_resident_memory_bytes") && text.contains("process_cpu_seconds_total"), "{text}");
    }
}

#[test]
fn swagger_ui_sends_nothing_to_a_validator() {
    let Some(app) = TestApp::spawn(Backend::Sqlite) else {
        return;
    };
    let initializer = app.get("/docs/swagger-initializer.js").text;
    assert!(
        initializer.contains("\"validatorUrl\": \"none\""),
        "{initializer}"
    );
}

on_both_backends! {
    fn every_answer_says_nosniff_and_the_docs_carry_a_policy(app: &TestApp) {
        let customer = app.create_customer(&json!({"firstName": "Sniff"}));
        let item = app.customer_path(customer["id"].as_str().unwrap());
        let answers = [
            app.get("/health"), app.get("/ready"), app.get("/openapi.json"), app.get("/docs/"),
            app.get("/docs/swagger-ui.css"), app.get("/docs/nothing-here.js"), app.get("/metrics"),
            app.get(&item), app.get(&app.customers_path()), app.get("/no/such/route"),
            app.send("PATCH", &item, None), app.send_as(None, "GET", &item, None),
            app.post_json(&app.customers_path(), &json!({"phone": "x"})),
        ];
        for answer in &answers {
            assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{} {}", answer.status, answer.text);
        }
        let policy = app.get("/docs/").header("content-security-policy").map(str::to_owned);
        let policy = policy.expect("Swagger UI has a Content-Security-Policy");
        for directive in ["default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
            assert!(policy.contains(directive), "{policy}");
        }
        assert!(!policy.contains("script-src") || policy.contains("script-src 'self'"), "{policy}");
        assert_eq!(app.get("/docs/nothing-here.js").header("content-security-policy"), Some(policy.as_str()));
    }
}
