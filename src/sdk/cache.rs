//! The client's cache: the conversations it knows (each shared by every
//! handle to it), their participants and recent messages, who is typing, and
//! the rule that turns each change into `Event`s, once, only when a value
//! really changed, whether a REST reply or the stream reported it first.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Instant;

use tokio::sync::{broadcast, mpsc, watch};

use super::client::ClientOptions;
use super::conversation::Conversation;
use super::echo::{EchoKey, Echoes};
use super::error::{Error, Result};
use super::events::{self, Event, MessageUpdateReason, ParticipantUpdateReason};
use super::message::Message;
use super::participant::Participant;
use super::sync_protocol::ConnectionState;
use super::transport::Rest;
use super::user::User;
use crate::api::stream::ClientFrame;
use crate::api::{self, LastMessage};

/// How many recent messages per conversation the client remembers, so that a
/// `MessageUpdated` event can say what changed.
const RECENT_MESSAGES: usize = 200;

/// A conversation the client knows, shared by every handle to it.
#[derive(Debug)]
pub(crate) struct ConvCell {
    pub sid: String,
    pub data: RwLock<ConvData>,
}

#[derive(Debug, Clone)]
pub(crate) struct ConvData {
    pub conv: api::Conversation,
    /// The user's own state in it; `None` when not participating.
    pub user: Option<api::UserConversation>,
    /// Participants by SID, kept from REST reads and stream events.
    pub participants: HashMap<String, api::Participant>,
    /// The newest messages seen, for update reasons.
    pub recent: BTreeMap<i64, api::Message>,
    /// SIDs of participants and messages seen removed, so that a REST reply and
    /// the stream event for the same removal fire one event.
    pub gone: HashSet<String>,
}

/// State shared by the client, its handles and the stream task. Holds the event
/// sender weakly, so buffered events (which hold handles) don't keep it alive.
pub(crate) struct Shared {
    pub rest: Rest,
    pub identity: String,
    pub options: ClientOptions,
    pub events: Weak<broadcast::Sender<Event>>,
    pub state: watch::Sender<ConnectionState>,
    pub convs: Mutex<HashMap<String, Arc<ConvCell>>>,
    pub users: Mutex<HashMap<String, api::User>>,
    /// Everyone typing now, by (conversation SID, identity).
    pub typing: Mutex<HashMap<(String, String), api::Participant>>,
    /// When the user last sent a typing frame, per conversation.
    pub typing_sent: Mutex<HashMap<String, Instant>>,
    pub frames: mpsc::UnboundedSender<ClientFrame>,
    /// The token, watched by the stream task (expiry timers, reconnect on change).
    pub token: watch::Sender<String>,
    /// Why the client is `Denied`, if it is.
    pub denied: Mutex<Option<Error>>,
    /// Our writes whose stream echo is still due (see `echo.rs`).
    pub echoes: Mutex<Echoes>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn emit(&self, event: Event) {
        if let Some(tx) = self.events.upgrade() {
            let _ = tx.send(event);
        }
    }

    pub(crate) fn set_state(&self, s: ConnectionState) {
        let changed = self.state.send_if_modified(|cur| std::mem::replace(cur, s) != s);
        if changed {
            self.emit(Event::ConnectionStateChanged(s));
        }
    }

    pub(crate) fn cell(&self, sid: &str) -> Option<Arc<ConvCell>> {
        lock(&self.convs).get(sid).cloned()
    }

    pub(crate) fn conversation(self: &Arc<Self>, cell: Arc<ConvCell>) -> Conversation {
        Conversation::new(self.clone(), cell)
    }

    /// Applies a new version of a conversation and/or of the user's state in it
    /// (`user: Some(None)` = no longer participating) and fires what it means:
    /// `ConversationAdded` when it became the user's, `ConversationRemoved` when it
    /// stopped being so, else `ConversationUpdated` with the reasons, if any.
    pub(crate) fn apply(
        self: &Arc<Self>,
        sid: &str,
        conv: Option<api::Conversation>,
        user: Option<Option<api::UserConversation>>,
    ) -> Option<Conversation> {
        let cell = {
            let mut convs = lock(&self.convs);
            match (convs.get(sid), &conv) {
                (Some(cell), _) => cell.clone(),
                (None, Some(c)) => {
                    let data = ConvData {
                        conv: c.clone(),
                        user: None,
                        participants: HashMap::new(),
                        recent: BTreeMap::new(),
                        gone: HashSet::new(),
                    };
                    let cell = Arc::new(ConvCell { sid: sid.to_owned(), data: RwLock::new(data) });
                    convs.insert(sid.to_owned(), cell.clone());
                    // A cell made just now has no "before": compare against nothing.
                    drop(convs);
                    let mut d = cell.data.write().unwrap_or_else(|e| e.into_inner());
                    if let Some(Some(u)) = &user {
                        d.user = Some(u.clone());
                    }
                    let joined = d.user.is_some();
                    drop(d);
                    let handle = self.conversation(cell);
                    if joined {
                        self.emit(Event::ConversationAdded(handle.clone()));
                    }
                    return Some(handle);
                }
                (None, None) => return None,
            }
        };
        let (was_joined, is_joined, reasons) = {
            let mut d = cell.data.write().unwrap_or_else(|e| e.into_inner());
            let old_conv = d.conv.clone();
            let old_user = d.user.clone();
            if let Some(c) = conv {
                d.conv = c;
            }
            if let Some(u) = user {
                d.user = u;
            }
            let reasons = events::conversation_reasons(&old_conv, &d.conv, old_user.as_ref(), d.user.as_ref());
            (old_user.is_some(), d.user.is_some(), reasons)
        };
        let handle = self.conversation(cell);
        match (was_joined, is_joined) {
            (false, true) => self.emit(Event::ConversationAdded(handle.clone())),
            (true, false) => self.emit(Event::ConversationRemoved(handle.clone())),
            (true, true) if !reasons.is_empty() => {
                self.emit(Event::ConversationUpdated { conversation: handle.clone(), reasons })
            }
            _ => {}
        }
        Some(handle)
    }

    /// Remembers a message (bounded), returning the version it replaced.
    pub(crate) fn remember_message(&self, m: &api::Message) -> Option<api::Message> {
        let cell = self.cell(&m.conversation_sid)?;
        let mut d = cell.data.write().unwrap_or_else(|e| e.into_inner());
        let old = d.recent.insert(m.index, m.clone());
        while d.recent.len() > RECENT_MESSAGES {
            d.recent.pop_first();
        }
        old
    }

    /// Applies a user resource, firing `UserUpdated` when it changed.
    pub(crate) fn apply_user(self: &Arc<Self>, user: api::User) -> User {
        let old = lock(&self.users).insert(user.identity.clone(), user.clone());
        if let Some(old) = old {
            let reasons = events::user_reasons(&old, &user);
            if !reasons.is_empty() {
                self.emit(Event::UserUpdated { user: User::new(self.clone(), user.clone()), reasons });
            }
        }
        User::new(self.clone(), user)
    }

    pub(crate) fn is_typing(&self, conversation_sid: &str, identity: &str) -> bool {
        lock(&self.typing).contains_key(&(conversation_sid.to_owned(), identity.to_owned()))
    }

    /// Reads the current conversation list and user states over REST and applies
    /// them (adding, updating and removing as needed).
    /// A write of ours was applied from its REST reply: hold back older events.
    pub(crate) fn expect_echo(&self, echo: (EchoKey, String)) {
        lock(&self.echoes).expect(echo);
    }

    /// Whether a stream event should be applied (see `echo.rs`).
    pub(crate) fn admit(&self, echo: (EchoKey, String)) -> bool {
        lock(&self.echoes).admit(echo)
    }

    pub(crate) async fn refresh_conversations(self: &Arc<Self>) -> Result<()> {
        lock(&self.echoes).clear();
        let (convs, states) =
            tokio::try_join!(self.rest.list_conversations(), self.rest.list_user_conversations(&self.identity))?;
        let mut states: HashMap<String, api::UserConversation> =
            states.into_iter().map(|s| (s.conversation_sid.clone(), s)).collect();
        let mut seen = HashSet::new();
        for conv in convs {
            let sid = conv.sid.clone();
            let state = states.remove(&sid);
            if state.is_some() {
                seen.insert(sid.clone());
            }
            self.apply(&sid, Some(conv), Some(state));
        }
        // Joined but not in the list (should not happen; a person's list is theirs): fetch.
        for (sid, state) in states {
            if let Ok(conv) = self.rest.get_conversation(&sid).await {
                seen.insert(sid.clone());
                self.apply(&sid, Some(conv), Some(Some(state)));
            }
        }
        let gone: Vec<String> = lock(&self.convs).keys().filter(|s| !seen.contains(*s)).cloned().collect();
        for sid in gone {
            self.apply(&sid, None, Some(None));
        }
        Ok(())
    }
}

impl Shared {
    /// Applies a participant (joined or updated), firing the matching event once.
    pub(crate) fn apply_participant(self: &Arc<Self>, p: api::Participant) -> api::Participant {
        let Some(cell) = self.cell(&p.conversation_sid) else { return p };
        let old = {
            let mut d = cell.data.write().unwrap_or_else(|e| e.into_inner());
            if d.gone.contains(&p.sid) {
                return p;
            }
            d.participants.insert(p.sid.clone(), p.clone())
        };
        let participant = Participant::new(self.conversation(cell), p.clone());
        match old {
            None => self.emit(Event::ParticipantJoined(participant)),
            Some(old) => {
                let reasons = events::participant_reasons(&old, &p);
                if !reasons.is_empty() {
                    self.emit(Event::ParticipantUpdated { participant, reasons });
                }
            }
        }
        p
    }

    /// An update for a participant the cache never saw: report what it carries.
    pub(crate) fn participant_updated_unknown(self: &Arc<Self>, p: api::Participant) {
        let Some(cell) = self.cell(&p.conversation_sid) else { return };
        cell.data.write().unwrap_or_else(|e| e.into_inner()).participants.insert(p.sid.clone(), p.clone());
        let mut reasons = vec![ParticipantUpdateReason::DateUpdated];
        if p.last_read_message_index.is_some() {
            reasons.push(ParticipantUpdateReason::LastReadMessageIndex);
        }
        if !events::same_json(&p.attributes, "{}") {
            reasons.push(ParticipantUpdateReason::Attributes);
        }
        self.emit(Event::ParticipantUpdated { participant: Participant::new(self.conversation(cell), p), reasons });
    }

    /// A participant left (or was removed): fires `ParticipantLeft` once.
    pub(crate) fn participant_left(self: &Arc<Self>, p: api::Participant) {
        let Some(cell) = self.cell(&p.conversation_sid) else { return };
        {
            let mut d = cell.data.write().unwrap_or_else(|e| e.into_inner());
            d.participants.remove(&p.sid);
            if !d.gone.insert(p.sid.clone()) {
                return;
            }
        }
        if let Some(identity) = &p.identity {
            self.stop_typing(&p.conversation_sid, identity);
        }
        self.emit(Event::ParticipantLeft(Participant::new(self.conversation(cell), p)));
    }

    /// A new message: fires `MessageAdded` once, moves `last_message`, and ends
    /// its author's typing.
    pub(crate) fn message_added(self: &Arc<Self>, m: api::Message) {
        let Some(cell) = self.cell(&m.conversation_sid) else { return };
        {
            // Seen already (the send's reply and its event, or a resync overlap),
            // maybe edited since, or deleted: a creation adds nothing then.
            let d = cell.data.read().unwrap_or_else(|e| e.into_inner());
            if d.recent.contains_key(&m.index) || d.gone.contains(&m.sid) {
                return;
            }
        }
        self.remember_message(&m);
        let bumped = {
            let d = cell.data.read().unwrap_or_else(|e| e.into_inner());
            (d.conv.last_message.as_ref().is_none_or(|l| l.index < m.index)).then(|| {
                let mut c = d.conv.clone();
                c.last_message = Some(LastMessage { index: m.index, date_created: m.date_created.clone() });
                c.messages_count += 1;
                c
            })
        };
        let sid = m.conversation_sid.clone();
        let author = m.author.clone();
        self.emit(Event::MessageAdded(Message::new(self.conversation(cell), m)));
        if let Some(c) = bumped {
            self.apply(&sid, Some(c), None);
        }
        if let Some(author) = author {
            self.stop_typing(&sid, &author);
        }
    }

    /// An edited message: fires `MessageUpdated` with what changed, if anything.
    pub(crate) fn message_updated(self: &Arc<Self>, m: api::Message) {
        let Some(cell) = self.cell(&m.conversation_sid) else { return };
        let old = self.remember_message(&m);
        let reasons = match &old {
            Some(old) => events::message_reasons(old, &m),
            None => vec![MessageUpdateReason::Body, MessageUpdateReason::Attributes, MessageUpdateReason::DateUpdated],
        };
        if !reasons.is_empty() {
            self.emit(Event::MessageUpdated { message: Message::new(self.conversation(cell), m), reasons });
        }
    }

    /// A deleted message: fires `MessageRemoved` once.
    pub(crate) fn message_removed(self: &Arc<Self>, m: api::Message) {
        let Some(cell) = self.cell(&m.conversation_sid) else { return };
        {
            let mut d = cell.data.write().unwrap_or_else(|e| e.into_inner());
            d.recent.remove(&m.index);
            if !d.gone.insert(m.sid.clone()) {
                return;
            }
        }
        self.emit(Event::MessageRemoved(Message::new(self.conversation(cell), m)));
    }

    pub(crate) fn start_typing(self: &Arc<Self>, p: api::Participant) {
        let Some(identity) = p.identity.clone() else { return };
        if identity == self.identity {
            return;
        }
        let Some(cell) = self.cell(&p.conversation_sid) else { return };
        let fresh = lock(&self.typing).insert((p.conversation_sid.clone(), identity), p.clone()).is_none();
        if fresh {
            self.emit(Event::TypingStarted(Participant::new(self.conversation(cell), p)));
        }
    }

    pub(crate) fn stop_typing(self: &Arc<Self>, conversation_sid: &str, identity: &str) {
        let removed = lock(&self.typing).remove(&(conversation_sid.to_owned(), identity.to_owned()));
        if let (Some(p), Some(cell)) = (removed, self.cell(conversation_sid)) {
            self.emit(Event::TypingEnded(Participant::new(self.conversation(cell), p)));
        }
    }

    /// A lost connection ends every typing indicator (no `typingEnded` will come).
    pub(crate) fn clear_typing(self: &Arc<Self>) {
        let all: Vec<(String, String)> = lock(&self.typing).keys().cloned().collect();
        for (conversation, identity) in all {
            self.stop_typing(&conversation, &identity);
        }
    }
}
