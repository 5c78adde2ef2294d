//! What the model reports when something really changed. Both front ends
//! render these: the `Client` as typed `Event`s (with update reasons from the
//! old and new values), the sync task as `Diff`s for a UI.

use crate::api::{Conversation, Message, Participant, User, UserConversation};
use crate::sdk::wire::connection::ConnectionState;

/// A conversation as the list shows it: the resource plus the user's own state.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationEntry {
    pub conversation: Conversation,
    /// Unread count, read horizon and notification level of the signed-in user;
    /// `None` when the user does not participate.
    pub user_state: Option<UserConversation>,
}

/// One real change, in the order it happened.
// Variants stay unboxed so front ends match on them directly; a change is
// moved to its sink once, so its size costs a copy, not memory held.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Change {
    Connection(ConnectionState),
    TokenAboutToExpire,
    TokenExpired,
    /// A failure the person should read about.
    Error(String),
    /// The conversation list was re-read: `entries` is the whole list now
    /// (most recent activity first), `changes` what differed conversation by conversation.
    List {
        entries: Vec<ConversationEntry>,
        changes: Vec<Change>,
    },
    /// A conversation became the user's (joined, created, added).
    ConversationAdded(ConversationEntry),
    ConversationUpdated {
        old: ConversationEntry,
        new: ConversationEntry,
    },
    /// The conversation was deleted, or the user left it.
    ConversationRemoved(ConversationEntry),
    MessageAdded(Message),
    /// An edit; `old` is the version held before, if one was.
    MessageUpdated {
        old: Option<Message>,
        new: Message,
    },
    MessageRemoved(Message),
    ParticipantJoined(Participant),
    ParticipantUpdated {
        old: Option<Participant>,
        new: Participant,
    },
    ParticipantLeft(Participant),
    /// A conversation's roster was read whole: `participants` is all of it,
    /// `changes` what differed from the roster held before (none the first time).
    Roster {
        conversation_sid: String,
        participants: Vec<Participant>,
        changes: Vec<Change>,
    },
    /// A page of history asked for, in ascending index order (a UI's view only).
    MessagesLoaded {
        conversation_sid: String,
        messages: Vec<Message>,
        has_older: bool,
        has_newer: bool,
    },
    TypingStarted(Participant),
    TypingEnded(Participant),
    /// A user resource changed (or was seen the first time: `old` is `None`).
    UserUpdated {
        old: Option<User>,
        new: User,
    },
}
