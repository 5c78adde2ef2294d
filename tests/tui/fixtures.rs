//! Builders for the wire resources the sync task hands the UI, and an `App`
//! wired like the real one (monochrome theme, UTC clock) for reducer and
//! snapshot tests.

use std::time::Instant;

use convo_tui::api::{
    Conversation, ConversationState, LastMessage, Message, NotificationLevel, Participant, UserConversation,
};
use convo_tui::config::Settings;
use convo_tui::sdk::{ConversationEntry, Diff};
use convo_tui::tui::App;
use convo_tui::tui::keymap::{Keymap, Preset};
use convo_tui::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub const AC: &str = "AC00000000000000000000000000000000";
pub const IS: &str = "IS00000000000000000000000000000000";

pub fn ch(n: u32) -> String {
    format!("CH{n:032x}")
}

/// 2026-11-24T09:00:00Z plus `mins` minutes, as Twilio writes dates.
pub fn at(mins: i64) -> String {
    convo_tui::api::time::format_unix(1_795_510_800 + mins * 60)
}

pub fn conversation(n: u32, name: &str, messages: u64, last_mins: i64) -> Conversation {
    let sid = ch(n);
    Conversation {
        account_sid: AC.into(),
        chat_service_sid: IS.into(),
        messaging_service_sid: None,
        sid: sid.clone(),
        friendly_name: Some(name.into()),
        unique_name: None,
        attributes: "{}".into(),
        state: ConversationState::Active,
        date_created: at(0),
        date_updated: at(last_mins),
        timers: serde_json::json!({}),
        url: format!("http://x/v1/Conversations/{sid}"),
        links: Default::default(),
        bindings: None,
        created_by: Some("me".into()),
        messages_count: messages,
        participants_count: 2,
        last_message: (messages > 0).then(|| LastMessage { index: messages as i64 - 1, date_created: at(last_mins) }),
    }
}

pub fn user_state(c: &Conversation, unread: Option<i64>, horizon: Option<i64>, muted: bool) -> UserConversation {
    UserConversation {
        account_sid: AC.into(),
        chat_service_sid: IS.into(),
        conversation_sid: c.sid.clone(),
        unread_messages_count: unread,
        last_read_message_index: horizon,
        participant_sid: None,
        user_sid: "US00000000000000000000000000000000".into(),
        friendly_name: c.friendly_name.clone(),
        conversation_state: ConversationState::Active,
        timers: serde_json::json!({}),
        attributes: "{}".into(),
        date_created: at(0),
        date_updated: at(0),
        created_by: None,
        notification_level: if muted { NotificationLevel::Muted } else { NotificationLevel::Default },
        unique_name: None,
        url: String::new(),
        links: Default::default(),
    }
}

pub fn entry(n: u32, name: &str, messages: u64, last_mins: i64, unread: i64, muted: bool) -> ConversationEntry {
    let c = conversation(n, name, messages, last_mins);
    let horizon = (messages as i64 - 1 - unread).max(-1);
    let us = user_state(&c, Some(unread), (horizon >= 0).then_some(horizon), muted);
    ConversationEntry { conversation: c, user_state: Some(us) }
}

pub fn message(conv: u32, index: i64, author: &str, body: &str, mins: i64) -> Message {
    let conversation_sid = ch(conv);
    let sid = format!("IM{:016x}{index:016x}", conv);
    Message {
        account_sid: AC.into(),
        chat_service_sid: Some(IS.into()),
        conversation_sid: conversation_sid.clone(),
        sid: sid.clone(),
        index,
        author: Some(author.into()),
        body: Some(body.into()),
        media: None,
        attributes: "{}".into(),
        participant_sid: None,
        date_created: at(mins),
        date_updated: Some(at(mins)),
        url: format!("http://x/v1/Conversations/{conversation_sid}/Messages/{sid}"),
        delivery: None,
        links: Default::default(),
        content_sid: None,
    }
}

pub fn participant(conv: u32, n: u32, identity: &str) -> Participant {
    Participant {
        account_sid: AC.into(),
        chat_service_sid: Some(IS.into()),
        conversation_sid: ch(conv),
        sid: format!("MB{n:032x}"),
        identity: Some(identity.into()),
        attributes: "{}".into(),
        messaging_binding: None,
        role_sid: None,
        date_created: at(0),
        date_updated: at(0),
        url: String::new(),
        last_read_message_index: None,
        last_read_timestamp: None,
    }
}

pub fn app() -> App {
    app_with(Settings::default())
}

pub fn app_with(settings: Settings) -> App {
    let keymap = Keymap::new(settings.keymap, &Default::default()).unwrap();
    App::new("me".into(), "http://127.0.0.1:8787".into(), settings, keymap, Theme::monochrome())
}

pub fn vim_app() -> App {
    let settings = Settings { keymap: Preset::Vim, ..Settings::default() };
    app_with(settings)
}

pub fn diff(app: &mut App, d: Diff) {
    convo_tui::tui::update::on_diff(app, d, Instant::now());
}

/// `n` messages in conversation `conv` with indexes `from..from+n`, a minute apart.
pub fn page(conv: u32, from: i64, n: i64) -> Vec<Message> {
    (from..from + n)
        .map(|i| message(conv, i, if i % 2 == 0 { "alice" } else { "bob" }, &format!("message number {i}"), i))
        .collect()
}

/// Draws the whole screen into a `w`×`h` test terminal and returns its text.
pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        convo_tui::tui::widgets::fit(app, f.area());
        convo_tui::tui::widgets::draw(f, app)
    })
    .unwrap();
    t.backend().to_string()
}

/// Draws and returns the buffer, for checks of style.
pub fn buffer(app: &mut App, w: u16, h: u16) -> ratatui::buffer::Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        convo_tui::tui::widgets::fit(app, f.area());
        convo_tui::tui::widgets::draw(f, app)
    })
    .unwrap();
    t.backend().buffer().clone()
}

/// A key press.
pub fn key(code: crossterm::event::KeyCode, mods: crossterm::event::KeyModifiers) -> crossterm::event::KeyEvent {
    crossterm::event::KeyEvent::new(code, mods)
}

pub fn press(app: &mut App, code: crossterm::event::KeyCode, mods: crossterm::event::KeyModifiers) {
    convo_tui::tui::input::on_key(app, key(code, mods), Instant::now());
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, crossterm::event::KeyCode::Char(c), crossterm::event::KeyModifiers::NONE);
    }
}

/// A typical app: three conversations, "general" open with a page of messages.
pub fn populated() -> App {
    let mut a = app();
    diff(
        &mut a,
        Diff::Conversations(vec![
            entry(1, "general", 6, 30, 2, false),
            entry(2, "random", 40, 20, 12, false),
            entry(3, "announcements", 3, 10, 3, true),
        ]),
    );
    let msgs = vec![
        message(1, 0, "alice", "Good morning! Has anyone looked at the release checklist yet?", -60 * 24),
        message(1, 1, "me", "Yes, two items left.", -60 * 24 + 5),
        message(
            1,
            2,
            "bob",
            "I'll take the changelog. It needs a long paragraph about the new paging model, which keeps only a window of messages in memory.",
            1,
        ),
        Message { date_updated: Some(at(4)), ..message(1, 3, "me", "Thanks bob", 2) },
        message(1, 4, "alice", "Shipping at noon 🚀 世界", 25),
        message(1, 5, "bob", "ok", 30),
    ];
    open_general(&mut a, msgs);
    a
}

/// Opens conversation 1 ("general") with `messages`, alice, bob and me in
/// it, connected: the room most screens are drawn in.
pub fn open_general(a: &mut App, messages: Vec<Message>) {
    diff(a, Diff::MessagesLoaded { conversation_sid: ch(1), messages, has_older: false, has_newer: false });
    diff(
        a,
        Diff::Participants {
            conversation_sid: ch(1),
            participants: vec![participant(1, 1, "alice"), participant(1, 2, "bob"), participant(1, 3, "me")],
        },
    );
    diff(a, Diff::Connection(convo_tui::sdk::ConnectionState::Connected));
}
