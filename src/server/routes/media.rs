//! `/v1/Services/{IS}/Media[/{ME}[/Content[/Direct]]]` and `…/MediaSet`: the
//! wire of Twilio's Media Content Service, as `@twilio/mcs-client` speaks it.
//!
//! Uploads are the raw body with its `Content-Type` (or `multipart/form-data`,
//! its first file part), streamed by `ops::media`. `Content/Direct` is the
//! signed temporary link: it works without credentials until it expires.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{created, ok};
use crate::api::time::format_unix;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Path, Query, RawForm};
use crate::server::ops::media::{self as op, UploadMeta};
use crate::server::store::media::MediaRow;
use crate::server::validate;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Media", post(upload).layer(DefaultBodyLimit::disable()))
        .route("/Media/{media}", get(fetch))
        .route("/Media/{media}/Content", get(content))
        .route("/Media/{media}/Content/Direct", get(direct))
        .route("/MediaSet", post(media_set))
}

#[derive(Deserialize)]
pub struct MediaPath {
    media: String,
}

#[derive(Deserialize)]
pub struct UploadQuery {
    #[serde(rename = "Filename")]
    filename: Option<String>,
    #[serde(rename = "Category")]
    category: Option<String>,
}

/// The Media record, with a fresh temporary link.
fn media_json(ctx: &Ctx, m: &MediaRow) -> Value {
    let url = format!("{}/Media/{}", ctx.urls.prefix, m.sid);
    let direct = format!("{url}/Content/Direct?{}", op::signed_query(&ctx.state, &m.sid));
    json!({
        "sid": m.sid,
        "account_sid": ctx.urls.account_sid,
        "service_sid": ctx.urls.service_sid,
        "channel_sid": m.conversation_sid,
        "message_sid": m.message_sid,
        "author": m.author.clone().unwrap_or_else(|| "system".into()),
        "size": m.size,
        "content_type": m.content_type,
        "filename": m.filename,
        "category": m.category,
        "date_created": format_unix(m.date_created),
        "date_updated": format_unix(m.date_updated),
        "date_upload_updated": format_unix(m.date_updated),
        "is_multipart_upstream": false,
        "url": url,
        "links": {"content": format!("{url}/Content"), "content_direct_temporary": direct},
    })
}

fn meta_of(q: &UploadQuery, content_type: Option<&str>) -> ApiResult<UploadMeta> {
    let content_type = content_type.filter(|t| !t.is_empty()).unwrap_or("application/octet-stream");
    if content_type.len() > 255 || content_type.chars().any(char::is_control) {
        return Err(ApiError::invalid("Content-Type", "must be a media type of at most 255 characters"));
    }
    let filename = q.filename.clone().filter(|f| !f.is_empty());
    if let Some(f) = &filename {
        validate::name("Filename", f)?;
    }
    let category = q.category.clone().unwrap_or_else(|| "media".into());
    if !["media", "body", "history"].contains(&category.as_str()) {
        return Err(ApiError::invalid("Category", "must be media, body or history"));
    }
    Ok(UploadMeta { content_type: content_type.to_owned(), filename, category })
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn upload(ctx: Ctx, Query(q): Query<UploadQuery>, req: Request) -> ApiResult<Response> {
    let limit = ctx.state.media.max_bytes;
    let declared = header_str(req.headers(), header::CONTENT_LENGTH).and_then(|l| l.parse::<u64>().ok());
    if declared.is_some_and(|l| l > limit) {
        return Err(op::too_large(limit));
    }
    let content_type = header_str(req.headers(), header::CONTENT_TYPE).map(str::to_owned);
    let row = if content_type.as_deref().is_some_and(|t| t.starts_with("multipart/form-data")) {
        let mut form = axum::extract::Multipart::from_request(req, &ctx.state)
            .await
            .map_err(|e| ApiError::invalid("body", e.body_text()))?;
        let field = loop {
            match form.next_field().await.map_err(|e| ApiError::invalid("body", e.body_text()))? {
                Some(f) if f.file_name().is_some() || f.name() == Some("media") => break f,
                Some(_) => continue,
                None => return Err(ApiError::missing("media")),
            }
        };
        let mut q = q;
        if q.filename.is_none() {
            q.filename = field.file_name().map(str::to_owned);
        }
        let meta = meta_of(&q, field.content_type())?;
        op::upload(&ctx, meta, Box::pin(field)).await?
    } else {
        let meta = meta_of(&q, content_type.as_deref())?;
        op::upload(&ctx, meta, req.into_body().into_data_stream()).await?
    };
    Ok(created(&media_json(&ctx, &row)))
}

async fn fetch(ctx: Ctx, Path(path): Path<MediaPath>) -> ApiResult<Response> {
    let row = ctx.read(move |conn, caller, _| op::visible(conn, caller, &path.media)).await?;
    Ok(ok(&media_json(&ctx, &row)))
}

fn content_response(state: Arc<AppState>, m: MediaRow) -> ApiResult<Response> {
    let mut resp = Body::from_stream(op::content(state, m.sid.clone())).into_response();
    let headers = resp.headers_mut();
    let kind =
        HeaderValue::from_str(&m.content_type).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, kind);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(m.size));
    Ok(resp)
}

async fn content(ctx: Ctx, Path(path): Path<MediaPath>) -> ApiResult<Response> {
    let row = ctx.read(move |conn, caller, _| op::visible(conn, caller, &path.media)).await?;
    content_response(ctx.state.clone(), row)
}

#[derive(Deserialize)]
pub struct DirectPath {
    service: String,
    media: String,
}

#[derive(Deserialize)]
pub struct DirectQuery {
    #[serde(rename = "Expires")]
    expires: i64,
    #[serde(rename = "Signature")]
    signature: String,
}

/// The temporary link: no credentials, only the signature and its expiry.
async fn direct(
    State(state): State<Arc<AppState>>,
    Path(path): Path<DirectPath>,
    Query(q): Query<DirectQuery>,
) -> ApiResult<Response> {
    if path.service != state.store.service_sid {
        return Err(ApiError::not_found(format!("Service {}", path.service)));
    }
    op::check_signed(&state, &path.media, q.expires, &q.signature)?;
    let sid = path.media.clone();
    let row = state
        .store
        .read(move |conn| crate::server::store::media::get(conn, &sid).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Media {}", path.media)))?;
    content_response(state.clone(), row)
}

#[derive(Deserialize)]
struct MediaSetQuery {
    command: String,
    list: Vec<MediaSetItem>,
}

#[derive(Deserialize)]
struct MediaSetItem {
    media_sid: String,
}

/// Most media one `MediaSet` call may ask about.
const MEDIA_SET_MAX: usize = 100;

/// `POST …/MediaSet` `{"command":"get","list":[{"media_sid":…}]}`: one
/// `{"code", "media_record"}` per item, 200 or 403/404 each.
async fn media_set(ctx: Ctx, RawForm(body): RawForm) -> ApiResult<Response> {
    let q: MediaSetQuery = serde_json::from_slice(&body).map_err(|e| ApiError::invalid("body", e))?;
    if q.command != "get" {
        return Err(ApiError::invalid("command", "must be get"));
    }
    if q.list.len() > MEDIA_SET_MAX {
        return Err(ApiError::invalid("list", format!("has more than {MEDIA_SET_MAX} items")));
    }
    let sids: Vec<String> = q.list.into_iter().map(|i| i.media_sid).collect();
    let found = ctx
        .read(move |conn, caller, _| {
            Ok(sids.into_iter().map(|sid| (op::visible(conn, caller, &sid), sid)).collect::<Vec<_>>())
        })
        .await?;
    let items: Vec<Value> = found
        .into_iter()
        .map(|(row, sid)| match row {
            Ok(m) => json!({"code": 200, "media_record": media_json(&ctx, &m)}),
            Err(e) => json!({"code": e.0.status, "media_record": {"sid": sid}}),
        })
        .collect();
    Ok((StatusCode::OK, axum::Json(items)).into_response())
}
