//! `convo-tui serve`: Twilio Conversations REST v1 on SQLite, plus `/v1/Stream`.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::Credentials;

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

/// A server running on the current tokio runtime.
pub struct RunningServer {
    pub addr: SocketAddr,
}

/// Binds, opens the store and starts serving in the background.
pub async fn start(_config: ServerConfig) -> anyhow::Result<RunningServer> {
    anyhow::bail!("server not built yet")
}
