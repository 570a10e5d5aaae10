//! Reports (contract section 12): the export, streamed from one snapshot,
//! and the stats.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clientele::domain::reports::csv_columns;
use clientele::domain::scopes::Scope;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, on_both_backends};

fn reports_path(app: &TestApp, report: &str, query: &str) -> String {
    format!("{}/{report}?{query}", app.customers_path())
}

fn export(app: &TestApp, query: &str) -> crate::helpers::Response {
    let response = app.get(&reports_path(app, "export", query));
    assert_eq!(response.status, 200, "{}", response.text);
    response
}

fn export_lines(app: &TestApp, query: &str) -> Vec<Value> {
    let response = export(app, query);
    assert_eq!(response.content_type(), "application/x-ndjson");
    response
        .text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// `n` customers of the test's organization written straight to the
/// database in one statement (the API would take minutes for tens of
/// thousands), created before any made through the API, with the same
/// SQL on both databases.
fn insert_many(app: &TestApp, n: usize) {
    app.execute_sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
         INSERT INTO customers (organization_id, id, first_name, revision, created_at, updated_at, livemode)
         SELECT '{}', 'cus_0193a3c2e4f87b6a9d5e1f0' || (100000000 + i), 'Bulk', 1,
                '2026-01-01 00:00:00', '2026-01-01 00:00:00', TRUE
         FROM n",
        app.organization_id
    ));
}

fn stats(app: &TestApp, query: &str) -> Value {
    let response = app.get(&reports_path(app, "stats", query));
    assert_eq!(response.status, 200, "{}", response.text);
    response.json()
}

on_both_backends! {
    fn stats_count_matching_customers_by_key(app: &TestApp) {
        for (country, language) in [(Some("US"), Some("en")), (Some("US"), Some("en")), (Some("DE"), None), (None, Some("fr"))] {
            let address = country.map(|c| json!({"country": c}));
            app.create_customer(&json!({"firstName": "Stat", "address": address, "language": language}));
        }
        let gone = app.create_customer(&json!({"firstName": "Gone", "address": {"country": "US"}}));
        assert_eq!(app.delete(&app.customer_path(gone["id"].as_str().unwrap())).status, 204);

        assert_eq!(
            stats(app, "groupBy=country"),
            json!({"groups": [{"key": "DE", "count": 1}, {"key": "US", "count": 2}, {"key": null, "count": 1}], "total": 4})
        );
        assert_eq!(stats(app, "groupBy=country&includeDeleted=true")["groups"][1], json!({"key": "US", "count": 3}));
        assert_eq!(
            stats(app, "groupBy=language&q=stat"),
            json!({"groups": [{"key": "en", "count": 2}, {"key": "fr", "count": 1}, {"key": null, "count": 1}], "total": 4})
        );
        let created = gone["createdTime"].as_str().unwrap();
        assert_eq!(stats(app, "groupBy=createdDay"), json!({"groups": [{"key": &created[..10], "count": 4}], "total": 4}));
        assert_eq!(stats(app, "groupBy=createdMonth")["groups"], json!([{"key": &created[..7], "count": 4}]));
        assert_eq!(stats(app, "groupBy=country&email=nobody@example.com"), json!({"groups": [], "total": 0}));

        let bad = app.get(&reports_path(app, "stats", "limit=5"));
        assert_eq!(bad.invalid_fields(), ["groupBy", "limit"]);
        let reader = format!("ApiKey {}", app.create_key(&[Scope::CustomersRead]));
        app.send_as(Some(&reader), "GET", &reports_path(app, "stats", "groupBy=country"), None).problem(403);
    }

    fn stats_from_the_counts_equal_a_scan_after_random_writes(app: &TestApp) {
        // A second instance on the same database: two folds run at once.
        let _other = TestApp::spawn_at(&app.database_url);
        // A fixed xorshift: a failure reproduces run after run.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let countries = [Some("US"), Some("DE"), Some("FR"), None];
        let languages = [Some("en"), Some("de"), None];
        // Every customer made: its id and whether it is deleted, erased.
        let mut made: Vec<(String, bool, bool)> = Vec::new();
        for _ in 0..80 {
            let country = countries[next(countries.len())];
            let language = languages[next(languages.len())];
            let address = country.map(|c| json!({"country": c}));
            let fields = json!({"firstName": "Counted", "address": address, "language": language});
            let pick = next(made.len().max(1));
            match (next(6), made.get_mut(pick)) {
                (0 | 1, _) | (_, None) => {
                    let id = app.create_customer(&fields)["id"].as_str().unwrap().to_owned();
                    made.push((id, false, false));
                }
                (2, Some((id, false, _))) => {
                    assert_eq!(app.put_json(&app.customer_path(id), &fields).status, 200);
                }
                (3, Some((id, deleted @ false, _))) => {
                    assert_eq!(app.delete(&app.customer_path(id)).status, 204);
                    *deleted = true;
                }
                (4, Some((id, deleted @ true, false))) => {
                    let restored = app.send("POST", &format!("{}/restore", app.customer_path(id)), None);
                    assert_eq!(restored.status, 200, "{}", restored.text);
                    *deleted = false;
                }
                (5, Some((id, deleted, erased @ false))) => {
                    let erasing = app.send("POST", &format!("{}/erase", app.customer_path(id)), None);
                    assert_eq!(erasing.status, 204, "{}", erasing.text);
                    (*deleted, *erased) = (true, true);
                }
                _ => {}
            }
        }
        // An import's batch counts its customers together.
        let file = "firstName,address.country,language\nI1,US,en\nI2,DE,\nI3,,fr\nI4,US,en\n";
        let imports = format!("{}/imports", app.customers_path());
        let started = app.send("POST", &imports, Some(("text/csv", file.as_bytes())));
        assert_eq!(started.status, 202, "{}", started.text);
        let import = format!("{imports}/{}", started.json()["id"].as_str().unwrap());
        let deadline = Instant::now() + Duration::from_secs(30);
        while app.get(&import).json()["finishedTime"].is_null() {
            assert!(Instant::now() < deadline, "the import did not end");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(app.get(&import).json()["created"], 4);
        made.extend((0..4).map(|_| (String::new(), false, false)));
        let last = app.create_customer(&json!({}));
        let today = &last["createdTime"].as_str().unwrap()[..10];
        let month = &today[..7];
        let filters = [
            String::new(),
            "&includeDeleted=true".into(),
            format!("&createdFrom={today}T00:00:00Z"),
            format!("&createdFrom={month}-01T00:00:00Z&includeDeleted=true"),
            format!("&createdTo={today}T00:00:00Z"),
        ];
        let compare = |when: &str| {
            for group_by in ["country", "language", "createdDay", "createdMonth"] {
                for filter in &filters {
                    let counted = stats(app, &format!("groupBy={group_by}{filter}"));
                    // Every customer was updated after 2000: the same set, which
                    // only a scan of the customers can answer.
                    let scanned = stats(app, &format!("groupBy={group_by}{filter}&updatedFrom=2000-01-01T00:00:00Z"));
                    assert_eq!(counted, scanned, "{when}: groupBy={group_by}{filter}");
                }
            }
        };
        compare("with the changes not yet folded");
        let live = made.iter().filter(|(_, deleted, _)| !deleted).count() + 1;
        assert_eq!(stats(app, "groupBy=country")["total"], live);
        assert_eq!(stats(app, "groupBy=country&includeDeleted=true")["total"], made.len() + 1);
        let started = Instant::now();
        while app.count_rows("SELECT count(*) AS n FROM customer_count_changes") > 0 {
            assert!(started.elapsed() < Duration::from_secs(10), "the changes were never folded");
            std::thread::sleep(Duration::from_millis(100));
        }
        compare("folded");
    }

    fn the_export_holds_every_match_in_either_format(app: &TestApp) {
        let mut made = Vec::new();
        for n in 0..7 {
            made.push(app.create_customer(&json!({
                "firstName": format!("Exported {n}"),
                "metadata": {"note": "a \"quoted\", comma,\nnewline"},
                "address": {"city": "Köln", "country": "DE"},
            })));
        }
        let gone = made.pop().unwrap();
        assert_eq!(app.delete(&app.customer_path(gone["id"].as_str().unwrap())).status, 204);

        // Oldest first, each as the API shows it.
        assert_eq!(export_lines(app, ""), made);
        assert_eq!(export_lines(app, "format=ndjson&q=exported%201"), made[1..2]);
        let all = export_lines(app, "includeDeleted=true");
        assert_eq!(all.len(), 7);
        assert_eq!(all[6]["id"], gone["id"]);

        let csv = export(app, "format=csv");
        assert_eq!(csv.content_type(), "text/csv; charset=utf-8");
        assert_eq!(csv.header("content-disposition"), Some("attachment; filename=\"customers.csv\""));
        let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(header, csv_columns());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), made.len());
        let column = |name: &str| csv_columns().iter().position(|c| c == name).unwrap();
        assert_eq!(&rows[0][column("id")], made[0]["id"].as_str().unwrap());
        assert_eq!(&rows[0][column("address.city")], "Köln");
        assert_eq!(&rows[0][column("email")], "");
        assert_eq!(&rows[0][column("livemode")], "true");
        let metadata: Value = serde_json::from_str(&rows[0][column("metadata")]).unwrap();
        assert_eq!(metadata, made[0]["metadata"]);

        // Nothing matches: NDJSON is empty, CSV is its header.
        assert_eq!(export(app, "email=nobody@example.com").text, "");
        assert_eq!(export(app, "format=csv&email=nobody@example.com").text.lines().count(), 1);
        let bad = app.get(&reports_path(app, "export", "format=xml&offset=2"));
        assert_eq!(bad.invalid_fields(), ["format", "offset"]);
        let reader = format!("ApiKey {}", app.create_key(&[Scope::CustomersRead]));
        app.send_as(Some(&reader), "GET", &reports_path(app, "export", ""), None).problem(403);
    }

    fn the_csv_export_is_safe_to_open_in_a_spreadsheet(app: &TestApp) {
        let definitions = format!("/v1/public-api/organizations/{}/custom-fields", app.organization_id);
        assert_eq!(app.post_json(&definitions, &json!({"name": "note", "type": "string"})).status, 201);
        let formula = "=HYPERLINK(\"http://evil.example\",\"x\")";
        let hostile = app.create_customer(&json!({
            "firstName": formula, "lastName": "+SUM(1,2)", "email": "=cmd@example.com",
            "phoneNumber": "+1 415 555 0100", "externalId": "@ext-1", "language": "en",
            "address": {"address1": "@SUM(A1)", "address2": "-2+3", "city": "=1+1", "region": "+r",
                        "zip": "=z", "country": "US"},
            "metadata": {"k": "=evil()"}, "customFields": {"note": "=evil()"},
            "shippingAddresses": [{"label": "=label()", "city": "-x"}],
        }));
        let csv = export(app, "format=csv");
        let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
        let row = reader.records().next().unwrap().unwrap();
        let cell = |name: &str| row[csv_columns().iter().position(|c| c == name).unwrap()].to_owned();
        assert_eq!(cell("id"), hostile["id"].as_str().unwrap());
        assert_eq!(cell("firstName"), format!("'{formula}"));
        for (column, sent) in [("lastName", "+SUM(1,2)"), ("email", "=cmd@example.com"), ("externalId", "@ext-1"),
            ("address.address1", "@SUM(A1)"), ("address.address2", "-2+3"), ("address.city", "=1+1"),
            ("address.region", "+r"), ("address.zip", "=z")] {
            assert_eq!(cell(column), format!("'{sent}"), "{column}");
        }
        // A plain number is left as it is.
        assert_eq!(cell("phoneNumber"), "+14155550100");
        // Custom fields, shipping addresses and metadata are JSON text: a
        // cell that starts with `{` or `[`, which no spreadsheet runs, and
        // which reads back exactly.
        for (column, field) in [("metadata", "metadata"), ("customFields", "customFields"), ("shippingAddresses", "shippingAddresses")] {
            assert!(cell(column).starts_with(['{', '[']), "{column}");
            assert_eq!(serde_json::from_str::<Value>(&cell(column)).unwrap(), hostile[field]);
        }
        for cell in row.iter() {
            let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
            assert!(!risky || cell == "+14155550100", "{cell}");
        }
        // NDJSON is data, unchanged.
        assert_eq!(export_lines(app, "")[0]["firstName"], formula);
    }

    fn the_export_reads_one_snapshot_while_writers_run(app: &TestApp) {
        // Enough rows that the export cannot all be in socket buffers
        // before the slow reader below has read its first part.
        insert_many(app, 40_000);
        let first = app.list("sort=createdTime&limit=1")["data"][0].clone();
        let last = app.create_customer(&json!({"firstName": "Last"}));
        let (first_path, last_path) = (
            app.customer_path(first["id"].as_str().unwrap()),
            app.customer_path(last["id"].as_str().unwrap()),
        );
        // The writer sets both to n, the first then the last: at any one
        // moment the last holds n or n - 1.
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for n in 0.. {
                    for path in [&first_path, &last_path] {
                        let response = app.put_json(path, &json!({"lastName": n.to_string()}));
                        assert_eq!(response.status, 200, "{}", response.text);
                    }
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                }
            });
            std::thread::sleep(Duration::from_millis(200));
            let url = format!("{}{}", app.address, reports_path(app, "export", ""));
            let mut response = ureq::get(&url)
                .header("authorization", &format!("ApiKey {}", app.api_key))
                .call()
                .unwrap();
            let mut body = response.body_mut().with_config().limit(u64::MAX).reader();
            let mut text = vec![0; 64 * 1024];
            body.read_exact(&mut text).unwrap();
            // The writer moves on while the export waits for this reader.
            std::thread::sleep(Duration::from_millis(1_500));
            body.read_to_end(&mut text).unwrap();
            stop.store(true, Ordering::SeqCst);
            let lines: Vec<Value> = String::from_utf8(text)
                .unwrap()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect();
            assert_eq!(lines.len(), 40_001);
            let number = |customer: &Value| customer["lastName"].as_str().unwrap().parse::<i64>().unwrap();
            let (a, b) = (number(&lines[0]), number(&lines[40_000]));
            assert!(b == a || b == a - 1, "not one snapshot: the first says {a}, the last {b}");
        });
    }
}

fn export_stops_when_its_client_leaves(backend: Backend) {
    // One connection: while an export held it, nothing else could run.
    let Some(app) = TestApp::spawn_with(backend, |s| s.database_pool_size = 1) else {
        return;
    };
    insert_many(&app, 40_000);
    let url = format!("{}{}", app.address, reports_path(&app, "export", ""));
    let mut response = ureq::get(&url)
        .header("authorization", &format!("ApiKey {}", app.api_key))
        .call()
        .unwrap();
    let mut start = vec![0; 1024];
    response
        .body_mut()
        .as_reader()
        .read_exact(&mut start)
        .unwrap();
    drop(response);
    // The export would wait 30 s for a reader that is gone; it stops when
    // its write fails instead, and frees the one connection.
    let left = Instant::now();
    loop {
        let listed = app.get(&format!("{}?limit=1", app.customers_path()));
        if listed.status == 200 {
            break;
        }
        assert_eq!(listed.status, 503, "{}", listed.text);
        assert!(
            left.elapsed() < Duration::from_secs(20),
            "the export still holds the connection"
        );
    }
}

#[test]
fn sqlite_export_stops_when_its_client_leaves() {
    export_stops_when_its_client_leaves(Backend::Sqlite);
}

#[test]
fn postgres_export_stops_when_its_client_leaves() {
    export_stops_when_its_client_leaves(Backend::Postgres);
}
