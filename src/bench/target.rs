//! The server under test: one started in-process on loopback with a temporary
//! data dir (the default), or one at `--server URL` whose credentials come from
//! its data dir or the environment. Also the few REST calls scenarios set up with.

use std::net::SocketAddr;

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;

use super::http_load::BasicAuth;
use super::{BenchArgs, Runtimes};
use crate::api::TwilioError;
use crate::api::params::{ConversationParams, ParticipantParams};
use crate::api::token::TokenIssuer;
use crate::config::Credentials;
use crate::server::{self, ServerConfig};

#[derive(Clone)]
pub struct Target {
    /// `http://host:port`, no trailing slash.
    pub base: String,
    pub credentials: Credentials,
    /// The embedded server's data dir, removed when the last clone is dropped.
    _data_dir: Option<std::sync::Arc<tempfile::TempDir>>,
    /// Keeps the embedded server up: dropping it shuts the server down.
    _server: Option<std::sync::Arc<server::RunningServer>>,
    /// With `--processes`: the server's own process, killed when the last clone is dropped.
    _process: Option<std::sync::Arc<super::process::ServerProcess>>,
}

impl Target {
    /// Starts the embedded server on the server runtime (on `--database` when
    /// given), or describes `--server`.
    pub fn open(rt: &Runtimes, args: &BenchArgs) -> anyhow::Result<Self> {
        if let Some(url) = &args.server {
            return Ok(Self::remote(url.clone(), remote_credentials(args)?));
        }
        if args.processes {
            let process = rt.client.block_on(super::process::ServerProcess::start(args.database.as_deref()))?;
            let mut target = Self::remote(process.base.clone(), process.credentials.clone());
            target._process = Some(std::sync::Arc::new(process));
            return Ok(target);
        }
        Self::start(rt, args.database.clone(), Credentials::generate())
    }

    /// A server already running at `base` (another process) with these credentials.
    pub fn remote(base: String, credentials: Credentials) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            _data_dir: None,
            _server: None,
            _process: None,
        }
    }

    /// Starts an embedded server with `credentials`: on SQLite in a temporary
    /// data dir, or on the PostgreSQL at `database` (instances started on one
    /// database with the same credentials form a cluster).
    pub fn start(rt: &Runtimes, database: Option<String>, credentials: Credentials) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let config = ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.path().to_path_buf(),
            public_url: None,
            credentials: credentials.clone(),
        };
        let options = server::ServerOptions { database, ..Default::default() };
        let running = rt.server.block_on(server::start_with(config, options))?;
        Ok(Self {
            base: running.url(),
            credentials,
            _data_dir: Some(std::sync::Arc::new(dir)),
            _server: Some(std::sync::Arc::new(running)),
            _process: None,
        })
    }

    /// Admin credentials: account SID and auth token.
    pub fn admin(&self) -> BasicAuth {
        BasicAuth { user: self.credentials.account_sid.clone(), password: self.credentials.auth_token.clone() }
    }

    /// The embedded server's SQLite file (its name is the store's `DB_FILE`).
    pub fn local_db(&self) -> Option<std::path::PathBuf> {
        self._data_dir.as_ref().map(|d| d.path().join("convo.sqlite3")).filter(|p| p.is_file())
    }

    pub fn messages_url(&self, conversation: &str) -> String {
        format!("{}/v1/Conversations/{conversation}/Messages", self.base)
    }

    /// An access token for `identity`, valid for an hour.
    pub fn token(&self, identity: &str) -> String {
        let c = &self.credentials;
        let issuer = TokenIssuer {
            account_sid: &c.account_sid,
            api_key_sid: &c.api_key_sid,
            api_key_secret: &c.api_key_secret,
            service_sid: None,
        };
        issuer.mint(identity, crate::api::time::now_unix(), 3600)
    }

    /// The `/v1/Stream` upgrade request for `identity`.
    pub fn stream_request(&self, identity: &str) -> anyhow::Result<Request> {
        let ws = self.base.replacen("http", "ws", 1);
        let mut req = format!("{ws}/v1/Stream").into_client_request()?;
        req.headers_mut().insert("X-Twilio-Token", self.token(identity).parse()?);
        Ok(req)
    }

    /// POSTs a form as admin and returns the JSON answer, or the Twilio error.
    pub async fn post_form(
        &self,
        client: &reqwest::Client,
        path: &str,
        form: &impl serde::Serialize,
    ) -> anyhow::Result<serde_json::Value> {
        let auth = self.admin();
        let resp = client
            .post(format!("{}{path}", self.base))
            .basic_auth(&auth.user, Some(&auth.password))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_html_form::to_string(form)?)
            .send()
            .await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        if !status.is_success() {
            let err = serde_json::from_slice::<TwilioError>(&body)
                .map(|e| e.to_string())
                .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
            anyhow::bail!("POST {path}: {status}: {err}");
        }
        Ok(serde_json::from_slice(&body)?)
    }

    /// Creates a conversation and returns its SID.
    pub async fn create_conversation(&self, client: &reqwest::Client, name: &str) -> anyhow::Result<String> {
        let form = ConversationParams { friendly_name: Some(name.to_owned()), ..Default::default() };
        let v = self.post_form(client, "/v1/Conversations", &form).await?;
        v["sid"].as_str().map(str::to_owned).ok_or_else(|| anyhow::anyhow!("conversation without sid: {v}"))
    }

    /// Turns the service's reachability (presence) on or off. Fan-out turns it
    /// off: every stream that opens would otherwise tell each one already open
    /// (a `userUpdated` to all of a 1,000-person room), which is presence's
    /// cost, not message delivery's, and fills queues nobody reads during setup.
    pub async fn set_reachability(&self, client: &reqwest::Client, enabled: bool) -> anyhow::Result<()> {
        let auth = self.admin();
        let config: serde_json::Value = client
            .get(format!("{}/v1/Configuration", self.base))
            .basic_auth(&auth.user, Some(&auth.password))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let service = config["default_chat_service_sid"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("/v1/Configuration without default_chat_service_sid: {config}"))?;
        let form = [("ReachabilityEnabled", enabled.to_string())];
        self.post_form(client, &format!("/v1/Services/{service}/Configuration"), &form).await?;
        Ok(())
    }

    /// Adds `identity` to the conversation.
    pub async fn add_participant(
        &self,
        client: &reqwest::Client,
        conversation: &str,
        identity: &str,
    ) -> anyhow::Result<()> {
        let form = ParticipantParams { identity: Some(identity.to_owned()), ..Default::default() };
        self.post_form(client, &format!("/v1/Conversations/{conversation}/Participants"), &form).await?;
        Ok(())
    }
}

pub(super) fn remote_credentials(args: &BenchArgs) -> anyhow::Result<Credentials> {
    let env_complete = ["CONVO_ACCOUNT_SID", "CONVO_AUTH_TOKEN", "CONVO_API_KEY", "CONVO_API_SECRET"]
        .iter()
        .all(|k| std::env::var_os(k).is_some());
    let dir = match (&args.data_dir, env_complete) {
        (Some(d), _) => d.clone(),
        (None, true) => std::env::temp_dir(),
        (None, false) => anyhow::bail!(
            "--server needs that server's credentials: --data-dir DIR, or CONVO_ACCOUNT_SID, CONVO_AUTH_TOKEN, CONVO_API_KEY and CONVO_API_SECRET"
        ),
    };
    if !env_complete && !dir.join("credentials.json").is_file() {
        anyhow::bail!("no credentials.json in {}", dir.display());
    }
    Ok(Credentials::load_or_create(&dir)?.0)
}
