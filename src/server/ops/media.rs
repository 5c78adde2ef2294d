//! Media operations (Twilio's Media Content Service): streaming an upload into
//! `media_chunks`, reading it back chunk by chunk, and the signed temporary links.
//!
//! An upload never sits in memory: each chunk of [`CHUNK_BYTES`] is one write
//! job, committed before the next is read off the socket. Until the last one
//! the record is incomplete (invisible); an upload that fails, goes over the
//! limit or is dropped by its client is deleted (by [`Abandoned`]'s drop), and
//! one a crash interrupted is swept later ([`sweep_abandoned`]).

use std::sync::Arc;

use base64::Engine;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::api::error::ErrorCode;
use crate::api::sid::{new_sid, prefix};
use crate::api::time::now_unix;
use crate::server::AppState;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::Ctx;
use crate::server::rules;
use crate::server::store::media::{self, CHUNK_BYTES, MediaRow};

/// An upload abandoned this long ago (no chunk since) is swept.
const ABANDONED_AFTER_SECS: i64 = 3600;

/// What the upload says about itself (query `Filename`, `Category`; `Content-Type`).
#[derive(Debug, Clone)]
pub struct UploadMeta {
    pub content_type: String,
    pub filename: Option<String>,
    pub category: String,
}

/// The 413 of an upload over the limit.
pub fn too_large(limit: u64) -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, format!("The media is larger than the limit of {limit} bytes"))
}

/// Deletes an unfinished upload when dropped while armed: on an error, and
/// when the client goes away and the request's future is dropped mid-stream.
struct Abandoned {
    state: Arc<AppState>,
    sid: Option<String>,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        let Some(sid) = self.sid.take() else { return };
        let state = self.state.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return }; // swept later
        runtime.spawn(async move {
            if let Err(e) = state.store.write(move |conn| Ok((media::delete(conn, &sid)?, Vec::new()))).await {
                tracing::warn!("deleting an abandoned upload failed (it is swept later): {}", e.0.message);
            }
        });
    }
}

/// Operation: `ctx.caller` uploads `body` as a new media; the 201's record.
pub async fn upload<S, E>(ctx: &Ctx, meta: UploadMeta, body: S) -> ApiResult<MediaRow>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let limit = ctx.state.media.max_bytes;
    let now = now_unix();
    let row = MediaRow {
        sid: new_sid(prefix::MEDIA),
        author: ctx.identity().map(str::to_owned),
        content_type: meta.content_type,
        filename: meta.filename,
        category: meta.category,
        size: 0,
        conversation_sid: None,
        message_sid: None,
        date_created: now,
        date_updated: now,
    };
    let sid = row.sid.clone();
    ctx.state.store.write(move |conn| Ok((media::begin(conn, &row)?, Vec::new()))).await?;
    let mut guard = Abandoned { state: ctx.state.clone(), sid: Some(sid.clone()) };
    let mut body = body;
    let mut pending = BytesMut::with_capacity(CHUNK_BYTES);
    let (mut seq, mut total) = (0i64, 0u64);
    loop {
        let next = body.next().await;
        let ended = next.is_none();
        if let Some(piece) = next {
            let piece = piece.map_err(|e| ApiError::invalid("body", format!("the upload broke off: {e}")))?;
            total += piece.len() as u64;
            if total > limit {
                return Err(too_large(limit));
            }
            pending.extend_from_slice(&piece);
        }
        while pending.len() >= CHUNK_BYTES || (ended && !pending.is_empty()) {
            let take = pending.len().min(CHUNK_BYTES);
            let chunk = pending.split_to(take).to_vec();
            let (sid, at) = (sid.clone(), seq);
            ctx.state
                .store
                .write(move |conn| Ok((media::append(conn, &sid, at, &chunk, now_unix())?, Vec::new())))
                .await?;
            seq += 1;
        }
        if ended {
            break;
        }
    }
    let done = {
        let sid = sid.clone();
        ctx.state.store.write(move |conn| Ok((media::finish(conn, &sid, now_unix())?, Vec::new()))).await?
    };
    let row = done.ok_or_else(|| ApiError::internal("the finished upload is gone"))?;
    guard.sid = None;
    Ok(row)
}

/// Deletes uploads abandoned long enough ago (after a crash mid-upload).
pub async fn sweep_abandoned(state: &AppState) {
    let before = now_unix() - ABANDONED_AFTER_SECS;
    if let Err(e) = state.store.write(move |conn| Ok((media::sweep_incomplete(conn, before)?, Vec::new()))).await {
        tracing::warn!("sweeping abandoned uploads failed: {}", e.0.message);
    }
}

/// Looks up a media the caller may fetch (404 when there is none).
pub fn visible(
    conn: &crate::server::store::Connection,
    caller: &crate::server::auth::Caller,
    sid: &str,
) -> ApiResult<MediaRow> {
    let m = media::get(conn, sid)?.ok_or_else(|| ApiError::not_found(format!("Media {sid}")))?;
    rules::may_fetch_media(conn, caller, &m)?;
    Ok(m)
}

/// The bytes of media `sid`, streamed one chunk (one read) at a time.
pub fn content(state: Arc<AppState>, sid: String) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures_util::stream::unfold(Some(0i64), move |seq| {
        let (state, sid) = (state.clone(), sid.clone());
        async move {
            let at = seq?;
            let read = state.store.read(move |conn| Ok(media::chunk(conn, &sid, at)?)).await;
            match read {
                Ok(Some(data)) => Some((Ok(Bytes::from(data)), Some(at + 1))),
                Ok(None) => None,
                Err(e) => Some((Err(std::io::Error::other(e.0.message)), None)),
            }
        }
    })
}

type Signer = Hmac<Sha1>;

fn signer(secret: &str, sid: &str, expires: i64) -> Option<Signer> {
    let mut mac = Signer::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(format!("{sid}:{expires}").as_bytes());
    Some(mac)
}

/// The query of a temporary link to media `sid`: `Expires=…&Signature=…`
/// (HMAC-SHA1 of SID and expiry under the server's auth token).
pub fn signed_query(state: &AppState, sid: &str) -> String {
    let expires = now_unix() + state.media.link_ttl_secs;
    let signature = signer(&state.credentials.auth_token, sid, expires)
        .map(|m| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("Expires={expires}&Signature={signature}")
}

/// Whether a temporary link's `expires` and `signature` are ours and current.
pub fn check_signed(state: &AppState, sid: &str, expires: i64, signature: &str) -> ApiResult<()> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    let genuine = signer(&state.credentials.auth_token, sid, expires).is_some_and(|m| m.verify_slice(&bytes).is_ok());
    if !genuine {
        return Err(ApiError::forbidden("The link's signature is not valid"));
    }
    if now_unix() > expires {
        return Err(ApiError::forbidden("The link has expired; fetch the media again for a fresh one"));
    }
    Ok(())
}
