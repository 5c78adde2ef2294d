//! Drawing: the screen layout and one widget per pane. `draw` is the only entry;
//! apart from the message pane's wrap cache (a memo), it reads state and
//! changes nothing. What reducers need of the layout (the message pane's size,
//! the list's window) the event loop sets with `fit` before each frame.

pub mod composer;
pub mod conversation_list;
pub mod help;
pub mod message_pane;
pub mod previews;
pub mod search;
pub mod sidebar;
pub mod status_bar;
pub mod switcher;
pub mod typing_line;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

use super::app::{App, Focus, PaneSize};
use super::theme::Theme;

/// Below this the layout can't show a usable screen; it says so instead.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;
/// The sidebar shows from this width on.
pub const SIDEBAR_MIN_WIDTH: u16 = 100;

/// Where each pane goes on one screen.
pub struct Screen {
    pub list: Rect,
    pub messages: Rect,
    pub sidebar: Option<Rect>,
    pub typing: Rect,
    pub composer: Rect,
    pub status: Rect,
}

/// The layout of a screen of `area`; `None` when it is too small to use.
pub fn layout(area: Rect, app: &App) -> Option<Screen> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [main, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let list_w = (area.width / 4).clamp(18, 32);
    let [list, right] = Layout::horizontal([Constraint::Length(list_w), Constraint::Min(1)]).areas(main);
    let composer_h = (app.composer.lines().len() as u16 + 2).clamp(3, 8);
    let [panes, typing, composer] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1), Constraint::Length(composer_h)]).areas(right);
    let show_sidebar = app.settings.sidebar && area.width >= SIDEBAR_MIN_WIDTH && app.open.is_some();
    let (messages, sidebar) = if show_sidebar {
        let [m, s] = Layout::horizontal([Constraint::Min(20), Constraint::Length(22)]).areas(panes);
        (m, Some(s))
    } else {
        (panes, None)
    };
    Some(Screen { list, messages, sidebar, typing, composer, status })
}

/// Sets what reducers read of the coming frame's layout: the message pane's
/// inner size (paging and scrolling need it) and the list's window (kept
/// between frames). Called by the event loop before each draw, never by drawing.
pub fn fit(app: &mut App, area: Rect) {
    let Some(screen) = layout(area, app) else { return };
    let inner = Block::default().borders(Borders::ALL).inner(screen.messages);
    app.pane = PaneSize { width: inner.width.max(1), height: inner.height.max(1) };
    app.settle_list(screen.list.height.saturating_sub(2) as usize);
}

pub fn draw(frame: &mut Frame, app: &mut App) {
    let area = frame.area();
    let Some(screen) = layout(area, app) else {
        let text = format!(
            "The terminal is too small ({}×{}).\nconvo-tui needs at least {MIN_WIDTH}×{MIN_HEIGHT}.\nCtrl-C quits.",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).alignment(Alignment::Center), area);
        return;
    };
    conversation_list::draw(frame, screen.list, app);
    message_pane::draw(frame, screen.messages, app);
    if let Some(s) = screen.sidebar {
        sidebar::draw(frame, s, app);
    }
    typing_line::draw(frame, screen.typing, app);
    composer::draw(frame, screen.composer, app);
    status_bar::draw(frame, screen.status, app);
    if let Some(s) = &app.switcher {
        switcher::draw(frame, area, app, s);
    }
    if let Some(v) = &app.search.view {
        search::draw(frame, area, app, v);
    }
    if app.show_help {
        help::draw(frame, area, app);
    }
}

/// A pane's frame: bold thick border when it has focus.
pub fn pane_block<'a>(title: impl Into<ratatui::text::Line<'a>>, focused: bool, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused { BorderType::Thick } else { BorderType::Rounded })
        .border_style(if focused { theme.border_focused } else { theme.border })
        .title(title)
}

/// A centered rectangle of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

pub fn focused(app: &App, f: Focus) -> bool {
    app.focus == f && !app.show_help && app.switcher.is_none() && app.search.view.is_none()
}
