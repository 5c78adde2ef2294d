//! The SDK's conversation, message and participant calls under
//! `/Client/v2/Conversations`, answered as REST answers them (plus the Sync
//! objects a new conversation is read through). JSON bodies are read as the
//! REST forms they stand for; the operations are REST's own.

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::sync_objects;
use super::{created, no_content, ok};
use crate::api::params::{ConversationParams, MessageParams, ParticipantParams};
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Path, SdkBody};
use crate::server::membership::{self, NewParticipant, ParticipantChange};
use crate::server::ops::conversations::{self as conversation_ops, ConversationChange};
use crate::server::ops::messages::{self as message_ops, MessageChange, NewMessage};
use crate::server::render::to_value;
use crate::server::store::participants;
use crate::server::store::rows::ConversationRow;
use crate::server::{lookup, rules};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Client/v2/Conversations", post(create))
        .route("/Client/v2/Conversations/{conversation}", get(fetch).post(update).delete(remove))
        .route("/Client/v2/Conversations/{conversation}/Messages", post(send))
        .route("/Client/v2/Conversations/{conversation}/Messages/{message}", post(edit).delete(delete_message))
        .route("/Client/v2/Conversations/{conversation}/Participants", post(add))
        .route(
            "/Client/v2/Conversations/{conversation}/Participants/{participant}",
            post(update_participant).delete(remove_participant),
        )
}

#[derive(Deserialize)]
struct ConversationPath {
    conversation: String,
}

#[derive(Deserialize)]
struct MessagePath {
    conversation: String,
    message: String,
}

#[derive(Deserialize)]
struct ParticipantPath {
    conversation: String,
    participant: String,
}

/// The REST conversation with its Sync objects and the caller's status in it;
/// its links are this API's (the SDK writes through them with JSON bodies).
fn conversation_json(ctx: &Ctx, c: &ConversationRow, joined: bool) -> Value {
    let mut v = to_value(&ctx.urls.conversation_json(c));
    let url = format!("{}/Client/v2/Conversations/{}", ctx.urls.base(), c.sid);
    v["links"] =
        json!({"self": url, "messages": format!("{url}/Messages"), "participants": format!("{url}/Participants")});
    v["url"] = json!(url);
    v["sync_objects"] = sync_objects(&c.sid);
    v["status"] = Value::from(if joined { "joined" } else { "notParticipating" });
    v
}

async fn create(ctx: Ctx, SdkBody(p, _): SdkBody<ConversationParams>) -> ApiResult<Response> {
    let change = ConversationChange::from_params(&p, false)?;
    let c = conversation_ops::create(&ctx, change, Vec::new()).await?;
    Ok(created(&conversation_json(&ctx, &c, ctx.identity().is_some())))
}

/// A look at a conversation (the SDK's `peekConversationBySid`), with the caller's status.
async fn fetch(ctx: Ctx, Path(path): Path<ConversationPath>) -> ApiResult<Response> {
    let (c, joined) = ctx
        .read(move |conn, caller, _| {
            let c = lookup::conversation(conn, &path.conversation)?;
            rules::may_fetch_conversation(conn, caller, &c)?;
            let joined = match caller.identity() {
                Some(me) => participants::get(conn, &c.sid, me)?.is_some(),
                None => false,
            };
            Ok((c, joined))
        })
        .await?;
    Ok(ok(&conversation_json(&ctx, &c, joined)))
}

async fn update(
    ctx: Ctx,
    Path(path): Path<ConversationPath>,
    SdkBody(p, empty): SdkBody<ConversationParams>,
) -> ApiResult<Response> {
    let change = ConversationChange::from_params(&p, empty.contains("UniqueName"))?;
    let c = conversation_ops::update(&ctx, path.conversation, change).await?;
    Ok(ok(&conversation_json(&ctx, &c, true)))
}

async fn remove(ctx: Ctx, Path(path): Path<ConversationPath>) -> ApiResult<Response> {
    conversation_ops::delete(&ctx, path.conversation).await?;
    Ok(no_content())
}

/// `{body, attributes, subject, media_sids}`; the SDK reads the new `index`
/// (the message itself arrives as a `list_item_added`). `X-Twilio-Mutation-Id`
/// is the SDK's idempotency key, so a retried send makes one message.
async fn send(
    ctx: Ctx,
    Path(path): Path<ConversationPath>,
    headers: HeaderMap,
    SdkBody(p, _): SdkBody<MessageParams>,
) -> ApiResult<Response> {
    let mutation = headers
        .get("x-twilio-mutation-id")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 256)
        .map(|k| format!("sdk:{k}"));
    let new = NewMessage::from_params(&p, mutation)?;
    let m = message_ops::create(&ctx, path.conversation, new).await?;
    Ok(created(&ctx.urls.message_json(&m)))
}

async fn edit(ctx: Ctx, Path(path): Path<MessagePath>, SdkBody(p, _): SdkBody<MessageParams>) -> ApiResult<Response> {
    let change = MessageChange::from_params(&p)?;
    let m = message_ops::update(&ctx, path.conversation, path.message, change).await?;
    Ok(ok(&ctx.urls.message_json(&m)))
}

async fn delete_message(ctx: Ctx, Path(path): Path<MessagePath>) -> ApiResult<Response> {
    message_ops::delete(&ctx, path.conversation, path.message).await?;
    Ok(no_content())
}

/// `{identity, attributes}` or `{messaging_binding}`. Joining a conversation
/// one is already in (the SDK's `join()` after `createConversation`) answers
/// with the participant one already is.
async fn add(
    ctx: Ctx,
    Path(path): Path<ConversationPath>,
    SdkBody(p, _): SdkBody<ParticipantParams>,
) -> ApiResult<Response> {
    if let (Some(me), Some(identity)) = (ctx.identity(), p.identity.as_deref())
        && me == identity
    {
        let (conversation, who) = (path.conversation.clone(), identity.to_owned());
        let existing = ctx
            .read(move |conn, _, urls| {
                let Some(c) = crate::server::store::conversations::get(conn, &conversation)? else { return Ok(None) };
                Ok(participants::get(conn, &c.sid, &who)?.map(|p| urls.participant_json(&p)))
            })
            .await?;
        if let Some(participant) = existing {
            return Ok(ok(&participant));
        }
    }
    let new = NewParticipant::from_params(&p)?;
    let row = membership::add(&ctx, path.conversation, new).await?;
    Ok(created(&ctx.urls.participant_json(&row)))
}

async fn update_participant(
    ctx: Ctx,
    Path(path): Path<ParticipantPath>,
    SdkBody(p, empty): SdkBody<ParticipantParams>,
) -> ApiResult<Response> {
    let change = ParticipantChange::from_params(&p, &empty)?;
    let row = membership::update(&ctx, path.conversation, path.participant, change).await?;
    Ok(ok(&ctx.urls.participant_json(&row)))
}

/// By participant SID or identity (the SDK sends either).
async fn remove_participant(ctx: Ctx, Path(path): Path<ParticipantPath>) -> ApiResult<Response> {
    if path.participant.is_empty() {
        return Err(ApiError::not_found("Participant"));
    }
    membership::remove(&ctx, path.conversation, path.participant).await?;
    Ok(no_content())
}
