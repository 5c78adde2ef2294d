//! Rows → wire JSON (and the stream events that carry it). URLs are absolute,
//! built from the server's public URL or the request's Host, under `/v1` or
//! `/v1/Services/{IS}` depending on which form of the path the request used.

use serde_json::{Value, json};

use crate::api::resources::{
    Conversation, ConversationState, LastMessage, Links, Message, NotificationLevel, Participant,
    ParticipantConversation, User, UserConversation,
};
use crate::api::stream::EventName;
use crate::api::time::format_unix;
use crate::server::hub::{Audience, Effect};
use crate::server::store::rows::{
    AccountConfigurationRow, ConversationRow, MembershipRow, MessageRow, ParticipantRow, RoleRow,
    ServiceConfigurationRow, UserRow,
};

/// Where resources live for one request.
#[derive(Debug, Clone)]
pub struct Urls {
    /// `scheme://host[:port]/v1` or `…/v1/Services/IS…`.
    pub prefix: String,
    pub account_sid: String,
    pub service_sid: String,
    /// The request came through `/v1/Services/{IS}/…`: messages and
    /// participants then carry `chat_service_sid`, as in Twilio's service form.
    pub service_scoped: bool,
}

fn links(pairs: &[(&str, String)]) -> Links {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

fn state(s: &str) -> ConversationState {
    ConversationState::parse(s).unwrap_or_default()
}

fn timers(c: &ConversationRow) -> Value {
    let mut t = serde_json::Map::new();
    if let Some(d) = c.date_inactive {
        t.insert("date_inactive".into(), json!(format_unix(d)));
    }
    if let Some(d) = c.date_closed {
        t.insert("date_closed".into(), json!(format_unix(d)));
    }
    Value::Object(t)
}

impl Urls {
    /// `scheme://host[:port]`, without `/v1` or the service prefix.
    pub fn base(&self) -> &str {
        match self.prefix.find("/v1") {
            Some(i) => &self.prefix[..i],
            None => &self.prefix,
        }
    }

    pub fn conversations(&self) -> String {
        format!("{}/Conversations", self.prefix)
    }
    pub fn conversation(&self, sid: &str) -> String {
        format!("{}/Conversations/{sid}", self.prefix)
    }
    pub fn messages(&self, conversation: &str) -> String {
        format!("{}/Messages", self.conversation(conversation))
    }
    pub fn participants(&self, conversation: &str) -> String {
        format!("{}/Participants", self.conversation(conversation))
    }
    pub fn users(&self) -> String {
        format!("{}/Users", self.prefix)
    }
    pub fn user(&self, sid: &str) -> String {
        format!("{}/Users/{sid}", self.prefix)
    }
    pub fn user_conversations(&self, user_sid: &str) -> String {
        format!("{}/Conversations", self.user(user_sid))
    }
    pub fn participant_conversations(&self) -> String {
        format!("{}/ParticipantConversations", self.prefix)
    }

    fn scoped_service(&self) -> Option<String> {
        self.service_scoped.then(|| self.service_sid.clone())
    }

    pub fn conversation_json(&self, c: &ConversationRow) -> Conversation {
        let url = self.conversation(&c.sid);
        Conversation {
            account_sid: self.account_sid.clone(),
            chat_service_sid: self.service_sid.clone(),
            messaging_service_sid: c.messaging_service_sid.clone(),
            sid: c.sid.clone(),
            friendly_name: c.friendly_name.clone(),
            unique_name: c.unique_name.clone(),
            attributes: c.attributes.clone(),
            state: state(&c.state),
            date_created: format_unix(c.date_created),
            date_updated: format_unix(c.date_updated),
            timers: timers(c),
            links: links(&[
                ("participants", format!("{url}/Participants")),
                ("messages", format!("{url}/Messages")),
                ("webhooks", format!("{url}/Webhooks")),
                ("export", format!("{url}/Export")),
            ]),
            url,
            bindings: c.bindings.as_deref().and_then(|b| serde_json::from_str(b).ok()),
            created_by: c.created_by.clone(),
            messages_count: c.messages_count.max(0) as u64,
            participants_count: c.participants_count.max(0) as u64,
            last_message: match (c.last_message_index, c.last_message_date) {
                (Some(index), Some(d)) => Some(LastMessage { index, date_created: format_unix(d) }),
                _ => None,
            },
        }
    }

    pub fn message_json(&self, m: &MessageRow) -> Message {
        let url = format!("{}/{}", self.messages(&m.conversation_sid), m.sid);
        Message {
            account_sid: self.account_sid.clone(),
            chat_service_sid: self.scoped_service(),
            conversation_sid: m.conversation_sid.clone(),
            sid: m.sid.clone(),
            index: m.idx,
            author: m.author.clone(),
            body: m.body.clone(),
            media: m.media.as_deref().and_then(|s| serde_json::from_str(s).ok()),
            attributes: m.attributes.clone(),
            participant_sid: m.participant_sid.clone(),
            date_created: format_unix(m.date_created),
            date_updated: m.date_updated.map(format_unix),
            delivery: None,
            links: links(&[
                ("delivery_receipts", format!("{url}/Receipts")),
                ("channel_metadata", format!("{url}/ChannelMetadata")),
            ]),
            url,
            content_sid: m.content_sid.clone(),
        }
    }

    pub fn participant_json(&self, p: &ParticipantRow) -> Participant {
        Participant {
            account_sid: self.account_sid.clone(),
            chat_service_sid: self.scoped_service(),
            conversation_sid: p.conversation_sid.clone(),
            sid: p.sid.clone(),
            identity: p.identity.clone(),
            attributes: p.attributes.clone(),
            messaging_binding: p.binding.as_deref().and_then(|b| serde_json::from_str(b).ok()),
            role_sid: p.role_sid.clone(),
            date_created: format_unix(p.date_created),
            date_updated: format_unix(p.date_updated),
            url: format!("{}/{}", self.participants(&p.conversation_sid), p.sid),
            last_read_message_index: p.last_read_index,
            last_read_timestamp: p.last_read_ts.map(format_unix),
        }
    }

    pub fn user_json(&self, u: &UserRow) -> User {
        let url = self.user(&u.sid);
        User {
            sid: u.sid.clone(),
            account_sid: self.account_sid.clone(),
            chat_service_sid: self.service_sid.clone(),
            role_sid: u.role_sid.clone(),
            identity: u.identity.clone(),
            friendly_name: u.friendly_name.clone(),
            attributes: u.attributes.clone(),
            is_online: None,
            is_notifiable: None,
            date_created: format_unix(u.date_created),
            date_updated: format_unix(u.date_updated),
            links: links(&[("user_conversations", format!("{url}/Conversations"))]),
            url,
        }
    }

    pub fn user_conversation_json(&self, user_sid: &str, m: &MembershipRow) -> UserConversation {
        let c = &m.conversation;
        let p = &m.participant;
        UserConversation {
            account_sid: self.account_sid.clone(),
            chat_service_sid: self.service_sid.clone(),
            conversation_sid: c.sid.clone(),
            unread_messages_count: m.unread,
            last_read_message_index: p.last_read_index,
            participant_sid: Some(p.sid.clone()),
            user_sid: user_sid.to_owned(),
            friendly_name: c.friendly_name.clone(),
            conversation_state: state(&c.state),
            timers: timers(c),
            attributes: c.attributes.clone(),
            date_created: format_unix(c.date_created),
            date_updated: format_unix(c.date_updated),
            created_by: c.created_by.clone(),
            notification_level: NotificationLevel::parse(&p.notification_level).unwrap_or_default(),
            unique_name: c.unique_name.clone(),
            url: format!("{}/{}", self.user_conversations(user_sid), c.sid),
            links: links(&[
                ("participant", format!("{}/{}", self.participants(&c.sid), p.sid)),
                ("conversation", self.conversation(&c.sid)),
            ]),
        }
    }

    pub fn participant_conversation_json(&self, user_sid: Option<&str>, m: &MembershipRow) -> ParticipantConversation {
        let c = &m.conversation;
        let p = &m.participant;
        ParticipantConversation {
            account_sid: self.account_sid.clone(),
            chat_service_sid: self.service_sid.clone(),
            participant_sid: p.sid.clone(),
            participant_user_sid: user_sid.map(str::to_owned),
            participant_identity: p.identity.clone(),
            participant_messaging_binding: p.binding.as_deref().and_then(|b| serde_json::from_str(b).ok()),
            conversation_sid: c.sid.clone(),
            conversation_unique_name: c.unique_name.clone(),
            conversation_friendly_name: c.friendly_name.clone(),
            conversation_attributes: c.attributes.clone(),
            conversation_date_created: format_unix(c.date_created),
            conversation_date_updated: format_unix(c.date_updated),
            conversation_created_by: c.created_by.clone(),
            conversation_state: state(&c.state),
            conversation_timers: timers(c),
            links: links(&[
                ("participant", format!("{}/{}", self.participants(&c.sid), p.sid)),
                ("conversation", self.conversation(&c.sid)),
            ]),
        }
    }
}

/// Serializes a wire resource for an event payload.
pub fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// An event to everyone in conversation `sid`: the audience of most changes.
pub fn to_conversation(sid: &str, event: EventName, data: Value) -> Effect {
    Effect::send(Audience::Conversation(sid.to_owned()), event, Some(sid), data)
}

/// An event about conversation `sid` to `identity` alone (being added or removed).
pub fn to_only(identity: &str, sid: &str, event: EventName, data: Value) -> Effect {
    Effect::send(Audience::Only(identity.to_owned()), event, Some(sid), data)
}

impl Urls {
    /// `scheme://host[:port]/v1`, whichever form of the path was asked.
    pub fn v1(&self) -> String {
        let scoped = format!("/Services/{}", self.service_sid);
        self.prefix.strip_suffix(&scoped).unwrap_or(&self.prefix).to_owned()
    }

    pub fn roles(&self) -> String {
        format!("{}/Roles", self.prefix)
    }

    pub fn role_json(&self, r: &RoleRow) -> Value {
        json!({
            "sid": r.sid,
            "account_sid": self.account_sid,
            "chat_service_sid": self.service_sid,
            "friendly_name": r.friendly_name,
            "type": r.role_type,
            "permissions": r.permission_names(),
            "date_created": format_unix(r.date_created),
            "date_updated": format_unix(r.date_updated),
            "url": format!("{}/{}", self.roles(), r.sid),
        })
    }

    /// `/v1/Configuration`; an unset default chat service is this server's one service.
    pub fn account_configuration_json(&self, c: &AccountConfigurationRow) -> Value {
        let v1 = self.v1();
        json!({
            "account_sid": self.account_sid,
            "default_chat_service_sid": c.default_chat_service_sid.as_deref().unwrap_or(&self.service_sid),
            "default_messaging_service_sid": c.default_messaging_service_sid,
            "default_inactive_timer": c.default_inactive_timer,
            "default_closed_timer": c.default_closed_timer,
            "url": format!("{v1}/Configuration"),
            "links": {
                "service": format!("{v1}/Services/{}/Configuration", self.service_sid),
                "webhooks": format!("{v1}/Configuration/Webhooks"),
            },
        })
    }

    /// `/v1/Services/{IS}/Configuration`.
    pub fn service_configuration_json(&self, c: &ServiceConfigurationRow) -> Value {
        let url = format!("{}/Services/{}/Configuration", self.v1(), self.service_sid);
        json!({
            "chat_service_sid": self.service_sid,
            "default_conversation_creator_role_sid": c.default_conversation_creator_role_sid,
            "default_conversation_role_sid": c.default_conversation_role_sid,
            "default_chat_service_role_sid": c.default_chat_service_role_sid,
            "reachability_enabled": c.reachability_enabled,
            "links": {
                "notifications": format!("{url}/Notifications"),
                "webhooks": format!("{url}/Webhooks"),
            },
            "url": url,
        })
    }
}
