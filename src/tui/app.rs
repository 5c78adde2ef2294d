//! The client's whole state: the conversation list, one `Room` per opened
//! conversation (a capped window of messages, participants, typing), focus,
//! composer, status and pending timers. Drawing is a function of this state and
//! `update` is the only code that changes it; commands for the sync task are
//! queued in `outbox` so reducers stay synchronous and testable.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use ratatui::text::Line;
use ratatui_textarea::TextArea;

use crate::api::{Message, NotificationLevel, Participant};
use crate::config::{Settings, SortOrder};
use crate::sdk::{Command, ConnectionState, ConversationEntry};

use super::images::Images;
use super::keymap::Keymap;
use super::rich::Rich;
use super::sanitize;
use super::theme::Theme;
use super::transfers::Transfers;

/// Which pane receives keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Messages,
    Composer,
}

/// A message as the pane needs it: sanitized once, on arrival.
#[derive(Debug, Clone, PartialEq)]
pub struct Msg {
    pub sid: String,
    pub index: i64,
    pub author: String,
    pub body: String,
    /// Unix seconds.
    pub created: i64,
    pub edited: bool,
    /// The wire `date_updated`, part of the wrap cache key.
    pub stamp: String,
    /// Reply, reactions and attachments (`rich`).
    pub rich: Rich,
}

impl Msg {
    pub fn from_api(m: &Message) -> Msg {
        let created = crate::api::time::parse_unix(&m.date_created).unwrap_or(0);
        let edited = m.date_updated.as_deref().is_some_and(|u| u != m.date_created);
        let body = match (&m.body, &m.media) {
            (Some(b), _) => sanitize::text(b),
            (None, _) => String::new(),
        };
        Msg {
            sid: m.sid.clone(),
            index: m.index,
            author: sanitize::line(m.author.as_deref().unwrap_or("system")),
            body,
            created,
            edited,
            stamp: m.date_updated.clone().unwrap_or_else(|| m.date_created.clone()),
            rich: Rich::from_api(m),
        }
    }
}

/// Where the message pane's top row is: row `row` of message `index`'s block.
/// `None` in `Room::anchor` means "follow the newest message".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub index: i64,
    pub row: usize,
}

/// A message's wrapped lines, valid for one width and one edit of the message.
#[derive(Debug, Clone)]
pub struct Wrapped {
    pub width: u16,
    pub stamp: String,
    pub lines: Vec<Line<'static>>,
    /// Image previews among `lines`: (first row, media SID), each
    /// `images::PREVIEW_ROWS` rows of blank space the pane draws into.
    pub previews: Vec<(usize, String)>,
}

/// One conversation's loaded window and what the view knows about it.
#[derive(Debug, Default)]
pub struct Room {
    pub messages: BTreeMap<i64, Msg>,
    /// Older messages than the first loaded one exist on the server.
    pub has_older: bool,
    /// Newer messages than the last loaded one exist (the window was trimmed).
    pub has_newer: bool,
    /// A LoadOlder / LoadNewer is in flight (answered by MessagesLoaded).
    pub loading_older: bool,
    pub loading_newer: bool,
    /// The first page arrived.
    pub loaded: bool,
    pub participants: BTreeMap<String, Participant>,
    /// Identity → typing. Expiry is the server's; see `update` for the local guard.
    pub typing: BTreeMap<String, Instant>,
    pub anchor: Option<Anchor>,
    /// Messages that arrived while scrolled up.
    pub new_below: usize,
    /// Where the "new messages" line goes: the first index after the read
    /// horizon when the conversation was opened.
    pub first_unread: Option<i64>,
    /// Seeking the first unread / oldest message: keep loading older pages until it is loaded.
    pub seek: Option<i64>,
    pub wrap_cache: HashMap<String, Wrapped>,
    /// Marked unread by the user: don't advance the horizon until they come back to it.
    pub keep_unread: bool,
    /// The message acted on by reply, react, edit, … (`select`), by index.
    pub selected: Option<i64>,
}

impl Room {
    pub fn first_index(&self) -> Option<i64> {
        self.messages.keys().next().copied()
    }
    pub fn last_index(&self) -> Option<i64> {
        self.messages.keys().next_back().copied()
    }
}

/// A message for the status bar, shown until it is replaced or times out.
#[derive(Debug, Clone)]
pub struct Status {
    pub text: String,
    pub error: bool,
    pub until: Instant,
}

/// A read horizon waiting for its debounce to expire.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRead {
    pub conversation_sid: String,
    pub index: i64,
    pub due: Instant,
}

/// The size of the message pane at the last draw (paging needs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaneSize {
    pub width: u16,
    pub height: u16,
}

/// What a row of the switcher stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SwitchTarget {
    Conversation(String),
    Person(String),
}

/// One row of the switcher: what it opens, its label (sanitized) and the
/// label's matched char positions, to mark them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchItem {
    pub target: SwitchTarget,
    pub label: String,
    pub unread: i64,
    pub muted: bool,
    pub matched: Vec<u32>,
}

/// The open switcher (rules in `switcher`): the query typed, the rows it
/// matches (recomputed when the query or the conversations change, never
/// while drawing), the selection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Switcher {
    pub query: String,
    pub items: Vec<SwitchItem>,
    pub selected: usize,
}

/// A Tab completion in progress (rules in `complete`): Tab again replaces
/// `start..end` of line `row` (char columns) with the next candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub row: usize,
    pub start: usize,
    pub end: usize,
    pub candidates: Vec<String>,
    pub index: usize,
}

/// A desktop notification ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// A sequence number, the notification's id for OSC 99.
    pub id: u64,
    pub title: String,
    pub body: String,
}

/// Messages of one conversation waiting for their coalescing window to close.
#[derive(Debug, Clone)]
pub struct Burst {
    pub count: usize,
    pub author: String,
    pub body: String,
    pub due: Instant,
}

/// Notification state (rules in `notify`): bursts being gathered, the newest
/// index considered per conversation (so an echo or resync never notifies
/// twice) and the notices due, which the event loop writes to the terminal.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    pub bursts: BTreeMap<String, Burst>,
    pub seen: HashMap<String, i64>,
    pub ready: Vec<Notice>,
    pub next_id: u64,
}

impl Notifier {
    /// The notices due, emptied.
    pub fn take_ready(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.ready)
    }
}

/// Where you were before Enter on a search hit took you to `at`; Esc there
/// comes back (rules in `search`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPoint {
    pub at: String,
    pub open: Option<String>,
    pub anchor: Option<Anchor>,
    pub selected: Option<i64>,
    pub focus: Focus,
}

pub struct App {
    pub identity: String,
    pub server: String,
    pub connection: ConnectionState,
    pub conversations: HashMap<String, ConversationEntry>,
    /// Conversation SIDs in list order (recomputed on change).
    pub order: Vec<String>,
    /// SID → display name, sanitized once per change by `resort` rather than
    /// on every frame for every row.
    pub names: HashMap<String, String>,
    /// The first row the conversation list shows; kept between frames so the
    /// window moves only when the selection leaves it (see `list_window`).
    pub list_offset: usize,
    pub selected: Option<String>,
    pub open: Option<String>,
    pub rooms: HashMap<String, Room>,
    pub focus: Focus,
    pub composer: TextArea<'static>,
    pub drafts: HashMap<String, String>,
    /// Lines sent, oldest first, and where Up/Down browsing stands.
    pub history: Vec<String>,
    pub history_pos: Option<usize>,
    pub status: Option<Status>,
    pub show_help: bool,
    pub settings: Settings,
    pub keymap: Keymap,
    pub theme: Theme,
    pub outbox: Vec<Command>,
    pub pending_read: Option<PendingRead>,
    /// Highest read index sent per conversation, so it is sent only when it changes.
    pub read_sent: HashMap<String, i64>,
    pub pane: PaneSize,
    /// Ring the bell at the next draw.
    pub bell: bool,
    pub quit: bool,
    /// Wall-clock offset for showing times (local time; UTC in tests).
    pub utc_offset: time::UtcOffset,
    /// False between FocusLost and FocusGained: reading needs eyes on the screen.
    pub terminal_focused: bool,
    /// A conversation to open as soon as it appears (SID, unique or friendly name):
    /// set by /create, /join and the launcher's welcome conversation.
    pub pending_open: Option<String>,
    /// The message being edited by `/edit` (its SID); Enter saves the edit.
    pub editing: Option<String>,
    /// The Ctrl-K switcher, while it is open.
    pub switcher: Option<Switcher>,
    /// A Tab completion in progress (Tab again cycles).
    pub completion: Option<Completion>,
    /// Desktop notifications gathered and due.
    pub notifier: Notifier,
    /// `/editor` or its key: the event loop hands the terminal to `$EDITOR`.
    pub wants_editor: bool,
    /// Conversations with a mention of you not yet seen (the list marks them).
    pub mentioned: std::collections::HashSet<String>,
    /// Text to put on the terminal clipboard at the next draw (OSC 52).
    pub clipboard: Option<String>,
    /// The message pane's inner area at the last draw, and which message each
    /// of its rows shows (for mouse clicks).
    pub pane_area: ratatui::layout::Rect,
    pub pane_rows: Vec<i64>,
    /// Users the sync task told of, by identity (reachability: `presence`).
    pub users: HashMap<String, crate::api::User>,
    /// Identities already asked for with `Command::WatchUser`.
    pub watched_users: std::collections::HashSet<String>,
    /// The search and mentions views (Ctrl-F, /search, /mentions).
    pub search: super::search_state::Search,
    /// Where Esc returns to after opening a search hit.
    pub jump_back: Option<ReturnPoint>,
    /// Inline image previews (off until the launcher picks a protocol).
    pub images: Images,
    /// Saves, opens and uploads in flight, and where files go.
    pub transfers: Transfers,
}

impl App {
    pub fn new(identity: String, server: String, settings: Settings, keymap: Keymap, theme: Theme) -> App {
        let mut app = App {
            identity,
            server,
            connection: ConnectionState::Connecting,
            conversations: HashMap::new(),
            order: Vec::new(),
            names: HashMap::new(),
            list_offset: 0,
            selected: None,
            open: None,
            rooms: HashMap::new(),
            focus: Focus::List,
            composer: TextArea::default(),
            drafts: HashMap::new(),
            history: Vec::new(),
            history_pos: None,
            status: None,
            show_help: false,
            settings,
            keymap,
            theme,
            outbox: Vec::new(),
            pending_read: None,
            read_sent: HashMap::new(),
            pane: PaneSize { width: 60, height: 20 },
            bell: false,
            quit: false,
            utc_offset: time::UtcOffset::UTC,
            terminal_focused: true,
            pending_open: None,
            editing: None,
            switcher: None,
            completion: None,
            notifier: Notifier::default(),
            wants_editor: false,
            mentioned: Default::default(),
            clipboard: None,
            pane_area: Default::default(),
            pane_rows: Vec::new(),
            users: HashMap::new(),
            watched_users: Default::default(),
            search: Default::default(),
            jump_back: None,
            images: Images::off(),
            transfers: Transfers::default(),
        };
        app.reset_composer(String::new());
        app
    }

    /// Replaces the composer's text (keeping its look).
    pub fn reset_composer(&mut self, text: String) {
        let lines: Vec<String> =
            if text.is_empty() { vec![String::new()] } else { text.lines().map(str::to_owned).collect() };
        let mut ta = TextArea::new(lines);
        ta.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
        ta.set_cursor_line_style(ratatui::style::Style::default());
        ta.set_placeholder_text("Type a message, or /help");
        ta.set_placeholder_style(self.theme.dim);
        ta.move_cursor(ratatui_textarea::CursorMove::Bottom);
        ta.move_cursor(ratatui_textarea::CursorMove::End);
        self.composer = ta;
    }

    pub fn composer_text(&self) -> String {
        self.composer.lines().join("\n")
    }

    /// The name the list and title show: friendly name, else unique name, else SID.
    pub fn display_name(&self, sid: &str) -> String {
        self.list_name(sid).into_owned()
    }

    /// [`App::display_name`] without a copy when `resort` has already made it.
    pub fn list_name(&self, sid: &str) -> Cow<'_, str> {
        match self.names.get(sid) {
            Some(n) => Cow::Borrowed(n),
            None => Cow::Owned(self.make_name(sid)),
        }
    }

    fn make_name(&self, sid: &str) -> String {
        let Some(e) = self.conversations.get(sid) else { return sid.to_string() };
        let c = &e.conversation;
        let name = c.friendly_name.as_deref().filter(|s| !s.is_empty()).or(c.unique_name.as_deref()).unwrap_or(&c.sid);
        sanitize::line(name)
    }

    /// Unread messages. With no read horizon yet the server says null (as
    /// Twilio does); then every message counts as unread.
    pub fn unread(&self, sid: &str) -> i64 {
        let Some(e) = self.conversations.get(sid) else { return 0 };
        let us = e.user_state.as_ref();
        match (us.and_then(|u| u.unread_messages_count), us.and_then(|u| u.last_read_message_index)) {
            (Some(n), _) => n,
            (None, Some(_)) => 0,
            (None, None) => e.conversation.messages_count as i64,
        }
    }

    pub fn is_muted(&self, sid: &str) -> bool {
        self.conversations
            .get(sid)
            .and_then(|e| e.user_state.as_ref())
            .is_some_and(|u| u.notification_level == NotificationLevel::Muted)
    }

    pub fn read_horizon(&self, sid: &str) -> Option<i64> {
        self.conversations.get(sid).and_then(|e| e.user_state.as_ref()).and_then(|u| u.last_read_message_index)
    }

    /// Recomputes `order` (and the sanitized `names`) from the conversations
    /// and the sort setting.
    pub fn resort(&mut self) {
        self.names = self.conversations.keys().map(|sid| (sid.clone(), self.make_name(sid))).collect();
        let mut order: Vec<(bool, String, String, String)> = self
            .conversations
            .values()
            .map(|e| {
                let c = &e.conversation;
                let activity =
                    c.last_message.as_ref().map(|m| m.date_created.clone()).unwrap_or_else(|| c.date_updated.clone());
                let unread = self.settings.sort == SortOrder::Unread && self.unread(&c.sid) > 0;
                (unread, activity, self.list_name(&c.sid).to_lowercase(), c.sid.clone())
            })
            .collect();
        order.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)).then_with(|| a.2.cmp(&b.2)));
        self.order = order.into_iter().map(|o| o.3).collect();
        if self.selected.as_ref().is_none_or(|s| !self.conversations.contains_key(s)) {
            self.selected = self
                .open
                .clone()
                .filter(|s| self.conversations.contains_key(s))
                .or_else(|| self.order.first().cloned());
        }
    }

    pub fn selected_pos(&self) -> Option<usize> {
        let s = self.selected.as_ref()?;
        self.order.iter().position(|x| x == s)
    }

    /// The rows of the conversation list that fit in `height`, as a range of
    /// `order`: the window of the last frame, moved just enough to show the
    /// selection (so it stays put while the selection moves inside it), and
    /// pulled back when the list has shrunk below it.
    pub fn list_window(&self, height: usize) -> std::ops::Range<usize> {
        let len = self.order.len();
        let mut offset = self.list_offset.min(len.saturating_sub(height));
        if let Some(s) = self.selected_pos() {
            if s < offset {
                offset = s;
            } else if height > 0 && s >= offset + height {
                offset = s + 1 - height;
            }
        }
        offset..(offset + height).min(len)
    }

    /// Keeps the list's window where `list_window` puts it for `height` rows
    /// (the event loop, before each frame: see `widgets::fit`).
    pub fn settle_list(&mut self, height: usize) {
        self.list_offset = self.list_window(height).start;
    }

    pub fn set_status(&mut self, text: impl Into<String>, error: bool, now: Instant) {
        let secs = if error { 12 } else { 6 };
        self.status = Some(Status {
            text: sanitize::line(&text.into()),
            error,
            until: now + std::time::Duration::from_secs(secs),
        });
    }

    /// Identities typing in the open conversation, sorted, without the user.
    pub fn typing_names(&self) -> Vec<String> {
        let Some(room) = self.open.as_ref().and_then(|s| self.rooms.get(s)) else { return Vec::new() };
        room.typing.keys().filter(|i| **i != self.identity).cloned().collect()
    }
}
