//! SQLite's writes, committed in groups. SQLite has one writer, and at full
//! durability each commit waits for an fsync; writes that arrive while one
//! commits wait in a queue, and the next writer to get the turn runs every
//! waiting write (up to [`MAX_GROUP`]) in one transaction, each in a
//! savepoint of its own, and commits them with one fsync. Each request is
//! answered only after that commit, with its own outcome: a write that
//! refuses, fails or panics is rolled back to its savepoint and its
//! neighbours go on; a commit that fails fails every write of the group,
//! none of which is then stored.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use tokio::sync::oneshot;

use super::connection::DbConnection;
use super::error::StoreError;

/// The most writes one commit takes: a writer holds the turn for one group
/// at a time, so a checkpoint waiting for the turn is never starved.
pub const MAX_GROUP: usize = 64;

const QUEUED: u8 = 0;
const TAKEN: u8 = 1;
const WITHDRAWN: u8 = 2;

/// A write waiting in the queue, or running in a group.
trait Grouped: Send {
    /// Runs the write in its savepoint and keeps its outcome; false when
    /// the savepoint could not be released or rolled back (the transaction
    /// is then in no known state, and the group fails).
    fn run(&mut self, conn: &mut DbConnection) -> bool;
    /// Answers the request: its own outcome once its group committed, the
    /// group's failure otherwise.
    fn answer(self: Box<Self>, group: Result<(), StoreError>);
}

struct Pending<T, F> {
    work: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Grouped for Pending<T, F>
where
    T: Send,
    F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &mut DbConnection) -> bool {
        let Some(work) = self.work.take() else {
            return true;
        };
        if let Err(error) = conn.batch_execute("SAVEPOINT grouped_write") {
            self.outcome = Some(Err(error.into()));
            return false;
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| work(conn)))
            .unwrap_or_else(|_| Err(StoreError::Failed("a write panicked (rolled back)".into())));
        let end = match outcome {
            Ok(_) => "RELEASE grouped_write",
            Err(_) => "ROLLBACK TO grouped_write; RELEASE grouped_write",
        };
        let ended = conn.batch_execute(end).is_ok();
        self.outcome = Some(outcome);
        ended
    }

    fn answer(self: Box<Self>, group: Result<(), StoreError>) {
        let answer = match (self.outcome, group) {
            // A write refused is refused whatever became of its group.
            (Some(Err(own)), _) => Err(own),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(group)) => Err(group),
            (None, Ok(())) => Err(StoreError::Failed("a write was not run".into())),
        };
        // The request may be gone (its client left): nothing to tell.
        let _ = self.reply.send(answer);
    }
}

struct Job {
    state: Arc<AtomicU8>,
    write: Box<dyn Grouped>,
}

/// The writes waiting for a writer's turn.
#[derive(Default)]
pub struct Queue(Mutex<Vec<Job>>);

/// A request's place in the queue.
pub struct Ticket<T> {
    state: Arc<AtomicU8>,
    pub reply: oneshot::Receiver<Result<T, StoreError>>,
}

impl<T> Ticket<T> {
    /// Takes the write out of the queue if no group has taken it (a request
    /// that gave up waiting); false when it is running or ran, and its
    /// answer will come.
    pub fn withdraw(&self) -> bool {
        self.state
            .compare_exchange(QUEUED, WITHDRAWN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

impl<T> Drop for Ticket<T> {
    /// A request whose client left takes its write with it, unless a group
    /// runs it already.
    fn drop(&mut self) {
        self.withdraw();
    }
}

impl Queue {
    /// Queues `work` for the next group.
    pub fn push<T, F>(&self, work: F) -> Ticket<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let state = Arc::new(AtomicU8::new(QUEUED));
        let write = Box::new(Pending {
            work: Some(work),
            outcome: None,
            reply,
        });
        self.lock().push(Job {
            state: state.clone(),
            write,
        });
        Ticket {
            state,
            reply: answer,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Job>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes up to [`MAX_GROUP`] waiting writes, oldest first, and runs
    /// them as one group on `conn` (the writer's turn held).
    pub fn run_group(&self, conn: &mut DbConnection) {
        let group: Vec<Box<dyn Grouped>> = {
            let mut queue = self.lock();
            let mut group = Vec::new();
            let mut kept = Vec::new();
            for job in queue.drain(..) {
                if group.len() == MAX_GROUP {
                    kept.push(job);
                    continue;
                }
                let taken = job
                    .state
                    .compare_exchange(QUEUED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok();
                if taken {
                    group.push(job.write);
                }
            }
            *queue = kept;
            group
        };
        if !group.is_empty() {
            commit_group(conn, group);
        }
    }
}

/// One transaction for the whole group (`BEGIN IMMEDIATE`), a savepoint per
/// write, one commit; each write answered after it.
fn commit_group(conn: &mut DbConnection, mut group: Vec<Box<dyn Grouped>>) {
    let begun = match conn {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        DbConnection::Pg(pg) => AnsiTransactionManager::begin_transaction_sql(pg, "BEGIN"),
    };
    if let Err(error) = begun {
        let error = StoreError::from(error);
        for write in group {
            write.answer(Err(error.clone()));
        }
        return;
    }
    let healthy = group.iter_mut().all(|write| write.run(conn));
    let committed = match healthy {
        true => <DbConnection as Connection>::TransactionManager::commit_transaction(conn).map_err(
            |error| {
                // Nothing of the group is stored; the connection is dropped
                // by the pool if even the rollback fails.
                let _ =
                    <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
                StoreError::from(error)
            },
        ),
        false => {
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(StoreError::Failed(
                "a write left its transaction in no known state: its group was rolled back".into(),
            ))
        }
    };
    for write in group {
        write.answer(committed.clone());
    }
}
