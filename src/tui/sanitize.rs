//! Makes network text safe to put on a terminal: escape sequences (CSI, OSC,
//! DCS, …) are dropped whole, other C0/C1 controls and bidi overrides/isolates
//! are removed, tabs become spaces. Everything a peer or server sends passes
//! through here before it reaches a widget, so no byte of it can move the
//! cursor, retitle the window or reorder text.

/// Sanitizes a multi-line body: newlines are kept, everything else unsafe goes.
pub fn text(s: &str) -> String {
    clean(s, true)
}

/// Sanitizes a one-line field (a name, an identity): newlines become spaces.
pub fn line(s: &str) -> String {
    clean(s, false)
}

/// Whether a character is a bidi embedding/override/isolate or mark that could
/// reorder the text around it (Trojan Source, CVE-2021-42574).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// What the scanner is inside of.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Text,
    /// After ESC: the next char says which sequence this is.
    Escape,
    /// CSI: parameter and intermediate bytes until a final byte `@`..=`~`.
    Csi,
    /// OSC/DCS/SOS/PM/APC: a string ended by BEL or ST (`ESC \` or U+009C).
    Str,
    /// Inside a string, just saw ESC (maybe the start of ST).
    StrEscape,
}

fn clean(s: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut state = State::Text;
    for c in s.chars() {
        state = match state {
            State::Text => match c {
                '\u{1b}' => State::Escape,
                '\u{9b}' => State::Csi,
                '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => State::Str,
                '\n' if keep_newlines => {
                    out.push('\n');
                    State::Text
                }
                '\n' | '\t' => {
                    out.push(' ');
                    State::Text
                }
                '\r' => State::Text,
                c if c.is_control() || is_bidi_control(c) => State::Text,
                c => {
                    out.push(c);
                    State::Text
                }
            },
            State::Escape => match c {
                '[' => State::Csi,
                ']' | 'P' | 'X' | '^' | '_' => State::Str,
                // ESC followed by intermediates (e.g. `ESC ( B`) takes one more byte.
                ' '..='/' => State::Escape,
                _ => State::Text,
            },
            State::Csi => match c {
                '@'..='~' => State::Text,
                // A control inside a CSI aborts it, as terminals do.
                '\u{1b}' => State::Escape,
                c if c.is_control() => State::Text,
                _ => State::Csi,
            },
            State::Str => match c {
                '\u{7}' | '\u{9c}' => State::Text,
                '\u{1b}' => State::StrEscape,
                _ => State::Str,
            },
            State::StrEscape => match c {
                '\\' => State::Text,
                '\u{1b}' => State::StrEscape,
                _ => State::Str,
            },
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_dropped_whole() {
        assert_eq!(text("a\x1b]0;pwned\x07b"), "ab");
        assert_eq!(text("a\x1b]2;title\x1b\\b"), "ab");
        assert_eq!(text("\x1b[2J\x1b[Hclear\x1b[31mred\x1b[0m"), "clearred");
        assert_eq!(text("x\u{9b}31my"), "xy");
        assert_eq!(text("x\x1bPq#0;2;0;0;0\x1b\\y"), "xy");
        assert_eq!(text("x\x1b(By"), "xy");
        assert_eq!(text("x\x1b7y\x1b8"), "xy");
    }

    #[test]
    fn controls_and_bidi_overrides_are_removed_but_text_and_newlines_stay() {
        assert_eq!(text("a\u{202E}evil\u{202C}b\u{2066}c\u{2069}"), "aevilbc");
        assert_eq!(text("bell\x07 back\x08space\r\nnext\u{85}line"), "bell backspace\nnextline");
        assert_eq!(text("tab\there"), "tab here");
        assert_eq!(line("two\nlines"), "two lines");
        assert_eq!(text("héllo 世界 🎉 — ok"), "héllo 世界 🎉 — ok");
    }

    #[test]
    fn an_unterminated_sequence_swallows_only_itself() {
        assert_eq!(text("ok\x1b]0;never ends"), "ok");
        assert_eq!(text("ok\x1b["), "ok");
    }
}
