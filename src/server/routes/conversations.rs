//! `/Conversations` and `/Conversations/{Sid}`: create, list (State and date
//! filters), fetch, update, delete; and `/ConversationWithParticipants`.
//! The work is in `ops::conversations`; timers fire in `timers`.

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{created, no_content, ok};
use crate::api::error::ErrorCode;
use crate::api::params::{ConversationParams, ListQuery, ParticipantParams};
use crate::api::resources::ConversationState;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Form, FormWithEmpty, Path, Query, RawForm};
use crate::server::lookup;
use crate::server::membership::NewParticipant;
use crate::server::ops::conversations::{self as op, ConversationChange};
use crate::server::paging::{self, PageRequest};
use crate::server::rules;
use crate::server::store::conversations;
use crate::server::validate;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Conversations", get(list).post(create))
        .route("/Conversations/{conversation}", get(fetch).post(update).delete(remove))
        .route("/ConversationWithParticipants", post(create_with_participants))
}

#[derive(Deserialize)]
pub struct ConversationPath {
    conversation: String,
}

async fn create(ctx: Ctx, Form(p): Form<ConversationParams>) -> ApiResult<Response> {
    let change = ConversationChange::from_params(&p, false)?;
    let c = op::create(&ctx, change, Vec::new()).await?;
    Ok(created(&ctx.urls.conversation_json(&c)))
}

/// `Participant` of `POST /ConversationWithParticipants`: repeated JSON objects.
#[derive(Deserialize)]
struct WithParticipants {
    #[serde(rename = "Participant", default)]
    participant: Vec<String>,
}

/// At most this many participants in one ConversationWithParticipants call.
const MAX_INITIAL_PARTICIPANTS: usize = 10;

/// One `Participant` JSON (`{"identity": …}` or `{"messaging_binding": {"address": …}}`) as form params.
fn participant_params(json: &str) -> ApiResult<ParticipantParams> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|_| ApiError::invalid("Participant", "must be a JSON object"))?;
    let text = |v: &serde_json::Value, key: &str| v.get(key).and_then(serde_json::Value::as_str).map(str::to_owned);
    let binding = v.get("messaging_binding").cloned().unwrap_or_default();
    if !v.is_object() {
        return Err(ApiError::invalid("Participant", "must be a JSON object"));
    }
    Ok(ParticipantParams {
        identity: text(&v, "identity"),
        messaging_binding_address: text(&binding, "address"),
        messaging_binding_proxy_address: text(&binding, "proxy_address"),
        messaging_binding_projected_address: text(&binding, "projected_address"),
        attributes: text(&v, "attributes"),
        role_sid: text(&v, "role_sid"),
        ..Default::default()
    })
}

async fn create_with_participants(ctx: Ctx, form: RawForm) -> ApiResult<Response> {
    let p: ConversationParams = form.decode()?;
    let extra: WithParticipants = form.decode()?;
    if extra.participant.len() > MAX_INITIAL_PARTICIPANTS {
        return Err(ApiError::new(
            ErrorCode::TooManyInitialParticipants,
            format!("At most {MAX_INITIAL_PARTICIPANTS} participants may be added with a new conversation"),
        ));
    }
    let initial = extra
        .participant
        .iter()
        .map(|j| participant_params(j).and_then(|p| NewParticipant::from_params(&p)))
        .collect::<ApiResult<Vec<_>>>()?;
    let change = ConversationChange::from_params(&p, false)?;
    let c = op::create(&ctx, change, initial).await?;
    Ok(created(&ctx.urls.conversation_json(&c)))
}

async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let mut filter = conversations::Filter::default();
    if let Some(s) = q.state.as_deref().filter(|s| !s.is_empty()) {
        let state = ConversationState::parse(s)
            .ok_or_else(|| ApiError::invalid("State", "must be initializing, active, inactive or closed"))?;
        filter.state = Some(state.as_str().to_owned());
    }
    filter.start =
        q.start_date.as_deref().filter(|s| !s.is_empty()).map(|s| validate::date("StartDate", s)).transpose()?;
    filter.end = q.end_date.as_deref().filter(|s| !s.is_empty()).map(|s| validate::date("EndDate", s)).transpose()?;
    filter.member = rules::conversation_list_member(&ctx.caller);
    // With a date filter Twilio lists newest first.
    let desc = filter.start.is_some() || filter.end.is_some();
    let req = PageRequest::parse(&q, 50, 100, desc)?;
    let mut filters = Vec::new();
    for (name, v) in [("State", &q.state), ("StartDate", &q.start_date), ("EndDate", &q.end_date)] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            filters.push((name, v.clone()));
        }
    }
    let page = ctx
        .read(move |conn, _, urls| {
            let slice = paging::fetch(&req, |w| conversations::scan(conn, &filter, w))?;
            Ok(paging::envelope(&req, slice, &urls.conversations(), &filters, "conversations")
                .map(|c| urls.conversation_json(c)))
        })
        .await?;
    Ok(ok(&page))
}

async fn fetch(ctx: Ctx, Path(path): Path<ConversationPath>) -> ApiResult<Response> {
    let body = ctx
        .read(move |conn, caller, urls| {
            let c = lookup::conversation(conn, &path.conversation)?;
            rules::may_fetch_conversation(conn, caller, &c)?;
            Ok(urls.conversation_json(&c))
        })
        .await?;
    Ok(ok(&body))
}

async fn update(
    ctx: Ctx,
    Path(path): Path<ConversationPath>,
    FormWithEmpty(p, empty): FormWithEmpty<ConversationParams>,
) -> ApiResult<Response> {
    let change = ConversationChange::from_params(&p, empty.contains("UniqueName"))?;
    let c = op::update(&ctx, path.conversation, change).await?;
    Ok(ok(&ctx.urls.conversation_json(&c)))
}

async fn remove(ctx: Ctx, Path(path): Path<ConversationPath>) -> ApiResult<Response> {
    op::delete(&ctx, path.conversation).await?;
    Ok(no_content())
}
