//! The help overlay (`?` or F1): every key binding as configured, and the
//! slash commands. Any key closes it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::{centered, pane_block};
use crate::tui::app::App;
use crate::tui::commands;

/// The help text as lines: keys then commands.
pub fn lines(app: &App) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let mut out = vec![Line::styled("Keys", theme.title)];
    for (action, keys) in app.keymap.describe() {
        out.push(Line::from(vec![
            Span::styled(format!("  {:<22}", keys.join(", ")), theme.key),
            Span::raw(action.describe()),
        ]));
    }
    out.push(Line::from(vec![
        Span::styled(format!("  {:<22}", "Enter / Alt-Enter"), theme.key),
        Span::raw("send / new line (also Ctrl-J)"),
    ]));
    out.push(Line::from(vec![
        Span::styled(format!("  {:<22}", "Up / Down"), theme.key),
        Span::raw("in an empty composer: sent history"),
    ]));
    out.push(Line::from(vec![
        Span::styled(format!("  {:<22}", "Esc"), theme.key),
        Span::raw("leave the composer / cancel an edit"),
    ]));
    out.push(Line::from(vec![
        Span::styled(format!("  {:<22}", "Mouse wheel"), theme.key),
        Span::raw("scroll messages"),
    ]));
    out.push(Line::raw(""));
    out.push(Line::styled("Commands", theme.title));
    for (cmd, what) in commands::HELP {
        out.push(Line::from(vec![Span::styled(format!("  {cmd:<22}"), theme.key), Span::raw(*what)]));
    }
    out
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let lines = lines(app);
    let block = pane_block(" Help: any key closes ", true, &app.theme);
    // Too tall for the terminal: keys on the left, commands on the right.
    if lines.len() as u16 + 2 > area.height && area.width >= 120 {
        let split = lines.iter().position(|l| l.width() == 0).unwrap_or(lines.len() / 2);
        let (keys, commands) = lines.split_at(split);
        let commands: Vec<Line> = commands.iter().skip(1).cloned().collect();
        let rect = centered(area, 150, keys.len().max(commands.len()) as u16 + 2);
        frame.render_widget(Clear, rect);
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let [left, right] =
            ratatui::layout::Layout::horizontal([ratatui::layout::Constraint::Ratio(1, 2); 2]).areas(inner);
        frame.render_widget(Paragraph::new(keys.to_vec()), left);
        frame.render_widget(Paragraph::new(commands), right);
        return;
    }
    let rect = centered(area, 76, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
