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
}

/// The wrapped lines of one message (without separators).
fn message_lines(m: &Msg, ctx: &ViewCtx) -> Vec<Line<'static>> {
    let width = ctx.width as usize;
    let time = clock(m.created, ctx.offset);
    let author_style = if m.author == ctx.me { ctx.theme.author_me } else { ctx.theme.author };
    // Body column: after "HH:MM author: ", capped so narrow panes still have room.
    let prefix_w = 6 + m.author.width() + 2;
    let indent = prefix_w.min(width / 2).max(1);
    let mut body = m.body.clone();
    let edited = if m.edited { " (edited)" } else { "" };
    if body.is_empty() {
        body.push(' ');
    }
    let first_w = width.saturating_sub(prefix_w).max(1);
    let mut lines = Vec::new();
    // Wrap the first line at the body column after the prefix, the rest at the indent.
    let wrapped_first = wrap(&body, first_w);
    let (head, rest) = match wrapped_first.split_first() {
        Some((h, _)) => (h.clone(), body[byte_after_first_line(&body, h)..].trim_start_matches(' ').to_string()),
        None => (String::new(), String::new()),
    };
    let mut first = vec![
        Span::styled(time, ctx.theme.time),
        Span::raw(" "),
        Span::styled(m.author.clone(), author_style),
        Span::raw(": "),
        Span::raw(head),
    ];
    let mut cont: Vec<String> =
        if rest.is_empty() { Vec::new() } else { wrap(&rest, width.saturating_sub(indent).max(1)) };
    if cont.is_empty() {
        if !edited.is_empty() {
            first.push(Span::styled(edited, ctx.theme.dim));
        }
        lines.push(Line::from(first));
        return lines;
    }
    lines.push(Line::from(first));
    let last = cont.pop().unwrap_or_default();
    let pad = " ".repeat(indent);
    for c in cont {
        lines.push(Line::from(vec![Span::raw(pad.clone()), Span::raw(c)]));
    }
    let mut tail = vec![Span::raw(pad), Span::raw(last)];
    if !edited.is_empty() {
        tail.push(Span::styled(edited, ctx.theme.dim));
    }
    lines.push(Line::from(tail));
    lines
}

/// Where, in `body`, the text after the wrapped first line `head` starts.
fn byte_after_first_line(body: &str, head: &str) -> usize {
    // `wrap` only drops spaces at breaks, so the head is a prefix of the body
    // (up to a newline, which is skipped too).
    let end = head.len().min(body.len());
    let rest = &body[end..];
    if rest.starts_with('\n') { end + 1 } else { end }
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

/// Wraps message `index` into the cache unless a fresh entry is there; returns
/// its extra lines (separators) and the number of wrapped lines.
fn prepare(room: &mut Room, index: i64, ctx: &ViewCtx) -> Option<(Vec<Line<'static>>, usize)> {
    let m = room.messages.get(&index)?;
    let extra = extras(room, m, ctx);
    let fresh = room.wrap_cache.get(&m.sid).is_some_and(|w| w.width == ctx.width && w.stamp == m.stamp);
    if !fresh {
        let w = Wrapped { width: ctx.width, stamp: m.stamp.clone(), lines: message_lines(m, ctx) };
        let sid = m.sid.clone();
        room.wrap_cache.insert(sid, w);
    }
    let m = room.messages.get(&index)?;
    Some((extra, room.wrap_cache.get(&m.sid).map_or(0, |w| w.lines.len())))
}

/// The block of a message: separators plus its wrapped lines (cached).
pub fn block(room: &mut Room, index: i64, ctx: &ViewCtx) -> Vec<Line<'static>> {
    let Some((mut out, _)) = prepare(room, index, ctx) else { return Vec::new() };
    if let Some(w) = room.messages.get(&index).and_then(|m| room.wrap_cache.get(&m.sid)) {
        out.extend(w.lines.iter().cloned());
    }
    out
}

/// The rows a message's block takes, without copying its lines.
pub fn block_height(room: &mut Room, index: i64, ctx: &ViewCtx) -> usize {
    prepare(room, index, ctx).map_or(0, |(extra, n)| extra.len() + n)
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
    let anchor = match room.anchor {
        Some(a) => Some(a),
        None => bottom_anchor(room, height, ctx),
    };
    let Some(mut a) = anchor.or_else(|| room.first_index().map(|index| Anchor { index, row: 0 })) else {
        return (Vec::new(), true);
    };
    if !room.messages.contains_key(&a.index) {
        // The anchored message went away (deleted, trimmed): take the next one.
        match room.messages.range(a.index..).next().or_else(|| room.messages.iter().next_back()) {
            Some((i, _)) => a = Anchor { index: *i, row: 0 },
            None => return (Vec::new(), true),
        }
    }
    let mut out = Vec::with_capacity(height);
    let mut idx = Some(a.index);
    let mut skip = a.row;
    let mut at_end = false;
    while let Some(i) = idx {
        let b = block(room, i, ctx);
        out.extend(b.into_iter().skip(skip));
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
    (out, at_end)
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
