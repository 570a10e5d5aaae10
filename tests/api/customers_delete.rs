//! DELETE is soft: the customer vanishes from every answer, its row stays.

use serde_json::json;

use crate::helpers::{Backend, TestApp, on_both_backends};

on_both_backends! {
    fn a_deleted_customer_disappears_everywhere(app: &TestApp) {
        let kept = app.create_customer(&json!({"firstName": "Kept", "email": "same@example.com"}));
        let gone = app.create_customer(&json!({"firstName": "Gone", "email": "same@example.com", "phoneNumber": "+15550199"}));
        let path = app.customer_path(gone["id"].as_str().unwrap());

        let response = app.delete(&path);
        assert_eq!(response.status, 204);
        assert!(response.text.is_empty());

        app.get(&path).problem(404);
        app.put_json(&path, &json!({"firstName": "Back"})).problem(404);
        app.delete(&path).problem(404);
        let ids = |page: serde_json::Value| -> Vec<String> {
            page["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
        };
        let kept_only = vec![kept["id"].as_str().unwrap().to_owned()];
        assert_eq!(ids(app.list("")), kept_only);
        assert_eq!(ids(app.list("email=same@example.com")), kept_only);
        assert_eq!(ids(app.list("q=gone")), Vec::<String>::new());
        assert_eq!(ids(app.list("q=5550199")), Vec::<String>::new());
        assert_eq!(ids(app.list("sort=-updatedTime")), kept_only);
        assert_eq!(app.list("includeTotal=true")["total"], 1);
    }

    fn the_row_stays_with_its_deletion_time(app: &TestApp) {
        let gone = app.create_customer(&json!({"firstName": "Gone"}));
        assert_eq!(app.delete(&app.customer_path(gone["id"].as_str().unwrap())).status, 204);
        let sql = format!(
            "SELECT count(*) AS n FROM customers WHERE id = '{}' AND first_name = 'Gone' AND deleted_at IS NOT NULL",
            gone["id"].as_str().unwrap()
        );
        assert_eq!(app.count_rows(&sql), 1);
    }

    fn deleting_an_unknown_customer_is_404(app: &TestApp) {
        app.delete(&app.customer_path("cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e")).problem(404);
        app.delete(&app.customer_path("cus_nope")).problem(404);
    }
}
