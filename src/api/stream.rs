//! Frames of `GET /v1/Stream`, our WebSocket event stream (not a Twilio API).
//! Server → client: `{"event": NAME, "conversation_sid": CH…, "data": {resource}}`
//! where `data` is the JSON the REST API returns for that resource (update
//! events that say what changed add `"updated": [REASON, …]`). Client →
//! server: `{"type": "typing", "conversation_sid": CH…}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The event names, as the client SDK names its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EventName {
    /// `data`: Conversation. The receiver can now see the conversation.
    ConversationAdded,
    /// `data`: Conversation.
    ConversationUpdated,
    /// `data`: Conversation. Deleted, or the receiver left it.
    ConversationRemoved,
    /// `data`: Message. It also moves the conversation's `last_message` and
    /// `messages_count`; no `conversationUpdated` follows for a new message.
    MessageAdded,
    /// `data`: Message.
    MessageUpdated,
    /// `data`: Message.
    MessageRemoved,
    /// `data`: Participant.
    ParticipantJoined,
    /// `data`: Participant.
    ParticipantUpdated,
    /// `data`: Participant.
    ParticipantLeft,
    /// `data`: Participant (the one typing).
    TypingStarted,
    /// `data`: Participant.
    TypingEnded,
    /// `data`: UserConversation (unread count, read horizon, notification level).
    /// Sent only to the user it belongs to.
    UserConversationUpdated,
    /// `data`: User (as fetched: `is_online`/`is_notifiable` filled).
    /// `updated` names what changed: `friendlyName`, `attributes`,
    /// `reachabilityOnline`, `reachabilityNotifiable` (Twilio's UserUpdateReason).
    /// Sent to the user and everyone who shares a conversation with them.
    UserUpdated,
}

/// The `updated` reasons of `userUpdated` (Twilio's UserUpdateReason).
pub mod user_updated {
    pub const FRIENDLY_NAME: &str = "friendlyName";
    pub const ATTRIBUTES: &str = "attributes";
    pub const REACHABILITY_ONLINE: &str = "reachabilityOnline";
    pub const REACHABILITY_NOTIFIABLE: &str = "reachabilityNotifiable";
}

/// A server → client frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerEvent {
    pub event: EventName,
    pub conversation_sid: Option<String>,
    pub data: Value,
    /// What changed, for update events that say (`userUpdated`); absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updated: Vec<String>,
}

/// A client → server frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ClientFrame {
    /// The sender is typing in this conversation.
    Typing { conversation_sid: String },
}

/// Seconds after the last typing frame at which `typingEnded` is sent.
pub const TYPING_TIMEOUT_SECS: u64 = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_the_documented_shape() {
        let f: ClientFrame = serde_json::from_str(r#"{"type":"typing","conversation_sid":"CH1"}"#).unwrap();
        assert_eq!(f, ClientFrame::Typing { conversation_sid: "CH1".into() });
        let e = ServerEvent {
            event: EventName::TypingStarted,
            conversation_sid: Some("CH1".into()),
            data: Value::Null,
            updated: vec![],
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["event"], "typingStarted");
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"nonsense"}"#).is_err());
    }
}
