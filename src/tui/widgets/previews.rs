//! Image previews drawn over the blank rows the message pane keeps for them:
//! the decoded image (`ratatui-image`) when it is ready and its whole box is on
//! screen, else a dim line saying where it stands (fetching, decoding, why not).

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::images::{self, Key};
use crate::tui::message_view::{self, PreviewSlot};
use crate::tui::{attachments, rich};

/// Draws each preview box of `slots` (from `message_view::view`) in the pane's `inner` area.
pub fn draw(frame: &mut Frame, inner: Rect, app: &mut App, sid: &str, slots: &[PreviewSlot]) {
    let now = Instant::now();
    for slot in slots {
        let Some(m) = app.rooms.get(sid).and_then(|r| r.messages.get(&slot.index)) else { continue };
        let Some(a) = m.rich.media.iter().find(|a| a.sid == slot.media_sid).cloned() else { continue };
        let indent = message_view::indent_of(m, inner.width);
        let whole = slot.top >= 0 && slot.top + slot.rows as isize <= inner.height as isize;
        if !whole {
            // Partly scrolled away: blank rather than a cut or misplaced image.
            continue;
        }
        let (cols, rows) = images::box_size(inner.width, indent);
        let x = inner.x + (indent + images::PREVIEW_INDENT) as u16;
        let area = Rect::new(x, inner.y + slot.top as u16, cols.min(inner.right().saturating_sub(x)), rows);
        let key = Key { media_sid: a.sid.clone(), cols: area.width, rows: area.height };
        match attachments::want_preview(app, &a, &key, now) {
            None => {
                if let Some(p) = app.images.lru.get(&key) {
                    frame.render_widget(ratatui_image::Image::new(p), area);
                }
            }
            Some(text) => {
                let line = Rect { height: 1, ..area };
                let text = rich::truncate(&format!("┆ {text}"), area.width as usize);
                frame.render_widget(Paragraph::new(text).style(app.theme.dim), line);
            }
        }
    }
}
