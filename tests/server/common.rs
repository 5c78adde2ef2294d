//! Shared test fixtures: start a server in a temp dir, call it as the account
//! (Basic), as a person (X-Twilio-Token) or anonymously, and open streams.
//!
//! The store: SQLite in the temp dir, or with `CONVO_TEST_STORE=postgres` a
//! fresh database per server in the PostgreSQL at `CONVO_TEST_DATABASE_URL`
//! (`scripts/test` runs this suite both ways).

#![allow(dead_code)]

use std::time::Duration;

use convo_tui::api::time::now_unix;
use convo_tui::api::token::TokenIssuer;
use convo_tui::config::Credentials;
use convo_tui::server::{RunningServer, ServerConfig, ServerOptions, start_with};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Who a request is sent as.
#[derive(Clone, Debug)]
pub enum As {
    Admin,
    /// The API key's Basic pair (also full access).
    ApiKey,
    Person(String),
    /// A raw X-Twilio-Token value.
    Token(String),
    Nobody,
}

pub fn person(identity: &str) -> As {
    As::Person(identity.to_owned())
}

pub struct TestServer {
    pub server: Option<RunningServer>,
    pub dir: tempfile::TempDir,
    /// The PostgreSQL database this server uses (None: SQLite in `dir`).
    pub database: Option<String>,
    pub creds: Credentials,
    pub base: String,
    http: reqwest::Client,
}

pub fn credentials() -> Credentials {
    Credentials::generate()
}

impl TestServer {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, credentials()).await
    }

    pub async fn start_in(dir: tempfile::TempDir, creds: Credentials) -> Self {
        let database = match std::env::var("CONVO_TEST_STORE").as_deref() {
            Ok("postgres") => Some(fresh_database().await),
            _ => None,
        };
        Self::start_on(dir, creds, database).await
    }

    /// A fresh server (on the suite's store) with these media limits.
    pub async fn start_with_media(media: convo_tui::server::MediaOptions) -> Self {
        let database = match std::env::var("CONVO_TEST_STORE").as_deref() {
            Ok("postgres") => Some(fresh_database().await),
            _ => None,
        };
        Self::start_with_options(tempfile::tempdir().expect("tempdir"), credentials(), database, media).await
    }

    async fn start_on(dir: tempfile::TempDir, creds: Credentials, database: Option<String>) -> Self {
        Self::start_with_options(dir, creds, database, Default::default()).await
    }

    async fn start_with_options(
        dir: tempfile::TempDir,
        creds: Credentials,
        database: Option<String>,
        media: convo_tui::server::MediaOptions,
    ) -> Self {
        let config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path(), creds.clone());
        let options = ServerOptions { database: database.clone(), media, ..Default::default() };
        let server = start_with(config, options).await.expect("server starts");
        let base = server.url();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Self { server: Some(server), dir, database, creds, base, http }
    }

    /// A client of a server running elsewhere (another process) at `base`.
    pub fn attach(base: String, creds: Credentials, dir: tempfile::TempDir) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Self { server: None, dir, database: None, creds, base, http }
    }

    /// Stops the server gracefully and starts a new one on the same store.
    pub async fn restart(mut self) -> Self {
        self.server.take().unwrap().shutdown().await;
        self.restart_stopped().await
    }

    /// Stops the server; `start_in_place` brings it back on the same port.
    pub async fn stop_in_place(&mut self) {
        self.server.take().expect("running").shutdown().await;
    }

    /// Another server on the same store, on a port of its own, while this one
    /// is stopped (writes that happen "while the server is down" for its clients).
    pub async fn serve_beside(&self) -> RunningServer {
        let config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), self.dir.path(), self.creds.clone());
        let options = ServerOptions { database: self.database.clone(), ..Default::default() };
        start_with(config, options).await.expect("a server beside starts")
    }

    /// Starts a stopped server again on its port and store (clients reconnect to the same address).
    pub async fn start_in_place(mut self) -> Self {
        let addr: std::net::SocketAddr = self.base.trim_start_matches("http://").parse().expect("base is http://ADDR");
        let mut last = None;
        for _ in 0..50 {
            let config = ServerConfig::new(addr, self.dir.path(), self.creds.clone());
            let options = ServerOptions { database: self.database.clone(), ..Default::default() };
            match start_with(config, options).await {
                Ok(server) => {
                    self.server = Some(server);
                    return self;
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("server did not restart on {addr}: {last:?}");
    }

    /// Starts a new server on the store of one already shut down.
    pub async fn restart_stopped(self) -> Self {
        Self::start_on(self.dir, self.creds, self.database).await
    }

    pub fn token(&self, identity: &str) -> String {
        self.token_with(identity, now_unix(), 3600)
    }

    pub fn token_with(&self, identity: &str, now: i64, ttl: i64) -> String {
        TokenIssuer {
            account_sid: &self.creds.account_sid,
            api_key_sid: &self.creds.api_key_sid,
            api_key_secret: &self.creds.api_key_secret,
            service_sid: None,
        }
        .mint(identity, now, ttl)
    }

    pub fn request(&self, method: reqwest::Method, path: &str, who: &As) -> reqwest::RequestBuilder {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        let rb = self.http.request(method, url);
        match who {
            As::Admin => rb.basic_auth(&self.creds.account_sid, Some(&self.creds.auth_token)),
            As::ApiKey => rb.basic_auth(&self.creds.api_key_sid, Some(&self.creds.api_key_secret)),
            As::Person(i) => rb.header("X-Twilio-Token", self.token(i)),
            As::Token(t) => rb.header("X-Twilio-Token", t),
            As::Nobody => rb,
        }
    }

    async fn send(rb: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = rb.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
        };
        (status, body)
    }

    pub async fn get(&self, who: &As, path: &str) -> (u16, Value) {
        Self::send(self.request(reqwest::Method::GET, path, who)).await
    }

    pub async fn post(&self, who: &As, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        Self::send(self.request(reqwest::Method::POST, path, who).form(form)).await
    }

    pub async fn post_with_header(
        &self,
        who: &As,
        path: &str,
        header: (&str, &str),
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        Self::send(self.request(reqwest::Method::POST, path, who).header(header.0, header.1).form(form)).await
    }

    pub async fn delete(&self, who: &As, path: &str) -> (u16, Value) {
        Self::send(self.request(reqwest::Method::DELETE, path, who)).await
    }

    /// Creates a conversation as the account and returns its JSON.
    pub async fn conversation(&self, form: &[(&str, &str)]) -> Value {
        let (status, body) = self.post(&As::Admin, "/v1/Conversations", form).await;
        assert_eq!(status, 201, "{body}");
        body
    }

    /// Adds `identity` to the conversation as the account.
    pub async fn add(&self, conversation: &str, identity: &str) -> Value {
        let (status, body) = self
            .post(&As::Admin, &format!("/v1/Conversations/{conversation}/Participants"), &[("Identity", identity)])
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    /// Posts a message as `who` and returns its JSON.
    pub async fn say(&self, who: &As, conversation: &str, body: &str) -> Value {
        let (status, json) =
            self.post(who, &format!("/v1/Conversations/{conversation}/Messages"), &[("Body", body)]).await;
        assert_eq!(status, 201, "{json}");
        json
    }

    /// Opens `/v1/Stream` as a person (or as the account with `None`).
    pub async fn stream(&self, identity: Option<&str>) -> Stream {
        let url = format!("{}/v1/Stream", self.base.replacen("http", "ws", 1));
        let mut req = url.into_client_request().unwrap();
        match identity {
            Some(i) => {
                req.headers_mut().insert("X-Twilio-Token", self.token(i).parse().unwrap());
            }
            None => {
                use base64::Engine;
                let pair = format!("{}:{}", self.creds.account_sid, self.creds.auth_token);
                let value = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
                req.headers_mut().insert("Authorization", value.parse().unwrap());
            }
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("stream opens");
        Stream { ws }
    }
}

pub struct Stream {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

/// Long enough for a loaded 2-core box; only reached when something is wrong.
pub const WAIT: Duration = Duration::from_secs(10);

impl Stream {
    /// The next event frame, or None after `within`.
    pub async fn next_within(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next()).await.ok()??;
            match frame.ok()? {
                WsMessage::Text(t) => return Some(serde_json::from_str(t.as_str()).expect("event JSON")),
                WsMessage::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Waits for an event named `name` (skipping others), up to `WAIT`.
    pub async fn expect(&mut self, name: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Some(e) if e["event"] == name => return e,
                Some(_) => continue,
                None => panic!("no {name} event within {WAIT:?}"),
            }
        }
    }

    /// Asserts no event named `name` arrives within `within`.
    pub async fn expect_none(&mut self, name: &str, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            if let Some(e) = self.next_within(left).await {
                assert_ne!(e["event"], name, "unexpected {name}: {e}");
            } else {
                return;
            }
        }
    }

    /// Waits for a `userUpdated` about `identity` (skipping other events), up to `WAIT`.
    pub async fn expect_user_updated(&mut self, identity: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Some(e) if e["event"] == "userUpdated" && e["data"]["identity"] == identity => return e,
                Some(_) => continue,
                None => panic!("no userUpdated about {identity} within {WAIT:?}"),
            }
        }
    }

    /// Asserts no `userUpdated` about `identity` arrives within `within`.
    pub async fn expect_no_user_updated(&mut self, identity: &str, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while let Some(e) = self.next_within(deadline.saturating_duration_since(tokio::time::Instant::now())).await {
            let about = e["event"] == "userUpdated" && e["data"]["identity"] == identity;
            assert!(!about, "unexpected userUpdated about {identity}: {e}");
        }
    }

    pub async fn typing(&mut self, conversation: &str) {
        let frame = serde_json::json!({"type": "typing", "conversation_sid": conversation}).to_string();
        self.ws.send(WsMessage::Text(frame.into())).await.expect("frame sent");
    }
}

/// Asserts a Twilio error body with this status and code.
pub fn assert_error(resp: &(u16, Value), status: u16, code: u64) {
    assert_eq!(resp.0, status, "{}", resp.1);
    assert_eq!(resp.1["code"], code, "{}", resp.1);
    assert_eq!(resp.1["status"], status, "{}", resp.1);
    assert!(resp.1["message"].is_string() && resp.1["more_info"].is_string(), "{}", resp.1);
}

pub fn sid(v: &Value) -> String {
    v["sid"].as_str().expect("sid").to_owned()
}

/// The PostgreSQL server the tests may use (`scripts/test` starts one).
pub fn database_server() -> Option<String> {
    std::env::var("CONVO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// `url` (postgres://user@host:port/db?opts) with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (rest, query) = rest.split_once('?').map_or((rest, None), |(r, q)| (r, Some(q)));
    let authority = rest.split('/').next().unwrap_or(rest);
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

/// A new, empty database in the test PostgreSQL server; its URL.
pub async fn fresh_database() -> String {
    let server = database_server().expect("CONVO_TEST_STORE=postgres needs CONVO_TEST_DATABASE_URL");
    let (client, connection) =
        tokio_postgres::connect(&server, tokio_postgres::NoTls).await.expect("test database server");
    tokio::spawn(connection);
    let name = format!("convo_test_{}", uuid::Uuid::new_v4().simple());
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create database");
    with_database(&server, &name)
}
