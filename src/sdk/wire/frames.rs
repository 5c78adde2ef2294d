//! Incoming `/v1/Stream` frames decoded into the typed resource each event
//! carries. Undecodable data is logged and skipped, never a panic.

use serde_json::Value;

use crate::api;
use crate::api::stream::{EventName, ServerEvent};

/// A stream frame with its `data` decoded into the resource its event carries.
#[derive(Debug, Clone)]
pub enum Incoming {
    ConversationAdded(api::Conversation),
    ConversationUpdated(api::Conversation),
    ConversationRemoved(api::Conversation),
    MessageAdded(api::Message),
    MessageUpdated(api::Message),
    MessageRemoved(api::Message),
    ParticipantJoined(api::Participant),
    ParticipantUpdated(api::Participant),
    ParticipantLeft(api::Participant),
    TypingStarted(api::Participant),
    TypingEnded(api::Participant),
    UserConversationUpdated(api::UserConversation),
    UserUpdated(api::User),
}

impl Incoming {
    /// Decodes a frame; `None` (logged) when `data` is not the promised resource.
    pub fn decode(ev: ServerEvent) -> Option<Self> {
        fn de<T: serde::de::DeserializeOwned>(v: Value) -> Option<T> {
            serde_json::from_value(v).map_err(|e| tracing::warn!(%e, "undecodable stream event data")).ok()
        }
        let d = ev.data;
        Some(match ev.event {
            EventName::ConversationAdded => Self::ConversationAdded(de(d)?),
            EventName::ConversationUpdated => Self::ConversationUpdated(de(d)?),
            EventName::ConversationRemoved => Self::ConversationRemoved(de(d)?),
            EventName::MessageAdded => Self::MessageAdded(de(d)?),
            EventName::MessageUpdated => Self::MessageUpdated(de(d)?),
            EventName::MessageRemoved => Self::MessageRemoved(de(d)?),
            EventName::ParticipantJoined => Self::ParticipantJoined(de(d)?),
            EventName::ParticipantUpdated => Self::ParticipantUpdated(de(d)?),
            EventName::ParticipantLeft => Self::ParticipantLeft(de(d)?),
            EventName::TypingStarted => Self::TypingStarted(de(d)?),
            EventName::TypingEnded => Self::TypingEnded(de(d)?),
            EventName::UserConversationUpdated => Self::UserConversationUpdated(de(d)?),
            EventName::UserUpdated => Self::UserUpdated(de(d)?),
        })
    }
}
