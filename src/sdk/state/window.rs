//! The model's message windows: the held messages of each conversation, how a
//! new, edited or removed message changes them (and the conversation's last
//! message and unread count), pages held on request, and trims.

use super::change::Change;
use super::model::{Model, Scope};
use crate::api::{LastMessage, Message};

impl Model {
    /// A message arrived or changed. `live`: it is new (a send's reply, a
    /// `messageAdded`, a message missed while offline), so it moves the
    /// conversation's last message and ends its author's typing; otherwise it
    /// is an edit. A creation is never newer than a held version (which may
    /// carry an edit already): it only adds what is missing.
    pub fn upsert_message(&mut self, m: Message, live: bool) -> Vec<Change> {
        let mut out = Vec::new();
        if live && let Some(author) = &m.author {
            out.extend(self.stop_typing(&m.conversation_sid, author));
        }
        let cache = self.scope() == Scope::Cache;
        let cap = self.scope().window();
        let Some(state) = self.convs.get_mut(&m.conversation_sid) else { return out };
        if state.removed.contains(&m.sid) {
            return out;
        }
        let held = state.window.get(&m.index).cloned();
        let (index, date_created) = (m.index, m.date_created.clone());
        if live {
            if held.is_none() {
                state.window.insert(m.index, m.clone());
                out.push(Change::MessageAdded(m));
            }
        } else if held.is_some() || cache {
            if held.as_ref() != Some(&m) {
                state.window.insert(m.index, m.clone());
                out.push(Change::MessageUpdated { old: held, new: m });
            }
        } else {
            return out; // an edit of a message outside the view
        }
        while state.window.len() > cap {
            state.window.pop_first();
        }
        // The message first, then what it did to the conversation (as Twilio orders them).
        if live && state.entry.conversation.last_message.as_ref().is_none_or(|l| l.index < index) {
            let old = state.entry.clone();
            let conv = &mut state.entry.conversation;
            conv.last_message = Some(LastMessage { index, date_created });
            conv.messages_count += 1;
            // The server tells a user's unread count only when their own state
            // changes; between resyncs it is kept here, counted as the server
            // counts it: messages after the horizon.
            if let Some(u) = state.entry.user_state.as_mut()
                && let (Some(unread), Some(horizon)) = (u.unread_messages_count, u.last_read_message_index)
                && index > horizon
            {
                u.unread_messages_count = Some(unread + 1);
            }
            if state.is_member() {
                out.push(Change::ConversationUpdated { old, new: state.entry.clone() });
            }
        }
        out
    }

    /// Holds a page asked for (reported as one page by the caller, not per message).
    pub fn hold_page(&mut self, conversation_sid: &str, messages: &[Message]) {
        let cap = self.scope().window();
        if let Some(state) = self.convs.get_mut(conversation_sid) {
            for m in messages {
                state.window.insert(m.index, m.clone());
            }
            while state.window.len() > cap {
                state.window.pop_first();
            }
        }
    }

    /// A message was deleted: reported once, even when not held (a UI may
    /// hold more than the model does, e.g. before a trim).
    pub fn remove_message(&mut self, m: &Message) -> Vec<Change> {
        let Some(state) = self.convs.get_mut(&m.conversation_sid) else { return Vec::new() };
        state.window.remove(&m.index);
        if !state.removed.insert(m.sid.clone()) {
            return Vec::new();
        }
        if let Some(u) = state.entry.user_state.as_mut()
            && let (Some(unread), Some(horizon)) = (u.unread_messages_count, u.last_read_message_index)
            && m.index > horizon
            && unread > 0
        {
            u.unread_messages_count = Some(unread - 1);
        }
        vec![Change::MessageRemoved(m.clone())]
    }

    /// Forgets held messages outside `[keep_from, keep_to]`.
    pub fn trim(&mut self, conversation_sid: &str, keep_from: i64, keep_to: i64) {
        if let Some(state) = self.convs.get_mut(conversation_sid) {
            state.window.retain(|i, _| (keep_from..=keep_to).contains(i));
        }
    }

    /// A held message by SID.
    pub fn held_message(&self, conversation_sid: &str, message_sid: &str) -> Option<&Message> {
        self.conv(conversation_sid)?.window.values().find(|m| m.sid == message_sid)
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::tests::{message, model_with};
    use super::*;

    fn unread(m: &Model) -> Option<i64> {
        m.conv("CH1").unwrap().entry.user_state.as_ref().unwrap().unread_messages_count
    }

    #[test]
    fn a_message_seen_twice_is_reported_once() {
        let mut m = model_with(Scope::View, None, None);
        let mut out = m.upsert_message(message("CH1", 5, "hi"), true);
        out.extend(m.upsert_message(message("CH1", 5, "hi"), true));
        let added = out.iter().filter(|d| matches!(d, Change::MessageAdded(_))).count();
        assert_eq!(added, 1, "{out:?}");
        assert!(matches!(out[0], Change::MessageAdded(_)), "the message comes before the conversation change");
    }

    #[test]
    fn a_late_creation_does_not_undo_an_edit() {
        let mut m = model_with(Scope::View, None, None);
        m.upsert_message(message("CH1", 5, "first"), true);
        m.upsert_message(message("CH1", 5, "edited"), false);
        let out = m.upsert_message(message("CH1", 5, "first"), true);
        assert!(!out.iter().any(|d| matches!(d, Change::MessageAdded(_) | Change::MessageUpdated { .. })), "{out:?}");
        assert_eq!(m.conv("CH1").unwrap().window[&5].body.as_deref(), Some("edited"));
    }

    #[test]
    fn an_edit_outside_a_view_is_ignored_and_a_removed_message_stays_removed() {
        let mut m = model_with(Scope::View, None, None);
        assert!(m.upsert_message(message("CH1", 2, "old"), false).is_empty());
        m.upsert_message(message("CH1", 5, "x"), true);
        assert_eq!(m.remove_message(&message("CH1", 5, "x")).len(), 1);
        assert!(m.remove_message(&message("CH1", 5, "x")).is_empty(), "removal reported twice");
        assert!(m.upsert_message(message("CH1", 5, "x"), false).is_empty(), "a late edit resurrected it");
    }

    #[test]
    fn a_cache_reports_edits_of_messages_it_never_held() {
        let mut m = model_with(Scope::Cache, None, None);
        let out = m.upsert_message(message("CH1", 2, "old"), false);
        assert!(matches!(&out[..], [Change::MessageUpdated { old: None, .. }]), "{out:?}");
    }

    #[test]
    fn unread_counts_new_messages_after_the_horizon_only_when_one_is_set() {
        let mut m = model_with(Scope::View, Some(4), Some(0));
        m.upsert_message(message("CH1", 5, "a"), true);
        m.upsert_message(message("CH1", 6, "b"), true);
        assert_eq!(unread(&m), Some(2));
        m.remove_message(&message("CH1", 6, "b"));
        assert_eq!(unread(&m), Some(1));
        let mut none = model_with(Scope::View, None, None);
        none.upsert_message(message("CH1", 5, "a"), true);
        assert_eq!(unread(&none), None);
    }

    #[test]
    fn windows_are_capped_and_trimmed() {
        let mut m = model_with(Scope::Cache, None, None);
        let page: Vec<Message> = (0..300).map(|i| message("CH1", i, "m")).collect();
        m.hold_page("CH1", &page);
        let w = &m.conv("CH1").unwrap().window;
        assert_eq!((w.len(), w.keys().next().copied()), (Scope::Cache.window(), Some(100)));
        m.trim("CH1", 150, 160);
        assert_eq!(m.conv("CH1").unwrap().window.len(), 11);
    }
}
