//! The participant sidebar: who is in the open conversation, the user marked
//! "(you)", a pen mark beside whoever is typing, and `online`/`offline` when known.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::conversation_list::truncate;
use super::pane_block;
use crate::tui::app::App;
use crate::tui::{presence, sanitize};

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let room = app.open.as_ref().and_then(|s| app.rooms.get(s));
    // (shown name, presence when known)
    let mut people: Vec<(String, Option<bool>)> = room
        .map(|r| {
            r.participants
                .values()
                .map(|p| match &p.identity {
                    Some(i) => (sanitize::line(i), presence::is_online(app, i)),
                    None => ("(sms/whatsapp)".to_string(), None),
                })
                .collect()
        })
        .unwrap_or_default();
    people.sort_by_key(|(n, _)| n.to_lowercase());
    let title = format!(" People ({}) ", people.len());
    let w = area.width.saturating_sub(2) as usize;
    let lines: Vec<Line> = people
        .iter()
        .map(|(n, online)| {
            let typing = room.is_some_and(|r| r.typing.contains_key(n));
            let me = *n == app.identity;
            let mark = if typing {
                " ✎"
            } else if me {
                " (you)"
            } else {
                ""
            };
            let (word, word_style) = match online {
                Some(true) => ("online", theme.ok),
                Some(false) => ("offline", theme.dim),
                None => ("", theme.dim),
            };
            // The word goes at the right edge when it fits beside a few letters of the name.
            let word = if w >= word.width() + 6 { word } else { "" };
            let room_for_name = w.saturating_sub(mark.width() + word.width() + usize::from(!word.is_empty()));
            let name = truncate(n, room_for_name);
            let pad = w.saturating_sub(name.width() + mark.width() + word.width());
            let style = if me { theme.author_me } else { theme.base };
            Line::from(vec![
                Span::styled(name, style),
                Span::styled(mark, if typing { theme.typing } else { theme.dim }),
                Span::raw(" ".repeat(pad)),
                Span::styled(word, word_style),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(pane_block(title, false, theme)), area);
}
