//! The one writer: a thread that owns the write connection and commits every
//! batch of waiting jobs in one transaction (group commit), each job inside its
//! own savepoint so one refused request never undoes its neighbours.
//!
//! After COMMIT the batch goes, in commit order, to the publisher (SQLite: a
//! thread that applies its effects to the hub; PostgreSQL: the event-log
//! follower, see `eventlog`) which only then answers the callers. So a 2xx
//! always means "committed" and "the streams know"; each conversation's events
//! stay ordered; and fanning events out never holds up the writer's next commit.
//!
//! On PostgreSQL each batch first takes the event log's head row (so batches of
//! all instances commit one at a time, in log order), appends its effects to the
//! log before COMMIT, and reconnects when the database went away: meanwhile
//! callers get a 503 at once instead of waiting.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

pub use super::batch::{Answer, Committed};
use super::db::{Connection, Kind};
use super::eventlog;
use crate::server::error::ApiError;
use crate::server::hub::Effect;
use crate::server::webhooks::capture::capture;
use crate::server::webhooks::origin::Origin;
use crate::server::webhooks::tap::Tap;

/// What a job leaves behind: its effects when it succeeded, and how to answer
/// its caller once the batch's fate (committed or not) is known.
struct Outcome {
    effects: Option<Vec<Effect>>,
    finish: Finish,
}

/// Called once the batch committed (to add the job's answer to the batch) or
/// with the commit's error (to answer with it at once).
type Finish = Box<dyn FnOnce(Result<&mut Vec<Answer>, &ApiError>) + Send>;

/// Where committed batches go, in commit order.
pub type Publish = Box<dyn FnMut(Committed) + Send>;

/// Makes a fresh write connection (after PostgreSQL went away).
pub type Reconnect = Box<dyn FnMut() -> anyhow::Result<Connection> + Send>;

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
    /// Starts the writer thread on `conn`; it runs until every handle is
    /// dropped. `instance` names this server in the event log; `webhooks`
    /// captures each job's webhook deliveries inside its savepoint.
    pub fn spawn(
        conn: Connection,
        reconnect: Option<Reconnect>,
        instance: String,
        publish: Publish,
        webhooks: Arc<Tap>,
    ) -> std::io::Result<(Self, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let tap = webhooks.clone();
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(conn, reconnect, &instance, rx, publish, &tap))?;
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
                effects: Some(effects),
                finish: Box::new(move |committed| match committed {
                    Ok(answers) => answers.push(Box::new(move || drop(reply.send(Ok(value))))),
                    Err(e) => drop(reply.send(Err(e.clone()))),
                }),
            },
            Ok(Err(e)) => Outcome { effects: None, finish: Box::new(move |_| drop(reply.send(Err(e)))) },
            Err(_) => Outcome {
                effects: None,
                finish: Box::new(move |_| drop(reply.send(Err(ApiError::internal("a write job panicked"))))),
            },
        });
        self.tx.send(job).await.map_err(|_| ApiError::unavailable())?;
        answer.await.map_err(|_| ApiError::store_unavailable())?
    }
}

/// Runs a cached statement without results (savepoints run once per job).
fn exec(conn: &Connection, sql: &str) -> super::db::Result<()> {
    conn.prepare_cached(sql)?.execute(super::db::params![]).map(drop)
}

fn begin(conn: &Connection) -> super::db::Result<()> {
    match conn.kind() {
        Kind::Sqlite => conn.execute_batch("BEGIN IMMEDIATE"),
        Kind::Postgres => {
            conn.execute_batch("BEGIN")?;
            eventlog::lock_head(conn)
        }
    }
}

fn run(
    mut conn: Connection,
    mut reconnect: Option<Reconnect>,
    instance: &str,
    mut rx: mpsc::Receiver<Job>,
    mut publish: Publish,
    webhooks: &Tap,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut finishers = Vec::with_capacity(MAX_BATCH);
    let mut effects = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if conn.is_closed()
            && let Some(make) = reconnect.as_mut()
        {
            match make() {
                Ok(fresh) => {
                    tracing::info!("store writer reconnected");
                    conn = fresh;
                }
                Err(e) => tracing::error!("store writer cannot reconnect: {e:#}"),
            }
        }
        if let Err(e) = begin(&conn) {
            // Dropping the jobs drops their reply channels: each caller gets a 503.
            tracing::error!("cannot begin a transaction: {e}");
            let _ = conn.execute_batch("ROLLBACK");
            batch.clear();
            continue;
        }
        for job in batch.drain(..) {
            if let Err(e) = exec(&conn, "SAVEPOINT job") {
                tracing::error!("savepoint failed: {e}");
                continue; // the job is dropped unrun: its caller gets a 503
            }
            let outcome = job(&conn);
            let end = if outcome.effects.is_some() { Ok(()) } else { exec(&conn, "ROLLBACK TO job") }
                .and_then(|()| exec(&conn, "RELEASE job"));
            if let Err(e) = end {
                tracing::error!("ending savepoint failed: {e}");
            }
            effects.extend(outcome.effects.into_iter().flatten());
            finishers.push(outcome.finish);
        }
        let mut committed = Committed::default();
        let logged = match conn.kind() {
            Kind::Postgres if !effects.is_empty() => {
                eventlog::append(&conn, instance, std::mem::take(&mut effects)).map(|(p, e)| (Some(p), e))
            }
            _ => Ok((None, std::mem::take(&mut effects))),
        };
        let commit = logged.map_err(|e| e.into()).and_then(|(position, effects)| {
            committed.position = position;
            committed.effects = effects;
            conn.execute_batch("COMMIT").map_err(ApiError::from)
        });
        match commit {
            Ok(()) => {
                webhooks.committed();
                finishers.drain(..).for_each(|f| f(Ok(&mut committed.answers)));
                publish(committed);
            }
            Err(e) => {
                // The database went away (503 as it is), or most likely the disk
                // is full: nothing of the batch is kept, and each caller gets a
                // 503 + Retry-After to try again later.
                tracing::error!("commit failed: {}", e.0.message);
                let _ = conn.execute_batch("ROLLBACK");
                let err = if e.0.status == 503 { e } else { ApiError::not_stored() };
                finishers.drain(..).for_each(|f| f(Err(&err)));
            }
        }
    }
}
