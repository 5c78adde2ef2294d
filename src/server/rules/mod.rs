//! Who may do what: every access rule of DESIGN.md "Identity and access", in
//! one file, each answering with Twilio's error. The account (Basic auth) may
//! do everything. A person (access token) must be in a conversation to touch
//! it (403 / 50430), and then may do what their roles permit (403 / 50107
//! otherwise): the participant's conversation role together with their user's
//! service role (`permissions` holds the vocabulary and the default roles).
//!
//! Operations call these before they change anything; routes never decide.
//! `tests/server/access.rs` tries each rule, in this file's order.

pub mod permissions;

use crate::server::store::Connection;

use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::store;
use crate::server::store::rows::{ConversationRow, MembershipRow, MessageRow, ParticipantRow, UserRow};
use permissions::{Permission, Permissions};

/// What the caller is to a conversation.
pub enum Standing {
    Admin,
    /// A participant, with what their roles permit here.
    Member {
        me: Box<ParticipantRow>,
        permissions: Permissions,
    },
}

impl Standing {
    /// The caller's own participant (none for the account).
    pub fn me(&self) -> Option<&ParticipantRow> {
        match self {
            Standing::Admin => None,
            Standing::Member { me, .. } => Some(me),
        }
    }

    fn require(&self, p: Permission) -> ApiResult<()> {
        match self {
            Standing::Member { permissions, .. } if !permissions.has(p) => Err(ApiError::lacks(p.as_str())),
            _ => Ok(()),
        }
    }

    /// `own` if the caller owns the thing, else `any` (which also covers their own).
    fn require_own_or_any(&self, mine: bool, own: Permission, any: Permission) -> ApiResult<()> {
        match self {
            Standing::Member { permissions, .. } if permissions.has(any) || (mine && permissions.has(own)) => Ok(()),
            Standing::Member { .. } => Err(ApiError::lacks(if mine { own } else { any }.as_str())),
            Standing::Admin => Ok(()),
        }
    }
}

fn parse_permissions(json: Option<String>) -> Permissions {
    let names: Vec<String> = json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default();
    Permissions::from_names(names.iter().map(String::as_str))
}

/// What participant `me` (of user `identity`) may do: their conversation role's
/// permissions with their service role's.
fn member_permissions(conn: &Connection, identity: &str, me: &ParticipantRow) -> ApiResult<Permissions> {
    let (conversation, service) = store::roles::permissions_of(conn, me.role_sid.as_deref(), identity)?;
    Ok(parse_permissions(conversation).union(parse_permissions(service)))
}

/// What user `identity`'s service role permits.
fn service_permissions(conn: &Connection, identity: &str) -> ApiResult<Permissions> {
    Ok(parse_permissions(store::roles::permissions_of(conn, None, identity)?.1))
}

fn require_service(conn: &Connection, caller: &Caller, p: Permission) -> ApiResult<()> {
    match caller {
        Caller::Person(me) if !service_permissions(conn, me)?.has(p) => Err(ApiError::lacks(p.as_str())),
        _ => Ok(()),
    }
}

/// The caller's standing in `c`; a person who is not in it gets 403 / 50430.
pub fn standing(conn: &Connection, caller: &Caller, c: &ConversationRow) -> ApiResult<Standing> {
    match caller {
        Caller::Admin => Ok(Standing::Admin),
        Caller::Person(identity) => {
            let me = store::participants::get(conn, &c.sid, identity)?.ok_or_else(ApiError::not_participant)?;
            let permissions = member_permissions(conn, identity, &me)?;
            Ok(Standing::Member { me: Box::new(me), permissions })
        }
    }
}

/// Roles are the account's to hand out: a person may not pick one (50107).
fn no_role_change(caller: &Caller, sets_role: bool) -> ApiResult<()> {
    match caller {
        Caller::Person(_) if sets_role => {
            Err(ApiError::new(crate::api::error::ErrorCode::UnauthorizedForCommand, "Only the account may set RoleSid"))
        }
        _ => Ok(()),
    }
}

// ---- conversations ----

/// Whose conversations a list shows: a person sees only those they are in.
pub fn conversation_list_member(caller: &Caller) -> Option<String> {
    caller.identity().map(str::to_owned)
}

/// Reading a conversation's messages, participants or receipts: its participants.
pub fn may_read_conversation(conn: &Connection, caller: &Caller, c: &ConversationRow) -> ApiResult<()> {
    if let Caller::Person(identity) = caller
        && store::participants::get(conn, &c.sid, identity)?.is_none()
    {
        return Err(ApiError::not_participant());
    }
    Ok(())
}

/// Fetching a conversation: participants, or anyone when it is public
/// (`"public": true` in its attributes), so it can be looked at before joining.
pub fn may_fetch_conversation(conn: &Connection, caller: &Caller, c: &ConversationRow) -> ApiResult<()> {
    if c.is_public() { Ok(()) } else { may_read_conversation(conn, caller, c) }
}

/// Creating a conversation: `createConversation` (service role).
pub fn may_create_conversation(conn: &Connection, caller: &Caller) -> ApiResult<()> {
    require_service(conn, caller, Permission::CreateConversation)
}

/// Changing a conversation: `editConversationName` for its names
/// (`renames`), `editConversationAttributes` for anything else (`other`).
pub fn may_update_conversation(s: &Standing, renames: bool, other: bool) -> ApiResult<()> {
    if renames {
        s.require(Permission::EditConversationName)?;
    }
    if other {
        s.require(Permission::EditConversationAttributes)?;
    }
    Ok(())
}

/// Deleting a conversation: `deleteConversation`.
pub fn may_delete_conversation(s: &Standing) -> ApiResult<()> {
    s.require(Permission::DeleteConversation)
}

// ---- participants ----

/// Adding `identity` (None: a messaging binding) to `c`. A participant adds
/// others with `addParticipant` / `addNonChatParticipant`; a person joins
/// (adds themselves) a public conversation with `joinConversation`; only the
/// account picks a role (`sets_role`).
pub fn may_add_participant(
    conn: &Connection,
    caller: &Caller,
    c: &ConversationRow,
    identity: Option<&str>,
    sets_role: bool,
) -> ApiResult<()> {
    let Caller::Person(me) = caller else { return Ok(()) };
    let Some(mine) = store::participants::get(conn, &c.sid, me)? else {
        if identity == Some(me.as_str()) && c.is_public() {
            no_role_change(caller, sets_role)?;
            return require_service(conn, caller, Permission::JoinConversation);
        }
        return Err(ApiError::not_participant());
    };
    no_role_change(caller, sets_role)?;
    if identity == Some(me.as_str()) {
        return Ok(()); // already in: the add itself answers 409
    }
    let s = Standing::Member { permissions: member_permissions(conn, me, &mine)?, me: Box::new(mine) };
    s.require(if identity.is_some() { Permission::AddParticipant } else { Permission::AddNonChatParticipant })
}

/// What a participant update touches.
pub struct ParticipantUpdate {
    pub attributes: bool,
    pub read_horizon: bool,
    pub role: bool,
    pub other: bool,
}

/// Updating participant `target`: a person moves only their own read horizon;
/// attributes take `editOwnParticipantAttributes` (their own) or
/// `editAnyParticipantAttributes`; only the account changes a role.
pub fn may_update_participant(
    caller: &Caller,
    s: &Standing,
    target: &ParticipantRow,
    what: &ParticipantUpdate,
) -> ApiResult<()> {
    no_role_change(caller, what.role)?;
    let mine = s.me().is_none_or(|me| me.sid == target.sid);
    if !mine && (what.read_horizon || what.other || !what.attributes) {
        return Err(ApiError::forbidden("A participant may only update themselves"));
    }
    if what.attributes {
        s.require_own_or_any(mine, Permission::EditOwnParticipantAttributes, Permission::EditAnyParticipantAttributes)?;
    }
    Ok(())
}

/// Changing a participant's identity: only the account, and only for a chat participant.
pub fn may_rename_participant(s: &Standing, target: &ParticipantRow) -> ApiResult<()> {
    if target.identity.is_none() || !matches!(s, Standing::Admin) {
        return Err(ApiError::invalid("Identity", "only the account may rename a chat participant"));
    }
    Ok(())
}

/// Removing participant `target`: `leaveConversation` for oneself, `removeParticipant` for others.
pub fn may_remove_participant(s: &Standing, target: &ParticipantRow) -> ApiResult<()> {
    match s.me() {
        Some(me) if me.sid == target.sid => s.require(Permission::LeaveConversation),
        _ => s.require(Permission::RemoveParticipant),
    }
}

// ---- messages ----

/// Posting a message: `sendMessage`, and `sendMediaMessage` when it has media.
pub fn may_send_message(s: &Standing, with_media: bool) -> ApiResult<()> {
    s.require(Permission::SendMessage)?;
    if with_media {
        s.require(Permission::SendMediaMessage)?;
    }
    Ok(())
}

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
    s.me().is_none_or(|me| me.identity.is_some() && me.identity == m.author)
}

/// Editing message `m`: its body (and dates) take `editOwnMessage` /
/// `editAnyMessage`, its attributes `editOwnMessageAttributes` / `editAnyMessageAttributes`.
pub fn may_edit_message(s: &Standing, m: &MessageRow, body: bool, attributes: bool) -> ApiResult<()> {
    let mine = is_own(s, m);
    if body || !attributes {
        s.require_own_or_any(mine, Permission::EditOwnMessage, Permission::EditAnyMessage)?;
    }
    if attributes {
        s.require_own_or_any(mine, Permission::EditOwnMessageAttributes, Permission::EditAnyMessageAttributes)?;
    }
    Ok(())
}

/// Changing a message's `Author`: only the account (a person's `Author` is ignored).
pub fn may_set_author(caller: &Caller) -> bool {
    matches!(caller, Caller::Admin)
}

/// Deleting message `m`: `deleteOwnMessage` (their own) or `deleteAnyMessage`.
pub fn may_delete_message(s: &Standing, m: &MessageRow) -> ApiResult<()> {
    s.require_own_or_any(is_own(s, m), Permission::DeleteOwnMessage, Permission::DeleteAnyMessage)
}

// ---- users ----

fn account_only(caller: &Caller, what: &str) -> ApiResult<()> {
    match caller {
        Caller::Admin => Ok(()),
        Caller::Person(_) => Err(ApiError::forbidden(format!("Only the account may {what}"))),
    }
}

/// Creating a user: the account.
pub fn may_create_user(caller: &Caller) -> ApiResult<()> {
    account_only(caller, "create users")
}

/// Deleting a user: the account.
pub fn may_delete_user(caller: &Caller) -> ApiResult<()> {
    account_only(caller, "delete users")
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

/// Updating user `u`: `editOwnUserInfo` for oneself, `editAnyUserInfo` for
/// others (service role); only the account changes a role.
pub fn may_update_user(conn: &Connection, caller: &Caller, u: &UserRow, sets_role: bool) -> ApiResult<()> {
    let Caller::Person(me) = caller else { return Ok(()) };
    no_role_change(caller, sets_role)?;
    let permissions = service_permissions(conn, me)?;
    if permissions.has(Permission::EditAnyUserInfo) {
        return Ok(());
    }
    if *me != u.identity {
        return Err(ApiError::forbidden("A user may only update themselves"));
    }
    if permissions.has(Permission::EditOwnUserInfo) { Ok(()) } else { Err(ApiError::lacks("editOwnUserInfo")) }
}

/// A user's conversations (unread counts, read horizon): only their own.
pub fn may_act_for_user(caller: &Caller, u: &UserRow) -> ApiResult<()> {
    match caller {
        Caller::Person(me) if *me != u.identity => {
            Err(ApiError::forbidden("A user may only see their own user conversations"))
        }
        _ => Ok(()),
    }
}

/// The caller's standing through their membership `m` (of user `u`).
fn standing_in(conn: &Connection, caller: &Caller, u: &UserRow, m: &MembershipRow) -> ApiResult<Standing> {
    may_act_for_user(caller, u)?;
    match caller {
        Caller::Admin => Ok(Standing::Admin),
        Caller::Person(identity) => Ok(Standing::Member {
            permissions: member_permissions(conn, identity, &m.participant)?,
            me: Box::new(m.participant.clone()),
        }),
    }
}

/// Changing one's view of a conversation: the read horizon is always one's
/// own to move; the notification level takes `editNotificationLevel`.
pub fn may_update_user_conversation(
    conn: &Connection,
    caller: &Caller,
    u: &UserRow,
    m: &MembershipRow,
    notification_level: bool,
) -> ApiResult<()> {
    let s = standing_in(conn, caller, u, m)?;
    if notification_level {
        s.require(Permission::EditNotificationLevel)?;
    }
    Ok(())
}

/// Leaving through one's user conversation: `leaveConversation`.
pub fn may_leave(conn: &Connection, caller: &Caller, u: &UserRow, m: &MembershipRow) -> ApiResult<()> {
    standing_in(conn, caller, u, m)?.require(Permission::LeaveConversation)
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

// ---- roles and configuration ----

/// Creating, changing and deleting roles and configuration: the account.
pub fn may_manage_service(caller: &Caller) -> ApiResult<()> {
    account_only(caller, "change roles and configuration")
}

/// Reading roles and configuration: anyone signed in (a person may learn
/// what a `role_sid` lets them do).
pub fn may_read_service(_caller: &Caller) -> ApiResult<()> {
    Ok(())
}

// ---- media and reactions ----

/// Attaching media `m` to a new message: its uploader (or the account), and
/// only while no message carries it yet.
pub fn may_attach_media(caller: &Caller, m: &store::media::MediaRow) -> ApiResult<()> {
    if m.message_sid.is_some() {
        return Err(ApiError::invalid("MediaSid", format!("{} is already attached to a message", m.sid)));
    }
    match caller {
        Caller::Person(me) if m.author.as_deref() != Some(me.as_str()) => {
            Err(ApiError::forbidden(format!("Only the uploader of {} may attach it", m.sid)))
        }
        _ => Ok(()),
    }
}

/// Fetching media `m` (its record or bytes): the account; its uploader until a
/// message carries it; then the participants of that message's conversation.
pub fn may_fetch_media(conn: &Connection, caller: &Caller, m: &store::media::MediaRow) -> ApiResult<()> {
    let Caller::Person(me) = caller else { return Ok(()) };
    let allowed = match &m.conversation_sid {
        None => m.author.as_deref() == Some(me.as_str()),
        Some(c) => store::participants::get(conn, c, me)?.is_some(),
    };
    if allowed { Ok(()) } else { Err(ApiError::forbidden(format!("You may not fetch {}", m.sid))) }
}

/// Who reacts: a participant, as their own identity (the account has none: 403).
pub fn reactor(s: &Standing) -> ApiResult<String> {
    s.me().and_then(|me| me.identity.clone()).ok_or_else(|| {
        ApiError::forbidden("A reaction is a participant's own; the account has no identity to react as")
    })
}
