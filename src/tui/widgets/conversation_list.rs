//! The conversation list: name, unread count (bold when unread), muted ones
//! dimmed and marked, the open one marked with `▸`, the selection highlighted,
//! and for a 1:1 the other person's presence (`●` online, `○` offline) when known.
//! Only the rows in view are built (`App::list_window`): a frame costs the
//! same with 50 conversations as with 1,000.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::{focused, pane_block};
use crate::tui::app::{App, Focus};
use crate::tui::presence;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let has_focus = focused(app, Focus::List);
    let block = pane_block(" Conversations ", has_focus, theme);
    let inner_w = area.width.saturating_sub(2) as usize;
    if app.order.is_empty() {
        let text = if app.conversations.is_empty() { "No conversations yet.\n/create NAME starts one." } else { "" };
        frame.render_widget(
            Paragraph::new(text).style(theme.dim).block(block).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let window = app.list_window(area.height.saturating_sub(2) as usize);
    let selected = app.selected_pos().map(|s| s - window.start);
    let theme = &app.theme;
    let items: Vec<ListItem> = app.order[window]
        .iter()
        .map(|sid| {
            // A conversation being read right now (its horizon is about to be
            // sent) shows no count rather than one that flickers away.
            let reading = app.pending_read.as_ref().is_some_and(|p| p.conversation_sid == *sid);
            let unread = if reading { 0 } else { app.unread(sid) };
            let muted = app.is_muted(sid);
            let open = app.open.as_deref() == Some(sid.as_str());
            let right = match (unread, muted) {
                (0, false) => String::new(),
                (0, true) => "muted".to_string(),
                (n, false) => n.to_string(),
                (n, true) => format!("{n} muted"),
            };
            // A mention of you waiting here: `@` beside the count.
            let right = if app.mentioned.contains(sid) { format!("@ {right}").trim_end().to_string() } else { right };
            let prefix = if open { "▸ " } else { "  " };
            let (dot, dot_style) = match presence::list_dot(app, sid) {
                Some(true) => (format!("{} ", presence::ONLINE_DOT), theme.ok),
                Some(false) => (format!("{} ", presence::OFFLINE_DOT), theme.dim),
                None => (String::new(), theme.dim),
            };
            let used = prefix.width() + dot.width();
            let room = inner_w.saturating_sub(used + right.width() + usize::from(!right.is_empty()));
            let name = truncate(&app.list_name(sid), room);
            let pad = inner_w.saturating_sub(used + name.width() + right.width());
            let style = if muted {
                theme.muted
            } else if unread > 0 {
                theme.unread
            } else {
                theme.base
            };
            ListItem::new(Line::from(vec![
                Span::styled(prefix, style),
                Span::styled(dot, dot_style),
                Span::styled(name, style),
                Span::raw(" ".repeat(pad)),
                Span::styled(right, if muted { theme.muted } else { theme.unread }),
            ]))
        })
        .collect();
    let mut state = ListState::default().with_selected(selected);
    let highlight = if has_focus { theme.selected } else { theme.bold };
    frame.render_stateful_widget(List::new(items).block(block).highlight_style(highlight), area, &mut state);
}

/// Cuts `s` to `max` columns, ending with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.width() <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}
