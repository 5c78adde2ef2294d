//! The reducers as specifications: diffs and keys in, state and sync commands out.

use std::time::{Duration, Instant};

use convo_tui::config::Settings;
use convo_tui::sdk::{Command, Diff};
use convo_tui::tui::app::Focus;
use convo_tui::tui::{read, update};
use crossterm::event::{KeyCode, KeyModifiers};

use crate::fixtures::*;

fn drain(a: &mut convo_tui::tui::App) -> Vec<Command> {
    std::mem::take(&mut a.outbox)
}

#[test]
fn the_first_conversation_opens_and_its_messages_are_requested_once() {
    let mut a = app();
    diff(&mut a, Diff::Conversations(vec![entry(1, "general", 3, 5, 1, false), entry(2, "old", 3, 1, 0, false)]));
    assert_eq!(a.open, Some(ch(1)));
    assert_eq!(drain(&mut a), vec![Command::Open { conversation_sid: ch(1) }]);
    diff(&mut a, Diff::ConversationUpserted(entry(1, "general", 3, 5, 1, false)));
    assert!(drain(&mut a).is_empty());
}

#[test]
fn reading_to_the_newest_advances_the_horizon_once_after_a_debounce() {
    let mut a = populated();
    drain(&mut a);
    let now = Instant::now();
    update::on_tick(&mut a, now);
    assert!(drain(&mut a).is_empty(), "debounced");
    update::on_tick(&mut a, now + Duration::from_secs(2));
    assert_eq!(drain(&mut a), vec![Command::AdvanceRead { conversation_sid: ch(1), index: 5 }]);
    assert_eq!(a.unread(&ch(1)), 0);
    // Unchanged: nothing more.
    read::check_read(&mut a, now);
    update::on_tick(&mut a, now + Duration::from_secs(4));
    assert!(drain(&mut a).is_empty());
    // A new message while following: one more advance.
    diff(&mut a, Diff::MessageUpserted(message(1, 6, "alice", "hi", 40)));
    update::on_tick(&mut a, now + Duration::from_secs(10));
    assert_eq!(drain(&mut a), vec![Command::AdvanceRead { conversation_sid: ch(1), index: 6 }]);
}

#[test]
fn scrolled_up_nothing_is_marked_read_and_new_messages_are_counted() {
    let mut a = app();
    diff(&mut a, Diff::Conversations(vec![entry(1, "general", 100, 300, 0, false)]));
    diff(
        &mut a,
        Diff::MessagesLoaded { conversation_sid: ch(1), messages: page(1, 50, 50), has_older: true, has_newer: false },
    );
    screen(&mut a, 80, 16);
    a.pending_read = None;
    drain(&mut a);
    press(&mut a, KeyCode::PageUp, KeyModifiers::NONE);
    diff(&mut a, Diff::MessageUpserted(message(1, 100, "alice", "new", 301)));
    update::on_tick(&mut a, Instant::now() + Duration::from_secs(5));
    assert!(!drain(&mut a).iter().any(|c| matches!(c, Command::AdvanceRead { .. })));
    assert_eq!(a.rooms[&ch(1)].new_below, 1);
    assert!(a.rooms[&ch(1)].anchor.is_some(), "not yanked down");
    press(&mut a, KeyCode::End, KeyModifiers::NONE);
    assert_eq!(a.rooms[&ch(1)].anchor, None);
    update::on_tick(&mut a, Instant::now() + Duration::from_secs(5));
    assert!(drain(&mut a).contains(&Command::AdvanceRead { conversation_sid: ch(1), index: 100 }));
}

#[test]
fn paging_up_asks_for_older_pages_once_and_keeps_the_view_in_place() {
    let mut a = app();
    diff(&mut a, Diff::Conversations(vec![entry(1, "general", 500, 600, 0, false)]));
    diff(
        &mut a,
        Diff::MessagesLoaded { conversation_sid: ch(1), messages: page(1, 450, 50), has_older: true, has_newer: false },
    );
    screen(&mut a, 80, 16);
    drain(&mut a);
    for _ in 0..5 {
        press(&mut a, KeyCode::PageUp, KeyModifiers::NONE);
    }
    let older: Vec<Command> = drain(&mut a).into_iter().filter(|c| matches!(c, Command::LoadOlder { .. })).collect();
    assert_eq!(older, vec![Command::LoadOlder { conversation_sid: ch(1), before_index: 450, count: 50 }]);
    let before = screen(&mut a, 80, 16);
    diff(
        &mut a,
        Diff::MessagesLoaded { conversation_sid: ch(1), messages: page(1, 400, 50), has_older: true, has_newer: true },
    );
    let after = screen(&mut a, 80, 16);
    let body = |s: &str| s.lines().skip(1).take(10).map(|l| l.chars().skip(20).collect::<String>()).collect::<Vec<_>>();
    assert_eq!(body(&before), body(&after), "an older page does not move the view");
}

#[test]
fn paging_all_the_way_up_reaches_the_first_message_with_memory_capped() {
    let settings = Settings { max_messages: 200, page_size: 50, ..Settings::default() };
    let mut a = app_with(settings);
    let total = 2000i64;
    diff(&mut a, Diff::Conversations(vec![entry(1, "long", total as u64, 3000, 0, false)]));
    diff(
        &mut a,
        Diff::MessagesLoaded {
            conversation_sid: ch(1),
            messages: page(1, total - 50, 50),
            has_older: true,
            has_newer: false,
        },
    );
    screen(&mut a, 80, 20);
    drain(&mut a);
    let mut trims = 0;
    for _ in 0..2000 {
        press(&mut a, KeyCode::PageUp, KeyModifiers::NONE);
        for c in drain(&mut a) {
            match c {
                Command::LoadOlder { before_index, count, .. } => {
                    let from = (before_index - count as i64).max(0);
                    let msgs = page(1, from, before_index - from);
                    diff(
                        &mut a,
                        Diff::MessagesLoaded {
                            conversation_sid: ch(1),
                            messages: msgs,
                            has_older: from > 0,
                            has_newer: true,
                        },
                    );
                }
                Command::Trim { .. } => trims += 1,
                _ => {}
            }
        }
        assert!(a.rooms[&ch(1)].messages.len() <= 200 + 50);
        if screen(&mut a, 80, 20).contains("message number 0\n") || screen(&mut a, 80, 20).contains("message number 0 ")
        {
            break;
        }
    }
    let text = screen(&mut a, 80, 20);
    assert!(text.contains("message number 0 "), "{text}");
    assert!(trims > 0, "far pages were dropped");
    assert!(a.rooms[&ch(1)].has_newer);
    // Coming back down asks for the dropped pages again.
    drain(&mut a);
    for _ in 0..20 {
        press(&mut a, KeyCode::PageDown, KeyModifiers::NONE);
    }
    let newer = drain(&mut a).into_iter().filter(|c| matches!(c, Command::LoadNewer { .. })).count();
    assert_eq!(newer, 1, "one LoadNewer in flight at a time");
}

#[test]
fn typing_keys_go_to_the_composer_and_enter_sends() {
    let mut a = populated();
    drain(&mut a);
    a.focus = Focus::Composer;
    type_text(&mut a, "j?k /x");
    assert!(!a.show_help);
    assert_eq!(a.composer_text(), "j?k /x");
    press(&mut a, KeyCode::Enter, KeyModifiers::ALT);
    press(&mut a, KeyCode::Char('j'), KeyModifiers::CONTROL);
    type_text(&mut a, "end");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    let cmds = drain(&mut a);
    assert!(cmds.contains(&Command::Typing { conversation_sid: ch(1) }));
    assert!(cmds.contains(&Command::Send { conversation_sid: ch(1), body: "j?k /x\n\nend".into(), attributes: None }));
    assert!(a.composer.is_empty());
    // Up in the empty composer brings the sent text back.
    press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    assert_eq!(a.composer_text(), "j?k /x\n\nend");
}

#[test]
fn slash_commands_become_sync_commands_and_errors_are_plain() {
    let mut a = populated();
    drain(&mut a);
    a.focus = Focus::Composer;
    let run = |a: &mut convo_tui::tui::App, line: &str| {
        a.reset_composer(String::new());
        type_text(a, line);
        press(a, KeyCode::Enter, KeyModifiers::NONE);
        drain(a)
    };
    assert_eq!(run(&mut a, "/create Team"), vec![Command::Create { friendly_name: "Team".into(), unique_name: None }]);
    assert_eq!(
        run(&mut a, "/add carol"),
        vec![Command::AddParticipant { conversation_sid: ch(1), identity: "carol".into() }]
    );
    assert_eq!(
        run(&mut a, "/mute"),
        vec![Command::SetNotificationLevel {
            conversation_sid: ch(1),
            level: convo_tui::api::NotificationLevel::Muted
        }]
    );
    assert_eq!(
        run(&mut a, "/rename Ops"),
        vec![Command::Rename { conversation_sid: ch(1), friendly_name: "Ops".into() }]
    );
    assert_eq!(run(&mut a, "/unread"), vec![Command::MarkAllUnread { conversation_sid: ch(1) }]);
    assert_eq!(
        run(&mut a, "/delete"),
        vec![Command::Delete { conversation_sid: ch(1), message_sid: message(1, 3, "me", "", 0).sid }]
    );
    assert!(run(&mut a, "/remove").is_empty());
    assert_eq!(a.status.as_ref().unwrap().text, "/remove needs an identity: /remove IDENTITY");
    assert!(run(&mut a, "/edit").is_empty());
    assert_eq!(a.composer_text(), "Thanks bob");
    a.reset_composer("Thanks, bob".into());
    a.editing = Some(message(1, 3, "me", "", 0).sid);
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        drain(&mut a),
        vec![Command::Edit {
            conversation_sid: ch(1),
            message_sid: message(1, 3, "me", "", 0).sid,
            body: "Thanks, bob".into()
        }]
    );
    // A created conversation opens when it arrives.
    diff(&mut a, Diff::ConversationUpserted(entry(9, "Team", 0, 100, 0, false)));
    assert_eq!(a.open, Some(ch(9)));
    run(&mut a, "/quit");
    assert!(a.quit);
}

#[test]
fn keys_switch_conversations_from_anywhere_and_keep_drafts() {
    let mut a = populated();
    a.focus = Focus::Composer;
    type_text(&mut a, "half a thought");
    press(&mut a, KeyCode::Down, KeyModifiers::ALT);
    assert_eq!(a.open, Some(ch(2)));
    assert!(a.composer.is_empty());
    assert!(drain(&mut a).contains(&Command::Open { conversation_sid: ch(2) }));
    press(&mut a, KeyCode::Char('p'), KeyModifiers::CONTROL);
    assert_eq!(a.open, Some(ch(1)));
    assert_eq!(a.composer_text(), "half a thought");
    // In the list, j/k move and Enter opens.
    a.focus = Focus::List;
    press(&mut a, KeyCode::Char('j'), KeyModifiers::NONE);
    press(&mut a, KeyCode::Char('j'), KeyModifiers::NONE);
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(a.open, Some(ch(3)));
    assert_eq!(a.focus, Focus::Composer);
    press(&mut a, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(a.focus, Focus::List);
    press(&mut a, KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(a.focus, Focus::Composer);
    press(&mut a, KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(a.quit);
}

#[test]
fn mark_read_and_unread_keys() {
    let mut a = populated();
    a.focus = Focus::Messages;
    drain(&mut a);
    press(&mut a, KeyCode::Char('u'), KeyModifiers::NONE);
    assert_eq!(drain(&mut a), vec![Command::MarkAllUnread { conversation_sid: ch(1) }]);
    update::on_tick(&mut a, Instant::now() + Duration::from_secs(5));
    assert!(drain(&mut a).is_empty(), "marked unread stays unread while you look");
    press(&mut a, KeyCode::Char('r'), KeyModifiers::NONE);
    assert_eq!(drain(&mut a), vec![Command::MarkAllRead { conversation_sid: ch(1) }]);
    assert_eq!(a.unread(&ch(1)), 0);
}

#[test]
fn bell_rings_for_unmuted_conversations_you_are_not_looking_at() {
    let mut a = populated();
    diff(&mut a, Diff::MessageUpserted(message(1, 6, "alice", "here", 50)));
    assert!(!a.bell, "looking at it");
    diff(&mut a, Diff::MessageUpserted(message(2, 40, "alice", "elsewhere", 50)));
    assert!(std::mem::take(&mut a.bell));
    diff(&mut a, Diff::MessageUpserted(message(3, 3, "alice", "muted", 50)));
    assert!(!a.bell);
    let mut quiet = app_with(Settings { bell: false, ..Settings::default() });
    diff(&mut quiet, Diff::Conversations(vec![entry(1, "a", 1, 1, 0, false), entry(2, "b", 1, 0, 0, false)]));
    diff(&mut quiet, Diff::MessageUpserted(message(2, 1, "alice", "x", 5)));
    assert!(!quiet.bell);
}

#[test]
fn regaining_focus_checks_the_connection() {
    let mut a = populated();
    drain(&mut a);
    convo_tui::tui::event_loop::on_event(&mut a, crossterm::event::Event::FocusGained, Instant::now());
    assert!(drain(&mut a).contains(&Command::CheckConnection));
}

#[test]
fn removed_conversation_closes_and_the_next_opens() {
    let mut a = populated();
    diff(&mut a, Diff::ConversationRemoved { conversation_sid: ch(1) });
    assert_eq!(a.open, Some(ch(2)));
    assert!(!a.conversations.contains_key(&ch(1)));
}

#[test]
fn cache_keeps_list_drafts_and_history_across_launches() {
    let dir = tempfile::tempdir().unwrap();
    let cache = convo_tui::tui::cache::Cache::new(&dir.path().join("cache"), &dir.path().join("data"), "me@embedded");
    let mut a = populated();
    a.focus = Focus::Composer;
    type_text(&mut a, "unsent words");
    a.history.push("sent before".into());
    cache.save(&a).unwrap();
    let mut b = app();
    cache.restore(&mut b);
    assert_eq!(b.order, a.order);
    assert_eq!(b.pending_open, Some(ch(1)));
    assert_eq!(b.history, vec!["sent before".to_string()]);
    diff(&mut b, Diff::Conversations(a.order.iter().map(|s| a.conversations[s].clone()).collect()));
    assert_eq!(b.open, Some(ch(1)));
    assert_eq!(b.composer_text(), "unsent words");
}

#[test]
fn a_reconnect_resends_what_was_lost_while_offline() {
    use convo_tui::sdk::ConnectionState;
    let mut a = populated();
    diff(&mut a, Diff::Connection(ConnectionState::Disconnected));
    // Opening while offline: the sync task refuses, the room waits.
    press(&mut a, KeyCode::Down, KeyModifiers::ALT);
    assert!(drain(&mut a).contains(&Command::Open { conversation_sid: ch(2) }));
    diff(&mut a, Diff::Error("open: offline (not connected)".into()));
    diff(&mut a, Diff::Connection(ConnectionState::Connected));
    assert_eq!(drain(&mut a), vec![Command::Open { conversation_sid: ch(2) }]);
    // Already connected: no repeat.
    diff(&mut a, Diff::Connection(ConnectionState::Connected));
    assert!(drain(&mut a).is_empty());
}

#[test]
fn opening_with_more_unread_than_fits_starts_at_the_first_unread() {
    let mut a = app();
    // 50 messages, the last 30 unread: more than a 16-row screen shows.
    diff(&mut a, Diff::Conversations(vec![entry(1, "busy", 50, 60, 30, false)]));
    screen(&mut a, 80, 16);
    diff(
        &mut a,
        Diff::MessagesLoaded { conversation_sid: ch(1), messages: page(1, 0, 50), has_older: false, has_newer: false },
    );
    let text = screen(&mut a, 80, 16);
    assert!(text.contains("new messages") && text.contains("message number 20 "), "{text}");
    assert!(!text.contains("message number 49"), "{text}");
    update::on_tick(&mut a, Instant::now() + Duration::from_secs(5));
    assert!(!drain(&mut a).iter().any(|c| matches!(c, Command::AdvanceRead { .. })), "not read until you get there");
    for _ in 0..5 {
        press(&mut a, KeyCode::PageDown, KeyModifiers::NONE);
    }
    update::on_tick(&mut a, Instant::now() + Duration::from_secs(5));
    assert!(drain(&mut a).contains(&Command::AdvanceRead { conversation_sid: ch(1), index: 49 }));
}
