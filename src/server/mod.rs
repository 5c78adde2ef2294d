//! `convo-tui serve`: Twilio Conversations REST v1 on SQLite or PostgreSQL, plus `/v1/Stream`.
//!
//! Shape (after mini-redis and axum's examples): `app` builds the router from
//! one router per resource in `routes` (parse, call, render); `extract` +
//! `auth` say who calls and decode input into Twilio errors; each write is one
//! operation in `ops` or `membership`, which looks up (`lookup`), asks `rules`
//! who may do it, and changes the store; `store` is SQLite or PostgreSQL behind
//! one group-commit writer thread (plus a publisher that hands committed effects
//! to the hub: on PostgreSQL through the cluster's event log); `hub` fans events out to `stream` sockets;
//! `timers` moves conversations to inactive/closed. `twilsock` serves Twilio's
//! Conversations JS SDK: its tunnelled HTTP runs through the same router (the
//! client API in `routes::client*`, the Sync view of the store in `sync`).
//!
//! What is ours rather than Twilio's (Twilio clients ignore all of it):
//! `GET /healthz`; `GET /v1/Stream`; `GET /v3/wsconnect` (twilsock, with
//! `/Client/v2/…` and the read-only Sync objects under `/v3/…`); conversation fields `created_by`,
//! `messages_count`, `participants_count`, `last_message`; keyset page tokens
//! (`PA<key>`/`PB<key>`, see `api::page::PageToken`); a message addressed by its
//! index as well as its SID; an empty `LastReadMessageIndex=` clearing a read
//! horizon; `Idempotency-Key` on message creation; and `"public": true` in a
//! conversation's attributes letting any token-holder look at it and join it.

mod app;
mod auth;
mod error;
mod extract;
mod hub;
mod lookup;
mod membership;
mod ops;
mod paging;
mod presence;
pub mod rate_limit;
mod render;
mod routes;
mod rules;
mod store;
mod stream;
mod sync;
mod timers;
pub mod twilsock;
pub mod validate;
pub mod webhooks;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::api::time::now_unix;
use crate::config::Credentials;
use error::ApiError;
use hub::Hub;
pub use webhooks::DeliveryPolicy;

/// How to run a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// The scheme://host:port clients reach us at; page URLs use it. When unset,
    /// each request's Host header is used.
    pub public_url: Option<String>,
    pub credentials: Credentials,
}

impl ServerConfig {
    pub fn new(listen: SocketAddr, data_dir: impl Into<PathBuf>, credentials: Credentials) -> Self {
        Self { listen, data_dir: data_dir.into(), public_url: None, credentials }
    }
}

/// Tuning that most callers leave at its default (kept apart from
/// `ServerConfig` so its struct literals stay valid).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Actions per second per identity and conversation for access-token
    /// callers (Twilio's 30 by default); 0 turns the limit off.
    pub rate_limit: u32,
    /// A PostgreSQL URL (`postgres://user:pass@host:port/db`): the store of a
    /// cluster of instances. None: SQLite in the data dir.
    pub database: Option<String>,
    /// Webhook delivery: timeout, retries and bounds.
    pub webhooks: DeliveryPolicy,
    /// Media uploads: size limit and how long temporary links work.
    pub media: MediaOptions,
    /// How long a killed instance's streams keep their users online (whole
    /// seconds; the lease is renewed every third of it).
    pub presence_lease: std::time::Duration,
}

/// Media (Twilio's Media Content Service) limits.
#[derive(Debug, Clone)]
pub struct MediaOptions {
    /// Largest upload in bytes (Twilio's chat limit, 150 MB, by default); more: 413.
    pub max_bytes: u64,
    /// Seconds a `links.content_direct_temporary` URL works (Twilio's 300).
    pub link_ttl_secs: i64,
}

impl Default for MediaOptions {
    fn default() -> Self {
        Self { max_bytes: 150 * 1024 * 1024, link_ttl_secs: 300 }
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            rate_limit: rate_limit::DEFAULT_PER_SECOND,
            database: None,
            webhooks: DeliveryPolicy::default(),
            media: MediaOptions::default(),
            presence_lease: presence::DEFAULT_LEASE,
        }
    }
}

/// State shared by every handler.
pub struct AppState {
    pub(crate) store: store::Store,
    pub(crate) hub: Arc<Hub>,
    pub(crate) credentials: Credentials,
    pub(crate) public_url: Option<String>,
    pub(crate) addr: SocketAddr,
    /// Identities known to have a user row, so a token-holder's first call
    /// creates their user once and later calls skip the write.
    known_users: Mutex<HashSet<String>>,
    pub(crate) rate_limit: rate_limit::RateLimit,
    pub(crate) media: MediaOptions,
    /// This instance's open streams per identity (see `presence`).
    pub(crate) presence: Arc<presence::Presence>,
}

impl AppState {
    /// Makes sure a user exists for `identity` (created on first sight).
    pub(crate) async fn ensure_user(&self, identity: &str) -> Result<(), ApiError> {
        if self.known_users.lock().unwrap_or_else(|p| p.into_inner()).contains(identity) {
            return Ok(());
        }
        if validate::identity(identity).is_ok() {
            let id = identity.to_owned();
            self.store.write(move |conn| Ok((store::users::ensure(conn, &id, now_unix())?, Vec::new()))).await?;
        }
        self.known_users.lock().unwrap_or_else(|p| p.into_inner()).insert(identity.to_owned());
        Ok(())
    }
}

impl AppState {
    /// URLs for events that no request caused (timers): the public URL, else the bound address.
    pub(crate) fn default_urls(&self) -> render::Urls {
        let base = self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.addr));
        render::Urls {
            prefix: format!("{}/v1", base.trim_end_matches('/')),
            account_sid: self.credentials.account_sid.clone(),
            service_sid: self.store.service_sid.clone(),
            service_scoped: false,
        }
    }

    /// After a user is deleted, their next call as a token-holder makes a new one.
    pub(crate) fn forget_user(&self, identity: &str) {
        self.known_users.lock().unwrap_or_else(|p| p.into_inner()).remove(identity);
    }
}

/// A server running on the current tokio runtime. Keep it alive while serving:
/// dropping it stops the server as `shutdown` does, without waiting.
pub struct RunningServer {
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    served: tokio::task::JoinHandle<()>,
    /// Ends after this instance's presence rows are taken away.
    presence: tokio::task::JoinHandle<()>,
    state: Arc<AppState>,
}

impl RunningServer {
    /// `http://127.0.0.1:PORT`, the base URL to give clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The chat service SID (`IS…`) of this server's one service.
    pub fn service_sid(&self) -> &str {
        &self.state.store.service_sid
    }

    /// Stops accepting, closes every stream, and waits for open requests to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        self.state.hub.close_all();
        let _ = self.served.await;
        // Its users go offline now rather than when the lease lapses.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), self.presence).await;
    }
}

/// Binds, opens the store and starts serving in the background.
pub async fn start(config: ServerConfig) -> anyhow::Result<RunningServer> {
    start_with(config, ServerOptions::default()).await
}

/// [`start`] with options other than the defaults.
pub async fn start_with(config: ServerConfig, options: ServerOptions) -> anyhow::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let hub = Arc::new(Hub::default());
    let data_dir = config.data_dir.clone();
    let hub2 = hub.clone();
    let database = options.database.clone();
    let account_sid = config.credentials.account_sid.clone();
    let (store, _writer_thread) =
        tokio::task::spawn_blocking(move || store::Store::open(&data_dir, database.as_deref(), hub2, &account_sid))
            .await??;
    tracing::info!("store: {}", store.database);
    let service_sid = store.service_sid.clone();
    let instance = store.instance.clone();
    store
        .write(move |conn| Ok((ops::roles::ensure_defaults(conn, &service_sid, now_unix())?, Vec::new())))
        .await
        .map_err(|e| anyhow::anyhow!("making the default roles: {}", e.0))?;
    let state = Arc::new(AppState {
        store,
        hub: hub.clone(),
        credentials: config.credentials,
        public_url: config.public_url,
        addr,
        known_users: Mutex::new(HashSet::new()),
        rate_limit: rate_limit::RateLimit::new(options.rate_limit),
        media: options.media.clone(),
        presence: presence::Presence::new(instance, options.presence_lease),
    });
    let (shutdown, mut stop) = watch::channel(false);
    stream::spawn_typing_ticker(hub.clone(), stop.clone());
    let presence = presence::spawn(state.clone(), stop.clone());
    spawn_idempotency_sweeper(state.clone(), stop.clone());
    timers::spawn_sweeper(state.clone(), stop.clone());
    webhooks::spawn_delivery(state.clone(), options.webhooks, stop.clone());
    let router = app::router(state.clone());
    let served = tokio::spawn(async move {
        let result = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = result {
            tracing::error!("server stopped: {e}");
        }
    });
    Ok(RunningServer { addr, shutdown, served, presence, state })
}

/// Forgets Idempotency-Keys older than 24 h and abandoned uploads, once an hour.
fn spawn_idempotency_sweeper(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let swept = state.store.write(|conn| Ok((store::messages::expire_keys(conn, now_unix())?, Vec::new()))).await;
                    if let Err(e) = swept {
                        tracing::warn!("sweeping idempotency keys failed: {}", e.0);
                    }
                    ops::media::sweep_abandoned(&state).await;
                }
                _ = stop.changed() => break,
            }
        }
    });
}
