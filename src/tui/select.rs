//! One message selected in the pane, and what can be done to it: reply,
//! react, edit, delete, open its link, save or open its attachment, copy it,
//! jump to the message it answers. Keys and clicks move the selection; the view follows it. Also
//! `/reply`'s and `/react`'s targets: the selection, else a sensible default.

use std::time::Instant;

use super::app::{Anchor, App, Focus, Msg};
use super::keymap::Action;
use super::message_view::{self, ViewCtx};
use super::{links, markdown, paging, sanitize};
use crate::sdk::Command;
use crate::sdk::rules::rich::{REACTIONS, ReplyTo};

/// The actions that work on the selected message (they do nothing, and the
/// key types as usual, when none is selected). Saving and opening an
/// attachment are `attachments`'.
pub fn needs_selection(a: Action) -> bool {
    matches!(
        a,
        Action::Reply
            | Action::React
            | Action::EditSelected
            | Action::DeleteSelected
            | Action::OpenLink
            | Action::CopyMessage
            | Action::JumpToReplied
            | Action::SaveAttachment
            | Action::OpenAttachment
    )
}

/// Whether a message is selected in the open conversation (and the pane has focus).
pub fn active(app: &App) -> bool {
    app.focus == Focus::Messages && selected(app).is_some()
}

/// The selected message of the open conversation, if it is loaded.
pub fn selected(app: &App) -> Option<&Msg> {
    let room = app.rooms.get(app.open.as_ref()?)?;
    room.messages.get(&room.selected?)
}

pub fn clear(app: &mut App) -> bool {
    let Some(room) = app.open.as_ref().and_then(|s| app.rooms.get_mut(s)) else { return false };
    room.selected.take().is_some()
}

/// Moves the selection `delta` messages (negative: older). With nothing
/// selected, Up starts at the newest message on screen. Reaching the oldest
/// loaded message asks for older ones.
pub fn step(app: &mut App, delta: i64, now: Instant) {
    let want_older = paging::with_room(app, |room, height, ctx| {
        let start = room.selected.filter(|i| room.messages.contains_key(i));
        let next = match start {
            None => match room.anchor {
                None => room.last_index(),
                Some(a) => Some(a.index),
            },
            Some(i) if delta < 0 => room.messages.range(..i).next_back().map(|(k, _)| *k).or(Some(i)),
            Some(i) => room.messages.range(i + 1..).next().map(|(k, _)| *k).or(Some(i)),
        };
        let Some(next) = next else { return false };
        room.selected = Some(next);
        follow(room, next, height, ctx);
        room.first_index() == Some(next)
    });
    if want_older == Some(true) {
        paging::load_older(app);
    }
    if delta > 0 {
        // Moving down may have reached the bottom: the horizon can advance.
        super::read::check_read(app, now);
    }
}

/// Scrolls so that message `index` is on screen.
fn follow(room: &mut super::app::Room, index: i64, height: usize, ctx: &ViewCtx) {
    let top = room.anchor.or_else(|| message_view::bottom_anchor(room, height, ctx));
    let Some(top) = top else { return };
    if index <= top.index {
        if index < top.index || top.row > 0 {
            room.anchor = Some(Anchor { index, row: 0 });
        }
        return;
    }
    let keys: Vec<i64> = room.messages.range(top.index..=index).map(|(k, _)| *k).collect();
    let rows: usize = keys.iter().map(|k| message_view::block_height(room, *k, ctx)).sum::<usize>() - top.row;
    if rows > height {
        room.anchor = Some(top);
        message_view::scroll_down(room, rows - height, height, ctx);
    }
}

/// A click on the message pane selects the message under it.
pub fn click(app: &mut App, column: u16, row: u16) {
    let a = app.pane_area;
    if column < a.x || column >= a.x + a.width || row < a.y || row >= a.y + a.height {
        return;
    }
    let Some(index) = app.pane_rows.get((row - a.y) as usize).copied() else { return };
    let Some(room) = app.open.as_ref().and_then(|s| app.rooms.get_mut(s)) else { return };
    room.selected = Some(index);
    app.focus = Focus::Messages;
}

/// Who `/reply` answers: the selected message, else the newest loaded one
/// from someone else.
pub fn reply_target(app: &App) -> Option<ReplyTo> {
    let room = app.rooms.get(app.open.as_ref()?)?;
    let m = match room.selected.and_then(|i| room.messages.get(&i)) {
        Some(m) => m,
        None => room.messages.values().rev().find(|m| m.author != app.identity)?,
    };
    Some(ReplyTo { message_sid: m.sid.clone(), index: m.index, author: m.author.clone() })
}

/// `/reply TEXT`: sends the reply through the sync task and drops the selection.
pub fn reply(app: &mut App, body: String, now: Instant) -> Result<(), String> {
    let sid = app.open.clone().ok_or("open a conversation first")?;
    let to = reply_target(app).ok_or("there is no message here to reply to")?;
    app.outbox.push(Command::Reply { conversation_sid: sid, body, to });
    clear(app);
    paging::jump_newest(app, now);
    Ok(())
}

/// A reaction name from what was typed: the demo app's names, a few aliases,
/// or an emoji (a short non-ASCII string without spaces).
pub fn reaction_name(arg: &str) -> Result<String, String> {
    let a = arg.trim().trim_matches(':');
    let name = match a {
        "+1" | "like" | "👍" => "thumbs_up",
        "-1" | "dislike" | "👎" => "thumbs_down",
        "love" | "❤" | "❤️" => "heart",
        "lol" | "haha" | "😂" => "laugh",
        "cry" | "😢" => "sad",
        "angry" | "😡" => "pouting",
        other => other,
    };
    if REACTIONS.contains(&name) {
        return Ok(name.to_string());
    }
    let emoji_like = !name.is_empty()
        && !name.is_ascii()
        && name.chars().count() <= 8
        && !name.chars().any(|c| c.is_whitespace() || c.is_control() || c.is_alphanumeric());
    if emoji_like {
        Ok(name.to_string())
    } else {
        Err(format!("unknown reaction {arg:?}: use one of {} or an emoji", REACTIONS.join(", ")))
    }
}

/// Toggles the user's reaction `name` on a message: `Unreact` when their
/// identity is already among that reaction's, else `React` (the server's
/// atomic Reactions endpoint). The pane changes when the server's
/// `messageUpdated` comes back, never before.
pub fn send_reaction(app: &mut App, conversation_sid: &str, message_sid: &str, name: &str, now: Instant) {
    let room = app.rooms.get(conversation_sid);
    let m = room.and_then(|r| r.messages.values().find(|m| m.sid == message_sid));
    let shown = sanitize::line(name);
    let me = sanitize::line(&app.identity);
    let mine = m.is_some_and(|m| m.rich.reactions.iter().any(|(n, ids)| *n == shown && ids.contains(&me)));
    let (conversation_sid, message_sid, reaction) =
        (conversation_sid.to_string(), message_sid.to_string(), name.to_string());
    if mine {
        app.outbox.push(Command::Unreact { conversation_sid, message_sid, reaction });
        app.set_status(format!("removing your {}", super::rich::emoji(&shown)), false, now);
    } else {
        app.outbox.push(Command::React { conversation_sid, message_sid, reaction });
        app.set_status(format!("reacting {}", super::rich::emoji(&shown)), false, now);
    }
}

/// `/react NAME`: on the selected message, else the newest from someone else.
pub fn react(app: &mut App, name: &str, now: Instant) -> Result<(), String> {
    let name = reaction_name(name)?;
    let sid = app.open.clone().ok_or("open a conversation first")?;
    let to = reply_target(app).ok_or("there is no message here to react to")?;
    send_reaction(app, &sid, &to.message_sid, &name, now);
    Ok(())
}

/// Runs a selection action; `false` when there is nothing selected to act on.
pub fn on_action(app: &mut App, action: Action, now: Instant) -> bool {
    let Some(m) = selected(app).cloned() else { return false };
    let Some(sid) = app.open.clone() else { return false };
    let mine = m.author == app.identity;
    match action {
        Action::Reply => prompt(app, "/reply "),
        Action::React => prompt(app, "/react "),
        Action::EditSelected if mine => {
            app.reset_composer(m.body.clone());
            app.editing = Some(m.sid.clone());
            app.focus = Focus::Composer;
            app.set_status("editing the selected message: Enter saves, Esc cancels", false, now);
        }
        Action::DeleteSelected if mine => {
            app.outbox.push(Command::Delete { conversation_sid: sid, message_sid: m.sid.clone() });
            clear(app);
        }
        Action::EditSelected | Action::DeleteSelected => {
            app.set_status("only your own messages can be edited or deleted", true, now);
        }
        Action::OpenLink => {
            let urls = markdown::render(&m.body, &app.identity, &app.theme).urls;
            match urls.into_iter().find(|u| links::openable(u)) {
                Some(url) => match links::open(&url, app.settings.open_command.as_deref()) {
                    Ok(()) => app.set_status(format!("opening {url}"), false, now),
                    Err(e) => app.set_status(e, true, now),
                },
                None => app.set_status("the selected message has no link", false, now),
            }
        }
        Action::CopyMessage => {
            app.clipboard = Some(m.body.clone());
            app.set_status("copied the message to the clipboard", false, now);
        }
        Action::JumpToReplied => match &m.rich.reply_to {
            Some(to) => {
                let index = to.index;
                paging::jump_to(app, index);
                if let Some(room) = app.rooms.get_mut(&sid) {
                    room.selected = Some(index);
                }
            }
            None => app.set_status("the selected message is not a reply", false, now),
        },
        _ => return false,
    }
    true
}

/// Focuses the composer with `cmd` typed, keeping the selection as the target.
/// A draft already there becomes the command's text.
fn prompt(app: &mut App, cmd: &str) {
    let draft = app.composer_text();
    let text = if draft.starts_with('/') { cmd.to_string() } else { format!("{cmd}{draft}") };
    app.reset_composer(text);
    app.focus = Focus::Composer;
}
