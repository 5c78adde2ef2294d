//! `/Conversations/{c}/Participants[/{Sid}]`: chat participants by identity and
//! SMS-style ones by messaging binding. Any participant may add others; a
//! person joins only a conversation they are in or one whose attributes say
//! `"public": true`; a person updates only their own participant; removing
//! someone else takes the creator (anyone may leave).

use std::sync::Arc;

use crate::server::store::Connection;
use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::conversations::new_participant;
use super::{Standing, conversation, created, no_content, ok, standing, to_conversation, to_only};
use crate::api::error::ErrorCode;
use crate::api::params::{ListQuery, ParticipantParams};
use crate::api::stream::EventName;
use crate::api::time::now_unix;
use crate::server::AppState;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, EmptyFields, Form, FormWithEmpty, Path, Query};
use crate::server::hub::{Audience, Effect};
use crate::server::paging::{self, PageRequest};
use crate::server::render::{Urls, to_value};
use crate::server::store::rows::{ConversationRow, ParticipantRow};
use crate::server::store::{participants, users};
use crate::server::validate;

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

/// A validated participant to add: a chat identity or a messaging binding.
pub struct NewParticipant {
    identity: Option<String>,
    /// (binding JSON, address, proxy address) of an SMS-style participant.
    binding: Option<(String, String, Option<String>)>,
    attributes: Option<String>,
    role_sid: Option<String>,
    date_created: Option<i64>,
    date_updated: Option<i64>,
}

impl NewParticipant {
    /// Checks the form's fields (names, sizes, SID shapes, Identity xor binding).
    pub fn from_params(p: &ParticipantParams) -> ApiResult<Self> {
        if p.identity.is_some() && p.messaging_binding_address.is_some() {
            return Err(ApiError::new(
                ErrorCode::IdentityAndBinding,
                "A participant has either an Identity or a MessagingBinding, not both",
            ));
        }
        let identity = p.identity.as_deref().map(validate::identity).transpose()?;
        let binding = match (&identity, &p.messaging_binding_address) {
            (Some(_), _) => {
                if let Some(pa) = &p.messaging_binding_projected_address {
                    validate::name("MessagingBinding.ProjectedAddress", pa)?;
                }
                None
            }
            (None, None) if p.messaging_binding_projected_address.is_some() => {
                return Err(ApiError::invalid("MessagingBinding.Address", "group participants are not supported"));
            }
            (None, None) => return Err(ApiError::missing("Identity")),
            (None, Some(address)) => {
                validate::name("MessagingBinding.Address", address)?;
                let proxy = p
                    .messaging_binding_proxy_address
                    .as_deref()
                    .map(|a| validate::name("MessagingBinding.ProxyAddress", a))
                    .transpose()?;
                let kind = if address.starts_with("whatsapp:") { "whatsapp" } else { "sms" };
                let json = json!({"type": kind, "address": address, "proxy_address": proxy}).to_string();
                Some((json, address.clone(), proxy))
            }
        };
        let attributes = p
            .attributes
            .as_deref()
            .map(|a| validate::attributes("Attributes", a, validate::PARTICIPANT_ATTRIBUTES_BYTES))
            .transpose()?;
        if let Some(r) = &p.role_sid
            && !crate::api::sid::is_sid("RL", r)
        {
            return Err(ApiError::invalid("RoleSid", "must be an RL SID"));
        }
        Ok(Self {
            identity,
            binding,
            attributes,
            role_sid: p.role_sid.clone(),
            date_created: p.date_created.as_deref().map(|d| validate::date("DateCreated", d)).transpose()?,
            date_updated: p.date_updated.as_deref().map(|d| validate::date("DateUpdated", d)).transpose()?,
        })
    }

    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// Inserts the participant into `c` after the limit and duplicate checks.
    /// Effects: membership, `conversationAdded` to the new user, `participantJoined`.
    pub fn add(
        self,
        conn: &Connection,
        urls: &Urls,
        c: &ConversationRow,
        now: i64,
    ) -> ApiResult<(ParticipantRow, Vec<Effect>)> {
        let (total, non_chat) = participants::counts(conn, &c.sid)?;
        if total >= validate::MAX_PARTICIPANTS {
            return Err(ApiError::new(
                ErrorCode::TooManyParticipants,
                "The conversation has the maximum of 1000 participants",
            ));
        }
        let (binding_json, address, proxy) = match self.binding {
            Some((json, address, proxy)) => {
                if non_chat >= validate::MAX_NON_CHAT_PARTICIPANTS {
                    return Err(ApiError::new(
                        ErrorCode::TooManyParticipants,
                        "The conversation has the maximum of 50 non-chat participants",
                    ));
                }
                if participants::by_address(conn, &c.sid, &address, proxy.as_deref())? {
                    return Err(ApiError::new(
                        ErrorCode::BindingExists,
                        "A participant with this messaging binding already exists",
                    ));
                }
                (Some(json), Some(address), proxy)
            }
            None => (None, None, None),
        };
        if let Some(i) = &self.identity
            && participants::get(conn, &c.sid, i)?.is_some()
        {
            return Err(ApiError::new(ErrorCode::ParticipantExists, format!("Participant {i} already exists")));
        }
        let mut row = new_participant(&c.sid, self.identity.clone(), binding_json, now);
        if let Some(a) = self.attributes {
            row.attributes = a;
        }
        row.role_sid = self.role_sid;
        if let Some(d) = self.date_created {
            row.date_created = d;
            row.date_updated = d;
        }
        if let Some(d) = self.date_updated {
            row.date_updated = d;
        }
        participants::insert(conn, &row, address.as_deref(), proxy.as_deref())?;
        row.id = conn.last_insert_rowid();
        let mut effects = Vec::new();
        if let Some(i) = &self.identity {
            users::ensure(conn, i, now)?;
            let after = conversation(conn, &c.sid)?;
            effects.push(Effect::Join { conversation: c.sid.clone(), identity: i.clone() });
            effects.push(to_only(i, &c.sid, EventName::ConversationAdded, to_value(&urls.conversation_json(&after))));
        }
        effects.push(to_conversation(&c.sid, EventName::ParticipantJoined, to_value(&urls.participant_json(&row))));
        Ok((row, effects))
    }
}

async fn create(ctx: Ctx, Path(path): Path<ConversationPath>, Form(p): Form<ParticipantParams>) -> ApiResult<Response> {
    let new = NewParticipant::from_params(&p)?;
    let body = ctx
        .write(move |conn, caller, urls| {
            let c = conversation(conn, &path.conversation)?;
            if let Caller::Person(me) = &caller {
                let joining_self = new.identity() == Some(me.as_str());
                let member = participants::get(conn, &c.sid, me)?.is_some();
                if !(member || (joining_self && c.is_public())) {
                    return Err(ApiError::not_participant());
                }
            }
            let (row, mut effects) = new.add(conn, urls, &c, now_unix())?;
            let after = conversation(conn, &c.sid)?;
            effects.push(to_conversation(
                &c.sid,
                EventName::ConversationUpdated,
                to_value(&urls.conversation_json(&after)),
            ));
            Ok((urls.participant_json(&row), effects))
        })
        .await?;
    Ok(created(&body))
}

async fn list(ctx: Ctx, Path(path): Path<ConversationPath>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let req = PageRequest::parse(&q, 50, 100, false)?;
    let page = ctx
        .read(move |conn, caller, urls| {
            let c = conversation(conn, &path.conversation)?;
            standing(conn, caller, &c)?;
            let slice = paging::fetch(&req, |w| participants::scan(conn, &c.sid, w))?;
            Ok(paging::envelope(&req, slice, &urls.participants(&c.sid), &[], "participants")
                .map(|p| urls.participant_json(p)))
        })
        .await?;
    Ok(ok(&page))
}

pub fn participant(conn: &Connection, c: &ConversationRow, key: &str) -> ApiResult<ParticipantRow> {
    participants::get(conn, &c.sid, key)?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("Participant {key} was not found")))
}

async fn fetch(ctx: Ctx, Path(path): Path<ParticipantPath>) -> ApiResult<Response> {
    let body = ctx
        .read(move |conn, caller, urls| {
            let c = conversation(conn, &path.conversation)?;
            standing(conn, caller, &c)?;
            Ok(urls.participant_json(&participant(conn, &c, &path.participant)?))
        })
        .await?;
    Ok(ok(&body))
}

/// Events after a participant's change: `participantUpdated` to the
/// conversation and, when it is a chat user, `userConversationUpdated` to them.
pub fn updated_effects(conn: &Connection, urls: &Urls, p: &ParticipantRow) -> ApiResult<Vec<Effect>> {
    let mut effects =
        vec![to_conversation(&p.conversation_sid, EventName::ParticipantUpdated, to_value(&urls.participant_json(p)))];
    if let Some(identity) = &p.identity
        && let Some(user) = users::get(conn, identity)?
        && let Some(m) = participants::membership(conn, identity, &p.conversation_sid)?
    {
        effects.push(Effect::send(
            Audience::User(identity.clone()),
            EventName::UserConversationUpdated,
            Some(&p.conversation_sid),
            to_value(&urls.user_conversation_json(&user.sid, &m)),
        ));
    }
    Ok(effects)
}

/// A move of a participant's read horizon (`LastReadMessageIndex`,
/// `LastReadTimestamp`), as both participant and user-conversation updates
/// take it: `None` leaves a field alone, `Some(None)` clears it (sent empty).
pub struct ReadHorizon {
    index: Option<Option<i64>>,
    timestamp: Option<Option<i64>>,
}

impl ReadHorizon {
    pub fn parse(index: &Option<String>, timestamp: &Option<String>, empty: &EmptyFields) -> ApiResult<Self> {
        let index = match index.as_deref() {
            None if empty.contains("LastReadMessageIndex") => Some(None),
            None => None,
            Some(v) => Some(validate::read_index("LastReadMessageIndex", v)?),
        };
        let timestamp = match timestamp.as_deref() {
            None if empty.contains("LastReadTimestamp") => Some(None),
            None => None,
            Some("") => Some(None),
            Some(v) => Some(Some(validate::date("LastReadTimestamp", v)?)),
        };
        Ok(Self { index, timestamp })
    }

    pub fn apply(&self, row: &mut ParticipantRow) {
        if let Some(i) = self.index {
            row.last_read_index = i;
            if self.timestamp.is_none() {
                // Moving the horizon stamps it; clearing it clears the stamp too.
                row.last_read_ts = i.map(|_| now_unix());
            }
        }
        if let Some(t) = self.timestamp {
            row.last_read_ts = t;
        }
    }
}

async fn update(
    ctx: Ctx,
    Path(path): Path<ParticipantPath>,
    FormWithEmpty(p, empty): FormWithEmpty<ParticipantParams>,
) -> ApiResult<Response> {
    let attributes = p
        .attributes
        .as_deref()
        .map(|a| validate::attributes("Attributes", a, validate::PARTICIPANT_ATTRIBUTES_BYTES))
        .transpose()?;
    let horizon = ReadHorizon::parse(&p.last_read_message_index, &p.last_read_timestamp, &empty)?;
    let date_created = p.date_created.as_deref().map(|d| validate::date("DateCreated", d)).transpose()?;
    let date_updated = p.date_updated.as_deref().map(|d| validate::date("DateUpdated", d)).transpose()?;
    let new_identity = p.identity.as_deref().map(validate::identity).transpose()?;
    if let Some(r) = p.role_sid.as_deref().filter(|r| !r.is_empty())
        && !crate::api::sid::is_sid("RL", r)
    {
        return Err(ApiError::invalid("RoleSid", "must be an RL SID"));
    }
    let body = ctx
        .write(move |conn, caller, urls| {
            let c = conversation(conn, &path.conversation)?;
            let s = standing(conn, caller, &c)?;
            let mut row = participant(conn, &c, &path.participant)?;
            if let Standing::Member { me, .. } = &s
                && me.sid != row.sid
            {
                return Err(ApiError::forbidden("A participant may only update themselves"));
            }
            if let Some(a) = attributes {
                row.attributes = a;
            }
            if let Some(r) = &p.role_sid {
                row.role_sid = Some(r.clone()).filter(|r| !r.is_empty());
            }
            horizon.apply(&mut row);
            if let Some(i) = &new_identity
                && row.identity.as_ref() != Some(i)
            {
                if row.identity.is_none() || !matches!(s, Standing::Admin) {
                    return Err(ApiError::invalid("Identity", "only the account may rename a chat participant"));
                }
                if participants::get(conn, &c.sid, i)?.is_some() {
                    return Err(ApiError::new(ErrorCode::ParticipantExists, format!("Participant {i} already exists")));
                }
                row.identity = Some(i.clone());
                users::ensure(conn, i, now_unix())?;
            }
            if let Some(d) = date_created {
                row.date_created = d;
            }
            row.date_updated = date_updated.unwrap_or_else(now_unix);
            participants::update(conn, &row)?;
            let effects = updated_effects(conn, urls, &row)?;
            Ok((urls.participant_json(&row), effects))
        })
        .await?;
    Ok(ok(&body))
}

/// Removes `row` from `c`: `participantLeft` to the conversation (the leaver
/// included), then `conversationRemoved` to the leaver alone.
pub fn leave(conn: &Connection, urls: &Urls, c: &ConversationRow, row: &ParticipantRow) -> ApiResult<Vec<Effect>> {
    participants::delete(conn, row)?;
    let after = conversation(conn, &c.sid)?;
    let mut effects = vec![to_conversation(&c.sid, EventName::ParticipantLeft, to_value(&urls.participant_json(row)))];
    if let Some(identity) = &row.identity {
        effects.push(Effect::Leave { conversation: c.sid.clone(), identity: identity.clone() });
        effects.push(to_only(
            identity,
            &c.sid,
            EventName::ConversationRemoved,
            to_value(&urls.conversation_json(&after)),
        ));
    }
    effects.push(to_conversation(&c.sid, EventName::ConversationUpdated, to_value(&urls.conversation_json(&after))));
    Ok(effects)
}

async fn remove(ctx: Ctx, Path(path): Path<ParticipantPath>) -> ApiResult<Response> {
    ctx.write(move |conn, caller, urls| {
        let c = conversation(conn, &path.conversation)?;
        let s = standing(conn, caller, &c)?;
        let row = participant(conn, &c, &path.participant)?;
        let myself = s.me().is_some_and(|me| me.sid == row.sid);
        if !myself && !s.is_moderator() {
            return Err(ApiError::forbidden("Only the conversation's creator may remove other participants"));
        }
        Ok(((), leave(conn, urls, &c, &row)?))
    })
    .await?;
    Ok(no_content())
}
