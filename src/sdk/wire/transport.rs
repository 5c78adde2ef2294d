//! The two wires under the SDK: `Rest` (reqwest: form posts, JSON replies,
//! Twilio error bodies, 429 back-off) and `open_stream` (tokio-tungstenite on
//! `/v1/Stream`). Both authenticate with `X-Twilio-Token`; neither keeps state
//! beyond the current token, so the client and the sync task can share them.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::header::{HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, client::IntoClientRequest};

use crate::api::stream::{ClientFrame, ServerEvent};
use crate::api::{ErrorCode, TwilioError};
use crate::sdk::error::{Error, Result};

/// The header that carries an access token.
pub const TOKEN_HEADER: &str = "X-Twilio-Token";
/// How many times a request refused with 429 is tried in all.
const MAX_ATTEMPTS_ON_429: u32 = 8;
/// The longest wait honoured from a `Retry-After` header.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// Per-request timeout: a hung server is treated like a lost one.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A REST client for one server and one (replaceable) access token.
#[derive(Debug, Clone)]
pub struct Rest {
    http: reqwest::Client,
    /// For media bodies: no total deadline (a large file takes as long as it
    /// takes); `wire::media` guards against stalls instead.
    media_http: reqwest::Client,
    base: Url,
    token: Arc<RwLock<String>>,
}

impl Rest {
    /// `server_url` is the server's base, e.g. `http://127.0.0.1:8787`.
    pub fn new(server_url: &str, token: String) -> Result<Self> {
        let base = Url::parse(server_url).map_err(|e| Error::InvalidArgument(format!("server url: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::InvalidArgument(format!("server url must be http(s)://host[:port]: {server_url}")));
        }
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| Error::Transport(e.to_string()))?;
        let media_http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| Error::Transport(e.to_string()))?;
        Ok(Self { http, media_http, base, token: Arc::new(RwLock::new(token)) })
    }

    /// The server's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The current access token.
    pub fn token(&self) -> String {
        self.token.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the access token for every later request.
    pub fn set_token(&self, token: String) {
        *self.token.write().unwrap_or_else(|e| e.into_inner()) = token;
    }

    /// `base/v1/<segments…>`, each segment percent-encoded (identities and unique
    /// names may hold any character).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().expect("checked in new: base can be a base");
            path.pop_if_empty().push("v1").extend(segments);
        }
        url
    }

    /// A request for a media body (no total deadline), with the token.
    pub(super) fn media_request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.media_http.request(method, url).header(TOKEN_HEADER, self.token())
    }

    /// GET a JSON resource at `segments` with query parameters.
    pub async fn get<T: DeserializeOwned>(&self, segments: &[&str], query: &[(&str, String)]) -> Result<T> {
        let mut url = self.url(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        self.get_url(url).await
    }

    /// GET an absolute URL the server handed out (a page's `next_page_url`).
    pub async fn get_url<T: DeserializeOwned>(&self, url: Url) -> Result<T> {
        let resp = self.send(Method::GET, url, None, None).await?;
        decode(resp).await
    }

    /// POST a form to `segments`. `idempotency_key` makes a retried create land once.
    pub async fn post<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        form: &impl Serialize,
        idempotency_key: Option<&str>,
    ) -> Result<T> {
        let body = serde_html_form::to_string(form).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        let resp = self.send(Method::POST, self.url(segments), Some(body), idempotency_key).await?;
        decode(resp).await
    }

    /// DELETE the resource at `segments` (204 expected).
    pub async fn delete(&self, segments: &[&str]) -> Result<()> {
        self.send(Method::DELETE, self.url(segments), None, None).await.map(drop)
    }

    /// DELETE the resource at `segments`, decoding the reply (for deletes that
    /// answer with what remains, as the Reactions endpoint does).
    pub async fn delete_for<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<T> {
        decode(self.send(Method::DELETE, self.url(segments), None, None).await?).await
    }

    /// Sends one request, retrying while the server answers 429 (honouring
    /// `Retry-After`, bounded). Any other non-2xx becomes `Error::Twilio`.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<String>,
        key: Option<&str>,
    ) -> Result<reqwest::Response> {
        let mut attempt = 1;
        loop {
            let mut req = self.http.request(method.clone(), url.clone()).header(TOKEN_HEADER, self.token());
            if let Some(body) = &body {
                req = req.header("Content-Type", "application/x-www-form-urlencoded").body(body.clone());
            }
            if let Some(key) = key {
                req = req.header("Idempotency-Key", key);
            }
            let resp = req.send().await?;
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            if status == StatusCode::TOO_MANY_REQUESTS && attempt < MAX_ATTEMPTS_ON_429 {
                let wait = retry_after(resp.headers().get(RETRY_AFTER), attempt);
                tracing::debug!(%url, ?wait, attempt, "429: backing off");
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return Err(error_from(status, resp.text().await.unwrap_or_default()));
        }
    }
}

/// How long to wait before retrying a 429: the server's `Retry-After` seconds
/// when given (capped), else an exponential guess.
fn retry_after(header: Option<&HeaderValue>, attempt: u32) -> Duration {
    let given = header.and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
    let wait = match given {
        Some(secs) if secs.is_finite() && secs >= 0.0 => Duration::from_secs_f64(secs),
        _ => Duration::from_millis(200 << attempt.min(5)),
    };
    wait.min(MAX_RETRY_AFTER)
}

pub(super) async fn decode<T: DeserializeOwned>(resp: reqwest::Response) -> Result<T> {
    let bytes = resp.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Decode(format!("{e}: {}", String::from_utf8_lossy(&bytes))))
}

/// A non-2xx reply as an error: Twilio's body when it is one, else one built
/// from the status so callers can still match on it.
pub(super) fn error_from(status: StatusCode, body: String) -> Error {
    if let Ok(e) = serde_json::from_str::<TwilioError>(&body) {
        return Error::Twilio(e);
    }
    let code = match status.as_u16() {
        401 => ErrorCode::TokenInvalid,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        429 => ErrorCode::TooManyRequests,
        400..=499 => ErrorCode::InvalidParameter,
        503 => ErrorCode::Unavailable,
        _ => ErrorCode::Internal,
    };
    let mut e = TwilioError::new(code, format!("HTTP {status}: {body}"));
    e.status = status.as_u16();
    Error::Twilio(e)
}

/// One live `/v1/Stream` connection.
pub type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
/// The reading half of a stream.
pub type WsRead = futures_util::stream::SplitStream<WsStream>;
/// The writing half of a stream.
pub type WsWrite = futures_util::stream::SplitSink<WsStream, WsMessage>;

/// Opens `/v1/Stream` on the server behind `rest`, authenticated with its
/// current token. A refused upgrade (401, 403) comes back as `Error::Twilio`.
pub async fn open_stream(rest: &Rest) -> Result<(WsWrite, WsRead)> {
    let mut url = rest.url(&["Stream"]);
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme).map_err(|()| Error::InvalidArgument("cannot make a ws url".into()))?;
    let mut request = url.as_str().into_client_request().map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let token = HeaderValue::from_str(&rest.token()).map_err(|e| Error::InvalidArgument(format!("token: {e}")))?;
    request.headers_mut().insert(TOKEN_HEADER, token);
    // One stream per client: modest buffers (tungstenite's default read buffer is 128 KiB).
    let config = tungstenite::protocol::WebSocketConfig::default().read_buffer_size(16 * 1024).write_buffer_size(0);
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    match tokio::time::timeout(Duration::from_secs(10), connect).await {
        Err(_) => Err(Error::Transport("stream connect timed out".into())),
        Ok(Ok((ws, _))) => Ok(ws.split()),
        Ok(Err(tungstenite::Error::Http(resp))) => {
            let body = resp.body().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
            let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            Err(error_from(status, body))
        }
        Ok(Err(e)) => Err(Error::Transport(e.to_string())),
    }
}

/// How long a stream may stay silent before it is presumed dead. The server
/// pings every 30 s, so this is two missed pings and some slack.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(75);
/// How long `CheckConnection`'s ping may wait for its pong.
pub const PONG_WAIT: Duration = Duration::from_secs(5);

/// What reading the stream produced.
#[derive(Debug)]
pub enum StreamItem {
    Event(ServerEvent),
    /// A ping or pong: the peer is alive (tungstenite answers pings itself).
    Heartbeat,
    /// The connection ended (closed, reset, or a protocol error).
    Closed(String),
}

/// Reads the next event frame or heartbeat, skipping frames we cannot parse
/// (logged: a newer server may send events this SDK does not know).
pub async fn next_event(ws: &mut WsRead) -> StreamItem {
    loop {
        match ws.next().await {
            None => return StreamItem::Closed("stream ended".into()),
            Some(Err(e)) => return StreamItem::Closed(e.to_string()),
            Some(Ok(WsMessage::Text(text))) => match serde_json::from_str::<ServerEvent>(&text) {
                Ok(ev) => return StreamItem::Event(ev),
                Err(e) => tracing::debug!(%e, frame = %text.as_str(), "skipping unknown stream frame"),
            },
            Some(Ok(WsMessage::Close(frame))) => {
                return StreamItem::Closed(
                    frame.map(|f| format!("closed: {} {}", f.code, f.reason)).unwrap_or_default(),
                );
            }
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => return StreamItem::Heartbeat,
            Some(Ok(_)) => {}
        }
    }
}

/// Sends a client frame (typing).
pub async fn send_frame(ws: &mut WsWrite, frame: &ClientFrame) -> Result<()> {
    let text = serde_json::to_string(frame).map_err(|e| Error::Decode(e.to_string()))?;
    ws.send(WsMessage::text(text)).await.map_err(|e| Error::Transport(e.to_string()))
}

/// Sends a ping: a write to a dead peer fails, which is how `CheckConnection` notices.
pub async fn ping(ws: &mut WsWrite) -> Result<()> {
    ws.send(WsMessage::Ping(Vec::new().into())).await.map_err(|e| Error::Transport(e.to_string()))
}

#[cfg(test)]
mod tests {
    //! The 429 back-off, against a real HTTP listener that throttles (our server
    //! does not rate-limit, so this is the one place the path is exercised).

    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    use super::*;

    async fn throttling_server(refusals: u32, seen: Arc<AtomicU32>) -> String {
        let app = axum::Router::new().route(
            "/v1/Things",
            post(move |headers: HeaderMap| {
                let seen = seen.clone();
                async move {
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(headers.get("Idempotency-Key").unwrap(), "k1", "the key travels with every retry");
                    if n < refusals {
                        let body =
                            serde_json::to_string(&TwilioError::new(ErrorCode::TooManyRequests, "slow down")).unwrap();
                        (StatusCode::TOO_MANY_REQUESTS, [("Retry-After", "0.05")], body)
                    } else {
                        (StatusCode::CREATED, [("Retry-After", "0")], r#"{"ok": true}"#.to_owned())
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    #[tokio::test]
    async fn a_429_is_retried_after_retry_after_with_the_same_key() {
        let seen = Arc::new(AtomicU32::new(0));
        let rest = Rest::new(&throttling_server(2, seen.clone()).await, "t".into()).unwrap();
        let reply: serde_json::Value = rest.post(&["Things"], &[("A", "1")], Some("k1")).await.unwrap();
        assert_eq!(reply["ok"], true);
        assert_eq!(seen.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn persistent_429s_give_up_with_twilios_error() {
        let seen = Arc::new(AtomicU32::new(0));
        let rest = Rest::new(&throttling_server(u32::MAX, seen.clone()).await, "t".into()).unwrap();
        let err = rest.post::<serde_json::Value>(&["Things"], &[("A", "1")], Some("k1")).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (Some(429), Some(20429)));
        assert_eq!(seen.load(Ordering::SeqCst), MAX_ATTEMPTS_ON_429);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        assert_eq!(retry_after(Some(&h("2")), 1), Duration::from_secs(2));
        assert_eq!(retry_after(Some(&h("3600")), 1), MAX_RETRY_AFTER);
        assert_eq!(retry_after(Some(&h("soon")), 1), Duration::from_millis(400));
        assert_eq!(retry_after(None, 3), Duration::from_millis(1600));
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        let rest = Rest::new("http://h:1/", "t".into()).unwrap();
        assert_eq!(rest.url(&["Users", "a b/c?"]).as_str(), "http://h:1/v1/Users/a%20b%2Fc%3F");
    }
}
