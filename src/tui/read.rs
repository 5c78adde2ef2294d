//! The read horizon as the TUI moves it: advancing when the newest message of
//! the open conversation is on screen (debounced, so scrolling through sends
//! one move, not one per message), `/read` and `/unread`, and what the list
//! shows meanwhile. The sync task keeps it from moving back (`sdk::rules::horizon`).

use std::time::{Duration, Instant};

use crate::sdk::Command;

use super::app::{App, PendingRead, Room};

/// How long the read horizon waits before it is sent (so scrolling through
/// doesn't send one per message).
pub const READ_DEBOUNCE: Duration = Duration::from_millis(800);

/// Schedules a read-horizon advance when the newest message of the open
/// conversation is on screen and the horizon is behind it.
pub fn check_read(app: &mut App, now: Instant) {
    let Some(sid) = app.open.clone() else { return };
    let Some(room) = app.rooms.get(&sid) else { return };
    if !room.loaded || room.has_newer || room.anchor.is_some() || room.keep_unread || !app.terminal_focused {
        return;
    }
    let Some(newest) = room.last_index() else { return };
    let known = app.read_horizon(&sid).max(app.read_sent.get(&sid).copied()).unwrap_or(-1);
    let unread = app.unread(&sid);
    if newest <= known && unread == 0 {
        return;
    }
    match &mut app.pending_read {
        Some(p) if p.conversation_sid == sid => p.index = p.index.max(newest),
        _ => {
            flush_read(app);
            app.pending_read = Some(PendingRead { conversation_sid: sid, index: newest, due: now + READ_DEBOUNCE });
        }
    }
}

/// Sends the pending read horizon now.
fn flush_read(app: &mut App) {
    let Some(p) = app.pending_read.take() else { return };
    let sent = app.read_sent.get(&p.conversation_sid).copied().unwrap_or(-1);
    let horizon = app.read_horizon(&p.conversation_sid).unwrap_or(-1);
    if p.index <= sent.max(horizon) && app.unread(&p.conversation_sid) == 0 {
        return;
    }
    app.read_sent.insert(p.conversation_sid.clone(), p.index);
    app.outbox.push(Command::AdvanceRead { conversation_sid: p.conversation_sid.clone(), index: p.index });
    // Show it at once; the server's userConversationUpdated confirms it.
    let newest = app.rooms.get(&p.conversation_sid).and_then(Room::last_index);
    if let Some(us) = app.conversations.get_mut(&p.conversation_sid).and_then(|e| e.user_state.as_mut()) {
        us.last_read_message_index = Some(p.index);
        if newest.is_some_and(|n| n <= p.index) {
            us.unread_messages_count = Some(0);
        }
    }
    app.resort();
}

/// Sends the pending read horizon when its debounce is over.
pub fn on_tick(app: &mut App, now: Instant) {
    if app.pending_read.as_ref().is_some_and(|p| p.due <= now) {
        flush_read(app);
    }
}

/// When the pending read horizon is due, if one is.
pub fn next_due(app: &App) -> Option<Instant> {
    app.pending_read.as_ref().map(|p| p.due)
}

/// Sends the pending read horizon at once (used when quitting).
pub fn flush_pending(app: &mut App) {
    flush_read(app);
}

/// `/read`: everything read now, shown at once.
pub fn mark_read(app: &mut App, sid: String) {
    app.mentioned.remove(&sid);
    app.outbox.push(Command::MarkAllRead { conversation_sid: sid.clone() });
    let newest = app.rooms.get(&sid).and_then(|r| r.last_index());
    if let Some(us) = app.conversations.get_mut(&sid).and_then(|e| e.user_state.as_mut()) {
        us.unread_messages_count = Some(0);
        if newest.is_some() {
            us.last_read_message_index = newest;
        }
    }
    if let Some(n) = newest {
        app.read_sent.insert(sid, n);
    }
    app.resort();
}

pub fn mark_unread(app: &mut App, sid: String) {
    app.outbox.push(Command::MarkAllUnread { conversation_sid: sid.clone() });
    app.read_sent.remove(&sid);
    if app.pending_read.as_ref().is_some_and(|p| p.conversation_sid == sid) {
        app.pending_read = None;
    }
    let count = app.conversations.get(&sid).map(|e| e.conversation.messages_count as i64);
    if let Some(us) = app.conversations.get_mut(&sid).and_then(|e| e.user_state.as_mut()) {
        us.last_read_message_index = None;
        us.unread_messages_count = count;
    }
    // Reading on keeps it unread until you look away: stop following.
    if let Some(room) = app.rooms.get_mut(&sid) {
        room.first_unread = room.first_index();
        room.keep_unread = true;
    }
    app.resort();
}
