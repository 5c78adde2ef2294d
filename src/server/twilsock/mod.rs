//! `GET /v3/wsconnect`: twilsock, the one WebSocket of Twilio's Conversations JS SDK.
//! It carries tunnelled HTTP (answered by our own router) and pushes Sync events.
//!
//! A connection: the client's `init` carries its access token (checked as REST
//! checks it); then `message` frames are HTTP requests run through the same
//! router REST uses (`tunnel`), except `/v4/Subscriptions`, which this socket
//! answers itself (`subscriptions`); `update` renews the token. Hub events for
//! the person (the `/v1/Stream` events) become Sync events for the objects
//! they subscribed to (`server::sync`). Before the token expires the client is
//! told (`client_update`), at expiry the socket closes (410).

mod frame;
mod subscriptions;
mod tunnel;

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::http::header::HOST;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::api::time::now_unix;
use crate::api::token;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::unscoped_urls;
use crate::server::hub::Subscription;
use crate::server::presence::Online;
use crate::server::render::Urls;
pub use frame::Frame;
use subscriptions::Subscriptions;
pub use tunnel::Api;

/// Frames are small JSON; media goes over HTTP, never through the socket.
const MAX_CLIENT_MESSAGE: usize = 1024 * 1024;
const PING_EVERY: Duration = Duration::from_secs(30);
/// How long before expiry the client is asked for a new token.
const WARN_BEFORE_EXPIRY_SECS: i64 = 180;
/// Replies and pushes waiting for the socket; tunnelled requests wait beyond it.
const OUT_FRAMES: usize = 256;
/// Tunnelled requests of one socket running at once; beyond it the socket is
/// not read until one finishes (the SDK sends a few dozen at start, then few).
const IN_FLIGHT: usize = 64;

pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let ws =
        ws.map_err(|e| ApiError::invalid("Upgrade", format!("/v3/wsconnect is a WebSocket: {}", e.body_text())))?;
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).map(str::to_owned);
    let urls = unscoped_urls(&state, &headers);
    Ok(ws.max_message_size(MAX_CLIENT_MESSAGE).on_upgrade(move |socket| serve(socket, state, api, host, urls)))
}

/// The person behind a connection once `init` succeeded.
struct Session {
    identity: String,
    token: String,
    expires: i64,
    warned: bool,
    hub: Subscription,
    _online: Online,
    subscriptions: Subscriptions,
}

/// A twilsock status: `{code, status[, errorCode]}`.
fn status(code: u16, text: &str, error_code: Option<u32>) -> Value {
    let mut s = json!({"code": code, "status": text});
    if let Some(e) = error_code {
        s["errorCode"] = json!(e);
    }
    s
}

fn reply(id: &str, code: u16, text: &str) -> Frame {
    Frame::new("reply", id).set("status", status(code, text, None))
}

fn close_frame(code: u16, text: &str) -> Frame {
    Frame::new("close", &format!("TM{}", uuid::Uuid::new_v4().simple())).set("status", status(code, text, None))
}

/// Checks a token as REST does: the identity, its expiry, or the Twilio error.
fn verify(state: &AppState, token: &str) -> Result<(String, i64), ApiError> {
    let c = &state.credentials;
    let now = now_unix();
    token::verify_until(token, &c.account_sid, &c.api_key_sid, &c.api_key_secret, now).map_err(ApiError)
}

fn refusal(id: &str, e: &ApiError) -> Frame {
    let code = if e.0.status == 401 { 401 } else { 403 };
    Frame::new("reply", id).set("status", status(code, &e.0.message, Some(e.0.code)))
}

async fn serve(socket: WebSocket, state: Arc<AppState>, api: Api, host: Option<String>, urls: Urls) {
    let (mut ws_tx, mut ws_rx) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Frame>(OUT_FRAMES);
    let mut session: Option<Session> = None;
    let in_flight = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    loop {
        let hub_frame = async {
            match session.as_mut() {
                Some(s) => s.hub.rx.recv().await,
                None => std::future::pending().await,
            }
        };
        let outgoing: Option<Frame> = tokio::select! {
            _ = ping.tick() => {
                if ws_tx.send(Message::Ping(Default::default())).await.is_err() { break }
                None
            }
            _ = clock.tick() => match session.as_mut() {
                Some(s) if now_unix() >= s.expires => {
                    let _ = ws_tx.send(Message::Binary(close_frame(410, "Token expired").encode().into())).await;
                    break;
                }
                Some(s) if !s.warned && now_unix() >= s.expires - WARN_BEFORE_EXPIRY_SECS => {
                    s.warned = true;
                    let id = format!("TM{}", uuid::Uuid::new_v4().simple());
                    Some(Frame::new("client_update", &id).set("client_update_type", json!("token_about_to_expire")))
                }
                _ => None,
            },
            frame = out_rx.recv() => frame,
            event = hub_frame => match (event, session.as_mut()) {
                (Some(text), Some(s)) => {
                    for f in s.subscriptions.on_hub_event(text.as_str()) {
                        if ws_tx.send(Message::Binary(f.encode().into())).await.is_err() { break }
                    }
                    None
                }
                _ => {
                    // The hub dropped us (too slow, or shutting down): the SDK reconnects and replays.
                    let _ = ws_tx.send(Message::Binary(close_frame(503, "Queue overflow or shutdown; reconnect").encode().into())).await;
                    break;
                }
            },
            incoming = ws_rx.next() => match incoming {
                Some(Ok(Message::Binary(bytes))) => match Frame::decode(&bytes) {
                    Ok(frame) => match on_frame(frame, &state, &api, (host.as_deref(), &urls), &mut session, (&out_tx, &in_flight)).await {
                        Step::Send(f) => Some(f),
                        Step::SendAll(frames) => {
                            for f in frames {
                                if ws_tx.send(Message::Binary(f.encode().into())).await.is_err() { break }
                            }
                            None
                        }
                        Step::Nothing => None,
                        Step::Close(f) => {
                            let _ = ws_tx.send(Message::Binary(f.encode().into())).await;
                            break;
                        }
                    },
                    Err(e) => {
                        let _ = ws_tx.send(Message::Binary(close_frame(406, &e.to_string()).encode().into())).await;
                        break;
                    }
                },
                Some(Ok(Message::Text(_))) => {
                    let _ = ws_tx.send(Message::Binary(close_frame(406, "twilsock frames are binary").encode().into())).await;
                    break;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => None,
            },
        };
        if let Some(f) = outgoing
            && ws_tx.send(Message::Binary(f.encode().into())).await.is_err()
        {
            break;
        }
    }
    if let Some(s) = session {
        state.hub.unsubscribe(s.hub.id);
    }
    let _ = ws_tx.close().await;
}

enum Step {
    Send(Frame),
    /// Frames in this order (an answer, then what follows it).
    SendAll(Vec<Frame>),
    Nothing,
    Close(Frame),
}

async fn on_frame(
    frame: Frame,
    state: &Arc<AppState>,
    api: &Api,
    (host, urls): (Option<&str>, &Urls),
    session: &mut Option<Session>,
    (out, in_flight): (&mpsc::Sender<Frame>, &Arc<tokio::sync::Semaphore>),
) -> Step {
    let id = frame.id().unwrap_or_default().to_owned();
    match (frame.method(), session.as_mut()) {
        ("init", None) => {
            let token = frame.header.get("token").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
            match verify(state, &token) {
                Ok((identity, expires)) => {
                    if let Err(e) = state.ensure_user(&identity).await {
                        return Step::Close(refusal(&id, &e));
                    }
                    // Subscribe before answering: nothing after `init` is missed.
                    let hub = state.hub.subscribe(Some(identity.clone()));
                    let online = state.presence.connect(&identity);
                    let subscriptions = Subscriptions::new(identity.clone(), urls.clone());
                    *session =
                        Some(Session { identity, token, expires, warned: false, hub, _online: online, subscriptions });
                    let continuation = format!("CT{}", uuid::Uuid::new_v4().simple());
                    Step::Send(
                        reply(&id, 200, "OK")
                            .set("continuation_token", json!(continuation))
                            .set("capabilities", json!([])),
                    )
                }
                Err(e) => Step::Close(refusal(&id, &e)),
            }
        }
        ("init", Some(_)) => Step::Send(reply(&id, 400, "Already initialized")),
        ("update", Some(s)) => {
            let token = frame.header.get("token").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
            match verify(state, &token) {
                Ok((identity, expires)) if identity == s.identity => {
                    (s.token, s.expires, s.warned) = (token, expires, false);
                    Step::Send(reply(&id, 200, "OK"))
                }
                Ok(_) => Step::Send(
                    Frame::new("reply", &id).set("status", status(403, "The token is for another identity", None)),
                ),
                Err(e) => Step::Send(refusal(&id, &e)),
            }
        }
        ("message", Some(s)) => {
            let request = match tunnel::Request::from_frame(&frame) {
                Ok(r) => r,
                Err(e) => return Step::Send(tunnel::error_reply(&id, 400, &e)),
            };
            if request.is_subscriptions() {
                let (answer, then) = s.subscriptions.on_request(&request, state).await;
                let mut frames = vec![answer.into_reply(&id)];
                frames.extend(then);
                return Step::SendAll(frames);
            }
            let (api, out, token, host) = (api.clone(), out.clone(), s.token.clone(), host.map(str::to_owned));
            let Ok(permit) = in_flight.clone().acquire_owned().await else { return Step::Nothing };
            tokio::spawn(async move {
                let answer = api.call(request, &token, host.as_deref()).await;
                drop(permit);
                let _ = out.send(answer.into_reply(&id)).await;
            });
            Step::Nothing
        }
        ("close", _) => Step::Close(close_frame(200, "Closed by client")),
        ("reply", _) | ("ping", _) => Step::Nothing,
        (_, None) => Step::Close(
            Frame::new("reply", &id).set("status", status(401, "Send init with an access token first", Some(20101))),
        ),
        (other, Some(_)) => {
            tracing::debug!(method = other, "ignoring an unknown twilsock method");
            Step::Send(reply(&id, 400, "Unknown method"))
        }
    }
}
