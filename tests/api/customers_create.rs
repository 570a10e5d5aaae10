//! POST .../customers, and every rule of the contract's field table.

use clientele::domain::address::TEXT_PARTS;
use clientele::domain::contact::Email;
use clientele::domain::metadata::Metadata;
use clientele::domain::name::PersonName;
use serde_json::{Map, Value, json};

use crate::helpers::{Backend, TestApp, on_both_backends};

/// The contract's numbers (section 3), pinned here once so that a changed
/// constant fails this test rather than silently changing the contract;
/// the tests below use the constants.
#[test]
fn the_limits_are_the_contracts() {
    assert_eq!(PersonName::MAX_CHARS, 45);
    assert_eq!(Email::MAX_CHARS, 254);
    assert_eq!(
        TEXT_PARTS,
        [
            ("address1", 60),
            ("address2", 60),
            ("city", 45),
            ("region", 45),
            ("zip", 10)
        ]
    );
    assert_eq!(
        (
            Metadata::MAX_KEYS,
            Metadata::MAX_KEY_CHARS,
            Metadata::MAX_VALUE_CHARS
        ),
        (50, 40, 500)
    );
    assert_eq!(clientele::domain::listing::MAX_LIMIT, 100);
    assert_eq!(clientele::domain::listing::MAX_SEARCH_CHARS, 100);
}

/// An address with every text part at its limit.
fn address_at_limits() -> Map<String, Value> {
    TEXT_PARTS
        .iter()
        .map(|(name, max)| (name.to_string(), json!("a".repeat(*max))))
        .collect()
}

/// Asserts `time` is RFC 3339 UTC with milliseconds and a `Z`.
pub fn assert_api_time(time: &Value) {
    let text = time.as_str().expect("a time string");
    assert_eq!(text.len(), 24, "{text}");
    assert!(text.ends_with('Z') && text.as_bytes()[19] == b'.', "{text}");
    chrono::DateTime::parse_from_rfc3339(text).unwrap();
}

/// Asserts that creating a customer from `body` is a 422 naming exactly
/// `fields`, and that nothing was created.
fn assert_rejected(app: &TestApp, body: Value, fields: &[&str]) {
    let response = app.post_json(&app.customers_path(), &body);
    assert_eq!(response.invalid_fields(), fields, "{body}");
    assert_eq!(
        app.list("includeTotal=true")["total"],
        0,
        "{body} created something"
    );
}

on_both_backends! {
    fn creates_with_ids_times_and_location(app: &TestApp) {
        let response = app.post_json(&app.customers_path(), &json!({"firstName": "Jane"}));
        assert_eq!(response.status, 201, "{}", response.text);
        assert_eq!(response.content_type(), "application/json");
        let customer = response.json();
        let id = customer["id"].as_str().unwrap();
        assert!(id.starts_with("cus_") && id.len() == 36, "{id}");
        assert!(id[4..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(customer["organizationId"], app.organization_id.as_str());
        assert_eq!(customer["revision"], 1);
        assert_api_time(&customer["createdTime"]);
        assert_eq!(customer["createdTime"], customer["updatedTime"]);
        assert_eq!(response.header("location"), Some(app.customer_path(id).as_str()));
        let fetched = app.get(&app.customer_path(id));
        assert_eq!(fetched.status, 200);
        assert_eq!(fetched.json(), customer);
    }

    fn an_empty_body_creates_a_blank_customer(app: &TestApp) {
        let customer = app.create_customer(&json!({}));
        for field in ["firstName", "lastName", "email", "phoneNumber", "language", "address", "metadata"] {
            assert_eq!(customer[field], Value::Null, "{field}");
        }
        let nulls = app.create_customer(&json!({"firstName": null, "address": null, "metadata": null}));
        assert_eq!(nulls["firstName"], Value::Null);
        assert_eq!(nulls["address"], Value::Null);
    }

    fn normalises_every_field(app: &TestApp) {
        let customer = app.create_customer(&json!({
            "firstName": "  Jane ",
            "lastName": "\tDoe ",
            "email": " Jane.Doe@Example.com ",
            "phoneNumber": "+1-555-0100",
            "language": "EN",
            "address": {"address1": " 123 Main St ", "address2": null, "city": "Springfield ",
                        "region": " IL", "zip": " 62701 ", "country": "us"},
            "metadata": {"crmId": "A-17", "note": "  kept as sent  "}
        }));
        assert_eq!(customer["firstName"], "Jane");
        assert_eq!(customer["lastName"], "Doe");
        assert_eq!(customer["email"], "Jane.Doe@Example.com");
        assert_eq!(customer["phoneNumber"], "+15550100");
        assert_eq!(customer["language"], "en");
        assert_eq!(customer["address"], json!({"address1": "123 Main St", "address2": null,
            "city": "Springfield", "region": "IL", "zip": "62701", "country": "US"}));
        assert_eq!(customer["metadata"], json!({"crmId": "A-17", "note": "  kept as sent  "}));
        let fetched = app.get(&app.customer_path(customer["id"].as_str().unwrap())).json();
        assert_eq!(fetched, customer);
    }

    fn accepts_every_edge(app: &TestApp) {
        let local = "l".repeat(64);
        let email = format!("{local}@{}.com", vec!["d".repeat(60); 3].join("."));
        assert_eq!(email.len(), 251);
        let metadata: Map<String, Value> = (1..Metadata::MAX_KEYS)
            .map(|i| (format!("k{i}"), json!("v")))
            .chain([("k".repeat(Metadata::MAX_KEY_CHARS), json!("é".repeat(Metadata::MAX_VALUE_CHARS)))])
            .collect();
        let mut address = address_at_limits();
        address.insert("country".into(), json!("ZW"));
        let customer = app.create_customer(&json!({
            "firstName": "é".repeat(PersonName::MAX_CHARS),
            "lastName": "山田",
            "email": email,
            "phoneNumber": "+1234567",
            "language": "zu",
            "address": address,
            "metadata": metadata,
        }));
        assert_eq!(customer["firstName"], "é".repeat(PersonName::MAX_CHARS));
        assert_eq!(customer["lastName"], "山田");
        assert_eq!(customer["metadata"].as_object().unwrap().len(), Metadata::MAX_KEYS);
        for (name, max) in TEXT_PARTS {
            assert_eq!(customer["address"][name], "a".repeat(max), "{name}");
        }
        let longest = app.create_customer(&json!({"phoneNumber": "+44 (20) 7946.0958 12", "language": "Fr"}));
        assert_eq!(longest["phoneNumber"], "+44207946095812");
        assert_eq!(longest["language"], "fr");
        let fifteen = app.create_customer(&json!({"phoneNumber": "+123456789012345"}));
        assert_eq!(fifteen["phoneNumber"], "+123456789012345");
    }

    fn rejects_each_bad_value_and_changes_nothing(app: &TestApp) {
        let cases = [
            (json!({"firstName": ""}), "firstName"),
            (json!({"firstName": "   "}), "firstName"),
            (json!({"firstName": "a".repeat(PersonName::MAX_CHARS + 1)}), "firstName"),
            (json!({"lastName": "Do\u{7}e"}), "lastName"),
            (json!({"lastName": "Do\ne"}), "lastName"),
            (json!({"lastName": 12}), "lastName"),
            (json!({"email": "jane"}), "email"),
            (json!({"email": "jane@"}), "email"),
            (json!({"email": format!("{}@{}.com", "l".repeat(64), vec!["d".repeat(60); 4].join("."))}), "email"),
            (json!({"email": ["a@b.co"]}), "email"),
            (json!({"phoneNumber": "5550100"}), "phoneNumber"),
            (json!({"phoneNumber": "+0555010"}), "phoneNumber"),
            (json!({"phoneNumber": "+123456"}), "phoneNumber"),
            (json!({"phoneNumber": "+1234567890123456"}), "phoneNumber"),
            (json!({"phoneNumber": "+1 555 CALL"}), "phoneNumber"),
            (json!({"language": "xx"}), "language"),
            (json!({"language": "eng"}), "language"),
            (json!({"language": ""}), "language"),
            (json!({"address": {"country": "XX"}}), "address.country"),
            (json!({"address": {"country": "USA"}}), "address.country"),
            (json!({"address": {"address1": "a".repeat(TEXT_PARTS[0].1 + 1)}}), "address.address1"),
            (json!({"address": {"address2": "a".repeat(TEXT_PARTS[1].1 + 1)}}), "address.address2"),
            (json!({"address": {"city": "a".repeat(TEXT_PARTS[2].1 + 1)}}), "address.city"),
            (json!({"address": {"region": "a".repeat(TEXT_PARTS[3].1 + 1)}}), "address.region"),
            (json!({"address": {"zip": "a".repeat(TEXT_PARTS[4].1 + 1)}}), "address.zip"),
            (json!({"address": {"zip": "1\u{0}2"}}), "address.zip"),
            (json!({"address": {"street": "x"}}), "address.street"),
            (json!({"address": "1 Main St"}), "address"),
            (json!({"metadata": {"k": 1}}), "metadata.k"),
            (json!({"metadata": {"k": "v".repeat(Metadata::MAX_VALUE_CHARS + 1)}}), "metadata.k"),
            (json!({"metadata": {"k": "a\u{0}b"}}), "metadata.k"),
            (json!({"metadata": {"k".repeat(Metadata::MAX_KEY_CHARS + 1): "v"}}), &format!("metadata.{}", "k".repeat(Metadata::MAX_KEY_CHARS + 1))),
            (json!({"metadata": ["x"]}), "metadata"),
            (json!({"metadata": (0..=Metadata::MAX_KEYS).map(|i| (format!("k{i}"), json!("v"))).collect::<Map<_, _>>()}), "metadata"),
        ];
        for (body, field) in cases {
            assert_rejected(app, body, &[field]);
        }
    }

    fn names_read_only_and_unknown_fields(app: &TestApp) {
        for field in ["id", "organizationId", "revision", "createdTime", "updatedTime", "phone", "first_name"] {
            let response = app.post_json(&app.customers_path(), &json!({"firstName": "Jane", field: "x"}));
            let body = response.problem(422);
            assert_eq!(body["invalidFields"][0]["field"], field);
        }
        assert_eq!(app.list("includeTotal=true")["total"], 0);
    }

    fn reports_every_invalid_field_at_once(app: &TestApp) {
        let response = app.post_json(&app.customers_path(), &json!({
            "firstName": "", "email": "nope", "address": {"country": "XX", "zip": "12345678901"},
            "phone": "+15550100", "id": "cus_1"
        }));
        let body = response.problem(422);
        assert_eq!(body["detail"], "6 fields are invalid.");
        let mut fields = response.invalid_fields();
        fields.sort();
        assert_eq!(fields, ["address.country", "address.zip", "email", "firstName", "id", "phone"]);
        for entry in body["invalidFields"].as_array().unwrap() {
            assert!(!entry["message"].as_str().unwrap().is_empty());
        }
    }

    fn emails_need_not_be_unique(app: &TestApp) {
        app.create_customer(&json!({"email": "shared@example.com"}));
        app.create_customer(&json!({"email": "SHARED@example.com"}));
        assert_eq!(app.list("email=shared@example.com")["data"].as_array().unwrap().len(), 2);
    }
}
