//! Where things live and who we are: the data, config and cache directories
//! (from `directories`, overridable), the server's credentials (from the
//! environment, or generated once and kept in the data dir with mode 0600), and
//! the user's `config.toml` (profiles, settings, key bindings).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::sid::{new_sid, prefix};

/// The per-user directories of convo-tui.
#[derive(Debug, Clone)]
pub struct Dirs {
    pub data: PathBuf,
    pub config: PathBuf,
    pub cache: PathBuf,
}

impl Dirs {
    /// The platform's directories for convo-tui (`~/.local/share/convo-tui`, …).
    /// `CONVO_DATA_DIR`, `CONVO_CONFIG_DIR` and `CONVO_CACHE_DIR` override them.
    pub fn from_env() -> anyhow::Result<Self> {
        let pd = directories::ProjectDirs::from("", "", "convo-tui");
        let pick = |var: &str, f: fn(&directories::ProjectDirs) -> &Path| -> anyhow::Result<PathBuf> {
            if let Some(v) = std::env::var_os(var) {
                return Ok(PathBuf::from(v));
            }
            pd.as_ref().map(|p| f(p).to_path_buf()).ok_or_else(|| anyhow::anyhow!("no home directory: set {var}"))
        };
        Ok(Self {
            data: pick("CONVO_DATA_DIR", directories::ProjectDirs::data_dir)?,
            config: pick("CONVO_CONFIG_DIR", directories::ProjectDirs::config_dir)?,
            cache: pick("CONVO_CACHE_DIR", directories::ProjectDirs::cache_dir)?,
        })
    }
}

/// The account's credentials: Basic auth pairs and the API key that signs tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub account_sid: String,
    pub auth_token: String,
    pub api_key_sid: String,
    pub api_key_secret: String,
}

/// Where the credentials came from, for the server to say so at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    Environment,
    File(PathBuf),
    Generated(PathBuf),
}

const CREDENTIALS_FILE: &str = "credentials.json";

impl Credentials {
    /// Reads `CONVO_ACCOUNT_SID`, `CONVO_AUTH_TOKEN`, `CONVO_API_KEY`,
    /// `CONVO_API_SECRET`; any that are unset come from `data_dir/credentials.json`,
    /// which is created (mode 0600) with fresh random values on first use.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<(Self, CredentialSource)> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let from_env =
            (env("CONVO_ACCOUNT_SID"), env("CONVO_AUTH_TOKEN"), env("CONVO_API_KEY"), env("CONVO_API_SECRET"));
        if let (Some(account_sid), Some(auth_token), Some(api_key_sid), Some(api_key_secret)) = from_env.clone() {
            return Ok((Self { account_sid, auth_token, api_key_sid, api_key_secret }, CredentialSource::Environment));
        }
        let path = data_dir.join(CREDENTIALS_FILE);
        let (mut creds, source) = match std::fs::read_to_string(&path) {
            Ok(text) => (serde_json::from_str::<Self>(&text)?, CredentialSource::File(path.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let creds = Self::generate();
                write_private(&path, &serde_json::to_string_pretty(&creds)?)?;
                (creds, CredentialSource::Generated(path.clone()))
            }
            Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        };
        let (a, t, k, s) = from_env;
        creds.account_sid = a.unwrap_or(creds.account_sid);
        creds.auth_token = t.unwrap_or(creds.auth_token);
        creds.api_key_sid = k.unwrap_or(creds.api_key_sid);
        creds.api_key_secret = s.unwrap_or(creds.api_key_secret);
        Ok((creds, source))
    }

    /// Fresh random credentials.
    pub fn generate() -> Self {
        let secret = || format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        Self {
            account_sid: new_sid(prefix::ACCOUNT),
            auth_token: uuid::Uuid::new_v4().simple().to_string(),
            api_key_sid: new_sid(prefix::API_KEY),
            api_key_secret: secret(),
        }
    }
}

/// Writes `contents` to `path` readable by the owner only, creating parent dirs.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// The file name of the user's configuration, in `Dirs::config`.
pub const CONFIG_FILE: &str = "config.toml";

/// `config.toml`: named profiles (where to connect, as whom), settings and key
/// bindings. Every field is optional; command-line flags win over the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigFile {
    /// The profile used when `--profile` is not given.
    pub default_profile: Option<String>,
    pub profiles: std::collections::BTreeMap<String, Profile>,
    pub settings: Settings,
    /// Action name → keys, replacing that action's default keys
    /// (e.g. `quit = ["ctrl-q"]`).
    pub keys: std::collections::BTreeMap<String, Vec<String>>,
}

/// Where to connect and as whom. A token, or an API key + secret + account SID
/// to mint one with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Profile {
    pub server: Option<String>,
    pub identity: Option<String>,
    pub token: Option<String>,
    pub api_key: Option<String>,
    pub api_secret: Option<String>,
    pub account_sid: Option<String>,
}

/// How the conversation list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Most recent activity first.
    #[default]
    Recent,
    /// Conversations with unread messages first, then by recent activity.
    Unread,
}

/// Which default key bindings to start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeymapPreset {
    /// Arrow/emacs style.
    #[default]
    Default,
    /// Adds j/k, G/gg, Ctrl-U/Ctrl-D and `:` for commands.
    Vim,
}

/// How image attachments are previewed in the message pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImagePreviews {
    /// The best the terminal answers for (kitty, sixel, iTerm2), else half-blocks.
    #[default]
    Auto,
    /// Coloured half-block characters, in any terminal.
    Halfblocks,
    /// No previews: image attachments are a line like other files.
    Off,
}

/// Which new messages make a desktop notification (muted conversations never do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyMode {
    /// Every message from someone else in a conversation not on screen.
    #[default]
    All,
    /// Only messages that mention you (`@identity`).
    Mentions,
    Off,
}

/// The terminal escape sequence a notification is sent with (wrapped for tmux
/// when `$TMUX` is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyFormat {
    /// `OSC 777 ; notify ; title ; body` (foot, WezTerm, Ghostty, rxvt, VTE terminals).
    #[default]
    Osc777,
    /// `OSC 9 ; text` (iTerm2, WezTerm, Windows Terminal, Ghostty).
    Osc9,
    /// `OSC 99` (kitty's desktop notification protocol).
    Osc99,
}

/// The client's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub sort: SortOrder,
    /// Ring the terminal bell on a new message in an unmuted conversation you
    /// are not looking at.
    pub bell: bool,
    pub keymap: KeymapPreset,
    /// Show the participant sidebar (it hides itself on narrow terminals).
    pub sidebar: bool,
    /// Messages per page fetched from the server.
    pub page_size: u32,
    /// Messages kept in memory per conversation; farther pages are dropped and
    /// fetched again when you scroll back to them.
    pub max_messages: usize,
    /// Desktop notifications through the terminal: "all", "mentions" or "off".
    pub notifications: NotifyMode,
    /// How they are sent: "osc777", "osc9" or "osc99".
    pub notification_format: NotifyFormat,
    /// The program (and arguments) that opens links; unset: `xdg-open`, or
    /// `open` on macOS. Run directly, never through a shell.
    pub open_command: Option<String>,
    /// "Read by" under your latest message is shown in conversations of at
    /// most this many participants.
    pub read_by_max: usize,
    /// Image previews: "auto", "halfblocks" or "off".
    pub image_previews: ImagePreviews,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            sort: SortOrder::Recent,
            bell: true,
            keymap: KeymapPreset::Default,
            sidebar: true,
            page_size: 50,
            max_messages: 2000,
            notifications: NotifyMode::All,
            notification_format: NotifyFormat::Osc777,
            open_command: None,
            read_by_max: 20,
            image_previews: ImagePreviews::Auto,
        }
    }
}

impl ConfigFile {
    /// Reads `dir/config.toml`; a missing file is the defaults, a malformed one
    /// an error naming the file and the problem.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        }
    }

    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// The profile to use: the named one (which must exist), else the file's
    /// default profile, else an empty one.
    pub fn profile(&self, name: Option<&str>) -> anyhow::Result<Profile> {
        match name.or(self.default_profile.as_deref()) {
            Some(n) => {
                self.profiles.get(n).cloned().ok_or_else(|| anyhow::anyhow!("no profile {n:?} in {CONFIG_FILE}"))
            }
            None => Ok(Profile::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_persist_with_owner_only_mode() {
        let dir = tempfile::tempdir().unwrap();
        let (first, src) = Credentials::load_or_create(dir.path()).unwrap();
        assert!(matches!(src, CredentialSource::Generated(_)) || src == CredentialSource::Environment);
        if src == CredentialSource::Environment {
            return;
        }
        let (second, src) = Credentials::load_or_create(dir.path()).unwrap();
        assert_eq!(first, second);
        assert!(matches!(src, CredentialSource::File(_)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(CREDENTIALS_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
    #[test]
    fn config_file_reads_profiles_settings_and_keys() {
        let c = ConfigFile::parse(
            r#"
default_profile = "work"
[profiles.work]
server = "https://chat.example.com"
identity = "alice"
[settings]
sort = "unread"
bell = false
keymap = "vim"
notifications = "mentions"
notification_format = "osc99"
[keys]
quit = ["ctrl-q"]
"#,
        )
        .unwrap();
        assert_eq!(c.profile(None).unwrap().identity.as_deref(), Some("alice"));
        assert_eq!(c.settings.sort, SortOrder::Unread);
        assert!(!c.settings.bell);
        assert_eq!(c.settings.keymap, KeymapPreset::Vim);
        assert_eq!(c.settings.page_size, 50);
        assert_eq!(c.settings.notifications, NotifyMode::Mentions);
        assert_eq!(c.settings.notification_format, NotifyFormat::Osc99);
        assert!(ConfigFile::parse("[settings]\nnotifications = \"loud\"").is_err());
        assert!(c.profile(Some("home")).is_err());
        assert!(ConfigFile::parse("[settings]\nsort = \"sideways\"").is_err());
        assert!(ConfigFile::parse("colour = 1").is_err());
    }

    #[test]
    fn shipped_default_config_parses_to_the_defaults() {
        let c = ConfigFile::parse(include_str!("../assets/config.toml")).unwrap();
        assert_eq!(c.settings, Settings::default());
        assert!(c.profiles.is_empty());
    }
}
