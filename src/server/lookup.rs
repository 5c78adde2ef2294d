//! Look-ups by SID or name that answer Twilio's 404 (20404) when nothing is
//! there: the first step of almost every operation, before any access rule.

use crate::server::store::Connection;

use crate::api::error::ErrorCode;
use crate::server::error::{ApiError, ApiResult};
use crate::server::rules::permissions::RoleType;
use crate::server::store;
use crate::server::store::rows::{ConversationRow, MessageRow, ParticipantRow, UserRow};

/// The conversation by SID or unique name.
pub fn conversation(conn: &Connection, key: &str) -> ApiResult<ConversationRow> {
    store::conversations::get(conn, key)?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("Conversation {key} was not found")))
}

/// A participant of `c` by SID or identity.
pub fn participant(conn: &Connection, c: &ConversationRow, key: &str) -> ApiResult<ParticipantRow> {
    store::participants::get(conn, &c.sid, key)?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("Participant {key} was not found")))
}

/// A message of `c` by SID (or index).
pub fn message(conn: &Connection, c: &ConversationRow, sid: &str) -> ApiResult<MessageRow> {
    store::messages::get(conn, &c.sid, sid)?.ok_or_else(|| ApiError::not_found(format!("Message {sid}")))
}

/// A user by SID or identity.
pub fn user(conn: &Connection, key: &str) -> ApiResult<UserRow> {
    store::users::get(conn, key)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("User {key} was not found")))
}

/// User `u`'s membership of the conversation `key` (SID or unique name).
pub fn membership(conn: &Connection, u: &UserRow, key: &str) -> ApiResult<store::rows::MembershipRow> {
    let c = conversation(conn, key)?;
    store::participants::membership(conn, &u.identity, &c.sid)?.ok_or_else(|| {
        ApiError::new(ErrorCode::NotFound, format!("User {} is not a participant of conversation {key}", u.identity))
    })
}

/// A role by SID.
pub fn role(conn: &Connection, sid: &str) -> ApiResult<store::rows::RoleRow> {
    store::roles::get(conn, sid)?.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("Role {sid} was not found")))
}

/// The role a `param` (`RoleSid`, `Default…RoleSid`) names: it must exist and be of type `want` (else 400).
pub fn role_param(conn: &Connection, param: &str, sid: &str, want: RoleType) -> ApiResult<store::rows::RoleRow> {
    let role = store::roles::get(conn, sid)?.ok_or_else(|| ApiError::invalid(param, format!("no role {sid}")))?;
    if RoleType::parse(&role.role_type) != Some(want) {
        return Err(ApiError::invalid(param, format!("{sid} is not a {} role", want.as_str())));
    }
    Ok(role)
}
