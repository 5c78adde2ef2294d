//! Membership operations: adding (and joining), updating, leaving and removing
//! participants, and moving a user's read horizon, with their effects on the
//! streams (who hears what) and on the conversation's counts.
//!
//! Each write has one operation function (`add`, `update`, `remove`,
//! `update_user_conversation`, `leave_user_conversation`): the place where
//! "caller X is about to do Y with these params" is known, before the store
//! is touched. The `*_in` functions do the work inside a write transaction,
//! so creating a conversation can add its first participants in the same one.

use crate::server::store::Connection;
use serde_json::json;

use crate::api::error::ErrorCode;
use crate::api::params::{ParticipantParams, UserConversationParams};
use crate::api::resources::NotificationLevel;
use crate::api::sid::{new_sid, prefix};
use crate::api::stream::EventName;
use crate::api::time::now_unix;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::{Ctx, EmptyFields};
use crate::server::hub::{Audience, Effect};
use crate::server::lookup;
use crate::server::render::{Urls, to_conversation, to_only, to_value};
use crate::server::rules;
use crate::server::rules::permissions::RoleType;
use crate::server::store::rows::{ConversationRow, MembershipRow, ParticipantRow, UserRow};
use crate::server::store::{configuration, participants, users};
use crate::server::validate;
use crate::server::webhooks::{event::pre, pre_event};

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

    /// The chat participant `identity`, with nothing else set.
    pub fn identity_only(identity: &str) -> Self {
        Self {
            identity: Some(identity.to_owned()),
            binding: None,
            attributes: None,
            role_sid: None,
            date_created: None,
            date_updated: None,
        }
    }

    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }
}

/// A chat participant (identity) or a messaging one (binding JSON), with defaults.
fn new_row(conversation_sid: &str, identity: Option<String>, binding: Option<String>, now: i64) -> ParticipantRow {
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

/// Operation: `ctx.caller` adds `new` to the conversation `conversation`
/// (a person adding themselves joins it).
pub async fn add(ctx: &Ctx, conversation: String, mut new: NewParticipant) -> ApiResult<ParticipantRow> {
    let proposed = {
        let (caller, conversation, identity) = (ctx.caller.clone(), conversation.clone(), new.identity.clone());
        let binding: serde_json::Value =
            new.binding.as_ref().and_then(|(j, _, _)| serde_json::from_str(j).ok()).unwrap_or_default();
        let (attributes, role_sid) = (new.attributes.clone().unwrap_or_else(|| "{}".into()), new.role_sid.clone());
        let sets_role = role_sid.is_some();
        move |conn: &Connection| {
            let c = lookup::conversation(conn, &conversation)?;
            rules::may_add_participant(conn, &caller, &c, identity.as_deref(), sets_role)?;
            Ok(json!({"conversation_sid": c.sid, "identity": identity, "attributes": attributes,
                      "role_sid": role_sid, "messaging_binding": binding}))
        }
    };
    if let Some(a) = pre_event(&ctx.state, pre::PARTICIPANT_ADD, proposed).await?.attributes {
        new.attributes = Some(validate::attributes("Attributes", &a, validate::PARTICIPANT_ATTRIBUTES_BYTES)?);
    }
    ctx.write(move |conn, caller, urls| {
        let c = lookup::conversation(conn, &conversation)?;
        rules::may_add_participant(conn, caller, &c, new.identity(), new.role_sid.is_some())?;
        let (row, mut effects) = add_in(conn, urls, &c, new, false, now_unix())?;
        let after = lookup::conversation(conn, &c.sid)?;
        effects.push(to_conversation(
            &c.sid,
            EventName::ConversationUpdated,
            to_value(&urls.conversation_json(&after)),
        ));
        Ok((row, effects))
    })
    .await
}

/// Inserts `new` into `c` after the limit and duplicate checks, inside the
/// caller's transaction, with the role `new` names or else the service's
/// default (for the `creator`, the creator role). Effects: membership,
/// `conversationAdded` to the new user, `participantJoined` to the conversation.
pub fn add_in(
    conn: &Connection,
    urls: &Urls,
    c: &ConversationRow,
    new: NewParticipant,
    creator: bool,
    now: i64,
) -> ApiResult<(ParticipantRow, Vec<Effect>)> {
    let (total, non_chat) = participants::counts(conn, &c.sid)?;
    if total >= validate::MAX_PARTICIPANTS {
        return Err(ApiError::new(
            ErrorCode::TooManyParticipants,
            "The conversation has the maximum of 1000 participants",
        ));
    }
    let (binding_json, address, proxy) = match new.binding {
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
    if let Some(i) = &new.identity
        && participants::get(conn, &c.sid, i)?.is_some()
    {
        return Err(ApiError::new(ErrorCode::ParticipantExists, format!("Participant {i} already exists")));
    }
    let mut row = new_row(&c.sid, new.identity.clone(), binding_json, now);
    if let Some(a) = new.attributes {
        row.attributes = a;
    }
    row.role_sid = match &new.role_sid {
        Some(r) => Some(lookup::role_param(conn, "RoleSid", r, RoleType::Conversation)?.sid),
        None => {
            let config = configuration::service(conn, &urls.service_sid)?.unwrap_or_default();
            if creator { config.default_conversation_creator_role_sid } else { config.default_conversation_role_sid }
        }
    };
    if let Some(d) = new.date_created {
        row.date_created = d;
        row.date_updated = d;
    }
    if let Some(d) = new.date_updated {
        row.date_updated = d;
    }
    participants::insert(conn, &row, address.as_deref(), proxy.as_deref())?;
    row.id = conn.last_insert_rowid();
    let mut effects = Vec::new();
    if let Some(i) = &new.identity {
        users::ensure(conn, i, now)?;
        let after = lookup::conversation(conn, &c.sid)?;
        effects.push(Effect::Join { conversation: c.sid.clone(), identity: i.clone() });
        effects.push(to_only(i, &c.sid, EventName::ConversationAdded, to_value(&urls.conversation_json(&after))));
    }
    effects.push(to_conversation(&c.sid, EventName::ParticipantJoined, to_value(&urls.participant_json(&row))));
    Ok((row, effects))
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

    /// Whether this moves the horizon at all.
    pub fn touches(&self) -> bool {
        self.index.is_some() || self.timestamp.is_some()
    }

    fn apply(&self, row: &mut ParticipantRow) {
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

/// A validated change to a participant (`POST …/Participants/{Sid}`).
pub struct ParticipantChange {
    attributes: Option<String>,
    /// `Some(None)`: `RoleSid=` sent empty, clearing it.
    role_sid: Option<Option<String>>,
    horizon: ReadHorizon,
    identity: Option<String>,
    date_created: Option<i64>,
    date_updated: Option<i64>,
}

impl ParticipantChange {
    pub fn from_params(p: &ParticipantParams, empty: &EmptyFields) -> ApiResult<Self> {
        let attributes = p
            .attributes
            .as_deref()
            .map(|a| validate::attributes("Attributes", a, validate::PARTICIPANT_ATTRIBUTES_BYTES))
            .transpose()?;
        let horizon = ReadHorizon::parse(&p.last_read_message_index, &p.last_read_timestamp, empty)?;
        if let Some(r) = p.role_sid.as_deref().filter(|r| !r.is_empty())
            && !crate::api::sid::is_sid("RL", r)
        {
            return Err(ApiError::invalid("RoleSid", "must be an RL SID"));
        }
        Ok(Self {
            attributes,
            role_sid: p.role_sid.clone().map(|r| Some(r).filter(|r| !r.is_empty())),
            horizon,
            identity: p.identity.as_deref().map(validate::identity).transpose()?,
            date_created: p.date_created.as_deref().map(|d| validate::date("DateCreated", d)).transpose()?,
            date_updated: p.date_updated.as_deref().map(|d| validate::date("DateUpdated", d)).transpose()?,
        })
    }
}

/// Operation: `ctx.caller` changes participant `participant` of `conversation` as `change` says.
pub async fn update(
    ctx: &Ctx,
    conversation: String,
    participant: String,
    mut change: ParticipantChange,
) -> ApiResult<ParticipantRow> {
    let proposed = {
        let (caller, urls, attributes) = (ctx.caller.clone(), ctx.urls.clone(), change.attributes.clone());
        let (conversation, participant) = (conversation.clone(), participant.clone());
        move |conn: &Connection| {
            let c = lookup::conversation(conn, &conversation)?;
            rules::standing(conn, &caller, &c)?;
            let mut v = to_value(&urls.participant_json(&lookup::participant(conn, &c, &participant)?));
            if let Some(a) = attributes {
                v["attributes"] = a.into();
            }
            Ok(v)
        }
    };
    if let Some(a) = pre_event(&ctx.state, pre::PARTICIPANT_UPDATE, proposed).await?.attributes {
        change.attributes = Some(validate::attributes("Attributes", &a, validate::PARTICIPANT_ATTRIBUTES_BYTES)?);
    }
    ctx.write(move |conn, caller, urls| {
        let c = lookup::conversation(conn, &conversation)?;
        let s = rules::standing(conn, caller, &c)?;
        let mut row = lookup::participant(conn, &c, &participant)?;
        let what = rules::ParticipantUpdate {
            attributes: change.attributes.is_some(),
            read_horizon: change.horizon.touches(),
            role: change.role_sid.is_some(),
            other: change.identity.is_some() || change.date_created.is_some() || change.date_updated.is_some(),
        };
        rules::may_update_participant(caller, &s, &row, &what)?;
        if let Some(a) = change.attributes {
            row.attributes = a;
        }
        if let Some(r) = change.role_sid {
            row.role_sid = match r {
                Some(r) => Some(lookup::role_param(conn, "RoleSid", &r, RoleType::Conversation)?.sid),
                None => {
                    configuration::service(conn, &urls.service_sid)?.unwrap_or_default().default_conversation_role_sid
                }
            };
        }
        change.horizon.apply(&mut row);
        if let Some(i) = &change.identity
            && row.identity.as_ref() != Some(i)
        {
            rules::may_rename_participant(&s, &row)?;
            if participants::get(conn, &c.sid, i)?.is_some() {
                return Err(ApiError::new(ErrorCode::ParticipantExists, format!("Participant {i} already exists")));
            }
            row.identity = Some(i.clone());
            users::ensure(conn, i, now_unix())?;
        }
        if let Some(d) = change.date_created {
            row.date_created = d;
        }
        row.date_updated = change.date_updated.unwrap_or_else(now_unix);
        participants::update(conn, &row)?;
        let effects = updated_effects(conn, urls, &row)?;
        Ok((row, effects))
    })
    .await
}

/// Events after a participant's change: `participantUpdated` to the
/// conversation and, when it is a chat user, `userConversationUpdated` to them.
fn updated_effects(conn: &Connection, urls: &Urls, p: &ParticipantRow) -> ApiResult<Vec<Effect>> {
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

/// Operation: `ctx.caller` removes participant `participant` from `conversation` (or leaves it).
pub async fn remove(ctx: &Ctx, conversation: String, participant: String) -> ApiResult<()> {
    let proposed = {
        let (caller, urls, conversation, participant) =
            (ctx.caller.clone(), ctx.urls.clone(), conversation.clone(), participant.clone());
        move |conn: &Connection| {
            let c = lookup::conversation(conn, &conversation)?;
            rules::standing(conn, &caller, &c)?;
            Ok(to_value(&urls.participant_json(&lookup::participant(conn, &c, &participant)?)))
        }
    };
    pre_event(&ctx.state, pre::PARTICIPANT_REMOVE, proposed).await?;
    ctx.write(move |conn, caller, urls| {
        let c = lookup::conversation(conn, &conversation)?;
        let s = rules::standing(conn, caller, &c)?;
        let row = lookup::participant(conn, &c, &participant)?;
        rules::may_remove_participant(&s, &row)?;
        Ok(((), leave_in(conn, urls, &c, &row)?))
    })
    .await
}

/// Removes `row` from `c`: `participantLeft` to the conversation (the leaver
/// included), then `conversationRemoved` to the leaver alone.
fn leave_in(conn: &Connection, urls: &Urls, c: &ConversationRow, row: &ParticipantRow) -> ApiResult<Vec<Effect>> {
    participants::delete(conn, row)?;
    let after = lookup::conversation(conn, &c.sid)?;
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

/// A validated change to a user's view of a conversation (`POST /Users/{u}/Conversations/{c}`).
pub struct UserConversationChange {
    level: Option<NotificationLevel>,
    horizon: ReadHorizon,
}

impl UserConversationChange {
    pub fn from_params(p: &UserConversationParams, empty: &EmptyFields) -> ApiResult<Self> {
        let level = p
            .notification_level
            .as_deref()
            .map(|l| {
                NotificationLevel::parse(l)
                    .ok_or_else(|| ApiError::invalid("NotificationLevel", "must be default or muted"))
            })
            .transpose()?;
        let horizon = ReadHorizon::parse(&p.last_read_message_index, &p.last_read_timestamp, empty)?;
        Ok(Self { level, horizon })
    }
}

/// Operation: `ctx.caller` changes user `user`'s read horizon or notification
/// level in `conversation`. Returns the user and their updated membership.
pub async fn update_user_conversation(
    ctx: &Ctx,
    user: String,
    conversation: String,
    change: UserConversationChange,
) -> ApiResult<(UserRow, MembershipRow)> {
    ctx.write(move |conn, caller, urls| {
        let u = lookup::user(conn, &user)?;
        rules::may_act_for_user(caller, &u)?;
        let mut m = lookup::membership(conn, &u, &conversation)?;
        rules::may_update_user_conversation(conn, caller, &u, &m, change.level.is_some())?;
        let row = &mut m.participant;
        if let Some(l) = change.level {
            row.notification_level = l.as_str().to_owned();
        }
        change.horizon.apply(row);
        row.date_updated = now_unix();
        participants::update(conn, row)?;
        m.unread = participants::unread(conn, &m.participant)?;
        let effects = updated_effects(conn, urls, &m.participant)?;
        Ok(((u, m), effects))
    })
    .await
}

/// Operation: `ctx.caller` takes user `user` out of `conversation` (their participant is removed).
pub async fn leave_user_conversation(ctx: &Ctx, user: String, conversation: String) -> ApiResult<()> {
    ctx.write(move |conn, caller, urls| {
        let u = lookup::user(conn, &user)?;
        rules::may_act_for_user(caller, &u)?;
        let m = lookup::membership(conn, &u, &conversation)?;
        rules::may_leave(conn, caller, &u, &m)?;
        Ok(((), leave_in(conn, urls, &m.conversation, &m.participant)?))
    })
    .await
}
