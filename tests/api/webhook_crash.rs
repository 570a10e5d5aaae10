//! Delivery across processes: the real binary killed with SIGKILL while
//! deliveries are in flight loses none of them and repeats only those in
//! flight; two processes over one PostgreSQL database make each attempt
//! once.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{Backend, texts_at};
use crate::process::{Server, Setup, http, sigkill};
use crate::receiver::{Receiver, Reply};

/// The webhook tests' setup: retries a second apart.
fn setup(backend: Backend, name: &str) -> Option<Setup> {
    Setup::new(
        backend,
        name,
        &[("CLIENTELE_WEBHOOK_RETRY_BASE_SECONDS", "1")],
    )
}

impl Setup {
    fn post(&self, server: &Server, path: &str, body: Value) -> Value {
        let url = server.url(&format!("/v1/public-api/organizations/{}/{path}", self.org));
        let mut response = http()
            .post(&url)
            .header("authorization", &self.auth)
            .send_json(body)
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.body_mut().read_json().unwrap()
    }

    fn events(&self) -> BTreeSet<String> {
        texts_at(&self.database.url, "SELECT id AS t FROM events")
            .into_iter()
            .collect()
    }

    /// The recorded attempts of each event.
    fn attempts(&self) -> HashMap<String, Vec<String>> {
        let mut attempts: HashMap<String, Vec<String>> = HashMap::new();
        for row in texts_at(
            &self.database.url,
            "SELECT event_id || ' ' || outcome AS t FROM webhook_attempts",
        ) {
            let (event, outcome) = row.split_once(' ').unwrap();
            attempts
                .entry(event.to_owned())
                .or_default()
                .push(outcome.to_owned());
        }
        attempts
    }
}

fn nothing_lost_or_doubled_across_a_kill(backend: Backend) {
    let Some(setup) = setup(backend, "webhook_kill") else {
        return;
    };
    // Slow answers keep many deliveries in flight when the kill comes.
    let receiver = Receiver::scripted(|_, _| Reply {
        status: 200,
        after: Duration::from_millis(200),
    });
    let server = setup.start();
    setup.post(
        &server,
        "webhook-endpoints",
        json!({"url": receiver.url(), "events": ["*"]}),
    );
    for n in 0..60 {
        setup.post(&server, "customers", json!({"firstName": format!("K{n}")}));
    }
    receiver.wait_for_count(5, Duration::from_secs(20));
    sigkill(&server.child);
    server.stop();
    // What the dead process had written to its sockets still reaches the
    // receiver after the kill (seen: 0 ms after it); once that has drained,
    // anything that arrived before the restart was in flight at the kill.
    std::thread::sleep(Duration::from_millis(500));
    let restarted_at = Instant::now();

    // Restarted: everything is delivered, claims of the dead process expire.
    let server = setup.start();
    let events = setup.events();
    assert_eq!(events.len(), 60);
    receiver.wait_for(Duration::from_secs(60), |received| {
        let ids: BTreeSet<&String> = received.iter().map(|r| &r.event_id).collect();
        ids.len() == events.len()
    });
    let start = Instant::now();
    let delivered = |attempts: HashMap<String, Vec<String>>| {
        attempts
            .values()
            .filter(|o| o.iter().any(|o| o == "delivered"))
            .count()
    };
    while delivered(setup.attempts()) < events.len() {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(50));
    }
    server.stop();
    let received = receiver.counts();
    assert_eq!(
        received.keys().cloned().collect::<BTreeSet<_>>(),
        events,
        "an event was never delivered"
    );
    let attempts = setup.attempts();
    for event in &events {
        let recorded = attempts.get(event).map_or(&[][..], Vec::as_slice);
        assert_eq!(
            recorded.iter().filter(|o| *o == "delivered").count(),
            1,
            "{event}: {recorded:?}"
        );
    }
    // A request the receiver got more often than the attempts recorded was
    // in flight when the process died; only those may come twice.
    let in_flight_at_the_kill: BTreeSet<String> = receiver
        .received()
        .into_iter()
        .filter(|r| r.arrived < restarted_at)
        .map(|r| r.event_id)
        .collect();
    let unrecorded = in_flight(&receiver, &setup);
    for event in &unrecorded {
        assert!(
            in_flight_at_the_kill.contains(event),
            "{event} was sent twice but not in flight at the kill"
        );
        assert_eq!(received[event], attempts[event].len() + 1, "{event}");
    }
    let doubled = received.values().filter(|n| **n > 1).count();
    assert_eq!(doubled, unrecorded.len());
    eprintln!(
        "{backend:?}: 60 events, {} in flight at the kill and sent again",
        unrecorded.len()
    );
}

/// Events the receiver got more often than attempts were recorded.
fn in_flight(receiver: &Receiver, setup: &Setup) -> Vec<String> {
    let attempts = setup.attempts();
    receiver
        .counts()
        .into_iter()
        .filter(|(event, n)| *n > attempts.get(event).map_or(0, Vec::len))
        .map(|(event, _)| event)
        .collect()
}

#[test]
fn sqlite_deliveries_survive_sigkill() {
    nothing_lost_or_doubled_across_a_kill(Backend::Sqlite);
}

#[test]
fn postgres_deliveries_survive_sigkill() {
    nothing_lost_or_doubled_across_a_kill(Backend::Postgres);
}

/// Two processes over one database share the deliveries: each event
/// reaches the receiver once, in one attempt.
#[test]
fn two_processes_make_each_attempt_once() {
    let Some(setup) = setup(Backend::Postgres, "webhook_pair") else {
        return;
    };
    let receiver = Receiver::scripted(|_, _| Reply {
        status: 200,
        after: Duration::from_millis(10),
    });
    let servers = [setup.start(), setup.start()];
    setup.post(
        &servers[0],
        "webhook-endpoints",
        json!({"url": receiver.url(), "events": ["*"]}),
    );
    const CUSTOMERS: usize = 200;
    std::thread::scope(|scope| {
        for writer in 0..8 {
            let (setup, servers) = (&setup, &servers);
            scope.spawn(move || {
                for n in (writer..CUSTOMERS).step_by(8) {
                    setup.post(
                        &servers[n % 2],
                        "customers",
                        json!({"firstName": format!("P{n}")}),
                    );
                }
            });
        }
    });
    receiver.wait_for(Duration::from_secs(60), |r| {
        r.iter().map(|r| &r.event_id).collect::<BTreeSet<_>>().len() == CUSTOMERS
    });
    // Time for a second attempt, were one to be made.
    std::thread::sleep(Duration::from_secs(1));
    let [first, second] = servers;
    first.stop();
    second.stop();
    let counts = receiver.counts();
    assert_eq!(counts.len(), CUSTOMERS);
    let doubled: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "delivered twice: {doubled:?}");
    let attempts = setup.attempts();
    assert_eq!(attempts.values().map(Vec::len).sum::<usize>(), CUSTOMERS);
}
