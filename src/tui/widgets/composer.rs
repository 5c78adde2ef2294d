//! The composer: a `ratatui-textarea` editor in a frame whose title says what
//! Enter will do (send, save an edit, run a command). The cursor shows only
//! while it has focus.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};

use super::{focused, pane_block};
use crate::tui::app::{App, Focus};

pub fn draw(frame: &mut Frame, area: Rect, app: &mut App) {
    let has_focus = focused(app, Focus::Composer);
    let text_start = app.composer.lines().first().map(String::as_str).unwrap_or("");
    let title = if app.editing.is_some() {
        " Edit message (Enter saves, Esc cancels) ".to_string()
    } else if text_start.starts_with('/') {
        " Command ".to_string()
    } else {
        match &app.open {
            Some(sid) => format!(" Message {} ", app.display_name(sid)),
            None => " Message ".to_string(),
        }
    };
    let theme = app.theme;
    app.composer.set_block(pane_block(title, has_focus, &theme));
    let cursor = if has_focus { Style::default().add_modifier(Modifier::REVERSED) } else { Style::default() };
    app.composer.set_cursor_style(cursor);
    frame.render_widget(&app.composer, area);
}
