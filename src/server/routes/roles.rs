//! `/Roles[/{Sid}]` (and `/Services/{IS}/Roles…`): Twilio's Role resource,
//! conversation and service roles with repeated `Permission`s. The work is in `ops::roles`.

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{created, no_content, ok};
use crate::api::params::ListQuery;
use crate::server::AppState;
use crate::server::error::ApiResult;
use crate::server::extract::{Ctx, Form, Path, Query};
use crate::server::ops::roles as op;
use crate::server::paging::{self, PageRequest};
use crate::server::store::roles;
use crate::server::{lookup, rules};

pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/Roles", get(list).post(create)).route("/Roles/{role}", get(fetch).post(update).delete(remove))
}

#[derive(Deserialize)]
pub struct RolePath {
    role: String,
}

/// `POST /Roles` and `POST /Roles/{Sid}`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleParams {
    friendly_name: Option<String>,
    #[serde(rename = "Type")]
    role_type: Option<String>,
    #[serde(default)]
    permission: Vec<String>,
}

async fn create(ctx: Ctx, Form(p): Form<RoleParams>) -> ApiResult<Response> {
    let role = op::create(&ctx, p.friendly_name, p.role_type, p.permission).await?;
    Ok(created(&ctx.urls.role_json(&role)))
}

async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    rules::may_read_service(&ctx.caller)?;
    let req = PageRequest::parse(&q, 50, 50, false)?;
    let page = ctx
        .read(move |conn, _, urls| {
            let slice = paging::fetch(&req, |w| roles::scan(conn, w))?;
            Ok(paging::envelope(&req, slice, &urls.roles(), &[], "roles").map(|r| urls.role_json(r)))
        })
        .await?;
    Ok(ok(&page))
}

async fn fetch(ctx: Ctx, Path(path): Path<RolePath>) -> ApiResult<Response> {
    rules::may_read_service(&ctx.caller)?;
    let body = ctx.read(move |conn, _, urls| Ok(urls.role_json(&lookup::role(conn, &path.role)?))).await?;
    Ok(ok(&body))
}

async fn update(ctx: Ctx, Path(path): Path<RolePath>, Form(p): Form<RoleParams>) -> ApiResult<Response> {
    let role = op::update(&ctx, path.role, p.permission).await?;
    Ok(ok(&ctx.urls.role_json(&role)))
}

async fn remove(ctx: Ctx, Path(path): Path<RolePath>) -> ApiResult<Response> {
    op::delete(&ctx, path.role).await?;
    Ok(no_content())
}
