//! `/Conversations/{c}/Messages[/{Sid}]`. The work is in `ops::messages`
//! (authorship, `Idempotency-Key`); who may edit and delete is in `rules`.

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{created, no_content, ok};
use crate::api::params::{ListQuery, MessageParams};
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Form, Path, Query};
use crate::server::ops::messages::{self as op, MessageChange, NewMessage};
use crate::server::paging::{self, PageRequest};
use crate::server::store::messages;
use crate::server::{lookup, rules};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Conversations/{conversation}/Messages", get(list).post(create))
        .route("/Conversations/{conversation}/Messages/{message}", get(fetch).post(update).delete(remove))
}

#[derive(Deserialize)]
pub struct ConversationPath {
    conversation: String,
}

#[derive(Deserialize)]
pub struct MessagePath {
    conversation: String,
    message: String,
}

const IDEMPOTENCY_HEADER: &str = "idempotency-key";

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(v) = headers.get(IDEMPOTENCY_HEADER) else { return Ok(None) };
    let key = v
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 256)
        .ok_or_else(|| ApiError::invalid("Idempotency-Key", "must be 1 to 256 visible characters"))?;
    Ok(Some(key.to_owned()))
}

async fn create(
    ctx: Ctx,
    Path(path): Path<ConversationPath>,
    headers: HeaderMap,
    Form(p): Form<MessageParams>,
) -> ApiResult<Response> {
    let new = NewMessage::from_params(&p, idempotency_key(&headers)?)?;
    let m = op::create(&ctx, path.conversation, new).await?;
    Ok(created(&ctx.urls.message_json(&m)))
}

async fn list(ctx: Ctx, Path(path): Path<ConversationPath>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let desc = match q.order.as_deref() {
        None | Some("") | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(ApiError::invalid("Order", "must be asc or desc")),
    };
    let req = PageRequest::parse(&q, 50, 100, desc)?;
    let filters: Vec<(&str, String)> = q.order.iter().filter(|o| !o.is_empty()).map(|o| ("Order", o.clone())).collect();
    let page = ctx
        .read(move |conn, caller, urls| {
            let c = lookup::conversation(conn, &path.conversation)?;
            rules::may_read_conversation(conn, caller, &c)?;
            let slice = paging::fetch(&req, |w| messages::scan(conn, &c.sid, w))?;
            Ok(paging::envelope(&req, slice, &urls.messages(&c.sid), &filters, "messages")
                .map(|m| urls.message_json(m)))
        })
        .await?;
    Ok(ok(&page))
}

async fn fetch(ctx: Ctx, Path(path): Path<MessagePath>) -> ApiResult<Response> {
    let body = ctx
        .read(move |conn, caller, urls| {
            let c = lookup::conversation(conn, &path.conversation)?;
            rules::may_read_conversation(conn, caller, &c)?;
            Ok(urls.message_json(&lookup::message(conn, &c, &path.message)?))
        })
        .await?;
    Ok(ok(&body))
}

async fn update(ctx: Ctx, Path(path): Path<MessagePath>, Form(p): Form<MessageParams>) -> ApiResult<Response> {
    let change = MessageChange::from_params(&p)?;
    let m = op::update(&ctx, path.conversation, path.message, change).await?;
    Ok(ok(&ctx.urls.message_json(&m)))
}

async fn remove(ctx: Ctx, Path(path): Path<MessagePath>) -> ApiResult<Response> {
    op::delete(&ctx, path.conversation, path.message).await?;
    Ok(no_content())
}
