//! Message bodies as markdown (pulldown-cmark): bold, italic, strikethrough,
//! inline code, code blocks, quotes, lists and links become styled lines, with
//! bare URLs and mentions of you marked (`links`). Every piece of text that
//! comes out passes `sanitize::line` again, since entities such as `&#27;`
//! decode to controls. Single newlines stay line breaks, as chat users mean them.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use super::links::{self, Piece};
use super::sanitize;
use super::theme::Theme;

/// Quote and list levels drawn; deeper nesting is shown at this depth, so a
/// hostile `>>>>…` cannot push the text off the pane.
const MAX_DEPTH: usize = 6;

/// One logical line of a body: what goes before its first row, before each
/// row it wraps onto, and its text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MdLine {
    pub first_prefix: Vec<Span<'static>>,
    pub cont_prefix: Vec<Span<'static>>,
    pub spans: Vec<Span<'static>>,
}

/// A rendered body: its lines and the link targets in it (markdown links and
/// bare URLs, in order, without repeats), for opening.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    pub lines: Vec<MdLine>,
    pub urls: Vec<String>,
}

struct Walker<'t> {
    theme: &'t Theme,
    me: &'t str,
    out: Rendered,
    line: Option<MdLine>,
    /// Modifiers in force (bold, italic, strikethrough), counted so nesting unwinds.
    strong: usize,
    emphasis: usize,
    strike: usize,
    quote: usize,
    /// One entry per open list: the next number of an ordered list.
    lists: Vec<Option<u64>>,
    /// The marker the next line of a list item starts with.
    marker: Option<String>,
    link: Option<(String, String)>,
    code_block: bool,
    heading: bool,
}

impl<'t> Walker<'t> {
    fn style(&self) -> Style {
        let mut s = self.theme.base;
        if self.strong > 0 || self.heading {
            s = s.add_modifier(Modifier::BOLD);
        }
        if self.emphasis > 0 {
            s = s.add_modifier(Modifier::ITALIC);
        }
        if self.strike > 0 {
            s = s.add_modifier(Modifier::CROSSED_OUT);
        }
        if self.quote > 0 {
            s = s.patch(self.theme.quote);
        }
        s
    }

    /// The prefixes of a line starting now: quote bars, list indentation, and
    /// the item's marker on its first line.
    fn prefixes(&mut self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let bars = "│ ".repeat(self.quote.min(MAX_DEPTH));
        let indent = "  ".repeat(self.lists.len().saturating_sub(1).min(MAX_DEPTH));
        let marker = self.marker.take();
        let pad = marker.as_ref().map_or(0, |m| m.width());
        let mut first = Vec::new();
        let mut cont = Vec::new();
        if !bars.is_empty() {
            first.push(Span::styled(bars.clone(), self.theme.quote));
            cont.push(Span::styled(bars, self.theme.quote));
        }
        let pad = if self.lists.is_empty() { 0 } else { pad.max(2) };
        if !indent.is_empty() || marker.is_some() || pad > 0 {
            first.push(Span::raw(format!("{indent}{}", marker.unwrap_or_else(|| " ".repeat(pad)))));
            cont.push(Span::raw(format!("{indent}{}", " ".repeat(pad))));
        }
        (first, cont)
    }

    fn current(&mut self) -> &mut MdLine {
        if self.line.is_none() {
            let (first_prefix, cont_prefix) = self.prefixes();
            self.line = Some(MdLine { first_prefix, cont_prefix, spans: Vec::new() });
        }
        self.line.get_or_insert_with(MdLine::default)
    }

    fn push(&mut self, text: String, style: Style) {
        if !text.is_empty() {
            self.current().spans.push(Span::styled(text, style));
        }
    }

    fn end_line(&mut self) {
        if let Some(l) = self.line.take() {
            self.out.lines.push(l);
        }
    }

    /// A blank line between top-level blocks, as the source had one.
    fn gap(&mut self) {
        self.end_line();
        if self.quote == 0 && self.lists.is_empty() && !self.out.lines.is_empty() {
            self.out.lines.push(MdLine::default());
        }
    }

    fn add_url(&mut self, url: &str) {
        if !self.out.urls.iter().any(|u| u == url) {
            self.out.urls.push(url.to_string());
        }
    }

    /// Plain text: URLs and mentions of you are marked (not inside a link,
    /// whose text is all link).
    fn text(&mut self, raw: &str) {
        let text = sanitize::line(raw);
        let style = self.style();
        if self.link.is_some() {
            if let Some((_, shown)) = self.link.as_mut() {
                shown.push_str(&text);
            }
            self.push(text, style.patch(self.theme.link));
            return;
        }
        for (range, piece) in links::pieces(&text, self.me) {
            let s = text[range].to_string();
            match piece {
                Piece::Text => self.push(s, style),
                Piece::Url => {
                    self.add_url(&s);
                    self.push(s, style.patch(self.theme.link));
                }
                Piece::Mention => self.push(s, style.patch(self.theme.mention)),
            }
        }
    }

    fn code_block_text(&mut self, raw: &str) {
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        for (i, l) in raw.split('\n').enumerate() {
            if i > 0 {
                self.end_line();
            }
            let l = sanitize::line(l);
            self.current();
            let text = if l.is_empty() { " ".to_string() } else { l };
            self.push(format!("  {text}"), self.theme.code);
        }
    }

    fn event(&mut self, ev: Event<'_>) {
        match ev {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) if self.code_block => self.code_block_text(&t),
            Event::Text(t) => self.text(&t),
            Event::Code(t) => {
                let s = sanitize::line(&t);
                self.push(s, self.style().patch(self.theme.code));
            }
            Event::InlineMath(t) | Event::DisplayMath(t) => self.text(&t),
            Event::Html(t) | Event::InlineHtml(t) => {
                for (i, l) in t.trim_end_matches('\n').split('\n').enumerate() {
                    if i > 0 {
                        self.end_line();
                    }
                    let s = sanitize::line(l);
                    self.push(s, self.style());
                }
            }
            Event::FootnoteReference(t) => self.text(&format!("[^{t}]")),
            Event::SoftBreak | Event::HardBreak => self.end_line(),
            Event::Rule => {
                self.gap();
                self.push("──────────".into(), self.theme.dim);
                self.end_line();
            }
            Event::TaskListMarker(done) => self.push(if done { "[x] " } else { "[ ] " }.into(), self.style()),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph if self.marker.is_none() => self.gap(),
            Tag::Heading { .. } => {
                self.gap();
                self.heading = true;
            }
            Tag::BlockQuote(_) => {
                self.gap();
                self.quote += 1;
            }
            Tag::CodeBlock(kind) => {
                self.gap();
                self.code_block = true;
                if let CodeBlockKind::Fenced(lang) = kind
                    && !lang.is_empty()
                {
                    let s = sanitize::line(&lang);
                    self.push(format!("  {s}"), self.theme.dim);
                    self.end_line();
                }
            }
            Tag::List(start) => {
                if self.lists.is_empty() {
                    self.gap();
                } else {
                    self.end_line();
                }
                self.lists.push(start);
            }
            Tag::Item => {
                self.end_line();
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let m = format!("{n}. ");
                        *n = n.saturating_add(1);
                        m
                    }
                    _ => "• ".to_string(),
                };
                self.marker = Some(marker);
            }
            Tag::Emphasis => self.emphasis += 1,
            Tag::Strong => self.strong += 1,
            Tag::Strikethrough => self.strike += 1,
            Tag::Link { dest_url, .. } => self.link = Some((sanitize::line(&dest_url), String::new())),
            Tag::Image { dest_url, .. } => {
                self.push("[image: ".into(), self.theme.dim);
                self.link = Some((sanitize::line(&dest_url), String::new()));
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => self.end_line(),
            TagEnd::Heading(_) => {
                self.heading = false;
                self.end_line();
            }
            TagEnd::BlockQuote(_) => {
                self.end_line();
                self.quote = self.quote.saturating_sub(1);
            }
            TagEnd::CodeBlock => {
                self.end_line();
                self.code_block = false;
            }
            TagEnd::List(_) => {
                self.end_line();
                self.lists.pop();
            }
            TagEnd::Item => self.end_line(),
            TagEnd::Emphasis => self.emphasis = self.emphasis.saturating_sub(1),
            TagEnd::Strong => self.strong = self.strong.saturating_sub(1),
            TagEnd::Strikethrough => self.strike = self.strike.saturating_sub(1),
            TagEnd::Link | TagEnd::Image => {
                if let Some((url, shown)) = self.link.take() {
                    if !url.is_empty() && shown.trim() != url {
                        self.push(format!(" ({url})"), self.theme.dim);
                    }
                    if links::openable(&url) {
                        self.add_url(&url);
                    }
                }
                if tag == TagEnd::Image {
                    self.push("]".into(), self.theme.dim);
                }
            }
            _ => {}
        }
    }
}

/// Renders `body` (already sanitized once on arrival) into styled lines.
pub fn render(body: &str, me: &str, theme: &Theme) -> Rendered {
    let mut w = Walker {
        theme,
        me,
        out: Rendered::default(),
        line: None,
        strong: 0,
        emphasis: 0,
        strike: 0,
        quote: 0,
        lists: Vec::new(),
        marker: None,
        link: None,
        code_block: false,
        heading: false,
    };
    for ev in Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH) {
        w.event(ev);
    }
    w.end_line();
    while w.out.lines.last().is_some_and(|l| l.spans.is_empty()) {
        w.out.lines.pop();
    }
    w.out
}

/// A word being laid out: its styled parts and the spaces after it.
struct Word {
    parts: Vec<(String, Style)>,
    width: usize,
    spaces: usize,
    space_style: Style,
}

fn words(spans: &[Span<'static>]) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut open = false;
    for span in spans {
        for chunk in span.content.split_inclusive(' ') {
            let word = chunk.trim_end_matches(' ');
            let spaces = chunk.len() - word.len();
            if !open || out.is_empty() {
                out.push(Word { parts: Vec::new(), width: 0, spaces: 0, space_style: span.style });
            }
            if let Some(w) = out.last_mut() {
                if !word.is_empty() {
                    w.parts.push((word.to_string(), span.style));
                    w.width += word.width();
                }
                w.spaces += spaces;
                w.space_style = span.style;
            }
            open = spaces == 0;
        }
    }
    out
}

/// Greedy word wrap of styled text: the first row gets `first` columns, the
/// others `rest`. Spaces at a break are dropped; a word wider than a row is
/// broken between graphemes. Always at least one row.
pub fn wrap_spans(spans: &[Span<'static>], first: usize, rest: usize) -> Vec<Vec<Span<'static>>> {
    let mut rows: Vec<Vec<Span<'static>>> = Vec::new();
    let mut row: Vec<Span<'static>> = Vec::new();
    let mut row_w = 0;
    let mut pending: Option<(usize, Style)> = None;
    let limit = |rows: &Vec<Vec<Span<'static>>>| if rows.is_empty() { first.max(1) } else { rest.max(1) };
    for w in words(spans) {
        let width = limit(&rows);
        let gap = pending.map_or(0, |(n, _)| n);
        if row_w > 0 && row_w + gap + w.width > width && w.width <= rest.max(1) {
            rows.push(std::mem::take(&mut row));
            row_w = 0;
            pending = None;
        }
        if let Some((n, style)) = pending.take() {
            let n = n.min(limit(&rows).saturating_sub(row_w));
            if n > 0 && !w.parts.is_empty() {
                row.push(Span::styled(" ".repeat(n), style));
                row_w += n;
            }
        }
        for (text, style) in w.parts {
            if row_w + text.width() <= limit(&rows) {
                row_w += text.width();
                row.push(Span::styled(text, style));
                continue;
            }
            let mut piece = String::new();
            for g in text.graphemes(true) {
                let gw = g.width();
                if row_w + piece.width() + gw > limit(&rows) && (row_w > 0 || !piece.is_empty()) {
                    if !piece.is_empty() {
                        row.push(Span::styled(std::mem::take(&mut piece), style));
                    }
                    rows.push(std::mem::take(&mut row));
                    row_w = 0;
                }
                piece.push_str(g);
            }
            row_w += piece.width();
            row.push(Span::styled(piece, style));
        }
        if w.spaces > 0 {
            pending = Some((w.spaces, w.space_style));
        }
    }
    rows.push(row);
    rows
}

/// The text of a line, for tests and quotes.
pub fn plain(spans: &[Span<'_>]) -> String {
    spans.iter().map(|s| s.content.as_ref()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn theme() -> Theme {
        Theme::monochrome()
    }

    fn texts(body: &str) -> Vec<String> {
        render(body, "me", &theme())
            .lines
            .iter()
            .map(|l| format!("{}{}", plain(&l.first_prefix), plain(&l.spans)))
            .collect()
    }

    fn style_of(body: &str, word: &str) -> Style {
        let r = render(body, "me", &theme());
        r.lines.iter().flat_map(|l| l.spans.iter()).find(|s| s.content.contains(word)).map(|s| s.style).unwrap()
    }

    #[test]
    fn inline_styles_become_modifiers() {
        assert_eq!(texts("**bold** _it_ ~~gone~~ `code`"), ["bold it gone code"]);
        assert!(style_of("**bold** x", "bold").add_modifier.contains(Modifier::BOLD));
        assert!(style_of("_it_ x", "it").add_modifier.contains(Modifier::ITALIC));
        assert!(style_of("~~gone~~ x", "gone").add_modifier.contains(Modifier::CROSSED_OUT));
        assert_eq!(style_of("a `code` b", "code"), theme().base.patch(theme().code));
        assert!(!style_of("plain words", "plain").add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn blocks_keep_their_shape_and_single_newlines_stay() {
        assert_eq!(texts("one\ntwo"), ["one", "two"]);
        assert_eq!(texts("para\n\nnext"), ["para", "", "next"]);
        assert_eq!(texts("> quoted\n> more"), ["│ quoted", "│ more"]);
        assert_eq!(texts("- a\n- b\n  - c"), ["• a", "• b", "  • c"]);
        assert_eq!(texts("3. x\n4. y"), ["3. x", "4. y"]);
        assert_eq!(texts("```rust\nfn main() {}\n\n```"), ["  rust", "  fn main() {}", "   "]);
        assert_eq!(texts("# Title"), ["Title"]);
    }

    #[test]
    fn links_show_their_target_and_are_collected() {
        let r = render("[docs](https://example.com/d) and https://x.org/p?q=1", "me", &theme());
        assert_eq!(plain(&r.lines[0].spans), "docs (https://example.com/d) and https://x.org/p?q=1");
        assert_eq!(r.urls, ["https://example.com/d", "https://x.org/p?q=1"]);
        assert_eq!(style_of("see https://x.org now", "https://x.org"), theme().base.patch(theme().link));
        // A link whose text is its URL is not repeated; non-web targets are not collected.
        assert_eq!(texts("[https://a.b](https://a.b)"), ["https://a.b"]);
        assert!(render("[x](file:///etc/passwd)", "me", &theme()).urls.is_empty());
    }

    #[test]
    fn mentions_of_you_are_highlighted() {
        assert_eq!(style_of("hey @me look", "@me"), theme().base.patch(theme().mention));
        assert_ne!(style_of("hey @meg look", "@meg"), theme().base.patch(theme().mention));
    }

    #[test]
    fn hostile_input_yields_no_controls() {
        let hostile = [
            "&#27;[2J&#x1b;]0;title&#7; entity escapes",
            "```\n\u{1b}[31mred\u{7}\n```",
            "`\u{1b}]52;c;AAAA\u{7}`",
            "[li\u{9b}nk](https://x.org/\u{1b}[0m)",
            "<b onclick=\"\u{1b}\">html</b>\n\n<div>\u{1b}[H</div>",
            "a\u{202e}b &#x202e; &#133;",
        ];
        for body in hostile {
            let r = render(body, "me", &theme());
            for l in &r.lines {
                for s in l.first_prefix.iter().chain(&l.cont_prefix).chain(&l.spans) {
                    assert!(
                        !s.content.chars().any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
                        "{body:?} -> {:?}",
                        s.content
                    );
                }
            }
            for u in &r.urls {
                assert!(!u.chars().any(char::is_control), "{u:?}");
            }
        }
    }

    #[test]
    fn huge_nesting_stays_bounded() {
        let quotes = format!("{}deep", ">".repeat(5_000));
        let r = render(&quotes, "me", &theme());
        let widest = r.lines.iter().map(|l| plain(&l.first_prefix).width()).max().unwrap_or(0);
        assert!(widest <= MAX_DEPTH * 2 + 4, "{widest}");
        let mut lists = String::new();
        for i in 0..300 {
            lists.push_str(&format!("{}- level {i}\n", "  ".repeat(i)));
        }
        let r = render(&lists, "me", &theme());
        assert!(r.lines.iter().all(|l| plain(&l.first_prefix).width() <= MAX_DEPTH * 2 + 4));
        let emphasis = format!("{}x{}", "*".repeat(10_000), "*".repeat(10_000));
        assert!(!render(&emphasis, "me", &theme()).lines.is_empty());
    }

    #[test]
    fn styled_wrap_fits_widths_and_keeps_styles_across_breaks() {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let spans = vec![Span::raw("the quick "), Span::styled("brown", bold), Span::raw(", fox jumps")];
        let rows = wrap_spans(&spans, 10, 12);
        let text: Vec<String> = rows.iter().map(|r| plain(r)).collect();
        assert_eq!(text, ["the quick", "brown, fox", "jumps"]);
        assert_eq!(rows[1][0].style, bold);
        for r in wrap_spans(&[Span::raw("世界世界世界 🎉🎉🎉 abcdefghijklmnop")], 5, 5) {
            assert!(plain(&r).width() <= 5, "{r:?}");
        }
        assert_eq!(wrap_spans(&[], 5, 5).len(), 1);
    }
}
