//! One round of one webhook stream: the events an endpoint's stream has
//! not sent, read in the lease's transaction, sent in each customer's order
//! (customers at once), and recorded with the stream moved on.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::client::ATTEMPT_TIMEOUT;
use super::dispatcher::{Dispatcher, HOLD};
use crate::domain::event::Event;
use crate::domain::ids::{CustomerId, EventId};
use crate::store::StoreError;
use crate::store::feed::deliveries::{Attempt, Outcome, Parked};
use crate::store::feed::endpoints::Endpoint;
use crate::store::feed::events;
use crate::store::feed::streams::{self, Leased, Round};

/// Streams leased per round.
const STREAMS: i64 = 16;
/// Events a stream's round reads at most.
const ROUND_EVENTS: i64 = 128;
/// A round starts no attempt after this: the last one ends (within the
/// attempt's timeout) before the lease does; what is left is parked.
const SEND_WINDOW: Duration = HOLD
    .saturating_sub(ATTEMPT_TIMEOUT)
    .saturating_sub(Duration::from_secs(1));

/// A leased stream and what its round sends.
pub struct StreamRound {
    pub leased: Leased,
    events: Vec<(i64, Event)>,
    /// Customers with an unfinished parked delivery: their events wait.
    waiting: HashSet<CustomerId>,
}

impl Dispatcher {
    /// Leases the streams that have events to send, and reads each round's
    /// events, in one transaction.
    pub(super) async fn lease_streams(&self) -> Result<Vec<StreamRound>, String> {
        self.db
            .transaction(|conn| {
                let mut rounds = Vec::new();
                for leased in streams::lease(conn, STREAMS, ROUND_EVENTS, HOLD)? {
                    let events = events::numbered(
                        conn,
                        leased.endpoint.tenant(),
                        leased.after,
                        leased.through,
                    )?;
                    let customers: HashSet<CustomerId> =
                        events.iter().map(|(_, event)| event.customer_id).collect();
                    let waiting =
                        streams::waiting(conn, &leased.endpoint, customers.into_iter().collect())?;
                    rounds.push(StreamRound {
                        leased,
                        events,
                        waiting,
                    });
                }
                Ok(rounds)
            })
            .await
            .map_err(|e: StoreError| e.to_string())
    }

    /// Sends a round's events to its endpoint, then records the attempts,
    /// parks what must wait, and moves the stream on.
    pub(super) async fn stream(self, round: StreamRound) -> Result<(), String> {
        let started = Instant::now();
        let StreamRound {
            leased,
            events,
            waiting,
        } = round;
        let subscription = leased.endpoint.subscription();
        let mut parked = Vec::new();
        let mut of_customer: HashMap<CustomerId, Vec<(i64, Event)>> = HashMap::new();
        for (number, event) in events {
            if !subscription.includes(&event) {
                continue;
            }
            match waiting.contains(&event.customer_id) {
                true => parked.push(Parked::before_first_attempt(number, &event)),
                false => of_customer
                    .entry(event.customer_id)
                    .or_default()
                    .push((number, event)),
            }
        }
        let endpoint = std::sync::Arc::new(leased.endpoint);
        let mut sending = JoinSet::new();
        for events in of_customer.into_values() {
            let (this, endpoint) = (self.clone(), endpoint.clone());
            sending
                .spawn_local(async move { this.send_in_order(&endpoint, events, started).await });
        }
        let mut attempts = Vec::new();
        while let Some(sent) = sending.join_next().await {
            let (sent, waits) = sent.map_err(|e| e.to_string())?;
            attempts.extend(sent);
            parked.extend(waits);
        }
        let (after, through) = (leased.after, leased.through);
        let moved_on = self
            .db
            .transaction(move |conn| {
                streams::finish(
                    conn,
                    &Round {
                        endpoint: &endpoint,
                        after,
                        through,
                        attempts: &attempts,
                        parked: &parked,
                    },
                )
            })
            .await
            .map_err(|e| e.to_string())?;
        if !moved_on {
            // Rare, and one line per round: the lease expired (another
            // instance sends the round again), or the endpoint was deleted
            // or enabled again meanwhile.
            log::info!(
                "a webhook stream had moved on when its round ended; events {}..={through} may be sent again",
                after + 1
            );
        }
        Ok(())
    }

    /// Sends one customer's events one after another, until one fails: it
    /// is parked to be tried again, and the rest behind it.
    async fn send_in_order(
        &self,
        endpoint: &Endpoint,
        events: Vec<(i64, Event)>,
        started: Instant,
    ) -> (Vec<(EventId, Attempt)>, Vec<Parked>) {
        let (mut attempts, mut parked) = (Vec::new(), Vec::new());
        let mut events = events.into_iter();
        while let Some((number, event)) = events.next() {
            if started.elapsed() >= SEND_WINDOW {
                parked.push(Parked::before_first_attempt(number, &event));
                parked.extend(
                    events.map(|(number, event)| Parked::before_first_attempt(number, &event)),
                );
                break;
            }
            let since = event.created_time.naive();
            let attempt = self.attempt(Some((&event, endpoint)), 1, since).await;
            let outcome = attempt.outcome;
            attempts.push((event.id, attempt));
            if let Outcome::Retrying(at) = outcome {
                parked.push(Parked {
                    attempts: 1,
                    next_attempt_at: at,
                    ..Parked::before_first_attempt(number, &event)
                });
                parked.extend(
                    events.map(|(number, event)| Parked::before_first_attempt(number, &event)),
                );
                break;
            }
        }
        (attempts, parked)
    }
}
