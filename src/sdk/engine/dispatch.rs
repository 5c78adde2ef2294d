//! Applying one stream frame to the model: each event goes through the same
//! compare-then-apply function as the REST reply it may echo, and events
//! older than a write of ours are held back by the echo rule.

use super::Engine;
use crate::api::UserConversation;
use crate::api::stream::ServerEvent;
use crate::sdk::state::change::Change;
use crate::sdk::state::echo::EchoKey;
use crate::sdk::state::model::Model;
use crate::sdk::wire::frames::Incoming;

impl Engine {
    pub(super) async fn frame(&mut self, ev: ServerEvent) {
        let Some(incoming) = Incoming::decode(ev) else { return };
        if let Incoming::MessageAdded(m) = &incoming
            && m.author.as_deref() == Some(self.identity.as_str())
        {
            self.typing.message_sent(&m.conversation_sid);
        }
        // A conversation added to the user's list comes with their state in it.
        let user = match &incoming {
            Incoming::ConversationAdded(c) => self.rest.get_user_conversation(&self.identity, &c.sid).await.ok(),
            _ => None,
        };
        self.apply(|m| apply(m, incoming, user)).await;
    }
}

/// What one frame changes. `user`: the user's state in a conversation just added.
fn apply(m: &mut Model, incoming: Incoming, user: Option<UserConversation>) -> Vec<Change> {
    match incoming {
        Incoming::ConversationAdded(c) => m.upsert_conversation(&c.sid.clone(), Some(c), user.map(Some)),
        Incoming::ConversationUpdated(c) => match m.echoes.admit(EchoKey::conversation(&c)) {
            true => m.upsert_conversation(&c.sid.clone(), Some(c), None),
            false => Vec::new(),
        },
        Incoming::ConversationRemoved(c) => m.upsert_conversation(&c.sid.clone(), Some(c), Some(None)),
        Incoming::MessageAdded(msg) => m.upsert_message(msg, true),
        Incoming::MessageUpdated(msg) => match m.echoes.admit(EchoKey::message(&msg)) {
            true => m.upsert_message(msg, false),
            false => Vec::new(),
        },
        Incoming::MessageRemoved(msg) => m.remove_message(&msg),
        Incoming::ParticipantJoined(p) => m.upsert_participant(p, true),
        Incoming::ParticipantUpdated(p) => match m.echoes.admit(EchoKey::participant(&p)) {
            true => m.upsert_participant(p, false),
            false => Vec::new(),
        },
        Incoming::ParticipantLeft(p) => {
            let me = p.identity.as_deref() == Some(m.identity());
            let mut changes = m.remove_participant(&p);
            if me {
                changes.extend(m.upsert_conversation(&p.conversation_sid, None, Some(None)));
            }
            changes
        }
        Incoming::TypingStarted(p) => m.start_typing(p),
        Incoming::TypingEnded(p) => match &p.identity {
            Some(identity) => m.stop_typing(&p.conversation_sid, identity),
            None => Vec::new(),
        },
        // Membership comes with conversationAdded; a late state update for a
        // conversation already left must not re-add it.
        Incoming::UserConversationUpdated(uc) => {
            if m.is_member(&uc.conversation_sid) && m.echoes.admit(EchoKey::user_state(&uc)) {
                m.upsert_conversation(&uc.conversation_sid.clone(), None, Some(Some(uc)))
            } else {
                Vec::new()
            }
        }
        Incoming::UserUpdated(u) => m.apply_user(u),
    }
}
