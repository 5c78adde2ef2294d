//! `/v1/Stream` events → Sync pushes (`map_item_*`, `list_item_*`,
//! `document_updated`) and typing notifications, for one person's socket.
//! Pure translation; the socket keeps what it needs between events.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::{Kind, Object, data, encode, object_url};
use crate::api::resources::{Conversation, Message, Participant, User, UserConversation};
use crate::api::stream::{EventName, ServerEvent};
use crate::api::time::{format_unix, now_unix};

/// Which item of an object a push is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Key(String),
    Index(i64),
    /// The object itself (a document).
    Whole,
}

/// One change to a Sync object, not yet stamped with its event id.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub object: Object,
    /// `added`, `updated` or `removed`.
    pub change: Change,
    pub item: Item,
    pub data: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Added,
    Updated,
    Removed,
}

impl Push {
    pub fn new(object: Object, change: Change, item: Item, data: Value) -> Self {
        Self { object, change, item, data }
    }

    /// The `twilio.sync.event` payload, stamped with `id`; URLs under `base`.
    pub fn payload(&self, id: u64, base: &str) -> Value {
        let name = self.object.name();
        let url = object_url(base, &self.object);
        let date = format_unix(now_unix());
        let (prefix, sid_field) = match self.object.kind() {
            Kind::Map => ("map", "map_sid"),
            Kind::List => ("list", "list_sid"),
            Kind::Document => ("document", "document_sid"),
        };
        let change = match self.change {
            Change::Added => "added",
            Change::Updated => "updated",
            Change::Removed => "removed",
        };
        let mut event = Map::new();
        event.insert("id".into(), json!(id));
        event.insert(sid_field.into(), json!(name));
        event.insert("date_created".into(), json!(date));
        let event_type = match &self.item {
            Item::Whole => {
                event.insert("document_revision".into(), json!(id.to_string()));
                event.insert("document_data".into(), self.data.clone());
                format!("{prefix}_{change}")
            }
            item => {
                let (field, key, item_url) = match item {
                    Item::Key(k) => ("item_key", json!(k), format!("{url}/Items/{}", encode(k))),
                    Item::Index(i) => ("item_index", json!(i), format!("{url}/Items/{i}")),
                    Item::Whole => unreachable!("handled above"),
                };
                event.insert(field.into(), key);
                event.insert("item_url".into(), json!(item_url));
                event.insert("item_revision".into(), json!(id.to_string()));
                event.insert("item_data".into(), self.data.clone());
                event.insert(format!("{prefix}_revision"), json!(id.to_string()));
                format!("{prefix}_item_{change}")
            }
        };
        json!({"event_type": event_type, "event": Value::Object(event)})
    }
}

/// What a socket pushes for one stream event.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Sync(Push),
    /// `identity` is typing in `conversation`: a `twilio.ipmsg.typing_indicator`.
    Typing {
        conversation: String,
        identity: String,
    },
}

fn parse<T: DeserializeOwned>(v: &Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

/// The pushes that stand for `event`, seen by `me`.
pub fn from_stream(event: &ServerEvent, me: &str) -> Vec<Out> {
    use Change::*;
    let sync = |object, change, item, data| Out::Sync(Push::new(object, change, item, data));
    let d = &event.data;
    match event.event {
        EventName::MessageAdded | EventName::MessageUpdated | EventName::MessageRemoved => {
            let Some(m) = parse::<Message>(d) else { return Vec::new() };
            let change = match event.event {
                EventName::MessageAdded => Added,
                EventName::MessageUpdated => Updated,
                _ => Removed,
            };
            let mut out = vec![sync(
                Object::Messages(m.conversation_sid.clone()),
                change,
                Item::Index(m.index),
                data::message(&m),
            )];
            if change == Added {
                // The document's lastMessage moves; the socket fills in the rest of it.
                out.push(sync(
                    Object::Conversation(m.conversation_sid.clone()),
                    Updated,
                    Item::Whole,
                    json!({"lastMessage": {"index": m.index, "timestamp": m.date_created}}),
                ));
            }
            out
        }
        EventName::ParticipantJoined | EventName::ParticipantUpdated | EventName::ParticipantLeft => {
            let Some(p) = parse::<Participant>(d) else { return Vec::new() };
            let change = match event.event {
                EventName::ParticipantJoined => Added,
                EventName::ParticipantUpdated => Updated,
                _ => Removed,
            };
            vec![sync(
                Object::Roster(p.conversation_sid.clone()),
                change,
                Item::Key(p.sid.clone()),
                data::participant(&p),
            )]
        }
        EventName::ConversationAdded | EventName::ConversationUpdated | EventName::ConversationRemoved => {
            let Some(c) = parse::<Conversation>(d) else { return Vec::new() };
            let mine = Object::MyConversations(me.to_owned());
            match event.event {
                // Added to my list: the membership item comes with userConversationUpdated
                // or is read when the SDK asks; the document is what changed here.
                EventName::ConversationAdded => {
                    vec![sync(mine, Added, Item::Key(c.sid.clone()), data::new_membership(&c))]
                }
                EventName::ConversationUpdated => {
                    vec![sync(Object::Conversation(c.sid.clone()), Updated, Item::Whole, data::conversation(&c))]
                }
                _ => vec![sync(mine, Removed, Item::Key(c.sid.clone()), json!({}))],
            }
        }
        EventName::UserConversationUpdated => {
            let Some(uc) = parse::<UserConversation>(d) else { return Vec::new() };
            let item = data::my_conversation(&uc, None);
            vec![sync(Object::MyConversations(me.to_owned()), Updated, Item::Key(uc.conversation_sid.clone()), item)]
        }
        EventName::UserUpdated => {
            let Some(u) = parse::<User>(d) else { return Vec::new() };
            data::user_items(&u)
                .into_iter()
                .filter(|(key, _)| changed(&event.updated, key))
                .map(|(key, value)| {
                    sync(Object::UserInfo(u.identity.clone()), Updated, Item::Key(key.to_owned()), value)
                })
                .collect()
        }
        EventName::TypingStarted => {
            let Some(p) = parse::<Participant>(d) else { return Vec::new() };
            match p.identity {
                Some(identity) if identity != me => vec![Out::Typing { conversation: p.conversation_sid, identity }],
                _ => Vec::new(),
            }
        }
        EventName::TypingEnded => Vec::new(),
    }
}

/// Whether a `userUpdated` with `reasons` changed the user map's `key`.
fn changed(reasons: &[String], key: &str) -> bool {
    use crate::api::stream::user_updated::*;
    reasons.is_empty()
        || reasons.iter().any(|r| match key {
            "friendlyName" => r == FRIENDLY_NAME,
            "attributes" => r == ATTRIBUTES,
            _ => r == REACHABILITY_ONLINE || r == REACHABILITY_NOTIFIABLE,
        })
}
