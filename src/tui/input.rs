//! Keys, mouse and paste → state changes. A key first goes through the keymap
//! (which leaves typing keys alone while the composer has focus); what is left
//! goes to the composer, a `ratatui-textarea` editor, with Enter sending,
//! Alt-Enter/Ctrl-J adding a line and Up/Down at its edges walking history.

use std::time::Instant;

use crate::sdk::Command;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

use super::app::{App, Focus};
use super::keymap::{Action, Key, KeyCodeOrd, Lookup};
use super::search_state::Kind;
use super::{attachments, commands, complete, editor, search, switcher};
use super::{paging, read, select, update};

/// Lines scrolled per mouse-wheel notch.
const WHEEL_ROWS: usize = 3;

pub fn on_key(app: &mut App, ev: KeyEvent, now: Instant) {
    if ev.kind == KeyEventKind::Release {
        return;
    }
    let Some(key) = Key::from_event(&ev) else { return };
    if app.search.view.is_some() {
        if search::on_key(app, ev, now) {
            return;
        }
        if app.keymap.lookup(key, true) == Lookup::Action(Action::Quit) {
            app.quit = true;
        }
        return;
    }
    if app.switcher.is_some() {
        if switcher::on_key(app, ev, now) {
            return;
        }
        if app.keymap.lookup(key, true) == Lookup::Action(Action::Quit) {
            app.quit = true;
        }
        return;
    }
    let tab = !key.ctrl && !key.alt && matches!(key.code, KeyCodeOrd::Tab | KeyCodeOrd::BackTab);
    if !tab {
        app.completion = None;
    } else if app.focus == Focus::Composer
        && !app.show_help
        && complete::on_tab(app, key.code == KeyCodeOrd::BackTab, now)
    {
        return;
    }
    if app.show_help {
        match app.keymap.lookup(key, false) {
            Lookup::Action(Action::Quit) => app.quit = true,
            Lookup::Pending => {}
            _ => app.show_help = false,
        }
        return;
    }
    match app.keymap.lookup(key, app.focus == Focus::Composer) {
        // Message actions without a selected message: the key types as usual.
        Lookup::Action(a) if select::needs_selection(a) && !select::active(app) => unbound(app, ev, now),
        Lookup::Action(a) => on_action(app, a, now),
        Lookup::Pending => {}
        Lookup::Unbound => unbound(app, ev, now),
    }
}

/// A key no binding took.
fn unbound(app: &mut App, ev: KeyEvent, now: Instant) {
    if app.focus == Focus::Composer {
        composer_key(app, ev, now);
    } else if let KeyCode::Char(_) = ev.code
        && !ev.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        && app.open.is_some()
    {
        // Typing anywhere starts a message.
        app.focus = Focus::Composer;
        composer_key(app, ev, now);
    } else if ev.code == KeyCode::Esc && search::back(app, now) {
        // Esc after opening a search hit goes back to where you were.
    } else if ev.code == KeyCode::Esc && app.focus == Focus::Messages && select::clear(app) {
        // Esc first drops the selection, then leaves the pane.
    } else if ev.code == KeyCode::Esc {
        app.focus = Focus::List;
    }
}

pub fn on_action(app: &mut App, action: Action, now: Instant) {
    let page = (app.pane.height as usize).saturating_sub(2).max(1);
    match action {
        Action::Quit => app.quit = true,
        Action::Help => app.show_help = !app.show_help,
        Action::FocusNext | Action::FocusPrev => {
            let order = [Focus::List, Focus::Messages, Focus::Composer];
            let i = order.iter().position(|f| *f == app.focus).unwrap_or(0);
            let step = if action == Action::FocusNext { 1 } else { 2 };
            app.focus = order[(i + step) % 3];
        }
        Action::NextConversation => switch(app, 1, now),
        Action::PrevConversation => switch(app, -1, now),
        Action::Up | Action::Down => {
            let down = action == Action::Down;
            match app.focus {
                Focus::List => move_selection(app, if down { 1 } else { -1 }),
                Focus::Messages => select::step(app, if down { 1 } else { -1 }, now),
                _ if down => paging::scroll_down(app, 1, now),
                _ => paging::scroll_up(app, 1, now),
            }
        }
        Action::Open => {
            if app.focus == Focus::List
                && let Some(sid) = app.selected.clone()
            {
                update::open_conversation(app, &sid, now);
                app.focus = Focus::Composer;
            }
        }
        Action::PageUp => paging::scroll_up(app, page, now),
        Action::PageDown => paging::scroll_down(app, page, now),
        Action::HalfPageUp => paging::scroll_up(app, page / 2 + 1, now),
        Action::HalfPageDown => paging::scroll_down(app, page / 2 + 1, now),
        Action::JumpNewest => paging::jump_newest(app, now),
        Action::JumpFirstUnread => {
            let target = app.open.as_ref().and_then(|s| app.rooms.get(s)).and_then(|r| r.first_unread);
            match target {
                Some(t) => paging::jump_to(app, t),
                None => app.set_status("no unread messages here", false, now),
            }
        }
        Action::JumpOldest => paging::jump_to(app, 0),
        Action::MarkRead => {
            if let Some(sid) = app.open.clone() {
                read::mark_read(app, sid);
                app.set_status("marked read", false, now);
            }
        }
        Action::MarkUnread => {
            if let Some(sid) = app.open.clone() {
                read::mark_unread(app, sid);
                app.set_status("marked unread", false, now);
            }
        }
        Action::CommandPrompt => {
            app.focus = Focus::Composer;
            if app.composer.is_empty() {
                app.composer.insert_char('/');
            }
        }
        Action::Compose => app.focus = Focus::Composer,
        Action::Switcher => switcher::toggle(app),
        Action::Search => search::open(app, Kind::Text, false, None),
        Action::Mentions => search::open(app, Kind::Mentions, false, None),
        Action::Editor => {
            app.focus = Focus::Composer;
            editor::request(app);
        }
        Action::SaveAttachment => attachments::save_selected(app, now),
        Action::OpenAttachment => attachments::open_selected(app, now),
        a if select::needs_selection(a) => {
            select::on_action(app, a, now);
        }
        _ => {}
    }
}

fn move_selection(app: &mut App, delta: isize) {
    if app.order.is_empty() {
        return;
    }
    let pos = app.selected_pos().unwrap_or(0) as isize;
    let next = (pos + delta).clamp(0, app.order.len() as isize - 1) as usize;
    app.selected = Some(app.order[next].clone());
}

/// Opens the next/previous conversation in list order, wrapping around.
fn switch(app: &mut App, delta: isize, now: Instant) {
    if app.order.is_empty() {
        return;
    }
    let len = app.order.len() as isize;
    let pos = app.open.as_ref().and_then(|o| app.order.iter().position(|s| s == o)).map_or(0, |p| p as isize);
    let next = app.order[((pos + delta) % len + len) as usize % app.order.len()].clone();
    update::open_conversation(app, &next, now);
}

fn composer_key(app: &mut App, ev: KeyEvent, now: Instant) {
    let alt = ev.modifiers.contains(KeyModifiers::ALT);
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    match ev.code {
        KeyCode::Enter if alt || ev.modifiers.contains(KeyModifiers::SHIFT) => app.composer.insert_newline(),
        KeyCode::Char('j') if ctrl => app.composer.insert_newline(),
        KeyCode::Enter => submit(app, now),
        // End at the end of the text (or in an empty composer) jumps to the newest message.
        KeyCode::End if !alt && !ctrl && at_end(app) => paging::jump_newest(app, now),
        KeyCode::Esc => {
            if app.editing.take().is_some() {
                app.reset_composer(String::new());
                app.set_status("edit cancelled", false, now);
            } else {
                app.focus = Focus::Messages;
            }
        }
        KeyCode::Up if app.composer.cursor().0 == 0 && !app.history.is_empty() && app.editing.is_none() => {
            let pos = match app.history_pos {
                None if !app.composer.is_empty() => return,
                None => app.history.len() - 1,
                Some(p) => p.saturating_sub(1),
            };
            app.history_pos = Some(pos);
            let line = app.history[pos].clone();
            app.reset_composer(line);
        }
        KeyCode::Down if app.history_pos.is_some() && app.composer.cursor().0 + 1 >= app.composer.lines().len() => {
            let next = app.history_pos.map_or(0, |p| p + 1);
            if next >= app.history.len() {
                app.history_pos = None;
                app.reset_composer(String::new());
            } else {
                app.history_pos = Some(next);
                let line = app.history[next].clone();
                app.reset_composer(line);
            }
        }
        _ => {
            if app.composer.input(ev) {
                app.history_pos = None;
                typing(app);
            }
        }
    }
}

/// Whether the composer's cursor is after the last character.
fn at_end(app: &App) -> bool {
    let ratatui_textarea::DataCursor(row, col) = app.composer.cursor();
    let lines = app.composer.lines();
    row + 1 >= lines.len() && lines.last().is_none_or(|l| col >= l.chars().count())
}

/// Tells the sync task the user is typing (it sends at most one frame per
/// Twilio's typing timeout: `sdk::rules::typing`).
fn typing(app: &mut App) {
    let Some(sid) = app.open.clone() else { return };
    let text = app.composer_text();
    if text.trim().is_empty() || text.starts_with('/') {
        return;
    }
    app.outbox.push(Command::Typing { conversation_sid: sid });
}

/// Enter in the composer: run a /command, save an edit, or send the text.
pub fn submit(app: &mut App, now: Instant) {
    let text = app.composer_text();
    if text.trim().is_empty() {
        return;
    }
    if let Some(msid) = app.editing.take() {
        if let Some(sid) = app.open.clone() {
            app.outbox.push(Command::Edit { conversation_sid: sid, message_sid: msid, body: text });
        }
        app.reset_composer(String::new());
        return;
    }
    if text.starts_with('/') && !text.starts_with("//") {
        match commands::parse(&text).and_then(|c| commands::run(app, c, now)) {
            Ok(()) => {
                if app.editing.is_none() {
                    app.reset_composer(String::new());
                }
            }
            Err(e) => app.set_status(e, true, now),
        }
        return;
    }
    // `//text` sends "/text".
    let body = if text.starts_with("//") { text[1..].to_string() } else { text.clone() };
    let Some(sid) = app.open.clone() else {
        app.set_status("open a conversation first (Tab to the list, Enter), or /create NAME", true, now);
        return;
    };
    app.outbox.push(Command::Send { conversation_sid: sid.clone(), body, attributes: None });
    if app.history.last() != Some(&text) {
        app.history.push(text);
        if app.history.len() > 200 {
            app.history.remove(0);
        }
    }
    app.history_pos = None;
    app.drafts.remove(&sid);
    app.reset_composer(String::new());
    paging::jump_newest(app, now);
}

pub fn on_mouse(app: &mut App, ev: MouseEvent, now: Instant) {
    match ev.kind {
        MouseEventKind::ScrollUp => paging::scroll_up(app, WHEEL_ROWS, now),
        MouseEventKind::ScrollDown => paging::scroll_down(app, WHEEL_ROWS, now),
        MouseEventKind::Down(crossterm::event::MouseButton::Left) => select::click(app, ev.column, ev.row),
        _ => {}
    }
}

pub fn on_paste(app: &mut App, text: &str) {
    if app.search.view.is_some() {
        search::paste(app, text);
        return;
    }
    if let Some(s) = app.switcher.as_mut() {
        s.query.push_str(&super::sanitize::line(text));
        s.selected = 0;
        switcher::refresh(app);
        return;
    }
    app.focus = Focus::Composer;
    // Pasted text is the user's own, but keep controls out of the editor anyway.
    let clean = super::sanitize::text(text);
    app.composer.insert_str(clean);
    typing(app);
}
