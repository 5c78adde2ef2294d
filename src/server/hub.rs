//! Fan-out of live events to open `/v1/Stream` sockets. Each event is serialized
//! once and the same bytes (a refcounted `Frame`) are queued to every receiver; queues are bounded,
//! and a receiver whose queue is full is dropped (its socket closes, the client
//! reconnects and fills the gap over REST), so a slow reader never grows memory.
//!
//! The hub also knows who is in which conversation (loaded at start, then kept
//! up to date by the writer's effects, in commit order) and who is typing.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::api::stream::{EventName, TYPING_TIMEOUT_SECS};

/// One serialized event, shared by reference count between all its receivers
/// (axum's WebSocket text type, so sending it copies nothing).
pub type Frame = axum::extract::ws::Utf8Bytes;

/// Frames queued per socket before it is considered too slow and closed.
pub const QUEUE_FRAMES: usize = 1024;

/// Who receives an event.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Audience {
    /// Every participant of the conversation (and admin streams).
    Conversation(String),
    /// Every participant but one (typing: not echoed to the typist).
    ConversationExcept(String, String),
    /// One identity's streams (and admin streams).
    User(String),
    /// One identity's streams and no others: their own view changing (the
    /// conversation was added to or removed from *their* list), which would
    /// mislead an admin stream that sees the conversation itself.
    Only(String),
    /// Several identities' streams, each once (and admin streams).
    Users(Vec<String>),
}

/// An event's `data`, built only if someone will receive it: most writes
/// have no open stream to tell, and then nothing is serialized at all.
pub enum Payload {
    Value(Value),
    Lazy(Box<dyn FnOnce() -> String + Send>),
}

impl Payload {
    fn into_json(self) -> String {
        match self {
            Payload::Value(v) => v.to_string(),
            Payload::Lazy(f) => f(),
        }
    }
}

/// A change the hub applies after the transaction that caused it commits.
pub enum Effect {
    /// An event to `Audience`: its name, conversation SID, data, and the
    /// `updated` reasons it names (an empty list is left out of the frame).
    Send(Audience, EventName, Option<String>, Payload, Vec<String>),
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
    /// `identity` typed in `conversation` on another instance (the cluster's
    /// event log): starts their typing with `participant`'s JSON, or renews it.
    Typing {
        conversation: String,
        identity: String,
        participant: Option<Value>,
    },
}

impl Effect {
    pub fn send(audience: Audience, event: EventName, conversation_sid: Option<&str>, data: Value) -> Self {
        Self::Send(audience, event, conversation_sid.map(str::to_owned), Payload::Value(data), Vec::new())
    }

    /// An update event naming what changed (`userUpdated`'s `updated` reasons).
    pub fn send_updated(audience: Audience, event: EventName, data: Value, reasons: Vec<String>) -> Self {
        Self::Send(audience, event, None, Payload::Value(data), reasons)
    }

    /// An event whose data is made by `data` only when it has receivers.
    pub fn send_lazy(
        audience: Audience,
        event: EventName,
        conversation_sid: &str,
        data: impl FnOnce() -> String + Send + 'static,
    ) -> Self {
        Self::Send(audience, event, Some(conversation_sid.to_owned()), Payload::Lazy(Box::new(data)), Vec::new())
    }
}

struct Subscriber {
    /// None for an admin stream, which receives everything.
    identity: Option<String>,
    tx: mpsc::Sender<Frame>,
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
    pub rx: mpsc::Receiver<Frame>,
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
        self.lock().start_or_renew_typing(conversation, identity, Some(participant));
    }

    /// Renews `identity`'s typing in `conversation` if it is already on
    /// (returns false if it is not, and the caller must start it).
    pub fn renew_typing(&self, conversation: &str, identity: &str) -> bool {
        let mut inner = self.lock();
        match inner.typing.get_mut(&(conversation.to_owned(), identity.to_owned())) {
            Some(t) => {
                t.until = Instant::now() + Duration::from_secs(TYPING_TIMEOUT_SECS);
                true
            }
            None => false,
        }
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
            Effect::Send(audience, event, conversation_sid, data, reasons) => {
                self.send_with(&audience, event, conversation_sid.as_deref(), data, &reasons)
            }
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
            Effect::Typing { conversation, identity, participant } => {
                self.start_or_renew_typing(&conversation, &identity, participant)
            }
        }
    }

    /// Renews a typing that is on; else starts it (when the participant is known).
    fn start_or_renew_typing(&mut self, conversation: &str, identity: &str, participant: Option<Value>) {
        let until = Instant::now() + Duration::from_secs(TYPING_TIMEOUT_SECS);
        let key = (conversation.to_owned(), identity.to_owned());
        if let Some(t) = self.typing.get_mut(&key) {
            t.until = until;
            return;
        }
        let Some(participant) = participant else { return };
        self.typing.insert(key, Typing { until, participant: participant.clone() });
        let audience = Audience::ConversationExcept(conversation.to_owned(), identity.to_owned());
        self.send(&audience, EventName::TypingStarted, Some(conversation), Payload::Value(participant));
    }

    fn end_typing(&mut self, conversation: &str, identity: &str) {
        if let Some(t) = self.typing.remove(&(conversation.to_owned(), identity.to_owned())) {
            let audience = Audience::ConversationExcept(conversation.to_owned(), identity.to_owned());
            self.send(&audience, EventName::TypingEnded, Some(conversation), Payload::Value(t.participant));
        }
    }

    fn send(&mut self, audience: &Audience, event: EventName, conversation_sid: Option<&str>, data: Payload) {
        self.send_with(audience, event, conversation_sid, data, &[])
    }

    /// Serializes once (the api::stream::ServerEvent shape), then queues the
    /// same bytes to every receiver.
    fn send_with(
        &mut self,
        audience: &Audience,
        event: EventName,
        conversation_sid: Option<&str>,
        data: Payload,
        reasons: &[String],
    ) {
        let mut targets: Vec<u64> = match audience {
            Audience::Only(_) => Vec::new(),
            _ => self.admins.iter().copied().collect(),
        };
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
            Audience::User(identity) | Audience::Only(identity) => add_identity(identity, &mut targets),
            Audience::Users(identities) => identities.iter().for_each(|i| add_identity(i, &mut targets)),
        }
        if targets.is_empty() {
            return;
        }
        let updated = match reasons {
            [] => String::new(),
            _ => format!(r#","updated":{}"#, serde_json::Value::from(reasons.to_vec())),
        };
        let frame: Frame = format!(
            r#"{{"event":{},"conversation_sid":{},"data":{}{updated}}}"#,
            serde_json::Value::from(event_name(event)),
            serde_json::Value::from(conversation_sid),
            data.into_json()
        )
        .into();
        let mut slow = Vec::new();
        for id in targets {
            if let Some(sub) = self.subs.get(&id)
                && sub.tx.try_send(frame.clone()).is_err()
            {
                slow.push(id);
            }
        }
        for id in slow {
            tracing::warn!("stream {id} fell behind or went away; dropping it");
            self.remove(id);
        }
    }
}

/// The wire name of an event (`messageAdded`, …), as serde writes it.
fn event_name(event: EventName) -> String {
    match serde_json::to_value(event) {
        Ok(Value::String(s)) => s,
        _ => format!("{event:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::stream::ServerEvent;

    #[test]
    fn frames_parse_as_server_events_and_reach_only_members() {
        let hub = Hub::default();
        hub.load_members([("CH1".to_owned(), "alice".to_owned())]);
        let mut alice = hub.subscribe(Some("alice".into()));
        let mut bob = hub.subscribe(Some("bob".into()));
        let mut admin = hub.subscribe(None);
        hub.apply(vec![Effect::send(
            Audience::Conversation("CH1".into()),
            EventName::MessageAdded,
            Some("CH1"),
            serde_json::json!({"index": 0}),
        )]);
        let frame = alice.rx.try_recv().unwrap();
        let event: ServerEvent = serde_json::from_str(&frame).unwrap();
        assert_eq!(event.event, EventName::MessageAdded);
        assert_eq!(event.conversation_sid.as_deref(), Some("CH1"));
        assert_eq!(event.data["index"], 0);
        let shared = admin.rx.try_recv().unwrap();
        assert_eq!(frame.as_str().as_ptr(), shared.as_str().as_ptr(), "one serialization, shared");
        assert!(bob.rx.try_recv().is_err());
    }

    #[test]
    fn update_reasons_ride_in_the_frame() {
        let hub = Hub::default();
        let mut bob = hub.subscribe(Some("bob".into()));
        let data = serde_json::json!({"identity": "alice"});
        let reasons = vec!["reachabilityOnline".to_owned()];
        hub.apply(vec![Effect::send_updated(
            Audience::Users(vec!["bob".into()]),
            EventName::UserUpdated,
            data,
            reasons,
        )]);
        let event: ServerEvent = serde_json::from_str(&bob.rx.try_recv().unwrap()).unwrap();
        assert_eq!((event.event, event.updated), (EventName::UserUpdated, vec!["reachabilityOnline".to_owned()]));
        assert_eq!(event.data["identity"], "alice");
    }

    #[test]
    fn lazy_payloads_are_never_built_without_receivers() {
        let hub = Hub::default();
        hub.apply(vec![Effect::send_lazy(
            Audience::Conversation("CH1".into()),
            EventName::ConversationUpdated,
            "CH1",
            || panic!("built for nobody"),
        )]);
    }
}
