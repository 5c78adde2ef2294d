//! The sync task's sink: each model `Change` as the `Diff` a UI applies, sent
//! on the bounded diff channel (awaited, so a UI that stops reading stalls
//! the engine rather than growing a buffer).

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use super::protocol::Diff;
use crate::sdk::engine::Sink;
use crate::sdk::state::change::Change;

pub(super) struct DiffSink {
    tx: mpsc::Sender<Diff>,
    identity: String,
}

impl DiffSink {
    pub(super) fn new(tx: mpsc::Sender<Diff>, identity: String) -> Self {
        Self { tx, identity }
    }

    /// The diff of one change, if a UI is told of it.
    fn diff(&self, change: Change) -> Option<Diff> {
        Some(match change {
            Change::Connection(s) => Diff::Connection(s),
            Change::TokenAboutToExpire => Diff::TokenAboutToExpire,
            Change::TokenExpired => Diff::TokenExpired,
            Change::Error(text) => Diff::Error(text),
            Change::List { entries, .. } => Diff::Conversations(entries),
            Change::ConversationAdded(entry) | Change::ConversationUpdated { new: entry, .. } => {
                Diff::ConversationUpserted(entry)
            }
            Change::ConversationRemoved(entry) => {
                Diff::ConversationRemoved { conversation_sid: entry.conversation.sid }
            }
            Change::MessageAdded(m) | Change::MessageUpdated { new: m, .. } => Diff::MessageUpserted(m),
            Change::MessageRemoved(m) => {
                Diff::MessageRemoved { conversation_sid: m.conversation_sid, message_sid: m.sid, index: m.index }
            }
            Change::ParticipantJoined(p) | Change::ParticipantUpdated { new: p, .. } => Diff::ParticipantUpserted(p),
            Change::ParticipantLeft(p) => {
                Diff::ParticipantRemoved { conversation_sid: p.conversation_sid, participant_sid: p.sid }
            }
            Change::Roster { conversation_sid, participants, .. } => {
                Diff::Participants { conversation_sid, participants }
            }
            Change::MessagesLoaded { conversation_sid, messages, has_older, has_newer } => {
                Diff::MessagesLoaded { conversation_sid, messages, has_older, has_newer }
            }
            Change::TypingStarted(p) => typing(p, true)?,
            Change::TypingEnded(p) => typing(p, false)?,
            Change::UserUpdated { new, .. } if new.identity == self.identity => Diff::Me(new),
            Change::UserUpdated { new, .. } => Diff::UserUpdated(new),
        })
    }
}

fn typing(p: crate::api::Participant, typing: bool) -> Option<Diff> {
    Some(Diff::Typing { conversation_sid: p.conversation_sid, identity: p.identity?, typing })
}

impl Sink for DiffSink {
    fn deliver(&self, changes: Vec<Change>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            for change in changes {
                if let Some(diff) = self.diff(change) {
                    // A closed channel means the UI is gone; the task notices and stops.
                    let _ = self.tx.send(diff).await;
                }
            }
        })
    }
}
