//! The switcher overlay (Ctrl-K): the query on top, then the matching
//! conversations (unread counts, muted marked) and people, matched letters marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, List, ListItem, ListState, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::conversation_list::truncate;
use super::{centered, pane_block};
use crate::tui::app::App;
use crate::tui::switcher::{Item, Switcher, Target};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, s: &Switcher) {
    let theme = &app.theme;
    let rows = (s.items.len() as u16).clamp(1, 14);
    let rect = centered(area, 60, rows + 4);
    frame.render_widget(Clear, rect);
    let block = pane_block(" Switch: type a name, Enter opens, Esc closes ", true, theme);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    if inner.height < 2 {
        return;
    }
    let query =
        Line::from(vec![Span::styled("> ", theme.key), Span::raw(s.query.clone()), Span::styled("▏", theme.dim)]);
    frame.render_widget(Paragraph::new(query), Rect { height: 1, ..inner });
    let list_area = Rect { y: inner.y + 2, height: inner.height.saturating_sub(2), ..inner };
    if s.items.is_empty() {
        frame.render_widget(Paragraph::new("no conversation or person matches").style(theme.dim), list_area);
        return;
    }
    // The selection is marked with `▸` too, so it shows without colour.
    let width = (list_area.width as usize).saturating_sub(2);
    let items: Vec<ListItem> = s.items.iter().map(|item| ListItem::new(row(app, item, width))).collect();
    let mut state = ListState::default().with_selected(Some(s.selected));
    frame.render_stateful_widget(
        List::new(items).highlight_style(theme.selected).highlight_symbol("▸ "),
        list_area,
        &mut state,
    );
}

/// One row: a mark for the kind, the label with matched letters marked, and
/// on the right the unread count, "muted" or what Enter does for a person.
fn row(app: &App, item: &Item, width: usize) -> Line<'static> {
    let theme = &app.theme;
    let (mark, right) = match &item.target {
        Target::Conversation(_) => {
            let right = match (item.unread, item.muted) {
                (0, false) => String::new(),
                (0, true) => "muted".to_string(),
                (n, false) => n.to_string(),
                (n, true) => format!("{n} muted"),
            };
            ("# ", right)
        }
        Target::Person(_) => ("@ ", "message".to_string()),
    };
    let base = if item.muted {
        theme.muted
    } else if item.unread > 0 {
        theme.unread
    } else {
        theme.base
    };
    let room = width.saturating_sub(mark.width() + right.width() + 1);
    let label = truncate(&item.label, room);
    let mut spans = vec![Span::styled(mark, theme.dim)];
    spans.extend(marked(&label, &item.matched, base, base.patch(theme.key)));
    let used = mark.width() + label.width();
    spans.push(Span::raw(" ".repeat(width.saturating_sub(used + right.width()))));
    spans.push(Span::styled(right, if item.muted { theme.muted } else { theme.dim }));
    Line::from(spans)
}

/// `text` as spans, the chars at `matched` positions in `hit` style.
fn marked(text: &str, matched: &[u32], plain: Style, hit: Style) -> Vec<Span<'static>> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut run = String::new();
    let mut run_hit = false;
    for (i, c) in text.chars().enumerate() {
        let is_hit = matched.binary_search(&(i as u32)).is_ok();
        if is_hit != run_hit && !run.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut run), if run_hit { hit } else { plain }));
        }
        run_hit = is_hit;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(run, if run_hit { hit } else { plain }));
    }
    spans
}
