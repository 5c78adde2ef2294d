//! What survives between launches on this machine: the last conversation list
//! (in the cache dir, so the first frame shows it before the network answers)
//! and the drafts, sent-line history and last open conversation (in the data
//! dir, since losing them would lose the user's words). Files are per
//! (server, identity) and written atomically; a damaged file is ignored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::{Conversation, UserConversation};
use crate::sdk::ConversationEntry;

use super::app::App;

#[derive(Serialize, Deserialize)]
struct CachedEntry {
    conversation: Conversation,
    user_state: Option<UserConversation>,
}

#[derive(Serialize, Deserialize, Default)]
pub struct Saved {
    #[serde(default)]
    pub drafts: HashMap<String, String>,
    #[serde(default)]
    pub history: Vec<String>,
    #[serde(default)]
    pub last_open: Option<String>,
}

pub struct Cache {
    list: PathBuf,
    saved: PathBuf,
}

/// A file-name-safe key for (server, identity): readable prefix plus a hash.
fn key(scope: &str) -> String {
    // FNV-1a: stable across runs and Rust versions, unlike DefaultHasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in scope.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    let readable: String = scope.chars().filter(|c| c.is_ascii_alphanumeric()).take(24).collect();
    format!("{readable}-{h:016x}")
}

impl Cache {
    /// `scope` names the account, e.g. `alice@https://chat.example.com`.
    pub fn new(cache_dir: &Path, data_dir: &Path, scope: &str) -> Cache {
        let k = key(scope);
        Cache { list: cache_dir.join(format!("list-{k}.json")), saved: data_dir.join(format!("drafts-{k}.json")) }
    }

    pub fn load_list(&self) -> Vec<ConversationEntry> {
        let Ok(text) = std::fs::read_to_string(&self.list) else { return Vec::new() };
        let entries: Vec<CachedEntry> = serde_json::from_str(&text).unwrap_or_default();
        entries
            .into_iter()
            .map(|e| ConversationEntry { conversation: e.conversation, user_state: e.user_state })
            .collect()
    }

    pub fn load_saved(&self) -> Saved {
        std::fs::read_to_string(&self.saved).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
    }

    /// Puts what was kept into a fresh app: list (without opening anything
    /// yet), drafts, history and the conversation to reopen.
    pub fn restore(&self, app: &mut App) {
        let list = self.load_list();
        app.conversations = list.into_iter().map(|e| (e.conversation.sid.clone(), e)).collect();
        app.resort();
        let saved = self.load_saved();
        app.drafts = saved.drafts;
        app.history = saved.history;
        if app.pending_open.is_none() {
            app.pending_open = saved.last_open.clone();
        }
        if let Some(sid) = saved.last_open.filter(|s| app.conversations.contains_key(s)) {
            app.selected = Some(sid);
        }
    }

    pub fn save(&self, app: &App) -> std::io::Result<()> {
        let entries: Vec<CachedEntry> = app
            .order
            .iter()
            .filter_map(|s| app.conversations.get(s))
            .map(|e| CachedEntry { conversation: e.conversation.clone(), user_state: e.user_state.clone() })
            .collect();
        write_atomic(&self.list, &serde_json::to_string(&entries)?)?;
        let mut drafts = app.drafts.clone();
        if let Some(open) = &app.open {
            let text = app.composer_text();
            if text.trim().is_empty() || app.editing.is_some() {
                drafts.remove(open);
            } else {
                drafts.insert(open.clone(), text);
            }
        }
        let saved = Saved { drafts, history: app.history.clone(), last_open: app.open.clone() };
        write_atomic(&self.saved, &serde_json::to_string(&saved)?)
    }
}

fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    crate::config::write_private(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
