//! The engine both front ends run on: one connection to the server (the
//! stream opened first, then a resync over REST), the model it keeps current,
//! and the rules of a live link: reconnect back-off, silence detection and
//! `check_connection`, token expiry and renewal, the typing throttle.
//! A front end drives it with `step` and renders its `Change`s through a `Sink`.
//!
//! Guarantees, and where they come from:
//! - nothing lost: the stream is opened *before* the REST resync, and the
//!   resync reads every message after the newest one known (`resync.rs`);
//! - nothing doubled: the model compares before it reports (`state/`), so an
//!   event replayed by the resync, or a REST reply followed by its own event,
//!   is reported once;
//! - a slow consumer is not buffered without bound: `Sink::deliver` is awaited,
//!   so a front end that stops reading stalls the engine, the server drops the
//!   stream as a slow consumer, and the engine recovers as from any lost link.

mod dispatch;
mod resync;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::error::{Error, Result};
use super::rules::backoff::Backoff;
use super::rules::token::{TokenAlarm, TokenClock, same_identity};
use super::rules::typing::TypingThrottle;
use super::state::change::Change;
use super::state::model::Model;
use super::wire::connection::ConnectionState;
use super::wire::transport::{self, Rest, StreamItem, WsRead, WsWrite};
use crate::api::stream::ClientFrame;
use crate::api::{ErrorCode, TwilioError};

/// Where a front end's changes go. `deliver` is awaited, in order.
pub trait Sink: Send + Sync {
    fn deliver(&self, changes: Vec<Change>) -> BoxFuture<'_, ()>;
}

/// The link's state as others may watch it: the state, and why it is `Denied`.
#[derive(Debug)]
pub struct Link {
    pub state: watch::Sender<ConnectionState>,
    pub denied: Mutex<Option<Error>>,
}

impl Link {
    pub fn new() -> Arc<Self> {
        Arc::new(Self { state: watch::channel(ConnectionState::Connecting).0, denied: Mutex::new(None) })
    }

    pub fn state(&self) -> ConnectionState {
        *self.state.borrow()
    }

    /// Why the link is `Denied`, if it is.
    pub fn denied(&self) -> Option<Error> {
        self.denied.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_denied(&self, why: Option<Error>) {
        *self.denied.lock().unwrap_or_else(|e| e.into_inner()) = why;
    }
}

/// What a front end must act on, as `step` returns it.
#[derive(Debug)]
pub enum Step<C> {
    /// A command from the front end's channel (`None`: the channel closed).
    Command(Option<C>),
    /// Connected and resynced (a front end flushes what waited for this).
    Connected,
    /// The front end's own timer (given to `step`) is due.
    Timer,
}

/// What the engine starts from.
pub struct EngineConfig {
    pub rest: Rest,
    pub identity: String,
    pub model: Arc<Mutex<Model>>,
    pub link: Arc<Link>,
    pub sink: Arc<dyn Sink>,
    /// How long before expiry `TokenAboutToExpire` comes (at most a fifth of
    /// the token's remaining life).
    pub token_warning: Duration,
    /// Messages per page for a conversation's newest page.
    pub page_size: u32,
}

/// An open stream.
struct Conn {
    write: WsWrite,
    read: WsRead,
}

/// The engine: see the module doc.
pub struct Engine {
    pub rest: Rest,
    pub identity: String,
    model: Arc<Mutex<Model>>,
    link: Arc<Link>,
    sink: Arc<dyn Sink>,
    page_size: u32,
    token_warning: Duration,
    conn: Option<Conn>,
    backoff: Backoff,
    /// When to try connecting next (while not connected and not denied).
    retry_at: Option<Instant>,
    token: TokenClock,
    /// When the stream last showed a sign of life.
    last_heard: Instant,
    /// When `check_connection`'s ping must have been answered.
    pong_due: Option<Instant>,
    typing: TypingThrottle,
}

impl Engine {
    /// An engine that connects on its first `step`.
    pub fn new(config: EngineConfig) -> Self {
        let token = TokenClock::new(&config.rest.token(), config.token_warning);
        Self {
            rest: config.rest,
            identity: config.identity,
            model: config.model,
            link: config.link,
            sink: config.sink,
            page_size: config.page_size.clamp(1, 100),
            token_warning: config.token_warning,
            conn: None,
            backoff: Backoff::default(),
            retry_at: Some(Instant::now()),
            token,
            last_heard: Instant::now(),
            pong_due: None,
            typing: TypingThrottle::default(),
        }
    }

    /// The model, locked (never held across an await).
    pub fn model(&self) -> MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    pub fn state(&self) -> ConnectionState {
        self.link.state()
    }

    /// Whether the stream is up.
    pub fn is_online(&self) -> bool {
        self.conn.is_some()
    }

    /// `Err(NotConnected)` unless the stream is up.
    pub fn online(&self) -> Result<()> {
        if self.conn.is_some() { Ok(()) } else { Err(Error::NotConnected) }
    }

    pub async fn deliver(&self, changes: Vec<Change>) {
        if !changes.is_empty() {
            self.sink.deliver(changes).await;
        }
    }

    /// Applies `f` to the model and delivers what it changed.
    pub async fn apply(&self, f: impl FnOnce(&mut Model) -> Vec<Change>) {
        let changes = f(&mut self.model());
        self.deliver(changes).await;
    }

    async fn set_state(&mut self, state: ConnectionState) {
        if self.link.state.send_if_modified(|cur| std::mem::replace(cur, state) != state) {
            self.deliver(vec![Change::Connection(state)]).await;
        }
    }

    /// Waits for the next thing the front end must act on, handling stream
    /// frames, reconnects, silence and token alarms on the way.
    pub async fn step<C>(&mut self, commands: &mut mpsc::UnboundedReceiver<C>, timer: Option<Instant>) -> Step<C> {
        loop {
            let reconnect_at = self.retry_at.filter(|_| self.conn.is_none());
            let token_at = self.token.next();
            let silent_at = self.conn.is_some().then(|| {
                let silence = self.last_heard + transport::SILENCE_LIMIT;
                self.pong_due.map_or(silence, |due| due.min(silence))
            });
            let wake = {
                let read = self.conn.as_mut().map(|c| &mut c.read);
                tokio::select! {
                    c = commands.recv() => Wake::Command(c),
                    f = next_frame(read) => Wake::Frame(f),
                    _ = sleep_until(reconnect_at), if reconnect_at.is_some() => Wake::Reconnect,
                    _ = sleep_until(silent_at), if silent_at.is_some() => Wake::Silent,
                    _ = sleep_until(token_at), if token_at.is_some() => Wake::Token,
                    _ = sleep_until(timer), if timer.is_some() => Wake::Timer,
                }
            };
            match wake {
                Wake::Command(c) => return Step::Command(c),
                Wake::Timer => return Step::Timer,
                Wake::Frame(StreamItem::Event(ev)) => {
                    self.heard();
                    self.frame(ev).await;
                }
                Wake::Frame(StreamItem::Heartbeat) => self.heard(),
                Wake::Frame(StreamItem::Closed(why)) => self.lost(&why).await,
                Wake::Silent => self.lost("no sign of life from the server").await,
                Wake::Reconnect => {
                    if self.connect().await {
                        return Step::Connected;
                    }
                }
                Wake::Token => match self.token.fire() {
                    Some(TokenAlarm::Warn) => self.deliver(vec![Change::TokenAboutToExpire]).await,
                    Some(TokenAlarm::Expired) => {
                        self.deliver(vec![Change::TokenExpired]).await;
                        // As in Twilio's SDK: an expired token takes the
                        // connection down until a new one comes.
                        let e = TwilioError::new(ErrorCode::TokenExpired, "Access Token expired");
                        self.deny(Error::Twilio(e)).await;
                    }
                    None => {}
                },
            }
        }
    }

    /// Opens the stream and resyncs; on failure arms the next attempt.
    async fn connect(&mut self) -> bool {
        self.retry_at = None;
        self.set_state(ConnectionState::Connecting).await;
        let (write, read) = match transport::open_stream(&self.rest).await {
            Ok(halves) => halves,
            Err(e) => {
                self.connect_failed(e).await;
                return false;
            }
        };
        self.conn = Some(Conn { write, read });
        self.heard();
        if let Err(e) = self.resync().await {
            self.conn = None;
            self.connect_failed(e).await;
            return false;
        }
        self.backoff.reset();
        self.link.set_denied(None);
        self.set_state(ConnectionState::Connected).await;
        true
    }

    async fn connect_failed(&mut self, e: Error) {
        if e.is_auth() {
            if e.code() == Some(ErrorCode::TokenExpired.code()) {
                self.deliver(vec![Change::TokenExpired]).await;
            }
            self.deliver(vec![Change::Error(format!("access denied: {e}"))]).await;
            self.deny(e).await;
        } else {
            tracing::debug!(%e, "connect failed; backing off");
            self.schedule_reconnect().await;
        }
    }

    /// The token was refused or expired: stay down until a new one comes.
    async fn deny(&mut self, why: Error) {
        self.close().await;
        self.retry_at = None;
        self.link.set_denied(Some(why));
        let ended = self.model().clear_typing();
        self.deliver(ended).await;
        self.set_state(ConnectionState::Denied).await;
    }

    /// Arms the next attempt. A connection that was up is reported
    /// `Disconnected`; failed attempts after that leave the state `Connecting`
    /// (as Twilio's SDK reports retries), so a UI does not flicker.
    async fn schedule_reconnect(&mut self) {
        let was_up = self.conn.take().is_some();
        self.retry_at = Some(Instant::now() + self.backoff.next_delay());
        let ended = self.model().clear_typing();
        self.deliver(ended).await;
        if was_up {
            self.set_state(ConnectionState::Disconnected).await;
        }
    }

    fn heard(&mut self) {
        self.last_heard = Instant::now();
        self.pong_due = None;
    }

    /// The stream broke (or a request found the server gone).
    pub async fn lost(&mut self, why: &str) {
        if self.conn.is_none() {
            return;
        }
        tracing::info!(%why, "connection lost; reconnecting");
        self.schedule_reconnect().await;
    }

    /// Reports a failed call of `what`: a refused token denies, a transport
    /// failure means the connection is gone, anything else is only reported.
    pub async fn failed(&mut self, what: &str, e: Error) {
        if e.is_auth() {
            self.deliver(vec![Change::Error(format!("{what}: {e}"))]).await;
            self.deny(e).await;
        } else if e.is_transport() {
            self.deliver(vec![Change::Error(format!("{what}: offline ({e})"))]).await;
            self.lost(&e.to_string()).await;
        } else {
            self.deliver(vec![Change::Error(format!("{what}: {e}"))]).await;
        }
    }

    /// The user is typing in `conversation_sid`: a frame goes out at most once
    /// per typing timeout, and only while connected.
    pub async fn typing(&mut self, conversation_sid: String) -> Result<()> {
        let Some(conn) = self.conn.as_mut() else { return Ok(()) };
        if !self.typing.allow(&conversation_sid, std::time::Instant::now()) {
            return Ok(());
        }
        let sent = transport::send_frame(&mut conn.write, &ClientFrame::Typing { conversation_sid }).await;
        if let Err(e) = &sent {
            self.lost(&e.to_string()).await;
        }
        sent
    }

    /// Connected: ping, and count the connection lost unless something (the
    /// pong) arrives within `PONG_WAIT`. Down: reconnect now.
    pub async fn check_connection(&mut self) {
        let denied = self.state() == ConnectionState::Denied;
        match self.conn.as_mut() {
            Some(conn) => match transport::ping(&mut conn.write).await {
                Ok(()) => self.pong_due = Some(Instant::now() + transport::PONG_WAIT),
                Err(e) => self.lost(&e.to_string()).await,
            },
            None if !denied => self.retry_at = Some(Instant::now()),
            None => {}
        }
    }

    /// A new token (same identity): used at once; a link that is down
    /// (denied, or waiting to retry) reconnects with it now.
    pub fn update_token(&mut self, token: String) -> Result<()> {
        same_identity(&token, &self.identity)?;
        self.token = TokenClock::new(&token, self.token_warning);
        self.rest.set_token(token);
        if self.conn.is_none() {
            self.retry_at = Some(Instant::now());
        }
        Ok(())
    }

    /// Closes the stream (politely, briefly).
    async fn close(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            use futures_util::SinkExt;
            let _ = tokio::time::timeout(Duration::from_secs(1), conn.write.close()).await;
        }
    }

    /// Ends the engine: the stream closed, the state `Disconnected`.
    pub async fn shut_down(mut self) {
        self.close().await;
        let ended = self.model().clear_typing();
        self.deliver(ended).await;
        self.set_state(ConnectionState::Disconnected).await;
    }
}

/// What woke the loop.
enum Wake<C> {
    Command(Option<C>),
    Frame(StreamItem),
    Reconnect,
    /// The stream went silent (no frame, no ping) or a ping went unanswered.
    Silent,
    Token,
    Timer,
}

/// The next frame of the stream; never, when there is none.
async fn next_frame(read: Option<&mut WsRead>) -> StreamItem {
    match read {
        Some(read) => transport::next_event(read).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    tokio::time::sleep_until(at.unwrap_or_else(Instant::now)).await
}
