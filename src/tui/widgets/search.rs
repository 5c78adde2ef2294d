//! The search and mentions overlay (Ctrl-F, /search, /mentions): the prompt and
//! its scope, then a row per hit (conversation, author, time, the line, matches marked).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, List, ListItem, ListState, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::conversation_list::truncate;
use super::{centered, pane_block};
use crate::tui::app::App;
use crate::tui::search::{Hit, Kind, SearchView};

/// Columns of the conversation and author fields of a row.
const NAME_COLS: usize = 16;
const AUTHOR_COLS: usize = 12;
/// Chars of the line kept before the first mark when the line is cut.
const LEAD_CHARS: usize = 12;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, v: &SearchView) {
    let theme = &app.theme;
    let rect = centered(area, area.width.saturating_sub(6).min(120), area.height.saturating_sub(4));
    frame.render_widget(Clear, rect);
    let title = match v.kind {
        Kind::Text => " Search: type words, Enter searches / opens, Tab: here / everywhere, Esc closes ".to_string(),
        Kind::Mentions => format!(" Mentions of @{}: Enter opens, Esc closes ", app.identity),
    };
    let block = pane_block(title, true, theme);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    if inner.height < 3 {
        return;
    }
    let scope = match &v.here {
        Some(sid) => format!("in {}", app.list_name(sid)),
        None => "in all conversations".to_string(),
    };
    let mut prompt = vec![Span::styled("> ", theme.key), Span::raw(v.query.clone())];
    if v.kind == Kind::Text {
        prompt.push(Span::styled("▏", theme.dim));
    }
    let used: usize = prompt.iter().map(|s| s.content.width()).sum();
    prompt.push(Span::raw(" ".repeat((inner.width as usize).saturating_sub(used + scope.width()))));
    prompt.push(Span::styled(scope, theme.dim));
    frame.render_widget(Paragraph::new(Line::from(prompt)), Rect { height: 1, ..inner });
    let state_line = match (&v.ran, v.hits.len(), v.loading) {
        (None, _, _) => "type words to find (quok* for a prefix, \"a phrase\" in quotes), then Enter".to_string(),
        (Some(_), 0, true) => "searching…".to_string(),
        (Some(_), 0, false) if v.kind == Kind::Mentions => "no messages mention you".to_string(),
        (Some(_), 0, false) => "no messages match".to_string(),
        (Some(_), n, loading) => {
            let more = if loading {
                ", more coming…"
            } else if v.next_page_token.is_some() {
                ", more as you scroll"
            } else {
                ""
            };
            format!("{n} {}{more}", if n == 1 { "message" } else { "messages" })
        }
    };
    frame.render_widget(Paragraph::new(state_line).style(theme.dim), Rect { y: inner.y + 1, height: 1, ..inner });
    let list_area = Rect { y: inner.y + 2, height: inner.height.saturating_sub(2), ..inner };
    if v.hits.is_empty() {
        return;
    }
    // The selection is marked with `▸` too, so it shows without colour.
    let width = (list_area.width as usize).saturating_sub(2);
    let items: Vec<ListItem> = v.hits.iter().map(|h| ListItem::new(row(app, h, width))).collect();
    let mut state = ListState::default().with_selected(Some(v.selected));
    frame.render_stateful_widget(
        List::new(items).highlight_style(theme.selected).highlight_symbol("▸ "),
        list_area,
        &mut state,
    );
}

fn pad(s: &str, cols: usize) -> String {
    let t = truncate(s, cols);
    let w = t.width();
    format!("{t}{}", " ".repeat(cols.saturating_sub(w)))
}

/// One hit: `name  author  2026-11-24 09:00  …the line with marks`.
fn row(app: &App, h: &Hit, width: usize) -> Line<'static> {
    let theme = &app.theme;
    let when = time::OffsetDateTime::from_unix_timestamp(h.created)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(app.utc_offset);
    let stamp = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        when.year(),
        u8::from(when.month()),
        when.day(),
        when.hour(),
        when.minute()
    );
    let mut spans = vec![
        Span::styled(pad(&format!("#{}", app.list_name(&h.conversation_sid)), NAME_COLS), theme.dim),
        Span::raw(" "),
        Span::styled(pad(&h.author, AUTHOR_COLS), theme.author),
        Span::raw(" "),
        Span::styled(stamp, theme.time),
        Span::raw("  "),
    ];
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    let room = width.saturating_sub(used);
    // A line whose first mark would be off the right edge is shown from a little before it.
    let mut start = 0;
    if let Some(first) = h.marks.first()
        && h.line[..first.start].width() + 8 > room
    {
        start = h.line[..first.start].char_indices().rev().nth(LEAD_CHARS - 1).map_or(0, |(i, _)| i);
        spans.push(Span::styled("…", theme.dim));
    }
    let hit = theme.mention.add_modifier(Modifier::UNDERLINED);
    spans.extend(marked(&h.line, start, &h.marks, theme.base, hit));
    Line::from(spans)
}

/// `text[start..]` as spans, the byte ranges `marks` in `hit` style.
fn marked(text: &str, start: usize, marks: &[std::ops::Range<usize>], plain: Style, hit: Style) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut at = start;
    for m in marks.iter().filter(|m| m.end > start) {
        let from = m.start.max(start);
        if from > at {
            spans.push(Span::styled(text[at..from].to_string(), plain));
        }
        spans.push(Span::styled(text[from..m.end].to_string(), hit));
        at = m.end;
    }
    if at < text.len() {
        spans.push(Span::styled(text[at..].to_string(), plain));
    }
    spans
}
