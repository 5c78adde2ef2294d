//! `GET /v3/{Maps,Lists,Documents}/{name}[/Items[/{key}]]`: the Sync objects the
//! Conversations SDK reads (see `server::sync`). Read-only: the SDK changes
//! them through the client API, never by writing Sync objects itself.

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::ok;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Path, Query};
use crate::server::sync::objects::{self, ItemQuery};
use crate::server::sync::{Kind, Object};

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v3/{collection}/{name}", get(descriptor))
        .route("/v3/{collection}/{name}/Items", get(items))
        .route("/v3/{collection}/{name}/Items/{key}", get(item))
}

#[derive(Deserialize)]
struct ObjectPath {
    collection: String,
    name: String,
}

#[derive(Deserialize)]
struct ItemPath {
    collection: String,
    name: String,
    key: String,
}

#[derive(Deserialize, Default)]
struct DescriptorQuery {
    #[serde(rename = "Include")]
    include: Option<String>,
}

/// The object a path names, if the collection is its kind's.
fn object(collection: &str, name: &str) -> ApiResult<Object> {
    let o = Object::parse(name).ok_or_else(|| ApiError::not_found(format!("Sync object {name}")))?;
    let kind = o.kind();
    if kind.collection() != collection {
        return Err(ApiError::not_found(format!("Sync object {name}")));
    }
    Ok(o)
}

async fn descriptor(ctx: Ctx, Path(p): Path<ObjectPath>, Query(q): Query<DescriptorQuery>) -> ApiResult<Response> {
    let o = object(&p.collection, &p.name)?;
    let include = q.include.as_deref() == Some("items");
    let body =
        ctx.read(move |conn, caller, urls| objects::descriptor(conn, caller, urls, urls.base(), &o, include)).await?;
    Ok(ok(&body))
}

async fn items(ctx: Ctx, Path(p): Path<ObjectPath>, Query(q): Query<ItemQuery>) -> ApiResult<Response> {
    let o = object(&p.collection, &p.name)?;
    let body = ctx.read(move |conn, caller, urls| objects::items(conn, caller, urls, urls.base(), &o, &q)).await?;
    Ok(ok(&body))
}

/// One item: the first of a `Key=`/`Index=` query, or 404.
async fn item(ctx: Ctx, Path(p): Path<ItemPath>) -> ApiResult<Response> {
    let o = object(&p.collection, &p.name)?;
    let q = match o.kind() {
        Kind::List => ItemQuery { index: Some(p.key.clone()), ..Default::default() },
        _ => ItemQuery { key: Some(p.key.clone()), ..Default::default() },
    };
    let page = ctx.read(move |conn, caller, urls| objects::items(conn, caller, urls, urls.base(), &o, &q)).await?;
    match page["items"].get(0) {
        Some(item) => Ok(ok(item)),
        None => Err(ApiError::not_found(format!("Item {}", p.key))),
    }
}
