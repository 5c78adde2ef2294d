//! Whole-screen `TestBackend` snapshots of each pane in the states the UI can
//! be in. Styles are checked separately where they carry meaning (bold unread).

use std::time::Instant;

use convo_tui::config::Settings;
use convo_tui::sdk::{ConnectionState, Diff};
use convo_tui::tui::App;
use convo_tui::tui::app::Focus;
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

#[test]
fn main_screen_shows_list_messages_sidebar_and_status() {
    let mut a = populated();
    snap!("main_screen", screen(&mut a, 110, 24));
}

#[test]
fn list_marks_unread_bold_and_muted_dim() {
    let mut a = populated();
    let buf = buffer(&mut a, 110, 24);
    // Row 2 is "random" (unread, most recent after general), row 3 "announcements" (muted).
    let row = |y: u16| (1..26).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>();
    let random_y = (0..24).find(|y| row(*y).contains("random")).unwrap();
    let muted_y = (0..24).find(|y| row(*y).contains("announcements")).unwrap();
    assert!(buf[(4, random_y)].modifier.contains(Modifier::BOLD), "unread conversation is bold");
    assert!(buf[(4, muted_y)].modifier.contains(Modifier::DIM), "muted conversation is dimmed");
    assert!(row(muted_y).contains("3 muted"), "{}", row(muted_y));
}

#[test]
fn list_can_sort_unread_first() {
    let mut a = app_with(Settings { sort: convo_tui::config::SortOrder::Unread, ..Settings::default() });
    diff(&mut a, Diff::Conversations(vec![entry(1, "quiet", 5, 50, 0, false), entry(2, "busy", 5, 10, 4, false)]));
    assert_eq!(a.order, vec![ch(2), ch(1)]);
    let mut a = app();
    diff(&mut a, Diff::Conversations(vec![entry(1, "quiet", 5, 50, 0, false), entry(2, "busy", 5, 10, 4, false)]));
    assert_eq!(a.order, vec![ch(1), ch(2)]);
}

#[test]
fn first_frame_from_the_cache_while_connecting() {
    let mut a = app();
    a.conversations = [entry(1, "general", 6, 30, 2, false), entry(2, "random", 4, 20, 0, false)]
        .into_iter()
        .map(|e| (e.conversation.sid.clone(), e))
        .collect();
    a.resort();
    snap!("first_frame_connecting", screen(&mut a, 80, 16));
}

#[test]
fn empty_states_say_what_to_do() {
    let mut a = app();
    diff(&mut a, Diff::Connection(ConnectionState::Connected));
    diff(&mut a, Diff::Conversations(vec![]));
    snap!("no_conversations", screen(&mut a, 80, 14));
    diff(&mut a, Diff::ConversationUpserted(entry(7, "fresh", 0, 1, 0, false)));
    snap!("loading_conversation", screen(&mut a, 80, 14));
    diff(
        &mut a,
        Diff::MessagesLoaded { conversation_sid: ch(7), messages: vec![], has_older: false, has_newer: false },
    );
    snap!("empty_conversation", screen(&mut a, 80, 14));
}

#[test]
fn scrolled_up_shows_new_count_and_loading() {
    let mut a = app();
    diff(&mut a, Diff::Conversations(vec![entry(1, "general", 200, 300, 0, false)]));
    diff(
        &mut a,
        Diff::MessagesLoaded { conversation_sid: ch(1), messages: page(1, 150, 50), has_older: true, has_newer: false },
    );
    screen(&mut a, 80, 16);
    convo_tui::tui::paging::scroll_up(&mut a, 10, Instant::now());
    diff(&mut a, Diff::MessageUpserted(message(1, 200, "alice", "a new one", 201)));
    diff(&mut a, Diff::MessageUpserted(message(1, 201, "bob", "and another", 202)));
    snap!("scrolled_up_new_below", screen(&mut a, 80, 16));
    convo_tui::tui::paging::scroll_up(&mut a, 40, Instant::now());
    assert!(a.rooms[&ch(1)].loading_older, "older page requested near the top");
    snap!("scrolled_to_top_loading_older", screen(&mut a, 80, 16));
}

#[test]
fn hostile_text_is_shown_inert() {
    let mut a = app();
    diff(&mut a, Diff::Conversations(vec![entry(1, "\x1b]0;pwned\x07evil\u{202e}name", 1, 5, 1, false)]));
    let body =
        "before\x1b]0;HACKED TITLE\x07\x1b[2J\x1b[H\x1b[31mred\x1b[0m \u{202e}desrever\u{202c} \x07bell\x08 after";
    diff(
        &mut a,
        Diff::MessagesLoaded {
            conversation_sid: ch(1),
            messages: vec![message(1, 0, "mallory\x1b[8m", body, 1)],
            has_older: false,
            has_newer: false,
        },
    );
    let text = screen(&mut a, 80, 12);
    assert!(!text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{202e}'));
    snap!("hostile_message", text);
}

#[test]
fn typing_line_and_sidebar_show_typists() {
    let mut a = populated();
    diff(&mut a, Diff::Typing { conversation_sid: ch(1), identity: "alice".into(), typing: true });
    snap!("one_typing", screen(&mut a, 110, 20));
    diff(&mut a, Diff::Typing { conversation_sid: ch(1), identity: "bob".into(), typing: true });
    let text = screen(&mut a, 110, 20);
    assert!(text.contains("alice and bob are typing…"), "{text}");
    // A message from a typist ends their typing.
    diff(&mut a, Diff::MessageUpserted(message(1, 6, "bob", "done", 40)));
    assert!(screen(&mut a, 110, 20).contains("alice is typing…"));
}

#[test]
fn narrow_terminal_hides_the_sidebar() {
    let mut a = populated();
    snap!("narrow", screen(&mut a, 60, 18));
}

#[test]
fn too_small_terminal_says_so() {
    let mut a = populated();
    snap!("too_small", screen(&mut a, 30, 8));
}

#[test]
fn composer_shows_multiline_command_and_edit_modes() {
    let mut a = populated();
    a.focus = Focus::Composer;
    type_text(&mut a, "first line");
    press(&mut a, KeyCode::Enter, KeyModifiers::ALT);
    type_text(&mut a, "second line");
    snap!("composer_multiline", screen(&mut a, 90, 18));
    a.reset_composer(String::new());
    type_text(&mut a, "/edit");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    snap!("composer_editing", screen(&mut a, 90, 18));
}

#[test]
fn status_bar_shows_reconnecting_and_errors() {
    let mut a = populated();
    diff(&mut a, Diff::Connection(ConnectionState::Disconnected));
    diff(&mut a, Diff::Error("You are not a participant of this conversation".into()));
    snap!("reconnecting_with_error", screen(&mut a, 100, 12));
    diff(&mut a, Diff::Connection(ConnectionState::Denied));
    let text = screen(&mut a, 100, 12);
    assert!(text.contains("access denied") && text.contains("refused the access token"), "{text}");
}

#[test]
fn help_lists_keys_and_commands() {
    let mut a = populated();
    press(&mut a, KeyCode::F(1), KeyModifiers::NONE);
    snap!("help", screen(&mut a, 100, 44));
    // A short, wide terminal gets keys and commands side by side.
    snap!("help_two_columns", screen(&mut a, 150, 30));
    // At 120 columns each column is narrower than its longest lines: they end
    // in an ellipsis, not mid-word.
    snap!("help_two_columns_120", screen(&mut a, 120, 30));
    let mut v = vim_app();
    press(&mut v, KeyCode::Char('?'), KeyModifiers::NONE);
    let text = screen(&mut v, 100, 48);
    assert!(text.contains("g g") && text.contains("Ctrl-U") && text.contains(":"), "{text}");
}

/// The list builds only the rows in view; the window follows the selection
/// past its edges and otherwise holds still, so moving inside it scrolls nothing.
#[test]
fn a_long_list_keeps_the_selection_in_view_and_holds_still_while_it_moves_inside() {
    let mut a = app();
    let entries = (0..300).map(|n| entry(n, &format!("conv{n:03}"), 1, i64::from(n), 0, false)).collect();
    diff(&mut a, Diff::Conversations(entries));
    a.focus = Focus::List;
    // 80×20: the list is 20 columns wide and shows 17 rows (borders and status bar take 3).
    let rows = |a: &mut App| -> Vec<String> {
        let text = screen(a, 80, 20);
        let names: Vec<String> = text
            .lines()
            .filter_map(|l| {
                l.chars()
                    .take(20)
                    .collect::<String>()
                    .split_whitespace()
                    .find(|w| w.starts_with("conv"))
                    .map(str::to_owned)
            })
            .collect();
        names
    };
    let name = |a: &App, i: usize| a.display_name(&a.order[i]);
    let first = rows(&mut a);
    assert_eq!(first.len(), 17, "{first:?}");
    assert_eq!(first[0], name(&a, 0));
    for _ in 0..40 {
        press(&mut a, KeyCode::Down, KeyModifiers::NONE);
    }
    let scrolled = rows(&mut a);
    assert_eq!(scrolled.last(), Some(&name(&a, 40)), "the selection is the last row in view");
    assert_eq!(scrolled[0], name(&a, 24));
    for _ in 0..10 {
        press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    }
    assert_eq!(rows(&mut a), scrolled, "moving inside the window does not scroll it");
    for _ in 0..20 {
        press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    }
    let back = rows(&mut a);
    assert_eq!(back[0], name(&a, 10), "the selection is the first row in view");
    // The list shrinks below the window: it is pulled back to stay full.
    let few = (0..20).map(|n| entry(n, &format!("conv{n:03}"), 1, i64::from(n), 0, false)).collect();
    diff(&mut a, Diff::Conversations(few));
    assert_eq!(rows(&mut a).len(), 17);
}
