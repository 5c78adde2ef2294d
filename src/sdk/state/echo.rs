//! The echo rule: our own writes, waiting for their echo on the stream. A REST reply is
//! applied at once, but the stream may still deliver events of earlier
//! commits after it (the server publishes asynchronously); applying those
//! would flick the model back. Events arrive in commit order, so until the
//! echo of our write arrives, any other event for that resource is older than
//! our write and is skipped. A bounded wait covers an echo that never comes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::api;

/// How long to wait for an echo before trusting the stream again.
const ECHO_WAIT: Duration = Duration::from_secs(5);

/// What a write was about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EchoKey {
    /// The user's own state in a conversation (read horizon, notification level).
    UserState(String),
    /// A conversation resource (name, attributes, unique name, state).
    Conversation(String),
    /// A message (body, attributes), by SID.
    Message(String),
    /// A participant (attributes, read horizon), by SID.
    Participant(String),
}

impl EchoKey {
    pub fn user_state(uc: &api::UserConversation) -> (Self, String) {
        let v = format!("{:?}|{:?}", uc.last_read_message_index, uc.notification_level);
        (Self::UserState(uc.conversation_sid.clone()), v)
    }

    pub fn conversation(c: &api::Conversation) -> (Self, String) {
        let v = format!("{:?}|{:?}|{}|{:?}", c.friendly_name, c.unique_name, c.attributes, c.state);
        (Self::Conversation(c.sid.clone()), v)
    }

    pub fn message(m: &api::Message) -> (Self, String) {
        (Self::Message(m.sid.clone()), format!("{:?}|{}", m.body, m.attributes))
    }

    pub fn participant(p: &api::Participant) -> (Self, String) {
        (Self::Participant(p.sid.clone()), format!("{}|{:?}", p.attributes, p.last_read_message_index))
    }
}

/// The writes still waiting for their echo.
#[derive(Debug, Default)]
pub struct Echoes {
    waiting: HashMap<EchoKey, (String, Instant)>,
}

impl Echoes {
    /// Records a write whose reply was applied; `(key, value)` from `EchoKey::*`.
    pub fn await_echo(&mut self, (key, value): (EchoKey, String)) {
        self.waiting.insert(key, (value, Instant::now()));
    }

    /// Whether an event should be applied: yes unless a write of ours on the
    /// same resource awaits its echo and this event is not it.
    pub fn admit(&mut self, (key, value): (EchoKey, String)) -> bool {
        match self.waiting.get(&key) {
            None => true,
            Some((expected, at)) if *expected == value || at.elapsed() > ECHO_WAIT => {
                self.waiting.remove(&key);
                true
            }
            Some(_) => false,
        }
    }

    /// Forgets every wait (after a resync, state comes from the server afresh).
    pub fn clear(&mut self) {
        self.waiting.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(v: &str) -> (EchoKey, String) {
        (EchoKey::Message("IM1".into()), v.into())
    }

    #[test]
    fn events_before_the_echo_are_skipped_and_after_it_admitted() {
        let mut e = Echoes::default();
        assert!(e.admit(k("a")), "nothing awaited");
        e.await_echo(k("c"));
        assert!(!e.admit(k("b")), "an older event flicked the model back");
        assert!(e.admit(k("c")), "the echo itself");
        assert!(e.admit(k("d")), "a later write by someone else");
        let other = (EchoKey::Message("IM2".into()), "x".to_owned());
        e.await_echo(k("z"));
        assert!(e.admit(other), "other resources are not held back");
        e.clear();
        assert!(e.admit(k("y")));
    }
}
