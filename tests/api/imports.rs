//! Imports (contract section 15): a file in, row by row, in the background;
//! refused rows reported and nothing else changed by them; bad files
//! refused whole; an export read back into another organization; a
//! SIGKILL that loses and doubles nothing (`crashes`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, Response, TestApp, on_both_backends};

const CSV: &str = "text/csv";
const NDJSON: &str = "application/x-ndjson";

fn imports_path(org: &str) -> String {
    format!("/v1/public-api/organizations/{org}/customers/imports")
}

/// POSTs a file to the test's organization.
fn post(app: &TestApp, query: &str, content_type: &str, file: &[u8]) -> Response {
    let path = format!("{}?{query}", imports_path(&app.organization_id));
    app.send("POST", &path, Some((content_type, file)))
}

/// Starts an import: 202 with it, running.
fn start(app: &TestApp, query: &str, content_type: &str, file: &[u8]) -> Value {
    let response = post(app, query, content_type, file);
    assert_eq!(response.status, 202, "{}", response.text);
    let import = response.json();
    assert_eq!(import["status"], "running");
    assert_eq!(
        response.header("location"),
        Some(
            format!(
                "{}/{}",
                imports_path(&app.organization_id),
                import["id"].as_str().unwrap()
            )
            .as_str()
        )
    );
    import
}

/// The import once it has ended.
fn ended(app: &TestApp, org: &str, auth: Option<&str>, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    let path = format!("{}/{id}", imports_path(org));
    loop {
        let response = match auth {
            Some(auth) => app.send_as(Some(auth), "GET", &path, None),
            None => app.get(&path),
        };
        assert_eq!(response.status, 200, "{}", response.text);
        let import = response.json();
        if !import["finishedTime"].is_null() {
            return import;
        }
        assert!(
            Instant::now() < deadline,
            "the import did not end: {import}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn import_and_wait(app: &TestApp, query: &str, content_type: &str, file: &[u8]) -> Value {
    let import = start(app, query, content_type, file);
    ended(
        app,
        &app.organization_id,
        None,
        import["id"].as_str().unwrap(),
    )
}

fn customer_count(app: &TestApp) -> i64 {
    app.count_rows(&format!(
        "SELECT count(*) AS n FROM customers WHERE organization_id = '{}'",
        app.organization_id
    ))
}

fn all_customers(app: &TestApp, org: &str, auth: &str) -> Vec<Value> {
    let path = format!("/v1/public-api/organizations/{org}/customers?limit=100&sort=createdTime");
    let response = app.send_as(Some(auth), "GET", &path, None);
    assert_eq!(response.status, 200, "{}", response.text);
    response.json()["data"].as_array().unwrap().clone()
}

fn fields(import: &Value) -> Vec<(i64, String)> {
    import["errors"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|error| {
            let row = error["row"].as_i64().unwrap();
            error["invalidFields"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |f| (row, f["field"].as_str().unwrap().to_owned()))
        })
        .collect()
}

on_both_backends! {
    fn a_csv_file_is_imported_row_by_row_and_refused_rows_change_nothing(app: &TestApp) {
        // A BOM, CRLF line ends, a quoted cell with a comma and one with a
        // newline, a ragged row, an invalid email, a taken externalId.
        let file = "\u{feff}externalId,firstName,lastName,email,phoneNumber,address.city,address.country,metadata\r\n\
            crm-1,Jane,Doe,jane@example.com,+1 555 0100,Springfield,US,\"{\"\"tier\"\":\"\"gold\"\"}\"\r\n\
            crm-2,Bad,,not-an-email,,,XX,\r\n\
            crm-1,Again,,,,,,\r\n\
            crm-3,\"Smith, Jr.\",Ann,,,\"Main\nStreet\",FR,\r\n\
            crm-4,Short\r\n\
            ,No,Reference,,,,,\r\n";
        let import = import_and_wait(app, "", CSV, file.as_bytes());
        assert_eq!(import["status"], "succeeded", "{import}");
        assert_eq!(import["rowsTotal"], 6);
        assert_eq!(import["rowsDone"], 6);
        assert_eq!((import["created"].as_i64(), import["refused"].as_i64()), (Some(3), Some(3)), "{import}");
        assert_eq!(
            fields(&import),
            [
                (2, "address.country".into()),
                (2, "email".into()),
                (3, "externalId".into()),
                (5, "row".into()),
            ]
        );
        let customers = all_customers(app, &app.organization_id, &format!("ApiKey {}", app.api_key));
        assert_eq!(customers.len(), 3);
        let jane = &customers[0];
        assert_eq!(jane["externalId"], "crm-1");
        assert_eq!(jane["phoneNumber"], "+15550100");
        assert_eq!(jane["address"]["city"], "Springfield");
        assert_eq!(jane["metadata"], json!({"tier": "gold"}));
        assert_eq!(customers[1]["firstName"], "Smith, Jr.");
        assert_eq!(customers[1]["address"]["city"], "Main\nStreet");
        assert_eq!(customers[2]["externalId"], Value::Null);
        // Each created customer has its event, in the feed in the file's
        // order, and its audit event; the import's start is audited too.
        let feed = format!("/v1/public-api/organizations/{}/events?limit=100", app.organization_id);
        let deadline = Instant::now() + Duration::from_secs(10);
        let events = loop {
            let events = app.get(&feed).json()["data"].clone();
            if events.as_array().unwrap().len() >= 3 || Instant::now() > deadline {
                break events;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let created: Vec<&Value> = events.as_array().unwrap().iter().map(|e| &e["customerId"]).collect();
        let ids: Vec<&Value> = customers.iter().map(|c| &c["id"]).collect();
        assert_eq!(created, ids);
        let audited = app.count_rows("SELECT count(*) AS n FROM audit_events WHERE action = 'customer.created'");
        assert_eq!(audited, 3);
        let started = app.count_rows("SELECT count(*) AS n FROM audit_events WHERE action = 'customers.imported'");
        assert_eq!(started, 1);
        // The error report has every refused row, one line per complaint.
        let id = import["id"].as_str().unwrap();
        let report = app.get(&format!("{}/{id}/errors", imports_path(&app.organization_id)));
        assert_eq!(report.status, 200);
        assert!(report.content_type().starts_with("text/csv"));
        let lines: Vec<&str> = report.text.lines().collect();
        assert_eq!(lines[0], "row,field,message");
        assert_eq!(lines.len(), 5, "{}", report.text);
        assert!(lines[1].starts_with("2,address.country,"));
        // The file is forgotten once the import ends.
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM import_chunks"), 0);
    }

    fn a_dry_run_reports_what_the_import_does_and_writes_nothing(app: &TestApp) {
        let mut file = String::from("externalId,email\n");
        for n in 0..1200 {
            let email = if n % 7 == 0 { "broken".to_owned() } else { format!("c{n}@example.com") };
            file.push_str(&format!("ref-{n},{email}\n"));
        }
        let dry = import_and_wait(app, "dryRun=true", CSV, file.as_bytes());
        assert_eq!(customer_count(app), 0);
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM events"), 0);
        let real = import_and_wait(app, "", CSV, file.as_bytes());
        assert_eq!(real["dryRun"], false);
        for count in ["rowsTotal", "rowsDone", "created", "updated", "refused"] {
            assert_eq!(dry[count], real[count], "{count}");
        }
        assert_eq!(dry["errors"], real["errors"]);
        assert_eq!(real["created"], 1200 - 172);
        assert_eq!(customer_count(app), 1200 - 172);
    }

    fn upsert_updates_the_customer_that_holds_the_reference_and_creates_the_rest(app: &TestApp) {
        let held = app.create_customer(&json!({"externalId": "crm-1", "firstName": "Old", "email": "old@example.com"}));
        let file = "{\"externalId\":\"crm-1\",\"firstName\":\"New\"}\n\
                    {\"externalId\":\"crm-2\",\"firstName\":\"Two\"}\n\
                    {\"externalId\":\"crm-2\",\"lastName\":\"Again\"}\n\
                    {\"firstName\":\"Nobody\"}\n\
                    {\"nickname\":\"x\"}\n";
        let import = import_and_wait(app, "mode=upsert", NDJSON, file.as_bytes());
        assert_eq!(import["mode"], "upsert");
        assert_eq!((import["created"].as_i64(), import["updated"].as_i64(), import["refused"].as_i64()),
            (Some(2), Some(2), Some(1)), "{import}");
        assert_eq!(fields(&import), [(5, "nickname".into())]);
        let now = app.get(&app.customer_path(held["id"].as_str().unwrap())).json();
        assert_eq!(now["firstName"], "New");
        // A field the row does not name is kept.
        assert_eq!(now["email"], "old@example.com");
        assert_eq!(now["revision"], 2);
        let two = app.list("externalId=crm-2");
        assert_eq!(two["data"].as_array().unwrap().len(), 1, "{two}");
        assert_eq!(two["data"][0]["firstName"], "Two");
        assert_eq!(two["data"][0]["lastName"], "Again");
        assert_eq!(customer_count(app), 3);
    }

    fn an_export_reads_back_into_another_organization(app: &TestApp) {
        let definition = json!({"name": "tier", "type": "enum", "allowedValues": ["gold", "silver"]});
        let (other, other_key) = app.create_organization("Other");
        let other_auth = format!("ApiKey {other_key}");
        for (org, auth) in [(&app.organization_id, format!("ApiKey {}", app.api_key)), (&other, other_auth.clone())] {
            let path = format!("/v1/public-api/organizations/{org}/custom-fields");
            let body = serde_json::to_vec(&definition).unwrap();
            let response = app.send_as(Some(&auth), "POST", &path, Some(("application/json", &body)));
            assert_eq!(response.status, 201, "{}", response.text);
        }
        app.create_customer(&json!({
            "externalId": "crm-9", "firstName": "=cmd", "lastName": "O'Brien, \"Jr\"", "email": "ob@example.com",
            "phoneNumber": "+44 20 7946 0958", "language": "en",
            "address": {"address1": "1 High St", "address2": "Flat 2\u{e9}", "city": "London", "region": null, "zip": "N1", "country": "GB"},
            "metadata": {"crm": "A-1", "note": "line\nbreak"},
            "customFields": {"tier": "gold"},
            "shippingAddresses": [{"label": "Home", "firstName": "Ann", "lastName": null, "phoneNumber": null,
                "address1": "2 Low St", "address2": null, "city": "Leeds", "region": null, "zip": null, "country": "GB"}],
        }));
        app.create_customer(&json!({"firstName": "Bare"}));
        app.create_customer(&json!({"lastName": "-5", "metadata": {}}));
        let original = all_customers(app, &app.organization_id, &format!("ApiKey {}", app.api_key));
        let comparable = |customers: &[Value]| -> Vec<Value> {
            customers.iter().map(|c| {
                let mut c = c.clone();
                for read_only in ["id", "organizationId", "createdTime", "updatedTime"] {
                    c.as_object_mut().unwrap().remove(read_only);
                }
                c
            }).collect()
        };
        for (format, content_type) in [("csv", CSV), ("ndjson", NDJSON)] {
            let (org, key) = app.create_organization(format);
            let auth = format!("ApiKey {key}");
            let path = format!("/v1/public-api/organizations/{org}/custom-fields");
            let body = serde_json::to_vec(&definition).unwrap();
            app.send_as(Some(&auth), "POST", &path, Some(("application/json", &body)));
            let exported = app.get(&format!("{}/export?format={format}", app.customers_path()));
            assert_eq!(exported.status, 200);
            let path = imports_path(&org);
            let response = app.send_as(Some(&auth), "POST", &path, Some((content_type, exported.text.as_bytes())));
            assert_eq!(response.status, 202, "{}", response.text);
            let import = ended(app, &org, Some(&auth), response.json()["id"].as_str().unwrap());
            assert_eq!(import["created"], 3, "{format}: {import}");
            let copied = all_customers(app, &org, &auth);
            assert_eq!(comparable(&copied), comparable(&original), "{format}");
        }
        let _ = other_auth;
    }

    fn a_file_that_cannot_be_read_is_refused_whole(app: &TestApp) {
        let refused = |content_type: &str, file: &[u8], status: u16| {
            let response = post(app, "", content_type, file);
            assert_eq!(response.status, status, "{}", response.text);
            assert_eq!(response.content_type(), "application/problem+json");
            response
        };
        refused("application/json", b"{}", 415);
        // A header with no line end, the fuzzer's first find (it panicked).
        assert_eq!(refused(CSV, b"{}", 422).invalid_fields(), ["{}"]);
        let header = refused(CSV, b"email,nickname,Fax\nx@y.co,a,b\n", 422);
        assert_eq!(header.invalid_fields(), ["nickname", "Fax"]);
        let latin1 = refused(CSV, b"firstName\nRen\xe9\n", 422);
        assert!(latin1.text.contains("not UTF-8"), "{}", latin1.text);
        refused(NDJSON, b"\xff\xfe{\x00}\x00", 422);
        let mut long = b"{\"firstName\":\"".to_vec();
        long.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
        long.extend(b"\"}\n");
        let too_long = refused(NDJSON, &long, 422);
        assert!(too_long.text.contains("row 1 is longer"), "{}", too_long.text);
        let bad_query = post(app, "mode=merge&dry=1", CSV, b"email\n");
        assert_eq!(bad_query.status, 422);
        assert_eq!(bad_query.invalid_fields(), ["mode", "dry"]);
        // Nothing was kept of any of them.
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM imports"), 0);
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM import_chunks"), 0);
        assert_eq!(customer_count(app), 0);
        // An empty file, or a header alone, is an import of no rows.
        let empty = import_and_wait(app, "", NDJSON, b"");
        assert_eq!((empty["status"].as_str(), empty["rowsTotal"].as_i64()), (Some("succeeded"), Some(0)));
        let header_only = import_and_wait(app, "", CSV, b"email\n");
        assert_eq!(header_only["rowsTotal"], 0);
    }

    fn the_same_upload_with_one_idempotency_key_is_one_import(app: &TestApp) {
        let file = b"email\na@example.com\nb@example.com\n";
        let path = imports_path(&app.organization_id);
        let auth = format!("ApiKey {}", app.api_key);
        let send = |file: &[u8]| {
            app.request("POST", &path, &[("authorization", &auth), ("idempotency-key", "imp-1")], Some((CSV, file)))
        };
        let first = send(file);
        assert_eq!(first.status, 202, "{}", first.text);
        let again = send(file);
        assert_eq!(again.status, 202);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json()["id"], first.json()["id"]);
        let other = send(b"email\nc@example.com\n");
        assert_eq!(other.status, 422, "{}", other.text);
        ended(app, &app.organization_id, None, first.json()["id"].as_str().unwrap());
        assert_eq!(customer_count(app), 2);
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM imports"), 1);
    }

    fn a_cancelled_import_stops_between_batches(app: &TestApp) {
        let mut file = String::new();
        for n in 0..60_000 {
            file.push_str(&format!("{{\"firstName\":\"C{n}\"}}\n"));
        }
        let import = start(app, "", NDJSON, file.as_bytes());
        let path = format!("{}/{}", imports_path(&app.organization_id), import["id"].as_str().unwrap());
        let cancelled = app.delete(&path);
        assert_eq!(cancelled.status, 200, "{}", cancelled.text);
        let cancelled = cancelled.json();
        assert_eq!(cancelled["status"], "cancelled");
        std::thread::sleep(Duration::from_millis(1500));
        let after = app.get(&path).json();
        assert_eq!(after["status"], "cancelled");
        assert!(after["rowsDone"].as_i64().unwrap() < 60_000, "{after}");
        assert_eq!(after["created"].as_i64().unwrap(), customer_count(app));
        assert_eq!(app.delete(&path).json()["status"], "cancelled");
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM audit_events WHERE action = 'import.cancelled'"), 1);
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM import_chunks"), 0);
    }

    fn an_organization_runs_at_most_three_imports_at_once(app: &TestApp) {
        let mut file = String::new();
        for n in 0..40_000 {
            file.push_str(&format!("{{\"firstName\":\"R{n}\"}}\n"));
        }
        let started: Vec<Value> = (0..3).map(|_| start(app, "", NDJSON, file.as_bytes())).collect();
        let fourth = post(app, "", NDJSON, b"{}\n");
        assert_eq!(fourth.status, 409, "{}", fourth.text);
        assert_eq!(fourth.problem(409)["type"], "/problems/limit-reached");
        // Refused before it started: nothing kept of it.
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM imports"), 3);
        for import in &started {
            let path = format!("{}/{}", imports_path(&app.organization_id), import["id"].as_str().unwrap());
            assert_eq!(app.delete(&path).status, 200);
        }
        assert_eq!(post(app, "", NDJSON, b"{}\n").status, 202);
    }

    fn imports_need_the_write_scope_and_stay_in_their_organization(app: &TestApp) {
        let import = import_and_wait(app, "", CSV, b"email\na@example.com\n");
        let id = import["id"].as_str().unwrap();
        let reader = app.create_key(&[clientele::domain::scopes::Scope::CustomersRead]);
        let path = format!("{}/{id}", imports_path(&app.organization_id));
        assert_eq!(app.send_as(Some(&format!("ApiKey {reader}")), "GET", &path, None).status, 403);
        let (other, other_key) = app.create_organization("Other");
        let elsewhere = format!("{}/{id}", imports_path(&other));
        assert_eq!(app.send_as(Some(&format!("ApiKey {other_key}")), "GET", &elsewhere, None).status, 404);
        let test_key = app.create_key_in_mode(&[clientele::domain::scopes::Scope::CustomersWrite], false);
        assert_eq!(app.send_as(Some(&format!("ApiKey {test_key}")), "GET", &path, None).status, 404);
        assert_eq!(app.get(&format!("{}/imp_0", imports_path(&app.organization_id))).status, 404);
    }
}

on_both_backends! {
    fn the_command_line_imports_a_file_and_prints_one_summary(app: &TestApp) {
        let dir = crate::process::scratch_dir(&format!("cli_import_{}", app.organization_id));
        let file = dir.join("customers.csv");
        std::fs::write(&file, "email,firstName\na@example.com,Ann\nnope,Bad\n").unwrap();
        let run = |args: &[&str]| {
            crate::process::clientele(args, &[("CLIENTELE_DATABASE_URL", &app.database_url)], &dir)
        };
        let path = file.to_str().unwrap();
        let org = app.organization_id.as_str();
        let output = run(&["import", "--organization", org, path]);
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(output.status.success(), "{stderr}");
        assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}");
        // Not a terminal: no progress bar's escapes.
        assert!(!stderr.contains('\u{1b}'), "{stderr}");
        let summary: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(summary["status"], "succeeded", "{summary}");
        assert_eq!((summary["created"].as_i64(), summary["refused"].as_i64()), (Some(1), Some(1)));
        assert_eq!(summary["errors"][0]["invalidFields"][0]["field"], "email");
        assert_eq!(app.list("")["data"][0]["firstName"], "Ann");
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM audit_events WHERE actor_type = 'cli' AND action = 'customer.created'"), 1);
        let dry: Value = serde_json::from_slice(&run(&["import", "--organization", org, "--dry-run", "--test", path]).stdout).unwrap();
        assert_eq!((dry["dryRun"].as_bool(), dry["livemode"].as_bool(), dry["created"].as_i64()), (Some(true), Some(false), Some(1)));
        assert_eq!(customer_count(app), 1);
        std::fs::write(&file, "email,nickname\n").unwrap();
        let refused = run(&["import", "--organization", org, path]);
        assert!(!refused.status.success());
        assert!(refused.stdout.is_empty());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("nickname: unknown column"));
        let unnamed = dir.join("customers.txt");
        std::fs::write(&unnamed, "{}\n").unwrap();
        let unknown = run(&["import", "--organization", org, unnamed.to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("--format"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}

on_both_backends! {
    with small_imports;
    fn a_file_over_the_limit_is_413_and_leaves_nothing(app: &TestApp) {
        let file = vec![b'a'; 1024 * 1024 + 1];
        let response = post(app, "", NDJSON, &file);
        assert_eq!(response.status, 413, "{}", response.text);
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM imports"), 0);
        assert_eq!(app.count_rows("SELECT count(*) AS n FROM import_chunks"), 0);
    }
}

fn small_imports(settings: &mut clientele::config::Settings) {
    settings.import_max_mb = 1;
}
