//! Message operations: create (with `Idempotency-Key`: the same key from the
//! same caller within 24 h answers with the first message, never a second
//! one), update, delete. Who authors, edits and deletes is `rules`' to say.

use crate::api::params::MessageParams;
use crate::api::stream::EventName;
use crate::api::time::now_unix;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::Ctx;
use crate::server::hub::{Audience, Effect};
use crate::server::lookup;
use crate::server::render::{Urls, to_conversation, to_value};
use crate::server::rules;
use crate::server::store::Connection;
use crate::server::store::rows::{ConversationRow, MessageRow};
use crate::server::store::{media, messages, participants};
use crate::server::validate;
use crate::server::webhooks::{event::pre, pre_event};

fn body(p: &MessageParams) -> ApiResult<Option<String>> {
    match &p.body {
        Some(b) if b.len() > validate::MESSAGE_BODY_BYTES => Err(ApiError::invalid(
            "Body",
            format!("is {} bytes, more than the limit of {}", b.len(), validate::MESSAGE_BODY_BYTES),
        )),
        other => Ok(other.clone()),
    }
}

/// A validated new message (`POST …/Messages`).
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Used only when the account posts; a person always posts as themselves.
    pub author: Option<String>,
    pub body: Option<String>,
    pub attributes: String,
    pub content_sid: Option<String>,
    /// `MediaSid`s of uploads to attach (see `attach_media`).
    pub media_sids: Vec<String>,
    pub date_created: i64,
    pub date_updated: i64,
    /// The `Idempotency-Key` header, if sent.
    pub idempotency_key: Option<String>,
}

impl NewMessage {
    pub fn from_params(p: &MessageParams, idempotency_key: Option<String>) -> ApiResult<Self> {
        let body = body(p)?;
        let attributes = match &p.attributes {
            Some(a) => validate::attributes("Attributes", a, validate::MESSAGE_ATTRIBUTES_BYTES)?,
            None => "{}".into(),
        };
        if let Some(s) = &p.subject {
            validate::name("Subject", s)?;
        }
        if let Some(c) = &p.content_sid
            && !crate::api::sid::is_sid("HX", c)
        {
            return Err(ApiError::invalid("ContentSid", "must be an HX SID"));
        }
        if body.as_deref().is_none_or(str::is_empty) && p.content_sid.is_none() && p.media_sid.is_empty() {
            return Err(ApiError::missing("Body"));
        }
        let now = now_unix();
        let date_created =
            p.date_created.as_deref().map(|d| validate::date("DateCreated", d)).transpose()?.unwrap_or(now);
        let date_updated =
            p.date_updated.as_deref().map(|d| validate::date("DateUpdated", d)).transpose()?.unwrap_or(date_created);
        if let Some(a) = &p.author {
            validate::name("Author", a)?;
        }
        Ok(Self {
            author: p.author.clone(),
            body,
            attributes,
            content_sid: p.content_sid.clone(),
            media_sids: p.media_sid.clone(),
            date_created,
            date_updated,
            idempotency_key,
        })
    }
}

/// Operation: `ctx.caller` posts `new` in conversation `conversation`.
pub async fn create(ctx: &Ctx, conversation: String, mut new: NewMessage) -> ApiResult<MessageRow> {
    let caller = ctx.caller.clone();
    let proposed = {
        let (caller, conversation, new) = (caller.clone(), conversation.clone(), new.clone());
        move |conn: &Connection| {
            let c = lookup::conversation(conn, &conversation)?;
            rules::standing(conn, &caller, &c)?;
            let author = caller.identity().map(str::to_owned).or(new.author).unwrap_or_else(|| "system".into());
            Ok(
                serde_json::json!({"conversation_sid": c.sid, "author": author, "body": new.body, "attributes": new.attributes}),
            )
        }
    };
    let changes = pre_event(&ctx.state, pre::MESSAGE_ADD, proposed).await?;
    if let Some(b) = changes.body {
        new.body = Some(b);
    }
    if let Some(a) = changes.attributes {
        new.attributes = validate::attributes("Attributes", &a, validate::MESSAGE_ATTRIBUTES_BYTES)?;
    }
    // The pre-event webhook may name the author, whoever posts.
    let webhook_author = changes.author;
    // The writer does only the SQL; JSON is rendered by the route and, for
    // streams, on the publisher thread, so the one writer thread spends nothing on it.
    let event_urls = ctx.urls.clone();
    let now = now_unix();
    ctx.state
        .store
        .write(move |conn| {
            if let Some(k) = &new.idempotency_key
                && let Some(first) = messages::idempotent_message(conn, &caller.key(), k, now)?
            {
                let first = first.ok_or_else(|| {
                    ApiError::not_found(format!("the message first posted with Idempotency-Key {k} (it was deleted)"))
                })?;
                return Ok((first, Vec::new()));
            }
            let c = lookup::conversation(conn, &conversation)?;
            let s = rules::standing(conn, &caller, &c)?;
            rules::may_send_message(&s, !new.media_sids.is_empty())?;
            check_reply(conn, &c.sid, &new.attributes)?;
            let (author, participant_sid) = match &webhook_author {
                Some(a) => (Some(a.clone()), participants::get(conn, &c.sid, a)?.map(|p| p.sid)),
                None => rules::message_author(&s, new.author.as_deref(), |author| {
                    Ok(participants::get(conn, &c.sid, author)?.map(|p| p.sid))
                })?,
            };
            let mut m = MessageRow {
                conversation_sid: c.sid.clone(),
                idx: 0,
                sid: messages::new_message_sid(),
                author,
                body: new.body,
                attributes: new.attributes,
                participant_sid,
                date_created: new.date_created,
                date_updated: Some(new.date_updated),
                media: None,
                content_sid: new.content_sid,
            };
            m.media = attach_media(conn, &caller, &c.sid, &m.sid, &new.media_sids)?;
            messages::insert(conn, &mut m)?;
            if let Some(k) = &new.idempotency_key {
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
        .await
}

/// A validated change to a message (`POST …/Messages/{Sid}`).
#[derive(Debug, Clone)]
pub struct MessageChange {
    pub body: Option<String>,
    pub attributes: Option<String>,
    /// Applied only when the account edits.
    pub author: Option<String>,
    pub date_created: Option<i64>,
    pub date_updated: Option<i64>,
}

impl MessageChange {
    pub fn from_params(p: &MessageParams) -> ApiResult<Self> {
        let body = body(p)?;
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
        Ok(Self { body, attributes, author: p.author.clone(), date_created, date_updated })
    }
}

/// Operation: `ctx.caller` changes message `message` of `conversation` as `change` says.
pub async fn update(
    ctx: &Ctx,
    conversation: String,
    message: String,
    mut change: MessageChange,
) -> ApiResult<MessageRow> {
    let proposed = {
        let (caller, urls, conversation, message, change) =
            (ctx.caller.clone(), ctx.urls.clone(), conversation.clone(), message.clone(), change.clone());
        move |conn: &Connection| {
            let c = lookup::conversation(conn, &conversation)?;
            rules::standing(conn, &caller, &c)?;
            let mut v = to_value(&urls.message_json(&lookup::message(conn, &c, &message)?));
            if let Some(b) = change.body {
                v["body"] = b.into();
            }
            if let Some(a) = change.attributes {
                v["attributes"] = a.into();
            }
            Ok(v)
        }
    };
    let changes = pre_event(&ctx.state, pre::MESSAGE_UPDATE, proposed).await?;
    if let Some(b) = changes.body {
        change.body = Some(b);
    }
    if let Some(a) = changes.attributes {
        change.attributes = Some(validate::attributes("Attributes", &a, validate::MESSAGE_ATTRIBUTES_BYTES)?);
    }
    ctx.write(move |conn, caller, urls| {
        let c = lookup::conversation(conn, &conversation)?;
        let s = rules::standing(conn, caller, &c)?;
        let mut m = lookup::message(conn, &c, &message)?;
        let body = change.body.is_some() || change.date_created.is_some() || change.date_updated.is_some();
        rules::may_edit_message(&s, &m, body, change.attributes.is_some())?;
        if let Some(b) = change.body {
            m.body = Some(b);
        }
        if let Some(a) = change.attributes {
            check_reply(conn, &c.sid, &a)?;
            m.attributes = a;
        }
        if let Some(a) = change.author.filter(|_| rules::may_set_author(caller)) {
            m.author = Some(a);
        }
        if let Some(d) = change.date_created {
            m.date_created = d;
        }
        m.date_updated = Some(change.date_updated.unwrap_or_else(now_unix));
        messages::update(conn, &m)?;
        let effects = vec![to_conversation(&c.sid, EventName::MessageUpdated, to_value(&urls.message_json(&m)))];
        Ok((m, effects))
    })
    .await
}

/// Operation: `ctx.caller` deletes message `message` of `conversation`.
pub async fn delete(ctx: &Ctx, conversation: String, message: String) -> ApiResult<()> {
    let proposed = {
        let (caller, urls, conversation, message) =
            (ctx.caller.clone(), ctx.urls.clone(), conversation.clone(), message.clone());
        move |conn: &Connection| {
            let c = lookup::conversation(conn, &conversation)?;
            rules::standing(conn, &caller, &c)?;
            Ok(to_value(&urls.message_json(&lookup::message(conn, &c, &message)?)))
        }
    };
    pre_event(&ctx.state, pre::MESSAGE_REMOVE, proposed).await?;
    ctx.write(move |conn, caller, urls| {
        let c = lookup::conversation(conn, &conversation)?;
        let s = rules::standing(conn, caller, &c)?;
        let m = lookup::message(conn, &c, &message)?;
        rules::may_delete_message(&s, &m)?;
        messages::delete(conn, &m)?;
        media::delete_of_message(conn, &m.sid)?;
        let after = lookup::conversation(conn, &c.sid)?;
        let effects = vec![
            to_conversation(&c.sid, EventName::MessageRemoved, to_value(&urls.message_json(&m))),
            conversation_updated(urls, after),
        ];
        Ok(((), effects))
    })
    .await
}

/// Most media one message carries.
const MEDIA_PER_MESSAGE: usize = 10;

/// Ties the uploads `sids` to new message `message_sid` (the uploader's, once
/// each: `rules`); the message's `media`: Twilio's array as JSON, or none.
fn attach_media(
    conn: &Connection,
    caller: &Caller,
    conversation_sid: &str,
    message_sid: &str,
    sids: &[String],
) -> ApiResult<Option<String>> {
    if sids.is_empty() {
        return Ok(None);
    }
    if sids.len() > MEDIA_PER_MESSAGE {
        return Err(ApiError::invalid("MediaSid", format!("at most {MEDIA_PER_MESSAGE} per message")));
    }
    let mut list = Vec::with_capacity(sids.len());
    for sid in sids {
        let m = media::get(conn, sid)?.ok_or_else(|| ApiError::invalid("MediaSid", format!("{sid} is not a media")))?;
        rules::may_attach_media(caller, &m)?;
        if !media::attach(conn, sid, conversation_sid, message_sid)? {
            return Err(ApiError::invalid("MediaSid", format!("{sid} is already attached to a message")));
        }
        list.push(serde_json::json!({
            "sid": m.sid, "content_type": m.content_type, "filename": m.filename, "size": m.size, "category": m.category,
        }));
    }
    Ok(Some(serde_json::Value::Array(list).to_string()))
}

/// A reply (`attributes.reply_to = {"message_sid", "index", "author"}`) must
/// answer a message of the same conversation: 400 otherwise.
fn check_reply(conn: &Connection, conversation_sid: &str, attributes: &str) -> ApiResult<()> {
    let attrs: serde_json::Value = serde_json::from_str(attributes).unwrap_or_default();
    let Some(reply) = attrs.get("reply_to") else { return Ok(()) };
    let sid = reply.get("message_sid").and_then(|s| s.as_str()).filter(|s| crate::api::sid::is_sid("IM", s));
    let Some(sid) = sid else {
        return Err(ApiError::invalid("Attributes", "reply_to.message_sid must be a message SID"));
    };
    if messages::get(conn, conversation_sid, sid)?.is_none() {
        return Err(ApiError::invalid(
            "Attributes",
            format!("reply_to names {sid}, not a message of this conversation"),
        ));
    }
    Ok(())
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
