//! The JSON resources of Conversations v1, field for field as in Twilio's spec
//! (snake_case names, `attributes` as a string of JSON text, dates as wire
//! strings). Both the server (which writes them) and the SDK (which reads them)
//! use these types. Fields marked "extension" are ours; Twilio clients ignore them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Absolute URLs of related resources, by name.
pub type Links = BTreeMap<String, String>;

/// `conversation_enum_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ConversationState {
    Initializing,
    Inactive,
    #[default]
    Active,
    Closed,
}

impl ConversationState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initializing => "initializing",
            Self::Inactive => "inactive",
            Self::Active => "active",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "initializing" => Some(Self::Initializing),
            "inactive" => Some(Self::Inactive),
            "active" => Some(Self::Active),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// `user_conversation_enum_notification_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum NotificationLevel {
    #[default]
    Default,
    Muted,
}

impl NotificationLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Muted => "muted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "default" => Some(Self::Default),
            "muted" => Some(Self::Muted),
            _ => None,
        }
    }
}

/// Extension: where the newest message of a conversation stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastMessage {
    pub index: i64,
    pub date_created: String,
}

/// `conversations.v1.conversation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub account_sid: String,
    pub chat_service_sid: String,
    pub messaging_service_sid: Option<String>,
    pub sid: String,
    pub friendly_name: Option<String>,
    pub unique_name: Option<String>,
    pub attributes: String,
    pub state: ConversationState,
    pub date_created: String,
    pub date_updated: String,
    /// `{"date_inactive": …, "date_closed": …}` or `{}`.
    pub timers: Value,
    pub url: String,
    pub links: Links,
    pub bindings: Option<Value>,
    /// Extension: the identity that created the conversation (`system` for REST).
    #[serde(default)]
    pub created_by: Option<String>,
    /// Extension: how many messages the conversation holds.
    #[serde(default)]
    pub messages_count: u64,
    /// Extension: how many participants the conversation has.
    #[serde(default)]
    pub participants_count: u64,
    /// Extension: the newest message, if any.
    #[serde(default)]
    pub last_message: Option<LastMessage>,
}

/// `conversations.v1.conversation.conversation_message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub account_sid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_service_sid: Option<String>,
    pub conversation_sid: String,
    pub sid: String,
    pub index: i64,
    pub author: Option<String>,
    pub body: Option<String>,
    pub media: Option<Value>,
    pub attributes: String,
    pub participant_sid: Option<String>,
    pub date_created: String,
    pub date_updated: Option<String>,
    pub url: String,
    pub delivery: Option<Value>,
    pub links: Links,
    pub content_sid: Option<String>,
}

/// `conversations.v1.conversation.conversation_participant`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub account_sid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_service_sid: Option<String>,
    pub conversation_sid: String,
    pub sid: String,
    /// Set exactly for chat (SDK) participants.
    pub identity: Option<String>,
    pub attributes: String,
    /// `{type, address, proxy_address}` or `{type, projected_address}`; null for chat.
    pub messaging_binding: Option<Value>,
    pub role_sid: Option<String>,
    pub date_created: String,
    pub date_updated: String,
    pub url: String,
    pub last_read_message_index: Option<i64>,
    pub last_read_timestamp: Option<String>,
}

/// `conversations.v1.user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub sid: String,
    pub account_sid: String,
    pub chat_service_sid: String,
    pub role_sid: Option<String>,
    pub identity: String,
    pub friendly_name: Option<String>,
    pub attributes: String,
    pub is_online: Option<bool>,
    pub is_notifiable: Option<bool>,
    pub date_created: String,
    pub date_updated: String,
    pub url: String,
    pub links: Links,
}

/// `conversations.v1.user.user_conversation`: one user's view of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserConversation {
    pub account_sid: String,
    pub chat_service_sid: String,
    pub conversation_sid: String,
    /// Null until the user's read horizon is first set.
    pub unread_messages_count: Option<i64>,
    pub last_read_message_index: Option<i64>,
    pub participant_sid: Option<String>,
    pub user_sid: String,
    pub friendly_name: Option<String>,
    pub conversation_state: ConversationState,
    pub timers: Value,
    pub attributes: String,
    pub date_created: String,
    pub date_updated: String,
    pub created_by: Option<String>,
    pub notification_level: NotificationLevel,
    pub unique_name: Option<String>,
    pub url: String,
    pub links: Links,
}

/// `conversations.v1.participant_conversation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantConversation {
    pub account_sid: String,
    pub chat_service_sid: String,
    pub participant_sid: String,
    pub participant_user_sid: Option<String>,
    pub participant_identity: Option<String>,
    pub participant_messaging_binding: Option<Value>,
    pub conversation_sid: String,
    pub conversation_unique_name: Option<String>,
    pub conversation_friendly_name: Option<String>,
    pub conversation_attributes: String,
    pub conversation_date_created: String,
    pub conversation_date_updated: String,
    pub conversation_created_by: Option<String>,
    pub conversation_state: ConversationState,
    pub conversation_timers: Value,
    pub links: Links,
}
