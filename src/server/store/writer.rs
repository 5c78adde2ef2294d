//! The one writer: a thread that owns the write connection and commits every
//! batch of waiting jobs in one transaction (group commit), each job inside its
//! own savepoint so one refused request never undoes its neighbours.
//!
//! A job's answer is released only after COMMIT returns, so a 2xx always means
//! "on disk". The batch's effects (stream events, membership changes) then go,
//! in commit order, to a publisher thread that applies them to the hub: each
//! conversation's events stay ordered, and serializing and fanning them out to
//! many streams never holds up the next commit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::server::error::ApiError;
use crate::server::hub::{Effect, Hub};

/// What a job leaves behind: whether it succeeded, and what to do once the
/// batch's fate (committed or not) is known.
struct Outcome {
    ok: bool,
    finish: Finish,
}

/// Called once the batch committed (with the batch's effect list, to append
/// the job's effects to) or with the commit's error.
type Finish = Box<dyn FnOnce(Result<&mut Vec<Effect>, &ApiError>) + Send>;

type Job = Box<dyn FnOnce(&Connection) -> Outcome + Send>;

/// Most jobs folded into one transaction.
const MAX_BATCH: usize = 512;

/// Handle to the writer thread. Cloning shares the thread.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn` and its publisher; both run until
    /// every handle is dropped.
    pub fn spawn(conn: Connection, hub: Arc<Hub>) -> std::io::Result<(Self, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let (publish, published) = std::sync::mpsc::channel::<Vec<Effect>>();
        std::thread::Builder::new().name("store-publisher".into()).spawn(move || {
            while let Ok(effects) = published.recv() {
                hub.apply(effects);
            }
        })?;
        let handle = std::thread::Builder::new().name("store-writer".into()).spawn(move || run(conn, rx, publish))?;
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
                        Ok(batch_effects) => {
                            batch_effects.extend(effects);
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

/// Runs a cached statement without results (savepoints run once per job).
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Job>, publish: std::sync::mpsc::Sender<Vec<Effect>>) {
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
            if let Err(e) = exec(&conn, "SAVEPOINT job") {
                tracing::error!("savepoint failed: {e}");
                continue; // the job is dropped unrun: its caller gets a 503
            }
            let outcome = job(&conn);
            let end = if outcome.ok { Ok(()) } else { exec(&conn, "ROLLBACK TO job") }
                .and_then(|()| exec(&conn, "RELEASE job"));
            if let Err(e) = end {
                tracing::error!("ending savepoint failed: {e}");
            }
            finishers.push(outcome.finish);
        }
        match conn.execute_batch("COMMIT") {
            Ok(()) => {
                let mut effects = Vec::new();
                finishers.drain(..).for_each(|f| f(Ok(&mut effects)));
                if !effects.is_empty() {
                    let _ = publish.send(effects);
                }
            }
            Err(e) => {
                tracing::error!("commit failed: {e}");
                let _ = conn.execute_batch("ROLLBACK");
                let err = ApiError::internal("the write could not be committed");
                finishers.drain(..).for_each(|f| f(Err(&err)));
            }
        }
    }
}
