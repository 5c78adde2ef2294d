//! `/Users/{u}/Conversations[/{c}]`: one user's view of their conversations
//! (unread count, read horizon, notification level). The user is a SID or an
//! identity, the conversation a SID or unique name. A person reaches only their own.

use std::sync::Arc;

use crate::server::store::Connection;
use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::participants::{ReadHorizon, leave, updated_effects};
use super::users::user;
use super::{conversation, no_content, ok};
use crate::api::error::ErrorCode;
use crate::api::params::{ListQuery, UserConversationParams};
use crate::api::resources::NotificationLevel;
use crate::api::time::now_unix;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, FormWithEmpty, Path, Query};
use crate::server::paging::{self, PageRequest};
use crate::server::store::participants::{self, Who};
use crate::server::store::rows::{MembershipRow, UserRow};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Users/{user}/Conversations", get(list))
        .route("/Users/{user}/Conversations/{conversation}", get(fetch).post(update).delete(remove))
}

#[derive(Deserialize)]
pub struct UserPath {
    user: String,
}

#[derive(Deserialize)]
pub struct UserConversationPath {
    user: String,
    conversation: String,
}

/// The user, if the caller may act for them.
fn own_user(conn: &Connection, caller: &Caller, key: &str) -> ApiResult<UserRow> {
    let u = user(conn, key)?;
    match caller {
        Caller::Person(me) if *me != u.identity => {
            Err(ApiError::forbidden("A user may only see their own user conversations"))
        }
        _ => Ok(u),
    }
}

fn membership(conn: &Connection, u: &UserRow, key: &str) -> ApiResult<MembershipRow> {
    let c = conversation(conn, key)?;
    participants::membership(conn, &u.identity, &c.sid)?.ok_or_else(|| {
        ApiError::new(ErrorCode::NotFound, format!("User {} is not a participant of conversation {key}", u.identity))
    })
}

async fn list(ctx: Ctx, Path(path): Path<UserPath>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let req = PageRequest::parse(&q, 50, 50, false)?;
    let page = ctx
        .read(move |conn, caller, urls| {
            let u = own_user(conn, caller, &path.user)?;
            let who = Who::Identity(u.identity.clone());
            let slice = paging::fetch(&req, |w| participants::memberships(conn, &who, w))?;
            Ok(paging::envelope(&req, slice, &urls.user_conversations(&u.sid), &[], "conversations")
                .map(|m| urls.user_conversation_json(&u.sid, m)))
        })
        .await?;
    Ok(ok(&page))
}

async fn fetch(ctx: Ctx, Path(path): Path<UserConversationPath>) -> ApiResult<Response> {
    let body = ctx
        .read(move |conn, caller, urls| {
            let u = own_user(conn, caller, &path.user)?;
            let m = membership(conn, &u, &path.conversation)?;
            Ok(urls.user_conversation_json(&u.sid, &m))
        })
        .await?;
    Ok(ok(&body))
}

async fn update(
    ctx: Ctx,
    Path(path): Path<UserConversationPath>,
    FormWithEmpty(p, empty): FormWithEmpty<UserConversationParams>,
) -> ApiResult<Response> {
    let level = p
        .notification_level
        .as_deref()
        .map(|l| {
            NotificationLevel::parse(l)
                .ok_or_else(|| ApiError::invalid("NotificationLevel", "must be default or muted"))
        })
        .transpose()?;
    let horizon = ReadHorizon::parse(&p.last_read_message_index, &p.last_read_timestamp, &empty)?;
    let body = ctx
        .write(move |conn, caller, urls| {
            let u = own_user(conn, caller, &path.user)?;
            let mut m = membership(conn, &u, &path.conversation)?;
            let row = &mut m.participant;
            if let Some(l) = level {
                row.notification_level = l.as_str().to_owned();
            }
            horizon.apply(row);
            row.date_updated = now_unix();
            participants::update(conn, row)?;
            m.unread = participants::unread(conn, &m.participant)?;
            let effects = updated_effects(conn, urls, &m.participant)?;
            Ok((urls.user_conversation_json(&u.sid, &m), effects))
        })
        .await?;
    Ok(ok(&body))
}

/// Leaving: the user's participant is removed from the conversation.
async fn remove(ctx: Ctx, Path(path): Path<UserConversationPath>) -> ApiResult<Response> {
    ctx.write(move |conn, caller, urls| {
        let u = own_user(conn, caller, &path.user)?;
        let m = membership(conn, &u, &path.conversation)?;
        Ok(((), leave(conn, urls, &m.conversation, &m.participant)?))
    })
    .await?;
    Ok(no_content())
}
