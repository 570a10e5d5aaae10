//! The dispatcher: a background task in every instance that finds due
//! deliveries, claims each (so no two instances make the same attempt),
//! POSTs the event signed, and records the attempt: delivered on a 2xx
//! within 10 s, else retried with exponential backoff (from the base,
//! doubling, at most an hour apart) for 3 days, then failed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use tokio::task::JoinSet;

use super::client::Client;
use super::signature;
use crate::domain::time::Time;
use crate::domain::webhook::EndpointUrl;
use crate::store::webhooks::{self, Attempt, Due, Outcome};
use crate::store::{Database, StoreError, events};
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

/// A claim on a delivery outlives the attempt's 10 s: an instance that dies
/// while delivering leaves the claim to expire, and the delivery is made
/// again (at least once).
const HOLD: Duration = Duration::from_secs(15);
/// How often to look for due deliveries while there are none.
const IDLE: Duration = Duration::from_millis(50);
/// What a claimed delivery sends, when both still exist.
type Found = (crate::domain::event::Event, webhooks::Endpoint);

/// Due deliveries taken per round, delivered concurrently.
const BATCH: i64 = 64;
/// How often the backlog gauges are refreshed.
const GAUGES_EVERY: Duration = Duration::from_secs(5);
const MAX_RETRY_WAIT: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct Dispatcher {
    db: Database,
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
            let due = self
                .db
                .run(|conn| webhooks::due(conn, BATCH))
                .await
                .map_err(|e| e.to_string())?;
            if due.is_empty() {
                if stop.sleep(IDLE).await {
                    return Ok(());
                }
                continue;
            }
            let claimed = self.claim(due).await?;
            let mut round = JoinSet::new();
            for (due, number, found) in claimed {
                let this = self.clone();
                round.spawn_local(async move { this.attempt(due, number, found).await });
            }
            // Attempts are recorded as they finish, each batch of finished
            // ones in one transaction: one commit (one WAL flush) for many.
            while let Some(finished) = round.join_next().await {
                let mut batch: Vec<(Due, Attempt)> = finished.into_iter().collect();
                while let Some(more) = round.try_join_next() {
                    batch.extend(more);
                }
                self.db
                    .transaction(move |conn| {
                        batch
                            .iter()
                            .try_for_each(|(due, attempt)| webhooks::record(conn, due, attempt))
                    })
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if stop.is_stopped() {
                return Ok(());
            }
        }
    }

    async fn refresh_gauges(&self) -> Result<(), StoreError> {
        let (pending, oldest) = self.db.run(webhooks::backlog).await?;
        let age = oldest.map_or(0.0, |oldest| {
            (Time::now().naive() - oldest).num_milliseconds().max(0) as f64 / 1000.0
        });
        self.metrics.set_webhook_backlog(pending, age);
        Ok(())
    }

    /// Claims the round's due deliveries in one transaction, then reads
    /// what each claimed one sends; another instance may have claimed some
    /// first.
    async fn claim(&self, due: Vec<Due>) -> Result<Vec<(Due, i32, Option<Found>)>, String> {
        let claimed = self
            .db
            .transaction(move |conn| {
                let mut claimed = Vec::with_capacity(due.len());
                for due in due {
                    if let Some(number) = webhooks::claim(conn, &due, HOLD)? {
                        claimed.push((due, number));
                    }
                }
                Ok(claimed)
            })
            .await
            .map_err(|e| e.to_string())?;
        self.db
            .run(move |conn| {
                claimed
                    .into_iter()
                    .map(|(due, number)| {
                        let event = events::find(conn, due.tenant(), due.event_id)?;
                        let endpoint = webhooks::find(conn, due.tenant(), due.endpoint_id)?;
                        Ok((due, number, event.zip(endpoint)))
                    })
                    .collect()
            })
            .await
            .map_err(|e: StoreError| e.to_string())
    }

    /// One attempt at one claimed delivery: what to record.
    async fn attempt(&self, due: Due, number: i32, found: Option<Found>) -> (Due, Attempt) {
        let started = Instant::now();
        let (status, error) = match found {
            Some((event, endpoint)) => self.send(&event, &endpoint).await,
            None => (None, Some("the event or the endpoint is gone".into())),
        };
        let outcome = match status {
            Some(code) if (200..300).contains(&code) => Outcome::Delivered,
            _ => self.after_failure(&due, number),
        };
        self.metrics.count_webhook_delivery(outcome.as_str());
        let attempt = Attempt {
            number,
            status,
            error,
            duration: started.elapsed(),
            outcome,
        };
        (due, attempt)
    }

    /// POSTs the event; the answer's status, or why there is none.
    async fn send(
        &self,
        event: &crate::domain::event::Event,
        endpoint: &webhooks::Endpoint,
    ) -> (Option<u16>, Option<String>) {
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

    /// The next attempt's time, or the end.
    fn after_failure(&self, due: &Due, attempt: i32) -> Outcome {
        let now = Time::now().naive();
        let age = now - due.created_at;
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
