//! Colours and emphasis in one place. With `NO_COLOR` set (any value, per
//! no-color.org) every style keeps only modifiers (bold, dim, reversed), so the
//! screen stays readable on a monochrome terminal and in text captures.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub base: Style,
    pub dim: Style,
    pub bold: Style,
    pub title: Style,
    pub border: Style,
    pub border_focused: Style,
    pub selected: Style,
    pub unread: Style,
    pub muted: Style,
    pub time: Style,
    pub author: Style,
    pub author_me: Style,
    pub separator: Style,
    pub new_marker: Style,
    pub typing: Style,
    pub error: Style,
    pub ok: Style,
    pub warn: Style,
    pub key: Style,
    /// Rich messages: links, a mention of you, inline and block code, quote bars,
    /// reactions you made.
    pub link: Style,
    pub mention: Style,
    pub code: Style,
    pub quote: Style,
    pub reaction_mine: Style,
}

impl Theme {
    /// The theme for this environment: monochrome when `NO_COLOR` is set and non-empty.
    pub fn from_env() -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if no_color { Theme::monochrome() } else { Theme::colour() }
    }

    pub fn colour() -> Theme {
        let s = Style::default();
        Theme {
            base: s,
            dim: s.fg(Color::DarkGray),
            bold: s.add_modifier(Modifier::BOLD),
            title: s.add_modifier(Modifier::BOLD),
            border: s.fg(Color::DarkGray),
            border_focused: s.fg(Color::Cyan),
            selected: s.add_modifier(Modifier::REVERSED),
            unread: s.add_modifier(Modifier::BOLD),
            muted: s.fg(Color::DarkGray),
            time: s.fg(Color::DarkGray),
            author: s.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            author_me: s.fg(Color::Green).add_modifier(Modifier::BOLD),
            separator: s.fg(Color::Blue),
            new_marker: s.fg(Color::Red),
            typing: s.fg(Color::Magenta).add_modifier(Modifier::ITALIC),
            error: s.fg(Color::Red).add_modifier(Modifier::BOLD),
            ok: s.fg(Color::Green),
            warn: s.fg(Color::Yellow),
            key: s.fg(Color::Cyan).add_modifier(Modifier::BOLD),
            link: s.fg(Color::Blue).add_modifier(Modifier::UNDERLINED),
            mention: s.fg(Color::Black).bg(Color::Yellow).add_modifier(Modifier::BOLD),
            code: s.fg(Color::LightRed),
            quote: s.fg(Color::DarkGray),
            reaction_mine: s.fg(Color::Cyan).add_modifier(Modifier::BOLD),
        }
    }

    pub fn monochrome() -> Theme {
        let s = Style::default();
        let bold = s.add_modifier(Modifier::BOLD);
        let dim = s.add_modifier(Modifier::DIM);
        Theme {
            base: s,
            dim,
            bold,
            title: bold,
            border: s,
            border_focused: bold,
            selected: s.add_modifier(Modifier::REVERSED),
            unread: bold,
            muted: dim,
            time: dim,
            author: bold,
            author_me: bold,
            separator: dim,
            new_marker: bold,
            typing: s.add_modifier(Modifier::ITALIC),
            error: bold,
            ok: s,
            warn: bold,
            key: bold,
            link: s.add_modifier(Modifier::UNDERLINED),
            mention: s.add_modifier(Modifier::REVERSED | Modifier::BOLD),
            code: dim,
            quote: dim,
            reaction_mine: bold,
        }
    }
}
