//! Tab completion in the composer, the one rule for it: what the word before the
//! cursor may become (command names, their arguments, `@identity`, paths for
//! `/upload`), and repeated Tab cycling through the candidates (Shift-Tab back).

use std::time::Instant;

use ratatui_textarea::{CursorMove, DataCursor};

use super::app::{App, Completion};
use super::commands;

/// What an argument of a command completes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    Conversation,
    /// Someone known who is not in the open conversation.
    NewPerson,
    /// Someone in the open conversation.
    Participant,
    Path,
}

/// The argument kind of the commands that take one worth completing.
fn arg_kind(command: &str) -> Option<Arg> {
    match command {
        "/join" => Some(Arg::Conversation),
        "/add" => Some(Arg::NewPerson),
        "/remove" | "/kick" => Some(Arg::Participant),
        "/upload" => Some(Arg::Path),
        _ => None,
    }
}

/// Every command name, from the help table (so a new command completes once it
/// is documented), plus `/upload`, whose paths complete already.
pub fn command_names() -> Vec<String> {
    let mut names: Vec<String> = commands::HELP
        .iter()
        .flat_map(|(usage, _)| usage.split(", "))
        .filter_map(|u| u.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    if !names.iter().any(|n| n == "/upload") {
        names.push("/upload".to_string());
    }
    names.sort();
    names.dedup();
    names
}

/// The candidates for the text before the cursor of one line (`before`), when
/// `first_line` says it is the composer's first: where the replaced part
/// starts (a char column) and what may replace it. `None`: nothing to
/// complete here (Tab keeps its other meaning).
pub fn candidates(app: &App, before: &str, first_line: bool) -> Option<(usize, Vec<String>)> {
    let chars: Vec<char> = before.chars().collect();
    let word_start = chars.iter().rposition(|c| c.is_whitespace()).map_or(0, |p| p + 1);
    let word: String = chars[word_start..].iter().collect();
    if first_line && before.starts_with('/') {
        let cmd_end = chars.iter().position(|c| c.is_whitespace());
        let Some(cmd_end) = cmd_end else {
            let names = command_names();
            return Some((0, matching(names.iter().map(String::as_str), &word, " ")));
        };
        let command: String = chars[..cmd_end].iter().collect();
        if let Some(kind) = arg_kind(&command) {
            let arg_start =
                chars[cmd_end..].iter().position(|c| !c.is_whitespace()).map_or(chars.len(), |p| p + cmd_end);
            let arg: String = chars[arg_start..].iter().collect();
            return Some((arg_start, arg_candidates(app, kind, &arg)));
        }
    }
    if let Some(prefix) = word.strip_prefix('@') {
        let names: Vec<String> = participants(app).into_iter().map(|p| format!("@{p}")).collect();
        return Some((word_start, matching(names.iter().map(String::as_str), &format!("@{prefix}"), " ")));
    }
    None
}

fn arg_candidates(app: &App, kind: Arg, arg: &str) -> Vec<String> {
    match kind {
        Arg::Conversation => {
            let mut names = Vec::new();
            for sid in &app.order {
                if let Some(e) = app.conversations.get(sid) {
                    names.extend(e.conversation.unique_name.iter().map(|u| super::sanitize::line(u)));
                }
                names.push(app.display_name(sid));
            }
            matching(names.iter().map(String::as_str), arg, " ")
        }
        Arg::Participant => matching(participants(app).iter().map(String::as_str), arg, " "),
        Arg::NewPerson => {
            let here = participants(app);
            let people = super::switcher::people(app);
            matching(people.iter().filter(|p| !here.contains(p)).map(String::as_str), arg, " ")
        }
        Arg::Path => paths(arg),
    }
}

/// Identities in the open conversation, without the user's own.
fn participants(app: &App) -> Vec<String> {
    let Some(room) = app.open.as_ref().and_then(|s| app.rooms.get(s)) else { return Vec::new() };
    let mut ids: Vec<String> = room
        .participants
        .values()
        .filter_map(|p| p.identity.as_deref())
        .filter(|i| *i != app.identity)
        .map(super::sanitize::line)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The names starting with `prefix` (ignoring case), each followed by `suffix`,
/// sorted and without repeats.
fn matching<'a>(names: impl Iterator<Item = &'a str>, prefix: &str, suffix: &str) -> Vec<String> {
    let lower = prefix.to_lowercase();
    let mut out: Vec<String> =
        names.filter(|n| n.to_lowercase().starts_with(&lower)).map(|n| format!("{n}{suffix}")).collect();
    out.sort();
    out.dedup();
    out
}

/// Most entries of one directory offered as paths.
const MAX_PATHS: usize = 200;

/// Paths starting with `typed`: entries of its directory (`~/` is the home
/// directory), directories ending in `/`, files in a space; dot files only
/// when the typed name starts with a dot.
pub fn paths(typed: &str) -> Vec<String> {
    let (dir, name) = match typed.rfind('/') {
        Some(p) => (&typed[..=p], &typed[p + 1..]),
        None => ("", typed),
    };
    let listed = if dir.is_empty() {
        std::path::PathBuf::from(".")
    } else if let Some(rest) = dir.strip_prefix("~/") {
        match std::env::var_os("HOME") {
            Some(home) => std::path::PathBuf::from(home).join(rest),
            None => std::path::PathBuf::from(dir),
        }
    } else {
        std::path::PathBuf::from(dir)
    };
    let Ok(entries) = std::fs::read_dir(&listed) else { return Vec::new() };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let file = e.file_name().into_string().ok()?;
            if !file.starts_with(name) || (file.starts_with('.') && !name.starts_with('.')) {
                return None;
            }
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir()) || e.path().is_dir();
            Some(format!("{dir}{file}{}", if is_dir { "/" } else { " " }))
        })
        .take(MAX_PATHS)
        .collect();
    out.sort();
    out
}

/// Tab (or Shift-Tab, `back`) in the composer. True when it completed or
/// cycled; false when there is nothing to complete here, so Tab moves focus.
pub fn on_tab(app: &mut App, back: bool, now: Instant) -> bool {
    let DataCursor(row, col) = app.composer.cursor();
    if let Some(cycle) = app.completion.take()
        && cycle.row == row
        && cycle.end == col
        && cycle.candidates.len() > 1
    {
        let n = cycle.candidates.len();
        let index = if back { (cycle.index + n - 1) % n } else { (cycle.index + 1) % n };
        apply(app, Completion { index, ..cycle });
        return true;
    }
    let line = app.composer.lines().get(row).cloned().unwrap_or_default();
    let before: String = line.chars().take(col).collect();
    if before.trim().is_empty() {
        return false;
    }
    let Some((start, candidates)) = candidates(app, &before, row == 0) else { return false };
    if candidates.is_empty() {
        app.set_status("nothing to complete", false, now);
        return true;
    }
    if candidates.len() > 1 {
        let shown: Vec<&str> = candidates.iter().take(8).map(|c| c.trim_end()).collect();
        let more = if candidates.len() > 8 { format!(" … ({})", candidates.len()) } else { String::new() };
        app.set_status(format!("Tab: {}{more}", shown.join("  ")), false, now);
    }
    let index = if back { candidates.len() - 1 } else { 0 };
    apply(app, Completion { row, start, end: col, candidates, index });
    true
}

/// Replaces the cycle's span with its current candidate and keeps the cycle.
fn apply(app: &mut App, cycle: Completion) {
    app.composer.move_cursor(CursorMove::Jump(cycle.row as u16, cycle.end as u16));
    for _ in cycle.start..cycle.end {
        app.composer.delete_char();
    }
    let text = &cycle.candidates[cycle.index];
    app.composer.insert_str(text);
    let end = cycle.start + text.chars().count();
    app.completion = Some(Completion { end, ..cycle });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_come_from_the_help_table_with_upload() {
        let names = command_names();
        for n in ["/join", "/mute", "/unmute", "/read", "/unread", "/upload", "/editor"] {
            assert!(names.contains(&n.to_string()), "{n} in {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains(',') || n.contains(' ')), "{names:?}");
    }

    #[test]
    fn paths_list_a_directory_with_dirs_marked_and_dot_files_hidden() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("photos")).unwrap();
        std::fs::write(dir.path().join("photo.png"), b"x").unwrap();
        std::fs::write(dir.path().join(".photo-secret"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let base = format!("{}/", dir.path().display());
        let got = paths(&format!("{base}pho"));
        assert_eq!(got, vec![format!("{base}photo.png "), format!("{base}photos/")]);
        assert_eq!(paths(&format!("{base}.pho")), vec![format!("{base}.photo-secret ")]);
        assert!(paths(&format!("{base}nothing-like-this")).is_empty());
        assert!(paths("/no/such/dir/x").is_empty());
    }
}
