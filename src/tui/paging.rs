//! The viewport's side of the protocol: merging pages into a room's window,
//! scrolling (which asks for older or newer pages before the view needs them),
//! jumps, and trimming far pages to keep memory per conversation capped.

use std::time::Instant;

use crate::api::Message;
use crate::sdk::Command;

use super::app::{Anchor, App, Msg, Room};
use super::message_view::{self, ViewCtx};
use super::read::check_read;

fn merge_messages(room: &mut Room, messages: &[Message], has_older: bool, has_newer: bool) {
    let (Some(p0), Some(p1)) = (messages.first().map(|m| m.index), messages.last().map(|m| m.index)) else {
        // An empty page still tells where the ends are.
        if room.messages.is_empty() {
            room.has_older = has_older;
            room.has_newer = has_newer;
        } else if room.loading_older && !has_older {
            room.has_older = false;
        }
        return;
    };
    let window = room.first_index().zip(room.last_index());
    let disjoint_newest = window.is_some_and(|(_, w1)| room.has_newer && !has_newer && p0 > w1);
    match window {
        Some((w0, w1)) if !disjoint_newest => {
            room.has_older = if p0 <= w0 { has_older } else { room.has_older };
            room.has_newer = if p1 >= w1 { has_newer } else { room.has_newer };
        }
        _ => {
            // First page, or the newest page after far pages were dropped: it replaces the window.
            room.messages.clear();
            room.wrap_cache.clear();
            room.anchor = None;
            room.has_older = has_older;
            room.has_newer = has_newer;
        }
    }
    for m in messages {
        let msg = Msg::from_api(m);
        room.wrap_cache.remove(&msg.sid);
        room.messages.insert(msg.index, msg);
    }
}

pub(super) fn messages_loaded(app: &mut App, sid: &str, messages: &[Message], has_older: bool, has_newer: bool) {
    let page_size = app.settings.page_size;
    let Some(room) = app.rooms.get_mut(sid) else { return };
    let first_page = !room.loaded;
    merge_messages(room, messages, has_older, has_newer);
    room.loaded = true;
    room.loading_older = false;
    room.loading_newer = false;
    // Seeking (first unread, oldest, a search hit): keep going until the target is loaded.
    let mut found = None;
    if let Some(target) = room.seek {
        let first = room.first_index().unwrap_or(i64::MAX);
        if first <= target || !room.has_older {
            room.seek = None;
            let at = room.messages.range(target..).next().map(|(i, _)| *i).or(room.first_index());
            room.anchor = at.map(|index| Anchor { index, row: 0 });
            found = at;
        } else {
            room.loading_older = true;
            let count = (first.saturating_sub(target)).clamp(page_size as i64, 1000) as u32;
            app.outbox.push(Command::LoadOlder { conversation_sid: sid.to_string(), before_index: first, count });
        }
    }
    let open = app.open.as_deref() == Some(sid);
    match found {
        // A sought message that is selected (a search hit, a replied-to message) shows in context.
        Some(index) if open && app.rooms.get(sid).is_some_and(|r| r.selected == Some(index)) => {
            with_room(app, |room, height, ctx| center_on(room, index, height, ctx));
        }
        Some(_) => {}
        None if first_page && open => start_at_first_unread(app),
        None => {}
    }
    trim(app, sid);
}

/// Scrolls so that message `index` shows about a third down the pane, with
/// what came before it above.
pub fn center_on(room: &mut Room, index: i64, height: usize, ctx: &ViewCtx) {
    let want = height / 3;
    let before: Vec<i64> = room.messages.range(..index).rev().map(|(i, _)| *i).collect();
    let (mut top, mut above) = (index, 0);
    for i in before {
        let h = message_view::block_height(room, i, ctx);
        if above + h > want {
            break;
        }
        above += h;
        top = i;
    }
    room.anchor = Some(Anchor { index: top, row: 0 });
}

/// On opening, if the unread messages don't fit on the screen, start at the
/// first of them (under the "new messages" line) instead of at the newest;
/// the horizon then advances when you reach the bottom.
fn start_at_first_unread(app: &mut App) {
    with_room(app, |room, height, ctx| {
        let Some(fu) = room.first_unread else { return };
        let Some(start) = room.messages.range(fu..).next().map(|(i, _)| *i) else { return };
        if room.first_index().is_some_and(|f| f > fu) {
            // The first unread is older than the page we hold: stay at the newest.
            return;
        }
        let mut rows = 0;
        let mut idx = Some(start);
        while let Some(i) = idx {
            rows += message_view::block_height(room, i, ctx);
            if rows > height {
                room.anchor = Some(Anchor { index: start, row: 0 });
                return;
            }
            idx = room.messages.range(i + 1..).next().map(|(i, _)| *i);
        }
    });
}

/// Caps a room's window at `max_messages`, keeping the part around the view,
/// and tells the sync task to forget the rest too.
pub fn trim(app: &mut App, sid: &str) {
    let max = app.settings.max_messages.max(app.settings.page_size as usize * 2);
    let Some(room) = app.rooms.get_mut(sid) else { return };
    if room.messages.len() <= max {
        return;
    }
    // Trim a quarter below the cap, so a stream of live messages trims once
    // per many arrivals rather than on each one.
    let max = max - max / 4;
    let keys: Vec<i64> = room.messages.keys().copied().collect();
    let from = match room.anchor {
        None => keys.len() - max,
        Some(a) => {
            let pos = keys.partition_point(|k| *k < a.index);
            pos.saturating_sub(max / 2).min(keys.len() - max)
        }
    };
    let (lo, hi) = (keys[from], keys[from + max - 1]);
    if from > 0 {
        room.has_older = true;
    }
    if from + max < keys.len() {
        room.has_newer = true;
    }
    let dropped: Vec<i64> = keys.iter().copied().filter(|k| *k < lo || *k > hi).collect();
    for k in dropped {
        if let Some(m) = room.messages.remove(&k) {
            room.wrap_cache.remove(&m.sid);
        }
    }
    app.outbox.push(Command::Trim { conversation_sid: sid.to_string(), keep_from: lo, keep_to: hi });
}

/// Context for viewport math with the current pane size.
pub(super) fn with_room<R>(app: &mut App, f: impl FnOnce(&mut Room, usize, &ViewCtx) -> R) -> Option<R> {
    let sid = app.open.clone()?;
    let ctx = ViewCtx {
        width: app.pane.width,
        me: &app.identity,
        theme: &app.theme,
        offset: app.utc_offset,
        read_by_max: app.settings.read_by_max,
        previews: app.images.enabled(),
    };
    let height = app.pane.height as usize;
    let room = app.rooms.get_mut(&sid)?;
    Some(f(room, height, &ctx))
}

/// Scrolls the open conversation up `rows`, asking for older messages before
/// the view needs them (when less than two screens are loaded above).
pub fn scroll_up(app: &mut App, rows: usize, now: Instant) {
    let r = with_room(app, |room, height, ctx| {
        message_view::scroll_up(room, rows, height, ctx);
        let above = room.anchor.map_or(0, |a| message_view::rows_above(room, a, height * 2, ctx));
        above < height * 2
    });
    if r == Some(true) {
        load_older(app);
    }
    check_read(app, now);
}

pub fn scroll_down(app: &mut App, rows: usize, now: Instant) {
    let at_bottom = with_room(app, |room, height, ctx| message_view::scroll_down(room, rows, height, ctx));
    if at_bottom == Some(true) {
        load_newer(app);
    }
    check_read(app, now);
}

pub fn load_older(app: &mut App) {
    let Some(sid) = app.open.clone() else { return };
    let count = app.settings.page_size;
    let Some(room) = app.rooms.get_mut(&sid) else { return };
    if !room.loaded || !room.has_older || room.loading_older {
        return;
    }
    let Some(first) = room.first_index() else { return };
    room.loading_older = true;
    app.outbox.push(Command::LoadOlder { conversation_sid: sid, before_index: first, count });
}

pub fn load_newer(app: &mut App) {
    let Some(sid) = app.open.clone() else { return };
    let count = app.settings.page_size;
    let Some(room) = app.rooms.get_mut(&sid) else { return };
    if !room.loaded || !room.has_newer || room.loading_newer {
        return;
    }
    let Some(last) = room.last_index() else { return };
    room.loading_newer = true;
    app.outbox.push(Command::LoadNewer { conversation_sid: sid, after_index: last, count });
}

/// Jumps to the newest message; if far pages were dropped, fetches the newest page.
pub fn jump_newest(app: &mut App, now: Instant) {
    let Some(sid) = app.open.clone() else { return };
    let Some(room) = app.rooms.get_mut(&sid) else { return };
    room.anchor = None;
    room.new_below = 0;
    room.seek = None;
    if room.has_newer {
        room.loading_older = true;
        app.outbox.push(Command::Open { conversation_sid: sid });
    }
    check_read(app, now);
}

/// Jumps to `target` (an index), loading older pages until it is there.
pub fn jump_to(app: &mut App, target: i64) {
    let Some(sid) = app.open.clone() else { return };
    let page = app.settings.page_size as i64;
    let Some(room) = app.rooms.get_mut(&sid) else { return };
    let first = room.first_index();
    if first.is_some_and(|f| f <= target) || !room.has_older {
        let at = room.messages.range(target..).next().map(|(i, _)| *i).or(first);
        room.anchor = at.map(|index| Anchor { index, row: 0 });
        return;
    }
    room.seek = Some(target);
    if !room.loading_older
        && let Some(first) = first
    {
        room.loading_older = true;
        let count = (first - target).clamp(page, 1000) as u32;
        app.outbox.push(Command::LoadOlder { conversation_sid: sid, before_index: first, count });
    }
}
