//! The message pane: the viewport's lines (see `message_view`), the
//! conversation's name as title, "loading older…" while a page is on its way,
//! "N new ↓" when messages arrived below while you were scrolled up, and the
//! image previews (`previews`) over the rows kept for them.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::{focused, pane_block};
use crate::tui::app::{App, Focus};
use crate::tui::message_view::{self, ViewCtx};

pub fn draw(frame: &mut Frame, area: Rect, app: &mut App) {
    app.pane_rows.clear();
    let has_focus = focused(app, Focus::Messages);
    let title = match &app.open {
        Some(sid) => format!(" {} ", app.display_name(sid)),
        None => " Messages ".to_string(),
    };
    let theme = app.theme;
    let mut block = pane_block(Line::styled(title, theme.title), has_focus, &theme);
    let inner = block.inner(area);
    let Some(sid) = app.open.clone() else {
        let text =
            "No conversation open.\n\nPick one in the list (Tab, ↑/↓, Enter),\nor type /create NAME or /join NAME.";
        frame.render_widget(Paragraph::new(text).style(theme.dim).alignment(Alignment::Center).block(block), area);
        return;
    };
    let ctx = ViewCtx {
        width: inner.width.max(1),
        me: &app.identity,
        theme: &app.theme,
        offset: app.utc_offset,
        read_by_max: app.settings.read_by_max,
        previews: app.images.enabled(),
    };
    let Some(room) = app.rooms.get_mut(&sid) else { return };
    if room.loading_older && room.loaded {
        block = block.title_top(Line::styled(" loading older… ", theme.dim).right_aligned());
    }
    if room.new_below > 0 {
        let s = format!(" {} new ↓ End ", room.new_below);
        block = block.title_bottom(Line::styled(s, theme.new_marker).right_aligned());
    } else if room.anchor.is_some() {
        block = block.title_bottom(Line::styled(" ↓ End for newest ", theme.dim).right_aligned());
    }
    if !room.loaded {
        frame.render_widget(Paragraph::new("Loading…").style(theme.dim).block(block), area);
        return;
    }
    if room.messages.is_empty() {
        let text = "No messages yet. Say hello!";
        frame.render_widget(
            Paragraph::new(text).style(theme.dim).alignment(Alignment::Center).wrap(Wrap { trim: true }).block(block),
            area,
        );
        return;
    }
    let view = message_view::view(room, inner.height as usize, &ctx);
    app.pane_area = inner;
    app.pane_rows = view.rows;
    frame.render_widget(Paragraph::new(view.lines).block(block), area);
    super::previews::draw(frame, inner, app, &sid, &view.previews);
}
