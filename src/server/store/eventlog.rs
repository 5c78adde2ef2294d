//! The cluster's event log (PostgreSQL): how instances on one database see each
//! other's changes, with the database as the only durable log.
//!
//! Each write batch takes the log's head row first (`lock_head`), so batches
//! of every instance commit one at a time, and appends its effects as one row
//! with the next position (`append`): positions are dense and in commit order.
//! The [`Follower`] of each instance applies the log to its hub in position
//! order, its own batches included (straight from memory when they are next in
//! line), from the head it saw at start. NOTIFY is only a doorbell, rung by a
//! task of its own after commit, never inside a write transaction; a missed
//! ring, a dropped connection or a restart loses nothing, because the follower
//! reads by position (and also looks once a second).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Notify, mpsc};
use tokio_postgres::{AsyncMessage, NoTls};

use super::batch::Committed;
use super::db::{Connection, Error, Result, params};
use crate::api::stream::EventName;
use crate::server::hub::{Audience, Effect, Hub, Payload};

/// The LISTEN/NOTIFY channel of the doorbell.
const CHANNEL: &str = "convo_events";
/// How often the follower reads the log without a ring (a missed one costs this).
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How long log rows are kept: an instance that was away longer starts from the head.
const KEEP_SECS: i64 = 600;
/// Rows read per query while catching up.
const READ_BATCH: i64 = 500;

/// An effect as the log stores it: payloads serialized.
#[derive(Serialize, Deserialize)]
#[serde(tag = "t")]
enum Logged {
    Send {
        audience: Audience,
        event: EventName,
        conversation: Option<String>,
        data: String,
        /// Absent in rows logged before update reasons were carried.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        updated: Vec<String>,
    },
    Join {
        conversation: String,
        identity: String,
    },
    Leave {
        conversation: String,
        identity: String,
    },
    Drop {
        conversation: String,
    },
    MessageBy {
        conversation: String,
        identity: String,
    },
    Typing {
        conversation: String,
        identity: String,
        participant: Option<Value>,
    },
}

impl From<Effect> for Logged {
    fn from(e: Effect) -> Self {
        match e {
            Effect::Send(audience, event, conversation, payload, updated) => {
                let data = match payload {
                    Payload::Value(v) => v.to_string(),
                    Payload::Lazy(f) => f(),
                };
                Logged::Send { audience, event, conversation, data, updated }
            }
            Effect::Join { conversation, identity } => Logged::Join { conversation, identity },
            Effect::Leave { conversation, identity } => Logged::Leave { conversation, identity },
            Effect::DropConversation(conversation) => Logged::Drop { conversation },
            Effect::MessageBy { conversation, identity } => Logged::MessageBy { conversation, identity },
            Effect::Typing { conversation, identity, participant } => {
                Logged::Typing { conversation, identity, participant }
            }
        }
    }
}

impl From<Logged> for Effect {
    fn from(l: Logged) -> Self {
        match l {
            Logged::Send { audience, event, conversation, data, updated } => {
                Effect::Send(audience, event, conversation, Payload::Lazy(Box::new(move || data)), updated)
            }
            Logged::Join { conversation, identity } => Effect::Join { conversation, identity },
            Logged::Leave { conversation, identity } => Effect::Leave { conversation, identity },
            Logged::Drop { conversation } => Effect::DropConversation(conversation),
            Logged::MessageBy { conversation, identity } => Effect::MessageBy { conversation, identity },
            Logged::Typing { conversation, identity, participant } => {
                Effect::Typing { conversation, identity, participant }
            }
        }
    }
}

/// Takes the log's head row for this transaction: the cluster's write turn.
pub fn lock_head(conn: &Connection) -> Result<()> {
    conn.query_row("SELECT position FROM event_head FOR UPDATE", params![], |_| Ok(()))
}

/// The newest position (where a starting instance begins following).
pub fn head(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT position FROM event_head", params![], |r| r.get(0))
}

/// Appends a batch's effects under the next position (the head row must be
/// locked by this transaction); returns it with the effects as logged.
pub fn append(conn: &Connection, origin: &str, effects: Vec<Effect>) -> Result<(i64, Vec<Effect>)> {
    let logged: Vec<Logged> = effects.into_iter().map(Logged::from).collect();
    let json = serde_json::to_string(&logged).map_err(|e| Error::Encode(e.to_string()))?;
    let position: i64 =
        conn.query_row("UPDATE event_head SET position = position + 1 RETURNING position", params![], |r| r.get(0))?;
    conn.execute(
        "INSERT INTO events (position, origin, effects, created) VALUES (?1, ?2, ?3, ?4)",
        params![position, origin, json, crate::api::time::now_unix()],
    )?;
    Ok((position, logged.into_iter().map(Effect::from).collect()))
}

fn decode(json: &str) -> Vec<Effect> {
    match serde_json::from_str::<Vec<Logged>>(json) {
        Ok(list) => list.into_iter().map(Effect::from).collect(),
        Err(e) => {
            tracing::error!("an event log row does not decode: {e}");
            Vec::new()
        }
    }
}

/// Applies the log to this instance's hub, in position order.
pub struct Follower {
    config: tokio_postgres::Config,
    hub: Arc<Hub>,
    /// Every position up to this one is applied.
    applied: i64,
    /// Own batches applied ahead of their turn while the log could not be read.
    ahead: BTreeSet<i64>,
    bell: Arc<Notify>,
}

impl Follower {
    /// Starts following from `head` (read before the hub's membership was
    /// loaded, so nothing committed since is missed), with this instance's
    /// committed batches coming in on `batches`.
    pub fn spawn(
        config: tokio_postgres::Config,
        hub: Arc<Hub>,
        head: i64,
        batches: mpsc::UnboundedReceiver<Committed>,
    ) {
        let bell = Arc::new(Notify::new());
        tokio::spawn(ring(config.clone(), bell.clone()));
        let follower = Self { config, hub, applied: head, ahead: BTreeSet::new(), bell };
        tokio::spawn(follower.run(batches));
    }

    async fn run(mut self, mut batches: mpsc::UnboundedReceiver<Committed>) {
        let mut client: Option<tokio_postgres::Client> = None;
        let mut rings = mpsc::unbounded_channel().1;
        let mut look = tokio::time::interval(LOOK_EVERY);
        let mut looks: u64 = 0;
        loop {
            tokio::select! {
                batch = batches.recv() => match batch {
                    Some(b) => self.own(b, client.as_ref()).await,
                    None => return, // the writer stopped: the store is closed
                },
                ring = rings.recv(), if client.is_some() => {
                    if ring.is_none() || !self.catch_up_or_drop(&mut client, None).await {
                        client = None;
                    }
                }
                _ = look.tick() => {
                    looks += 1;
                    if client.is_none() {
                        match listen(&self.config).await {
                            Ok((c, r)) => {
                                client = Some(c);
                                rings = r;
                            }
                            Err(e) => tracing::warn!("event log: cannot listen: {e}"),
                        }
                    }
                    if !self.catch_up_or_drop(&mut client, None).await {
                        client = None;
                    }
                    if looks.is_multiple_of(60) && let Some(c) = &client {
                        let until = crate::api::time::now_unix() - KEEP_SECS;
                        if let Err(e) = c.execute("DELETE FROM events WHERE created < $1", &[&until]).await {
                            tracing::warn!("event log: pruning failed: {e}");
                        }
                    }
                }
            }
        }
    }

    /// Catches up; false when the connection failed (it must be replaced).
    async fn catch_up_or_drop(&mut self, client: &mut Option<tokio_postgres::Client>, upto: Option<i64>) -> bool {
        let Some(c) = client.as_ref() else { return true };
        match self.catch_up(c, upto).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("event log: reading failed: {e}");
                false
            }
        }
    }

    /// Applies every logged batch after `applied` (up to `upto`), in order.
    async fn catch_up(&mut self, c: &tokio_postgres::Client, upto: Option<i64>) -> std::result::Result<(), Error> {
        loop {
            let rows = c
                .query(
                    "SELECT position, effects FROM events WHERE position > $1 AND position <= $2 \
                     ORDER BY position LIMIT $3",
                    &[&self.applied, &upto.unwrap_or(i64::MAX), &READ_BATCH],
                )
                .await?;
            let full = rows.len() as i64 == READ_BATCH;
            for row in rows {
                let position: i64 = row.try_get(0)?;
                let effects: &str = row.try_get(1)?;
                if position > self.applied + 1 {
                    tracing::info!("event log: positions {}..{position} were pruned", self.applied + 1);
                }
                if !self.ahead.remove(&position) {
                    self.hub.apply(decode(effects));
                }
                self.applied = position;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// One of this instance's committed batches: applied in log order, then answered.
    async fn own(&mut self, batch: Committed, client: Option<&tokio_postgres::Client>) {
        let Committed { position, effects, answers } = batch;
        match position {
            None => self.hub.apply(effects),
            Some(p) => {
                if p > self.applied + 1
                    && let Some(c) = client
                    && let Err(e) = self.catch_up(c, Some(p - 1)).await
                {
                    tracing::warn!("event log: reading failed: {e}");
                }
                if p == self.applied + 1 {
                    self.hub.apply(effects);
                    self.applied = p;
                } else if p > self.applied {
                    // The log cannot be read now: our own changes go out at once anyway.
                    self.hub.apply(effects);
                    self.ahead.insert(p);
                }
                self.bell.notify_one();
            }
        }
        answers.into_iter().for_each(|answer| answer());
    }
}

/// A client that LISTENs, and the rings it hears (the channel closes with it).
async fn listen(
    config: &tokio_postgres::Config,
) -> std::result::Result<(tokio_postgres::Client, mpsc::UnboundedReceiver<()>), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    if tx.send(()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("event log: connection lost: {e}");
                    break;
                }
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    Ok((client, rx))
}

/// The doorbell: one NOTIFY per wake-up (wake-ups while ringing coalesce),
/// on a connection of its own, outside every write transaction.
async fn ring(config: tokio_postgres::Config, bell: Arc<Notify>) {
    let mut client: Option<tokio_postgres::Client> = None;
    loop {
        bell.notified().await;
        if client.as_ref().is_none_or(tokio_postgres::Client::is_closed) {
            client = match config.connect(NoTls).await {
                Ok((c, connection)) => {
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    Some(c)
                }
                Err(e) => {
                    tracing::warn!("event log: the doorbell cannot connect: {e}");
                    None
                }
            };
        }
        if let Some(c) = &client
            && let Err(e) = c.batch_execute(&format!("NOTIFY {CHANNEL}")).await
        {
            tracing::warn!("event log: the doorbell failed: {e}");
            client = None;
        }
    }
}
