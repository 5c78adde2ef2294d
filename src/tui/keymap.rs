//! Keys to actions: one table of bindings (defaults, the vim preset, then the
//! user's `[keys]` overrides from config.toml). One rule keeps typing safe: while
//! the composer has focus only "non-typing" keys (with Ctrl/Alt, F-keys, Tab,
//! PageUp/PageDown) reach the table; everything else goes to the editor.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key does. Names (snake_case) are the keys of `[keys]` in config.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    FocusNext,
    FocusPrev,
    NextConversation,
    PrevConversation,
    /// Up/Down move the list selection or scroll the messages a line, by focus.
    Up,
    Down,
    Open,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    /// Jump to the newest message (and follow new ones).
    JumpNewest,
    /// Jump to the first unread message.
    JumpFirstUnread,
    /// Jump to the oldest loaded message (loading older ones as it goes).
    JumpOldest,
    MarkRead,
    MarkUnread,
    /// Focus the composer with `/` typed, to enter a command.
    CommandPrompt,
    /// Focus the composer.
    Compose,
    /// Open the switcher: find a conversation or a person by typing.
    Switcher,
    /// Edit the draft in `$VISUAL` / `$EDITOR`.
    Editor,
    /// On the selected message (`select`): reply, react, edit, delete, open
    /// its link, copy it, jump to the message it answers.
    Reply,
    React,
    EditSelected,
    DeleteSelected,
    OpenLink,
    CopyMessage,
    JumpToReplied,
    /// Search messages (the results view; Tab in its prompt: this conversation only).
    Search,
    /// The messages that mention you, across conversations.
    Mentions,
    /// Save the selected message's attachment into the downloads dir.
    SaveAttachment,
    /// Open the selected message's attachment with the system opener.
    OpenAttachment,
}

impl Action {
    pub const ALL: [Action; 33] = [
        Action::Quit,
        Action::Help,
        Action::FocusNext,
        Action::FocusPrev,
        Action::NextConversation,
        Action::PrevConversation,
        Action::Up,
        Action::Down,
        Action::Open,
        Action::PageUp,
        Action::PageDown,
        Action::HalfPageUp,
        Action::HalfPageDown,
        Action::JumpNewest,
        Action::JumpFirstUnread,
        Action::JumpOldest,
        Action::MarkRead,
        Action::MarkUnread,
        Action::CommandPrompt,
        Action::Compose,
        Action::Switcher,
        Action::Editor,
        Action::Reply,
        Action::React,
        Action::EditSelected,
        Action::DeleteSelected,
        Action::OpenLink,
        Action::CopyMessage,
        Action::JumpToReplied,
        Action::Search,
        Action::Mentions,
        Action::SaveAttachment,
        Action::OpenAttachment,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "help",
            Action::FocusNext => "focus_next",
            Action::FocusPrev => "focus_prev",
            Action::NextConversation => "next_conversation",
            Action::PrevConversation => "prev_conversation",
            Action::Up => "up",
            Action::Down => "down",
            Action::Open => "open",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::HalfPageUp => "half_page_up",
            Action::HalfPageDown => "half_page_down",
            Action::JumpNewest => "jump_newest",
            Action::JumpFirstUnread => "jump_first_unread",
            Action::JumpOldest => "jump_oldest",
            Action::MarkRead => "mark_read",
            Action::MarkUnread => "mark_unread",
            Action::CommandPrompt => "command_prompt",
            Action::Compose => "compose",
            Action::Switcher => "switcher",
            Action::Editor => "editor",
            Action::Reply => "reply",
            Action::React => "react",
            Action::EditSelected => "edit_selected",
            Action::DeleteSelected => "delete_selected",
            Action::OpenLink => "open_link",
            Action::CopyMessage => "copy_message",
            Action::JumpToReplied => "jump_to_replied",
            Action::Search => "search",
            Action::Mentions => "mentions",
            Action::SaveAttachment => "save_attachment",
            Action::OpenAttachment => "open_attachment",
        }
    }

    /// What the help screen says the action does.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "show or hide this help",
            Action::FocusNext => "focus next pane (list, messages, composer)",
            Action::FocusPrev => "focus previous pane",
            Action::NextConversation => "next conversation, from anywhere",
            Action::PrevConversation => "previous conversation, from anywhere",
            Action::Up => "move up (list) / select older (messages)",
            Action::Down => "move down (list) / select newer (messages)",
            Action::Open => "open the selected conversation",
            Action::PageUp => "scroll messages a page up, from anywhere",
            Action::PageDown => "scroll messages a page down, from anywhere",
            Action::HalfPageUp => "scroll half a page up",
            Action::HalfPageDown => "scroll half a page down",
            Action::JumpNewest => "jump to the newest message",
            Action::JumpFirstUnread => "jump to the first unread message",
            Action::JumpOldest => "jump to the oldest message",
            Action::MarkRead => "mark the conversation read",
            Action::MarkUnread => "mark the conversation unread",
            Action::CommandPrompt => "type a /command",
            Action::Compose => "focus the composer",
            Action::Switcher => "switch: find a conversation or person by name",
            Action::Editor => "edit the draft in $VISUAL / $EDITOR",
            Action::Reply => "reply to the selected message",
            Action::React => "react to the selected message",
            Action::EditSelected => "edit the selected message (yours)",
            Action::DeleteSelected => "delete the selected message (yours)",
            Action::OpenLink => "open the selected message's link",
            Action::CopyMessage => "copy the selected message (OSC 52)",
            Action::JumpToReplied => "jump to the message it replies to",
            Action::Search => "search messages (Tab: here / everywhere)",
            Action::Mentions => "messages that mention you",
            Action::SaveAttachment => "save the selected message's attachment to downloads",
            Action::OpenAttachment => "open the selected message's attachment",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// One key press, normalized: Shift is folded into the character (`G`), and
/// Shift-Tab is `BackTab` with no modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
}

/// `KeyCode` made orderable for stable help output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Delete,
    Insert,
}

impl Key {
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let code = match ev.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Enter => KeyCodeOrd::Enter,
            KeyCode::Esc => KeyCodeOrd::Esc,
            KeyCode::Tab if ev.modifiers.contains(KeyModifiers::SHIFT) => KeyCodeOrd::BackTab,
            KeyCode::Tab => KeyCodeOrd::Tab,
            KeyCode::BackTab => KeyCodeOrd::BackTab,
            KeyCode::Backspace => KeyCodeOrd::Backspace,
            KeyCode::Up => KeyCodeOrd::Up,
            KeyCode::Down => KeyCodeOrd::Down,
            KeyCode::Left => KeyCodeOrd::Left,
            KeyCode::Right => KeyCodeOrd::Right,
            KeyCode::Home => KeyCodeOrd::Home,
            KeyCode::End => KeyCodeOrd::End,
            KeyCode::PageUp => KeyCodeOrd::PageUp,
            KeyCode::PageDown => KeyCodeOrd::PageDown,
            KeyCode::Delete => KeyCodeOrd::Delete,
            KeyCode::Insert => KeyCodeOrd::Insert,
            _ => return None,
        };
        // Terminals send Ctrl-letters lower-case; keep one spelling.
        let code = match code {
            KeyCodeOrd::Char(c) if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                KeyCodeOrd::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        Some(Key {
            code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// Whether the key would type something (or edit) in the composer; such keys
    /// never trigger bindings while the composer has focus.
    pub fn is_typing(&self) -> bool {
        if self.ctrl || self.alt {
            return false;
        }
        !matches!(
            self.code,
            KeyCodeOrd::F(_) | KeyCodeOrd::Tab | KeyCodeOrd::BackTab | KeyCodeOrd::PageUp | KeyCodeOrd::PageDown
        )
    }

    /// Parses `ctrl-c`, `alt-up`, `shift-tab`, `f1`, `pageup`, `?`, `G`, `space`.
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && (lower.starts_with("ctrl-") || lower.starts_with("ctrl+")) {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.len() > 1 && (lower.starts_with("alt-") || lower.starts_with("alt+")) {
                alt = true;
                rest = &rest[4..];
            } else if rest.len() > 1 && (lower.starts_with("shift-") || lower.starts_with("shift+")) {
                shift = true;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        let code = match lower.as_str() {
            "enter" | "return" => KeyCodeOrd::Enter,
            "esc" | "escape" => KeyCodeOrd::Esc,
            "tab" if shift => KeyCodeOrd::BackTab,
            "tab" => KeyCodeOrd::Tab,
            "backtab" => KeyCodeOrd::BackTab,
            "backspace" => KeyCodeOrd::Backspace,
            "up" => KeyCodeOrd::Up,
            "down" => KeyCodeOrd::Down,
            "left" => KeyCodeOrd::Left,
            "right" => KeyCodeOrd::Right,
            "home" => KeyCodeOrd::Home,
            "end" => KeyCodeOrd::End,
            "pageup" | "pgup" => KeyCodeOrd::PageUp,
            "pagedown" | "pgdown" | "pgdn" => KeyCodeOrd::PageDown,
            "delete" | "del" => KeyCodeOrd::Delete,
            "insert" | "ins" => KeyCodeOrd::Insert,
            "space" => KeyCodeOrd::Char(' '),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCodeOrd::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if ctrl => KeyCodeOrd::Char(c.to_ascii_lowercase()),
                    (Some(c), None) if shift => KeyCodeOrd::Char(c.to_ascii_uppercase()),
                    (Some(c), None) => KeyCodeOrd::Char(c),
                    _ => return Err(format!("unknown key {s:?}")),
                }
            }
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("Space"),
            KeyCodeOrd::Char(c) if self.ctrl => write!(f, "{}", c.to_ascii_uppercase()),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "F{n}"),
            KeyCodeOrd::BackTab => f.write_str("Shift-Tab"),
            KeyCodeOrd::PageUp => f.write_str("PageUp"),
            KeyCodeOrd::PageDown => f.write_str("PageDown"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// A binding: one key, or a sequence such as `g g`.
pub type KeySeq = Vec<Key>;

fn parse_seq(s: &str) -> Result<KeySeq, String> {
    let seq: Result<Vec<Key>, String> = s.split_whitespace().map(Key::parse).collect();
    let seq = seq?;
    if seq.is_empty() { Err("empty key binding".into()) } else { Ok(seq) }
}

pub use crate::config::KeymapPreset as Preset;

/// The result of feeding a key to the keymap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Action(Action),
    /// The key starts a sequence; wait for the next one.
    Pending,
    /// Not bound (in this context).
    Unbound,
}

/// All bindings, and the keys typed so far of a pending sequence.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<KeySeq, Action>,
    pending: Vec<Key>,
}

const DEFAULTS: &[(Action, &[&str])] = &[
    (Action::Quit, &["ctrl-c"]),
    (Action::Help, &["f1", "?"]),
    (Action::FocusNext, &["tab"]),
    (Action::FocusPrev, &["shift-tab"]),
    (Action::NextConversation, &["alt-down", "ctrl-n"]),
    (Action::PrevConversation, &["alt-up", "ctrl-p"]),
    (Action::Up, &["up", "k"]),
    (Action::Down, &["down", "j"]),
    (Action::Open, &["enter"]),
    (Action::PageUp, &["pageup"]),
    (Action::PageDown, &["pagedown"]),
    (Action::JumpNewest, &["end", "alt-end"]),
    (Action::JumpFirstUnread, &["home"]),
    (Action::MarkRead, &["r", "alt-r"]),
    (Action::MarkUnread, &["u", "alt-u"]),
    (Action::CommandPrompt, &["/"]),
    (Action::Compose, &["i"]),
    (Action::Switcher, &["ctrl-k"]),
    (Action::Editor, &["alt-e", "ctrl-x ctrl-e"]),
    (Action::Reply, &["R"]),
    (Action::React, &["+"]),
    (Action::EditSelected, &["e"]),
    (Action::DeleteSelected, &["delete", "x"]),
    (Action::OpenLink, &["o"]),
    (Action::CopyMessage, &["y"]),
    (Action::JumpToReplied, &["J"]),
    (Action::Search, &["ctrl-f"]),
    (Action::Mentions, &["alt-m"]),
    (Action::SaveAttachment, &["s"]),
    (Action::OpenAttachment, &["O"]),
];

const VIM: &[(Action, &[&str])] = &[
    (Action::JumpNewest, &["G"]),
    (Action::JumpOldest, &["g g"]),
    (Action::HalfPageUp, &["ctrl-u"]),
    (Action::HalfPageDown, &["ctrl-d"]),
    (Action::CommandPrompt, &[":"]),
];

impl Keymap {
    /// The preset's bindings with `overrides` (action name → keys) replacing
    /// the bindings of the actions they name.
    pub fn new(preset: Preset, overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, String> {
        let mut bindings = BTreeMap::new();
        let add = |table: &[(Action, &[&str])], bindings: &mut BTreeMap<KeySeq, Action>| {
            for (action, keys) in table {
                for k in *keys {
                    bindings.insert(parse_seq(k).expect("built-in bindings parse"), *action);
                }
            }
        };
        add(DEFAULTS, &mut bindings);
        if preset == Preset::Vim {
            add(VIM, &mut bindings);
        }
        for (name, keys) in overrides {
            let action = Action::from_name(name).ok_or_else(|| format!("[keys]: unknown action {name:?}"))?;
            bindings.retain(|_, a| *a != action);
            for k in keys {
                bindings.insert(parse_seq(k).map_err(|e| format!("[keys] {name}: {e}"))?, action);
            }
        }
        Ok(Keymap { bindings, pending: Vec::new() })
    }

    /// Feeds one key. `typing` says the composer has focus, so typing keys are
    /// not looked up at all.
    pub fn lookup(&mut self, key: Key, typing: bool) -> Lookup {
        if typing && key.is_typing() {
            self.pending.clear();
            return Lookup::Unbound;
        }
        self.pending.push(key);
        if let Some(a) = self.bindings.get(&self.pending) {
            let a = *a;
            self.pending.clear();
            return Lookup::Action(a);
        }
        let is_prefix =
            self.bindings.keys().any(|seq| seq.len() > self.pending.len() && seq.starts_with(&self.pending));
        if is_prefix {
            return Lookup::Pending;
        }
        let was_pending = self.pending.len() > 1;
        self.pending.clear();
        // A broken sequence: try the last key alone.
        if was_pending { self.lookup(key, typing) } else { Lookup::Unbound }
    }

    /// Bindings grouped by action, for the help screen and docs.
    pub fn describe(&self) -> Vec<(Action, Vec<String>)> {
        let mut by_action: BTreeMap<Action, Vec<String>> = BTreeMap::new();
        for (seq, a) in &self.bindings {
            let s: Vec<String> = seq.iter().map(Key::to_string).collect();
            by_action.entry(*a).or_default().push(s.join(" "));
        }
        Action::ALL.into_iter().filter_map(|a| by_action.remove(&a).map(|k| (a, k))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn ev(code: KeyCode, m: KeyModifiers) -> Key {
        Key::from_event(&KeyEvent::new_with_kind(code, m, KeyEventKind::Press)).unwrap()
    }

    #[test]
    fn defaults_bind_the_documented_keys() {
        let mut k = Keymap::new(Preset::Default, &BTreeMap::new()).unwrap();
        assert_eq!(k.lookup(ev(KeyCode::Char('c'), KeyModifiers::CONTROL), false), Lookup::Action(Action::Quit));
        assert_eq!(k.lookup(ev(KeyCode::Up, KeyModifiers::ALT), true), Lookup::Action(Action::PrevConversation));
        assert_eq!(k.lookup(ev(KeyCode::Tab, KeyModifiers::SHIFT), true), Lookup::Action(Action::FocusPrev));
        assert_eq!(k.lookup(ev(KeyCode::BackTab, KeyModifiers::SHIFT), true), Lookup::Action(Action::FocusPrev));
        assert_eq!(k.lookup(ev(KeyCode::PageUp, KeyModifiers::NONE), true), Lookup::Action(Action::PageUp));
        assert_eq!(k.lookup(ev(KeyCode::Char('j'), KeyModifiers::NONE), false), Lookup::Action(Action::Down));
        assert_eq!(k.lookup(ev(KeyCode::Char('G'), KeyModifiers::SHIFT), false), Lookup::Unbound);
    }

    #[test]
    fn typing_keys_never_trigger_bindings_in_the_composer() {
        let mut k = Keymap::new(Preset::Vim, &BTreeMap::new()).unwrap();
        for c in ['?', 'j', 'k', 'g', 'G', ':', 'r', 'u', '/'] {
            assert_eq!(k.lookup(ev(KeyCode::Char(c), KeyModifiers::NONE), true), Lookup::Unbound, "{c}");
        }
        assert_eq!(k.lookup(ev(KeyCode::Enter, KeyModifiers::NONE), true), Lookup::Unbound);
        assert_eq!(k.lookup(ev(KeyCode::F(1), KeyModifiers::NONE), true), Lookup::Action(Action::Help));
    }

    #[test]
    fn vim_preset_has_sequences_and_half_pages() {
        let mut k = Keymap::new(Preset::Vim, &BTreeMap::new()).unwrap();
        let g = ev(KeyCode::Char('g'), KeyModifiers::NONE);
        assert_eq!(k.lookup(g, false), Lookup::Pending);
        assert_eq!(k.lookup(g, false), Lookup::Action(Action::JumpOldest));
        assert_eq!(k.lookup(ev(KeyCode::Char('G'), KeyModifiers::SHIFT), false), Lookup::Action(Action::JumpNewest));
        assert_eq!(
            k.lookup(ev(KeyCode::Char('d'), KeyModifiers::CONTROL), false),
            Lookup::Action(Action::HalfPageDown)
        );
        // A broken sequence falls back to the last key alone.
        assert_eq!(k.lookup(g, false), Lookup::Pending);
        assert_eq!(k.lookup(ev(KeyCode::Char('j'), KeyModifiers::NONE), false), Lookup::Action(Action::Down));
    }

    #[test]
    fn overrides_replace_an_actions_keys_and_bad_names_are_reported() {
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), vec!["ctrl-q".to_string()]);
        let mut k = Keymap::new(Preset::Default, &o).unwrap();
        assert_eq!(k.lookup(ev(KeyCode::Char('c'), KeyModifiers::CONTROL), false), Lookup::Unbound);
        assert_eq!(k.lookup(ev(KeyCode::Char('q'), KeyModifiers::CONTROL), false), Lookup::Action(Action::Quit));
        o.insert("fly".to_string(), vec!["x".to_string()]);
        assert!(Keymap::new(Preset::Default, &o).unwrap_err().contains("fly"));
        let mut bad = BTreeMap::new();
        bad.insert("quit".to_string(), vec!["ctrl-nothing".to_string()]);
        assert!(Keymap::new(Preset::Default, &bad).is_err());
    }
}
