//! The participant sidebar: who is in the open conversation, the user marked
//! "(you)", and a pen mark beside whoever is typing.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::conversation_list::truncate;
use super::pane_block;
use crate::tui::app::App;
use crate::tui::sanitize;

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let room = app.open.as_ref().and_then(|s| app.rooms.get(s));
    let mut names: Vec<String> = room
        .map(|r| {
            r.participants
                .values()
                .map(|p| match &p.identity {
                    Some(i) => sanitize::line(i),
                    None => "(sms/whatsapp)".to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort_by_key(|n| n.to_lowercase());
    let title = format!(" People ({}) ", names.len());
    let w = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = names
        .iter()
        .map(|n| {
            let typing = room.is_some_and(|r| r.typing.contains_key(n));
            let me = *n == app.identity;
            let mark = if typing {
                " ✎"
            } else if me {
                " (you)"
            } else {
                ""
            };
            let name = truncate(n, w.saturating_sub(mark.len().min(6)));
            let style = if me { theme.author_me } else { theme.base };
            Line::from(vec![
                Span::styled(name, style),
                Span::styled(mark, if typing { theme.typing } else { theme.dim }),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(pane_block(title, false, theme)), area);
}
