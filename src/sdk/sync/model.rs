//! The sync task's model of what the user can see, and how each change to it
//! becomes a `Diff`: every `apply_*` compares with what is held and returns the
//! diffs to send, none when nothing really changed (which is what makes
//! replayed stream events and resync overlaps harmless).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::api::{Conversation, LastMessage, Message, Participant, User, UserConversation};
use crate::sdk::sync_protocol::{ConversationEntry, Diff};

/// Most messages held per conversation; older ones are forgotten first.
pub const MAX_WINDOW: usize = 5000;

/// One conversation of the user.
#[derive(Debug, Clone)]
pub struct ConvModel {
    pub entry: ConversationEntry,
    /// Opened by the UI: its participants are kept, its newest page loaded.
    pub opened: bool,
    /// Participants by SID, once loaded.
    pub participants: Option<BTreeMap<String, Participant>>,
    /// The held window of messages, by index.
    pub messages: BTreeMap<i64, Message>,
    /// SIDs of messages and participants seen removed, so a REST reply and its
    /// event diff once, and a late event does not bring them back.
    pub removed: HashSet<String>,
}

impl ConvModel {
    pub fn new(entry: ConversationEntry) -> Self {
        Self { entry, opened: false, participants: None, messages: BTreeMap::new(), removed: HashSet::new() }
    }

    /// The newest index this conversation is known to have.
    pub fn newest_index(&self) -> Option<i64> {
        let held = self.messages.keys().next_back().copied();
        let known = self.entry.conversation.last_message.as_ref().map(|m| m.index);
        held.max(known)
    }
}

/// Everything the task holds.
#[derive(Debug, Default)]
pub struct Model {
    pub me: Option<User>,
    pub convs: HashMap<String, ConvModel>,
    /// (conversation, identity) of those typing now.
    pub typing: HashSet<(String, String)>,
}

impl Model {
    /// The list as the UI shows it: most recent activity first.
    pub fn entries(&self) -> Vec<ConversationEntry> {
        let mut list: Vec<ConversationEntry> = self.convs.values().map(|c| c.entry.clone()).collect();
        let activity = |e: &ConversationEntry| {
            let c = &e.conversation;
            c.last_message.as_ref().map(|m| m.date_created.clone()).unwrap_or_else(|| c.date_updated.clone())
        };
        list.sort_by(|a, b| activity(b).cmp(&activity(a)).then_with(|| a.conversation.sid.cmp(&b.conversation.sid)));
        list
    }

    /// Replaces the whole list (after a sync), keeping what is held for
    /// conversations that remain.
    pub fn replace_conversations(&mut self, entries: Vec<ConversationEntry>) -> Diff {
        let mut old = std::mem::take(&mut self.convs);
        for entry in entries {
            let sid = entry.conversation.sid.clone();
            let model = match old.remove(&sid) {
                Some(mut m) => {
                    m.entry = entry;
                    m
                }
                None => ConvModel::new(entry),
            };
            self.convs.insert(sid, model);
        }
        Diff::Conversations(self.entries())
    }

    /// A conversation was added or changed (resource and/or user state).
    pub fn upsert_conversation(
        &mut self,
        conversation: Option<Conversation>,
        user_state: Option<UserConversation>,
        sid: &str,
    ) -> Option<Diff> {
        let model = match self.convs.get_mut(sid) {
            Some(m) => m,
            None => {
                let entry = ConversationEntry { conversation: conversation?, user_state };
                self.convs.insert(sid.to_owned(), ConvModel::new(entry.clone()));
                return Some(Diff::ConversationUpserted(entry));
            }
        };
        let before = model.entry.clone();
        if let Some(mut c) = conversation {
            // A conversation event may lag a message we already applied.
            let held_last = model.entry.conversation.last_message.clone();
            if let (Some(held), Some(new)) = (&held_last, &c.last_message)
                && held.index > new.index
            {
                c.last_message = held_last;
            } else if c.last_message.is_none() && held_last.is_some() {
                c.last_message = held_last;
            }
            model.entry.conversation = c;
        }
        if let Some(u) = user_state {
            model.entry.user_state = Some(u);
        }
        (model.entry != before).then(|| Diff::ConversationUpserted(model.entry.clone()))
    }

    pub fn remove_conversation(&mut self, sid: &str) -> Option<Diff> {
        self.convs.remove(sid)?;
        self.typing.retain(|(c, _)| c != sid);
        Some(Diff::ConversationRemoved { conversation_sid: sid.to_owned() })
    }

    /// A message arrived or changed. `live`: it is new (so it moves the
    /// conversation's last message); otherwise it is only applied when held.
    pub fn upsert_message(&mut self, m: Message, live: bool, out: &mut Vec<Diff>) {
        let Some(model) = self.convs.get_mut(&m.conversation_sid) else { return };
        let held = model.messages.contains_key(&m.index);
        if model.removed.contains(&m.sid) || (!live && !held) {
            return;
        }
        let (index, date_created) = (m.index, m.date_created.clone());
        // The message first, then what it did to the conversation (as Twilio orders
        // them). A creation (a send's reply, a messageAdded) is never newer than a
        // held version, which may carry an edit already: it only adds what is missing.
        let apply = if live { !held } else { model.messages.get(&m.index) != Some(&m) };
        if apply {
            model.messages.insert(m.index, m.clone());
            while model.messages.len() > MAX_WINDOW {
                model.messages.pop_first();
            }
            out.push(Diff::MessageUpserted(m));
        }
        if live {
            let conv = &mut model.entry.conversation;
            if conv.last_message.as_ref().is_none_or(|l| l.index < index) {
                conv.last_message = Some(LastMessage { index, date_created });
                conv.messages_count += 1;
                // The server tells a user's unread count only when their own state
                // changes; between resyncs it is kept here, counted as the server
                // counts it: messages after the horizon.
                if let Some(u) = model.entry.user_state.as_mut()
                    && let (Some(unread), Some(horizon)) = (u.unread_messages_count, u.last_read_message_index)
                    && index > horizon
                {
                    u.unread_messages_count = Some(unread + 1);
                }
                out.push(Diff::ConversationUpserted(model.entry.clone()));
            }
        }
    }

    /// Holds a page the UI asked for (no per-message diffs: the page is one).
    pub fn hold_page(&mut self, conversation_sid: &str, messages: &[Message]) {
        if let Some(model) = self.convs.get_mut(conversation_sid) {
            for m in messages {
                model.messages.insert(m.index, m.clone());
            }
            while model.messages.len() > MAX_WINDOW {
                model.messages.pop_first();
            }
        }
    }

    pub fn remove_message(&mut self, conversation_sid: &str, message_sid: &str, index: i64) -> Option<Diff> {
        let model = self.convs.get_mut(conversation_sid)?;
        model.messages.remove(&index);
        if !model.removed.insert(message_sid.to_owned()) {
            return None;
        }
        if let Some(u) = model.entry.user_state.as_mut()
            && let (Some(unread), Some(horizon)) = (u.unread_messages_count, u.last_read_message_index)
            && index > horizon
            && unread > 0
        {
            u.unread_messages_count = Some(unread - 1);
        }
        // Told even when not held: the UI may hold more than we do (e.g. before a Trim).
        Some(Diff::MessageRemoved {
            conversation_sid: conversation_sid.to_owned(),
            message_sid: message_sid.to_owned(),
            index,
        })
    }

    /// A participant joined or changed; told only for conversations whose
    /// roster is held (opened ones).
    pub fn upsert_participant(&mut self, p: Participant) -> Option<Diff> {
        let model = self.convs.get_mut(&p.conversation_sid)?;
        if model.removed.contains(&p.sid) {
            return None;
        }
        let roster = model.participants.as_mut()?;
        if roster.get(&p.sid) == Some(&p) {
            return None;
        }
        roster.insert(p.sid.clone(), p.clone());
        Some(Diff::ParticipantUpserted(p))
    }

    pub fn remove_participant(&mut self, conversation_sid: &str, participant_sid: &str) -> Option<Diff> {
        let model = self.convs.get_mut(conversation_sid)?;
        model.removed.insert(participant_sid.to_owned());
        let roster = model.participants.as_mut()?;
        roster.remove(participant_sid)?;
        Some(Diff::ParticipantRemoved {
            conversation_sid: conversation_sid.to_owned(),
            participant_sid: participant_sid.to_owned(),
        })
    }

    /// Replaces a roster wholesale.
    pub fn set_participants(&mut self, conversation_sid: &str, list: Vec<Participant>) -> Option<Diff> {
        let model = self.convs.get_mut(conversation_sid)?;
        model.participants = Some(list.iter().map(|p| (p.sid.clone(), p.clone())).collect());
        Some(Diff::Participants { conversation_sid: conversation_sid.to_owned(), participants: list })
    }

    pub fn set_typing(&mut self, conversation_sid: &str, identity: &str, typing: bool) -> Option<Diff> {
        let key = (conversation_sid.to_owned(), identity.to_owned());
        let changed = if typing { self.typing.insert(key) } else { self.typing.remove(&key) };
        changed.then(|| Diff::Typing {
            conversation_sid: conversation_sid.to_owned(),
            identity: identity.to_owned(),
            typing,
        })
    }

    /// Ends every typing indicator (the connection that would end them is gone).
    pub fn clear_typing(&mut self) -> Vec<Diff> {
        std::mem::take(&mut self.typing)
            .into_iter()
            .map(|(conversation_sid, identity)| Diff::Typing { conversation_sid, identity, typing: false })
            .collect()
    }

    pub fn set_me(&mut self, user: User) -> Option<Diff> {
        if self.me.as_ref() == Some(&user) {
            return None;
        }
        self.me = Some(user.clone());
        Some(Diff::Me(user))
    }

    pub fn trim(&mut self, conversation_sid: &str, keep_from: i64, keep_to: i64) {
        if let Some(model) = self.convs.get_mut(conversation_sid) {
            model.messages.retain(|i, _| (keep_from..=keep_to).contains(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn conversation(sid: &str, last: Option<i64>) -> Conversation {
        serde_json::from_value(json!({
            "account_sid": "AC1", "chat_service_sid": "IS1", "messaging_service_sid": null,
            "sid": sid, "friendly_name": "f", "unique_name": null, "attributes": "{}", "state": "active",
            "date_created": "2026-01-01T00:00:00Z", "date_updated": "2026-01-01T00:00:00Z", "timers": {},
            "url": "u", "links": {}, "bindings": null,
            "last_message": last.map(|i| json!({"index": i, "date_created": "2026-01-01T00:00:00Z"})),
        }))
        .unwrap()
    }

    fn state(sid: &str, horizon: Option<i64>, unread: Option<i64>) -> UserConversation {
        serde_json::from_value(json!({
            "account_sid": "AC1", "chat_service_sid": "IS1", "conversation_sid": sid,
            "unread_messages_count": unread, "last_read_message_index": horizon, "participant_sid": "MB1",
            "user_sid": "US1", "friendly_name": null, "conversation_state": "active", "timers": {},
            "attributes": "{}", "date_created": "2026-01-01T00:00:00Z", "date_updated": "2026-01-01T00:00:00Z",
            "created_by": "a", "notification_level": "default", "unique_name": null, "url": "u", "links": {},
        }))
        .unwrap()
    }

    fn message(sid: &str, index: i64, body: &str) -> Message {
        serde_json::from_value(json!({
            "account_sid": "AC1", "conversation_sid": sid, "sid": format!("IM{index}"), "index": index,
            "author": "a", "body": body, "media": null, "attributes": "{}", "participant_sid": null,
            "date_created": "2026-01-01T00:00:00Z", "date_updated": null, "url": "u", "delivery": null,
            "links": {}, "content_sid": null,
        }))
        .unwrap()
    }

    fn model_with(horizon: Option<i64>, unread: Option<i64>) -> Model {
        let mut m = Model::default();
        let entry = ConversationEntry {
            conversation: conversation("CH1", Some(4)),
            user_state: Some(state("CH1", horizon, unread)),
        };
        m.replace_conversations(vec![entry]);
        m
    }

    fn unread(m: &Model) -> Option<i64> {
        m.convs["CH1"].entry.user_state.as_ref().unwrap().unread_messages_count
    }

    #[test]
    fn a_message_seen_twice_diffs_once() {
        let mut m = model_with(None, None);
        let mut out = Vec::new();
        m.upsert_message(message("CH1", 5, "hi"), true, &mut out);
        m.upsert_message(message("CH1", 5, "hi"), true, &mut out);
        let upserts = out.iter().filter(|d| matches!(d, Diff::MessageUpserted(_))).count();
        assert_eq!(upserts, 1, "{out:?}");
        assert!(matches!(out[0], Diff::MessageUpserted(_)), "the message comes before the conversation change");
    }

    #[test]
    fn a_late_creation_does_not_undo_an_edit() {
        let mut m = model_with(None, None);
        let mut out = Vec::new();
        m.upsert_message(message("CH1", 5, "first"), true, &mut out);
        m.upsert_message(message("CH1", 5, "edited"), false, &mut out);
        out.clear();
        m.upsert_message(message("CH1", 5, "first"), true, &mut out);
        assert!(!out.iter().any(|d| matches!(d, Diff::MessageUpserted(_))), "{out:?}");
        assert_eq!(m.convs["CH1"].messages[&5].body.as_deref(), Some("edited"));
    }

    #[test]
    fn an_edit_of_a_message_not_held_is_ignored_and_a_removed_one_stays_removed() {
        let mut m = model_with(None, None);
        let mut out = Vec::new();
        m.upsert_message(message("CH1", 2, "old"), false, &mut out);
        assert!(out.is_empty());
        m.upsert_message(message("CH1", 5, "x"), true, &mut out);
        assert!(m.remove_message("CH1", "IM5", 5).is_some());
        assert!(m.remove_message("CH1", "IM5", 5).is_none(), "removal diffed twice");
        out.clear();
        m.upsert_message(message("CH1", 5, "x"), false, &mut out);
        assert!(out.is_empty(), "a late edit resurrected a deleted message");
    }

    #[test]
    fn unread_counts_new_messages_after_the_horizon_only_when_one_is_set() {
        let mut m = model_with(Some(4), Some(0));
        let mut out = Vec::new();
        m.upsert_message(message("CH1", 5, "a"), true, &mut out);
        m.upsert_message(message("CH1", 6, "b"), true, &mut out);
        assert_eq!(unread(&m), Some(2));
        m.remove_message("CH1", "IM6", 6);
        assert_eq!(unread(&m), Some(1));
        let mut none = model_with(None, None);
        none.upsert_message(message("CH1", 5, "a"), true, &mut out);
        assert_eq!(unread(&none), None);
    }

    #[test]
    fn a_lagging_conversation_event_does_not_move_last_message_back() {
        let mut m = model_with(None, None);
        let mut out = Vec::new();
        m.upsert_message(message("CH1", 9, "new"), true, &mut out);
        m.upsert_conversation(Some(conversation("CH1", Some(7))), None, "CH1");
        assert_eq!(m.convs["CH1"].entry.conversation.last_message.as_ref().unwrap().index, 9);
    }

    #[test]
    fn typing_diffs_only_on_change_and_clears_on_disconnect() {
        let mut m = model_with(None, None);
        assert!(m.set_typing("CH1", "bob", true).is_some());
        assert!(m.set_typing("CH1", "bob", true).is_none());
        assert_eq!(m.clear_typing().len(), 1);
        assert!(m.set_typing("CH1", "bob", false).is_none());
    }
}
