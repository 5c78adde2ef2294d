//! `GET /v1/Services[/{Sid}]`: the server's one chat service (creating or
//! deleting services is not offered; everything lives in the default one).

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ok;
use crate::api::params::ListQuery;
use crate::api::time::format_unix;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Path, Query};
use crate::server::paging::{self, PageRequest, Slice};

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/Services", get(list)).route("/Services/{service}", get(fetch))
}

#[derive(Deserialize)]
pub struct ServicePath {
    service: String,
}

fn service_json(ctx: &Ctx) -> Value {
    let store = &ctx.state.store;
    let base = ctx.urls.prefix.trim_end_matches(&format!("/Services/{}", store.service_sid)).to_owned();
    let url = format!("{base}/Services/{}", store.service_sid);
    let link = |p: &str| format!("{url}/{p}");
    json!({
        "sid": store.service_sid,
        "account_sid": ctx.state.credentials.account_sid,
        "friendly_name": "Default Conversations Service",
        "date_created": format_unix(store.service_created),
        "date_updated": format_unix(store.service_created),
        "url": url,
        "links": {
            "conversations": link("Conversations"),
            "users": link("Users"),
            "roles": link("Roles"),
            "bindings": link("Bindings"),
            "configuration": link("Configuration"),
            "participant_conversations": link("ParticipantConversations"),
            "conversation_with_participants": link("ConversationWithParticipants"),
        },
    })
}

async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let req = PageRequest::parse(&q, 50, 100, false)?;
    let one = service_json(&ctx);
    let first = req.token.is_none();
    let slice = Slice { items: if first { vec![(0, one)] } else { Vec::new() }, has_prev: false, has_next: false };
    let path = format!("{}/Services", ctx.urls.prefix);
    Ok(ok(&paging::envelope(&req, slice, &path, &[], "services")))
}

async fn fetch(ctx: Ctx, Path(path): Path<ServicePath>) -> ApiResult<Response> {
    if path.service != ctx.state.store.service_sid {
        return Err(ApiError::not_found(format!("Service {}", path.service)));
    }
    Ok(ok(&service_json(&ctx)))
}
