//! Who may do what: every access rule of DESIGN.md "Identity and access", in
//! one file, each answering with Twilio's error. The account (Basic auth) may
//! do everything; a person (access token) is checked here, against their
//! standing in the conversation. `tests/server/access.rs` tries each rule.
//!
//! Operations call these before they change anything; routes never decide.

use rusqlite::Connection;

use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store;
use crate::server::store::rows::{ConversationRow, MessageRow, ParticipantRow, UserRow};

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
    fn is_moderator(&self) -> bool {
        matches!(self, Standing::Admin | Standing::Member { creator: true, .. })
    }

    /// The caller's own participant (none for the account).
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

/// Reading a conversation's messages, participants or receipts: its participants.
pub fn may_read_conversation(conn: &Connection, caller: &Caller, c: &ConversationRow) -> ApiResult<()> {
    standing(conn, caller, c).map(drop)
}

fn moderator(s: &Standing, what: &str) -> ApiResult<()> {
    if s.is_moderator() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("Only the conversation's creator may {what}")))
    }
}

// ---- conversations ----

/// Whose conversations a list shows: a person sees only those they are in.
pub fn conversation_list_member(caller: &Caller) -> Option<String> {
    caller.identity().map(str::to_owned)
}

/// Fetching a conversation: participants, or anyone when it is public
/// (`"public": true` in its attributes), so it can be looked at before joining.
pub fn may_fetch_conversation(conn: &Connection, caller: &Caller, c: &ConversationRow) -> ApiResult<()> {
    if !c.is_public() {
        standing(conn, caller, c)?;
    }
    Ok(())
}

/// Renaming or changing a conversation: its creator.
pub fn may_update_conversation(s: &Standing) -> ApiResult<()> {
    moderator(s, "change the conversation")
}

/// Deleting a conversation: its creator.
pub fn may_delete_conversation(s: &Standing) -> ApiResult<()> {
    moderator(s, "delete the conversation")
}

// ---- participants ----

/// Adding `identity` (None: a messaging binding) to `c`: any participant may
/// add others; a person joins (adds themselves) only a public conversation.
pub fn may_add_participant(
    conn: &Connection,
    caller: &Caller,
    c: &ConversationRow,
    identity: Option<&str>,
) -> ApiResult<()> {
    let Caller::Person(me) = caller else { return Ok(()) };
    let joining_self = identity == Some(me.as_str());
    let member = store::participants::get(conn, &c.sid, me)?.is_some();
    if member || (joining_self && c.is_public()) { Ok(()) } else { Err(ApiError::not_participant()) }
}

/// Updating participant `target`: a person updates only themselves.
pub fn may_update_participant(s: &Standing, target: &ParticipantRow) -> ApiResult<()> {
    match s.me() {
        Some(me) if me.sid != target.sid => Err(ApiError::forbidden("A participant may only update themselves")),
        _ => Ok(()),
    }
}

/// Changing a participant's identity: only the account, and only for a chat participant.
pub fn may_rename_participant(s: &Standing, target: &ParticipantRow) -> ApiResult<()> {
    if target.identity.is_none() || !matches!(s, Standing::Admin) {
        return Err(ApiError::invalid("Identity", "only the account may rename a chat participant"));
    }
    Ok(())
}

/// Removing participant `target`: anyone may leave; removing others takes the creator.
pub fn may_remove_participant(s: &Standing, target: &ParticipantRow) -> ApiResult<()> {
    let myself = s.me().is_some_and(|me| me.sid == target.sid);
    if myself || s.is_moderator() {
        Ok(())
    } else {
        Err(ApiError::forbidden("Only the conversation's creator may remove other participants"))
    }
}

// ---- messages ----

/// Who a new message is by: a person's messages are theirs whatever `Author`
/// says; the account writes as `Author` (default `system`). Returns the author
/// and, when known, the participant SID; `participant_of` finds an author's participant.
pub fn message_author(
    s: &Standing,
    author: Option<&str>,
    participant_of: impl FnOnce(&str) -> ApiResult<Option<String>>,
) -> ApiResult<(Option<String>, Option<String>)> {
    match s {
        Standing::Member { me, .. } => Ok((me.identity.clone(), Some(me.sid.clone()))),
        Standing::Admin => {
            let author = author.filter(|a| !a.is_empty()).unwrap_or("system").to_owned();
            let sid = participant_of(&author)?;
            Ok((Some(author), sid))
        }
    }
}

fn is_own(s: &Standing, m: &MessageRow) -> bool {
    match s {
        Standing::Admin => true,
        Standing::Member { me, .. } => me.identity.is_some() && me.identity == m.author,
    }
}

/// Editing message `m`: its author (the account edits any).
pub fn may_edit_message(s: &Standing, m: &MessageRow) -> ApiResult<()> {
    if is_own(s, m) { Ok(()) } else { Err(ApiError::forbidden("Only the author may edit a message")) }
}

/// Changing a message's `Author`: only the account (a person's `Author` is ignored).
pub fn may_set_author(caller: &Caller) -> bool {
    matches!(caller, Caller::Admin)
}

/// Deleting message `m`: its author or the conversation's creator.
pub fn may_delete_message(s: &Standing, m: &MessageRow) -> ApiResult<()> {
    if is_own(s, m) || s.is_moderator() {
        Ok(())
    } else {
        Err(ApiError::forbidden("Only the author or the conversation's creator may delete a message"))
    }
}

// ---- users ----

/// Creating a user: the account.
pub fn may_create_user(caller: &Caller) -> ApiResult<()> {
    match caller {
        Caller::Admin => Ok(()),
        Caller::Person(_) => Err(ApiError::forbidden("Only the account may create users")),
    }
}

/// Deleting a user: the account.
pub fn may_delete_user(caller: &Caller) -> ApiResult<()> {
    match caller {
        Caller::Admin => Ok(()),
        Caller::Person(_) => Err(ApiError::forbidden("Only the account may delete users")),
    }
}

/// Whose users a list shows: a person sees themselves and those they share a conversation with.
pub fn user_list_visible_to(caller: &Caller) -> Option<String> {
    caller.identity().map(str::to_owned)
}

/// Fetching user `u`: a person sees themselves and anyone they share a conversation with.
pub fn may_see_user(conn: &Connection, caller: &Caller, u: &UserRow) -> ApiResult<()> {
    match caller {
        Caller::Admin => Ok(()),
        Caller::Person(me) if *me == u.identity || store::users::share_a_conversation(conn, me, &u.identity)? => Ok(()),
        Caller::Person(_) => Err(ApiError::forbidden("You may only see users who share a conversation with you")),
    }
}

/// Updating user `u`: a person updates only themselves.
pub fn may_update_user(caller: &Caller, u: &UserRow) -> ApiResult<()> {
    match caller {
        Caller::Person(me) if *me != u.identity => Err(ApiError::forbidden("A user may only update themselves")),
        _ => Ok(()),
    }
}

/// A user's conversations (unread counts, read horizon, leaving): only their own.
pub fn may_act_for_user(caller: &Caller, u: &UserRow) -> ApiResult<()> {
    match caller {
        Caller::Person(me) if *me != u.identity => {
            Err(ApiError::forbidden("A user may only see their own user conversations"))
        }
        _ => Ok(()),
    }
}

/// Listing an identity's participant conversations: a person asks only about
/// themselves (`identity` None: the list is by messaging address).
pub fn may_list_participant_conversations(caller: &Caller, identity: Option<&str>) -> ApiResult<()> {
    match caller {
        Caller::Person(me) if identity != Some(me.as_str()) => {
            Err(ApiError::forbidden("A person may only list their own participant conversations"))
        }
        _ => Ok(()),
    }
}
