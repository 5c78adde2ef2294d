//! The help overlay (`?` or F1): every key binding as configured, and the
//! slash commands. Any key closes it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use unicode_width::UnicodeWidthChar;

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
        Span::styled(format!("  {:<22}", "Tab / Shift-Tab"), theme.key),
        Span::raw("in the composer: complete /commands, @names, args"),
    ]));
    out.push(Line::from(vec![
        Span::styled(format!("  {:<22}", "Esc"), theme.key),
        Span::raw("leave composer, cancel edit, back from a hit"),
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
        // Keys left and commands right; when the keys alone are too tall, the
        // lines run on from the bottom of the left column to the right one.
        let blank = lines.iter().position(|l| l.width() == 0).unwrap_or(lines.len() / 2);
        let split = if blank as u16 + 2 > area.height { lines.len().div_ceil(2) } else { blank };
        let (keys, commands) = lines.split_at(split);
        let commands: Vec<Line> = commands.iter().skip(usize::from(split == blank)).cloned().collect();
        let rect = centered(area, 150, keys.len().max(commands.len()) as u16 + 2);
        frame.render_widget(Clear, rect);
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let [left, right] =
            ratatui::layout::Layout::horizontal([ratatui::layout::Constraint::Ratio(1, 2); 2]).areas(inner);
        frame.render_widget(Paragraph::new(cut(keys, left.width)), left);
        frame.render_widget(Paragraph::new(cut(&commands, right.width)), right);
        return;
    }
    let rect = centered(area, 76, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let width = block.inner(rect).width;
    frame.render_widget(Paragraph::new(cut(&lines, width)).block(block), rect);
}

/// Lines cut to `width` columns, each ending in `…` where text was cut, so a
/// narrow overlay never ends a line mid-word without saying so.
fn cut(lines: &[Line<'static>], width: u16) -> Vec<Line<'static>> {
    lines.iter().map(|l| cut_line(l, width as usize)).collect()
}

fn cut_line(line: &Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line.clone();
    }
    let mut left = width.saturating_sub(1);
    let mut spans = Vec::new();
    for span in &line.spans {
        let mut text = String::new();
        for ch in span.content.chars() {
            let w = ch.width().unwrap_or(0);
            if w > left {
                break;
            }
            left -= w;
            text.push(ch);
        }
        let whole = text.len() == span.content.len();
        spans.push(Span::styled(text, span.style));
        if !whole {
            break;
        }
    }
    if let Some(last) = spans.last_mut() {
        last.content = last.content.trim_end().to_owned().into();
    }
    spans.push(Span::raw("…"));
    Line::from(spans).style(line.style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_too_wide_ends_in_an_ellipsis_within_the_width() {
        let line = Line::from(vec![Span::raw("  Ctrl-N      "), Span::raw("next conversation, from anywhere")]);
        let cut = cut_line(&line, 24);
        assert_eq!(cut.to_string(), "  Ctrl-N      next conv…");
        assert!(cut.width() <= 24);
        assert_eq!(cut_line(&line, 80), line, "a line that fits is left alone");
    }
}
