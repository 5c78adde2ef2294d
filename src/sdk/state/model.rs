//! The model of what the person can see: their conversations (each with the
//! user's own state, a message window, a roster and the set of things seen
//! removed), who is typing, and the users met. Every change goes through one
//! compare-then-apply function per kind of thing, which returns the
//! `Change`s it made and none when nothing really changed; that is what
//! makes a REST reply followed by its own stream event, or a resync overlap,
//! harmless. Messages are in `window.rs`, participants in `roster.rs`.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::change::{Change, ConversationEntry};
use super::echo::Echoes;
use crate::api::{Conversation, Message, Participant, User, UserConversation};

/// What a front end keeps of what the stream reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A cache behind handles (the `Client`): every participant and edit the
    /// stream reports is kept and reported, a window of the newest 200
    /// messages is kept per conversation, and a resync reads the messages
    /// missed in every conversation of the user.
    Cache,
    /// A UI's view (the sync task): rosters once loaded, edits of held
    /// messages only, windows of up to 5000 messages (the UI trims them), and
    /// a resync reads missed messages where a window is held.
    View,
}

impl Scope {
    /// Most messages held per conversation; older ones are forgotten first.
    pub fn window(self) -> usize {
        match self {
            Self::Cache => 200,
            Self::View => 5000,
        }
    }
}

/// One conversation the person knows (a member of, or has looked at).
#[derive(Debug, Clone)]
pub struct ConvState {
    pub entry: ConversationEntry,
    /// Opened by a UI: its roster is kept, its newest page loaded.
    pub opened: bool,
    /// Participants by SID; the whole roster once `roster_complete`.
    pub roster: BTreeMap<String, Participant>,
    pub roster_complete: bool,
    /// The held window of messages, by index.
    pub window: BTreeMap<i64, Message>,
    /// SIDs of messages and participants seen removed, so that a REST reply
    /// and its event report one removal, and a late event does not bring
    /// them back.
    pub removed: HashSet<String>,
}

impl ConvState {
    fn new(entry: ConversationEntry) -> Self {
        Self {
            entry,
            opened: false,
            roster: BTreeMap::new(),
            roster_complete: false,
            window: BTreeMap::new(),
            removed: HashSet::new(),
        }
    }

    /// Whether the signed-in user participates in it.
    pub fn is_member(&self) -> bool {
        self.entry.user_state.is_some()
    }

    /// The newest index this conversation is known to have.
    pub fn newest_index(&self) -> Option<i64> {
        let held = self.window.keys().next_back().copied();
        let known = self.entry.conversation.last_message.as_ref().map(|m| m.index);
        held.max(known)
    }

    /// The user's read horizon, if set.
    pub fn read_horizon(&self) -> Option<i64> {
        self.entry.user_state.as_ref().and_then(|u| u.last_read_message_index)
    }
}

/// Everything one front end holds. Records of conversations are never
/// dropped (handles keep reading them); leaving one forgets its contents.
#[derive(Debug)]
pub struct Model {
    identity: String,
    scope: Scope,
    pub(super) convs: HashMap<String, ConvState>,
    /// Those typing now, by (conversation SID, identity).
    pub(super) typing: BTreeMap<(String, String), Participant>,
    users: HashMap<String, User>,
    /// Conversations a UI opened before they were known (opened by the next resync).
    pub pending_opens: HashSet<String>,
    /// Our writes whose stream echo is still due (see `echo.rs`).
    pub echoes: Echoes,
}

impl Model {
    pub fn new(identity: String, scope: Scope) -> Self {
        Self {
            identity,
            scope,
            convs: HashMap::new(),
            typing: BTreeMap::new(),
            users: HashMap::new(),
            pending_opens: HashSet::new(),
            echoes: Echoes::default(),
        }
    }

    /// The signed-in identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    pub fn conv(&self, sid: &str) -> Option<&ConvState> {
        self.convs.get(sid)
    }

    pub fn conv_mut(&mut self, sid: &str) -> Option<&mut ConvState> {
        self.convs.get_mut(sid)
    }

    /// Every conversation record, members or not.
    pub fn convs(&self) -> impl Iterator<Item = (&String, &ConvState)> {
        self.convs.iter()
    }

    pub fn is_member(&self, sid: &str) -> bool {
        self.convs.get(sid).is_some_and(ConvState::is_member)
    }

    /// The user's conversations as a list shows them: most recent activity first.
    pub fn entries(&self) -> Vec<ConversationEntry> {
        let mut list: Vec<ConversationEntry> =
            self.convs.values().filter(|c| c.is_member()).map(|c| c.entry.clone()).collect();
        let activity = |e: &ConversationEntry| {
            let c = &e.conversation;
            c.last_message.as_ref().map(|m| m.date_created.clone()).unwrap_or_else(|| c.date_updated.clone())
        };
        list.sort_by(|a, b| activity(b).cmp(&activity(a)).then_with(|| a.conversation.sid.cmp(&b.conversation.sid)));
        list
    }

    /// Applies a new version of a conversation and/or of the user's state in it
    /// (`user: Some(None)`: no longer participating). Reports `ConversationAdded`
    /// when it became the user's, `ConversationRemoved` when it stopped being so,
    /// else `ConversationUpdated` when anything differs.
    pub fn upsert_conversation(
        &mut self,
        sid: &str,
        conversation: Option<Conversation>,
        user: Option<Option<UserConversation>>,
    ) -> Vec<Change> {
        let Some(state) = self.convs.get_mut(sid) else {
            let Some(conversation) = conversation else { return Vec::new() };
            let entry = ConversationEntry { conversation, user_state: user.flatten() };
            let member = entry.user_state.is_some();
            self.convs.insert(sid.to_owned(), ConvState::new(entry.clone()));
            return if member { vec![Change::ConversationAdded(entry)] } else { Vec::new() };
        };
        let old = state.entry.clone();
        if let Some(mut c) = conversation {
            // A conversation event may lag a message already applied: its
            // last message never moves back.
            let held = &state.entry.conversation.last_message;
            if held.as_ref().is_some_and(|h| c.last_message.as_ref().is_none_or(|n| n.index < h.index)) {
                c.last_message = held.clone();
            }
            state.entry.conversation = c;
        }
        if let Some(u) = user {
            state.entry.user_state = u;
        }
        let new = state.entry.clone();
        match (old.user_state.is_some(), new.user_state.is_some()) {
            (false, true) => vec![Change::ConversationAdded(new)],
            (true, false) => {
                state.window.clear();
                state.roster.clear();
                state.roster_complete = false;
                state.opened = false;
                self.typing.retain(|(c, _), _| c != sid);
                vec![Change::ConversationRemoved(new)]
            }
            (true, true) if new != old => vec![Change::ConversationUpdated { old, new }],
            _ => Vec::new(),
        }
    }

    /// Replaces the list after a (re)sync: every conversation read is applied,
    /// those the user no longer participates in are removed. `states` holds the
    /// user's state per conversation SID.
    pub fn replace_list(
        &mut self,
        conversations: Vec<Conversation>,
        mut states: HashMap<String, UserConversation>,
    ) -> Change {
        let mut changes = Vec::new();
        let mut members = HashSet::new();
        for c in conversations {
            let sid = c.sid.clone();
            let state = states.remove(&sid);
            if state.is_some() {
                members.insert(sid.clone());
            }
            changes.extend(self.upsert_conversation(&sid, Some(c), Some(state)));
        }
        let gone: Vec<String> =
            self.convs.iter().filter(|(s, c)| c.is_member() && !members.contains(*s)).map(|(s, _)| s.clone()).collect();
        for sid in gone {
            changes.extend(self.upsert_conversation(&sid, None, Some(None)));
        }
        Change::List { entries: self.entries(), changes }
    }

    /// Applies a user resource; reports it when it differs from the one held.
    pub fn apply_user(&mut self, user: User) -> Vec<Change> {
        let old = self.users.insert(user.identity.clone(), user.clone());
        if old.as_ref() == Some(&user) {
            return Vec::new();
        }
        vec![Change::UserUpdated { old, new: user }]
    }

    // --- typing ------------------------------------------------------------

    /// Someone else started typing in one of the user's conversations.
    pub fn start_typing(&mut self, p: Participant) -> Vec<Change> {
        let Some(identity) = p.identity.clone() else { return Vec::new() };
        if identity == self.identity || !self.is_member(&p.conversation_sid) {
            return Vec::new();
        }
        match self.typing.insert((p.conversation_sid.clone(), identity), p.clone()) {
            None => vec![Change::TypingStarted(p)],
            Some(_) => Vec::new(),
        }
    }

    pub fn stop_typing(&mut self, conversation_sid: &str, identity: &str) -> Vec<Change> {
        match self.typing.remove(&(conversation_sid.to_owned(), identity.to_owned())) {
            Some(p) => vec![Change::TypingEnded(p)],
            None => Vec::new(),
        }
    }

    /// Ends every typing indicator (the connection that would end them is gone).
    pub fn clear_typing(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.typing).into_values().map(Change::TypingEnded).collect()
    }

    pub fn is_typing(&self, conversation_sid: &str, identity: &str) -> bool {
        self.typing.contains_key(&(conversation_sid.to_owned(), identity.to_owned()))
    }
}

#[cfg(test)]
pub(super) mod tests {
    use serde_json::json;

    use super::*;

    pub fn conversation(sid: &str, last: Option<i64>) -> Conversation {
        serde_json::from_value(json!({
            "account_sid": "AC1", "chat_service_sid": "IS1", "messaging_service_sid": null,
            "sid": sid, "friendly_name": "f", "unique_name": null, "attributes": "{}", "state": "active",
            "date_created": "2026-01-01T00:00:00Z", "date_updated": "2026-01-01T00:00:00Z", "timers": {},
            "url": "u", "links": {}, "bindings": null,
            "last_message": last.map(|i| json!({"index": i, "date_created": "2026-01-01T00:00:00Z"})),
        }))
        .unwrap()
    }

    pub fn state(sid: &str, horizon: Option<i64>, unread: Option<i64>) -> UserConversation {
        serde_json::from_value(json!({
            "account_sid": "AC1", "chat_service_sid": "IS1", "conversation_sid": sid,
            "unread_messages_count": unread, "last_read_message_index": horizon, "participant_sid": "MB1",
            "user_sid": "US1", "friendly_name": null, "conversation_state": "active", "timers": {},
            "attributes": "{}", "date_created": "2026-01-01T00:00:00Z", "date_updated": "2026-01-01T00:00:00Z",
            "created_by": "a", "notification_level": "default", "unique_name": null, "url": "u", "links": {},
        }))
        .unwrap()
    }

    pub fn message(sid: &str, index: i64, body: &str) -> Message {
        serde_json::from_value(json!({
            "account_sid": "AC1", "conversation_sid": sid, "sid": format!("IM{index}"), "index": index,
            "author": "a", "body": body, "media": null, "attributes": "{}", "participant_sid": null,
            "date_created": "2026-01-01T00:00:00Z", "date_updated": null, "url": "u", "delivery": null,
            "links": {}, "content_sid": null,
        }))
        .unwrap()
    }

    pub fn participant(conversation: &str, sid: &str, identity: &str) -> Participant {
        serde_json::from_value(json!({
            "account_sid": "AC1", "chat_service_sid": "IS1", "conversation_sid": conversation, "sid": sid,
            "identity": identity, "attributes": "{}", "messaging_binding": null, "role_sid": null,
            "date_created": "2026-01-01T00:00:00Z", "date_updated": "2026-01-01T00:00:00Z", "url": "u",
            "last_read_message_index": null, "last_read_timestamp": null,
        }))
        .unwrap()
    }

    pub fn model_with(scope: Scope, horizon: Option<i64>, unread: Option<i64>) -> Model {
        let mut m = Model::new("me".into(), scope);
        let states = HashMap::from([("CH1".to_owned(), state("CH1", horizon, unread))]);
        m.replace_list(vec![conversation("CH1", Some(4))], states);
        m
    }

    #[test]
    fn joining_leaving_and_updating_are_reported_once_each() {
        let mut m = Model::new("me".into(), Scope::View);
        assert!(m.upsert_conversation("CH1", Some(conversation("CH1", None)), None).is_empty(), "not a member");
        let added = m.upsert_conversation("CH1", None, Some(Some(state("CH1", None, None))));
        assert!(matches!(added[..], [Change::ConversationAdded(_)]), "{added:?}");
        assert!(m.upsert_conversation("CH1", Some(conversation("CH1", None)), None).is_empty(), "nothing changed");
        let renamed = Conversation { friendly_name: Some("g".into()), ..conversation("CH1", None) };
        assert!(matches!(m.upsert_conversation("CH1", Some(renamed), None)[..], [Change::ConversationUpdated { .. }]));
        assert!(matches!(m.upsert_conversation("CH1", None, Some(None))[..], [Change::ConversationRemoved(_)]));
        assert!(m.upsert_conversation("CH1", None, Some(None)).is_empty(), "removed twice");
        assert!(m.entries().is_empty());
    }

    #[test]
    fn a_lagging_conversation_event_does_not_move_last_message_back() {
        let mut m = model_with(Scope::View, None, None);
        m.upsert_message(message("CH1", 9, "new"), true);
        m.upsert_conversation("CH1", Some(conversation("CH1", Some(7))), None);
        assert_eq!(m.convs["CH1"].entry.conversation.last_message.as_ref().unwrap().index, 9);
    }

    #[test]
    fn a_resync_list_removes_what_the_user_left() {
        let mut m = model_with(Scope::View, None, None);
        let Change::List { entries, changes } = m.replace_list(
            vec![conversation("CH2", None)],
            HashMap::from([("CH2".to_owned(), state("CH2", None, None))]),
        ) else {
            panic!("not a list")
        };
        assert_eq!(entries.iter().map(|e| e.conversation.sid.as_str()).collect::<Vec<_>>(), ["CH2"]);
        assert!(changes.iter().any(|c| matches!(c, Change::ConversationRemoved(e) if e.conversation.sid == "CH1")));
    }

    #[test]
    fn typing_is_reported_only_on_change_and_clears_on_disconnect() {
        let mut m = model_with(Scope::View, None, None);
        assert_eq!(m.start_typing(participant("CH1", "MB2", "bob")).len(), 1);
        assert!(m.start_typing(participant("CH1", "MB2", "bob")).is_empty());
        assert!(m.start_typing(participant("CH1", "MB1", "me")).is_empty(), "one's own typing is not shown");
        assert_eq!(m.clear_typing().len(), 1);
        assert!(m.stop_typing("CH1", "bob").is_empty());
    }

    #[test]
    fn a_user_is_reported_when_first_seen_and_when_changed() {
        let mut m = Model::new("me".into(), Scope::Cache);
        let u: User = serde_json::from_value(json!({
            "sid": "US1", "account_sid": "AC1", "chat_service_sid": "IS1", "identity": "me",
            "friendly_name": null, "attributes": "{}", "is_online": null, "is_notifiable": null,
            "role_sid": null, "date_created": "2026-01-01T00:00:00Z", "date_updated": "2026-01-01T00:00:00Z",
            "url": "u", "links": {},
        }))
        .unwrap();
        assert_eq!(m.apply_user(u.clone()).len(), 1);
        assert!(m.apply_user(u.clone()).is_empty());
        assert_eq!(m.apply_user(User { friendly_name: Some("Me".into()), ..u }).len(), 1);
    }
}
