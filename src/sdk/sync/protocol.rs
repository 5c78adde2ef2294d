//! The contract between the background sync task and a UI: the commands a UI
//! sends (`Command`) and the diffs of the model it gets back (`Diff`), both over
//! tokio mpsc channels. A UI keeps its own copy of the model and applies each
//! diff in order, so it can render as a pure function of that state; it never
//! talks HTTP or WebSocket itself.
//!
//! The sync task owns: the user's conversations (with their per-user state:
//! unread count, read horizon, notification level), each open conversation's
//! participants, and a window of recent messages per conversation. Message
//! pages are fetched on request (`Command::LoadOlder` / `LoadNewer`) and answered
//! with `Diff::MessagesLoaded`; live messages arrive as `Diff::MessageUpserted`.
//! Search (`Command::Search`) answers with `Diff::SearchResults`, and
//! `Command::OpenAt` opens a conversation around a hit however far back it is.

use std::path::PathBuf;

use crate::sdk::rules::rich::ReplyTo;
use crate::sdk::state::change::ConversationEntry;
use crate::sdk::wire::connection::ConnectionState;

use crate::api::{Message, NotificationLevel, Participant, User};

/// A command from the UI to the sync task. Each carries what it acts on; the
/// result comes back as diffs (and, on failure, `Diff::Error`).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Fetch the newest page of messages and the participants of a conversation,
    /// and keep its window fresh from now on.
    Open {
        conversation_sid: String,
    },
    /// Fetch up to `count` messages with index < `before_index` (older history).
    LoadOlder {
        conversation_sid: String,
        before_index: i64,
        count: u32,
    },
    /// Fetch up to `count` messages with index > `after_index` (coming back down
    /// after far pages were dropped).
    LoadNewer {
        conversation_sid: String,
        after_index: i64,
        count: u32,
    },
    /// Forget messages outside `[keep_from, keep_to]` for this conversation (the
    /// UI caps memory; it asks again with LoadOlder/LoadNewer on return).
    Trim {
        conversation_sid: String,
        keep_from: i64,
        keep_to: i64,
    },
    /// Send a message as the signed-in user. Queued while offline and retried with
    /// an Idempotency-Key, so it lands exactly once.
    Send {
        conversation_sid: String,
        body: String,
        attributes: Option<String>,
    },
    /// Send `body` as a reply: like `Send`, with `attributes.reply_to` = `to`
    /// (`sdk::rules::rich`), queued and retried the same way.
    Reply {
        conversation_sid: String,
        body: String,
        to: ReplyTo,
    },
    /// Upload the file at `path` (streamed, never read whole into memory) to the
    /// service's media store, then send a message with it attached (body
    /// optional; reply_to optional). Queued while offline like Send. Progress
    /// comes back as `Diff::UploadProgress`; the message as `MessageUpserted`.
    SendMedia {
        conversation_sid: String,
        path: PathBuf,
        body: Option<String>,
        reply_to: Option<ReplyTo>,
    },
    /// Add the signed-in user's reaction (the server's atomic Reactions endpoint).
    React {
        conversation_sid: String,
        message_sid: String,
        reaction: String,
    },
    /// Remove the signed-in user's reaction.
    Unreact {
        conversation_sid: String,
        message_sid: String,
        reaction: String,
    },
    /// Download a media's content to `dest` (written to a temporary name beside
    /// it, then renamed). Answered with `Diff::MediaFetched`, or `Diff::Error`.
    FetchMedia {
        conversation_sid: String,
        media_sid: String,
        dest: PathBuf,
    },
    /// Edit the body of a message (own messages only).
    Edit {
        conversation_sid: String,
        message_sid: String,
        body: String,
    },
    /// Delete a message (own messages only).
    Delete {
        conversation_sid: String,
        message_sid: String,
    },
    /// The user is typing (sent at most once per Twilio's 5 s typing timeout;
    /// send it on every keystroke).
    Typing {
        conversation_sid: String,
    },
    /// Move the read horizon forward to `index` (never back).
    AdvanceRead {
        conversation_sid: String,
        index: i64,
    },
    /// Read everything: horizon to the newest message.
    MarkAllRead {
        conversation_sid: String,
    },
    /// Clear the read horizon: everything unread.
    MarkAllUnread {
        conversation_sid: String,
    },
    SetNotificationLevel {
        conversation_sid: String,
        level: NotificationLevel,
    },
    /// Create a conversation (and join it). `unique_name` optional.
    Create {
        friendly_name: String,
        unique_name: Option<String>,
    },
    /// Join a conversation by SID or unique name.
    Join {
        sid_or_unique_name: String,
    },
    Leave {
        conversation_sid: String,
    },
    AddParticipant {
        conversation_sid: String,
        identity: String,
    },
    RemoveParticipant {
        conversation_sid: String,
        identity: String,
    },
    Rename {
        conversation_sid: String,
        friendly_name: String,
    },
    /// Check the connection now (e.g. the terminal regained focus after sleep);
    /// reconnects and resyncs at once if it is down.
    CheckConnection,
    UpdateToken {
        token: String,
    },
    Shutdown,
    /// Tell of this user (e.g. the other person of a 1:1 conversation):
    /// fetched now and after each reconnect, kept current by the stream,
    /// answered with `Diff::UserUpdated`. Participants of open conversations
    /// are told of without asking.
    WatchUser {
        identity: String,
    },
    /// Full-text search of the messages the user may read (the server's
    /// `GET /v1/Search/Messages`), within one conversation when
    /// `conversation_sid` is set; `page_token` (from a previous
    /// `Diff::SearchResults`) continues to older hits. `request` is echoed back.
    Search {
        request: u64,
        query: String,
        conversation_sid: Option<String>,
        page_token: Option<String>,
    },
    /// Open a conversation at message `index`, however far back: its
    /// participants and a page of history on each side of the index, answered
    /// as `Diff::MessagesLoaded` (with `has_older` / `has_newer`) like `Open`.
    /// The window held before is dropped; LoadOlder / LoadNewer page on from it.
    OpenAt {
        conversation_sid: String,
        index: i64,
    },
}

/// A change to the model, sent by the sync task to the UI.
// Variants stay unboxed so a UI can match on them directly; a diff is moved
// through a channel once, so its size costs a copy, not memory held.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Diff {
    Connection(ConnectionState),
    /// The signed-in user (sent once at start, and when it changes).
    Me(User),
    /// The full list of the user's conversations, sent after each (re)sync.
    /// Replaces whatever the UI held.
    Conversations(Vec<ConversationEntry>),
    /// A conversation was added or changed.
    ConversationUpserted(ConversationEntry),
    /// The conversation was deleted, or the user left it.
    ConversationRemoved {
        conversation_sid: String,
    },
    /// Participants of a conversation, complete (after Open or a resync).
    Participants {
        conversation_sid: String,
        participants: Vec<Participant>,
    },
    ParticipantUpserted(Participant),
    ParticipantRemoved {
        conversation_sid: String,
        participant_sid: String,
    },
    /// A page of history in ascending index order. `has_older` says whether
    /// messages older than the first one exist; `has_newer` likewise.
    MessagesLoaded {
        conversation_sid: String,
        messages: Vec<Message>,
        has_older: bool,
        has_newer: bool,
    },
    /// A message was added (live) or edited.
    MessageUpserted(Message),
    MessageRemoved {
        conversation_sid: String,
        message_sid: String,
        index: i64,
    },
    Typing {
        conversation_sid: String,
        identity: String,
        typing: bool,
    },
    /// How far an upload of `Command::SendMedia` is: at most ~10 per second per
    /// upload, and a last one with `sent == total` once the server has it all.
    UploadProgress {
        conversation_sid: String,
        path: PathBuf,
        sent: u64,
        total: u64,
    },
    /// The content of `media_sid` is at `dest` now. Failures come as `Diff::Error`.
    MediaFetched {
        media_sid: String,
        dest: PathBuf,
    },
    /// A command failed or the server said something the user should read.
    Error(String),
    /// The access token expires soon: send `Command::UpdateToken`.
    TokenAboutToExpire,
    /// The access token expired; the connection is down until it is replaced.
    TokenExpired,
    /// A user the UI is shown (a participant of an open conversation, or one
    /// it watches) was fetched or changed: reachability (`is_online`, null
    /// when the server does not report it), friendly name, attributes.
    /// The signed-in user comes as `Me`.
    UserUpdated(User),
    /// A page of hits for `Command::Search` number `request`, newest first;
    /// `next_page_token` asks for the next (older) page. A failed search comes
    /// as `Diff::Error` instead.
    SearchResults {
        request: u64,
        messages: Vec<Message>,
        next_page_token: Option<String>,
    },
}

/// What the sync task needs to start. `sdk::sync::spawn(config)` returns a
/// `SyncHandle` at once, without waiting for the network: the first diffs are
/// `Connection(Connecting)` and, once the server answers, `Me`, `Conversations`.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Base URL of the server, e.g. `http://127.0.0.1:8787`.
    pub server_url: String,
    /// An access token for the signed-in user.
    pub token: String,
    /// Messages per page for Open/LoadOlder/LoadNewer defaults.
    pub page_size: u32,
}

/// The UI's ends of the channels to a running sync task. Dropping `commands`
/// (or sending `Command::Shutdown`) stops the task.
#[derive(Debug)]
pub struct SyncHandle {
    pub commands: tokio::sync::mpsc::UnboundedSender<Command>,
    pub diffs: tokio::sync::mpsc::Receiver<Diff>,
}
