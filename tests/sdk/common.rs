//! Test fixtures: a real server on 127.0.0.1 (stoppable and restartable on the
//! same port and data dir), tokens, an admin REST client, and waiting helpers
//! with generous timeouts (the box is shared; nothing asserts wall time).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use convo_tui::api::token::TokenIssuer;
use convo_tui::config::Credentials;
use convo_tui::sdk::{Client, Command, Diff, Event, SyncHandle};
use convo_tui::server::{self, RunningServer, ServerConfig, ServerOptions};
use tokio::sync::broadcast;

/// How long any wait for an event may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub server: Option<RunningServer>,
    pub dir: tempfile::TempDir,
    pub creds: Credentials,
    pub addr: SocketAddr,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(ServerOptions::default()).await
    }

    /// A server with non-default options (e.g. a small media limit; `restart`
    /// brings it back with the defaults).
    pub async fn start_with(options: ServerOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let creds = Credentials::generate();
        let config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path(), creds.clone());
        let server = server::start_with(config, options).await.expect("server starts");
        let addr = server.addr;
        Self { server: Some(server), dir, creds, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token(&self, identity: &str) -> String {
        self.token_ttl(identity, 3600)
    }

    pub fn token_ttl(&self, identity: &str, ttl: i64) -> String {
        let issuer = TokenIssuer {
            account_sid: &self.creds.account_sid,
            api_key_sid: &self.creds.api_key_sid,
            api_key_secret: &self.creds.api_key_secret,
            service_sid: None,
        };
        issuer.mint(identity, convo_tui::api::time::now_unix(), ttl)
    }

    /// Stops the server (its streams close; the port is released).
    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }

    /// Starts the server again on the same port and data dir.
    pub async fn restart(&mut self) {
        let config = ServerConfig::new(self.addr, self.dir.path(), self.creds.clone());
        let mut last = None;
        // The old socket may take a moment to be released.
        for _ in 0..50 {
            match server::start(config.clone()).await {
                Ok(s) => {
                    self.server = Some(s);
                    return;
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server did not restart: {last:?}");
    }

    pub async fn client(&self, identity: &str) -> Client {
        Client::connect(&self.url(), &self.token(identity)).await.expect("client connects")
    }

    pub fn sync(&self, identity: &str) -> SyncHandle {
        convo_tui::sdk::sync::spawn(convo_tui::sdk::SyncConfig {
            server_url: self.url(),
            token: self.token(identity),
            page_size: 30,
        })
    }

    /// An admin (Basic auth) REST call; returns the JSON reply.
    pub async fn admin(&self, method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> serde_json::Value {
        let http = reqwest::Client::new();
        let mut req = http
            .request(method, format!("{}/v1/{path}", self.url()))
            .basic_auth(&self.creds.account_sid, Some(&self.creds.auth_token));
        if !form.is_empty() {
            req = req.form(form);
        }
        let resp = req.send().await.expect("admin request");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).unwrap() }
    }
}

/// Waits for the first event matching `pick`, skipping others.
pub async fn next_event<T>(rx: &mut broadcast::Receiver<Event>, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(ev)) => {
                if let Some(t) = pick(&ev) {
                    return t;
                }
            }
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("event stream ended: {e}"),
            Err(_) => panic!("no matching event within {WAIT:?}"),
        }
    }
}

/// Every event that arrives within `quiet` of the previous one (for "no more").
pub async fn drain(rx: &mut broadcast::Receiver<Event>, quiet: Duration) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(Ok(ev)) = tokio::time::timeout(quiet, rx.recv()).await {
        out.push(ev);
    }
    out
}

/// Waits for the first diff matching `pick`, recording every diff seen.
pub async fn next_diff<T>(h: &mut SyncHandle, seen: &mut Vec<Diff>, mut pick: impl FnMut(&Diff) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, h.diffs.recv()).await {
            Ok(Some(d)) => {
                let hit = pick(&d);
                seen.push(d);
                if let Some(t) = hit {
                    return t;
                }
            }
            Ok(None) => panic!("sync task ended"),
            Err(_) => {
                panic!("no matching diff within {WAIT:?}; saw {:#?}", seen.iter().rev().take(5).collect::<Vec<_>>())
            }
        }
    }
}

/// Sends a command to a sync task.
pub fn cmd(h: &SyncHandle, c: Command) {
    h.commands.send(c).expect("sync task alive");
}
