//! The sync task, the engine's front end for a UI: one background tokio task
//! that takes `Command`s and sends `Diff`s (see `protocol`). The engine keeps
//! the connection and the model; this adds what a UI needs on top: opening
//! conversations and paging their history on request, an outbox of sends that
//! survives a lost connection, and read horizons asked for while offline.
//!
//! Sends land once: each is queued with an `Idempotency-Key` and retried with
//! the same key after a reconnect (`commands.rs`). The diff channel is bounded
//! and awaited, so a UI that stops reading stalls the engine (see `engine`).

mod commands;
mod diffs;
pub mod protocol;
mod search;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::engine::{Engine, EngineConfig, Link, Step};
use super::rules::token::token_claims;
use super::state::model::{Model, Scope};
use super::wire::connection::ConnectionState;
use super::wire::transport::Rest;
use crate::api::params::MessageParams;
use diffs::DiffSink;
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
    let (commands, cmd_rx) = mpsc::unbounded_channel();
    let (diff_tx, diffs) = mpsc::channel(DIFF_BUFFER);
    tokio::spawn(async move {
        if let Some(task) = Task::new(config, diff_tx).await {
            task.run(cmd_rx).await;
        }
    });
    SyncHandle { commands, diffs }
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
}

impl Task {
    async fn new(config: SyncConfig, diffs: mpsc::Sender<Diff>) -> Option<Self> {
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
        Some(Self { engine, diffs, outbox: VecDeque::new(), outbox_retry_at: None, pending_reads: HashMap::new() })
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            if self.diffs.is_closed() {
                break;
            }
            let outbox_at = self.outbox_retry_at.filter(|_| self.engine.is_online());
            match self.engine.step(&mut commands, outbox_at).await {
                Step::Command(None | Some(Command::Shutdown)) => break,
                Step::Command(Some(cmd)) => self.command(cmd).await,
                Step::Connected => {
                    self.flush_pending_reads().await;
                    self.flush_outbox().await;
                }
                Step::Timer => {
                    self.outbox_retry_at = None;
                    self.flush_outbox().await;
                }
            }
        }
        self.engine.shut_down().await;
    }
}
