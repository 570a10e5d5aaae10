//! GET .../customers: paging, order, filters, search, totals, tenancy.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, on_both_backends};

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Creates `n` customers and returns their ids in creation order.
fn create_many(app: &TestApp, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            app.create_customer(&json!({"firstName": format!("Person{i}")}))["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// Walks every page of `query` with `limit`, returning the ids in order.
fn walk(app: &TestApp, query: &str, limit: usize) -> Vec<String> {
    let mut all = Vec::new();
    loop {
        let page = app.list(&format!("{query}&limit={limit}&offset={}", all.len()));
        let page_ids = ids(&page);
        assert!(page_ids.len() <= limit);
        all.extend(page_ids);
        if !page["hasMore"].as_bool().unwrap() {
            return all;
        }
    }
}

on_both_backends! {
    fn a_page_has_the_contract_shape(app: &TestApp) {
        create_many(app, 3);
        let page = app.list("");
        assert_eq!(page["limit"], 20);
        assert_eq!(page["offset"], 0);
        assert_eq!(page["hasMore"], false);
        assert!(page.get("total").is_none());
        assert_eq!(ids(&page).len(), 3);
        let page = app.list("limit=2&includeTotal=true");
        assert_eq!((page["limit"].clone(), page["hasMore"].clone(), page["total"].clone()), (json!(2), json!(true), json!(3)));
        let page = app.list("limit=2&offset=2&includeTotal=false");
        assert_eq!((ids(&page).len(), page["hasMore"].clone(), page.get("total")), (1, json!(false), None));
        assert_eq!(ids(&app.list("offset=3")).len(), 0);
        assert_eq!(ids(&app.list("offset=9223372036854775807")).len(), 0);
    }

    fn limits_and_offsets_are_bounded(app: &TestApp) {
        create_many(app, 2);
        assert_eq!(ids(&app.list("limit=1")).len(), 1);
        assert_eq!(app.list("limit=100")["limit"], 100);
        for (query, field) in [("limit=0", "limit"), ("limit=101", "limit"), ("limit=-1", "limit"), ("limit=ten", "limit"),
                               ("limit=", "limit"), ("offset=-1", "offset"), ("offset=1.5", "offset"),
                               ("offset=9223372036854775808", "offset")] {
            let response = app.get(&format!("{}?{query}", app.customers_path()));
            assert_eq!(response.invalid_fields(), [field], "{query}");
        }
    }

    fn every_bad_parameter_is_named(app: &TestApp) {
        for (query, field) in [("sort=name", "sort"), ("sort=-firstName", "sort"), ("includeTotal=yes", "includeTotal"),
                               ("createdFrom=2026-11-22", "createdFrom"), ("createdTo=yesterday", "createdTo"),
                               ("q=", "q"), ("email=", "email"), ("page=2", "page"), ("limit=1&limit=2", "limit")] {
            let response = app.get(&format!("{}?{query}", app.customers_path()));
            assert_eq!(response.invalid_fields(), [field], "{query}");
        }
        let response = app.get(&format!("{}?q={}", app.customers_path(), "a".repeat(101)));
        assert_eq!(response.invalid_fields(), ["q"]);
        let response = app.get(&format!("{}?limit=0&sort=x&q=", app.customers_path()));
        assert_eq!(response.invalid_fields().len(), 3);
    }

    fn the_four_orders_are_total_and_distinct(app: &TestApp) {
        let created = create_many(app, 5);
        // Distinct creation times 0..4 s, update times in the reverse order.
        for (i, id) in created.iter().enumerate() {
            app.execute_sql(&format!(
                "UPDATE customers SET created_at = '2026-01-01 00:00:0{i}', updated_at = '2026-01-02 00:00:0{}' WHERE id = '{id}'",
                4 - i
            ));
        }
        let reversed: Vec<String> = created.iter().rev().cloned().collect();
        assert_eq!(ids(&app.list("")), reversed);
        assert_eq!(ids(&app.list("sort=-createdTime")), reversed);
        assert_eq!(ids(&app.list("sort=createdTime")), created);
        assert_eq!(ids(&app.list("sort=-updatedTime")), created);
        assert_eq!(ids(&app.list("sort=updatedTime")), reversed);
    }

    fn paging_returns_every_customer_exactly_once_even_on_ties(app: &TestApp) {
        let mut created = create_many(app, 23);
        // Every time the same: only the id decides the order.
        app.execute_sql("UPDATE customers SET created_at = '2026-01-01 00:00:00', updated_at = '2026-01-01 00:00:00'");
        created.sort();
        let descending: Vec<String> = created.iter().rev().cloned().collect();
        for (sort, expected) in [("createdTime", &created), ("updatedTime", &created),
                                 ("-createdTime", &descending), ("-updatedTime", &descending)] {
            for limit in [1, 5, 7, 23, 100] {
                assert_eq!(&walk(app, &format!("sort={sort}"), limit), expected, "sort={sort} limit={limit}");
            }
        }
    }

    fn search_matches_names_emails_and_phone_digits(app: &TestApp) {
        let jane = app.create_customer(&json!({"firstName": "Jane", "lastName": "Doe", "email": "jd@example.org", "phoneNumber": "+1 555 0100"}));
        let emile = app.create_customer(&json!({"firstName": "Émile", "lastName": "Zola", "email": "EZ@Paris.fr"}));
        let only_last = app.create_customer(&json!({"lastName": "Doering"}));
        let jane_id = jane["id"].as_str().unwrap().to_owned();
        let emile_id = emile["id"].as_str().unwrap().to_owned();
        let last_id = only_last["id"].as_str().unwrap().to_owned();
        let search = |q: &str| {
            let mut found = ids(&app.list(&format!("q={q}")));
            found.sort();
            found
        };
        let sorted = |mut v: Vec<String>| { v.sort(); v };
        assert_eq!(search("jane%20d"), [jane_id.as_str()]);
        assert_eq!(search("JANE"), [jane_id.as_str()]);
        assert_eq!(search("doe"), sorted(vec![jane_id.clone(), last_id.clone()]));
        assert_eq!(search("EXAMPLE.ORG"), [jane_id.as_str()]);
        assert_eq!(search("paris"), [emile_id.as_str()]);
        assert_eq!(search("%C3%A9mile"), [emile_id.as_str()]);
        assert_eq!(search("%C3%89MILE%20zo"), [emile_id.as_str()]);
        assert_eq!(search("5550100"), [jane_id.as_str()]);
        assert_eq!(search("555-01"), [jane_id.as_str()]);
        assert_eq!(search("%2B1%20(555)"), [jane_id.as_str()]);
        assert_eq!(search("%20%20doering%20"), [last_id.as_str()]);
        assert!(search("nobody").is_empty());
        assert!(search("doe%20jane").is_empty());
        let page = app.list("q=doe&includeTotal=true&limit=1");
        assert_eq!((page["total"].clone(), page["hasMore"].clone()), (json!(2), json!(true)));
    }

    fn search_wildcards_match_literally(app: &TestApp) {
        let percent = app.create_customer(&json!({"firstName": "100%", "lastName": "Real"}));
        let underscore = app.create_customer(&json!({"firstName": "a_b"}));
        let backslash = app.create_customer(&json!({"firstName": "back\\slash"}));
        app.create_customer(&json!({"firstName": "abc", "lastName": "100 Real", "email": "aXb@example.com"}));
        assert_eq!(ids(&app.list("q=%25")), [percent["id"].as_str().unwrap()]);
        assert_eq!(ids(&app.list("q=0%25%20r")), [percent["id"].as_str().unwrap()]);
        assert_eq!(ids(&app.list("q=a_b")), [underscore["id"].as_str().unwrap()]);
        assert_eq!(ids(&app.list("q=_")), [underscore["id"].as_str().unwrap()]);
        assert_eq!(ids(&app.list("q=%5C")), [backslash["id"].as_str().unwrap()]);
        assert_eq!(ids(&app.list("q=k%5Cs")), [backslash["id"].as_str().unwrap()]);
    }

    fn the_email_filter_is_exact_and_case_insensitive(app: &TestApp) {
        let a = app.create_customer(&json!({"email": "Jane@Example.com"}));
        let b = app.create_customer(&json!({"email": "jane@example.com"}));
        app.create_customer(&json!({"email": "jane@example.co"}));
        app.create_customer(&json!({"email": "xjane@example.com"}));
        let mut found = ids(&app.list("email=JANE@EXAMPLE.COM"));
        found.sort();
        let mut expected = vec![a["id"].as_str().unwrap().to_owned(), b["id"].as_str().unwrap().to_owned()];
        expected.sort();
        assert_eq!(found, expected);
        assert!(ids(&app.list("email=example.com")).is_empty());
        assert!(ids(&app.list("email=jane%25")).is_empty());
    }

    fn the_created_range_is_half_open(app: &TestApp) {
        let created = create_many(app, 3);
        for (i, id) in created.iter().enumerate() {
            app.execute_sql(&format!("UPDATE customers SET created_at = '2026-01-0{} 10:00:00' WHERE id = '{id}'", i + 1));
        }
        let found = |q: &str| ids(&app.list(&format!("sort=createdTime&{q}")));
        assert_eq!(found("createdFrom=2026-01-02T10:00:00Z"), created[1..]);
        assert_eq!(found("createdTo=2026-01-02T10:00:00Z"), created[..1]);
        assert_eq!(found("createdFrom=2026-01-02T10:00:00.001Z"), created[2..]);
        assert_eq!(found("createdFrom=2026-01-02T11:00:00%2B01:00&createdTo=2026-01-03T10:00:00.001Z"), created[1..]);
        assert!(found("createdFrom=2026-01-03T00:00:00Z&createdTo=2026-01-02T00:00:00Z").is_empty());
    }

    fn totals_follow_filters_and_deletes(app: &TestApp) {
        let created = create_many(app, 4);
        assert_eq!(app.list("includeTotal=true")["total"], 4);
        assert_eq!(app.delete(&app.customer_path(&created[0])).status, 204);
        assert_eq!(app.delete(&app.customer_path(&created[1])).status, 204);
        assert_eq!(app.list("includeTotal=true")["total"], 2);
        assert_eq!(app.list("includeTotal=true&q=person3")["total"], 1);
        assert_eq!(app.list("includeTotal=true&q=person0")["total"], 0);
    }

    fn other_organizations_are_invisible(app: &TestApp) {
        let mine = app.create_customer(&json!({"firstName": "Mine", "email": "shared@example.com"}));
        let (other_org, other_key) = app.create_organization("Other");
        let as_other = format!("ApiKey {other_key}");
        let other_path = format!("/v1/public-api/organizations/{other_org}/customers");
        let response = app.send_as(Some(&as_other), "GET", &other_path, None);
        assert_eq!(response.status, 200);
        assert!(ids(&response.json()).is_empty());
        for query in ["q=mine", "email=shared@example.com", "includeTotal=true"] {
            let page = app.send_as(Some(&as_other), "GET", &format!("{other_path}?{query}"), None).json();
            assert!(ids(&page).is_empty(), "{query}");
            assert_ne!(page["total"], 1);
        }
        let theirs = format!("{other_path}/{}", mine["id"].as_str().unwrap());
        app.send_as(Some(&as_other), "GET", &theirs, None).problem(404);
        let body = json!({"firstName": "Stolen"}).to_string();
        app.send_as(Some(&as_other), "PUT", &theirs, Some(("application/json", body.as_bytes()))).problem(404);
        app.send_as(Some(&as_other), "DELETE", &theirs, None).problem(404);
        assert_eq!(app.get(&app.customer_path(mine["id"].as_str().unwrap())).json(), mine);
    }
}

on_both_backends! {
    fn deep_pages_are_exact(app: &TestApp) {
        // 1,250 customers, all created at the same time, straight into the
        // database: only ids order them, and offsets past 1,000 take the
        // ids-first path.
        app.execute_sql(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1250) \
             INSERT INTO customers (organization_id, id, first_name, name_search, revision, created_at, updated_at) \
             SELECT '{}', 'cus_0000000000000000000000000000' || (1000 + i), 'Bulk', 'bulk', 1, \
                    '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM n",
            app.organization_id
        ));
        let expected: Vec<String> = (1..=1250).rev().map(|i| format!("cus_0000000000000000000000000000{}", 1000 + i)).collect();
        let page = app.list("limit=100&offset=1100&includeTotal=true");
        assert_eq!(ids(&page), expected[1100..1200]);
        assert_eq!((page["hasMore"].clone(), page["total"].clone()), (json!(true), json!(1250)));
        let last = app.list("limit=100&offset=1200");
        assert_eq!(ids(&last), expected[1200..]);
        assert_eq!(last["hasMore"], false);
        assert_eq!(ids(&app.list("limit=7&offset=1243")), expected[1243..]);
        assert!(ids(&app.list("offset=1250")).is_empty());
        let ascending = app.list("sort=createdTime&limit=3&offset=1000&q=bulk");
        let forward: Vec<String> = expected.iter().rev().skip(1000).take(3).cloned().collect();
        assert_eq!(ids(&ascending), forward);
        assert_eq!(walk(app, "sort=-updatedTime", 100), expected);
    }
}
