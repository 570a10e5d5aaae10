//! SQLite under sustained writes: the WAL stays small, and shrinks back to
//! nothing once a burst is over.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Backend, TestApp};

fn wal_bytes(app: &TestApp) -> u64 {
    let path = format!("{}-wal", app.database_url.trim_start_matches("sqlite://"));
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Writers keep every pooled connection busy for `seconds`; returns the
/// largest WAL seen and the number of creates.
fn sustained_creates(app: &TestApp, writers: usize, seconds: u64) -> (u64, usize) {
    let done = AtomicBool::new(false);
    let largest = AtomicU64::new(0);
    let created = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..writers {
            scope.spawn(|| {
                while !done.load(Ordering::SeqCst) {
                    let response =
                        app.post_json(&app.customers_path(), &json!({"firstName": "Sustained"}));
                    assert_eq!(response.status, 201, "{}", response.text);
                    created.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        let until = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < until {
            largest.fetch_max(wal_bytes(app), Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(50));
        }
        done.store(true, Ordering::SeqCst);
    });
    (largest.into_inner(), created.into_inner())
}

#[test]
fn the_wal_stays_small_under_sustained_writes() {
    // NORMAL commits fastest, which is when the WAL grew without bound:
    // writers waiting inside SQLite held read marks no checkpoint could pass.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.sqlite_synchronous = clientele::store::Synchronous::Normal;
        s.sqlite_checkpoint_seconds = 3600;
    })
    .unwrap();
    let (largest, created) = sustained_creates(&app, 16, 8);
    assert!(created > 1_000, "only {created} creates");
    assert!(
        largest < 16 << 20,
        "the WAL reached {largest} bytes after {created} creates"
    );
}

#[test]
fn the_wal_shrinks_back_after_a_burst() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.sqlite_checkpoint_seconds = 1).unwrap();
    let (largest, _) = sustained_creates(&app, 8, 2);
    assert!(largest > 0, "the burst never wrote to the WAL");
    let deadline = Instant::now() + Duration::from_secs(10);
    while wal_bytes(&app) > 0 {
        assert!(
            Instant::now() < deadline,
            "the WAL kept {} bytes",
            wal_bytes(&app)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let kept = app.list("includeTotal=true&limit=1")["total"]
        .as_u64()
        .unwrap();
    assert!(kept > 0, "the checkpoint lost the burst");
}
