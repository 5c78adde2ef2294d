//! Desktop notifications through the terminal: which arriving messages notify
//! (not your own, not muted, not on screen; all or only mentions), bursts per
//! conversation coalesced within `WINDOW` ("5 new messages in Team"), and the
//! escape sequences (OSC 777, OSC 9, OSC 99), sanitized, cut, wrapped for tmux.

use std::time::{Duration, Instant};

use base64::Engine;

use crate::api::Message;
use crate::config::{NotifyFormat, NotifyMode};

pub use super::app::Notice;
use super::app::{App, Burst, Msg};

/// Messages of one conversation arriving within this long of the first make
/// one notification.
pub const WINDOW: Duration = Duration::from_millis(1200);
/// Longest title and body, in chars (the rest is cut with `…`).
pub const TITLE_MAX: usize = 64;
pub const BODY_MAX: usize = 200;

/// Whether `body` mentions `identity` as `@identity` (case ignored), not as
/// part of a longer name or of an e-mail address.
pub fn mentions(body: &str, identity: &str) -> bool {
    if identity.is_empty() {
        return false;
    }
    let body = body.to_lowercase();
    let needle = format!("@{}", identity.to_lowercase());
    body.match_indices(&needle).any(|(at, _)| {
        let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
        let prev = body[..at].chars().next_back();
        let next = body[at + needle.len()..].chars().next();
        prev.is_none_or(|c| !word(c)) && next.is_none_or(|c| !word(c))
    })
}

/// A message arrived (or changed): gathers it into its conversation's burst
/// when it should notify.
pub fn on_message(app: &mut App, m: &Message, now: Instant) {
    let sid = &m.conversation_sid;
    let seen = app.notifier.seen.get(sid).copied();
    if seen.is_some_and(|s| m.index <= s) {
        return;
    }
    app.notifier.seen.insert(sid.clone(), m.index);
    let mode = app.settings.notifications;
    let edited = m.date_updated.as_deref().is_some_and(|u| u != m.date_created);
    let mine = m.author.as_deref() == Some(app.identity.as_str());
    let looking = app.open.as_deref() == Some(sid.as_str()) && app.terminal_focused;
    let read = app.read_horizon(sid).is_some_and(|h| m.index <= h);
    if mode == NotifyMode::Off || edited || mine || looking || read || app.is_muted(sid) {
        return;
    }
    let msg = Msg::from_api(m);
    if mode == NotifyMode::Mentions && !mentions(&msg.body, &app.identity) {
        return;
    }
    let burst = app.notifier.bursts.entry(sid.clone()).or_insert_with(|| Burst {
        count: 0,
        author: String::new(),
        body: String::new(),
        due: now + WINDOW,
    });
    burst.count += 1;
    burst.author = msg.author;
    burst.body = msg.body;
}

/// Turns the bursts whose window has closed into notices (none for a
/// conversation the user has opened meanwhile).
pub fn on_tick(app: &mut App, now: Instant) {
    let due: Vec<String> = app.notifier.bursts.iter().filter(|(_, b)| b.due <= now).map(|(s, _)| s.clone()).collect();
    for sid in due {
        let Some(b) = app.notifier.bursts.remove(&sid) else { continue };
        if app.open.as_deref() == Some(sid.as_str()) && app.terminal_focused {
            // Opened within the window: already seen.
            continue;
        }
        let name = app.display_name(&sid);
        let (title, body) = if b.count == 1 {
            (format!("{} in {name}", b.author), b.body)
        } else {
            (name.clone(), format!("{} new messages in {name}", b.count))
        };
        app.notifier.next_id += 1;
        let id = app.notifier.next_id;
        app.notifier.ready.push(Notice { id, title, body });
    }
}

/// When the next burst is due.
pub fn next_due(app: &App) -> Option<Instant> {
    app.notifier.bursts.values().map(|b| b.due).min()
}

/// A field as it may go inside a sequence: one line, no controls, ESC or BEL
/// (whatever the text was), `;` replaced where it would end the field, at most
/// `max` chars.
pub fn clean(text: &str, max: usize, no_semicolons: bool) -> String {
    let line = super::sanitize::line(text);
    let mut out: String =
        line.chars().filter(|c| !c.is_control()).map(|c| if no_semicolons && c == ';' { ',' } else { c }).collect();
    if out.chars().count() > max {
        out = out.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
    }
    out.trim().to_string()
}

/// The bytes to write for `n`: the chosen sequence, wrapped in tmux's
/// passthrough (`ESC P tmux; … ESC \`, inner ESCs doubled) when `tmux`.
pub fn encode(n: &Notice, format: NotifyFormat, tmux: bool) -> Vec<u8> {
    let seq = match format {
        NotifyFormat::Osc777 => {
            let (t, b) = (clean(&n.title, TITLE_MAX, true), clean(&n.body, BODY_MAX, true));
            format!("\x1b]777;notify;{t};{b}\x07")
        }
        NotifyFormat::Osc9 => {
            let text = clean(&format!("{}: {}", n.title, n.body), TITLE_MAX + BODY_MAX, true);
            format!("\x1b]9;{text}\x07")
        }
        NotifyFormat::Osc99 => {
            // Payloads base64 (`e=1`), so nothing in them is read as protocol.
            let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
            let (t, b) = (clean(&n.title, TITLE_MAX, false), clean(&n.body, BODY_MAX, false));
            let id = format!("convo{}", n.id);
            format!("\x1b]99;i={id}:d=0:e=1;{}\x1b\\\x1b]99;i={id}:d=1:p=body:e=1;{}\x1b\\", b64(&t), b64(&b))
        }
    };
    if tmux { tmux_passthrough(&seq) } else { seq.into_bytes() }
}

/// `seq` wrapped for tmux's passthrough, so tmux hands it to the outer terminal.
pub fn tmux_passthrough(seq: &str) -> Vec<u8> {
    let mut out = b"\x1bPtmux;".to_vec();
    for b in seq.bytes() {
        if b == 0x1b {
            out.push(0x1b);
        }
        out.push(b);
    }
    out.extend_from_slice(b"\x1b\\");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(title: &str, body: &str) -> Notice {
        Notice { id: 7, title: title.into(), body: body.into() }
    }

    #[test]
    fn osc_777_fields_lose_controls_escapes_and_semicolons() {
        let n = notice("bob; in Team", "hi\x1b]0;pwned\x07 there\x07; ok\nnext");
        let out = String::from_utf8(encode(&n, NotifyFormat::Osc777, false)).unwrap();
        assert_eq!(out, "\x1b]777;notify;bob, in Team;hi there, ok next\x07");
    }

    #[test]
    fn osc_9_and_osc_99_carry_title_and_body() {
        let n = notice("bob in Team", "lunch?");
        assert_eq!(encode(&n, NotifyFormat::Osc9, false), b"\x1b]9;bob in Team: lunch?\x07");
        let out = String::from_utf8(encode(&n, NotifyFormat::Osc99, false)).unwrap();
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert_eq!(
            out,
            format!(
                "\x1b]99;i=convo7:d=0:e=1;{}\x1b\\\x1b]99;i=convo7:d=1:p=body:e=1;{}\x1b\\",
                b64("bob in Team"),
                b64("lunch?")
            )
        );
    }

    #[test]
    fn tmux_wrapping_doubles_inner_escapes() {
        let out = encode(&notice("t", "b"), NotifyFormat::Osc777, true);
        assert_eq!(out, b"\x1bPtmux;\x1b\x1b]777;notify;t;b\x07\x1b\\");
    }

    #[test]
    fn long_fields_are_cut_with_an_ellipsis() {
        let long = "x".repeat(1000);
        let out = clean(&long, BODY_MAX, true);
        assert_eq!(out.chars().count(), BODY_MAX);
        assert!(out.ends_with('…'));
    }

    #[test]
    fn a_mention_is_the_whole_identity_after_an_at_sign() {
        assert!(mentions("hey @Me, look", "me"));
        assert!(mentions("@me", "me"));
        assert!(mentions("ping @me.", "me"));
        assert!(!mentions("hey @meg", "me"));
        assert!(!mentions("me without at", "me"));
        assert!(!mentions("email me@example.com", "example"));
    }
}
