//! `GET /v1/Stream`: the live event WebSocket. Authenticated on upgrade like
//! REST (X-Twilio-Token, or Basic for an admin stream that sees everything).
//! Each socket drains its bounded hub queue; a queue that overflows is dropped
//! by the hub, which ends this loop and closes the socket.
//!
//! Client frames: `{"type":"typing","conversation_sid":…}` from a participant
//! starts (or renews) typing; the hub ends it after 5 s or at their next message.
//! A person's open socket counts them online (`presence`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;

use crate::api::stream::ClientFrame;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::Ctx;
use crate::server::hub::{Hub, Subscription};
use crate::server::render::{Urls, to_value};
use crate::server::store::participants;

/// Small socket buffers: tungstenite's 128 KiB default read buffer per socket
/// dominated memory at 1,000 streams (see DESIGN.md "Performance").
const READ_BUFFER: usize = 4 * 1024;
const WRITE_BUFFER: usize = 4 * 1024;
/// Client frames are tiny; anything big is not ours.
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;
const PING_EVERY: Duration = Duration::from_secs(30);

pub async fn upgrade(ctx: Ctx, ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>) -> ApiResult<Response> {
    let ws = ws.map_err(|e| ApiError::invalid("Upgrade", format!("/v1/Stream is a WebSocket: {}", e.body_text())))?;
    // Subscribe before answering 101: whatever happens once the client holds
    // an open stream is already queued for it. (If the upgrade then fails,
    // the dropped queue is noticed and removed on the next event.)
    let sub = ctx.state.hub.subscribe(ctx.caller.identity().map(str::to_owned));
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve(socket, ctx, sub)))
}

async fn serve(socket: WebSocket, ctx: Ctx, mut sub: Subscription) {
    let hub = ctx.state.hub.clone();
    // A person is online while this socket lives (an admin stream is no one).
    let _online = match &ctx.caller {
        Caller::Person(identity) => Some(ctx.state.presence.connect(identity)),
        _ => None,
    };
    let (mut tx, mut rx) = socket.split();
    // A ping now and then finds dead peers (and keeps proxies from idling us out).
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if tx.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            frame = sub.rx.recv() => match frame {
                Some(text) => {
                    if tx.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                None => {
                    // The hub dropped us: too slow, or the server is stopping.
                    let close = CloseFrame { code: 1013, reason: "queue overflow or shutdown; reconnect".into() };
                    let _ = tx.send(Message::Close(Some(close))).await;
                    break;
                }
            },
            incoming = rx.next() => match incoming {
                Some(Ok(Message::Text(text))) => on_client_frame(&ctx, text.as_str()).await,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    hub.unsubscribe(sub.id);
}

async fn on_client_frame(ctx: &Ctx, text: &str) {
    let Ok(ClientFrame::Typing { conversation_sid }) = serde_json::from_str::<ClientFrame>(text) else {
        tracing::debug!("ignoring an unknown stream frame");
        return;
    };
    start_typing(ctx, &conversation_sid).await;
}

/// The caller is typing in `conversation_sid` (a stream frame, or twilsock's
/// typing endpoint): the others are told unless they already know, and the
/// typing ends 5 s after the last call. Nothing happens for a non-participant.
pub async fn start_typing(ctx: &Ctx, conversation_sid: &str) {
    let Caller::Person(identity) = &ctx.caller else { return };
    let hub = &ctx.state.hub;
    // Renewals (a typist sends these every keystroke or so) cost no store read.
    if !hub.is_member(conversation_sid, identity) {
        return;
    }
    if hub.renew_typing(conversation_sid, identity) {
        ctx.state.store.share_typing(conversation_sid, identity, None).await;
        return;
    }
    let urls: Urls = ctx.urls.clone();
    let (conversation, who) = (conversation_sid.to_owned(), identity.clone());
    let participant = ctx
        .state
        .store
        .read(move |conn| {
            Ok(participants::get(conn, &conversation, &who)?.map(|p| to_value(&urls.participant_json(&p))))
        })
        .await;
    if let Ok(Some(json)) = participant {
        ctx.state.hub.typing(conversation_sid, identity, json.clone());
        ctx.state.store.share_typing(conversation_sid, identity, Some(json)).await;
    }
}

/// Ends expired typing every 250 ms until the server stops.
pub fn spawn_typing_ticker(hub: Arc<Hub>, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                _ = tick.tick() => hub.expire_typing(Instant::now()),
                _ = stop.changed() => break,
            }
        }
    });
}
