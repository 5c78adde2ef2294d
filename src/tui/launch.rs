//! From command line to running client: resolves profile, server, identity and
//! token (flags, then config.toml, then environment; `Setup`, `Target`), and,
//! once `main` has the server's URL (it starts the embedded one when none is
//! configured), starts the sync task, the welcome conversation on a first
//! launch and the `--demo` cast, and runs the UI.

use std::path::PathBuf;

use crate::api::token::TokenIssuer;
use crate::config::{ConfigFile, Credentials, Dirs};
use crate::sdk::SyncConfig;

use super::App;
use super::cache::Cache;
use super::demo::{self, Spawn};
use super::keymap::Keymap;
use super::theme::Theme;

/// The default command's flags.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub server: Option<String>,
    pub identity: Option<String>,
    pub token: Option<String>,
    pub profile: Option<String>,
    pub demo: bool,
}

/// Token lifetime for tokens we mint; renewed before expiry.
const TTL_SECS: i64 = 12 * 3600;

/// Owned key material to mint tokens with.
#[derive(Clone)]
struct Minter {
    account_sid: String,
    api_key: String,
    api_secret: String,
}

impl std::fmt::Debug for Minter {
    /// Never prints the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minter").field("account_sid", &self.account_sid).field("api_key", &self.api_key).finish()
    }
}

impl Minter {
    fn mint(&self, identity: &str) -> String {
        let issuer = TokenIssuer {
            account_sid: &self.account_sid,
            api_key_sid: &self.api_key,
            api_key_secret: &self.api_secret,
            service_sid: None,
        };
        issuer.mint(identity, crate::api::time::now_unix(), TTL_SECS)
    }
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// The local user's name for the embedded server.
fn local_user() -> String {
    env("USER").or_else(|| env("USERNAME")).unwrap_or_else(|| "me".to_string())
}

/// The identity inside a token (unverified: the server checks it; we only show it).
fn identity_in_token(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: crate::api::token::Claims = serde_json::from_slice(&bytes).ok()?;
    claims.grants.identity
}

/// Everything read before the client starts: flags, config.toml, the profile,
/// keys. Made by `Setup::load` from `main` before any thread is started (the
/// local time offset can only be read safely then).
pub struct Setup {
    opts: Options,
    offset: time::UtcOffset,
    dirs: Dirs,
    config: ConfigFile,
    profile: crate::config::Profile,
    keymap: Keymap,
}

/// Where the client connects, as whom, and how it gets new tokens.
pub struct Target {
    server_url: String,
    /// The server as the status bar shows it.
    shown_server: String,
    /// The server as the local cache is keyed.
    scope_server: String,
    identity: String,
    token: String,
    /// Mints tokens for any identity (the embedded server's keys, or API keys
    /// given for a remote one); renews ours before it expires.
    tokens: Option<Minter>,
    embedded: bool,
}

impl Setup {
    pub fn load(opts: Options) -> anyhow::Result<Self> {
        let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
        let dirs = Dirs::from_env()?;
        let config_path = dirs.config.join(crate::config::CONFIG_FILE);
        if !config_path.exists() {
            // A commented default config to edit; failing to write it is not fatal.
            let _ = std::fs::create_dir_all(&dirs.config)
                .and_then(|_| std::fs::write(&config_path, include_str!("../../assets/config.toml")));
        }
        let config = ConfigFile::load(&dirs.config)?;
        let profile = config.profile(opts.profile.as_deref())?;
        let keymap = Keymap::new(config.settings.keymap, &config.keys).map_err(|e| anyhow::anyhow!("{e}"))?;
        super::init_logging(&dirs.data)?;
        Ok(Self { opts, offset, dirs, config, profile, keymap })
    }

    /// The server to connect to, if one is configured (flag, profile,
    /// `CONVO_SERVER`); `None`: `main` starts the embedded one.
    pub fn server(&self) -> Option<String> {
        self.opts.server.clone().or(self.profile.server.clone()).or_else(|| env("CONVO_SERVER"))
    }

    /// Where the embedded server keeps its data.
    pub fn embedded_data_dir(&self) -> PathBuf {
        self.dirs.data.join("server")
    }

    /// Signing in to the embedded server at `url`, which runs with `credentials`.
    pub fn embedded(&self, url: String, credentials: &Credentials) -> Target {
        let minter = Minter {
            account_sid: credentials.account_sid.clone(),
            api_key: credentials.api_key_sid.clone(),
            api_secret: credentials.api_key_secret.clone(),
        };
        let identity = self.opts.identity.clone().or(self.profile.identity.clone()).unwrap_or_else(local_user);
        let token = self.opts.token.clone().unwrap_or_else(|| minter.mint(&identity));
        Target {
            shown_server: format!("embedded {url}"),
            scope_server: "embedded".to_string(),
            server_url: url,
            identity,
            token,
            tokens: Some(minter),
            embedded: true,
        }
    }

    /// Signing in to the server at `url`.
    pub fn remote(&self, url: &str) -> anyhow::Result<Target> {
        let url = url.trim_end_matches('/').to_string();
        let (identity, token, tokens) = remote_login(&self.opts, &self.profile, env)?;
        Ok(Target {
            server_url: url.clone(),
            shown_server: url.clone(),
            scope_server: url,
            identity,
            token,
            tokens,
            embedded: false,
        })
    }
}

/// Runs the client against `target` until the user quits: the sync task, the
/// welcome conversation on a first launch, the `--demo` cast, and the UI.
pub async fn run(setup: Setup, target: Target, spawn: Spawn) -> anyhow::Result<()> {
    let Setup { opts, offset, dirs, config, keymap, .. } = setup;
    let Target { server_url, shown_server, scope_server, identity, token, tokens: minter, embedded } = target;
    tracing::info!(server = %server_url, identity = %identity, "starting");
    if opts.demo && minter.is_none() {
        anyhow::bail!("--demo needs the embedded server or API key credentials to sign the bots in");
    }
    let handle = spawn(SyncConfig { server_url: server_url.clone(), token, page_size: config.settings.page_size });
    let mut app = App::new(identity.clone(), shown_server, config.settings.clone(), keymap, Theme::from_env());
    app.utc_offset = offset;
    app.transfers = super::transfers::Transfers::new(&dirs.data, &dirs.cache);
    app.focus = super::app::Focus::Composer;
    let cache = Cache::new(&dirs.cache, &dirs.data, &format!("{identity}@{scope_server}"));
    cache.restore(&mut app);
    if embedded && let Some(m) = minter.clone() {
        let marker = dirs.data.join(format!("welcomed-{}", identity.replace(['/', '\\'], "_")));
        if !marker.exists() {
            app.pending_open = Some(format!("welcome-{identity}"));
            let (url, id) = (server_url.clone(), identity.clone());
            tokio::spawn(async move {
                match demo::post_welcome(spawn, &url, m.mint("convo-tui"), &id).await {
                    Ok(_) => {
                        let _ = std::fs::write(&marker, b"");
                    }
                    Err(e) => tracing::warn!("welcome conversation: {e}"),
                }
            });
        }
    }
    if opts.demo
        && let Some(m) = minter.clone()
    {
        app.pending_open = Some(format!("demo-{identity}"));
        let (url, id) = (server_url.clone(), identity.clone());
        tokio::spawn(async move {
            if let Err(e) = demo::run_demo(spawn, url, move |who| m.mint(who), id).await {
                tracing::warn!("demo: {e}");
            }
        });
    }
    let renew: Option<Box<dyn Fn() -> String + Send>> = minter.map(|m| {
        let id = identity.clone();
        Box::new(move || m.mint(&id)) as Box<dyn Fn() -> String + Send>
    });
    let exit = super::run(app, handle, super::default_hooks(renew), &cache).await;
    tracing::info!(?exit, "bye");
    exit.map(|_| ())
}

/// Who to be on a remote server: flags, then the profile, then the
/// environment (`CONVO_TOKEN`, or `CONVO_API_KEY` + `CONVO_API_SECRET` +
/// `CONVO_ACCOUNT_SID` to mint). Returns identity, token and the minter if keys
/// were given (tokens are then renewed before they expire).
fn remote_login(
    opts: &Options,
    profile: &crate::config::Profile,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<(String, String, Option<Minter>)> {
    let minter = match (
        profile.api_key.clone().or_else(|| env("CONVO_API_KEY")),
        profile.api_secret.clone().or_else(|| env("CONVO_API_SECRET")),
        profile.account_sid.clone().or_else(|| env("CONVO_ACCOUNT_SID")),
    ) {
        (Some(api_key), Some(api_secret), Some(account_sid)) => Some(Minter { account_sid, api_key, api_secret }),
        _ => None,
    };
    let given = opts.token.clone().or(profile.token.clone()).or_else(|| env("CONVO_TOKEN"));
    let identity =
        opts.identity.clone().or(profile.identity.clone()).or_else(|| given.as_deref().and_then(identity_in_token));
    match (given, identity, minter) {
        (Some(t), Some(i), m) => Ok((i, t, m)),
        (Some(_), None, _) => anyhow::bail!("the token carries no identity; pass --identity NAME"),
        (None, Some(i), Some(m)) => {
            let t = m.mint(&i);
            Ok((i, t, Some(m)))
        }
        (None, None, Some(_)) => anyhow::bail!("who are you? pass --identity NAME (or set it in a profile)"),
        (None, _, None) => anyhow::bail!(
            "no access token: pass --token JWT, set CONVO_TOKEN, or set CONVO_API_KEY, CONVO_API_SECRET and CONVO_ACCOUNT_SID to mint one"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Profile;

    const AC: &str = "AC00000000000000000000000000000000";
    const SK: &str = "SK00000000000000000000000000000000";

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn flags_win_over_the_profile_and_the_token_names_the_identity() {
        let m = Minter { account_sid: AC.into(), api_key: SK.into(), api_secret: "s".into() };
        let flag_token = m.mint("alice");
        let opts = Options { token: Some(flag_token.clone()), ..Options::default() };
        let profile = Profile { token: Some(m.mint("bob")), ..Profile::default() };
        let (identity, token, _) = remote_login(&opts, &profile, no_env).unwrap();
        assert_eq!((identity.as_str(), token), ("alice", flag_token));
        let opts = Options { identity: Some("carol".into()), ..Options::default() };
        let profile = Profile { identity: Some("dave".into()), ..Profile::default() };
        let env = |k: &str| match k {
            "CONVO_API_KEY" => Some(SK.to_string()),
            "CONVO_API_SECRET" => Some("s".to_string()),
            "CONVO_ACCOUNT_SID" => Some(AC.to_string()),
            _ => None,
        };
        let (identity, token, minter) = remote_login(&opts, &profile, env).unwrap();
        assert_eq!(identity, "carol");
        assert_eq!(crate::api::token::verify(&token, AC, SK, "s", crate::api::time::now_unix()).unwrap(), "carol");
        assert!(minter.is_some());
    }

    #[test]
    fn missing_credentials_say_what_to_set() {
        let e = remote_login(&Options::default(), &Profile::default(), no_env).unwrap_err().to_string();
        assert!(e.contains("--token") && e.contains("CONVO_API_KEY"), "{e}");
        let env = |k: &str| (k == "CONVO_TOKEN").then(|| "not-a-jwt".to_string());
        let e = remote_login(&Options::default(), &Profile::default(), env).unwrap_err().to_string();
        assert!(e.contains("--identity"), "{e}");
    }
}
