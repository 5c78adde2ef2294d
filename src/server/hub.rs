//! Fan-out of live events to open `/v1/Stream` sockets. Each event is serialized
//! once and the same `Arc<str>` is queued to every receiver; queues are bounded,
//! and a receiver whose queue is full is dropped (its socket closes, the client
//! reconnects and fills the gap over REST), so a slow reader never grows memory.
//!
//! The hub also knows who is in which conversation (loaded at start, then kept
//! up to date by the writer's effects, in commit order) and who is typing.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::api::stream::{EventName, ServerEvent, TYPING_TIMEOUT_SECS};

/// Frames queued per socket before it is considered too slow and closed.
pub const QUEUE_FRAMES: usize = 1024;

/// Who receives an event.
#[derive(Debug, Clone)]
pub enum Audience {
    /// Every participant of the conversation (and admin streams).
    Conversation(String),
    /// Every participant but one (typing: not echoed to the typist).
    ConversationExcept(String, String),
    /// One identity's streams only (and admin streams).
    User(String),
    /// Several identities' streams, each once (and admin streams).
    Users(Vec<String>),
}

/// A change the hub applies after the transaction that caused it commits.
#[derive(Debug, Clone)]
pub enum Effect {
    Send(Audience, ServerEvent),
    Join {
        conversation: String,
        identity: String,
    },
    Leave {
        conversation: String,
        identity: String,
    },
    DropConversation(String),
    /// `identity` posted in `conversation`: their typing ends at once.
    MessageBy {
        conversation: String,
        identity: String,
    },
}

impl Effect {
    pub fn send(audience: Audience, event: EventName, conversation_sid: Option<&str>, data: Value) -> Self {
        Self::Send(audience, ServerEvent { event, conversation_sid: conversation_sid.map(str::to_owned), data })
    }
}

struct Subscriber {
    /// None for an admin stream, which receives everything.
    identity: Option<String>,
    tx: mpsc::Sender<Arc<str>>,
}

struct Typing {
    until: Instant,
    participant: Value,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    subs: HashMap<u64, Subscriber>,
    by_identity: HashMap<String, HashSet<u64>>,
    admins: HashSet<u64>,
    members: HashMap<String, HashSet<String>>,
    typing: HashMap<(String, String), Typing>,
}

/// The fan-out hub. Cheap to share behind an `Arc`.
#[derive(Default)]
pub struct Hub {
    inner: Mutex<Inner>,
}

/// A registered stream: its id (to unsubscribe) and the receiving end of its queue.
pub struct Subscription {
    pub id: u64,
    pub rx: mpsc::Receiver<Arc<str>>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Seeds the membership map (at start, from the store).
    pub fn load_members(&self, pairs: impl IntoIterator<Item = (String, String)>) {
        let mut inner = self.lock();
        for (conversation, identity) in pairs {
            inner.members.entry(conversation).or_default().insert(identity);
        }
    }

    /// Registers a stream for `identity` (None: admin, sees everything).
    pub fn subscribe(&self, identity: Option<String>) -> Subscription {
        let (tx, rx) = mpsc::channel(QUEUE_FRAMES);
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        match &identity {
            Some(i) => {
                inner.by_identity.entry(i.clone()).or_default().insert(id);
            }
            None => {
                inner.admins.insert(id);
            }
        }
        inner.subs.insert(id, Subscriber { identity, tx });
        Subscription { id, rx }
    }

    pub fn unsubscribe(&self, id: u64) {
        self.lock().remove(id);
    }

    /// Drops every stream (server shutdown): their sockets close.
    pub fn close_all(&self) {
        let mut inner = self.lock();
        let ids: Vec<u64> = inner.subs.keys().copied().collect();
        ids.into_iter().for_each(|id| inner.remove(id));
    }

    /// Whether `identity` is a participant of `conversation`.
    pub fn is_member(&self, conversation: &str, identity: &str) -> bool {
        self.lock().members.get(conversation).is_some_and(|m| m.contains(identity))
    }

    /// Applies the effects of one committed write, in order.
    pub fn apply(&self, effects: Vec<Effect>) {
        if effects.is_empty() {
            return;
        }
        let mut inner = self.lock();
        for effect in effects {
            inner.apply(effect);
        }
    }

    /// `identity` typed in `conversation`: tells the others unless already typing,
    /// and (re)arms the timeout.
    pub fn typing(&self, conversation: &str, identity: &str, participant: Value) {
        let mut inner = self.lock();
        let until = Instant::now() + Duration::from_secs(TYPING_TIMEOUT_SECS);
        let key = (conversation.to_owned(), identity.to_owned());
        if let Some(t) = inner.typing.get_mut(&key) {
            t.until = until;
            return;
        }
        inner.typing.insert(key, Typing { until, participant: participant.clone() });
        let event = ServerEvent {
            event: EventName::TypingStarted,
            conversation_sid: Some(conversation.to_owned()),
            data: participant,
        };
        inner.send(&Audience::ConversationExcept(conversation.to_owned(), identity.to_owned()), &event);
    }

    /// Ends every typing whose timeout has passed. Called by a ticking task.
    pub fn expire_typing(&self, now: Instant) {
        let mut inner = self.lock();
        let expired: Vec<(String, String)> =
            inner.typing.iter().filter(|(_, t)| t.until <= now).map(|(k, _)| k.clone()).collect();
        for (conversation, identity) in expired {
            inner.end_typing(&conversation, &identity);
        }
    }
}

impl Inner {
    fn remove(&mut self, id: u64) {
        if let Some(sub) = self.subs.remove(&id) {
            match sub.identity {
                Some(i) => {
                    if let Some(set) = self.by_identity.get_mut(&i) {
                        set.remove(&id);
                        if set.is_empty() {
                            self.by_identity.remove(&i);
                        }
                    }
                }
                None => {
                    self.admins.remove(&id);
                }
            }
        }
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::Send(audience, event) => self.send(&audience, &event),
            Effect::Join { conversation, identity } => {
                self.members.entry(conversation).or_default().insert(identity);
            }
            Effect::Leave { conversation, identity } => {
                self.end_typing(&conversation, &identity);
                if let Some(m) = self.members.get_mut(&conversation) {
                    m.remove(&identity);
                }
            }
            Effect::DropConversation(conversation) => {
                self.members.remove(&conversation);
                self.typing.retain(|(c, _), _| c != &conversation);
            }
            Effect::MessageBy { conversation, identity } => self.end_typing(&conversation, &identity),
        }
    }

    fn end_typing(&mut self, conversation: &str, identity: &str) {
        if let Some(t) = self.typing.remove(&(conversation.to_owned(), identity.to_owned())) {
            let event = ServerEvent {
                event: EventName::TypingEnded,
                conversation_sid: Some(conversation.to_owned()),
                data: t.participant,
            };
            self.send(&Audience::ConversationExcept(conversation.to_owned(), identity.to_owned()), &event);
        }
    }

    /// Serializes once, then queues the same bytes to every receiver.
    fn send(&mut self, audience: &Audience, event: &ServerEvent) {
        let mut targets: Vec<u64> = self.admins.iter().copied().collect();
        let add_identity = |identity: &str, targets: &mut Vec<u64>| {
            if let Some(ids) = self.by_identity.get(identity) {
                targets.extend(ids.iter().copied());
            }
        };
        match audience {
            Audience::Conversation(c) | Audience::ConversationExcept(c, _) => {
                let except = match audience {
                    Audience::ConversationExcept(_, who) => Some(who.as_str()),
                    _ => None,
                };
                if let Some(members) = self.members.get(c) {
                    for identity in members.iter().filter(|i| Some(i.as_str()) != except) {
                        add_identity(identity, &mut targets);
                    }
                }
            }
            Audience::User(identity) => add_identity(identity, &mut targets),
            Audience::Users(identities) => identities.iter().for_each(|i| add_identity(i, &mut targets)),
        }
        if targets.is_empty() {
            return;
        }
        let frame: Arc<str> = match serde_json::to_string(event) {
            Ok(s) => s.into(),
            Err(e) => {
                tracing::error!("cannot serialize an event: {e}");
                return;
            }
        };
        let mut slow = Vec::new();
        for id in targets {
            if let Some(sub) = self.subs.get(&id)
                && sub.tx.try_send(frame.clone()).is_err()
            {
                slow.push(id);
            }
        }
        for id in slow {
            tracing::warn!("stream {id} fell behind; closing it");
            self.remove(id);
        }
    }
}
