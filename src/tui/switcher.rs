//! The switcher (Ctrl-K): its state and rules. Typing filters the conversations
//! by friendly and unique name with nucleo's fuzzy matcher, unread ones first,
//! then people known from participants; Enter opens the conversation, or the
//! 1:1 conversation with the person (created through the SDK's commands if none).

use std::time::Instant;

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use crate::sdk::Command;

use super::app::{App, Focus};
pub use super::app::{SwitchItem as Item, SwitchTarget as Target, Switcher};
use super::update;

/// Opens the switcher with an empty query (or closes it when it is open).
pub fn toggle(app: &mut App) {
    if app.switcher.take().is_none() {
        app.switcher = Some(Switcher::default());
        refresh(app);
    }
}

/// Recomputes the rows for the current query (after a key or a diff).
pub fn refresh(app: &mut App) {
    let Some(query) = app.switcher.as_ref().map(|s| s.query.clone()) else { return };
    let items = rows(app, &query);
    if let Some(s) = app.switcher.as_mut() {
        s.selected = s.selected.min(items.len().saturating_sub(1));
        s.items = items;
    }
}

/// The rows for `query`: matching conversations (unread first, then by score,
/// then in list order), then matching people without the user.
pub fn rows(app: &App, query: &str) -> Vec<Item> {
    let pattern = Pattern::new(query, CaseMatching::Ignore, Normalization::Smart, AtomKind::Fuzzy);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    let mut score = |text: &str, indices: Option<&mut Vec<u32>>| -> Option<u32> {
        let hay = Utf32Str::new(text, &mut buf);
        match indices {
            Some(ix) => pattern.indices(hay, &mut matcher, ix),
            None => pattern.score(hay, &mut matcher),
        }
    };
    let mut convs: Vec<(bool, u32, usize, Item)> = Vec::new();
    for (pos, sid) in app.order.iter().enumerate() {
        let label = app.display_name(sid);
        let mut matched = Vec::new();
        let by_label = score(&label, Some(&mut matched));
        let unique = app.conversations.get(sid).and_then(|e| e.conversation.unique_name.as_deref());
        let by_unique = unique.and_then(|u| score(&super::sanitize::line(u), None));
        let Some(best) = by_label.max(by_unique) else { continue };
        if by_label.is_none_or(|l| by_unique.is_some_and(|u| u > l)) {
            matched.clear();
        }
        matched.sort_unstable();
        matched.dedup();
        let unread = app.unread(sid);
        let muted = app.is_muted(sid);
        let item = Item { target: Target::Conversation(sid.clone()), label, unread, muted, matched };
        convs.push((unread > 0, best, pos, item));
    }
    convs.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let mut found: Vec<(u32, Item)> = Vec::new();
    for who in people(app) {
        let mut matched = Vec::new();
        let Some(s) = score(&who, Some(&mut matched)) else { continue };
        matched.sort_unstable();
        matched.dedup();
        found.push((s, Item { target: Target::Person(who.clone()), label: who, unread: 0, muted: false, matched }));
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.label.cmp(&b.1.label)));
    convs.into_iter().map(|c| c.3).chain(found.into_iter().map(|p| p.1)).collect()
}

/// Everyone the client knows of from participants and loaded messages, sorted,
/// without the user.
pub fn people(app: &App) -> Vec<String> {
    let mut out: Vec<String> = app
        .rooms
        .values()
        .flat_map(|r| r.participants.values().filter_map(|p| p.identity.as_deref()))
        .map(super::sanitize::line)
        .chain(app.rooms.values().flat_map(|r| r.messages.values().map(|m| m.author.clone())))
        .filter(|i| *i != app.identity && !i.is_empty() && i != "system")
        .collect();
    out.sort();
    out.dedup();
    out
}

pub use super::presence::direct_name;

/// The user's 1:1 conversation with `who`: the one with this client's unique
/// name for it, else a conversation whose loaded participants are just the two.
pub fn direct_with(app: &App, who: &str) -> Option<String> {
    let name = direct_name(&app.identity, who);
    let by_name = app
        .order
        .iter()
        .find(|s| app.conversations.get(*s).and_then(|e| e.conversation.unique_name.as_deref()) == Some(&name));
    by_name.cloned().or_else(|| {
        app.order
            .iter()
            .find(|s| {
                app.rooms.get(*s).is_some_and(|r| {
                    let mut ids: Vec<&str> = r.participants.values().filter_map(|p| p.identity.as_deref()).collect();
                    ids.sort_unstable();
                    ids.len() == 2 && ids.contains(&who) && ids.contains(&app.identity.as_str())
                })
            })
            .cloned()
    })
}

/// A key while the switcher is open. Returns false when the key is not the
/// switcher's (the caller then looks it up in the keymap, for Ctrl-C).
pub fn on_key(app: &mut App, key: crossterm::event::KeyEvent, now: Instant) -> bool {
    use crossterm::event::{KeyCode, KeyModifiers};
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let Some(s) = app.switcher.as_mut() else { return false };
    let len = s.items.len();
    match key.code {
        KeyCode::Esc => app.switcher = None,
        KeyCode::Char('k') if ctrl => app.switcher = None,
        KeyCode::Enter => choose(app, now),
        KeyCode::Down | KeyCode::Tab => s.selected = if len == 0 { 0 } else { (s.selected + 1) % len },
        KeyCode::Char('n') if ctrl => s.selected = if len == 0 { 0 } else { (s.selected + 1) % len },
        KeyCode::Up | KeyCode::BackTab => s.selected = if len == 0 { 0 } else { (s.selected + len - 1) % len },
        KeyCode::Char('p') if ctrl => s.selected = if len == 0 { 0 } else { (s.selected + len - 1) % len },
        KeyCode::Backspace => {
            s.query.pop();
            s.selected = 0;
            refresh(app);
        }
        KeyCode::Char('u') if ctrl => {
            s.query.clear();
            s.selected = 0;
            refresh(app);
        }
        KeyCode::Char(c) if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) => {
            s.query.push(c);
            s.selected = 0;
            refresh(app);
        }
        _ => return false,
    }
    true
}

/// Enter: opens the selected conversation, or the 1:1 with the selected person.
fn choose(app: &mut App, now: Instant) {
    let Some(s) = app.switcher.take() else { return };
    let Some(item) = s.items.get(s.selected) else { return };
    match &item.target {
        Target::Conversation(sid) if app.conversations.contains_key(sid) => {
            update::open_conversation(app, sid, now);
            app.focus = Focus::Composer;
        }
        Target::Conversation(_) => app.set_status("that conversation is gone", true, now),
        Target::Person(who) => match direct_with(app, who) {
            Some(sid) => {
                update::open_conversation(app, &sid, now);
                app.focus = Focus::Composer;
            }
            None => {
                // Create it under the shared unique name, then add them by that
                // name: the sync task runs commands in order.
                let name = direct_name(&app.identity, who);
                app.pending_open = Some(name.clone());
                app.outbox.push(Command::Create {
                    friendly_name: format!("{} & {who}", app.identity),
                    unique_name: Some(name.clone()),
                });
                app.outbox.push(Command::AddParticipant { conversation_sid: name, identity: who.clone() });
                app.focus = Focus::Composer;
                app.set_status(format!("starting a conversation with {who}"), false, now);
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direct_name_is_the_same_from_both_sides() {
        assert_eq!(direct_name("bob", "alice"), "dm:alice:bob");
        assert_eq!(direct_name("alice", "bob"), direct_name("bob", "alice"));
    }
}
