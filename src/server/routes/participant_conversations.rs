//! `GET /ParticipantConversations?Identity=…|Address=…`: the conversations a
//! chat identity or a messaging address is in. A person may ask only about themselves.

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::get;

use super::ok;
use crate::api::params::ListQuery;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Query};
use crate::server::paging::{self, PageRequest};
use crate::server::rules;
use crate::server::store::participants::{self, Who};
use crate::server::store::users;

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/ParticipantConversations", get(list))
}

async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let identity = q.identity.clone().filter(|s| !s.is_empty());
    let address = q.address.clone().filter(|s| !s.is_empty());
    let (who, filter) = match (identity, address) {
        (Some(i), None) => (Who::Identity(i.clone()), ("Identity", i)),
        (None, Some(a)) => (Who::Address(a.clone()), ("Address", a)),
        (Some(_), Some(_)) => return Err(ApiError::invalid("Identity", "give either Identity or Address, not both")),
        (None, None) => return Err(ApiError::missing("Identity")),
    };
    let asked = match &who {
        Who::Identity(i) => Some(i.as_str()),
        Who::Address(_) => None,
    };
    rules::may_list_participant_conversations(&ctx.caller, asked)?;
    let req = PageRequest::parse(&q, 50, 50, false)?;
    let page = ctx
        .read(move |conn, _, urls| {
            let user_sid = match &who {
                Who::Identity(i) => users::get(conn, i)?.map(|u| u.sid),
                Who::Address(_) => None,
            };
            let slice = paging::fetch(&req, |w| participants::memberships(conn, &who, w))?;
            Ok(paging::envelope(&req, slice, &urls.participant_conversations(), &[filter], "conversations")
                .map(|m| urls.participant_conversation_json(user_sid.as_deref(), m)))
        })
        .await?;
    Ok(ok(&page))
}
