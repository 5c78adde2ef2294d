//! The hostile tests' fixture: a real server in a temp dir, raw requests as the
//! account or a person, and the `Witness`, a well-behaved client that keeps
//! sending and receiving throughout a test and reports any failure at the end.

#![allow(dead_code)]

use std::time::Duration;

use convo_tui::api::time::now_unix;
use convo_tui::api::token::TokenIssuer;
use convo_tui::config::Credentials;
use convo_tui::server::{RunningServer, ServerConfig, ServerOptions, start_with};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;

pub const WAIT: Duration = Duration::from_secs(10);

pub struct Server {
    pub running: RunningServer,
    pub creds: Credentials,
    pub base: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    /// A server with rate limits at `rate_limit` actions/s (0 = off).
    pub async fn start(rate_limit: u32) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let creds = Credentials::generate();
        let config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path(), creds.clone());
        let running =
            start_with(config, ServerOptions { rate_limit, ..Default::default() }).await.expect("server starts");
        let base = running.url();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Self { running, creds, base, http, _dir: dir }
    }

    pub fn token(&self, identity: &str) -> String {
        let c = &self.creds;
        TokenIssuer {
            account_sid: &c.account_sid,
            api_key_sid: &c.api_key_sid,
            api_key_secret: &c.api_key_secret,
            service_sid: None,
        }
        .mint(identity, now_unix(), 3600)
    }

    /// A request as the account (Basic auth).
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.creds.account_sid, Some(&self.creds.auth_token))
    }

    /// A request as a person holding a token for `identity`.
    pub fn person(&self, identity: &str, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base)).header("X-Twilio-Token", self.token(identity))
    }

    /// A form POST as the account with this raw body.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.admin(reqwest::Method::POST, path)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("the server answers")
    }

    /// Creates a conversation with these participants; returns its SID.
    pub async fn conversation(&self, identities: &[&str]) -> String {
        let resp = self.post_raw("/v1/Conversations", "FriendlyName=hostile").await;
        assert_eq!(resp.status(), 201);
        let sid = resp.json::<Value>().await.unwrap()["sid"].as_str().unwrap().to_owned();
        for id in identities {
            let resp = self.post_raw(&format!("/v1/Conversations/{sid}/Participants"), format!("Identity={id}")).await;
            assert_eq!(resp.status(), 201, "adding {id}");
        }
        sid
    }

    /// The `/v1/Stream` upgrade request for `identity`.
    pub fn stream_request(&self, identity: &str) -> Request {
        let mut req = format!("{}/v1/Stream", self.base.replacen("http", "ws", 1)).into_client_request().unwrap();
        req.headers_mut().insert("X-Twilio-Token", self.token(identity).parse().unwrap());
        req
    }

    /// Health and a real read both answer.
    pub async fn assert_serving(&self) {
        let health = self.http.get(format!("{}/healthz", self.base)).send().await.expect("healthz answers");
        assert_eq!(health.status(), 200);
        let list = self.admin(reqwest::Method::GET, "/v1/Conversations").send().await.expect("list answers");
        assert_eq!(list.status(), 200);
    }
}

/// Asserts a Twilio error body with this status and code.
pub async fn assert_twilio_error(resp: reqwest::Response, status: u16, code: u32) {
    assert_eq!(resp.status(), status, "status");
    let body: Value = resp.json().await.expect("a JSON error body");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

/// Asserts the answer is a Twilio error (any 4xx code) rather than a crash or a 5xx.
pub async fn assert_client_error(resp: reqwest::Response) -> u32 {
    let status = resp.status().as_u16();
    assert!((400..500).contains(&status), "status {status}");
    let body: Value = resp.json().await.expect("a JSON error body");
    assert_eq!(body["status"], status, "{body}");
    body["code"].as_u64().expect("a Twilio code") as u32
}

/// Whether a `messageAdded` with this body arrives on `ws` within `limit`.
async fn seen_on<S>(ws: &mut S, body: &str, limit: Duration) -> bool
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let found = tokio::time::timeout(limit, async {
        while let Some(frame) = ws.next().await {
            if let Ok(Message::Text(t)) = frame {
                let v: Value = serde_json::from_str(&t).unwrap_or_default();
                if v["event"] == "messageAdded" && v["data"]["body"] == body {
                    return true;
                }
            }
        }
        false
    })
    .await;
    found == Ok(true)
}

/// A well-behaved participant: posts a message every 50 ms as a person and
/// waits for it on its own stream. `finish` fails the test on any error.
pub struct Witness {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<u32, String>>,
}

impl Witness {
    pub async fn start(server: &Server) -> Self {
        let conversation = server.conversation(&["witness"]).await;
        let (mut ws, _) = tokio_tungstenite::connect_async(server.stream_request("witness")).await.expect("stream");
        let (stop, mut stopped) = watch::channel(false);
        let (http, base, token) = (server.http.clone(), server.base.clone(), server.token("witness"));
        let task = tokio::spawn(async move {
            // The server subscribes a socket just after the upgrade's answer, so
            // an event published in between is not this socket's: warm up first.
            let mut live = false;
            for attempt in 0..20 {
                let body = format!("witness warm-up {attempt}");
                let _ = http
                    .post(format!("{base}/v1/Conversations/{conversation}/Messages"))
                    .header("X-Twilio-Token", &token)
                    .form(&[("Body", body.as_str())])
                    .send()
                    .await;
                if seen_on(&mut ws, &body, Duration::from_millis(500)).await {
                    live = true;
                    break;
                }
            }
            if !live {
                return Err("the witness's stream never delivered its own message".to_owned());
            }
            let mut rounds = 0u32;
            while !*stopped.borrow() {
                let body = format!("witness {rounds}");
                let resp = http
                    .post(format!("{base}/v1/Conversations/{conversation}/Messages"))
                    .header("X-Twilio-Token", &token)
                    .form(&[("Body", body.as_str())])
                    .send()
                    .await
                    .map_err(|e| format!("round {rounds}: post failed: {e}"))?;
                if resp.status() != 201 {
                    return Err(format!("round {rounds}: post answered {}", resp.status()));
                }
                if !seen_on(&mut ws, &body, WAIT).await {
                    return Err(format!("round {rounds}: own message not seen on the stream within {WAIT:?}"));
                }
                rounds += 1;
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = stopped.changed() => {}
                }
            }
            Ok(rounds)
        });
        Self { stop, task }
    }

    /// Stops the witness and asserts it was served every round, at least once.
    pub async fn finish(self) {
        let _ = self.stop.send(true);
        let rounds = self.task.await.expect("witness task").unwrap_or_else(|e| panic!("the witness failed: {e}"));
        assert!(rounds >= 1, "the witness completed no round");
    }
}
