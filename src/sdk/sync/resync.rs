//! Bringing the model up to date: the full resync after each (re)connect, and
//! applying each live stream frame. Both go through the model's compare-then-
//! diff functions, so overlaps between the two produce no duplicate diffs.

use std::collections::HashMap;

use super::Task;
use crate::api::stream::ServerEvent;
use crate::api::{Message, UserConversation};
use crate::sdk::echo::EchoKey;
use crate::sdk::error::Result;
use crate::sdk::events::Incoming;
use crate::sdk::sync_protocol::{ConversationEntry, Diff};

/// How many of the newest held messages a resync re-reads to catch edits and
/// deletions made while offline (everything newer is read regardless).
const RECHECK_WINDOW: usize = 200;

impl Task {
    /// Re-reads the user, the conversation list with the user's state in each,
    /// the rosters of opened conversations and every message after the newest
    /// held one; sends the diffs of whatever changed.
    pub(super) async fn resync(&mut self) -> Result<()> {
        self.echoes.clear();
        match self.rest.get_user(&self.identity).await {
            Ok(user) => {
                if let Some(d) = self.model.set_me(user) {
                    self.emit(d).await;
                }
            }
            Err(e) if e.status() == Some(404) => {}
            Err(e) => return Err(e),
        }
        // The newest index known before the list replaces the old one: messages up
        // to it were seen (held, or trimmed away by the UI); the gap starts after it.
        let known_newest: HashMap<String, Option<i64>> =
            self.model.convs.iter().map(|(sid, m)| (sid.clone(), m.newest_index())).collect();
        let (convs, states) =
            tokio::try_join!(self.rest.list_conversations(), self.rest.list_user_conversations(&self.identity))?;
        let mut states: HashMap<String, UserConversation> =
            states.into_iter().map(|s| (s.conversation_sid.clone(), s)).collect();
        let entries: Vec<ConversationEntry> = convs
            .into_iter()
            .map(|c| {
                let user_state = states.remove(&c.sid);
                ConversationEntry { conversation: c, user_state }
            })
            .collect();
        let list = self.model.replace_conversations(entries);
        self.emit(list).await;
        for sid in std::mem::take(&mut self.pending_opens) {
            match self.model.convs.get_mut(&sid) {
                Some(model) => model.opened = true,
                None => self.emit(Diff::Error(format!("open: unknown conversation {sid}"))).await,
            }
        }

        let sids: Vec<String> = self.model.convs.keys().cloned().collect();
        for sid in sids {
            let Some(model) = self.model.convs.get(&sid) else { continue };
            let opened = model.opened;
            if opened {
                let participants = self.rest.list_participants(&sid).await?;
                if let Some(d) = self.model.set_participants(&sid, participants) {
                    self.emit(d).await;
                }
            }
            let Some(model) = self.model.convs.get(&sid) else { continue };
            if model.messages.is_empty() {
                if opened {
                    self.load_newest(&sid).await?;
                }
                continue;
            }
            // Re-read from the oldest of the newest RECHECK_WINDOW held messages on.
            let recheck = RECHECK_WINDOW.min(model.messages.len());
            let from = *model.messages.keys().rev().nth(recheck - 1).expect("not empty");
            let newest_held = *model.messages.keys().next_back().expect("not empty");
            let held: Vec<(i64, String)> = model.messages.range(from..).map(|(i, m)| (*i, m.sid.clone())).collect();
            let gap_from = known_newest.get(&sid).copied().flatten().unwrap_or(newest_held).max(newest_held);
            // The server's newest index, read after the stream opened: anything
            // newer comes over the stream.
            let through = model.entry.conversation.last_message.as_ref().map(|m| m.index);
            // Re-check what is held (edits, deletions), then read the gap after
            // everything seen before (the UI may have trimmed the newest away).
            let mut fresh = self.rest.messages_range(&sid, from - 1, newest_held).await?;
            if let Some(through) = through.filter(|t| *t > gap_from) {
                fresh.extend(self.rest.messages_range(&sid, gap_from, through).await?);
            }
            let mut diffs = Vec::new();
            let present: std::collections::HashSet<i64> = fresh.iter().map(|m| m.index).collect();
            for (index, message_sid) in held {
                if !present.contains(&index) {
                    diffs.extend(self.model.remove_message(&sid, &message_sid, index));
                }
            }
            for m in fresh {
                let live = m.index > newest_held;
                self.model.upsert_message(m, live, &mut diffs);
            }
            self.emit_all(diffs).await;
        }
        Ok(())
    }

    /// The newest page of a conversation, as `MessagesLoaded`.
    pub(super) async fn load_newest(&mut self, sid: &str) -> Result<()> {
        let slice = self.rest.messages_before(sid, None, self.page_size).await?;
        self.loaded(sid, slice.messages, slice.more, false).await;
        Ok(())
    }

    /// Holds a page and tells the UI.
    pub(super) async fn loaded(&mut self, sid: &str, messages: Vec<Message>, has_older: bool, has_newer: bool) {
        self.model.hold_page(sid, &messages);
        self.emit(Diff::MessagesLoaded { conversation_sid: sid.to_owned(), messages, has_older, has_newer }).await;
    }

    /// Applies one stream frame.
    pub(super) async fn frame(&mut self, ev: ServerEvent) {
        let Some(incoming) = Incoming::decode(ev) else { return };
        let mut diffs = Vec::new();
        match incoming {
            Incoming::ConversationAdded(c) => {
                let sid = c.sid.clone();
                let state = self.rest.get_user_conversation(&self.identity, &sid).await.ok();
                diffs.extend(self.model.upsert_conversation(Some(c), state, &sid));
            }
            Incoming::ConversationUpdated(c) => {
                let sid = c.sid.clone();
                if self.model.convs.contains_key(&sid) && self.echoes.admit(EchoKey::conversation(&c)) {
                    diffs.extend(self.model.upsert_conversation(Some(c), None, &sid));
                }
            }
            Incoming::ConversationRemoved(c) => diffs.extend(self.model.remove_conversation(&c.sid)),
            Incoming::MessageAdded(m) => {
                if let Some(author) = m.author.clone() {
                    diffs.extend(self.model.set_typing(&m.conversation_sid, &author, false));
                }
                self.model.upsert_message(m, true, &mut diffs);
            }
            Incoming::MessageUpdated(m) => {
                if self.echoes.admit(EchoKey::message(&m)) {
                    self.model.upsert_message(m, false, &mut diffs)
                }
            }
            Incoming::MessageRemoved(m) => {
                diffs.extend(self.model.remove_message(&m.conversation_sid, &m.sid, m.index));
            }
            Incoming::ParticipantJoined(p) | Incoming::ParticipantUpdated(p) => {
                diffs.extend(self.model.upsert_participant(p))
            }
            Incoming::ParticipantLeft(p) => {
                if let Some(identity) = &p.identity {
                    diffs.extend(self.model.set_typing(&p.conversation_sid, identity, false));
                    if *identity == self.identity {
                        diffs.extend(self.model.remove_conversation(&p.conversation_sid));
                    }
                }
                diffs.extend(self.model.remove_participant(&p.conversation_sid, &p.sid));
            }
            Incoming::TypingStarted(p) => {
                if let Some(identity) = p.identity.filter(|i| *i != self.identity) {
                    diffs.extend(self.model.set_typing(&p.conversation_sid, &identity, true));
                }
            }
            Incoming::TypingEnded(p) => {
                if let Some(identity) = &p.identity {
                    diffs.extend(self.model.set_typing(&p.conversation_sid, identity, false));
                }
            }
            Incoming::UserConversationUpdated(uc) => {
                let sid = uc.conversation_sid.clone();
                if self.model.convs.contains_key(&sid) && self.echoes.admit(EchoKey::user_state(&uc)) {
                    diffs.extend(self.model.upsert_conversation(None, Some(uc), &sid));
                }
            }
            Incoming::UserUpdated(u) => {
                if u.identity == self.identity {
                    diffs.extend(self.model.set_me(u));
                }
            }
        }
        self.emit_all(diffs).await;
    }
}
