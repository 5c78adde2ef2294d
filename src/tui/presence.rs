//! Presence in the TUI: who is online, from the users the sync task reports
//! (`Diff::UserUpdated`), and who the other person of a 1:1 conversation is.
//!
//! Nothing is shown for a user whose reachability is not known (not fetched
//! yet, or the server reports none): a dot or a word only when it is.

use std::collections::HashSet;

use crate::sdk::Command;

use super::app::App;

/// The unique name this client gives the 1:1 conversation of two people: the
/// same whoever starts it.
pub fn direct_name(a: &str, b: &str) -> String {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    format!("dm:{x}:{y}")
}

/// `●` online, `○` offline.
pub const ONLINE_DOT: &str = "●";
pub const OFFLINE_DOT: &str = "○";

/// Whether `identity` is online, when known.
pub fn is_online(app: &App, identity: &str) -> Option<bool> {
    app.users.get(identity).and_then(|u| u.is_online)
}

/// The other person of a 1:1 conversation: by this client's unique name for
/// it (`dm:a:b`), else when its loaded participants are just the two of you.
pub fn direct_peer<'a>(app: &'a App, sid: &str) -> Option<&'a str> {
    let unique = app.conversations.get(sid).and_then(|e| e.conversation.unique_name.as_deref());
    if let Some(rest) = unique.and_then(|u| u.strip_prefix("dm:")) {
        let me = app.identity.as_str();
        let after = rest.strip_prefix(me).and_then(|r| r.strip_prefix(':'));
        let before = rest.strip_suffix(me).and_then(|r| r.strip_suffix(':'));
        if let Some(other) = after.into_iter().chain(before).find(|o| unique == Some(&direct_name(me, o))) {
            return Some(other);
        }
    }
    let room = app.rooms.get(sid)?;
    let mut others = room.participants.values().filter_map(|p| p.identity.as_deref()).filter(|i| *i != app.identity);
    let other = others.next()?;
    let two = others.next().is_none() && room.participants.len() == 2;
    two.then_some(other)
}

/// The list's dot for a conversation: its other person's presence, for 1:1s.
pub fn list_dot(app: &App, sid: &str) -> Option<bool> {
    direct_peer(app, sid).and_then(|peer| is_online(app, peer))
}

/// Asks the sync task to tell of the other person of each 1:1 conversation
/// in `sids` that it was not asked about yet.
pub fn watch_peers<'a>(app: &mut App, sids: impl IntoIterator<Item = &'a String>) {
    let peers: HashSet<String> = sids
        .into_iter()
        .filter_map(|sid| direct_peer(app, sid))
        .filter(|p| !app.watched_users.contains(*p))
        .map(str::to_owned)
        .collect();
    for identity in peers {
        app.watched_users.insert(identity.clone());
        app.outbox.push(Command::WatchUser { identity });
    }
}
