//! Fixtures for the webhook tests: a real HTTP receiver on 127.0.0.1 port 0
//! that records every request (URL, form, signature) and answers as told per
//! path (200, a status, N failures first, JSON, or never), and a server started
//! with a delivery policy fast enough for tests.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use convo_tui::api::time::now_unix;
use convo_tui::api::token::TokenIssuer;
use convo_tui::config::Credentials;
use convo_tui::server::{DeliveryPolicy, RunningServer, ServerConfig, ServerOptions, start_with};
use serde_json::Value;

use crate::common::WAIT;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    /// The full URL as called (what the signature covers).
    pub url: String,
    pub method: String,
    /// POST: the form; GET: empty (the parameters are in `url`).
    pub params: Vec<(String, String)>,
    /// GET's query, or POST's form: the event's parameters either way.
    pub fields: HashMap<String, String>,
    pub signature: String,
    pub token: String,
}

impl Hit {
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

/// How the receiver answers on one path.
#[derive(Debug, Clone)]
pub enum Answer {
    Ok,
    Json(String),
    Status(u16),
    /// Answers `status` this many times, then 200.
    FailFirst(u32, u16),
    /// Never answers.
    Hang,
}

#[derive(Default)]
struct Inner {
    hits: Vec<Hit>,
    answers: HashMap<String, Answer>,
}

#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

async fn record(
    State((inner, base)): State<(Arc<Mutex<Inner>>, String)>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let url = format!("{base}{}", uri.path_and_query().map_or("", |p| p.as_str()));
    let params: Vec<(String, String)> =
        if method == Method::POST { serde_html_form::from_bytes(&body).unwrap_or_default() } else { Vec::new() };
    let query: Vec<(String, String)> = serde_html_form::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let fields = if method == Method::POST { params.clone() } else { query }.into_iter().collect();
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let hit = Hit {
        path: path.clone(),
        url,
        method: method.to_string(),
        params,
        fields,
        signature: header("x-twilio-signature"),
        token: header("i-twilio-idempotency-token"),
    };
    let answer = {
        let mut inner = inner.lock().unwrap();
        inner.hits.push(hit);
        let answer = inner.answers.get(&path).cloned().unwrap_or(Answer::Ok);
        if let Answer::FailFirst(n, s) = answer {
            let next = if n <= 1 { Answer::Ok } else { Answer::FailFirst(n - 1, s) };
            inner.answers.insert(path, next);
            Answer::Status(s)
        } else {
            answer
        }
    };
    match answer {
        Answer::Ok => StatusCode::OK.into_response(),
        Answer::Json(j) => ([(axum::http::header::CONTENT_TYPE, "application/json")], j).into_response(),
        Answer::Status(s) => StatusCode::from_u16(s).unwrap().into_response(),
        Answer::FailFirst(..) => unreachable!(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
    }
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new().fallback(record).with_state((inner.clone(), base.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base, inner }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn answer(&self, path: &str, answer: Answer) {
        self.inner.lock().unwrap().answers.insert(path.to_owned(), answer);
    }

    pub fn hits(&self, path: &str) -> Vec<Hit> {
        self.inner.lock().unwrap().hits.iter().filter(|h| h.path == path).cloned().collect()
    }

    pub fn all(&self) -> Vec<Hit> {
        self.inner.lock().unwrap().hits.clone()
    }

    /// Waits until `path` has at least `n` requests matching `keep`, and returns those.
    pub async fn wait_for(&self, path: &str, n: usize, keep: impl Fn(&Hit) -> bool) -> Vec<Hit> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let hits: Vec<Hit> = self.hits(path).into_iter().filter(|h| keep(h)).collect();
            if hits.len() >= n {
                return hits;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("{path}: {} of {n} requests within {WAIT:?}: {hits:#?}", hits.len());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for `n` requests on `path` with this EventType.
    pub async fn events(&self, path: &str, event: &str, n: usize) -> Vec<Hit> {
        self.wait_for(path, n, |h| h.get("EventType") == event).await
    }
}

/// Retries within milliseconds, so retry tests take well under a second.
pub fn fast_policy() -> DeliveryPolicy {
    DeliveryPolicy {
        timeout: Duration::from_millis(500),
        first_retry: Duration::from_millis(20),
        max_retry: Duration::from_millis(100),
        ..DeliveryPolicy::default()
    }
}

/// A server on 127.0.0.1 port 0 with its own delivery policy.
pub struct Hooked {
    pub server: RunningServer,
    pub dir: tempfile::TempDir,
    pub creds: Credentials,
    pub base: String,
    http: reqwest::Client,
}

impl Hooked {
    pub async fn start(policy: DeliveryPolicy) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let creds = Credentials::generate();
        let config = ServerConfig::new("127.0.0.1:0".parse().unwrap(), dir.path(), creds.clone());
        let options = ServerOptions { webhooks: policy, ..ServerOptions::default() };
        let server = start_with(config, options).await.expect("server starts");
        let base = server.url();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Self { server, dir, creds, base, http }
    }

    pub fn token(&self, identity: &str) -> String {
        TokenIssuer {
            account_sid: &self.creds.account_sid,
            api_key_sid: &self.creds.api_key_sid,
            api_key_secret: &self.creds.api_key_secret,
            service_sid: None,
        }
        .mint(identity, now_unix(), 3600)
    }

    async fn send(rb: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = rb.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    fn admin(&self, method: reqwest::Method, path: &str, webhooks: bool) -> reqwest::RequestBuilder {
        let rb = self
            .http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.creds.account_sid, Some(&self.creds.auth_token));
        if webhooks { rb.header("X-Twilio-Webhook-Enabled", "true") } else { rb }
    }

    /// POSTs as the account; `webhooks` sends `X-Twilio-Webhook-Enabled: true`.
    pub async fn post(&self, path: &str, form: &[(&str, &str)], webhooks: bool) -> (u16, Value) {
        Self::send(self.admin(reqwest::Method::POST, path, webhooks).form(form)).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        Self::send(self.admin(reqwest::Method::GET, path, false)).await
    }

    pub async fn delete(&self, path: &str, webhooks: bool) -> (u16, Value) {
        Self::send(self.admin(reqwest::Method::DELETE, path, webhooks)).await
    }

    /// POSTs as a person (an access token: an SDK caller).
    pub async fn post_as(&self, identity: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let rb = self.http.post(format!("{}{path}", self.base)).header("X-Twilio-Token", self.token(identity));
        Self::send(rb.form(form)).await
    }

    /// Sets the service's post-event webhook.
    pub async fn service_hook(&self, url: &str, filters: &[&str]) {
        let mut form = vec![("PostWebhookUrl", url)];
        form.extend(filters.iter().map(|f| ("Filters", *f)));
        let service = self.server.service_sid().to_owned();
        let r = self.post(&format!("/v1/Services/{service}/Configuration/Webhooks"), &form, false).await;
        assert_eq!(r.0, 200, "{}", r.1);
    }

    /// Creates a conversation (with webhooks on) and returns its SID.
    pub async fn conversation(&self, name: &str) -> String {
        let r = self.post("/v1/Conversations", &[("FriendlyName", name)], true).await;
        assert_eq!(r.0, 201, "{}", r.1);
        r.1["sid"].as_str().unwrap().to_owned()
    }

    /// Posts a message as the account with webhooks on; returns its JSON.
    pub async fn say(&self, conversation: &str, body: &str) -> Value {
        let r = self.post(&format!("/v1/Conversations/{conversation}/Messages"), &[("Body", body)], true).await;
        assert_eq!(r.0, 201, "{}", r.1);
        r.1
    }
}
