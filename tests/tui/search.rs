//! Search in the client, driven through the reducers: `/search`, Ctrl-F and
//! `/mentions` ask the sync task, hits arrive a page at a time, Enter opens a
//! hit in its conversation (however far back, with `OpenAt`) and Esc comes
//! back; snapshots of the results and mentions views under tests/tui/snapshots.

use convo_tui::api::Message;
use convo_tui::sdk::{Command, ConnectionState, Diff};
use convo_tui::tui::App;
use convo_tui::tui::app::{Anchor, Focus};
use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::style::Modifier;

use crate::fixtures::*;

macro_rules! snap {
    ($name:expr, $text:expr) => {
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

fn composer(a: &mut App, text: &str) {
    a.focus = Focus::Composer;
    a.reset_composer(String::new());
    type_text(a, text);
    press(a, KeyCode::Enter, KeyModifiers::NONE);
}

fn searches(a: &App) -> Vec<Command> {
    a.outbox.iter().filter(|c| matches!(c, Command::Search { .. })).cloned().collect()
}

fn answer(a: &mut App, request: u64, messages: Vec<Message>, next: Option<&str>) {
    diff(a, Diff::SearchResults { request, messages, next_page_token: next.map(str::to_owned) });
}

fn hits(a: &App) -> Vec<(String, i64)> {
    let v = a.search.view.as_ref().expect("the view is open");
    v.hits.iter().map(|h| (h.conversation_sid.clone(), h.index)).collect()
}

/// Hits across conversations, one far back in "random" and one with hostile bytes.
fn quokka_hits() -> Vec<Message> {
    vec![
        message(1, 5, "bob", "the quokka is out", 30),
        message(
            2,
            20,
            "alice",
            "first line\nwe saw a Quokka near the lighthouse, and then another quokka",
            -60 * 24 * 3,
        ),
        message(3, 1, "bob\x1b[31m", "\x1b]0;pwned\x07quokka \u{202e}reversed", -60 * 24 * 10),
    ]
}

#[test]
fn slash_search_asks_the_sync_task_and_shows_hits_with_matches_marked() {
    let mut a = populated();
    composer(&mut a, "/search quokka");
    assert_eq!(
        searches(&a),
        [Command::Search { request: 1, query: "quokka".into(), conversation_sid: None, page_token: None }]
    );
    assert!(a.composer_text().is_empty());
    snap!("search_searching", screen(&mut a, 110, 24));
    answer(&mut a, 1, quokka_hits(), None);
    assert_eq!(hits(&a), [(ch(1), 5), (ch(2), 20), (ch(3), 1)]);
    let text = screen(&mut a, 110, 24);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}') && !text.contains("pwned\x07"), "{text}");
    snap!("search_results", text);
    // The matched word is marked (underlined, besides the theme's mention style).
    let buf = buffer(&mut a, 110, 24);
    let (x, y) = find(&buf, "Quokka").expect("the second hit's match on screen");
    assert!(buf[(x, y)].modifier.contains(Modifier::UNDERLINED), "{:?}", buf[(x, y)]);
    let (x, y) = find(&buf, "near").unwrap();
    assert!(!buf[(x, y)].modifier.contains(Modifier::UNDERLINED));
}

/// Where `needle` starts in the buffer.
fn find(buf: &ratatui::buffer::Buffer, needle: &str) -> Option<(u16, u16)> {
    let w = buf.area.width;
    for y in 0..buf.area.height {
        let row: String = (0..w).map(|x| buf[(x, y)].symbol().chars().next().unwrap_or(' ')).collect();
        if let Some(col) = row.find(needle) {
            return Some((row[..col].chars().count() as u16, y));
        }
    }
    None
}

#[test]
fn nearing_the_end_asks_once_for_the_next_page_and_stale_answers_are_dropped() {
    let mut a = populated();
    press(&mut a, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_text(&mut a, "message");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    let first: Vec<Message> = (0..8).rev().map(|i| message(2, i, "bob", &format!("message {i}"), i)).collect();
    answer(&mut a, 1, first, Some("PA42"));
    a.outbox.clear();
    press(&mut a, KeyCode::Down, KeyModifiers::NONE);
    press(&mut a, KeyCode::Down, KeyModifiers::NONE);
    assert!(searches(&a).is_empty(), "far from the end still");
    press(&mut a, KeyCode::Down, KeyModifiers::NONE);
    press(&mut a, KeyCode::Down, KeyModifiers::NONE);
    assert_eq!(
        searches(&a),
        [Command::Search {
            request: 1,
            query: "message".into(),
            conversation_sid: None,
            page_token: Some("PA42".into())
        }]
    );
    press(&mut a, KeyCode::Down, KeyModifiers::NONE);
    assert_eq!(searches(&a).len(), 1, "one page in flight at a time");
    answer(&mut a, 99, vec![message(2, 100, "bob", "stale", 1)], None);
    assert_eq!(hits(&a).len(), 8, "an answer to another request is dropped");
    answer(&mut a, 1, vec![message(2, 7, "bob", "message 7", 7), message(1, 0, "bob", "message older", 0)], None);
    assert_eq!(hits(&a).len(), 9, "a hit seen twice is listed once");
    // A new query starts over with a new request number.
    press(&mut a, KeyCode::Char('u'), KeyModifiers::CONTROL);
    type_text(&mut a, "other");
    a.outbox.clear();
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert!(matches!(&searches(&a)[..], [Command::Search { request: 2, page_token: None, .. }]), "{:?}", a.outbox);
    assert!(hits(&a).is_empty());
}

#[test]
fn enter_opens_a_hit_far_back_around_it_selected_and_esc_returns() {
    let mut a = populated();
    let before = a.rooms[&ch(1)].anchor;
    a.focus = Focus::Composer;
    press(&mut a, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_text(&mut a, "quokka");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    answer(&mut a, 1, quokka_hits(), None);
    press(&mut a, KeyCode::Down, KeyModifiers::NONE);
    a.outbox.clear();
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert!(a.search.view.is_none(), "the view closed");
    assert_eq!(a.open.as_deref(), Some(ch(2).as_str()));
    assert_eq!(a.focus, Focus::Messages);
    assert_eq!(
        a.outbox,
        [Command::OpenAt { conversation_sid: ch(2), index: 20 }],
        "not Open: the newest page is not it"
    );
    // Had the link dropped before the page came, the reconnect asks for the same place.
    diff(&mut a, Diff::Connection(ConnectionState::Disconnected));
    a.outbox.clear();
    diff(&mut a, Diff::Connection(ConnectionState::Connected));
    assert_eq!(a.outbox, [Command::OpenAt { conversation_sid: ch(2), index: 20 }], "asked again after a reconnect");
    // The history around it arrives: the hit is selected and shown with what came before.
    let mut around = page(2, 0, 40);
    around[20] = message(2, 20, "alice", "we saw a Quokka near the lighthouse", 20);
    diff(&mut a, Diff::MessagesLoaded { conversation_sid: ch(2), messages: around, has_older: false, has_newer: true });
    let room = &a.rooms[&ch(2)];
    assert_eq!(room.selected, Some(20));
    assert!(room.anchor.is_some_and(|an| an.index < 20 && an.index > 10), "{:?}", room.anchor);
    let text = screen(&mut a, 110, 24);
    assert!(text.contains("message number 19") && text.contains("Quokka near") && text.contains("number 21"), "{text}");
    snap!("search_hit_in_context", text);

    // Esc: back in general, where we were, and the composer focused as before.
    press(&mut a, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(a.open.as_deref(), Some(ch(1).as_str()));
    assert_eq!(a.rooms[&ch(1)].anchor, before);
    assert_eq!(a.focus, Focus::Composer);
    assert_eq!(a.rooms[&ch(2)].selected, None);
    // Esc again is an ordinary Esc.
    assert!(a.jump_back.is_none());
    // Ctrl-F shows the last results again, ready for the next pick.
    press(&mut a, KeyCode::Char('f'), KeyModifiers::CONTROL);
    assert_eq!(hits(&a).len(), 3);
    assert_eq!(a.search.view.as_ref().unwrap().query, "quokka");
}

#[test]
fn a_hit_already_loaded_just_scrolls_there_and_esc_restores_the_scroll() {
    let mut a = populated();
    let room = a.rooms.get_mut(&ch(1)).unwrap();
    room.anchor = Some(Anchor { index: 4, row: 0 });
    composer(&mut a, "/search changelog");
    answer(&mut a, 1, vec![message(1, 2, "bob", "I'll take the changelog.", 1)], None);
    a.outbox.clear();
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert!(a.outbox.iter().all(|c| !matches!(c, Command::OpenAt { .. } | Command::Open { .. })), "{:?}", a.outbox);
    assert_eq!(a.rooms[&ch(1)].selected, Some(2));
    press(&mut a, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(a.rooms[&ch(1)].anchor, Some(Anchor { index: 4, row: 0 }));
    assert_eq!(a.rooms[&ch(1)].selected, None);
}

#[test]
fn search_here_scopes_to_the_open_conversation_and_tab_toggles_it() {
    let mut a = populated();
    composer(&mut a, "/search -here ok");
    assert_eq!(
        searches(&a),
        [Command::Search { request: 1, query: "ok".into(), conversation_sid: Some(ch(1)), page_token: None }]
    );
    assert!(screen(&mut a, 110, 24).contains("in general"));
    press(&mut a, KeyCode::Tab, KeyModifiers::NONE);
    a.outbox.clear();
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        searches(&a),
        [Command::Search { request: 2, query: "ok".into(), conversation_sid: None, page_token: None }],
        "the scope changed, so Enter searches again"
    );
    assert!(screen(&mut a, 110, 24).contains("in all conversations"));
    press(&mut a, KeyCode::Esc, KeyModifiers::NONE);
    assert!(a.search.view.is_none());
    // Without an open conversation, -here says what is missing.
    a.open = None;
    composer(&mut a, "/search -here ok");
    assert!(a.search.view.is_none());
    assert!(a.status.as_ref().unwrap().text.contains("open a conversation first"));
}

#[test]
fn mentions_view_searches_for_at_you_and_lists_only_real_mentions_by_others() {
    let mut a = populated();
    press(&mut a, KeyCode::Char('m'), KeyModifiers::ALT);
    assert_eq!(
        searches(&a),
        [Command::Search { request: 1, query: "@me".into(), conversation_sid: None, page_token: None }]
    );
    answer(
        &mut a,
        1,
        vec![
            message(2, 30, "bob", "hey @me, look at this", 20),
            message(2, 29, "bob", "me too", 19),
            message(1, 4, "me", "@me note to self", 18),
            message(3, 2, "alice", "ping @me about the release", -60),
        ],
        None,
    );
    assert_eq!(hits(&a), [(ch(2), 30), (ch(3), 2)]);
    type_text(&mut a, "xyz");
    assert_eq!(a.search.view.as_ref().unwrap().query, "@me", "the mentions view takes no typing");
    snap!("mentions_view", screen(&mut a, 110, 24));
    press(&mut a, KeyCode::Esc, KeyModifiers::NONE);
    composer(&mut a, "/mentions");
    assert!(a.search.view.as_ref().is_some_and(|v| v.hits.is_empty() && v.request == 2), "/mentions opens it afresh");
}
