//! Background tasks: in-process workers that start with the server and
//! stop with it. A task that fails or panics is logged and started again
//! after a backoff; it never takes the server down.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use tokio::sync::watch;

type TaskFuture = Pin<Box<dyn Future<Output = Result<(), String>>>>;

/// A named piece of background work. `run` is called again after each
/// failure; it should return `Ok` once [`Stop::stopped`] resolves.
pub struct Task {
    name: &'static str,
    run: Box<dyn Fn(Stop) -> TaskFuture>,
}

impl Task {
    pub fn new<F, Fut>(name: &'static str, run: F) -> Self
    where
        F: Fn(Stop) -> Fut + 'static,
        Fut: Future<Output = Result<(), String>> + 'static,
    {
        Self {
            name,
            run: Box::new(move |stop| Box::pin(run(stop))),
        }
    }

    /// A task that runs `work` at once and then every `period` until it is
    /// stopped (so pruning catches up as soon as a server starts).
    pub fn every<F, Fut>(name: &'static str, period: Duration, work: F) -> Self
    where
        F: Fn() -> Fut + Clone + 'static,
        Fut: Future<Output = Result<(), String>> + 'static,
    {
        Self::new(name, move |stop| {
            let work = work.clone();
            async move {
                loop {
                    work().await?;
                    if stop.sleep(period).await {
                        return Ok(());
                    }
                }
            }
        })
    }
}

/// Tells a task that the server is stopping.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the server is stopping.
    pub async fn stopped(&mut self) {
        // An error means the sender is gone, which also means stopping.
        let _ = self.0.wait_for(|stopped| *stopped).await;
    }

    /// Sleeps for `period`; `true` if the server began stopping meanwhile.
    pub async fn sleep(&self, period: Duration) -> bool {
        let mut stop = self.clone();
        tokio::select! {
            _ = stop.stopped() => true,
            _ = tokio::time::sleep(period) => false,
        }
    }
}

const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The sending side of [`Stop`]: tells every task to stop.
#[derive(Clone)]
pub struct StopSignal(watch::Sender<bool>);

impl StopSignal {
    pub fn new() -> Self {
        Self(watch::channel(false).0)
    }

    pub fn send(&self) {
        self.0.send_replace(true);
    }

    fn receiver(&self) -> Stop {
        Stop(self.0.subscribe())
    }
}

impl Default for StopSignal {
    fn default() -> Self {
        Self::new()
    }
}

/// The running tasks.
pub struct Supervisor {
    running: Vec<tokio::task::JoinHandle<()>>,
}

impl Supervisor {
    /// Starts every task on the current (actix) runtime; they run until
    /// `signal` is sent.
    pub fn start(tasks: Vec<Task>, signal: &StopSignal) -> Self {
        let running = tasks
            .into_iter()
            .map(|task| actix_web::rt::spawn(supervise(task, signal.receiver())))
            .collect();
        Self { running }
    }

    /// Waits for the tasks, already told to stop, until `deadline`.
    pub async fn join(self, deadline: Instant) {
        for task in self.running {
            if tokio::time::timeout_at(deadline.into(), task)
                .await
                .is_err()
            {
                log::warn!("a background task did not stop within the shutdown window");
            }
        }
    }
}

async fn supervise(task: Task, stop: Stop) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let started = Instant::now();
        let outcome = actix_web::rt::spawn((task.run)(stop.clone())).await;
        if stop.is_stopped() {
            return;
        }
        match outcome {
            Ok(Ok(())) => log::warn!("background task {} ended; starting it again", task.name),
            Ok(Err(error)) => log::error!("background task {} failed: {error}", task.name),
            Err(panic) => log::error!("background task {} panicked: {panic}", task.name),
        }
        // A task that ran well for a while starts over from a short backoff.
        if started.elapsed() > MAX_BACKOFF {
            backoff = FIRST_BACKOFF;
        }
        log::info!("background task {} restarts in {backoff:?}", task.name);
        if stop.sleep(backoff).await {
            return;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
