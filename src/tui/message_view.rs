//! The message pane's viewport over a conversation's loaded window. The view is
//! anchored at (message index, row), so new messages or older pages never move
//! what you are reading; only messages on screen (or scrolled past) are wrapped,
//! and wrapped lines are cached per (message, width, edit). Rendering walks from
//! the anchor until the pane is full, so cost follows the pane, not the history.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use super::app::{Anchor, Msg, Room, Wrapped};
use super::theme::Theme;
use super::{images, markdown, rich};

/// Greedy word wrap to `width` columns, by display width. Words are runs
/// between spaces (so punctuation stays with its word); a word wider than a
/// line is broken between graphemes; spaces at a break are dropped; explicit
/// newlines are kept.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0;
        for chunk in para.split_inclusive(' ') {
            let word = chunk.trim_end_matches(' ');
            let spaces = chunk.len() - word.len();
            let w = word.width();
            if line_w + w > width && line_w > 0 && w <= width {
                out.push(std::mem::take(&mut line).trim_end().to_string());
                line_w = 0;
            }
            if line_w + w <= width {
                line.push_str(word);
                line_w += w;
            } else {
                for g in word.graphemes(true) {
                    let gw = g.width();
                    if line_w + gw > width && line_w > 0 {
                        out.push(std::mem::take(&mut line));
                        line_w = 0;
                    }
                    line.push_str(g);
                    line_w += gw;
                }
            }
            for _ in 0..spaces {
                if line_w < width {
                    line.push(' ');
                    line_w += 1;
                }
            }
        }
        out.push(line.trim_end().to_string());
    }
    out
}

/// Formats unix seconds as `HH:MM` in the given offset.
pub fn clock(secs: i64, offset: time::UtcOffset) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH).to_offset(offset);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn day(secs: i64, offset: time::UtcOffset) -> time::Date {
    time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH).to_offset(offset).date()
}

/// Context the walk needs besides the room.
#[derive(Clone, Copy)]
pub struct ViewCtx<'a> {
    pub width: u16,
    pub me: &'a str,
    pub theme: &'a Theme,
    pub offset: time::UtcOffset,
    /// "Read by" is shown in rooms of at most this many participants.
    pub read_by_max: usize,
    /// Image attachments get a preview box under their line.
    pub previews: bool,
}

/// Where a message's body column starts: after "HH:MM author: ", capped so
/// narrow panes still have room.
fn body_indent(m: &Msg, width: usize) -> usize {
    (6 + m.author.width() + 2).min(width / 2).max(1)
}

/// Where a message's body column starts, as the pane shows it at `width`.
pub fn indent_of(m: &Msg, width: u16) -> usize {
    body_indent(m, width as usize)
}

/// The wrapped lines of one message (without separators): the header and its
/// markdown body, then its attachments (with room for image previews) and
/// reactions. Also where the previews go: (first row, media SID).
fn message_lines(m: &Msg, ctx: &ViewCtx) -> (Vec<Line<'static>>, Vec<(usize, String)>) {
    let width = ctx.width as usize;
    let author_style = if m.author == ctx.me { ctx.theme.author_me } else { ctx.theme.author };
    let prefix_w = 6 + m.author.width() + 2;
    let indent = body_indent(m, width);
    let pad = " ".repeat(indent);
    let body = markdown::render(&m.body, ctx.me, ctx.theme);
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut header = vec![
        Span::styled(clock(m.created, ctx.offset), ctx.theme.time),
        Span::raw(" "),
        Span::styled(m.author.clone(), author_style),
        Span::raw(": "),
    ];
    for (i, md) in body.lines.iter().enumerate() {
        let first_pw: usize = md.first_prefix.iter().map(|s| s.width()).sum();
        let cont_pw: usize = md.cont_prefix.iter().map(|s| s.width()).sum();
        let first_w = if i == 0 { width.saturating_sub(prefix_w) } else { width.saturating_sub(indent) };
        let rest_w = width.saturating_sub(indent + cont_pw).max(1);
        let rows = markdown::wrap_spans(&md.spans, first_w.saturating_sub(first_pw).max(1), rest_w);
        for (r, row) in rows.into_iter().enumerate() {
            let mut spans = if i == 0 && r == 0 { std::mem::take(&mut header) } else { vec![Span::raw(pad.clone())] };
            spans.extend(if r == 0 { md.first_prefix.clone() } else { md.cont_prefix.clone() });
            spans.extend(row);
            lines.push(Line::from(spans));
        }
    }
    if lines.is_empty() {
        header.push(Span::raw(" "));
        lines.push(Line::from(header));
    }
    if m.edited
        && let Some(last) = lines.last_mut()
    {
        last.spans.push(Span::styled(" (edited)", ctx.theme.dim));
    }
    let mut previews = Vec::new();
    for a in &m.rich.media {
        lines.push(rich::attachment_line(a, indent, width, ctx.theme));
        if ctx.previews && images::previewable(&a.content_type) && !a.sid.is_empty() {
            previews.push((lines.len(), a.sid.clone()));
            lines.extend((0..images::PREVIEW_ROWS).map(|_| Line::raw("")));
        }
    }
    if !m.rich.reactions.is_empty() {
        lines.push(rich::reactions_line(&m.rich.reactions, ctx.me, indent, ctx.theme));
    }
    (lines, previews)
}

/// The lines a message gets that depend on other state than its own, so they
/// are made at each draw rather than cached: the quote of the message it
/// replies to (which may load later) above it, and "read by" (participants'
/// horizons) under your latest message.
fn decorations(room: &Room, m: &Msg, ctx: &ViewCtx) -> (Option<Line<'static>>, Option<Line<'static>>) {
    let width = ctx.width as usize;
    let quote = m.rich.reply_to.as_ref().map(|to| {
        let quoted = room.messages.get(&to.index).filter(|q| q.sid == to.message_sid).map(|q| q.rich.summary.as_str());
        rich::quote_line(to, quoted, 6, width, ctx.theme)
    });
    let mine_latest = m.author == ctx.me && room.messages.range(m.index + 1..).all(|(_, n)| n.author != ctx.me);
    let read_by = if mine_latest {
        let indent = body_indent(m, width);
        rich::read_by_line(room.participants.values(), m.index, ctx.me, ctx.read_by_max, indent, width, ctx.theme)
    } else {
        None
    };
    (quote, read_by)
}

/// Extra lines before a message: a day separator when the day changes from the
/// previous loaded message, and the "new messages" line at the first unread.
fn extras(room: &Room, m: &Msg, ctx: &ViewCtx) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let prev = room.messages.range(..m.index).next_back().map(|(_, p)| p);
    let new_day = match prev {
        Some(p) => day(p.created, ctx.offset) != day(m.created, ctx.offset),
        None => !room.has_older,
    };
    if new_day {
        let d = day(m.created, ctx.offset);
        let label = format!(" {} {} {} {} ", d.weekday(), d.day(), d.month(), d.year());
        out.push(rule(&label, ctx.width as usize, ctx.theme.separator));
    }
    if let Some(fu) = room.first_unread
        && m.index >= fu
        && prev.is_none_or(|p| p.index < fu)
        && (prev.is_some() || !room.has_older || m.index == fu)
    {
        out.push(rule(" new messages ", ctx.width as usize, ctx.theme.new_marker));
    }
    out
}

fn rule(label: &str, width: usize, style: Style) -> Line<'static> {
    let lw = label.width();
    let left = width.saturating_sub(lw) / 2;
    let right = width.saturating_sub(lw + left);
    Line::styled(format!("{}{}{}", "─".repeat(left), label, "─".repeat(right)), style)
}

/// A message's block as parts: the lines before its cached lines
/// (separators, reply quote), and after them ("read by").
struct Parts {
    before: Vec<Line<'static>>,
    cached: usize,
    after: Option<Line<'static>>,
}

/// Wraps message `index` into the cache unless a fresh entry is there, and
/// makes the lines around it.
fn prepare(room: &mut Room, index: i64, ctx: &ViewCtx) -> Option<Parts> {
    let m = room.messages.get(&index)?;
    let mut before = extras(room, m, ctx);
    let (quote, after) = decorations(room, m, ctx);
    before.extend(quote);
    let fresh = room.wrap_cache.get(&m.sid).is_some_and(|w| w.width == ctx.width && w.stamp == m.stamp);
    if !fresh {
        let (lines, previews) = message_lines(m, ctx);
        let w = Wrapped { width: ctx.width, stamp: m.stamp.clone(), lines, previews };
        let sid = m.sid.clone();
        room.wrap_cache.insert(sid, w);
    }
    let m = room.messages.get(&index)?;
    let cached = room.wrap_cache.get(&m.sid).map_or(0, |w| w.lines.len());
    Some(Parts { before, cached, after })
}

/// The block of a message: separators, its quote, its wrapped lines (cached)
/// and "read by"; the selected message's lines are highlighted.
pub fn block(room: &mut Room, index: i64, ctx: &ViewCtx) -> Vec<Line<'static>> {
    block_with_previews(room, index, ctx).0
}

/// [`block`], with where its image previews start (row in the block, media SID).
fn block_with_previews(room: &mut Room, index: i64, ctx: &ViewCtx) -> (Vec<Line<'static>>, Vec<(usize, String)>) {
    let Some(parts) = prepare(room, index, ctx) else { return (Vec::new(), Vec::new()) };
    let mut out = parts.before;
    let mut previews = Vec::new();
    let selected = room.selected == Some(index);
    if let Some(w) = room.messages.get(&index).and_then(|m| room.wrap_cache.get(&m.sid)) {
        let start = out.len();
        previews.extend(w.previews.iter().map(|(row, sid)| (start + row, sid.clone())));
        out.extend(w.lines.iter().cloned());
        if selected {
            for l in &mut out[start..] {
                *l = std::mem::take(l).patch_style(ctx.theme.selected);
            }
        }
    }
    out.extend(parts.after);
    (out, previews)
}

/// The rows a message's block takes, without copying its lines.
pub fn block_height(room: &mut Room, index: i64, ctx: &ViewCtx) -> usize {
    prepare(room, index, ctx).map_or(0, |p| p.before.len() + p.cached + usize::from(p.after.is_some()))
}

fn prev_index(room: &Room, index: i64) -> Option<i64> {
    room.messages.range(..index).next_back().map(|(i, _)| *i)
}

fn next_index(room: &Room, index: i64) -> Option<i64> {
    room.messages.range(index + 1..).next().map(|(i, _)| *i)
}

/// The anchor that shows the newest messages bottom-aligned in `height` rows.
/// `None` when everything fits (the view starts at the first message).
pub fn bottom_anchor(room: &mut Room, height: usize, ctx: &ViewCtx) -> Option<Anchor> {
    let mut idx = room.last_index()?;
    let mut rows = 0;
    loop {
        let h = block_height(room, idx, ctx);
        if rows + h >= height {
            return Some(Anchor { index: idx, row: rows + h - height });
        }
        rows += h;
        idx = prev_index(room, idx)?;
    }
}

/// The lines to show in a pane of `height` rows, and whether the newest loaded
/// message is fully visible.
pub fn visible(room: &mut Room, height: usize, ctx: &ViewCtx) -> (Vec<Line<'static>>, bool) {
    let (lines, _, at_end) = visible_rows(room, height, ctx);
    (lines, at_end)
}

/// [`visible`], with the index of the message each row belongs to.
pub fn visible_rows(room: &mut Room, height: usize, ctx: &ViewCtx) -> (Vec<Line<'static>>, Vec<i64>, bool) {
    let v = view(room, height, ctx);
    (v.lines, v.rows, v.at_end)
}

/// An image preview's box on screen: its message, media, first row in the
/// pane (negative: scrolled partly above it) and its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewSlot {
    pub index: i64,
    pub media_sid: String,
    pub top: isize,
    pub rows: u16,
}

/// What the pane shows: lines, the message of each row, the preview boxes,
/// and whether the newest loaded message is fully visible.
pub struct View {
    pub lines: Vec<Line<'static>>,
    pub rows: Vec<i64>,
    pub previews: Vec<PreviewSlot>,
    pub at_end: bool,
}

/// The pane's view of `room` in `height` rows.
pub fn view(room: &mut Room, height: usize, ctx: &ViewCtx) -> View {
    let empty = || View { lines: Vec::new(), rows: Vec::new(), previews: Vec::new(), at_end: true };
    let anchor = match room.anchor {
        Some(a) => Some(a),
        None => bottom_anchor(room, height, ctx),
    };
    let Some(mut a) = anchor.or_else(|| room.first_index().map(|index| Anchor { index, row: 0 })) else {
        return empty();
    };
    if !room.messages.contains_key(&a.index) {
        // The anchored message went away (deleted, trimmed): take the next one.
        match room.messages.range(a.index..).next().or_else(|| room.messages.iter().next_back()) {
            Some((i, _)) => a = Anchor { index: *i, row: 0 },
            None => return empty(),
        }
    }
    let mut out = Vec::with_capacity(height);
    let mut rows = Vec::with_capacity(height);
    let mut previews = Vec::new();
    let mut idx = Some(a.index);
    let mut skip = a.row;
    let mut at_end = false;
    while let Some(i) = idx {
        let (b, slots) = block_with_previews(room, i, ctx);
        let before = out.len();
        for (row, media_sid) in slots {
            let top = before as isize + row as isize - skip as isize;
            if top + (images::PREVIEW_ROWS as isize) > 0 && top < height as isize {
                previews.push(PreviewSlot { index: i, media_sid, top, rows: images::PREVIEW_ROWS });
            }
        }
        out.extend(b.into_iter().skip(skip));
        rows.resize(out.len().max(before), i);
        skip = 0;
        idx = next_index(room, i);
        if out.len() >= height {
            at_end = idx.is_none() && out.len() == height;
            break;
        }
        if idx.is_none() {
            at_end = true;
        }
    }
    out.truncate(height);
    rows.truncate(height);
    View { lines: out, rows, previews, at_end }
}

/// Rows above the anchor among loaded messages (how far up we can scroll
/// without loading), up to `limit`.
pub fn rows_above(room: &mut Room, a: Anchor, limit: usize, ctx: &ViewCtx) -> usize {
    let mut rows = a.row;
    let mut idx = prev_index(room, a.index);
    while let Some(i) = idx {
        if rows >= limit {
            break;
        }
        rows += block_height(room, i, ctx);
        idx = prev_index(room, i);
    }
    rows
}

/// Scrolls up by `n` rows. Returns true when the top of the loaded window was
/// reached (the caller asks for older messages).
pub fn scroll_up(room: &mut Room, n: usize, height: usize, ctx: &ViewCtx) -> bool {
    let current = room.anchor.or_else(|| bottom_anchor(room, height, ctx));
    let Some(mut a) = current else { return true };
    let mut n = n;
    while n > 0 {
        if a.row >= n {
            a.row -= n;
            n = 0;
        } else {
            n -= a.row;
            match prev_index(room, a.index) {
                Some(p) => a = Anchor { index: p, row: block_height(room, p, ctx) },
                None => {
                    a.row = 0;
                    break;
                }
            }
        }
    }
    room.anchor = Some(a);
    prev_index(room, a.index).is_none() && a.row == 0 || n > 0
}

/// Scrolls down by `n` rows; reaching the bottom returns to following the newest.
/// Returns true when the bottom of the loaded window is on screen.
pub fn scroll_down(room: &mut Room, n: usize, height: usize, ctx: &ViewCtx) -> bool {
    let Some(mut a) = room.anchor else { return true };
    let bottom = bottom_anchor(room, height, ctx);
    let mut n = n;
    while n > 0 {
        let h = block_height(room, a.index, ctx);
        if a.row + n < h {
            a.row += n;
            n = 0;
        } else {
            n -= h - a.row;
            match next_index(room, a.index) {
                Some(i) => a = Anchor { index: i, row: 0 },
                None => break,
            }
        }
    }
    // Past the bottom anchor: follow the newest (unless newer pages are missing).
    let past_bottom = match bottom {
        None => true,
        Some(b) => (a.index, a.row) >= (b.index, b.row),
    };
    if past_bottom {
        room.anchor = if room.has_newer { bottom } else { None };
        if !room.has_newer {
            room.new_below = 0;
        }
        return true;
    }
    room.anchor = Some(a);
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_fits_by_display_width_and_keeps_newlines() {
        let lines = wrap("the quick brown fox jumps", 10);
        assert_eq!(lines, vec!["the quick", "brown fox", "jumps"]);
        // Wide characters count two columns; a line never exceeds the width.
        for l in wrap("世界世界世界 🎉🎉🎉", 5) {
            assert!(l.width() <= 5, "{l:?}");
        }
        assert_eq!(wrap("a\nb", 10), vec!["a", "b"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a conversation, then", 14), vec!["a", "conversation,", "then"]);
    }

    #[test]
    fn clock_shows_the_offset_time() {
        let east = time::UtcOffset::from_hms(2, 0, 0).unwrap();
        assert_eq!(clock(1_450_304_317, time::UtcOffset::UTC), "22:18");
        assert_eq!(clock(1_450_304_317, east), "00:18");
    }
}
