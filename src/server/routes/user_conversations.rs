//! `/Users/{u}/Conversations[/{c}]`: one user's view of their conversations
//! (unread count, read horizon, notification level). The user is a SID or an
//! identity, the conversation a SID or unique name. Writes are in `membership`.

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{no_content, ok};
use crate::api::params::{ListQuery, UserConversationParams};
use crate::server::AppState;
use crate::server::error::ApiResult;
use crate::server::extract::{Ctx, FormWithEmpty, Path, Query};
use crate::server::membership::{self, UserConversationChange};
use crate::server::paging::{self, PageRequest};
use crate::server::store::participants::{self, Who};
use crate::server::{lookup, rules};

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

async fn list(ctx: Ctx, Path(path): Path<UserPath>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let req = PageRequest::parse(&q, 50, 50, false)?;
    let page = ctx
        .read(move |conn, caller, urls| {
            let u = lookup::user(conn, &path.user)?;
            rules::may_act_for_user(caller, &u)?;
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
            let u = lookup::user(conn, &path.user)?;
            rules::may_act_for_user(caller, &u)?;
            let m = lookup::membership(conn, &u, &path.conversation)?;
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
    let change = UserConversationChange::from_params(&p, &empty)?;
    let (u, m) = membership::update_user_conversation(&ctx, path.user, path.conversation, change).await?;
    Ok(ok(&ctx.urls.user_conversation_json(&u.sid, &m)))
}

/// Leaving: the user's participant is removed from the conversation.
async fn remove(ctx: Ctx, Path(path): Path<UserConversationPath>) -> ApiResult<Response> {
    membership::leave_user_conversation(&ctx, path.user, path.conversation).await?;
    Ok(no_content())
}
