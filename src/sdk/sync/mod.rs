//! The sync task: one background tokio task that owns the transport and a model
//! of what the user sees, takes `Command`s and sends `Diff`s (see
//! `sync_protocol`). Its loop waits on commands, stream frames and timers; on a
//! lost connection it reconnects with back-off and jitter and resyncs over REST.
//!
//! Guarantees, and where they come from:
//! - nothing lost: the stream is opened *before* the REST resync, and the
//!   resync reads every message after the newest one held;
//! - nothing doubled: the model compares before it diffs (`model.rs`), so an
//!   event replayed by the resync, or a REST reply followed by its own event,
//!   yields one diff;
//! - sends land once: queued with an `Idempotency-Key` each, retried with the
//!   same key after a reconnect (`commands.rs`);
//! - a slow UI is not buffered without bound: the diff channel is bounded, so a
//!   UI that stops reading stalls the task, the server drops the stream as a
//!   slow consumer, and the task recovers like from any other lost connection.

mod commands;
mod model;
mod resync;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::backoff::Backoff;
use super::echo::Echoes;
use super::endpoints::token_claims;
use super::error::Error;
use super::sync_protocol::{Command, ConnectionState, Diff, SyncConfig, SyncHandle};
use super::transport::{self, Rest, StreamItem, WsRead, WsWrite};
use crate::api::ErrorCode;
use crate::api::params::MessageParams;
use model::Model;

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
        if let Some(task) = Task::new(config, diff_tx.clone()).await {
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

/// An open stream.
struct Conn {
    write: WsWrite,
    read: WsRead,
}

struct Task {
    rest: Rest,
    identity: String,
    page_size: u32,
    diffs: mpsc::Sender<Diff>,
    model: Model,
    state: ConnectionState,
    conn: Option<Conn>,
    backoff: Backoff,
    /// When to try connecting next (while not connected and not denied).
    retry_at: Option<Instant>,
    outbox: VecDeque<Pending>,
    /// Retry the outbox at this time (after a 429 that outlasted its retries).
    outbox_retry_at: Option<Instant>,
    /// Read horizons asked for while offline, posted after the reconnect.
    pending_reads: HashMap<String, i64>,
    /// Conversations opened before the task knew them (before the first sync).
    pending_opens: HashSet<String>,
    typing_sent: HashMap<String, Instant>,
    warn_at: Option<Instant>,
    expire_at: Option<Instant>,
    /// When the stream last showed a sign of life.
    last_heard: Instant,
    /// When `CheckConnection`'s ping must have been answered.
    pong_due: Option<Instant>,
    /// Our writes whose stream echo is still due (see `echo.rs`).
    echoes: Echoes,
}

/// What woke the loop.
enum Wake {
    Command(Option<Command>),
    Frame(StreamItem),
    Reconnect,
    /// The stream went silent (no frame, no ping) or a ping went unanswered.
    Silent,
    Outbox,
    TokenWarning,
    TokenExpired,
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
        let mut task = Self {
            rest,
            identity,
            page_size: config.page_size.clamp(1, 100),
            diffs,
            model: Model::default(),
            state: ConnectionState::Connecting,
            conn: None,
            backoff: Backoff::default(),
            retry_at: Some(Instant::now()),
            outbox: VecDeque::new(),
            outbox_retry_at: None,
            pending_reads: HashMap::new(),
            pending_opens: HashSet::new(),
            typing_sent: HashMap::new(),
            warn_at: None,
            expire_at: None,
            last_heard: Instant::now(),
            pong_due: None,
            echoes: Echoes::default(),
        };
        task.set_expiry(&config.token);
        Some(task)
    }

    fn set_expiry(&mut self, token: &str) {
        let Ok((_, exp)) = token_claims(token) else { return };
        let left = Duration::from_secs(u64::try_from(exp - crate::api::time::now_unix()).unwrap_or(0));
        let now = Instant::now();
        self.warn_at = Some(now + left.saturating_sub(TOKEN_WARNING.min(left / 5)));
        self.expire_at = Some(now + left);
    }

    async fn emit(&self, diff: Diff) {
        // A closed channel means the UI is gone; the loop notices and stops.
        let _ = self.diffs.send(diff).await;
    }

    async fn emit_all(&self, diffs: impl IntoIterator<Item = Diff>) {
        for d in diffs {
            self.emit(d).await;
        }
    }

    async fn set_state(&mut self, state: ConnectionState) {
        if self.state != state {
            self.state = state;
            self.emit(Diff::Connection(state)).await;
        }
    }

    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            if self.diffs.is_closed() {
                break;
            }
            let reconnect_at = self.retry_at.filter(|_| self.conn.is_none());
            let outbox_at = self.outbox_retry_at.filter(|_| self.conn.is_some());
            let token_at = self.warn_at.or(self.expire_at);
            let silent_at = self.conn.is_some().then(|| {
                let silence = self.last_heard + transport::SILENCE_LIMIT;
                self.pong_due.map_or(silence, |due| due.min(silence))
            });
            let wake = {
                let read = self.conn.as_mut().map(|c| &mut c.read);
                tokio::select! {
                    c = commands.recv() => Wake::Command(c),
                    f = async { transport::next_event(read.expect("guarded")).await }, if read.is_some() => Wake::Frame(f),
                    _ = sleep_until(reconnect_at), if reconnect_at.is_some() => Wake::Reconnect,
                    _ = sleep_until(outbox_at), if outbox_at.is_some() => Wake::Outbox,
                    _ = sleep_until(silent_at), if silent_at.is_some() => Wake::Silent,
                    _ = sleep_until(token_at), if token_at.is_some() => {
                        if self.warn_at.is_some() { Wake::TokenWarning } else { Wake::TokenExpired }
                    }
                }
            };
            match wake {
                Wake::Command(None) | Wake::Command(Some(Command::Shutdown)) => break,
                Wake::Command(Some(cmd)) => self.command(cmd).await,
                Wake::Frame(StreamItem::Event(ev)) => {
                    self.heard();
                    self.frame(ev).await
                }
                Wake::Frame(StreamItem::Heartbeat) => self.heard(),
                Wake::Silent => self.lost("no sign of life from the server").await,
                Wake::Frame(StreamItem::Closed(why)) => self.lost(&why).await,
                Wake::Reconnect => self.connect().await,
                Wake::Outbox => {
                    self.outbox_retry_at = None;
                    self.flush_outbox().await;
                }
                Wake::TokenWarning => {
                    self.warn_at = None;
                    self.emit(Diff::TokenAboutToExpire).await;
                }
                Wake::TokenExpired => {
                    self.expire_at = None;
                    self.emit(Diff::TokenExpired).await;
                    self.deny().await;
                }
            }
        }
        if let Some(mut conn) = self.conn.take() {
            use futures_util::SinkExt;
            let _ = conn.write.close().await;
        }
        self.set_state(ConnectionState::Disconnected).await;
    }

    /// Opens the stream and resyncs; on failure schedules the next attempt.
    async fn connect(&mut self) {
        self.retry_at = None;
        self.set_state(ConnectionState::Connecting).await;
        let (write, read) = match transport::open_stream(&self.rest).await {
            Ok(halves) => halves,
            Err(e) => return self.connect_failed(e).await,
        };
        self.conn = Some(Conn { write, read });
        self.heard();
        if let Err(e) = self.resync().await {
            self.conn = None;
            return self.connect_failed(e).await;
        }
        self.backoff.reset();
        self.set_state(ConnectionState::Connected).await;
        self.flush_pending_reads().await;
        self.flush_outbox().await;
    }

    async fn connect_failed(&mut self, e: Error) {
        if e.is_auth() {
            if e.code() == Some(ErrorCode::TokenExpired.code()) {
                self.emit(Diff::TokenExpired).await;
            }
            self.emit(Diff::Error(format!("access denied: {e}"))).await;
            self.deny().await;
        } else {
            tracing::debug!(%e, "connect failed; backing off");
            self.schedule_reconnect().await;
        }
    }

    /// The token was refused or expired: stay down until `UpdateToken`.
    async fn deny(&mut self) {
        self.conn = None;
        self.retry_at = None;
        let ended = self.model.clear_typing();
        self.emit_all(ended).await;
        self.set_state(ConnectionState::Denied).await;
    }

    /// Arms the next attempt. A connection that was up is reported
    /// `Disconnected`; failed attempts after that leave the state `Connecting`
    /// (as Twilio's SDK reports retries), so the UI does not flicker.
    async fn schedule_reconnect(&mut self) {
        let was_up = self.conn.take().is_some();
        self.retry_at = Some(Instant::now() + self.backoff.next_delay());
        let ended = self.model.clear_typing();
        self.emit_all(ended).await;
        if was_up {
            self.set_state(ConnectionState::Disconnected).await;
        }
    }

    fn heard(&mut self) {
        self.last_heard = Instant::now();
        self.pong_due = None;
    }

    /// The stream broke (or a request found the server gone).
    async fn lost(&mut self, why: &str) {
        if self.conn.is_none() {
            return;
        }
        tracing::info!(%why, "connection lost; reconnecting");
        self.schedule_reconnect().await;
    }

    /// Handles a failed call: a transport failure means the connection is gone.
    async fn failed(&mut self, what: &str, e: Error) {
        if e.is_auth() {
            self.emit(Diff::Error(format!("{what}: {e}"))).await;
            self.deny().await;
        } else if e.is_transport() {
            self.emit(Diff::Error(format!("{what}: offline ({e})"))).await;
            self.lost(&e.to_string()).await;
        } else {
            self.emit(Diff::Error(format!("{what}: {e}"))).await;
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    tokio::time::sleep_until(at.unwrap_or_else(Instant::now)).await
}
