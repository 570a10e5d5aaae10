//! Writes that wait together commit together on SQLite: one transaction, a
//! savepoint each, one commit (`store::group_commit`). Under many
//! concurrent writes, some refused, every request gets its own outcome and
//! what is stored is exactly what was acknowledged, events and audit
//! events included. PostgreSQL runs the same body (a transaction each).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::events::feed_until;
use crate::helpers::{Backend, TestApp, on_both_backends};

const WRITERS: usize = 48;

on_both_backends! {
    fn concurrent_writes_each_get_their_own_outcome(app: &TestApp) {
        // Every third writer asks for the same externalId: one of them gets
        // it, the others are refused (409) without failing their group.
        let answers: Vec<(usize, u16, Value)> = std::thread::scope(|scope| {
            let writers: Vec<_> = (0..WRITERS)
                .map(|i| {
                    scope.spawn(move || {
                        let external = if i % 3 == 0 { "shared".to_owned() } else { format!("own-{i}") };
                        let body = json!({"firstName": format!("Writer{i}"), "externalId": external});
                        let response = app.post_json(&app.customers_path(), &body);
                        let json = serde_json::from_str(&response.text).unwrap_or(Value::Null);
                        (i, response.status, json)
                    })
                })
                .collect();
            writers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let shared: Vec<_> = answers.iter().filter(|(i, _, _)| i % 3 == 0).collect();
        assert_eq!(shared.iter().filter(|(_, status, _)| *status == 201).count(), 1, "{shared:?}");
        assert!(shared.iter().all(|(_, status, _)| [201, 409].contains(status)), "{shared:?}");
        for (i, status, body) in answers.iter().filter(|(i, _, _)| i % 3 != 0) {
            assert_eq!(*status, 201, "writer {i}: {body}");
            assert_eq!(body["firstName"], format!("Writer{i}"), "each gets its own customer");
        }
        let created: BTreeSet<String> = answers
            .iter()
            .filter(|(_, status, _)| *status == 201)
            .map(|(_, _, body)| body["id"].as_str().unwrap().to_owned())
            .collect();
        let listed = app.get(&format!("{}?limit=100", app.customers_path())).json();
        let stored: BTreeSet<String> = listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(stored, created, "stored is exactly what was acknowledged");
        let events = feed_until(app, "", created.len());
        assert_eq!(events.len(), created.len(), "one event per acknowledged create");
        let audit = app.get(&format!(
            "/v1/public-api/organizations/{}/audit-events?action=customer.created&limit=100",
            app.organization_id
        ));
        assert_eq!(audit.json()["data"].as_array().unwrap().len(), created.len());
    }
}
