//! The line under the messages: "alice is typing…", "alice and bob are
//! typing…", "alice, bob and carol are typing…", or "several people…"; while
//! a large upload is under way, its progress line instead.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Paragraph;

use crate::tui::app::App;

/// The sentence for these typists (empty when nobody types).
pub fn sentence(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [a] => format!("{a} is typing…"),
        [a, b] => format!("{a} and {b} are typing…"),
        [a, b, c] => format!("{a}, {b} and {c} are typing…"),
        _ => "several people are typing…".to_string(),
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App) {
    if let Some(line) = crate::tui::transfers::progress_line(&app.transfers.uploads, area.width as usize, &app.theme) {
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let text = sentence(&app.typing_names());
    frame.render_widget(Paragraph::new(format!(" {text}")).style(app.theme.typing), area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_sentences_read_naturally() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(sentence(&n(&[])), "");
        assert_eq!(sentence(&n(&["alice"])), "alice is typing…");
        assert_eq!(sentence(&n(&["alice", "bob"])), "alice and bob are typing…");
        assert_eq!(sentence(&n(&["a", "b", "c", "d"])), "several people are typing…");
    }
}
