//! The one writer: a thread that owns the write connection and commits every
//! batch of waiting jobs in one transaction (group commit), each job inside its
//! own savepoint so one refused request never undoes its neighbours.
//!
//! After COMMIT the batch goes, in commit order, to a publisher thread that
//! applies its effects (stream events, membership changes) to the hub and only
//! then answers the callers. So a 2xx always means "on disk" and "the streams
//! know" (someone just added can type at once); each conversation's events
//! stay ordered; and fanning events out to many streams never holds up the
//! writer's next commit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::server::error::ApiError;
use crate::server::hub::{Effect, Hub};
use crate::server::webhooks::capture::capture;
use crate::server::webhooks::origin::Origin;
use crate::server::webhooks::tap::Tap;

/// What a job leaves behind: whether it succeeded, and what to do once the
/// batch's fate (committed or not) is known.
struct Outcome {
    ok: bool,
    finish: Finish,
}

/// Called once the batch committed (to add the job's effects and its answer
/// to the batch) or with the commit's error (to answer with it at once).
type Finish = Box<dyn FnOnce(Result<&mut Committed, &ApiError>) + Send>;

/// A committed batch on its way to the publisher: effects, then answers.
#[derive(Default)]
struct Committed {
    effects: Vec<Effect>,
    answers: Vec<Box<dyn FnOnce() + Send>>,
}

type Job = Box<dyn FnOnce(&Connection) -> Outcome + Send>;

/// Most jobs folded into one transaction.
const MAX_BATCH: usize = 512;

/// Handle to the writer thread. Cloning shares the thread.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    webhooks: Arc<Tap>,
}

impl Writer {
    /// Starts the writer thread on `conn` and its publisher; both run until
    /// every handle is dropped.
    pub fn spawn(
        conn: Connection,
        hub: Arc<Hub>,
        webhooks: Arc<Tap>,
    ) -> std::io::Result<(Self, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let (publish, published) = std::sync::mpsc::channel::<Committed>();
        std::thread::Builder::new().name("store-publisher".into()).spawn(move || {
            while let Ok(batch) = published.recv() {
                hub.apply(batch.effects);
                batch.answers.into_iter().for_each(|answer| answer());
            }
        })?;
        let tap = webhooks.clone();
        let handle =
            std::thread::Builder::new().name("store-writer".into()).spawn(move || run(conn, rx, publish, &tap))?;
        Ok((Self { tx, webhooks }, handle))
    }

    /// Runs `f` in the next transaction. `f` returns its value and the effects
    /// (stream events, membership changes) to apply once the transaction commits.
    /// The post-event webhooks those effects owe go into the outbox in the
    /// job's own savepoint, so they commit (or roll back) with the change.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<(T, Vec<Effect>), ApiError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, ApiError>>();
        let (tap, origin) = (self.webhooks.clone(), Origin::current());
        let with_webhooks = move |conn: &Connection| {
            let (value, effects) = f(conn)?;
            Ok((value, capture(conn, &tap, origin.as_ref(), effects)?))
        };
        let job: Job = Box::new(move |conn| match catch_unwind(AssertUnwindSafe(|| with_webhooks(conn))) {
            Ok(Ok((value, effects))) => Outcome {
                ok: true,
                finish: Box::new(move |committed| match committed {
                    Ok(batch) => {
                        batch.effects.extend(effects);
                        batch.answers.push(Box::new(move || drop(reply.send(Ok(value)))));
                    }
                    Err(e) => drop(reply.send(Err(e.clone()))),
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

fn run(conn: Connection, mut rx: mpsc::Receiver<Job>, publish: std::sync::mpsc::Sender<Committed>, webhooks: &Tap) {
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
                webhooks.committed();
                let mut committed = Committed::default();
                finishers.drain(..).for_each(|f| f(Ok(&mut committed)));
                let _ = publish.send(committed);
            }
            Err(e) => {
                // Most likely the disk is full: nothing of the batch is kept, and
                // each caller gets 503 + Retry-After to try again later.
                tracing::error!("commit failed: {e}");
                let _ = conn.execute_batch("ROLLBACK");
                let err = ApiError::not_stored();
                finishers.drain(..).for_each(|f| f(Err(&err)));
            }
        }
    }
}
