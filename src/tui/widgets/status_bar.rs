//! The status bar: connection state (reconnecting shows), who and where you
//! are, and the latest error from the server in plain words.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::sdk::ConnectionState;
use crate::tui::app::App;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let (dot, label, style) = match app.connection {
        ConnectionState::Connecting => ("◌", "connecting…", theme.warn),
        ConnectionState::Connected => ("●", "connected", theme.ok),
        ConnectionState::Disconnected => ("○", "reconnecting…", theme.warn),
        ConnectionState::Denied => ("✖", "access denied", theme.error),
    };
    let left = vec![
        Span::styled(format!(" {dot} {label} "), style),
        Span::styled(format!(" {} ", app.identity), theme.bold),
        Span::styled(format!("@ {} ", app.server), theme.dim),
    ];
    let left_w: usize = left.iter().map(|s| s.content.width()).sum();
    let (text, tstyle) = match &app.status {
        Some(s) => (s.text.clone(), if s.error { theme.error } else { theme.base }),
        None => ("F1 help · Ctrl-C quit".to_string(), theme.dim),
    };
    let room = (area.width as usize).saturating_sub(left_w + 1);
    let text = super::conversation_list::truncate(&text, room);
    let pad = room.saturating_sub(text.width());
    let mut spans = left;
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(text, tstyle));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
