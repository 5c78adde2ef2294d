//! `/Conversations/{c}/Messages[/{Sid}]`. A person posts only as themselves,
//! and edits or deletes only their own messages (the creator may delete any).
//! `Idempotency-Key` makes a create safe to retry: the same key from the same
//! caller within 24 h answers with the first message, never a second one.

use std::sync::Arc;

use axum::Router;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{Standing, conversation, created, no_content, ok, standing, to_conversation};
use crate::api::params::{ListQuery, MessageParams};
use crate::api::stream::EventName;
use crate::api::time::now_unix;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Form, Path, Query};
use crate::server::hub::{Audience, Effect};
use crate::server::paging::{self, PageRequest};
use crate::server::render::{Urls, to_value};
use crate::server::store::rows::{ConversationRow, MessageRow};
use crate::server::store::{messages, participants};
use crate::server::validate;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/Conversations/{conversation}/Messages", get(list).post(create))
        .route("/Conversations/{conversation}/Messages/{message}", get(fetch).post(update).delete(remove))
}

#[derive(Deserialize)]
pub struct ConversationPath {
    conversation: String,
}

#[derive(Deserialize)]
pub struct MessagePath {
    conversation: String,
    message: String,
}

const IDEMPOTENCY_HEADER: &str = "idempotency-key";

fn body(p: &MessageParams) -> ApiResult<Option<String>> {
    match &p.body {
        Some(b) if b.len() > validate::MESSAGE_BODY_BYTES => Err(ApiError::invalid(
            "Body",
            format!("is {} bytes, more than the limit of {}", b.len(), validate::MESSAGE_BODY_BYTES),
        )),
        other => Ok(other.clone()),
    }
}

/// The conversation after a message change, for `conversationUpdated`
/// (rendered only if some stream will receive it).
fn conversation_updated(urls: &Urls, c: ConversationRow) -> Effect {
    let urls = urls.clone();
    Effect::send_lazy(
        Audience::Conversation(c.sid.clone()),
        EventName::ConversationUpdated,
        &c.sid.clone(),
        move || serde_json::to_string(&urls.conversation_json(&c)).unwrap_or_default(),
    )
}

async fn create(
    ctx: Ctx,
    Path(path): Path<ConversationPath>,
    headers: HeaderMap,
    Form(p): Form<MessageParams>,
) -> ApiResult<Response> {
    let body = body(&p)?;
    let attributes = match &p.attributes {
        Some(a) => validate::attributes("Attributes", a, validate::MESSAGE_ATTRIBUTES_BYTES)?,
        None => "{}".into(),
    };
    if let Some(s) = &p.subject {
        validate::name("Subject", s)?;
    }
    if !p.media_sid.is_empty() {
        return Err(ApiError::invalid("MediaSid", "media is not supported by this server"));
    }
    if let Some(c) = &p.content_sid
        && !crate::api::sid::is_sid("HX", c)
    {
        return Err(ApiError::invalid("ContentSid", "must be an HX SID"));
    }
    if body.as_deref().is_none_or(str::is_empty) && p.content_sid.is_none() {
        return Err(ApiError::missing("Body"));
    }
    let now = now_unix();
    let date_created = p.date_created.as_deref().map(|d| validate::date("DateCreated", d)).transpose()?.unwrap_or(now);
    let date_updated =
        p.date_updated.as_deref().map(|d| validate::date("DateUpdated", d)).transpose()?.unwrap_or(date_created);
    let key = match headers.get(IDEMPOTENCY_HEADER) {
        Some(v) => Some(
            v.to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= 256)
                .ok_or_else(|| ApiError::invalid("Idempotency-Key", "must be 1 to 256 visible characters"))?
                .to_owned(),
        ),
        None => None,
    };
    if let Some(a) = &p.author {
        validate::name("Author", a)?;
    }
    let urls = ctx.urls.clone();
    let caller = ctx.caller.clone();
    // The writer does only the SQL; JSON is rendered here and, for streams, on
    // the publisher thread, so the one writer thread spends nothing on it.
    let event_urls = urls.clone();
    let message = ctx
        .state
        .store
        .write(move |conn| {
            if let Some(k) = &key
                && let Some(first) = messages::idempotent_message(conn, &caller.key(), k, now)?
            {
                let first = first.ok_or_else(|| {
                    ApiError::not_found(format!("the message first posted with Idempotency-Key {k} (it was deleted)"))
                })?;
                return Ok((first, Vec::new()));
            }
            let c = conversation(conn, &path.conversation)?;
            let (author, participant_sid) = match standing(conn, &caller, &c)? {
                // A person's messages are theirs, whatever Author says.
                Standing::Member { me, .. } => (me.identity.clone(), Some(me.sid.clone())),
                Standing::Admin => {
                    let author = p.author.clone().filter(|a| !a.is_empty()).unwrap_or_else(|| "system".into());
                    let sid = participants::get(conn, &c.sid, &author)?.map(|p| p.sid);
                    (Some(author), sid)
                }
            };
            let mut m = MessageRow {
                conversation_sid: c.sid.clone(),
                idx: 0,
                sid: messages::new_message_sid(),
                author,
                body,
                attributes,
                participant_sid,
                date_created,
                date_updated: Some(date_updated),
                media: None,
                content_sid: p.content_sid.clone(),
            };
            messages::insert(conn, &mut m)?;
            if let Some(k) = &key {
                messages::remember_key(conn, &caller.key(), k, &m.sid, now)?;
            }
            let mut effects = Vec::with_capacity(2);
            if let Some(author) = &m.author {
                effects.push(Effect::MessageBy { conversation: c.sid.clone(), identity: author.clone() });
            }
            let (row, urls) = (m.clone(), event_urls.clone());
            effects.push(Effect::send_lazy(
                Audience::Conversation(c.sid.clone()),
                EventName::MessageAdded,
                &c.sid,
                move || serde_json::to_string(&urls.message_json(&row)).unwrap_or_default(),
            ));
            // No `conversationUpdated` here: `messageAdded` already tells every
            // receiver the conversation's new last message and count, and a
            // second frame per message per subscriber halved fan-out capacity
            // (docs/performance.md). Edits and deletions still send one.
            Ok((m, effects))
        })
        .await?;
    Ok(created(&urls.message_json(&message)))
}

async fn list(ctx: Ctx, Path(path): Path<ConversationPath>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let desc = match q.order.as_deref() {
        None | Some("") | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(ApiError::invalid("Order", "must be asc or desc")),
    };
    let req = PageRequest::parse(&q, 50, 100, desc)?;
    let filters: Vec<(&str, String)> = q.order.iter().filter(|o| !o.is_empty()).map(|o| ("Order", o.clone())).collect();
    let page = ctx
        .read(move |conn, caller, urls| {
            let c = conversation(conn, &path.conversation)?;
            standing(conn, caller, &c)?;
            let slice = paging::fetch(&req, |w| messages::scan(conn, &c.sid, w))?;
            Ok(paging::envelope(&req, slice, &urls.messages(&c.sid), &filters, "messages")
                .map(|m| urls.message_json(m)))
        })
        .await?;
    Ok(ok(&page))
}

fn message(conn: &crate::server::store::Connection, c: &ConversationRow, sid: &str) -> ApiResult<MessageRow> {
    messages::get(conn, &c.sid, sid)?.ok_or_else(|| ApiError::not_found(format!("Message {sid}")))
}

async fn fetch(ctx: Ctx, Path(path): Path<MessagePath>) -> ApiResult<Response> {
    let body = ctx
        .read(move |conn, caller, urls| {
            let c = conversation(conn, &path.conversation)?;
            standing(conn, caller, &c)?;
            Ok(urls.message_json(&message(conn, &c, &path.message)?))
        })
        .await?;
    Ok(ok(&body))
}

fn is_own(s: &Standing, m: &MessageRow) -> bool {
    match s {
        Standing::Admin => true,
        Standing::Member { me, .. } => me.identity.is_some() && me.identity == m.author,
    }
}

async fn update(ctx: Ctx, Path(path): Path<MessagePath>, Form(p): Form<MessageParams>) -> ApiResult<Response> {
    let new_body = body(&p)?;
    let attributes = p
        .attributes
        .as_deref()
        .map(|a| validate::attributes("Attributes", a, validate::MESSAGE_ATTRIBUTES_BYTES))
        .transpose()?;
    let date_created = p.date_created.as_deref().map(|d| validate::date("DateCreated", d)).transpose()?;
    let date_updated = p.date_updated.as_deref().map(|d| validate::date("DateUpdated", d)).transpose()?;
    if let Some(s) = &p.subject {
        validate::name("Subject", s)?;
    }
    if let Some(a) = &p.author {
        validate::name("Author", a)?;
    }
    let body = ctx
        .write(move |conn, caller, urls| {
            let c = conversation(conn, &path.conversation)?;
            let s = standing(conn, caller, &c)?;
            let mut m = message(conn, &c, &path.message)?;
            if !is_own(&s, &m) {
                return Err(ApiError::forbidden("Only the author may edit a message"));
            }
            if let Some(b) = new_body {
                m.body = Some(b);
            }
            if let Some(a) = attributes {
                m.attributes = a;
            }
            if let (Some(a), Caller::Admin) = (&p.author, &caller) {
                m.author = Some(a.clone());
            }
            if let Some(d) = date_created {
                m.date_created = d;
            }
            m.date_updated = Some(date_updated.unwrap_or_else(now_unix));
            messages::update(conn, &m)?;
            let json = urls.message_json(&m);
            let effects = vec![to_conversation(&c.sid, EventName::MessageUpdated, to_value(&json))];
            Ok((json, effects))
        })
        .await?;
    Ok(ok(&body))
}

async fn remove(ctx: Ctx, Path(path): Path<MessagePath>) -> ApiResult<Response> {
    ctx.write(move |conn, caller, urls| {
        let c = conversation(conn, &path.conversation)?;
        let s = standing(conn, caller, &c)?;
        let m = message(conn, &c, &path.message)?;
        if !is_own(&s, &m) && !s.is_moderator() {
            return Err(ApiError::forbidden("Only the author or the conversation's creator may delete a message"));
        }
        messages::delete(conn, &m)?;
        let after = conversation(conn, &c.sid)?;
        let effects = vec![
            to_conversation(&c.sid, EventName::MessageRemoved, to_value(&urls.message_json(&m))),
            conversation_updated(urls, after),
        ];
        Ok(((), effects))
    })
    .await?;
    Ok(no_content())
}
