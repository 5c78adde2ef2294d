//! `/Conversations/{c}/Messages/{m}/Reactions[/{Name}]`: the caller's own
//! reaction added or taken back atomically (see `ops::reactions`).

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::{delete, post};
use serde::Deserialize;

use super::ok;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Form, Path};
use crate::server::ops::reactions as op;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Conversations/{conversation}/Messages/{message}/Reactions", post(add))
        .route("/Conversations/{conversation}/Messages/{message}/Reactions/{name}", delete(remove))
}

#[derive(Deserialize)]
pub struct MessagePath {
    conversation: String,
    message: String,
}

#[derive(Deserialize)]
pub struct ReactionPath {
    conversation: String,
    message: String,
    name: String,
}

#[derive(Deserialize)]
pub struct ReactionParams {
    #[serde(rename = "Reaction")]
    reaction: Option<String>,
}

/// 200 with the message (its attributes now holding the reaction).
async fn add(ctx: Ctx, Path(path): Path<MessagePath>, Form(p): Form<ReactionParams>) -> ApiResult<Response> {
    let name = p.reaction.ok_or_else(|| ApiError::missing("Reaction"))?;
    let m = op::react(&ctx, path.conversation, path.message, name, true).await?;
    Ok(ok(&ctx.urls.message_json(&m)))
}

/// 200 with the message, the caller's reaction gone.
async fn remove(ctx: Ctx, Path(path): Path<ReactionPath>) -> ApiResult<Response> {
    let m = op::react(&ctx, path.conversation, path.message, path.name, false).await?;
    Ok(ok(&ctx.urls.message_json(&m)))
}
