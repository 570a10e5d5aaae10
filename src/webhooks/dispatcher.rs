//! The dispatcher: a background task in every instance. Each round it
//! leases the webhook streams that have events to send ([`super::stream`])
//! and claims the parked deliveries that are due (each claim so no two
//! instances make the same attempt), POSTs the events signed, and records
//! the attempts: delivered on a 2xx within 10 s, else retried with
//! exponential backoff (from the base, doubling, at most an hour apart) for
//! 3 days, then failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta};
use tokio::task::JoinSet;

use super::client::Client;
use super::signature;
use crate::domain::event::Event;
use crate::domain::ids::EventId;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;
use crate::domain::webhook::EndpointUrl;
use crate::store::feed::deliveries::{self, Attempt, Due, Finished, Outcome};
use crate::store::feed::endpoints::{self, Endpoint};
use crate::store::feed::events;
use crate::store::{Database, StoreError};
use crate::tasks::Stop;
use crate::telemetry::Metrics;

/// How the dispatcher behaves.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The first wait before a retry; each later one doubles, up to an hour.
    pub retry_base: Duration,
    /// After this long since the event, a failed attempt is the last.
    pub give_up_after: Duration,
}

/// A claim on a delivery, or a lease on a stream, outlives the attempt's
/// 10 s: an instance that dies while delivering leaves it to expire, and
/// the delivery is made again (at least once).
pub(super) const HOLD: Duration = Duration::from_secs(15);
/// How often to look for due deliveries while fewer than a round's worth
/// are due.
const IDLE: Duration = Duration::from_millis(50);
/// What a claimed delivery sends, when both still exist.
type Found = (Event, Endpoint);

/// Due deliveries taken per round, delivered concurrently.
const BATCH: i64 = 64;
/// How long finished attempts wait for others of their round, to be
/// recorded together.
const GATHER: Duration = Duration::from_millis(20);
/// How often the backlog gauges are refreshed.
const GAUGES_EVERY: Duration = Duration::from_secs(5);
const MAX_RETRY_WAIT: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct Dispatcher {
    pub(super) db: Database,
    client: Client,
    metrics: Arc<Metrics>,
    settings: Settings,
}

impl Dispatcher {
    pub fn new(db: Database, client: Client, metrics: Arc<Metrics>, settings: Settings) -> Self {
        Self {
            db,
            client,
            metrics,
            settings,
        }
    }

    /// Runs until `stop`; a round that fails ends the task, which the
    /// supervisor starts again.
    pub async fn run(self, stop: Stop) -> Result<(), String> {
        let mut gauges_at = Instant::now();
        loop {
            if gauges_at.elapsed() >= GAUGES_EVERY {
                self.refresh_gauges().await.map_err(|e| e.to_string())?;
                gauges_at = Instant::now();
            }
            let streams = self.lease_streams().await?;
            let due = self
                .db
                .run(|conn| deliveries::due(conn, BATCH))
                .await
                .map_err(|e| e.to_string())?;
            if streams.is_empty() && due.is_empty() {
                if stop.sleep(IDLE).await {
                    return Ok(());
                }
                continue;
            }
            let full = due.len() as i64 == BATCH || streams.iter().any(|s| s.leased.more);
            let mut rounds = JoinSet::new();
            for stream in streams {
                let this = self.clone();
                rounds.spawn_local(async move { this.stream(stream).await });
            }
            if !due.is_empty() {
                self.deliver_due(due).await?;
            }
            while let Some(round) = rounds.join_next().await {
                round.map_err(|e| e.to_string())??;
            }
            // A round that took what was due waits like an empty one: the
            // next one then carries what arrived meanwhile, and costs its
            // few statements and commits once for all of it.
            if stop.is_stopped() || (!full && stop.sleep(IDLE).await) {
                return Ok(());
            }
        }
    }

    /// Claims the due parked deliveries, attempts them, and records the
    /// attempts as they finish.
    async fn deliver_due(&self, due: Vec<Due>) -> Result<(), String> {
        let claimed = self.claim(due).await?;
        let mut round = JoinSet::new();
        for (due, number, found) in claimed {
            let this = self.clone();
            round.spawn_local(async move {
                let found = found.as_ref().map(|(event, endpoint)| (event, endpoint));
                let attempt = this.attempt(found, number, due.created_at).await;
                Finished { due, attempt }
            });
        }
        // Attempts are recorded as they finish, those finishing within
        // GATHER of one another in one transaction: one commit (one WAL
        // flush) for many, while a slow endpoint holds up no record.
        while let Some(finished) = round.join_next().await {
            let mut batch: Vec<Finished> = finished.into_iter().collect();
            let gathered = tokio::time::sleep(GATHER);
            tokio::pin!(gathered);
            loop {
                tokio::select! {
                    more = round.join_next() => match more {
                        Some(more) => batch.extend(more),
                        None => break,
                    },
                    _ = &mut gathered => break,
                }
            }
            self.db
                .transaction(move |conn| deliveries::record(conn, &batch))
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    async fn refresh_gauges(&self) -> Result<(), StoreError> {
        let (pending, oldest) = self.db.run(deliveries::backlog).await?;
        let age = oldest.map_or(0.0, |oldest| {
            (Time::now().naive() - oldest).num_milliseconds().max(0) as f64 / 1000.0
        });
        self.metrics.set_webhook_backlog(pending, age);
        Ok(())
    }

    /// Claims the round's due deliveries and reads what each claimed one
    /// sends, in one transaction; another instance may have claimed some
    /// first.
    async fn claim(&self, due: Vec<Due>) -> Result<Vec<(Due, i32, Option<Found>)>, String> {
        self.db
            .transaction(move |conn| {
                let claimed = deliveries::claim(conn, &due, HOLD)?;
                let mut wanted: HashMap<Tenant, Vec<EventId>> = HashMap::new();
                for (due, _) in &claimed {
                    wanted.entry(due.tenant()).or_default().push(due.event_id);
                }
                let mut events = HashMap::new();
                let mut endpoints = HashMap::new();
                for (tenant, ids) in wanted {
                    events.extend(
                        events::find_many(conn, tenant, ids)?
                            .into_iter()
                            .map(|event| (event.id, event)),
                    );
                    endpoints.extend(
                        endpoints::list(conn, tenant)?
                            .into_iter()
                            .map(|endpoint| (endpoint.id, endpoint)),
                    );
                }
                Ok(claimed
                    .into_iter()
                    .map(|(due, number)| {
                        let event = events.get(&due.event_id).cloned();
                        let endpoint = endpoints.get(&due.endpoint_id).cloned();
                        (due, number, event.zip(endpoint))
                    })
                    .collect())
            })
            .await
            .map_err(|e: StoreError| e.to_string())
    }

    /// One attempt, the `number`th, at delivering an event whose delivery
    /// began at `since`: what to record.
    pub(super) async fn attempt(
        &self,
        found: Option<(&Event, &Endpoint)>,
        number: i32,
        since: NaiveDateTime,
    ) -> Attempt {
        let started = Instant::now();
        let (status, error) = match found {
            Some((event, endpoint)) => self.send(event, endpoint).await,
            None => (None, Some("the event or the endpoint is gone".into())),
        };
        let outcome = match status {
            Some(code) if (200..300).contains(&code) => Outcome::Delivered,
            _ => self.after_failure(since, number),
        };
        self.metrics.count_webhook_delivery(outcome.as_str());
        Attempt {
            number,
            status,
            error,
            duration: started.elapsed(),
            outcome,
        }
    }

    /// POSTs the event; the answer's status, or why there is none.
    async fn send(&self, event: &Event, endpoint: &Endpoint) -> (Option<u16>, Option<String>) {
        // The URL was checked when set; the rules may have tightened since.
        if let Err(message) = EndpointUrl::parse(&endpoint.url, self.client.policy()) {
            return (None, Some(format!("the URL is refused: {message}")));
        }
        let body = serde_json::to_string(event).unwrap_or_default();
        let signature = signature::sign(
            &endpoint.secret,
            Time::now().naive().and_utc().timestamp(),
            &body,
        );
        let sent = self
            .client
            .http()
            .post(&endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::EVENT_ID_HEADER, event.id.to_string())
            .header(signature::HEADER, signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.status().is_success() {
                    true => (Some(status), None),
                    false => (
                        Some(status),
                        Some(format!("the endpoint answered {status}")),
                    ),
                }
            }
            Err(error) if error.is_timeout() => (None, Some("no answer within 10 s".into())),
            Err(error) => (None, Some(without_url(error))),
        }
    }

    /// After the `attempt`th failed attempt of a delivery that began at
    /// `since`: the next attempt's time, or the end.
    fn after_failure(&self, since: NaiveDateTime, attempt: i32) -> Outcome {
        let now = Time::now().naive();
        let age = now - since;
        if age >= TimeDelta::from_std(self.settings.give_up_after).unwrap_or(TimeDelta::MAX) {
            return Outcome::Failed;
        }
        let doublings = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(0)
            .min(20);
        let wait = self
            .settings
            .retry_base
            .saturating_mul(1 << doublings)
            .min(MAX_RETRY_WAIT);
        Outcome::Retrying(now + TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX))
    }
}

/// A transport error's text without the URL, which may carry a token of the
/// receiver's in its query.
fn without_url(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut causes = vec![error.to_string()];
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    causes.join(": ")
}
