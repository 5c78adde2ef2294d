//! `/Conversations/{c}/Participants[/{Sid}]`: chat participants by identity and
//! SMS-style ones by messaging binding. The work is in `membership`; who may
//! add, update and remove whom is in `rules`.

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{created, no_content, ok};
use crate::api::params::{ListQuery, ParticipantParams};
use crate::server::AppState;
use crate::server::error::ApiResult;
use crate::server::extract::{Ctx, Form, FormWithEmpty, Path, Query};
use crate::server::membership::{self, NewParticipant, ParticipantChange};
use crate::server::paging::{self, PageRequest};
use crate::server::store::participants;
use crate::server::{lookup, rules};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Conversations/{conversation}/Participants", get(list).post(create))
        .route("/Conversations/{conversation}/Participants/{participant}", get(fetch).post(update).delete(remove))
}

#[derive(Deserialize)]
pub struct ConversationPath {
    conversation: String,
}

#[derive(Deserialize)]
pub struct ParticipantPath {
    conversation: String,
    participant: String,
}

async fn create(ctx: Ctx, Path(path): Path<ConversationPath>, Form(p): Form<ParticipantParams>) -> ApiResult<Response> {
    let new = NewParticipant::from_params(&p)?;
    let row = membership::add(&ctx, path.conversation, new).await?;
    Ok(created(&ctx.urls.participant_json(&row)))
}

async fn list(ctx: Ctx, Path(path): Path<ConversationPath>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let req = PageRequest::parse(&q, 50, 100, false)?;
    let page = ctx
        .read(move |conn, caller, urls| {
            let c = lookup::conversation(conn, &path.conversation)?;
            rules::may_read_conversation(conn, caller, &c)?;
            let slice = paging::fetch(&req, |w| participants::scan(conn, &c.sid, w))?;
            Ok(paging::envelope(&req, slice, &urls.participants(&c.sid), &[], "participants")
                .map(|p| urls.participant_json(p)))
        })
        .await?;
    Ok(ok(&page))
}

async fn fetch(ctx: Ctx, Path(path): Path<ParticipantPath>) -> ApiResult<Response> {
    let body = ctx
        .read(move |conn, caller, urls| {
            let c = lookup::conversation(conn, &path.conversation)?;
            rules::may_read_conversation(conn, caller, &c)?;
            Ok(urls.participant_json(&lookup::participant(conn, &c, &path.participant)?))
        })
        .await?;
    Ok(ok(&body))
}

async fn update(
    ctx: Ctx,
    Path(path): Path<ParticipantPath>,
    FormWithEmpty(p, empty): FormWithEmpty<ParticipantParams>,
) -> ApiResult<Response> {
    let change = ParticipantChange::from_params(&p, &empty)?;
    let row = membership::update(&ctx, path.conversation, path.participant, change).await?;
    Ok(ok(&ctx.urls.participant_json(&row)))
}

async fn remove(ctx: Ctx, Path(path): Path<ParticipantPath>) -> ApiResult<Response> {
    membership::remove(&ctx, path.conversation, path.participant).await?;
    Ok(no_content())
}
