//! Finding and being told, driven through the reducers: the Ctrl-K switcher's
//! matching, order and Enter (snapshots of its overlay under
//! tests/tui/snapshots), Tab completion in the composer, and which arriving
//! messages become desktop notifications, coalesced per conversation.

use std::time::{Duration, Instant};

use convo_tui::config::{NotifyMode, Settings};
use convo_tui::sdk::{Command, Diff};
use convo_tui::tui::App;
use convo_tui::tui::app::Focus;
use convo_tui::tui::switcher::{self, Target};
use convo_tui::tui::{notify, update};
use crossterm::event::{KeyCode, KeyModifiers};

use crate::fixtures::*;

macro_rules! snap {
    ($name:expr, $text:expr) => {
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

fn ctrl(app: &mut App, c: char) {
    press(app, KeyCode::Char(c), KeyModifiers::CONTROL);
}

fn labels(app: &App) -> Vec<String> {
    app.switcher.as_ref().unwrap().items.iter().map(|i| i.label.clone()).collect()
}

/// `populated()` plus a conversation with a unique name and a person known
/// only from another room's participants.
fn world() -> App {
    let mut a = populated();
    let mut ops = entry(4, "Ops on-call", 2, 5, 0, false);
    ops.conversation.unique_name = Some("oncall".into());
    diff(&mut a, Diff::ConversationUpserted(ops));
    diff(&mut a, Diff::Participants { conversation_sid: ch(2), participants: vec![participant(2, 9, "carol")] });
    a
}

#[test]
fn ctrl_k_lists_unread_conversations_first_then_people() {
    let mut a = world();
    ctrl(&mut a, 'k');
    let got = labels(&a);
    // random (12 unread), general (2), announcements (3, muted but unread), then read ones, then people.
    let unread: Vec<&str> = got.iter().take(3).map(String::as_str).collect();
    assert!(unread.contains(&"random") && unread.contains(&"general") && unread.contains(&"announcements"), "{got:?}");
    assert_eq!(got[3], "Ops on-call");
    assert_eq!(&got[4..], ["alice", "bob", "carol"]);
    assert!(!got.contains(&"me".to_string()), "the user is not a person to message");
}

#[test]
fn typing_filters_fuzzily_by_friendly_or_unique_name_and_enter_opens() {
    let mut a = world();
    ctrl(&mut a, 'k');
    type_text(&mut a, "anc");
    assert_eq!(labels(&a), ["announcements"]);
    for _ in 0..3 {
        press(&mut a, KeyCode::Backspace, KeyModifiers::NONE);
    }
    type_text(&mut a, "ONCALL");
    assert_eq!(labels(&a), ["Ops on-call"], "the unique name matches too, case ignored");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert!(a.switcher.is_none());
    assert_eq!(a.open.as_deref(), Some(ch(4).as_str()));
    assert_eq!(a.focus, Focus::Composer);
    assert!(a.outbox.contains(&Command::Open { conversation_sid: ch(4) }));
}

#[test]
fn esc_closes_the_switcher_and_keys_no_longer_reach_the_composer() {
    let mut a = world();
    a.focus = Focus::Composer;
    ctrl(&mut a, 'k');
    type_text(&mut a, "ran");
    assert!(a.composer_text().is_empty(), "switcher keys are not typed in the composer");
    press(&mut a, KeyCode::Esc, KeyModifiers::NONE);
    assert!(a.switcher.is_none());
    assert_eq!(a.open.as_deref(), Some(ch(1).as_str()), "nothing opened");
    type_text(&mut a, "x");
    assert_eq!(a.composer_text(), "x");
}

#[test]
fn enter_on_a_person_creates_a_direct_conversation_and_adds_them() {
    let mut a = world();
    ctrl(&mut a, 'k');
    type_text(&mut a, "carol");
    let s = a.switcher.as_ref().unwrap();
    assert_eq!(s.items[0].target, Target::Person("carol".into()));
    a.outbox.clear();
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    let name = switcher::direct_name("me", "carol");
    assert_eq!(
        a.outbox,
        vec![
            Command::Create { friendly_name: "me & carol".into(), unique_name: Some(name.clone()) },
            Command::AddParticipant { conversation_sid: name.clone(), identity: "carol".into() },
        ]
    );
    assert_eq!(a.pending_open.as_deref(), Some(name.as_str()));

    // Once it exists, the same choice opens it instead of creating another.
    let mut dm = entry(5, "me & carol", 0, 40, 0, false);
    dm.conversation.unique_name = Some(name);
    diff(&mut a, Diff::ConversationUpserted(dm));
    assert_eq!(a.open.as_deref(), Some(ch(5).as_str()), "the pending direct conversation opened");
    update::open_conversation(&mut a, &ch(1), Instant::now());
    ctrl(&mut a, 'k');
    type_text(&mut a, "carol");
    let person = a.switcher.as_ref().unwrap().items.iter().position(|i| i.target == Target::Person("carol".into()));
    a.switcher.as_mut().unwrap().selected = person.unwrap();
    a.outbox.clear();
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(a.open.as_deref(), Some(ch(5).as_str()));
    assert!(!a.outbox.iter().any(|c| matches!(c, Command::Create { .. })), "{:?}", a.outbox);
}

#[test]
fn switcher_overlay_snapshot() {
    let mut a = world();
    ctrl(&mut a, 'k');
    snap!("switcher_all", screen(&mut a, 110, 24));
    type_text(&mut a, "on");
    press(&mut a, KeyCode::Down, KeyModifiers::NONE);
    snap!("switcher_filtered", screen(&mut a, 110, 24));
    type_text(&mut a, "zzz");
    snap!("switcher_no_match", screen(&mut a, 110, 24));
}

fn composer(a: &mut App, text: &str) {
    a.focus = Focus::Composer;
    a.reset_composer(String::new());
    type_text(a, text);
}

fn tab(a: &mut App) {
    press(a, KeyCode::Tab, KeyModifiers::NONE);
}

#[test]
fn tab_completes_a_command_name_with_a_space() {
    let mut a = world();
    composer(&mut a, "/jo");
    tab(&mut a);
    assert_eq!(a.composer_text(), "/join ");
    assert_eq!(a.focus, Focus::Composer, "Tab completed instead of moving focus");
}

#[test]
fn repeated_tab_cycles_and_shift_tab_goes_back() {
    let mut a = world();
    composer(&mut a, "/re");
    let mut seen = Vec::new();
    for _ in 0..5 {
        tab(&mut a);
        seen.push(a.composer_text());
    }
    assert_eq!(seen, ["/react ", "/read ", "/remove ", "/rename ", "/reply "]);
    tab(&mut a);
    assert_eq!(a.composer_text(), "/react ", "wraps around");
    press(&mut a, KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(a.composer_text(), "/reply ");
    assert!(a.status.as_ref().unwrap().text.contains("/remove"), "the candidates are listed");
    // Typing ends the cycle: the next Tab completes afresh.
    type_text(&mut a, "x");
    assert_eq!(a.composer_text(), "/reply x");
}

#[test]
fn tab_completes_at_identity_of_the_open_conversation_mid_line() {
    let mut a = world();
    composer(&mut a, "thanks @ali");
    tab(&mut a);
    assert_eq!(a.composer_text(), "thanks @alice ");
    composer(&mut a, "hey @car");
    tab(&mut a);
    assert_eq!(a.composer_text(), "hey @car", "carol is not in the open conversation");
    assert_eq!(a.status.as_ref().unwrap().text, "nothing to complete");
}

#[test]
fn command_arguments_complete_by_kind() {
    let mut a = world();
    composer(&mut a, "/join Ops");
    tab(&mut a);
    assert_eq!(a.composer_text(), "/join Ops on-call ");
    composer(&mut a, "/join onc");
    tab(&mut a);
    assert_eq!(a.composer_text(), "/join oncall ");
    composer(&mut a, "/remove b");
    tab(&mut a);
    assert_eq!(a.composer_text(), "/remove bob ");
    composer(&mut a, "/add c");
    tab(&mut a);
    assert_eq!(a.composer_text(), "/add carol ", "people not yet here");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("report.pdf"), b"%PDF").unwrap();
    composer(&mut a, &format!("/upload {}/rep", dir.path().display()));
    tab(&mut a);
    assert_eq!(a.composer_text(), format!("/upload {}/report.pdf ", dir.path().display()));
}

#[test]
fn tab_without_anything_to_complete_still_moves_focus() {
    let mut a = world();
    composer(&mut a, "");
    tab(&mut a);
    assert_eq!(a.focus, Focus::List);
    composer(&mut a, "plain words");
    tab(&mut a);
    assert_eq!(a.focus, Focus::List);
}

#[test]
fn editor_key_and_command_ask_the_loop_for_the_editor() {
    let mut a = world();
    press(&mut a, KeyCode::Char('e'), KeyModifiers::ALT);
    assert!(std::mem::take(&mut a.wants_editor));
    composer(&mut a, "/editor");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert!(a.wants_editor);
    assert!(a.composer_text().is_empty());
    convo_tui::tui::editor::finished(&mut a, Ok("from the editor\nsecond line".into()), Instant::now());
    assert_eq!(a.composer_text(), "from the editor\nsecond line");
    convo_tui::tui::editor::finished(&mut a, Err(anyhow::anyhow!("the editor failed")), Instant::now());
    assert_eq!(a.composer_text(), "from the editor\nsecond line", "a failed edit keeps the draft");
    assert!(a.status.as_ref().unwrap().error);
}

/// Delivers a live message and runs the timers past the coalescing window.
fn arrive(a: &mut App, conv: u32, index: i64, author: &str, body: &str, now: Instant) {
    update::on_diff(a, Diff::MessageUpserted(message(conv, index, author, body, index)), now);
}

fn flush(a: &mut App, now: Instant) -> Vec<notify::Notice> {
    update::on_tick(a, now + notify::WINDOW + Duration::from_millis(1));
    a.notifier.take_ready()
}

#[test]
fn a_message_elsewhere_notifies_once_with_author_and_conversation() {
    let mut a = world();
    let now = Instant::now();
    arrive(&mut a, 2, 40, "bob", "lunch?", now);
    assert!(a.notifier.take_ready().is_empty(), "held for the coalescing window");
    assert_eq!(update::next_deadline(&a).map(|d| d <= now + notify::WINDOW), Some(true));
    let got = flush(&mut a, now);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].title.as_str(), got[0].body.as_str()), ("bob in random", "lunch?"));
    // The same message again (an echo, a resync) does not notify twice.
    arrive(&mut a, 2, 40, "bob", "lunch?", now);
    assert!(flush(&mut a, now).is_empty());
}

#[test]
fn a_burst_is_coalesced_per_conversation() {
    let mut a = world();
    let now = Instant::now();
    for i in 0..5 {
        arrive(&mut a, 2, 40 + i, "bob", &format!("line {i}"), now);
    }
    arrive(&mut a, 4, 2, "alice", "ops ping", now);
    let got = flush(&mut a, now);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().any(|n| n.body == "5 new messages in random"), "{got:?}");
    assert!(got.iter().any(|n| n.title == "alice in Ops on-call"), "{got:?}");
}

#[test]
fn no_notification_for_own_muted_on_screen_or_edited_messages() {
    let mut a = world();
    let now = Instant::now();
    arrive(&mut a, 2, 40, "me", "my own", now);
    arrive(&mut a, 3, 3, "bob", "in a muted one", now);
    arrive(&mut a, 1, 6, "bob", "in the open one", now);
    let edited = convo_tui::api::Message { date_updated: Some(at(99)), ..message(4, 2, "bob", "edited", 50) };
    update::on_diff(&mut a, Diff::MessageUpserted(edited), now);
    assert!(flush(&mut a, now).is_empty());
    // The open conversation counts as elsewhere while the terminal is unfocused.
    convo_tui::tui::event_loop::on_event(&mut a, crossterm::event::Event::FocusLost, now);
    arrive(&mut a, 1, 7, "bob", "while away", now);
    assert_eq!(flush(&mut a, now).len(), 1);
}

#[test]
fn mentions_mode_notifies_only_for_at_you_and_off_never() {
    let mut a = app_with(Settings { notifications: NotifyMode::Mentions, ..Settings::default() });
    diff(&mut a, Diff::Conversations(vec![entry(1, "general", 1, 1, 0, false), entry(2, "team", 1, 0, 0, false)]));
    let now = Instant::now();
    let open = a.open.clone().unwrap();
    let other = if open == ch(1) { 2 } else { 1 };
    arrive(&mut a, other, 1, "bob", "no mention here", now);
    arrive(&mut a, other, 2, "bob", "hey @me look", now);
    let got = flush(&mut a, now);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "hey @me look");
    a.settings.notifications = NotifyMode::Off;
    arrive(&mut a, other, 3, "bob", "@me again", now);
    assert!(flush(&mut a, now).is_empty());
}

#[test]
fn join_with_a_completed_name_opens_a_conversation_you_are_in() {
    let mut a = world();
    composer(&mut a, "/join Ops");
    tab(&mut a);
    a.outbox.clear();
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(a.open.as_deref(), Some(ch(4).as_str()));
    assert!(!a.outbox.iter().any(|c| matches!(c, Command::Join { .. })), "{:?}", a.outbox);
    composer(&mut a, "/join elsewhere");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert!(a.outbox.contains(&Command::Join { sid_or_unique_name: "elsewhere".into() }));
}

#[test]
fn a_burst_for_a_conversation_opened_within_the_window_is_dropped() {
    let mut a = world();
    let now = Instant::now();
    arrive(&mut a, 2, 40, "bob", "are you there", now);
    update::open_conversation(&mut a, &ch(2), now);
    assert!(flush(&mut a, now).is_empty());
}
