//! Rich messages in the TUI: snapshots of each new element (markdown, reply
//! quote, reactions, attachments, read by, selection, mention mark) and the
//! reducers of selection, `/reply` and `/react`.

use std::time::Instant;

use convo_tui::api::Message;
use convo_tui::sdk::rules::rich::ReplyTo;
use convo_tui::sdk::{Command, Diff};
use convo_tui::tui::App;
use convo_tui::tui::app::Focus;
use crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::style::Modifier;
use serde_json::json;

use crate::fixtures::*;

macro_rules! snap {
    ($name:expr, $text:expr) => {
        insta::with_settings!({ snapshot_path => "snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $text);
        })
    };
}

fn with_attrs(m: Message, attrs: serde_json::Value) -> Message {
    Message { attributes: attrs.to_string(), ..m }
}

/// "general" open with the given messages and alice, bob and me in it.
fn room_with(messages: Vec<Message>) -> App {
    let mut a = app();
    let n = messages.len() as u64;
    diff(&mut a, Diff::Conversations(vec![entry(1, "general", n, 30, 0, false), entry(2, "random", 3, 20, 2, false)]));
    open_general(&mut a, messages);
    a
}

fn reply_attrs(to: &Message) -> serde_json::Value {
    json!({"reply_to": {"message_sid": to.sid, "index": to.index, "author": to.author}})
}

fn drain(a: &mut App) -> Vec<Command> {
    std::mem::take(&mut a.outbox)
}

#[test]
fn markdown_bodies_render_styled() {
    let body = "**Release** is _today_ ~~tomorrow~~, see `make ship`:\n\n> ship it\n\n- one\n- two\n\n```\nlet x = 1;\n```\n[notes](https://example.com/notes) and https://x.org";
    let mut a = room_with(vec![message(1, 0, "alice", body, 1)]);
    let text = screen(&mut a, 90, 20);
    snap!("rich_markdown", text);
    let buf = buffer(&mut a, 90, 20);
    let find = |word: &str| {
        (0..20u16)
            .find_map(|y| {
                let row: String = (0..90u16).map(|x| buf[(x, y)].symbol().to_string()).collect();
                row.find(word).map(|col| (row[..col].chars().count() as u16, y))
            })
            .unwrap()
    };
    let (x, y) = find("Release");
    assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
    let (x, y) = find("today");
    assert!(buf[(x, y)].modifier.contains(Modifier::ITALIC));
    let (x, y) = find("tomorrow");
    assert!(buf[(x, y)].modifier.contains(Modifier::CROSSED_OUT));
    let (x, y) = find("https://x.org");
    assert!(buf[(x, y)].modifier.contains(Modifier::UNDERLINED));
}

#[test]
fn a_reply_shows_a_quote_of_the_message_it_answers() {
    let first = message(1, 0, "alice", "Can someone review the **paging** patch before lunch today please?", 1);
    let reply = with_attrs(message(1, 1, "bob", "on it", 2), reply_attrs(&first));
    let far = with_attrs(
        message(1, 2, "bob", "and this one", 3),
        json!({"reply_to": {"message_sid": "IMgone", "index": 0, "author": "carol\u{1b}[31m"}}),
    );
    let mut a = room_with(vec![first, reply, far]);
    let text = screen(&mut a, 70, 14);
    assert!(text.contains("↳ alice: Can someone review"), "{text}");
    assert!(text.contains("↳ carol[31m: message #0") || text.contains("↳ carol: message #0"), "{text}");
    assert!(!text.contains('\u{1b}'));
    snap!("rich_reply_quote", text);
}

#[test]
fn reactions_and_attachments_show_under_the_message() {
    let m = with_attrs(
        message(1, 0, "alice", "the build", 1),
        json!({"reactions": {"heart": ["bob"], "thumbs_up": ["me", "bob"], "🎉": ["alice"], "rocket\u{1b}]0;x\u{7}": ["bob"]}}),
    );
    let media = Message {
        body: None,
        media: Some(json!([
            {"sid": "ME1", "content_type": "application/pdf", "filename": "report\u{1b}[2J.pdf", "size": 1_572_864, "category": "media"},
            {"sid": "ME2", "content_type": "image/png", "filename": "shot.png", "size": 2048, "category": "media"}
        ])),
        ..message(1, 1, "bob", "", 2)
    };
    let mut a = room_with(vec![m, media]);
    let text = screen(&mut a, 80, 12);
    assert!(text.contains("❤ 1  [👍 2]  :rocket: 1  🎉 1"), "{text}");
    assert!(text.contains("📎 report.pdf (1.5 MB, application/pdf)"), "{text}");
    assert!(text.contains("shot.png (2.0 KB, image/png)"), "{text}");
    snap!("rich_reactions_attachments", text);
}

#[test]
fn read_by_shows_under_your_latest_message_and_hides_in_big_rooms() {
    let mut a = room_with(vec![message(1, 0, "me", "first", 1), message(1, 1, "me", "second", 2)]);
    let mut alice = participant(1, 1, "alice");
    alice.last_read_message_index = Some(1);
    let mut bob = participant(1, 2, "bob");
    bob.last_read_message_index = Some(0);
    diff(&mut a, Diff::ParticipantUpserted(alice.clone()));
    diff(&mut a, Diff::ParticipantUpserted(bob.clone()));
    let text = screen(&mut a, 70, 12);
    assert_eq!(text.matches("read by").count(), 1, "{text}");
    assert!(text.contains("✓ read by alice"), "{text}");
    snap!("rich_read_by", text);
    bob.last_read_message_index = Some(1);
    diff(&mut a, Diff::ParticipantUpserted(bob));
    assert!(screen(&mut a, 70, 12).contains("✓ read by alice, bob"));
    a.settings.read_by_max = 2;
    assert!(!screen(&mut a, 70, 12).contains("read by"), "hidden in rooms over the size");
}

#[test]
fn keys_select_messages_and_esc_clears() {
    let mut a = room_with(page(1, 0, 5));
    a.focus = Focus::Messages;
    press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    assert_eq!(a.rooms[&ch(1)].selected, Some(4), "Up starts at the newest");
    press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    assert_eq!(a.rooms[&ch(1)].selected, Some(2));
    press(&mut a, KeyCode::Down, KeyModifiers::NONE);
    assert_eq!(a.rooms[&ch(1)].selected, Some(3));
    let buf = buffer(&mut a, 80, 14);
    let row = (0..14u16)
        .find(|y| (0..80u16).map(|x| buf[(x, *y)].symbol().to_string()).collect::<String>().contains("number 3"))
        .unwrap();
    assert!(buf[(30, row)].modifier.contains(Modifier::REVERSED), "the selected message is highlighted");
    snap!("rich_selected", screen(&mut a, 80, 14));
    press(&mut a, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(a.rooms[&ch(1)].selected, None);
    assert_eq!(a.focus, Focus::Messages, "the first Esc only drops the selection");
}

#[test]
fn selection_follows_into_older_messages_and_asks_for_pages() {
    let mut a = app();
    diff(&mut a, Diff::Conversations(vec![entry(1, "general", 200, 300, 0, false)]));
    diff(
        &mut a,
        Diff::MessagesLoaded { conversation_sid: ch(1), messages: page(1, 150, 50), has_older: true, has_newer: false },
    );
    screen(&mut a, 80, 16);
    drain(&mut a);
    a.focus = Focus::Messages;
    for _ in 0..49 {
        press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    }
    assert_eq!(a.rooms[&ch(1)].selected, Some(151));
    assert!(screen(&mut a, 80, 16).contains("message number 151"), "the view follows the selection");
    press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    assert!(drain(&mut a).iter().any(|c| matches!(c, Command::LoadOlder { before_index: 150, .. })));
}

#[test]
fn a_click_selects_the_message_under_it() {
    let mut a = room_with(page(1, 0, 3));
    let text = screen(&mut a, 80, 14);
    let (y, line) = text.lines().enumerate().find(|(_, l)| l.contains("number 1")).unwrap();
    let x = line.find("number").unwrap() as u16;
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y as u16,
        modifiers: KeyModifiers::NONE,
    };
    convo_tui::tui::input::on_mouse(&mut a, click, Instant::now());
    assert_eq!(a.rooms[&ch(1)].selected, Some(1));
    assert_eq!(a.focus, Focus::Messages);
}

#[test]
fn reply_goes_to_the_selection_else_the_last_message_from_someone_else() {
    let mut a = room_with(vec![
        message(1, 0, "alice", "one", 1),
        message(1, 1, "bob", "two", 2),
        message(1, 2, "me", "mine", 3),
    ]);
    drain(&mut a);
    a.focus = Focus::Composer;
    type_text(&mut a, "/reply sure");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    let want = ReplyTo { message_sid: a.rooms[&ch(1)].messages[&1].sid.clone(), index: 1, author: "bob".into() };
    assert_eq!(drain(&mut a), vec![Command::Reply { conversation_sid: ch(1), body: "sure".into(), to: want }]);
    // Select alice's message and press R: the composer gets /reply, Enter sends to her.
    a.focus = Focus::Messages;
    for _ in 0..3 {
        press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    }
    press(&mut a, KeyCode::Char('R'), KeyModifiers::SHIFT);
    assert_eq!(a.focus, Focus::Composer);
    assert_eq!(a.composer_text(), "/reply ");
    type_text(&mut a, "yes");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    let cmds = drain(&mut a);
    assert!(
        matches!(&cmds[..], [Command::Reply { to, body, .. }] if to.index == 0 && to.author == "alice" && body == "yes"),
        "{cmds:?}"
    );
    assert_eq!(a.rooms[&ch(1)].selected, None, "sending drops the selection");
    a.focus = Focus::Composer;
    type_text(&mut a, "/reply");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert!(a.status.as_ref().unwrap().text.contains("/reply needs text"));
}

#[test]
fn react_parses_names_and_sends_the_reaction() {
    let mut a = room_with(vec![message(1, 0, "alice", "one", 1)]);
    drain(&mut a);
    a.focus = Focus::Composer;
    type_text(&mut a, "/react sparkles");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    assert!(a.status.as_ref().unwrap().text.contains("unknown reaction"), "{:?}", a.status);
    assert!(drain(&mut a).is_empty(), "nothing is sent for an unknown name");
    a.reset_composer(String::new());
    type_text(&mut a, "/react +1");
    press(&mut a, KeyCode::Enter, KeyModifiers::NONE);
    let sid = a.rooms[&ch(1)].messages[&0].sid.clone();
    assert_eq!(
        drain(&mut a),
        vec![Command::React { conversation_sid: ch(1), message_sid: sid, reaction: "thumbs_up".into() }]
    );
    assert_eq!(convo_tui::tui::select::reaction_name("🎉"), Ok("🎉".into()));
    assert_eq!(convo_tui::tui::select::reaction_name(":heart:"), Ok("heart".into()));
}

#[test]
fn actions_on_the_selection_edit_delete_copy_and_jump() {
    let first = message(1, 0, "alice", "see https://example.com/x", 1);
    let reply = with_attrs(message(1, 1, "me", "ok", 2), reply_attrs(&first));
    let mut a = room_with(vec![first, reply]);
    drain(&mut a);
    // Without a selection the keys type as usual.
    a.focus = Focus::Messages;
    press(&mut a, KeyCode::Char('e'), KeyModifiers::NONE);
    assert_eq!((a.focus, a.composer_text().as_str()), (Focus::Composer, "e"));
    a.reset_composer(String::new());
    a.focus = Focus::Messages;
    press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    press(&mut a, KeyCode::Char('y'), KeyModifiers::NONE);
    assert_eq!(a.clipboard.as_deref(), Some("ok"));
    press(&mut a, KeyCode::Char('J'), KeyModifiers::SHIFT);
    assert_eq!(a.rooms[&ch(1)].selected, Some(0), "jumped to the answered message");
    press(&mut a, KeyCode::Char('e'), KeyModifiers::NONE);
    assert!(a.status.as_ref().unwrap().text.contains("only your own"));
    assert!(a.editing.is_none());
    press(&mut a, KeyCode::Down, KeyModifiers::NONE);
    press(&mut a, KeyCode::Char('e'), KeyModifiers::NONE);
    assert_eq!(a.editing.as_deref(), Some(a.rooms[&ch(1)].messages[&1].sid.as_str()));
    assert_eq!(a.composer_text(), "ok");
    press(&mut a, KeyCode::Esc, KeyModifiers::NONE);
    a.focus = Focus::Messages;
    drain(&mut a);
    press(&mut a, KeyCode::Char('x'), KeyModifiers::NONE);
    let sid = a.rooms[&ch(1)].messages[&1].sid.clone();
    assert_eq!(drain(&mut a), vec![Command::Delete { conversation_sid: ch(1), message_sid: sid }]);
}

#[test]
fn jumping_to_a_far_answered_message_loads_its_page() {
    let mut a = app();
    diff(&mut a, Diff::Conversations(vec![entry(1, "general", 200, 300, 0, false)]));
    let mut msgs = page(1, 150, 50);
    msgs[49] = with_attrs(
        message(1, 199, "bob", "re: the start", 199),
        json!({"reply_to": {"message_sid": "IM0000000000000001000000000000000a", "index": 10, "author": "alice"}}),
    );
    diff(&mut a, Diff::MessagesLoaded { conversation_sid: ch(1), messages: msgs, has_older: true, has_newer: false });
    screen(&mut a, 80, 16);
    drain(&mut a);
    a.focus = Focus::Messages;
    press(&mut a, KeyCode::Up, KeyModifiers::NONE);
    press(&mut a, KeyCode::Char('J'), KeyModifiers::SHIFT);
    let cmds = drain(&mut a);
    assert!(matches!(&cmds[..], [Command::LoadOlder { before_index: 150, count, .. }] if *count >= 140), "{cmds:?}");
    diff(
        &mut a,
        Diff::MessagesLoaded { conversation_sid: ch(1), messages: page(1, 0, 150), has_older: false, has_newer: true },
    );
    assert!(screen(&mut a, 80, 16).contains("message number 10"));
    assert_eq!(a.rooms[&ch(1)].selected, Some(10));
}

#[test]
fn a_mention_rings_even_when_muted_and_marks_the_list() {
    let mut a = app();
    diff(&mut a, Diff::Conversations(vec![entry(1, "general", 1, 30, 0, false), entry(2, "quiet", 1, 20, 0, true)]));
    diff(
        &mut a,
        Diff::MessagesLoaded { conversation_sid: ch(1), messages: page(1, 0, 1), has_older: false, has_newer: false },
    );
    diff(&mut a, Diff::MessageUpserted(message(2, 1, "bob", "nothing for you", 2)));
    assert!(!a.bell, "muted stays quiet");
    let mut e = entry(2, "quiet", 3, 40, 2, true);
    e.conversation.last_message = None;
    diff(&mut a, Diff::ConversationUpserted(e));
    diff(&mut a, Diff::MessageUpserted(message(2, 2, "bob", "hey @me, look", 3)));
    assert!(a.bell, "a mention rings through mute");
    assert!(a.mentioned.contains(&ch(2)));
    let text = screen(&mut a, 80, 10);
    assert!(text.contains("@ 2 muted"), "{text}");
    snap!("rich_list_mention", text);
    convo_tui::tui::update::open_conversation(&mut a, &ch(2), Instant::now());
    assert!(!a.mentioned.contains(&ch(2)), "looking clears the mark");
    diff(
        &mut a,
        Diff::MessagesLoaded {
            conversation_sid: ch(2),
            messages: vec![message(2, 2, "bob", "hey @me, look", 3)],
            has_older: false,
            has_newer: false,
        },
    );
    let buf = buffer(&mut a, 80, 10);
    let (x, y) = (0..10u16)
        .find_map(|y| {
            let row: String = (0..80u16).map(|x| buf[(x, y)].symbol().to_string()).collect();
            row.find("@me,").map(|c| (row[..c].chars().count() as u16, y))
        })
        .unwrap();
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED), "the mention is highlighted");
}

/// Frame time with 1,000 messages carrying reactions, replies and markdown:
/// a cold frame (nothing wrapped yet), then frames while paging up through
/// all of them, each a full draw of a 200×60 screen. Figures printed, never
/// asserted. Run: `cargo test --release --test tui rich_frame_time -- --ignored --nocapture`.
#[test]
#[ignore]
fn rich_frame_time_with_1000_rich_messages() {
    let msgs: Vec<Message> = (0..1000)
        .map(|i| {
            let author = ["alice", "bob", "me"][i as usize % 3];
            let body = format!("message **{i}** with `code`, _style_ and https://example.com/{i} for @me");
            let mut attrs = json!({"reactions": {"heart": ["alice", "me"], "thumbs_up": ["bob"], "🎉": ["carol"]}});
            if i > 0 {
                attrs["reply_to"] =
                    json!({"message_sid": format!("IM{:016x}{:016x}", 1, i - 1), "index": i - 1, "author": "x"});
            }
            with_attrs(message(1, i, author, &body, i), attrs)
        })
        .collect();
    let mut a = app_with(convo_tui::config::Settings { max_messages: 5000, ..Default::default() });
    diff(&mut a, Diff::Conversations(vec![entry(1, "general", 1000, 1000, 0, false)]));
    diff(&mut a, Diff::MessagesLoaded { conversation_sid: ch(1), messages: msgs, has_older: false, has_newer: false });
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(200, 60)).unwrap();
    let mut draw = |a: &mut App| {
        let start = Instant::now();
        t.draw(|f| {
            convo_tui::tui::widgets::fit(a, f.area());
            convo_tui::tui::widgets::draw(f, a)
        })
        .unwrap();
        start.elapsed()
    };
    let cold = draw(&mut a);
    let mut times = Vec::new();
    for _ in 0..400 {
        press(&mut a, KeyCode::PageUp, KeyModifiers::NONE);
        times.push(draw(&mut a));
    }
    for _ in 0..50 {
        times.push(draw(&mut a));
    }
    times.sort();
    let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "rich frame, 200x60, 1000 messages with reactions+replies: cold {:?}, paging/redraw p50 {:?}, p99 {:?}, max {:?} ({} frames)",
        cold,
        p(0.5),
        p(0.99),
        times[times.len() - 1],
        times.len()
    );
    assert!(screen(&mut a, 200, 60).contains("message 0 "), "paged up to the first message");
}
