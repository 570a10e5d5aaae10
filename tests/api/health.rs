use crate::helpers::{Backend, TestApp, on_both_backends};

on_both_backends! {
    fn health_and_readiness_answer(app: &TestApp) {
        let health = app.get("/health");
        assert_eq!(health.status, 200);
        assert_eq!(health.json(), serde_json::json!({"status": "ok"}));
        let ready = app.get("/ready");
        assert_eq!(ready.status, 200, "{}", ready.text);
        assert_eq!(ready.json()["status"], "ready");
    }
}
