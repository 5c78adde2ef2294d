//! The client's events: one typed enum instead of string-named listeners, with
//! the update reasons Twilio's SDK reports, plus the decoding of `/v1/Stream`
//! frames into typed resources (shared by the `Client` and the sync task).

use serde_json::Value;

use super::conversation::Conversation;
use super::message::Message;
use super::participant::Participant;
use super::sync_protocol::ConnectionState;
use super::user::User;
use crate::api;
use crate::api::stream::{EventName, ServerEvent};

/// Something that happened, as `Client::events()` delivers it. Updates carry
/// what changed; an update fires only when a value really changed.
#[derive(Debug, Clone)]
pub enum Event {
    /// A conversation became visible to the user (joined, created, added).
    ConversationAdded(Conversation),
    ConversationUpdated {
        conversation: Conversation,
        reasons: Vec<ConversationUpdateReason>,
    },
    /// The conversation was deleted, or the user left it (or was removed).
    ConversationRemoved(Conversation),
    MessageAdded(Message),
    MessageUpdated {
        message: Message,
        reasons: Vec<MessageUpdateReason>,
    },
    MessageRemoved(Message),
    ParticipantJoined(Participant),
    ParticipantUpdated {
        participant: Participant,
        reasons: Vec<ParticipantUpdateReason>,
    },
    ParticipantLeft(Participant),
    TypingStarted(Participant),
    TypingEnded(Participant),
    UserUpdated {
        user: User,
        reasons: Vec<UserUpdateReason>,
    },
    ConnectionStateChanged(ConnectionState),
    /// The access token expires soon: call `Client::update_token`.
    TokenAboutToExpire,
    /// The access token expired; the connection stays down until it is replaced.
    TokenExpired,
}

/// What changed in a conversation (Twilio's `ConversationUpdateReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationUpdateReason {
    Attributes,
    CreatedBy,
    DateCreated,
    DateUpdated,
    FriendlyName,
    LastReadMessageIndex,
    State,
    Status,
    UniqueName,
    LastMessage,
    NotificationLevel,
    Bindings,
}

/// What changed in a message (Twilio's `MessageUpdateReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageUpdateReason {
    Body,
    DateCreated,
    DateUpdated,
    Attributes,
    Author,
    DeliveryReceipt,
    Media,
}

/// What changed in a participant (Twilio's `ParticipantUpdateReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParticipantUpdateReason {
    Attributes,
    DateCreated,
    DateUpdated,
    RoleSid,
    LastReadMessageIndex,
    LastReadTimestamp,
    Bindings,
}

/// What changed in a user (Twilio's `UserUpdateReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserUpdateReason {
    FriendlyName,
    Attributes,
    ReachabilityOnline,
    ReachabilityNotifiable,
}

/// Attributes compare as JSON values, not as text (`{"a":1}` = `{ "a": 1 }`).
pub(crate) fn same_json(a: &str, b: &str) -> bool {
    a == b || matches!((serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)), (Ok(x), Ok(y)) if x == y)
}

/// Reasons between two versions of a conversation and the user's state in it.
pub(crate) fn conversation_reasons(
    old: &api::Conversation,
    new: &api::Conversation,
    old_user: Option<&api::UserConversation>,
    new_user: Option<&api::UserConversation>,
) -> Vec<ConversationUpdateReason> {
    use ConversationUpdateReason as R;
    let mut r = Vec::new();
    let mut check = |changed: bool, reason| {
        if changed {
            r.push(reason)
        }
    };
    check(!same_json(&old.attributes, &new.attributes), R::Attributes);
    check(old.created_by != new.created_by, R::CreatedBy);
    check(old.date_created != new.date_created, R::DateCreated);
    check(old.date_updated != new.date_updated, R::DateUpdated);
    check(old.friendly_name != new.friendly_name, R::FriendlyName);
    check(old.state != new.state, R::State);
    check(old.unique_name != new.unique_name, R::UniqueName);
    check(old.last_message.as_ref().map(|m| m.index) != new.last_message.as_ref().map(|m| m.index), R::LastMessage);
    check(old.bindings != new.bindings, R::Bindings);
    check(old_user.is_some() != new_user.is_some(), R::Status);
    check(
        old_user.and_then(|u| u.last_read_message_index) != new_user.and_then(|u| u.last_read_message_index),
        R::LastReadMessageIndex,
    );
    check(old_user.map(|u| u.notification_level) != new_user.map(|u| u.notification_level), R::NotificationLevel);
    r
}

pub(crate) fn message_reasons(old: &api::Message, new: &api::Message) -> Vec<MessageUpdateReason> {
    use MessageUpdateReason as R;
    let mut r = Vec::new();
    let mut check = |changed: bool, reason| {
        if changed {
            r.push(reason)
        }
    };
    check(old.body != new.body, R::Body);
    check(old.date_created != new.date_created, R::DateCreated);
    check(old.date_updated != new.date_updated, R::DateUpdated);
    check(!same_json(&old.attributes, &new.attributes), R::Attributes);
    check(old.author != new.author, R::Author);
    check(old.delivery != new.delivery, R::DeliveryReceipt);
    check(old.media != new.media, R::Media);
    r
}

pub(crate) fn participant_reasons(old: &api::Participant, new: &api::Participant) -> Vec<ParticipantUpdateReason> {
    use ParticipantUpdateReason as R;
    let mut r = Vec::new();
    let mut check = |changed: bool, reason| {
        if changed {
            r.push(reason)
        }
    };
    check(!same_json(&old.attributes, &new.attributes), R::Attributes);
    check(old.date_created != new.date_created, R::DateCreated);
    check(old.date_updated != new.date_updated, R::DateUpdated);
    check(old.role_sid != new.role_sid, R::RoleSid);
    check(old.last_read_message_index != new.last_read_message_index, R::LastReadMessageIndex);
    check(old.last_read_timestamp != new.last_read_timestamp, R::LastReadTimestamp);
    check(old.messaging_binding != new.messaging_binding, R::Bindings);
    r
}

pub(crate) fn user_reasons(old: &api::User, new: &api::User) -> Vec<UserUpdateReason> {
    use UserUpdateReason as R;
    let mut r = Vec::new();
    let mut check = |changed: bool, reason| {
        if changed {
            r.push(reason)
        }
    };
    check(old.friendly_name != new.friendly_name, R::FriendlyName);
    check(!same_json(&old.attributes, &new.attributes), R::Attributes);
    check(old.is_online != new.is_online, R::ReachabilityOnline);
    check(old.is_notifiable != new.is_notifiable, R::ReachabilityNotifiable);
    r
}

/// A stream frame with its `data` decoded into the resource its event carries.
#[derive(Debug, Clone)]
pub(crate) enum Incoming {
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
    pub(crate) fn decode(ev: ServerEvent) -> Option<Self> {
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
