//! The client API of Twilio's Conversations SDK, reached through twilsock:
//! `/Client/v2/Configuration` (where everything is), the person's conversations
//! (`/Client/v2/Me/Conversations`), users and typing. The SDK's conversation,
//! message and participant writes are in `client_conversations`.
//!
//! Writes take the SDK's JSON bodies read as the REST forms they stand for
//! (`SdkBody`) and call the very operations REST calls: same rules, roles,
//! webhooks and events.

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ok;
use crate::api::params::{ListQuery, UserConversationParams, UserParams};
use crate::api::resources::UserConversation;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Form, Path, Query, SdkBody};
use crate::server::ops::users::{self as user_ops, UserChange};
use crate::server::paging::{self, PageRequest};
use crate::server::render::to_value;
use crate::server::store::participants::{self, Who};
use crate::server::store::{configuration, users};
use crate::server::sync::{Object, encode};
use crate::server::{lookup, membership, presence, rules, stream};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Client/v2/Configuration", get(configuration))
        .route("/Client/v2/Me/Conversations", get(my_conversations))
        .route("/Client/v2/Me/Conversations/{conversation}", get(my_conversation).post(update_my_conversation))
        .route("/Client/v2/Users/{user}", get(user).post(update_user))
        .route("/Client/v2/Typing", post(typing))
}

/// The most attachments one message takes (as REST's `MediaSid`).
const MEDIA_PER_MESSAGE: u64 = 10;

fn me(ctx: &Ctx) -> ApiResult<String> {
    ctx.identity().map(str::to_owned).ok_or_else(|| ApiError::forbidden("The client API is for access-token holders"))
}

/// Where the SDK finds everything: links back to this server, and the person's Sync objects.
async fn configuration(ctx: Ctx) -> ApiResult<Response> {
    let identity = me(&ctx)?;
    let service = ctx.urls.service_sid.clone();
    let reachability = ctx
        .read(move |conn, _, _| Ok(configuration::service(conn, &service)?.is_some_and(|c| c.reachability_enabled)))
        .await?;
    let base = ctx.urls.base().to_owned();
    let client = format!("{base}/Client/v2");
    let media = format!("{base}/v1/Services/{}", ctx.urls.service_sid);
    let max_mb = ctx.state.media.max_bytes / (1024 * 1024);
    Ok(ok(&json!({
        "identity": identity,
        "links": {
            "my_conversations": format!("{client}/Me/Conversations"),
            "conversations": format!("{client}/Conversations"),
            "users": format!("{client}/Users"),
            "current_user": format!("{client}/Users/{}", encode(&identity)),
            "typing": format!("{client}/Typing"),
            "media_service": format!("{media}/Media"),
            "media_set_service": format!("{media}/MediaSet"),
            "messages_receipts": format!("{client}/Conversations/%s/Messages/%s/Receipts"),
        },
        "options": {
            "reachability_enabled": reachability,
            "user_infos_to_subscribe": 100,
            "http_cache_interval": "PT5S",
            "consumption_report_interval": "PT5S",
            "media_attachments_count_limit": MEDIA_PER_MESSAGE,
            "media_attachment_size_limit_in_mb": max_mb,
            "media_attachments_total_size_limit_in_mb": max_mb * MEDIA_PER_MESSAGE,
            "email_histories_allowed_mime_types": [],
            "email_bodies_allowed_mime_types": [],
        },
        "sync_objects": {
            "my_user_info": Object::UserInfo(identity.clone()).name(),
            "my_conversations": Object::MyConversations(identity.clone()).name(),
        },
    })))
}

/// The Sync objects of a conversation, as the SDK's resources name them.
pub fn sync_objects(conversation_sid: &str) -> Value {
    json!({
        "conversation": Object::Conversation(conversation_sid.to_owned()).name(),
        "messages": Object::Messages(conversation_sid.to_owned()).name(),
        "participants": Object::Roster(conversation_sid.to_owned()).name(),
    })
}

/// A membership as the SDK reads it: the REST user conversation, its status and Sync objects.
fn my_conversation_json(uc: &UserConversation) -> Value {
    let mut v = to_value(uc);
    v["status"] = json!("joined");
    v["sync_objects"] = sync_objects(&uc.conversation_sid);
    v
}

/// The person's conversations, paged by `PageToken` (`meta.next_token`).
async fn my_conversations(ctx: Ctx, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let identity = me(&ctx)?;
    let req = PageRequest::parse(&q, 50, 100, false)?;
    let body = ctx
        .read(move |conn, _, urls| {
            let u = lookup::user(conn, &identity)?;
            let slice = paging::fetch(&req, |w| participants::memberships(conn, &Who::Identity(identity.clone()), w))?;
            let next = if slice.has_next { slice.items.last().map(|(k, _)| format!("PA{k}")) } else { None };
            let list: Vec<Value> = slice
                .items
                .iter()
                .map(|(_, m)| my_conversation_json(&urls.user_conversation_json(&u.sid, m)))
                .collect();
            Ok(json!({"conversations": list, "meta": {"next_token": next, "page_size": req.size}}))
        })
        .await?;
    Ok(ok(&body))
}

#[derive(Deserialize)]
struct ConversationPath {
    conversation: String,
}

async fn my_conversation(ctx: Ctx, Path(path): Path<ConversationPath>) -> ApiResult<Response> {
    let identity = me(&ctx)?;
    let body = ctx
        .read(move |conn, _, urls| {
            let u = lookup::user(conn, &identity)?;
            let m = lookup::membership(conn, &u, &path.conversation)?;
            Ok(my_conversation_json(&urls.user_conversation_json(&u.sid, &m)))
        })
        .await?;
    Ok(ok(&body))
}

/// `{last_read_message_index}` (null: clear) or `{notification_level}`: as
/// `POST /v1/Users/{me}/Conversations/{c}`; answers with the unread count.
async fn update_my_conversation(
    ctx: Ctx,
    Path(path): Path<ConversationPath>,
    SdkBody(p, empty): SdkBody<UserConversationParams>,
) -> ApiResult<Response> {
    let identity = me(&ctx)?;
    let change = membership::UserConversationChange::from_params(&p, &empty)?;
    let (u, m) = membership::update_user_conversation(&ctx, identity, path.conversation, change).await?;
    Ok(ok(&my_conversation_json(&ctx.urls.user_conversation_json(&u.sid, &m))))
}

#[derive(Deserialize)]
struct UserPath {
    user: String,
}

/// A user (someone the person may see) and the name of their Sync map.
async fn user(ctx: Ctx, Path(path): Path<UserPath>) -> ApiResult<Response> {
    let body = ctx
        .read(move |conn, caller, urls| {
            let u = users::get(conn, &path.user)?.ok_or_else(|| ApiError::not_found(format!("User {}", path.user)))?;
            rules::may_see_user(conn, caller, &u)?;
            let mut v = to_value(&presence::user_json(conn, urls, &u)?);
            v["sync_objects"] = json!({"user_info_map": Object::UserInfo(u.identity.clone()).name()});
            Ok(v)
        })
        .await?;
    Ok(ok(&body))
}

/// `{friendly_name}` or `{attributes}`: as `POST /v1/Users/{user}`.
async fn update_user(ctx: Ctx, Path(path): Path<UserPath>, SdkBody(p, _): SdkBody<UserParams>) -> ApiResult<Response> {
    Ok(ok(&user_ops::update(&ctx, path.user, UserChange::from_params(&p)?).await?))
}

#[derive(Deserialize)]
struct TypingForm {
    #[serde(rename = "ChannelSid")]
    channel_sid: String,
}

/// `ChannelSid=CH…`: the person is typing there (as a `/v1/Stream` typing frame).
async fn typing(ctx: Ctx, Form(f): Form<TypingForm>) -> ApiResult<Response> {
    stream::start_typing(&ctx, &f.channel_sid).await;
    Ok(ok(&json!({"typing_timeout": crate::api::stream::TYPING_TIMEOUT_SECS})))
}
