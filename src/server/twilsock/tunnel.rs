//! Tunnelled HTTP: a twilsock `message` is an HTTP request, run through the very
//! router that serves REST (same extractors, rules, roles, webhooks, events).
//!
//! The socket's access token stands in for the request's credentials (a
//! tunnelled `X-Twilio-Token` or `Authorization` is replaced, never trusted),
//! and its Host for the Host header, so links point back at this server.

use axum::Router;
use axum::body::Body;
use axum::http::{self, HeaderValue, Method};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use super::frame::Frame;
use crate::server::auth::TOKEN_HEADER;

/// The router tunnelled requests run through: the whole API but `/v3/wsconnect`.
#[derive(Clone)]
pub struct Api(pub Router);

/// Responses bigger than this are refused (a page of 100 messages is far smaller).
const MAX_RESPONSE: usize = 8 * 1024 * 1024;

/// One tunnelled request, as the client described it.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    pub path: String,
    /// The query, still percent-encoded as the client wrote it.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn from_frame(frame: &Frame) -> Result<Self, String> {
        let http = frame.header.get("http_request").and_then(Value::as_object).ok_or("http_request is missing")?;
        let text = |k: &str| http.get(k).and_then(Value::as_str);
        let method = text("method").unwrap_or("GET").to_ascii_uppercase();
        let method = Method::from_bytes(method.as_bytes()).map_err(|_| "http_request.method is not a method")?;
        let path = text("path").filter(|p| p.starts_with('/')).ok_or("http_request.path must start with /")?;
        let query = http.get("params").and_then(Value::as_object).map(query_string).unwrap_or_default();
        let mut headers: Vec<(String, String)> = http
            .get("headers")
            .and_then(Value::as_object)
            .map(|h| h.iter().filter_map(|(k, v)| Some((k.clone(), scalar(v)?))).collect())
            .unwrap_or_default();
        let content_type = frame.header.get("payload_type").and_then(Value::as_str);
        if let Some(ct) = content_type
            && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".into(), ct.to_owned()));
        }
        Ok(Self { method, path: path.to_owned(), query, headers, body: frame.payload.clone() })
    }

    pub fn is_subscriptions(&self) -> bool {
        self.method == Method::POST && self.path.trim_end_matches('/').ends_with("/v4/Subscriptions")
    }

    /// The body as JSON (`{}` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| json!({}))
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `{"a": "1", "b": ["2", "3"]}` → `a=1&b=2&b=3` (values already encoded).
fn query_string(params: &Map<String, Value>) -> String {
    let mut parts = Vec::new();
    for (k, v) in params {
        match v {
            Value::Array(vs) => parts.extend(vs.iter().filter_map(scalar).map(|v| format!("{k}={v}"))),
            v => parts.extend(scalar(v).map(|v| format!("{k}={v}"))),
        }
    }
    parts.join("&")
}

/// What a tunnelled request got: an HTTP status, headers and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// The `reply` frame: transport status 200, the HTTP status beside it.
    pub fn into_reply(self, id: &str) -> Frame {
        let reason = http::StatusCode::from_u16(self.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
        let content_type = self
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "application/json".into());
        let headers: Map<String, Value> = self.headers.into_iter().map(|(k, v)| (k, Value::from(v))).collect();
        Frame::new("reply", id)
            .set("status", json!({"code": 200, "status": "OK"}))
            .set("http_status", json!({"code": self.status, "status": reason}))
            .set("http_headers", Value::Object(headers))
            .body(&content_type, self.body)
    }
}

/// A reply for a request that could not be run at all (a malformed `message`).
pub fn error_reply(id: &str, code: u16, message: &str) -> Frame {
    let body = json!({"code": 20001, "message": message, "more_info": "https://www.twilio.com/docs/errors/20001", "status": code});
    Answer::json(code, &body).into_reply(id)
}

impl Api {
    /// Runs `request` as the holder of `token`, as if sent to `host`.
    pub async fn call(&self, request: Request, token: &str, host: Option<&str>) -> Answer {
        let uri =
            if request.query.is_empty() { request.path.clone() } else { format!("{}?{}", request.path, request.query) };
        let mut builder = http::Request::builder().method(request.method).uri(uri);
        for (k, v) in &request.headers {
            let skip =
                ["host", "authorization", TOKEN_HEADER, "content-length"].iter().any(|h| k.eq_ignore_ascii_case(h));
            if !skip && let Ok(v) = HeaderValue::from_str(v) {
                builder = builder.header(k.as_str(), v);
            }
        }
        if let Ok(t) = HeaderValue::from_str(token) {
            builder = builder.header(TOKEN_HEADER, t);
        }
        if let Some(h) = host.and_then(|h| HeaderValue::from_str(h).ok()) {
            builder = builder.header(http::header::HOST, h);
        }
        let Ok(req) = builder.body(Body::from(request.body)) else {
            return Answer::json(400, &json!({"code": 20001, "message": "Invalid tunnelled request", "status": 400}));
        };
        let Ok(response) = self.0.clone().oneshot(req).await;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter(|(k, _)| *k != http::header::CONTENT_LENGTH)
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        match axum::body::to_bytes(response.into_body(), MAX_RESPONSE).await {
            Ok(body) => Answer { status, headers, body: body.to_vec() },
            Err(_) => Answer::json(500, &json!({"code": 20500, "message": "Response too large", "status": 500})),
        }
    }
}
