//! The Sync-shaped view of the store that Twilio's Conversations SDK reads over
//! twilsock: per person a user map and a conversations map; per conversation a
//! document, a messages list and a roster map. Never a second source of truth:
//! every object is read from the store (`objects`) or made from a `/v1/Stream`
//! event (`events`), through the one conversion in `data`.
//!
//! Event ids (`last_event_id`, each push's `id`) come from one clock per
//! process: microseconds since the epoch, strictly increasing. A read stamps
//! what it returns with the clock, a push is stamped when sent, so a push is
//! always newer than what the client read before it; a resubscription from
//! `last_event_id` replays what changed since that moment (`objects::replay`).

pub mod data;
pub mod events;
pub mod objects;

use std::sync::atomic::{AtomicU64, Ordering};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::time::{SystemTime, UNIX_EPOCH};

/// Path segments keep letters, digits and `-_.~`; the rest is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A name or key as one URL path segment.
pub fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// `base/v3/<Collection>/<name>`: where an object is read.
pub fn object_url(base: &str, object: &Object) -> String {
    format!("{base}/v3/{}/{}", object.kind().collection(), encode(&object.name()))
}

/// The next event id: now in microseconds, or one past the last id if the clock lags.
pub fn next_event_id() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// The Unix second an event id was made in (for replay: "changed since").
pub fn event_id_secs(id: u64) -> i64 {
    (id / 1_000_000) as i64
}

/// One Sync object, by what it shows. Names are readable and carry their key:
/// `CH….channel`, `CH….messages`, `CH….roster`, `userinfo:<identity>`,
/// `myconversations:<identity>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Object {
    /// The conversation's document (its properties and last message).
    Conversation(String),
    /// The conversation's messages, a list indexed by message index.
    Messages(String),
    /// The conversation's participants, a map keyed by participant SID.
    Roster(String),
    /// A user's map: `friendlyName`, `attributes`, `reachability`.
    UserInfo(String),
    /// A person's conversations, a map keyed by conversation SID.
    MyConversations(String),
}

/// What kind of Sync object a name is (its URL collection and event prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Document,
    List,
    Map,
}

impl Kind {
    pub fn collection(self) -> &'static str {
        match self {
            Kind::Document => "Documents",
            Kind::List => "Lists",
            Kind::Map => "Maps",
        }
    }
}

const USER_INFO: &str = "userinfo:";
const MY_CONVERSATIONS: &str = "myconversations:";

impl Object {
    pub fn parse(name: &str) -> Option<Self> {
        if let Some(identity) = name.strip_prefix(USER_INFO) {
            return Some(Self::UserInfo(identity.to_owned()));
        }
        if let Some(identity) = name.strip_prefix(MY_CONVERSATIONS) {
            return Some(Self::MyConversations(identity.to_owned()));
        }
        let (sid, what) = name.rsplit_once('.')?;
        if !sid.starts_with("CH") {
            return None;
        }
        let sid = sid.to_owned();
        match what {
            "channel" => Some(Self::Conversation(sid)),
            "messages" => Some(Self::Messages(sid)),
            "roster" => Some(Self::Roster(sid)),
            _ => None,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Self::Conversation(c) => format!("{c}.channel"),
            Self::Messages(c) => format!("{c}.messages"),
            Self::Roster(c) => format!("{c}.roster"),
            Self::UserInfo(i) => format!("{USER_INFO}{i}"),
            Self::MyConversations(i) => format!("{MY_CONVERSATIONS}{i}"),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Self::Conversation(_) => Kind::Document,
            Self::Messages(_) => Kind::List,
            Self::Roster(_) | Self::UserInfo(_) | Self::MyConversations(_) => Kind::Map,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_to_their_object() {
        for o in [
            Object::Conversation("CH1".into()),
            Object::Messages("CH1".into()),
            Object::Roster("CH1".into()),
            Object::UserInfo("alice.smith@example.com".into()),
            Object::MyConversations("bob".into()),
        ] {
            assert_eq!(Object::parse(&o.name()), Some(o));
        }
        assert_eq!(Object::parse("MP123"), None);
        assert_eq!(Object::parse("CH1.secrets"), None);
    }

    #[test]
    fn event_ids_only_grow() {
        let a = next_event_id();
        let b = next_event_id();
        assert!(b > a);
        assert!(event_id_secs(b) > 1_700_000_000);
    }
}
