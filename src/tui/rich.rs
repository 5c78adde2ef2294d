//! The rich parts of a message as the pane shows them: what it replies to,
//! its reactions and attachments (parsed once on arrival, sanitized), and the
//! lines drawn for them: the reply quote, the reaction and attachment lines and
//! "read by". The wire conventions themselves are `sdk::rules::rich`.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use serde_json::Value;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use super::sanitize;
use super::theme::Theme;
use crate::api::{Message, Participant};
use crate::sdk::rules::rich::{self, ReplyTo};

/// A file attached to a message (the wire's `media` array).
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// The media's SID (`ME…`), to fetch it by.
    pub sid: String,
    pub filename: String,
    pub content_type: String,
    pub size: Option<u64>,
}

/// What a message carries besides its body, sanitized.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rich {
    pub reply_to: Option<ReplyTo>,
    /// (name, identities), in the demo app's order.
    pub reactions: Vec<(String, Vec<String>)>,
    pub media: Vec<Attachment>,
    /// The body's first line of text without markdown, for quotes of it.
    pub summary: String,
}

impl Rich {
    pub fn from_api(m: &Message) -> Rich {
        let attributes: Value = serde_json::from_str(&m.attributes).unwrap_or(Value::Null);
        let reply_to = rich::reply_to(&attributes).map(|r| ReplyTo {
            message_sid: sanitize::line(&r.message_sid),
            index: r.index,
            author: sanitize::line(&r.author),
        });
        let reactions = rich::reactions(&attributes)
            .into_iter()
            .map(|(name, ids)| (sanitize::line(&name), ids.iter().map(|i| sanitize::line(i)).collect()))
            .collect();
        let media = m
            .media
            .as_ref()
            .and_then(Value::as_array)
            .map(|items| items.iter().map(attachment).collect())
            .unwrap_or_default();
        let body = m.body.as_deref().map(sanitize::text).unwrap_or_default();
        Rich { reply_to, reactions, media, summary: summary(&body) }
    }
}

/// The first line of `body` that has text, as shown (markdown removed).
fn summary(body: &str) -> String {
    let first = body.split('\n').find(|l| !l.trim().is_empty()).unwrap_or("");
    // Markdown of the first line alone: a code fence or list there still reads right.
    super::markdown::render(first, "", &Theme::monochrome())
        .lines
        .iter()
        .map(|l| super::markdown::plain(&l.spans))
        .find(|l| !l.trim().is_empty())
        .unwrap_or_else(|| first.trim().to_string())
        .trim()
        .to_string()
}

fn attachment(v: &Value) -> Attachment {
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(sanitize::line).unwrap_or_default();
    let filename = field("filename");
    Attachment {
        sid: field("sid"),
        filename: if filename.trim().is_empty() { "(unnamed file)".into() } else { filename },
        content_type: field("content_type"),
        size: v.get("size").and_then(Value::as_u64),
    }
}

/// The emoji of a reaction name: the demo app's six, an emoji key as itself,
/// other names as `:name:`.
pub fn emoji(name: &str) -> String {
    match name {
        "heart" => "❤".into(),
        "thumbs_up" => "👍".into(),
        "laugh" => "😂".into(),
        "sad" => "😢".into(),
        "pouting" => "😡".into(),
        "thumbs_down" => "👎".into(),
        n if !n.is_ascii() => truncate(n, 8),
        n => format!(":{}:", truncate(n, 20)),
    }
}

/// Bytes as people read them: `512 B`, `1.5 KB`, `150.0 MB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `s` cut to `width` columns, with `…` when cut.
pub fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    for g in s.graphemes(true) {
        if out.width() + g.width() + 1 > width {
            break;
        }
        out.push_str(g);
    }
    out.push('…');
    out
}

/// The one-line quote above a reply: `↳ author: start of its text`. `quoted`
/// is the answered message's `summary` when it is loaded.
pub fn quote_line(to: &ReplyTo, quoted: Option<&str>, indent: usize, width: usize, theme: &Theme) -> Line<'static> {
    let text = match quoted {
        Some(summary) => summary.to_string(),
        None => format!("message #{}", to.index),
    };
    let head = format!("{}↳ {}: ", " ".repeat(indent), to.author);
    let room = width.saturating_sub(head.width());
    Line::from(vec![Span::styled(head, theme.dim), Span::styled(truncate(&text, room), theme.quote)])
}

/// Reactions as `❤ 2  [👍 1]`: yours in brackets and styled.
pub fn reactions_line(reactions: &[(String, Vec<String>)], me: &str, indent: usize, theme: &Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ".repeat(indent))];
    for (i, (name, ids)) in reactions.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        let label = format!("{} {}", emoji(name), ids.len());
        if ids.iter().any(|id| id == me) {
            spans.push(Span::styled(format!("[{label}]"), theme.reaction_mine));
        } else {
            spans.push(Span::styled(label, Style::default()));
        }
    }
    Line::from(spans)
}

/// `📎 name (size, type)`, cut to the width.
pub fn attachment_line(a: &Attachment, indent: usize, width: usize, theme: &Theme) -> Line<'static> {
    let icon = if a.content_type.starts_with("image/") { "🖼 " } else { "📎 " };
    let mut info: Vec<String> = a.size.map(human_size).into_iter().collect();
    if !a.content_type.is_empty() {
        info.push(a.content_type.clone());
    }
    let tail = if info.is_empty() { String::new() } else { format!(" ({})", info.join(", ")) };
    let room = width.saturating_sub(indent + 3 + tail.width()).max(4);
    Line::from(vec![
        Span::raw(format!("{}{icon}", " ".repeat(indent))),
        Span::styled(truncate(&a.filename, room), theme.bold),
        Span::styled(tail, theme.dim),
    ])
}

/// "read by" under your latest message, or nothing when nobody has read it
/// yet or the room has more than `max_room` participants.
pub fn read_by_line<'a>(
    participants: impl ExactSizeIterator<Item = &'a Participant> + Clone,
    index: i64,
    me: &str,
    max_room: usize,
    indent: usize,
    width: usize,
    theme: &Theme,
) -> Option<Line<'static>> {
    if participants.len() > max_room {
        return None;
    }
    let who = rich::read_by(participants, index, Some(me));
    if who.is_empty() {
        return None;
    }
    let names: Vec<String> = who.iter().map(|w| sanitize::line(w)).collect();
    let text = format!("{}✓ read by {}", " ".repeat(indent), names.join(", "));
    Some(Line::styled(truncate(&text, width), theme.dim))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_emoji_read_naturally() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(150 * 1024 * 1024), "150.0 MB");
        assert_eq!(emoji("thumbs_up"), "👍");
        assert_eq!(emoji("🎉"), "🎉");
        assert_eq!(emoji("party"), ":party:");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
