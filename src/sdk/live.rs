//! The client's stream task: keeps `/v1/Stream` open (reconnecting with
//! back-off), turns frames into cache updates and `Event`s, and after each
//! reconnect re-reads conversations, participants and missed messages over REST.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::Instant;

use super::backoff::Backoff;
use super::cache::{Shared, lock};
use super::echo::EchoKey;
use super::endpoints::token_claims;
use super::error::{Error, Result};
use super::events::{Event, Incoming};
use super::sync_protocol::ConnectionState;
use super::transport::{self, StreamItem, WsRead, WsWrite};
use crate::api::stream::ClientFrame;
use crate::api::{self, ErrorCode};

impl Shared {
    async fn handle(self: &Arc<Self>, incoming: Incoming) {
        match incoming {
            Incoming::ConversationAdded(c) => {
                let sid = c.sid.clone();
                let user = self.rest.get_user_conversation(&self.identity, &sid).await.ok();
                self.apply(&sid, Some(c), Some(user));
            }
            Incoming::ConversationUpdated(c) => {
                if self.admit(EchoKey::conversation(&c)) {
                    self.apply(&c.sid.clone(), Some(c), None);
                }
            }
            Incoming::ConversationRemoved(c) => {
                self.apply(&c.sid.clone(), Some(c), Some(None));
            }
            Incoming::MessageAdded(m) => self.message_added(m),
            Incoming::MessageUpdated(m) => {
                if self.admit(EchoKey::message(&m)) {
                    self.message_updated(m)
                }
            }
            Incoming::MessageRemoved(m) => self.message_removed(m),
            Incoming::ParticipantJoined(p) => {
                self.apply_participant(p);
            }
            Incoming::ParticipantUpdated(p) if !self.admit(EchoKey::participant(&p)) => {}
            Incoming::ParticipantUpdated(p) => {
                let known = self
                    .cell(&p.conversation_sid)
                    .is_some_and(|c| c.data.read().is_ok_and(|d| d.participants.contains_key(&p.sid)));
                if known {
                    self.apply_participant(p);
                } else {
                    self.participant_updated_unknown(p);
                }
            }
            Incoming::ParticipantLeft(p) => {
                let me = p.identity.as_deref() == Some(self.identity.as_str());
                let sid = p.conversation_sid.clone();
                self.participant_left(p);
                if me {
                    self.apply(&sid, None, Some(None));
                }
            }
            Incoming::TypingStarted(p) => self.start_typing(p),
            Incoming::TypingEnded(p) => {
                if let Some(identity) = &p.identity {
                    self.stop_typing(&p.conversation_sid, identity);
                }
            }
            Incoming::UserConversationUpdated(uc) => {
                // Membership comes with conversationAdded; a late state update
                // for a conversation already left must not re-add it.
                let member =
                    self.cell(&uc.conversation_sid).is_some_and(|c| c.data.read().is_ok_and(|d| d.user.is_some()));
                if member && self.admit(EchoKey::user_state(&uc)) {
                    self.apply(&uc.conversation_sid.clone(), None, Some(Some(uc)));
                }
            }
            Incoming::UserUpdated(u) => {
                self.apply_user(u);
            }
        }
    }

    /// After a reconnect: re-read the conversations (added, updated, removed),
    /// the participants of those whose roster we hold, and every message after
    /// the newest one we knew, firing events for what changed meanwhile.
    async fn resync(self: &Arc<Self>) -> Result<()> {
        let before: HashMap<String, Option<i64>> = lock(&self.convs)
            .iter()
            .filter_map(|(sid, c)| {
                let d = c.data.read().ok()?;
                d.user.is_some().then(|| (sid.clone(), d.conv.last_message.as_ref().map(|m| m.index)))
            })
            .collect();
        self.refresh_conversations().await?;
        for (sid, last_known) in before {
            let Some(cell) = self.cell(&sid) else { continue };
            let (joined, newest, through, had_roster) = {
                let d = cell.data.read().unwrap_or_else(|e| e.into_inner());
                let newest = d.recent.keys().next_back().copied().max(last_known);
                let through = d.conv.last_message.as_ref().map(|m| m.index);
                (d.user.is_some(), newest, through, !d.participants.is_empty())
            };
            if !joined {
                continue;
            }
            // Missed: after the newest seen, through the server's newest (read
            // after the stream opened, which brings anything later).
            if let Some(through) = through.filter(|t| newest.is_none_or(|n| *t > n)) {
                for m in self.rest.messages_range(&sid, newest.unwrap_or(-1), through).await? {
                    self.message_added(m);
                }
            }
            if had_roster {
                let fresh = self.rest.list_participants(&sid).await?;
                let held: Vec<api::Participant> =
                    cell.data.read().map(|d| d.participants.values().cloned().collect()).unwrap_or_default();
                for p in held.into_iter().filter(|p| !fresh.iter().any(|f| f.sid == p.sid)) {
                    self.participant_left(p);
                }
                for p in fresh {
                    self.apply_participant(p);
                }
            }
        }
        Ok(())
    }
}

/// When to warn about, and when to declare, the token's expiry.
struct Expiry {
    warn_at: Option<Instant>,
    expire_at: Option<Instant>,
}

impl Expiry {
    fn new(token: &str, warning: Duration) -> Self {
        let Ok((_, exp)) = token_claims(token) else { return Self { warn_at: None, expire_at: None } };
        let left = Duration::from_secs(u64::try_from(exp - api::time::now_unix()).unwrap_or(0));
        let now = Instant::now();
        let lead = warning.min(left / 5);
        Self { warn_at: Some(now + left.saturating_sub(lead)), expire_at: Some(now + left) }
    }

    fn next(&self) -> Option<Instant> {
        self.warn_at.or(self.expire_at)
    }
}

/// Reports `Denied` with `why` and waits: nothing helps until the token
/// changes. Returns the new token's expiry, or `None` when the client stops.
async fn denied_until_new_token(
    shared: &Shared,
    why: Error,
    token_rx: &mut watch::Receiver<String>,
    stop: &mut watch::Receiver<bool>,
) -> Option<Expiry> {
    *lock(&shared.denied) = Some(why);
    shared.set_state(ConnectionState::Denied);
    tokio::select! {
        r = token_rx.changed() => r.ok()?,
        _ = stop.changed() => return None,
    }
    Some(Expiry::new(&token_rx.borrow_and_update(), shared.options.token_warning))
}

/// Runs until the client shuts down (or every `Client` clone is dropped).
pub(crate) async fn run(
    shared: Arc<Shared>,
    events: Arc<broadcast::Sender<Event>>,
    mut frames: mpsc::UnboundedReceiver<ClientFrame>,
    mut stop: watch::Receiver<bool>,
) {
    let _keep_events_alive = events;
    let mut token_rx = shared.token.subscribe();
    let mut expiry = Expiry::new(&token_rx.borrow_and_update(), shared.options.token_warning);
    let mut backoff = Backoff::default();
    let mut first = true;
    'outer: loop {
        if *stop.borrow() {
            break;
        }
        shared.set_state(ConnectionState::Connecting);
        let attempt = tokio::select! {
            r = connect(&shared, first) => r,
            _ = stop.changed() => break,
        };
        match attempt {
            Ok((mut write, mut read)) => {
                first = false;
                backoff.reset();
                *lock(&shared.denied) = None;
                while frames.try_recv().is_ok() {} // typing frames from before are stale
                shared.set_state(ConnectionState::Connected);
                let mut last_heard = Instant::now();
                let mut expired = false;
                loop {
                    let deadline = expiry.next();
                    tokio::select! {
                        item = transport::next_event(&mut read) => match item {
                            StreamItem::Event(ev) => {
                                last_heard = Instant::now();
                                if let Some(incoming) = Incoming::decode(ev) {
                                    shared.handle(incoming).await;
                                }
                            }
                            StreamItem::Heartbeat => last_heard = Instant::now(),
                            StreamItem::Closed(why) => {
                                tracing::info!(%why, "stream lost; reconnecting");
                                break;
                            }
                        },
                        Some(frame) = frames.recv() => {
                            if transport::send_frame(&mut write, &frame).await.is_err() {
                                break;
                            }
                        }
                        _ = stop.changed() => {
                            use futures_util::SinkExt;
                            let _ = write.close().await;
                            break 'outer;
                        }
                        Ok(()) = token_rx.changed() => {
                            expiry = Expiry::new(&token_rx.borrow_and_update(), shared.options.token_warning);
                        }
                        _ = tokio::time::sleep_until(last_heard + transport::SILENCE_LIMIT) => {
                            tracing::info!("stream silent too long; reconnecting");
                            break;
                        }
                        _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                            if expiry.warn_at.take().is_some() {
                                shared.emit(Event::TokenAboutToExpire);
                            } else if expiry.expire_at.take().is_some() {
                                shared.emit(Event::TokenExpired);
                                expired = true;
                                break;
                            }
                        }
                    }
                }
                shared.clear_typing();
                if expired {
                    // As in Twilio's SDK: an expired token takes the connection
                    // down until `update_token` brings a new one.
                    use futures_util::SinkExt;
                    let _ = write.close().await;
                    let e = api::TwilioError::new(ErrorCode::TokenExpired, "Access Token expired");
                    match denied_until_new_token(&shared, Error::Twilio(e), &mut token_rx, &mut stop).await {
                        Some(e) => expiry = e,
                        None => break,
                    }
                    continue;
                }
                shared.set_state(ConnectionState::Disconnected);
            }
            Err(e) if e.is_auth() => {
                if e.code() == Some(ErrorCode::TokenExpired.code()) {
                    shared.emit(Event::TokenExpired);
                }
                match denied_until_new_token(&shared, e, &mut token_rx, &mut stop).await {
                    Some(e) => expiry = e,
                    None => break,
                }
                continue;
            }
            // A failed attempt leaves the state `Connecting` (Twilio's SDK reports
            // retries so); `Disconnected` was reported when the link went down.
            Err(e) => tracing::debug!(%e, "connect failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_delay()) => {}
            _ = stop.changed() => break,
        }
    }
    shared.clear_typing();
    shared.set_state(ConnectionState::Disconnected);
}

/// Opens the stream, then (re)reads state over REST. The stream is opened first
/// so no event falls between the two; events that overlap are deduplicated.
async fn connect(shared: &Arc<Shared>, first: bool) -> Result<(WsWrite, WsRead)> {
    let (write, read) = transport::open_stream(&shared.rest).await?;
    match shared.rest.get_user(&shared.identity).await {
        Ok(user) => {
            shared.apply_user(user);
        }
        Err(e) if e.is_auth() => return Err(e),
        Err(e) if e.status() == Some(404) => {}
        Err(e) => return Err(e),
    }
    if first {
        shared.refresh_conversations().await?
    } else {
        shared.resync().await?
    }
    Ok((write, read))
}

impl From<tokio::time::error::Elapsed> for Error {
    fn from(_: tokio::time::error::Elapsed) -> Self {
        Error::Transport("timed out".into())
    }
}
