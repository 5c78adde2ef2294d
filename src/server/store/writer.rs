//! The one writer: a thread that owns the write connection and commits every
//! batch of waiting jobs in one transaction (group commit), each job inside its
//! own savepoint so one refused request never undoes its neighbours.
//!
//! A job's answer (and the events it produced) is released only after COMMIT
//! returns, so a 2xx always means "on disk"; events are handed to the hub on this
//! thread, in commit order, which keeps each conversation's events ordered.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::server::error::ApiError;
use crate::server::hub::{Effect, Hub};
use std::sync::Arc;

/// What a job leaves behind: whether it succeeded, and what to do once the
/// batch's fate (committed or not) is known.
struct Outcome {
    ok: bool,
    finish: Finish,
}

/// Called with the hub once the batch committed, or with the commit's error.
type Finish = Box<dyn FnOnce(Result<&Hub, &ApiError>) + Send>;

type Job = Box<dyn FnOnce(&Connection) -> Outcome + Send>;

/// Most jobs folded into one transaction.
const MAX_BATCH: usize = 512;

/// Handle to the writer thread. Cloning shares the thread.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`; it runs until every handle is dropped.
    pub fn spawn(conn: Connection, hub: Arc<Hub>) -> std::io::Result<(Self, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let handle = std::thread::Builder::new().name("store-writer".into()).spawn(move || run(conn, rx, &hub))?;
        Ok((Self { tx }, handle))
    }

    /// Runs `f` in the next transaction. `f` returns its value and the effects
    /// (stream events, membership changes) to apply once the transaction commits.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<(T, Vec<Effect>), ApiError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, ApiError>>();
        let job: Job = Box::new(move |conn| match catch_unwind(AssertUnwindSafe(|| f(conn))) {
            Ok(Ok((value, effects))) => Outcome {
                ok: true,
                finish: Box::new(move |committed| {
                    let _ = reply.send(match committed {
                        Ok(hub) => {
                            hub.apply(effects);
                            Ok(value)
                        }
                        Err(e) => Err(e.clone()),
                    });
                }),
            },
            Ok(Err(e)) => Outcome { ok: false, finish: Box::new(move |_| drop(reply.send(Err(e)))) },
            Err(_) => Outcome {
                ok: false,
                finish: Box::new(move |_| drop(reply.send(Err(ApiError::internal("a write job panicked"))))),
            },
        });
        self.tx.send(job).await.map_err(|_| ApiError::unavailable())?;
        answer.await.map_err(|_| ApiError::unavailable())?
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Job>, hub: &Hub) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut finishers = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            // Dropping the jobs drops their reply channels: each caller gets a 503.
            tracing::error!("cannot begin a transaction: {e}");
            batch.clear();
            continue;
        }
        for job in batch.drain(..) {
            // Cached statements: these run once per job, at thousands of jobs a second.
            let outcome = match conn.prepare_cached("SAVEPOINT job").and_then(|mut s| s.execute([])) {
                Ok(_) => job(&conn),
                Err(e) => {
                    tracing::error!("savepoint failed: {e}");
                    Outcome { ok: false, finish: Box::new(|_| {}) }
                }
            };
            let rollback = || conn.prepare_cached("ROLLBACK TO job").and_then(|mut s| s.execute([]));
            let end = if outcome.ok { Ok(0) } else { rollback() }
                .and_then(|_| conn.prepare_cached("RELEASE job").and_then(|mut s| s.execute([])));
            if let Err(e) = end {
                tracing::error!("ending savepoint failed: {e}");
            }
            finishers.push(outcome.finish);
        }
        match conn.execute_batch("COMMIT") {
            Ok(()) => finishers.drain(..).for_each(|f| f(Ok(hub))),
            Err(e) => {
                tracing::error!("commit failed: {e}");
                let _ = conn.execute_batch("ROLLBACK");
                let err = ApiError::internal("the write could not be committed");
                finishers.drain(..).for_each(|f| f(Err(&err)));
            }
        }
    }
}
