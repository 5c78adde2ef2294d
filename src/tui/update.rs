//! The reducer for what the sync task says: each `Diff` changes `App`, and the
//! timers (read-horizon debounce, typing guard, status expiry) fire from
//! `on_tick`. Opening a conversation lives here too, since keys and diffs
//! share it; paging and scrolling are in `paging`, the read horizon in `read`.

use std::time::{Duration, Instant};

use crate::api::Message;
use crate::sdk::{Command, ConnectionState, ConversationEntry, Diff};

use super::app::{App, Msg};
use super::paging::{messages_loaded, trim};
use super::presence;
use super::read::{self, check_read};

/// A typing mark disappears after this long if the server's typingEnded is lost.
pub const TYPING_GUARD: Duration = Duration::from_secs(30);

/// Applies one diff from the sync task.
pub fn on_diff(app: &mut App, diff: Diff, now: Instant) {
    match diff {
        Diff::Connection(state) => {
            if state == ConnectionState::Denied {
                app.set_status("the server refused the access token (denied)", true, now);
            }
            let back = state == ConnectionState::Connected && app.connection != ConnectionState::Connected;
            app.connection = state;
            if back {
                retry_in_flight(app);
            }
        }
        Diff::Me(user) => {
            app.identity = user.identity.clone();
            app.users.insert(user.identity.clone(), user);
        }
        Diff::UserUpdated(user) => {
            app.users.insert(user.identity.clone(), user);
        }
        Diff::Conversations(list) => {
            app.conversations = list.into_iter().map(|e| (e.conversation.sid.clone(), e)).collect();
            app.rooms.retain(|sid, _| app.conversations.contains_key(sid));
            if app.open.as_ref().is_some_and(|s| !app.conversations.contains_key(s)) {
                app.open = None;
            }
            app.resort();
            let sids: Vec<String> = app.order.clone();
            presence::watch_peers(app, &sids);
            open_pending_or_first(app, now);
        }
        Diff::ConversationUpserted(entry) => upsert_conversation(app, entry, now),
        Diff::ConversationRemoved { conversation_sid } => {
            app.conversations.remove(&conversation_sid);
            app.rooms.remove(&conversation_sid);
            app.drafts.remove(&conversation_sid);
            let was_open = app.open.as_deref() == Some(&conversation_sid);
            let pos = app.selected_pos();
            app.resort();
            if was_open {
                app.open = None;
                let next = pos.and_then(|p| app.order.get(p.min(app.order.len().saturating_sub(1))).cloned());
                if let Some(next) = next {
                    open_conversation(app, &next, now);
                } else {
                    app.reset_composer(String::new());
                }
            }
        }
        Diff::Participants { conversation_sid, participants } => {
            let room = app.rooms.entry(conversation_sid.clone()).or_default();
            room.participants = participants.into_iter().map(|p| (p.sid.clone(), p)).collect();
            presence::watch_peers(app, [&conversation_sid]);
        }
        Diff::ParticipantUpserted(p) => {
            let room = app.rooms.entry(p.conversation_sid.clone()).or_default();
            room.participants.insert(p.sid.clone(), p);
        }
        Diff::ParticipantRemoved { conversation_sid, participant_sid } => {
            if let Some(room) = app.rooms.get_mut(&conversation_sid)
                && let Some(p) = room.participants.remove(&participant_sid)
                && let Some(id) = p.identity
            {
                room.typing.remove(&id);
            }
        }
        Diff::MessagesLoaded { conversation_sid, messages, has_older, has_newer } => {
            messages_loaded(app, &conversation_sid, &messages, has_older, has_newer);
        }
        Diff::MessageUpserted(m) => message_upserted(app, &m, now),
        Diff::MessageRemoved { conversation_sid, message_sid, index } => {
            if let Some(room) = app.rooms.get_mut(&conversation_sid)
                && room.messages.get(&index).is_some_and(|m| m.sid == message_sid)
            {
                room.messages.remove(&index);
                room.wrap_cache.remove(&message_sid);
            }
        }
        Diff::Typing { conversation_sid, identity, typing } => {
            let room = app.rooms.entry(conversation_sid).or_default();
            let identity = super::sanitize::line(&identity);
            if typing {
                room.typing.insert(identity, now + TYPING_GUARD);
            } else {
                room.typing.remove(&identity);
            }
        }
        Diff::UploadProgress { conversation_sid, path, sent, total } => {
            super::attachments::on_upload_progress(app, &conversation_sid, &path, sent, total, now);
        }
        Diff::MediaFetched { media_sid, dest } => super::attachments::on_media_fetched(app, &media_sid, &dest, now),
        Diff::Error(text) => {
            app.search.failed();
            super::attachments::on_error(app, &text);
            app.set_status(text, true, now);
        }
        Diff::TokenAboutToExpire => {}
        Diff::TokenExpired => app.set_status("the access token expired; restart convo-tui to sign in again", true, now),
        Diff::SearchResults { request, messages, next_page_token } => {
            let identity = app.identity.clone();
            if let Some(more) = app.search.results(&identity, request, &messages, next_page_token) {
                app.outbox.push(more);
            }
        }
    }
    check_read(app, now);
}

fn upsert_conversation(app: &mut App, entry: ConversationEntry, now: Instant) {
    let sid = entry.conversation.sid.clone();
    app.conversations.insert(sid.clone(), entry);
    app.resort();
    presence::watch_peers(app, [&sid]);
    if app.open.is_none() || pending_matches(app, &sid) {
        open_pending_or_first(app, now);
    }
}

/// After a reconnect: requests that failed while offline would otherwise wait
/// forever, so pages in flight are forgotten and unanswered opens are re-sent.
fn retry_in_flight(app: &mut App) {
    for (sid, room) in &mut app.rooms {
        if !room.loaded && room.loading_older {
            // A room opened at a search hit is opened there again.
            app.outbox.push(match room.seek {
                Some(index) => Command::OpenAt { conversation_sid: sid.clone(), index },
                None => Command::Open { conversation_sid: sid.clone() },
            });
        } else {
            room.loading_older = false;
            room.loading_newer = false;
        }
    }
}

/// Whether `sid` is the conversation a /create, /join or the launcher asked to open.
fn pending_matches(app: &App, sid: &str) -> bool {
    let Some(want) = app.pending_open.as_deref() else { return false };
    let Some(e) = app.conversations.get(sid) else { return false };
    let c = &e.conversation;
    c.sid == want || c.unique_name.as_deref() == Some(want) || c.friendly_name.as_deref() == Some(want)
}

/// Opens the conversation asked for (if it has arrived), else the selected one
/// when nothing is open yet.
fn open_pending_or_first(app: &mut App, now: Instant) {
    if app.pending_open.is_some() {
        let found = app.order.iter().find(|s| pending_matches(app, s)).cloned();
        if let Some(sid) = found {
            app.pending_open = None;
            open_conversation(app, &sid, now);
            return;
        }
    }
    if app.open.is_none()
        && let Some(sid) = app.selected.clone()
    {
        open_conversation(app, &sid, now);
    }
}

/// Makes `sid` the open conversation: saves the draft of the one left, loads
/// this one's draft, places the "new messages" line and asks for its messages
/// the first time.
pub fn open_conversation(app: &mut App, sid: &str, now: Instant) {
    if app.open.as_deref() == Some(sid) {
        app.selected = Some(sid.to_string());
        return;
    }
    if let Some(old) = app.open.take() {
        let text = app.composer_text();
        if text.trim().is_empty() {
            app.drafts.remove(&old);
        } else {
            app.drafts.insert(old, text);
        }
    }
    app.editing = None;
    app.mentioned.remove(sid);
    app.open = Some(sid.to_string());
    app.selected = Some(sid.to_string());
    let draft = app.drafts.get(sid).cloned().unwrap_or_default();
    app.reset_composer(draft);
    app.history_pos = None;
    let unread = app.unread(sid);
    let horizon = app.read_horizon(sid);
    let room = app.rooms.entry(sid.to_string()).or_default();
    room.first_unread = if unread > 0 { Some(horizon.map_or(0, |h| h + 1)) } else { None };
    room.anchor = None;
    room.new_below = 0;
    room.seek = None;
    room.keep_unread = false;
    if !room.loaded && !room.loading_older {
        room.loading_older = true;
        app.outbox.push(Command::Open { conversation_sid: sid.to_string() });
    }
    check_read(app, now);
}

fn message_upserted(app: &mut App, m: &Message, now: Instant) {
    super::notify::on_message(app, m, now);
    let sid = m.conversation_sid.clone();
    let mine = m.author.as_deref() == Some(app.identity.as_str());
    let looking = app.open.as_deref() == Some(&sid) && app.terminal_focused;
    // A mention of you rings even where the conversation is otherwise quiet
    // (muted, or mentions-only), and marks it in the list until you look.
    let mention = !mine && m.body.as_deref().is_some_and(|b| super::links::mentions(b, &app.identity));
    let muted = app.is_muted(&sid) && !mention;
    let bell = app.settings.bell;
    let fresh = app.rooms.get(&sid).is_none_or(|r| r.last_index().is_none_or(|l| m.index > l));
    if mention && !looking && fresh {
        app.mentioned.insert(sid.clone());
    }
    let Some(room) = app.rooms.get_mut(&sid) else {
        if !mine && !muted && bell {
            app.bell = true;
        }
        return;
    };
    if let Some(author) = &m.author {
        room.typing.remove(&super::sanitize::line(author));
    }
    let msg = Msg::from_api(m);
    if room.messages.contains_key(&msg.index) {
        room.wrap_cache.remove(&msg.sid);
        room.messages.insert(msg.index, msg);
        return;
    }
    let is_new = room.last_index().is_none_or(|l| msg.index > l);
    if !is_new {
        // An older message we don't hold (trimmed away): nothing to show.
        if room.first_index().is_some_and(|f| msg.index > f) {
            room.messages.insert(msg.index, msg);
        }
        return;
    }
    if !mine && !muted && bell && !looking {
        app.bell = true;
    }
    if room.has_newer {
        // Our window ends before the newest: this one is fetched when we scroll there.
        room.new_below += 1;
        return;
    }
    if room.anchor.is_some() && !mine {
        room.new_below += 1;
    }
    if mine {
        // Sending jumps to the newest.
        room.anchor = None;
        room.new_below = 0;
    }
    room.messages.insert(msg.index, msg);
    trim(app, &sid);
}

/// Fires what is due: the read horizon, typing guards, the status line.
pub fn on_tick(app: &mut App, now: Instant) {
    read::on_tick(app, now);
    super::notify::on_tick(app, now);
    for room in app.rooms.values_mut() {
        room.typing.retain(|_, until| *until > now);
    }
    if app.status.as_ref().is_some_and(|s| s.until <= now) {
        app.status = None;
    }
}

/// When `on_tick` next has something to do (None: nothing pending, sleep).
pub fn next_deadline(app: &App) -> Option<Instant> {
    let typing = app.rooms.values().flat_map(|r| r.typing.values().copied()).min();
    let notice = super::notify::next_due(app);
    [read::next_due(app), app.status.as_ref().map(|s| s.until), typing, notice].into_iter().flatten().min()
}
