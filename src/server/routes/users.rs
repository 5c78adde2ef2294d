//! `/Users[/{Sid}]`, addressed by SID or identity. The work is in
//! `ops::users`; who may see and change whom is in `rules`.

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{created, no_content, ok};
use crate::api::params::{ListQuery, UserParams};
use crate::server::AppState;
use crate::server::error::ApiResult;
use crate::server::extract::{Ctx, Form, Path, Query};
use crate::server::ops::users::{self as op, UserChange};
use crate::server::paging::{self, PageRequest};
use crate::server::store::users;
use crate::server::{lookup, presence, rules};

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/Users", get(list).post(create)).route("/Users/{user}", get(fetch).post(update).delete(remove))
}

#[derive(Deserialize)]
pub struct UserPath {
    user: String,
}

async fn create(ctx: Ctx, Form(p): Form<UserParams>) -> ApiResult<Response> {
    let u = op::create(&ctx, &p).await?;
    Ok(created(&ctx.urls.user_json(&u)))
}

async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let req = PageRequest::parse(&q, 50, 50, false)?;
    let me = rules::user_list_visible_to(&ctx.caller);
    let page = ctx
        .read(move |conn, _, urls| {
            let slice = paging::fetch(&req, |w| users::scan(conn, me.as_deref(), w))?;
            Ok(paging::envelope(&req, slice, &urls.users(), &[], "users").map(|u| urls.user_json(u)))
        })
        .await?;
    Ok(ok(&page))
}

async fn fetch(ctx: Ctx, Path(path): Path<UserPath>) -> ApiResult<Response> {
    let body = ctx
        .read(move |conn, caller, urls| {
            let u = lookup::user(conn, &path.user)?;
            rules::may_see_user(conn, caller, &u)?;
            presence::user_json(conn, urls, &u)
        })
        .await?;
    Ok(ok(&body))
}

async fn update(ctx: Ctx, Path(path): Path<UserPath>, Form(p): Form<UserParams>) -> ApiResult<Response> {
    Ok(ok(&op::update(&ctx, path.user, UserChange::from_params(&p)?).await?))
}

async fn remove(ctx: Ctx, Path(path): Path<UserPath>) -> ApiResult<Response> {
    op::delete(&ctx, path.user).await?;
    Ok(no_content())
}
