//! The sync task, the engine's front end for a UI: one background tokio task
//! that takes `Command`s and sends `Diff`s (see `protocol`). The engine keeps
//! the connection and the model; this adds what a UI needs on top: opening
//! conversations and paging their history on request, an outbox of sends that
//! survives a lost connection, and read horizons asked for while offline.
//!
//! Sends land once: each is queued with an `Idempotency-Key` and retried with
//! the same key after a reconnect (`commands.rs`). The diff channel is bounded
//! and awaited, so a UI that stops reading stalls the engine (see `engine`).
//! Media uploads and downloads run as jobs beside the engine (`media.rs`) and
//! report back through the task's own input channel.

mod commands;
mod diffs;
mod media;
pub mod protocol;
mod search;
mod users;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::engine::{Engine, EngineConfig, Link, Step};
use super::error::Result;
use super::rules::token::token_claims;
use super::state::model::{Model, Scope};
use super::wire::connection::ConnectionState;
use super::wire::media::MediaRecord;
use super::wire::transport::Rest;
use crate::api::params::MessageParams;
use diffs::DiffSink;
use media::Upload;
use protocol::{Command, Diff, SyncConfig, SyncHandle};

/// Diffs buffered towards the UI before the task waits for it.
const DIFF_BUFFER: usize = 1024;
/// How long before expiry `Diff::TokenAboutToExpire` is sent (at most a fifth
/// of the token's remaining life).
const TOKEN_WARNING: Duration = Duration::from_secs(180);

/// Starts the sync task on the current tokio runtime and returns at once. The
/// first diff is `Connection(Connecting)`; once the server answers come `Me`,
/// `Conversations` and `Connection(Connected)`.
pub fn spawn(config: SyncConfig) -> SyncHandle {
    let (commands, mut cmd_rx) = mpsc::unbounded_channel();
    let (diff_tx, diffs) = mpsc::channel(DIFF_BUFFER);
    let (input_tx, input_rx) = mpsc::unbounded_channel();
    let inputs = input_tx.downgrade();
    // The UI's commands join the task's input in order; when the UI drops its
    // end (and no job is left to report), the input closes and the task stops.
    let forwarder = tokio::spawn(async move {
        while let Some(c) = cmd_rx.recv().await {
            if input_tx.send(Input::Command(c)).is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        // Held so the UI sees its diffs end only once its commands are refused.
        let hold = diff_tx.clone();
        if let Some(task) = Task::new(config, diff_tx, inputs).await {
            task.run(input_rx).await;
        }
        forwarder.abort();
        let _ = forwarder.await;
        drop(hold);
    });
    SyncHandle { commands, diffs }
}

/// What the task's loop takes in: the UI's commands and its jobs' reports.
#[derive(Debug)]
enum Input {
    Command(Command),
    /// A `SendMedia` upload ended (boxed: rarer and larger than a command).
    Uploaded(Box<(Upload, Result<MediaRecord>)>),
}

/// A message waiting to be posted; `key` stays the same across retries.
#[derive(Debug, Clone)]
struct Pending {
    conversation_sid: String,
    params: MessageParams,
    key: String,
}

struct Task {
    engine: Engine,
    diffs: mpsc::Sender<Diff>,
    outbox: VecDeque<Pending>,
    /// Retry the outbox at this time (after a 429 that outlasted its retries).
    outbox_retry_at: Option<Instant>,
    /// Read horizons asked for while offline, posted after the reconnect.
    pending_reads: HashMap<String, i64>,
    /// The users the UI is shown (see `users`).
    users: users::Users,
    /// `SendMedia` uploads waiting for a connection.
    uploads: VecDeque<Upload>,
    /// Running uploads and downloads (aborted when the task ends).
    jobs: JoinSet<()>,
    /// Where jobs report (weak: only running jobs keep the input open).
    inputs: mpsc::WeakUnboundedSender<Input>,
}

impl Task {
    async fn new(
        config: SyncConfig,
        diffs: mpsc::Sender<Diff>,
        inputs: mpsc::WeakUnboundedSender<Input>,
    ) -> Option<Self> {
        let _ = diffs.send(Diff::Connection(ConnectionState::Connecting)).await;
        let setup = token_claims(&config.token)
            .and_then(|(identity, _)| Ok((identity, Rest::new(&config.server_url, config.token.clone())?)));
        let (identity, rest) = match setup {
            Ok(ok) => ok,
            Err(e) => {
                let _ = diffs.send(Diff::Error(format!("cannot start: {e}"))).await;
                let _ = diffs.send(Diff::Connection(ConnectionState::Denied)).await;
                return None;
            }
        };
        let sink = Arc::new(DiffSink::new(diffs.clone(), identity.clone()));
        let engine = Engine::new(EngineConfig {
            rest,
            model: Arc::new(Mutex::new(Model::new(identity.clone(), Scope::View))),
            identity,
            link: Link::new(),
            sink,
            token_warning: TOKEN_WARNING,
            page_size: config.page_size,
        });
        Some(Self {
            engine,
            diffs,
            outbox: VecDeque::new(),
            outbox_retry_at: None,
            pending_reads: HashMap::new(),
            users: users::Users::default(),
            uploads: VecDeque::new(),
            jobs: JoinSet::new(),
            inputs,
        })
    }

    async fn run(mut self, mut inputs: mpsc::UnboundedReceiver<Input>) {
        loop {
            if self.diffs.is_closed() {
                break;
            }
            // Finished jobs are reaped here (their results came as inputs).
            while self.jobs.try_join_next().is_some() {}
            let outbox_at = self.outbox_retry_at.filter(|_| self.engine.is_online());
            match self.engine.step(&mut inputs, outbox_at).await {
                Step::Command(None | Some(Input::Command(Command::Shutdown))) => break,
                Step::Command(Some(Input::Command(cmd))) => {
                    self.command(cmd).await;
                    self.fetch_users().await;
                }
                Step::Command(Some(Input::Uploaded(done))) => {
                    let (upload, result) = *done;
                    self.uploaded(upload, result).await
                }
                Step::Connected => {
                    self.flush_pending_reads().await;
                    self.flush_outbox().await;
                    self.users.reconnected();
                    self.fetch_users().await;
                    self.start_uploads();
                }
                Step::Timer => {
                    self.outbox_retry_at = None;
                    self.flush_outbox().await;
                }
            }
        }
        self.jobs.abort_all();
        self.engine.shut_down().await;
    }
}
