//! What in a body points somewhere: URLs (found by `linkify`, opened with the
//! system opener, never through a shell), `@identity` mentions of you, and the
//! terminal clipboard (OSC 52) for copying a message.

use std::ops::Range;
use std::process::{Command, Stdio};

use base64::Engine;

/// A piece of plain text: a URL, a mention of you, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    Text,
    Url,
    Mention,
}

/// Splits `text` into consecutive pieces (byte ranges covering all of it).
pub fn pieces(text: &str, me: &str) -> Vec<(Range<usize>, Piece)> {
    let mut out = Vec::new();
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    let mut at = 0;
    for link in finder.links(text) {
        push_mentions(&mut out, text, at..link.start(), me);
        out.push((link.start()..link.end(), Piece::Url));
        at = link.end();
    }
    push_mentions(&mut out, text, at..text.len(), me);
    out
}

fn push_mentions(out: &mut Vec<(Range<usize>, Piece)>, text: &str, range: Range<usize>, me: &str) {
    let mut at = range.start;
    for m in mention_ranges(&text[range.clone()], me) {
        let m = m.start + range.start..m.end + range.start;
        if m.start > at {
            out.push((at..m.start, Piece::Text));
        }
        at = m.end;
        out.push((m, Piece::Mention));
    }
    if range.end > at {
        out.push((at..range.end, Piece::Text));
    }
}

/// Characters that continue an identity after `@` (so `@bobby` is not `@bob`).
fn is_identity_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '@' | '+')
}

/// Where `text` mentions `@me`: `@` + the identity, not inside a longer word
/// (an e-mail address) and not followed by more identity characters (a
/// trailing full stop still counts as the end of a sentence).
pub fn mention_ranges(text: &str, me: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    if me.is_empty() {
        return out;
    }
    let needle = format!("@{me}");
    let mut from = 0;
    while let Some(pos) = text[from..].find(&needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before_ok = text[..start].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let rest = &text[end..];
        let mut next = rest.chars();
        let after_ok = match (next.next(), next.next()) {
            (None, _) => true,
            // "@me." at the end of a sentence; "@me.example" is someone else.
            (Some('.'), second) => second.is_none_or(|c| !is_identity_char(c)),
            (Some(c), _) => !is_identity_char(c),
        };
        if before_ok && after_ok {
            out.push(start..end);
        }
        from = end;
    }
    out
}

/// Whether `body` mentions `@me`.
pub fn mentions(body: &str, me: &str) -> bool {
    !mention_ranges(body, me).is_empty()
}

/// The URLs in `text`, in order, without repeats.
pub fn urls(text: &str) -> Vec<String> {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    let mut out: Vec<String> = Vec::new();
    for l in finder.links(text) {
        if !out.iter().any(|u| u == l.as_str()) {
            out.push(l.as_str().to_string());
        }
    }
    out
}

/// Only web and mail links are handed to the opener: a `file:` or custom
/// scheme from a stranger's message could start any program.
pub fn openable(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    ["http://", "https://", "mailto:"].iter().any(|s| lower.starts_with(s)) && !url.chars().any(char::is_control)
}

/// The opener: `open_command` from config.toml (a program and its arguments,
/// split at spaces), else `open` on macOS and `xdg-open` elsewhere.
pub fn opener(open_command: Option<&str>) -> Vec<String> {
    match open_command.map(str::split_whitespace) {
        Some(parts) if open_command.is_some_and(|c| !c.trim().is_empty()) => parts.map(str::to_owned).collect(),
        _ if cfg!(target_os = "macos") => vec!["open".into()],
        _ => vec!["xdg-open".into()],
    }
}

/// Starts the opener on `url` as a program with arguments (no shell), its
/// output discarded so it cannot draw over the screen.
pub fn open(url: &str, open_command: Option<&str>) -> Result<(), String> {
    if !openable(url) {
        return Err(format!("not opening {url}: only http, https and mailto links are opened"));
    }
    let argv = opener(open_command);
    let (program, args) = argv.split_first().ok_or("open_command is empty")?;
    Command::new(program)
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_child| ())
        .map_err(|e| format!("could not start {program}: {e}"))
}

/// Starts the opener on a file this client wrote (a fetched attachment),
/// as a program with arguments (no shell), its output discarded.
pub fn open_file(path: &std::path::Path, open_command: Option<&str>) -> Result<(), String> {
    let argv = opener(open_command);
    let (program, args) = argv.split_first().ok_or("open_command is empty")?;
    Command::new(program)
        .args(args)
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_child| ())
        .map_err(|e| format!("could not start {program}: {e}"))
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64::engine::general_purpose::STANDARD.encode(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_need_the_whole_identity_and_a_word_boundary() {
        assert_eq!(mention_ranges("hi @me!", "me"), vec![3..6]);
        assert!(mentions("@me", "me"));
        assert!(mentions("ask @me.", "me"));
        assert!(!mentions("ask @meg", "me"));
        assert!(!mentions("mail x@me", "me"));
        assert!(!mentions("@me.example.com", "me"));
        assert!(!mentions("me", "me"));
        assert!(!mentions("@", ""));
    }

    #[test]
    fn pieces_cover_the_text_with_urls_and_mentions() {
        let text = "see https://example.com/a?b=1 @me ok";
        let p = pieces(text, "me");
        let kinds: Vec<(&str, Piece)> = p.iter().map(|(r, k)| (&text[r.clone()], *k)).collect();
        assert_eq!(
            kinds,
            vec![
                ("see ", Piece::Text),
                ("https://example.com/a?b=1", Piece::Url),
                (" ", Piece::Text),
                ("@me", Piece::Mention),
                (" ok", Piece::Text)
            ]
        );
        assert_eq!(urls("a http://x.org b http://x.org c https://y.org"), ["http://x.org", "https://y.org"]);
    }

    #[test]
    fn only_web_and_mail_links_are_openable_and_the_opener_is_configurable() {
        assert!(openable("https://example.com"));
        assert!(openable("mailto:a@b.c"));
        assert!(!openable("file:///etc/passwd"));
        assert!(!openable("javascript:alert(1)"));
        assert_eq!(opener(Some("firefox --new-tab")), ["firefox", "--new-tab"]);
        assert_eq!(opener(Some("  ")).len(), 1);
        assert!(open("file:///etc/passwd", None).is_err());
    }

    #[test]
    fn osc52_carries_the_text_in_base64() {
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
