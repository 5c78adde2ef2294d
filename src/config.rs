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
}
