//! Search in the client (Ctrl-F, `/search [-here] TEXT`, `/mentions`): the
//! results view's keys, opening a hit in its conversation, and Esc back.
//!
//! A query runs through the sync task (`Command::Search`); hits arrive a page
//! at a time (`search_state`), more as the selection nears the end. Enter opens
//! the conversation around the hit (`Command::OpenAt`) with it selected.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::api;
use crate::sdk::Command;

use super::app::{App, Focus, ReturnPoint};
pub use super::search_state::{Hit, Kind, SearchView};
use super::{paging, sanitize, update};

/// Up/Down steps of PageUp/PageDown in the list.
const PAGE_STEP: usize = 10;

/// Opens a results view: Ctrl-F (the last one again, if kept), `/search`, `/mentions`.
/// A query given runs at once; an empty one waits in the prompt.
pub fn open(app: &mut App, kind: Kind, here: bool, query: Option<String>) {
    app.switcher = None;
    if kind == Kind::Text
        && query.is_none()
        && !here
        && let Some(v) = app.search.kept.take().filter(|v| v.kind == Kind::Text)
    {
        app.search.view = Some(v);
        return;
    }
    let scope = if here { app.open.clone() } else { None };
    let query = match kind {
        Kind::Mentions => format!("@{}", app.identity),
        Kind::Text => query.map(|q| sanitize::line(&q)).unwrap_or_default(),
    };
    app.search.view = Some(SearchView::new(kind, query, scope));
    run(app);
}

/// Closes the view, keeping it for the next Ctrl-F.
pub fn close(app: &mut App) {
    if let Some(v) = app.search.view.take() {
        app.search.kept = Some(v);
    }
}

/// Runs the view's query afresh (first page).
pub fn run(app: &mut App) {
    let Some(v) = app.search.view.as_mut() else { return };
    let query = v.query.trim().to_string();
    if api::search::parse(&query).is_empty() {
        v.ran = None;
        v.hits.clear();
        return;
    }
    app.search.seq += 1;
    v.request = app.search.seq;
    v.ran = Some((query.clone(), v.here.clone()));
    v.hits.clear();
    v.selected = 0;
    v.next_page_token = None;
    v.loading = true;
    let conversation_sid = v.here.clone();
    app.outbox.push(Command::Search { request: v.request, query, conversation_sid, page_token: None });
}

/// Asks for the next page when the selection nears the end of the hits.
fn more(app: &mut App) {
    if let Some(cmd) = app.search.view.as_mut().and_then(SearchView::more) {
        app.outbox.push(cmd);
    }
}

/// A key while the view is open. Returns false when the key is not the
/// view's (the caller then looks it up in the keymap, for Ctrl-C).
pub fn on_key(app: &mut App, key: KeyEvent, now: Instant) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let open = app.open.clone();
    let Some(v) = app.search.view.as_mut() else { return false };
    let text = v.kind == Kind::Text;
    let len = v.hits.len();
    let last = len.saturating_sub(1);
    match key.code {
        KeyCode::Esc => close(app),
        KeyCode::Char('f') if ctrl => close(app),
        KeyCode::Enter => {
            let fresh = v.ran.as_ref() != Some(&(v.query.trim().to_string(), v.here.clone()));
            if text && fresh { run(app) } else { choose(app, now) }
        }
        KeyCode::Down => v.selected = (v.selected + 1).min(last),
        KeyCode::Char('n') if ctrl => v.selected = (v.selected + 1).min(last),
        KeyCode::Up => v.selected = v.selected.saturating_sub(1),
        KeyCode::Char('p') if ctrl => v.selected = v.selected.saturating_sub(1),
        KeyCode::PageDown => v.selected = (v.selected + PAGE_STEP).min(last),
        KeyCode::PageUp => v.selected = v.selected.saturating_sub(PAGE_STEP),
        KeyCode::Home => v.selected = 0,
        KeyCode::End => v.selected = last,
        // Tab: this conversation only, or all of them again.
        KeyCode::Tab | KeyCode::BackTab if text => {
            v.here = if v.here.is_some() { None } else { open };
        }
        KeyCode::Backspace if text => {
            v.query.pop();
        }
        KeyCode::Char('u') if ctrl && text => v.query.clear(),
        KeyCode::Char(c) if text && !ctrl && !alt && !c.is_control() => v.query.push(c),
        // The mentions view takes no typing; swallow it rather than type elsewhere.
        KeyCode::Char(_) if !ctrl && !alt => {}
        _ => return false,
    }
    more(app);
    true
}

/// Pasted text goes to the prompt.
pub fn paste(app: &mut App, text: &str) {
    if let Some(v) = app.search.view.as_mut().filter(|v| v.kind == Kind::Text) {
        v.query.push_str(&sanitize::line(text));
    }
}

/// Enter on a hit: open its conversation at the message, selected, and
/// remember where you were (the first place, when hopping from hit to hit).
fn choose(app: &mut App, now: Instant) {
    let Some(hit) = app.search.view.as_ref().and_then(|v| v.hits.get(v.selected)).cloned() else { return };
    if !app.conversations.contains_key(&hit.conversation_sid) {
        app.set_status("that conversation is gone", true, now);
        return;
    }
    close(app);
    let hopping = app.jump_back.as_ref().filter(|b| app.open.as_deref() == Some(b.at.as_str()));
    let mut back = hopping.cloned().unwrap_or_else(|| here(app));
    back.at = hit.conversation_sid.clone();
    app.jump_back = Some(back);
    show_message(app, &hit.conversation_sid, hit.index, true, now);
    app.focus = Focus::Messages;
    app.set_status("Esc goes back to where you were", false, now);
}

/// Where you are now, as a place to come back to.
fn here(app: &App) -> ReturnPoint {
    let room = app.open.as_ref().and_then(|s| app.rooms.get(s));
    ReturnPoint {
        at: String::new(),
        open: app.open.clone(),
        anchor: room.and_then(|r| r.anchor),
        selected: room.and_then(|r| r.selected),
        focus: app.focus,
    }
}

/// Opens `sid` with message `index` on screen (selected, and in the middle of
/// what came before and after, when `select`). Held already: just scrolls there.
/// Otherwise the window is replaced by the history around it (`Command::OpenAt`),
/// however far back it is.
pub fn show_message(app: &mut App, sid: &str, index: i64, select: bool, now: Instant) {
    let held = app.rooms.get(sid).is_some_and(|r| r.loaded && r.messages.contains_key(&index));
    if !held {
        let room = app.rooms.entry(sid.to_string()).or_default();
        room.messages.clear();
        room.wrap_cache.clear();
        room.loaded = false;
        // Live messages meanwhile wait below, as when far pages were dropped.
        room.has_newer = true;
        room.loading_older = true;
        room.loading_newer = false;
        app.outbox.push(Command::OpenAt { conversation_sid: sid.to_string(), index });
    }
    update::open_conversation(app, sid, now);
    if let Some(room) = app.rooms.get_mut(sid) {
        room.selected = if select { Some(index) } else { None };
        room.seek = (!held).then_some(index);
        room.new_below = 0;
    }
    if held {
        paging::with_room(app, |room, height, ctx| {
            if select {
                paging::center_on(room, index, height, ctx);
            } else {
                room.anchor = Some(super::app::Anchor { index, row: 0 });
            }
        });
    }
}

/// Esc after Enter on a hit: back to the conversation and place you were in.
/// False when there is nowhere to go back to (or you have moved on since).
pub fn back(app: &mut App, now: Instant) -> bool {
    let Some(b) = app.jump_back.take() else { return false };
    if app.open.as_deref() != Some(b.at.as_str()) {
        return false;
    }
    if let Some(room) = app.rooms.get_mut(&b.at) {
        room.selected = None;
    }
    if let Some(sid) = b.open.filter(|s| app.conversations.contains_key(s)) {
        match b.anchor {
            Some(a) => {
                show_message(app, &sid, a.index, false, now);
                if let Some(room) = app.rooms.get_mut(&sid)
                    && room.seek.is_none()
                {
                    room.anchor = Some(a);
                }
            }
            None => {
                update::open_conversation(app, &sid, now);
                paging::jump_newest(app, now);
            }
        }
        if let Some(room) = app.rooms.get_mut(&sid) {
            room.selected = b.selected;
        }
    }
    app.focus = b.focus;
    app.set_status("back where you were", false, now);
    true
}
