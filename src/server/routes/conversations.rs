//! `/Conversations` and `/Conversations/{Sid}`: create, list (State and date
//! filters), fetch, update, delete; and `/ConversationWithParticipants`. A
//! person who creates a conversation is its creator and first participant;
//! only the creator (or the account) may change or delete it. Timers count
//! from when they are set (not from the last activity) and fire in `timers`.

use std::sync::Arc;

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use super::participants::NewParticipant;
use super::{conversation, created, no_content, ok, require_moderator, standing, to_conversation};
use crate::api::error::ErrorCode;
use crate::api::params::{ConversationParams, ListQuery, ParticipantParams};
use crate::api::resources::ConversationState;
use crate::api::sid::{new_sid, prefix};
use crate::api::stream::EventName;
use crate::api::time::now_unix;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, Form, FormWithEmpty, Path, Query, RawForm};
use crate::server::hub::Effect;
use crate::server::paging::{self, PageRequest};
use crate::server::render::to_value;
use crate::server::store::conversations;
use crate::server::store::rows::{ConversationRow, ParticipantRow};
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

/// Applies the form's fields to `c` (create and update share the rules).
fn apply(c: &mut ConversationRow, p: &ConversationParams, now: i64) -> ApiResult<()> {
    if let Some(v) = &p.friendly_name {
        c.friendly_name = Some(validate::name("FriendlyName", v)?);
    }
    if let Some(v) = &p.unique_name {
        c.unique_name = validate::unique_name(v)?;
    }
    if let Some(v) = &p.attributes {
        c.attributes = validate::attributes("Attributes", v, validate::CONVERSATION_ATTRIBUTES_BYTES)?;
    }
    if let Some(v) = &p.messaging_service_sid {
        if !crate::api::sid::is_sid("MG", v) {
            return Err(ApiError::invalid("MessagingServiceSid", "must be an MG SID"));
        }
        c.messaging_service_sid = Some(v.clone());
    }
    if let Some(v) = &p.state {
        let s = ConversationState::parse(v)
            .ok_or_else(|| ApiError::invalid("State", "must be initializing, active, inactive or closed"))?;
        c.state = s.as_str().to_owned();
    }
    if let Some(v) = &p.timers_inactive {
        let secs = validate::duration("Timers.Inactive", v)?;
        if secs < 60 {
            return Err(ApiError::invalid("Timers.Inactive", "must be at least 1 minute"));
        }
        c.date_inactive = Some(now + secs);
    }
    if let Some(v) = &p.timers_closed {
        let secs = validate::duration("Timers.Closed", v)?;
        if secs < 600 {
            return Err(ApiError::invalid("Timers.Closed", "must be at least 10 minutes"));
        }
        c.date_closed = Some(now + secs);
    }
    if p.bindings_email_address.is_some() || p.bindings_email_name.is_some() {
        let mut email = serde_json::Map::new();
        if let Some(a) = &p.bindings_email_address {
            email.insert("address".into(), validate::name("Bindings.Email.Address", a)?.into());
        }
        if let Some(n) = &p.bindings_email_name {
            email.insert("name".into(), validate::name("Bindings.Email.Name", n)?.into());
        }
        c.bindings = Some(serde_json::json!({ "email": email }).to_string());
    }
    if let Some(v) = &p.date_created {
        c.date_created = validate::date("DateCreated", v)?;
    }
    c.date_updated = match &p.date_updated {
        Some(v) => validate::date("DateUpdated", v)?,
        None => now,
    };
    Ok(())
}

fn unique_name_free(conn: &crate::server::store::Connection, c: &ConversationRow) -> ApiResult<()> {
    if let Some(name) = &c.unique_name
        && conversations::unique_name_taken(conn, name, &c.sid)?
    {
        return Err(ApiError::new(
            ErrorCode::ConversationUniqueNameTaken,
            format!("A Conversation with unique name {name} already exists"),
        ));
    }
    Ok(())
}

async fn create(ctx: Ctx, Form(p): Form<ConversationParams>) -> ApiResult<Response> {
    create_with(ctx, p, Vec::new()).await
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
    let participants = extra
        .participant
        .iter()
        .map(|j| participant_params(j).and_then(|p| NewParticipant::from_params(&p)))
        .collect::<ApiResult<Vec<_>>>()?;
    create_with(ctx, p, participants).await
}

/// Creates a conversation and adds `initial` participants, in one transaction.
/// A person creating it becomes its creator and first participant.
async fn create_with(ctx: Ctx, p: ConversationParams, initial: Vec<NewParticipant>) -> ApiResult<Response> {
    let now = now_unix();
    let mut c = ConversationRow {
        id: 0,
        sid: new_sid(prefix::CONVERSATION),
        unique_name: None,
        friendly_name: None,
        attributes: "{}".into(),
        state: "active".into(),
        messaging_service_sid: None,
        date_created: now,
        date_updated: now,
        date_inactive: None,
        date_closed: None,
        bindings: None,
        created_by: Some(ctx.identity().unwrap_or("system").to_owned()),
        messages_count: 0,
        participants_count: 0,
        last_message_index: None,
        last_message_date: None,
    };
    apply(&mut c, &p, now)?;
    if p.date_updated.is_none() && p.date_created.is_some() {
        c.date_updated = c.date_created;
    }
    let body = ctx
        .write(move |conn, caller, urls| {
            unique_name_free(conn, &c)?;
            conversations::insert(conn, &c)?;
            // Admin streams learn of the conversation first; each participant
            // below then gets its own conversationAdded.
            let mut effects =
                vec![to_conversation(&c.sid, EventName::ConversationAdded, to_value(&urls.conversation_json(&c)))];
            if let Caller::Person(identity) = &caller {
                // The creator joins at once, as the Twilio SDK's createConversation does.
                let me = NewParticipant::from_params(&ParticipantParams {
                    identity: Some(identity.clone()),
                    ..Default::default()
                })?;
                effects.extend(me.add(conn, urls, &c, now)?.1);
            }
            for new in initial {
                if new.identity().is_some() && new.identity() == caller.identity() {
                    continue;
                }
                effects.extend(new.add(conn, urls, &c, now)?.1);
            }
            let row = conversation(conn, &c.sid)?;
            Ok((urls.conversation_json(&row), effects))
        })
        .await?;
    Ok(created(&body))
}

/// A chat participant (identity) or a messaging one (binding JSON), with defaults.
pub fn new_participant(
    conversation_sid: &str,
    identity: Option<String>,
    binding: Option<String>,
    now: i64,
) -> ParticipantRow {
    ParticipantRow {
        id: 0,
        sid: new_sid(prefix::PARTICIPANT),
        conversation_sid: conversation_sid.to_owned(),
        identity,
        attributes: "{}".into(),
        binding,
        role_sid: None,
        date_created: now,
        date_updated: now,
        last_read_index: None,
        last_read_ts: None,
        notification_level: "default".into(),
    }
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
    filter.member = ctx.identity().map(str::to_owned);
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
            let c = conversation(conn, &path.conversation)?;
            // A public conversation may be looked at before joining it.
            if !c.is_public() {
                standing(conn, caller, &c)?;
            }
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
    let body = ctx
        .write(move |conn, caller, urls| {
            let mut c = conversation(conn, &path.conversation)?;
            let s = standing(conn, caller, &c)?;
            require_moderator(&s, "change the conversation")?;
            apply(&mut c, &p, now_unix())?;
            // `UniqueName=` (empty) removes the unique name.
            if empty.contains("UniqueName") {
                c.unique_name = None;
            }
            unique_name_free(conn, &c)?;
            conversations::update(conn, &c)?;
            let json = urls.conversation_json(&c);
            let effects = vec![to_conversation(&c.sid, EventName::ConversationUpdated, to_value(&json))];
            Ok((json, effects))
        })
        .await?;
    Ok(ok(&body))
}

async fn remove(ctx: Ctx, Path(path): Path<ConversationPath>) -> ApiResult<Response> {
    ctx.write(move |conn, caller, urls| {
        let c = conversation(conn, &path.conversation)?;
        let s = standing(conn, caller, &c)?;
        require_moderator(&s, "delete the conversation")?;
        conversations::delete(conn, &c.sid)?;
        let effects = vec![
            to_conversation(&c.sid, EventName::ConversationRemoved, to_value(&urls.conversation_json(&c))),
            Effect::DropConversation(c.sid.clone()),
        ];
        Ok(((), effects))
    })
    .await?;
    Ok(no_content())
}
