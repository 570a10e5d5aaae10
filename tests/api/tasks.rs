//! The background-task lifecycle: tasks start with the server, a failing or
//! panicking task is started again without taking the server down, and a
//! stop reaches every task.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clientele::tasks::Task;

use crate::helpers::{Backend, TestApp};

fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_failing_task_is_restarted_and_a_stop_reaches_it() {
    let runs = Arc::new(AtomicUsize::new(0));
    let stopped_cleanly = Arc::new(AtomicBool::new(false));
    let (counted, flag) = (runs.clone(), stopped_cleanly.clone());
    let app = TestApp::spawn_with_tasks(Backend::Sqlite, move || {
        vec![Task::new("flaky", move |mut stop| {
            let run = counted.fetch_add(1, Ordering::SeqCst) + 1;
            let flag = flag.clone();
            async move {
                match run {
                    1 => panic!("the first run panics"),
                    2 => Err("the second run fails".to_owned()),
                    _ => {
                        stop.stopped().await;
                        flag.store(true, Ordering::SeqCst);
                        Ok(())
                    }
                }
            }
        })]
    })
    .unwrap();
    wait_until("the task ran a third time", || {
        runs.load(Ordering::SeqCst) == 3
    });
    assert_eq!(
        app.get("/health").status,
        200,
        "a failing task took the server down"
    );
    assert_eq!(app.get(&app.customers_path()).status, 200);
    assert!(!stopped_cleanly.load(Ordering::SeqCst));
    drop(app);
    assert!(
        stopped_cleanly.load(Ordering::SeqCst),
        "the stop did not reach the task"
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "a stopped task was started again"
    );
}

#[test]
fn a_periodic_task_runs_until_the_server_stops() {
    let ticks = Arc::new(AtomicUsize::new(0));
    let counted = ticks.clone();
    let app = TestApp::spawn_with_tasks(Backend::Sqlite, move || {
        vec![Task::every("tick", Duration::from_millis(20), move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        })]
    })
    .unwrap();
    wait_until("the task ticked five times", || {
        ticks.load(Ordering::SeqCst) >= 5
    });
    drop(app);
    let after_stop = ticks.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        ticks.load(Ordering::SeqCst),
        after_stop,
        "the task ran after the stop"
    );
}
