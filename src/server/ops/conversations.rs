//! Conversation operations: create (with the creator and any initial
//! participants in the same transaction), update, delete. A person who creates
//! a conversation is its creator and first participant.

use crate::server::store::Connection;

use crate::api::error::ErrorCode;
use crate::api::params::ConversationParams;
use crate::api::resources::ConversationState;
use crate::api::sid::{new_sid, prefix};
use crate::api::stream::EventName;
use crate::api::time::now_unix;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::Ctx;
use crate::server::hub::Effect;
use crate::server::lookup;
use crate::server::membership::{self, NewParticipant};
use crate::server::render::{to_conversation, to_value};
use crate::server::rules;
use crate::server::store::rows::ConversationRow;
use crate::server::store::{configuration, conversations};
use crate::server::validate;
use crate::server::webhooks::{Changes, event::pre, pre_event};

/// The validated fields of a conversation create or update; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ConversationChange {
    pub friendly_name: Option<String>,
    /// `Some(None)` removes the unique name (`UniqueName=` on update).
    pub unique_name: Option<Option<String>>,
    pub attributes: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub state: Option<ConversationState>,
    /// Seconds from now until the conversation goes inactive / closed.
    pub timers_inactive: Option<i64>,
    pub timers_closed: Option<i64>,
    /// `{"email": {...}}` as JSON text.
    pub bindings: Option<String>,
    pub date_created: Option<i64>,
    pub date_updated: Option<i64>,
}

impl ConversationChange {
    /// Checks the form's fields; `clear_unique_name` when `UniqueName` was sent empty.
    pub fn from_params(p: &ConversationParams, clear_unique_name: bool) -> ApiResult<Self> {
        let mut change = Self::default();
        if let Some(v) = &p.friendly_name {
            change.friendly_name = Some(validate::name("FriendlyName", v)?);
        }
        if let Some(v) = &p.unique_name {
            change.unique_name = Some(validate::unique_name(v)?);
        }
        if clear_unique_name {
            change.unique_name = Some(None);
        }
        if let Some(v) = &p.attributes {
            change.attributes = Some(validate::attributes("Attributes", v, validate::CONVERSATION_ATTRIBUTES_BYTES)?);
        }
        if let Some(v) = &p.messaging_service_sid {
            if !crate::api::sid::is_sid("MG", v) {
                return Err(ApiError::invalid("MessagingServiceSid", "must be an MG SID"));
            }
            change.messaging_service_sid = Some(v.clone());
        }
        if let Some(v) = &p.state {
            change.state = Some(
                ConversationState::parse(v)
                    .ok_or_else(|| ApiError::invalid("State", "must be initializing, active, inactive or closed"))?,
            );
        }
        if let Some(v) = &p.timers_inactive {
            change.timers_inactive = Some(validate::inactive_timer("Timers.Inactive", v)?);
        }
        if let Some(v) = &p.timers_closed {
            change.timers_closed = Some(validate::closed_timer("Timers.Closed", v)?);
        }
        if p.bindings_email_address.is_some() || p.bindings_email_name.is_some() {
            let mut email = serde_json::Map::new();
            if let Some(a) = &p.bindings_email_address {
                email.insert("address".into(), validate::name("Bindings.Email.Address", a)?.into());
            }
            if let Some(n) = &p.bindings_email_name {
                email.insert("name".into(), validate::name("Bindings.Email.Name", n)?.into());
            }
            change.bindings = Some(serde_json::json!({ "email": email }).to_string());
        }
        if let Some(v) = &p.date_created {
            change.date_created = Some(validate::date("DateCreated", v)?);
        }
        if let Some(v) = &p.date_updated {
            change.date_updated = Some(validate::date("DateUpdated", v)?);
        }
        Ok(change)
    }

    /// Whether the change renames the conversation, and whether it changes anything else.
    fn touches(&self) -> (bool, bool) {
        let renames = self.friendly_name.is_some() || self.unique_name.is_some();
        let other = self.attributes.is_some()
            || self.messaging_service_sid.is_some()
            || self.state.is_some()
            || self.timers_inactive.is_some()
            || self.timers_closed.is_some()
            || self.bindings.is_some()
            || self.date_created.is_some()
            || self.date_updated.is_some();
        (renames, other)
    }

    /// Fills what the change leaves unset from the account's defaults
    /// (`/v1/Configuration`): messaging service and timers of a new conversation.
    fn with_defaults(mut self, conn: &Connection) -> ApiResult<Self> {
        let defaults = configuration::account(conn)?;
        if self.messaging_service_sid.is_none() {
            self.messaging_service_sid = defaults.default_messaging_service_sid;
        }
        if self.timers_inactive.is_none()
            && let Some(t) = &defaults.default_inactive_timer
        {
            self.timers_inactive = Some(validate::inactive_timer("DefaultInactiveTimer", t)?);
        }
        if self.timers_closed.is_none()
            && let Some(t) = &defaults.default_closed_timer
        {
            self.timers_closed = Some(validate::closed_timer("DefaultClosedTimer", t)?);
        }
        Ok(self)
    }

    /// Writes the change into `c` at time `now` (timers count from now).
    fn apply(&self, c: &mut ConversationRow, now: i64) {
        if let Some(v) = &self.friendly_name {
            c.friendly_name = Some(v.clone());
        }
        if let Some(v) = &self.unique_name {
            c.unique_name = v.clone();
        }
        if let Some(v) = &self.attributes {
            c.attributes = v.clone();
        }
        if let Some(v) = &self.messaging_service_sid {
            c.messaging_service_sid = Some(v.clone());
        }
        if let Some(s) = self.state {
            c.state = s.as_str().to_owned();
        }
        if let Some(secs) = self.timers_inactive {
            c.date_inactive = Some(now + secs);
        }
        if let Some(secs) = self.timers_closed {
            c.date_closed = Some(now + secs);
        }
        if let Some(b) = &self.bindings {
            c.bindings = Some(b.clone());
        }
        if let Some(d) = self.date_created {
            c.date_created = d;
        }
        c.date_updated = self.date_updated.unwrap_or(now);
    }
}

/// What a pre-event webhook changed, folded into the change (checked as if sent).
fn apply_webhook_changes(change: &mut ConversationChange, w: Changes) -> ApiResult<()> {
    if let Some(n) = w.friendly_name {
        change.friendly_name = Some(validate::name("FriendlyName", &n)?);
    }
    if let Some(u) = w.unique_name {
        change.unique_name = Some(validate::unique_name(&u)?);
    }
    if let Some(a) = w.attributes {
        change.attributes = Some(validate::attributes("Attributes", &a, validate::CONVERSATION_ATTRIBUTES_BYTES)?);
    }
    Ok(())
}

fn unique_name_free(conn: &Connection, c: &ConversationRow) -> ApiResult<()> {
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

/// Operation: `ctx.caller` creates a conversation as `change` says, with the
/// `initial` participants (ConversationWithParticipants), in one transaction.
pub async fn create(ctx: &Ctx, change: ConversationChange, initial: Vec<NewParticipant>) -> ApiResult<ConversationRow> {
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
    // What a pre-event webhook is shown: the conversation as asked for (not
    // made yet, so no SID); what it answers is folded into `change`.
    let proposed = {
        let (urls, mut preview) = (ctx.urls.clone(), c.clone());
        change.apply(&mut preview, now);
        move |_: &Connection| {
            let mut v = to_value(&urls.conversation_json(&preview));
            v["sid"] = serde_json::Value::Null;
            Ok(v)
        }
    };
    let mut change = change;
    apply_webhook_changes(&mut change, pre_event(&ctx.state, pre::CONVERSATION_ADD, proposed).await?)?;
    ctx.write(move |conn, caller, urls| {
        rules::may_create_conversation(conn, caller)?;
        let change = change.with_defaults(conn)?;
        change.apply(&mut c, now);
        if change.date_updated.is_none() && change.date_created.is_some() {
            c.date_updated = c.date_created;
        }
        unique_name_free(conn, &c)?;
        conversations::insert(conn, &c)?;
        // Admin streams learn of the conversation first; each participant
        // below then gets its own conversationAdded.
        let mut effects =
            vec![to_conversation(&c.sid, EventName::ConversationAdded, to_value(&urls.conversation_json(&c)))];
        if let Some(identity) = caller.identity() {
            // The creator joins at once, as the Twilio SDK's createConversation does.
            effects.extend(membership::add_in(conn, urls, &c, NewParticipant::identity_only(identity), true, now)?.1);
        }
        for new in initial {
            if new.identity().is_some() && new.identity() == caller.identity() {
                continue;
            }
            effects.extend(membership::add_in(conn, urls, &c, new, false, now)?.1);
        }
        Ok((lookup::conversation(conn, &c.sid)?, effects))
    })
    .await
}

/// Operation: `ctx.caller` changes conversation `conversation` as `change` says.
pub async fn update(ctx: &Ctx, conversation: String, mut change: ConversationChange) -> ApiResult<ConversationRow> {
    let proposed = {
        let (caller, urls, conversation, change) =
            (ctx.caller.clone(), ctx.urls.clone(), conversation.clone(), change.clone());
        move |conn: &Connection| {
            let mut c = lookup::conversation(conn, &conversation)?;
            rules::standing(conn, &caller, &c)?;
            change.apply(&mut c, now_unix());
            Ok(to_value(&urls.conversation_json(&c)))
        }
    };
    let changes = pre_event(&ctx.state, pre::CONVERSATION_UPDATE, proposed).await?;
    apply_webhook_changes(&mut change, changes)?;
    ctx.write(move |conn, caller, urls| {
        let mut c = lookup::conversation(conn, &conversation)?;
        let s = rules::standing(conn, caller, &c)?;
        let (renames, other) = change.touches();
        rules::may_update_conversation(&s, renames, other)?;
        change.apply(&mut c, now_unix());
        unique_name_free(conn, &c)?;
        conversations::update(conn, &c)?;
        let effects =
            vec![to_conversation(&c.sid, EventName::ConversationUpdated, to_value(&urls.conversation_json(&c)))];
        Ok((c, effects))
    })
    .await
}

/// Operation: `ctx.caller` deletes conversation `conversation` with its messages and participants.
pub async fn delete(ctx: &Ctx, conversation: String) -> ApiResult<()> {
    let proposed = {
        let (caller, urls, conversation) = (ctx.caller.clone(), ctx.urls.clone(), conversation.clone());
        move |conn: &Connection| {
            let c = lookup::conversation(conn, &conversation)?;
            rules::standing(conn, &caller, &c)?;
            Ok(to_value(&urls.conversation_json(&c)))
        }
    };
    pre_event(&ctx.state, pre::CONVERSATION_REMOVE, proposed).await?;
    ctx.write(move |conn, caller, urls| {
        let c = lookup::conversation(conn, &conversation)?;
        let s = rules::standing(conn, caller, &c)?;
        rules::may_delete_conversation(&s)?;
        conversations::delete(conn, &c.sid)?;
        crate::server::store::media::delete_of_conversation(conn, &c.sid)?;
        let effects = vec![
            to_conversation(&c.sid, EventName::ConversationRemoved, to_value(&urls.conversation_json(&c))),
            Effect::DropConversation(c.sid.clone()),
        ];
        Ok(((), effects))
    })
    .await
}
