//! `…/Messages/{MessageSid}/Receipts[/{Sid}]`: delivery receipts exist only
//! for SMS-style channels, which this server does not deliver to, so every
//! message's receipt list is empty (with Twilio's envelope) and fetches are 404.

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::ok;
use crate::api::params::ListQuery;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Path, Query};
use crate::server::paging::{self, PageRequest, Slice};
use crate::server::{lookup, rules};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Conversations/{conversation}/Messages/{message}/Receipts", get(list))
        .route("/Conversations/{conversation}/Messages/{message}/Receipts/{receipt}", get(fetch))
}

#[derive(Deserialize)]
pub struct MessagePath {
    conversation: String,
    message: String,
}

#[derive(Deserialize)]
pub struct ReceiptPath {
    receipt: String,
}

async fn list(ctx: Ctx, Path(path): Path<MessagePath>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let req = PageRequest::parse(&q, 50, 50, false)?;
    let (conversation_sid, message_sid) = ctx
        .read(move |conn, caller, _| {
            let c = lookup::conversation(conn, &path.conversation)?;
            rules::may_read_conversation(conn, caller, &c)?;
            let m = lookup::message(conn, &c, &path.message)?;
            Ok((c.sid, m.sid))
        })
        .await?;
    let url = format!("{}/{message_sid}/Receipts", ctx.urls.messages(&conversation_sid));
    let empty: Slice<serde_json::Value> = Slice { items: Vec::new(), has_prev: false, has_next: false };
    Ok(ok(&paging::envelope(&req, empty, &url, &[], "delivery_receipts")))
}

async fn fetch(_ctx: Ctx, Path(path): Path<ReceiptPath>) -> ApiError {
    ApiError::not_found(format!("Receipt {}", path.receipt))
}
