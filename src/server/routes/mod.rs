//! One router per resource; `app` merges them and mounts the result under both
//! `/v1` and `/v1/Services/{ChatServiceSid}`. Shared here: look-ups that
//! answer 404, the common event audiences, and the access rules of DESIGN.md
//! "Identity and access".

pub mod conversations;
pub mod messages;
pub mod participant_conversations;
pub mod participants;
pub mod receipts;
pub mod services;
pub mod user_conversations;
pub mod users;

use crate::server::store::Connection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::api::error::ErrorCode;
use crate::api::stream::EventName;
use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::hub::{Audience, Effect};
use crate::server::store;
use crate::server::store::rows::{ConversationRow, ParticipantRow};

/// 201 with a JSON body.
pub fn created<T: Serialize>(body: &T) -> Response {
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

/// 200 with a JSON body.
pub fn ok<T: Serialize>(body: &T) -> Response {
    axum::Json(body).into_response()
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The conversation by SID or unique name, or 404.
pub fn conversation(conn: &Connection, key: &str) -> ApiResult<ConversationRow> {
    store::conversations::get(conn, key)?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("Conversation {key} was not found")))
}

/// An event to everyone in conversation `sid`: the audience of most changes.
pub fn to_conversation(sid: &str, event: EventName, data: Value) -> Effect {
    Effect::send(Audience::Conversation(sid.to_owned()), event, Some(sid), data)
}

/// An event about conversation `sid` to `identity` alone (being added or removed).
pub fn to_only(identity: &str, sid: &str, event: EventName, data: Value) -> Effect {
    Effect::send(Audience::Only(identity.to_owned()), event, Some(sid), data)
}

/// What the caller is to a conversation.
pub enum Standing {
    Admin,
    /// A participant; `creator` when they created the conversation.
    Member {
        me: Box<ParticipantRow>,
        creator: bool,
    },
}

impl Standing {
    /// Creator or account: may rename, remove others, delete.
    pub fn is_moderator(&self) -> bool {
        matches!(self, Standing::Admin | Standing::Member { creator: true, .. })
    }

    pub fn me(&self) -> Option<&ParticipantRow> {
        match self {
            Standing::Admin => None,
            Standing::Member { me, .. } => Some(me),
        }
    }
}

/// The caller's standing in `c`; a person who is not in it gets 403 / 50430.
pub fn standing(conn: &Connection, caller: &Caller, c: &ConversationRow) -> ApiResult<Standing> {
    match caller {
        Caller::Admin => Ok(Standing::Admin),
        Caller::Person(identity) => {
            let me = store::participants::get(conn, &c.sid, identity)?.ok_or_else(ApiError::not_participant)?;
            let creator = c.created_by.as_deref() == Some(identity.as_str());
            Ok(Standing::Member { me: Box::new(me), creator })
        }
    }
}

/// Refuses with 403 / 20403 unless the caller moderates the conversation.
pub fn require_moderator(s: &Standing, what: &str) -> ApiResult<()> {
    if s.is_moderator() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("Only the conversation's creator may {what}")))
    }
}
